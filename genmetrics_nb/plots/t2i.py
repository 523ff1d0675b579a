"""Figures of the t2i notebook: scores per prompt category, galleries of the worst-aligned prompts."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["t2i_category_bars", "t2i_worst_gallery"]


def t2i_category_bars(cats, *, name: str = "t2i-categories"):
    """One panel per metric: the mean per-image score of each prompt category."""
    if not cats.applies:
        return None
    fig, axes = new_figure(1, len(cats.metrics), width=max(4.0, 0.45 * len(cats.rows) + 1.5), height=3.4)
    labels = [r["category"] for r in cats.rows]
    x = np.arange(len(labels))
    for ax, metric in zip(axes[0], cats.metrics):
        ax.bar(x, [r[metric] for r in cats.rows], color="#4c72b0")
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
        ax.set_xlabel("prompt category")
        ax.set_ylabel(f"mean {metric}")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(metric, fontsize=9)
    fig.suptitle("Mean per-image score by prompt category")
    return finish(fig, name)


def t2i_worst_gallery(worst, *, name: str = "t2i-worst-aligned"):
    """Each worst-aligned prompt as a row: its images, the prompt's text and mean cosine above them."""
    from PIL import Image

    n = len(worst.prompts)
    cols = max((len(f) for f in worst.files), default=1) or 1
    fig, axes = new_figure(n, cols, width=1.6, height=1.9)
    for r, (prompt, cos, files) in enumerate(zip(worst.prompts, worst.cosines, worst.files)):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(files):
                ax.imshow(np.asarray(Image.open(files[c]).convert("RGB")))
            else:
                ax.axis("off")
        axes[r][0].set_ylabel(f"cos {cos:.3f}", fontsize=8)
        axes[r][0].set_title(textwrap.shorten(prompt, 70), fontsize=8, loc="left")
    fig.suptitle(f"Worst-aligned prompts (lowest mean image-prompt cosine, {Path(worst.model).name})",
                 fontsize=9)
    return finish(fig, name)
