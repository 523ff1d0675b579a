"""Figures of the lpips notebook: LPIPS against PSNR/SSIM, and the 2AFC triplet."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["lpips_scatter", "two_afc"]


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
