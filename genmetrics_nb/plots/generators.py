"""Plots of generator samples and generator metrics (PPL, separability, the StyleGAN2 table, LPIPS)."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = [
    "sample_grid",
    "checkpoint_samples",
    "ppl_curves",
    "ppl_histogram",
    "separability_bars",
    "metric_trends",
    "lpips_scatter",
    "two_afc",
]


def _grid(images, nrow):
    """uint8 N x C x H x W -> one H' x W' (x 3) mosaic with 1-px gaps."""
    x = np.asarray(images)
    if x.ndim != 4 or x.dtype != np.uint8:
        raise TypeError(f"images must be uint8 N x C x H x W, got {x.dtype} with shape {x.shape}")
    n, c, h, w = x.shape
    ncol = int(nrow)
    rows = -(-n // ncol)
    canvas = np.full((rows * (h + 1) + 1, ncol * (w + 1) + 1, c), 255, np.uint8)
    for i in range(n):
        r, q = divmod(i, ncol)
        canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + q * (w + 1): 1 + q * (w + 1) + w] = x[i].transpose(1, 2, 0)
    return canvas[..., 0] if c == 1 else canvas


def _show(ax, images, nrow):
    g = _grid(images, nrow)
    ax.imshow(g, cmap="gray" if g.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def sample_grid(images, *, nrow: int = 8, title: str = "Generated samples", name: str = "samples"):
    """A grid of uint8 ``N x C x H x W`` images (row-major, in latent-seed order)."""
    n = len(images)
    rows = -(-n // nrow)
    fig, axes = new_figure(1, 1, width=0.75 * nrow + 0.8, height=0.75 * rows + 0.9)
    ax = axes[0][0]
    _show(ax, images, nrow)
    ax.set_xlabel(f"{n} samples, {nrow} per row (pixels: 0 = black, 255 = white)")
    ax.set_title(title)
    return finish(fig, name)


def checkpoint_samples(samples: dict, *, nrow: int = 4, title: str = "Samples across training",
                       name: str = "checkpoint-samples"):
    """One panel of samples per entry of ``samples`` (label -> uint8 images), same latents in each."""
    labels = list(samples)
    fig, axes = new_figure(1, len(labels), width=2.6, height=2.9)
    for ax, label in zip(axes[0], labels):
        imgs = np.asarray(samples[label])[: nrow * nrow]
        _show(ax, imgs, nrow)
        ax.set_title(label, fontsize=8)
        ax.set_xlabel("same latents in every panel", fontsize=7)
    fig.suptitle(title)
    return finish(fig, name)


def _log_y(ax):
    """Log-scale y axis with plain-number tick labels (no 1.05 x 10^2)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    fmt = FuncFormatter(lambda v, _: f"{v:.3g}")
    ax.yaxis.set_major_formatter(fmt)
    lo, hi = ax.get_ylim()
    if hi / lo < 10:  # less than a decade: label a few minor ticks so the axis has numbers
        ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 3.0, 5.0)))
        ax.yaxis.set_minor_formatter(fmt)
        ax.tick_params(axis="y", which="minor", labelsize=7)
    else:
        ax.yaxis.set_minor_formatter(NullFormatter())


def _x_of(table, x):
    if x == "iteration":
        if table["iteration"].isna().any():
            return table["checkpoint"].astype(str), "checkpoint"
        return table["iteration"], "training iteration (generator steps)"
    return table["psi"], "truncation psi (1 = none)"


def ppl_curves(sweep, *, name: str = "ppl"):
    """PPL against training iteration (psi = 1) and against truncation psi, one line per space/sampling."""
    t = sweep.table
    last = t[t["psi"] != 1.0]["checkpoint"].iloc[0] if (t["psi"] != 1.0).any() else t["checkpoint"].iloc[-1]
    panels = [("iteration", t[t["psi"] == 1.0]), ("psi", t[t["checkpoint"] == last])]
    fig, axes = new_figure(1, 2, width=4.8, height=3.6)
    dist = t["distance"].iloc[0]
    for ax, (x, sub) in zip(axes[0], panels):
        for (space, sampling), grp in sub.groupby(["space", "sampling"], sort=False):
            grp = grp.sort_values("iteration" if x == "iteration" else "psi")
            xs, xlabel = _x_of(grp, x)
            ax.plot(xs, grp["ppl"], marker="o", label=f"{space}-space, {sampling}")
        _log_y(ax)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"PPL (log scale)\n{dist} / epsilon^2")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    axes[0][0].set_title("PPL across training (psi = 1)")
    axes[0][1].set_title(f"PPL across truncation ({last})")
    return finish(fig, name)


def ppl_histogram(results: dict, *, name: str = "ppl-histogram"):
    """Distribution of per-pair values ``d / epsilon^2`` for several PPL results (label -> PPLResult)."""
    fig, axes = new_figure(1, 1, width=6.0, height=3.8)
    ax = axes[0][0]
    for label, r in results.items():
        v = np.asarray(r.distances)
        v = v[v > 0]
        if v.size == 0:
            continue
        bins = np.logspace(np.log10(v.min()), np.log10(v.max() * 1.0001), 40)
        _, _, patches = ax.hist(v, bins=bins, histtype="step", lw=1.5, label=f"{label}: PPL {r.ppl:.3g}")
        ax.axvline(r.ppl, ls="--", lw=1.2, color=patches[0].get_edgecolor())
    ax.set_xscale("log")
    ax.set_xlabel("per-pair distance / epsilon^2 (log scale)")
    ax.set_ylabel("number of latent pairs")
    ax.set_title("Per-pair path lengths (dashed: trimmed mean = PPL)")
    ax.legend(fontsize=7)
    return finish(fig, name)


def separability_bars(sweep, *, checkpoint: str | None = None, name: str = "separability"):
    """Per-attribute conditional entropy in z and w (one checkpoint), and the total across training."""
    t = sweep.table
    ck = checkpoint or t["checkpoint"].iloc[-1]
    sub = t[t["checkpoint"] == ck]
    spaces = list(dict.fromkeys(sub["space"]))
    attrs = list(dict.fromkeys(sub["attribute"]))
    fig, axes = new_figure(1, 2, width=5.2, height=3.9)
    ax = axes[0][0]
    width = 0.8 / max(len(spaces), 1)
    for i, space in enumerate(spaces):
        s = sub[sub["space"] == space].set_index("attribute").loc[attrs]
        ax.bar(np.arange(len(attrs)) + i * width, s["entropy_bits"], width,
               label=f"{space}: score {s['score'].iloc[0]:.3g}")
    ax.set_xticks(np.arange(len(attrs)) + width * (len(spaces) - 1) / 2)
    ax.set_xticklabels(attrs, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("H(class label | SVM label) (bits)")
    ax.set_xlabel("attribute (one class against the rest)")
    ax.set_title(f"Entropy per attribute ({ck})", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[0][1]
    tot = t.groupby(["checkpoint", "space"], sort=False)["score"].first().reset_index()
    for space in spaces:
        s = tot[tot["space"] == space]
        it = t.drop_duplicates("checkpoint").set_index("checkpoint").loc[s["checkpoint"], "iteration"]
        xs = it.values if not it.isna().any() else np.arange(len(s))
        ax.plot(xs, s["score"], marker="o", label=f"{space}-space")
    _log_y(ax)
    ax.set_xlabel("training iteration (generator steps)")
    ax.set_ylabel("separability = 2^(sum of entropies) (log scale)")
    ax.set_title("Linear separability across training (lower = better)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return finish(fig, name)


_METRIC_LABELS = {
    "is": ("IS (classifier logits)", "higher = better"),
    "fid": ("FID", "lower = better"),
    "precision": ("precision (k = 3)", "fidelity"),
    "recall": ("recall (k = 3)", "diversity"),
    "ppl": ("PPL (w, end)", "lower = smoother"),
    "ls": ("linear separability (w)", "lower = better"),
}


def metric_trends(result, *, x: str = "iteration", name: str | None = None):
    """Small multiples of the StyleGAN2 metrics against training iteration (psi = 1) or truncation psi."""
    if x not in ("iteration", "psi"):
        raise ValueError(f"x must be 'iteration' or 'psi', got {x!r}")
    t = result.table
    if x == "iteration":
        sub = t[t["psi"] == 1.0].sort_values("iteration")
    else:
        ck = t[t["psi"] != 1.0]["checkpoint"].iloc[0] if (t["psi"] != 1.0).any() else t["checkpoint"].iloc[-1]
        sub = t[t["checkpoint"] == ck].sort_values("psi")
    metrics = [m for m in _METRIC_LABELS if m in t.columns]
    fig, axes = new_figure(2, 3, width=3.4, height=2.8)
    xs, xlabel = _x_of(sub, x)
    for ax, m in zip(axes.ravel(), metrics):
        label, hint = _METRIC_LABELS[m]
        ax.plot(xs, sub[m], marker="o", color="tab:blue", label=label)
        if m == "is" and "is_std" in sub and (sub["is_std"] > 0).any():
            ax.fill_between(xs, sub[m] - sub["is_std"], sub[m] + sub["is_std"], alpha=0.2, color="tab:blue")
        if m in ("ppl", "ls"):
            _log_y(ax)
        ax.set_title(f"{label} ({hint})", fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(metrics):]:
        ax.axis("off")
    where = "across training (psi = 1)" if x == "iteration" else f"across truncation ({sub['checkpoint'].iloc[0]})"
    fig.suptitle(f"StyleGAN2 metric table {where}")
    return finish(fig, name or f"metrics-by-{x}")


def lpips_scatter(sweep, *, metric: str, against=("psnr", "ssim"), name: str = "lpips-vs-psnr-ssim"):
    """A perceptual distance (column ``metric``, e.g. ``LPIPS.name``) against PSNR and SSIM, by distortion."""
    t = sweep.table
    fig, axes = new_figure(1, len(against), width=4.4, height=3.6)
    labels = {"psnr": "PSNR (dB)", "ssim": "SSIM", "ms_ssim": "MS-SSIM"}
    for ax, other in zip(axes[0], against):
        for kind, grp in t.groupby("distortion", sort=False):
            ok = np.isfinite(grp[other]) & np.isfinite(grp[metric])
            ax.scatter(grp[other][ok], grp[metric][ok], s=14, alpha=0.75, label=kind)
        ax.set_xlabel(labels.get(other, other))
        ax.set_ylabel(f"{metric}\n(distance, lower = more similar)")
        ax.set_title(f"{metric} against {labels.get(other, other)}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, title="distortion", title_fontsize=7)
    return finish(fig, name)


def two_afc(result, *, name: str = "two-afc"):
    """The reference and two distorted copies, with which one each metric calls closer."""
    fig, axes = new_figure(1, 3, width=3.4, height=3.8)
    panels = [("reference", result.reference, None), (result.labels[0], result.x0, 0), (result.labels[1], result.x1, 1)]
    for ax, (label, img, i) in zip(axes[0], panels):
        ax.imshow(img)
        ax.set_xticks([])
        ax.set_yticks([])
        if i is None:
            ax.set_title("reference")
            ax.set_xlabel("which copy is closer?")
            continue
        lines = []
        for m, vals in result.scores.items():
            better = result.prefers[m] == i
            lines.append(f"{m} = {vals[i]:.4g}{'  <- closer' if better else ''}")
        ax.set_title(f"copy {i}: {label}", fontsize=9)
        ax.set_xlabel("\n".join(lines), fontsize=8)
    fig.suptitle("Two-alternative forced choice: the metrics disagree")
    return finish(fig, name)
