"""Plots of full-reference metrics against distortion strength."""
from __future__ import annotations

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["sweep_curves", "distortion_examples"]

_LABELS = {"psnr": "PSNR (dB)", "ssim": "SSIM", "ms_ssim": "MS-SSIM", "lpips": "LPIPS distance"}


def sweep_curves(sweep, metric: str = "psnr", *, threshold: float | None = None, name: str | None = None):
    """One panel per distortion: ``metric`` against strength, per image and mean.

    Parameters
    ----------
    sweep : DistortionSweep
    metric : str
        A column of ``sweep.table``.
    threshold : float, optional
        Draw a dashed horizontal line (e.g. the 30 dB PSNR threshold).
    name : str, optional
        File stem of the saved PNG (default ``sweep-<metric>``).
    """
    from genmetrics_nb.distortions import DISTORTIONS

    table = sweep.table
    if metric not in table.columns:
        raise ValueError(f"metric {metric!r} is not in the sweep; choose from {sweep.metrics}")
    kinds = list(dict.fromkeys(table["distortion"]))
    fig, axes = new_figure(1, len(kinds), width=4.2, height=3.4)
    ylabel = _LABELS.get(metric, metric)
    for ax, kind in zip(axes[0], kinds):
        sub = table[table["distortion"] == kind]
        for img, grp in sub.groupby("image", sort=False):
            ax.plot(grp["strength"], grp[metric], lw=0.9, alpha=0.55, marker=".", label=img)
        mean = sub.groupby("strength", sort=True)[metric].mean()
        ax.plot(mean.index, mean.values, color="black", lw=2.2, label="mean")
        if threshold is not None:
            ax.axhline(threshold, color="crimson", ls="--", lw=1.2, label=f"{threshold:g}{' dB' if metric == 'psnr' else ''} threshold")
        ax.set_xlabel(DISTORTIONS[kind][1])
        ax.set_ylabel(ylabel)
        ax.set_title(f"{ylabel} under {kind}")
        if kind == "jpeg":
            ax.invert_xaxis()  # lower quality = stronger distortion, to the right
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="best")
    return finish(fig, name or f"sweep-{metric}")


def distortion_examples(sweep, *, per_kind: int = 4, name: str = "distortion-examples"):
    """A grid of the first image under a few strengths of each distortion."""
    import numpy as np

    kinds = list(dict.fromkeys(k for k, _ in sweep.examples))
    fig, axes = new_figure(len(kinds), per_kind, width=2.6, height=2.6)
    table = sweep.table
    first = table["image"].iloc[0]
    for r, kind in enumerate(kinds):
        strengths = [s for k, s in sweep.examples if k == kind]
        pick = [strengths[int(i)] for i in np.unique(np.linspace(0, len(strengths) - 1, per_kind).round())]
        for c in range(per_kind):
            ax = axes[r][c]
            ax.axis("off")
            if c >= len(pick):
                continue
            s = pick[c]
            ax.imshow(sweep.examples[(kind, s)])
            row = table[(table["image"] == first) & (table["distortion"] == kind) & (table["strength"] == s)].iloc[0]
            extra = "  ".join(f"{m}={row[m]:.3g}" for m in sweep.metrics[:2])
            ax.set_title(f"{kind} {s:g}\n{extra}", fontsize=8)
    fig.suptitle(f"'{first}' under each distortion (metrics against the original)")
    return finish(fig, name)
