"""Figures of the fid notebook: the class-pair heatmap and same- vs different-class distances.

Axes name the distance with :func:`~genmetrics_nb.metrics.distribution.fid.fd_label`:
FID only on ``inception-v3-fid`` features, ``FD_<extractor>`` otherwise.
"""
from __future__ import annotations

import textwrap

import numpy as np

from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["fid_matrix_heatmap", "fid_same_vs_different"]


def fid_matrix_heatmap(matrix, *, name: str = "fid-class-pairs"):
    """Heatmap of a :class:`~genmetrics_nb.experiments.distribution.FIDMatrix`.

    Each cell shows the FID and, below it, its bootstrap interval (the
    kind is named under the title).
    """
    import matplotlib.pyplot as plt

    k = len(matrix.class_names)
    fig, axes = new_figure(1, 1, width=1.0 * k + 3.0, height=0.85 * k + 2.0)
    ax = axes[0, 0]
    im = ax.imshow(matrix.values, cmap="viridis")
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label(matrix.label)
    ax.set_xticks(range(k), matrix.class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), matrix.class_names, fontsize=8)
    ax.set_xlabel(f"class of draw 2 ({matrix.n} images)")
    ax.set_ylabel(f"class of draw 1 ({matrix.n} images)")
    vmax = np.nanmax(matrix.values)
    for i in range(k):
        for j in range(k):
            v = matrix.values[i, j]
            text = f"{v:.0f}" if v >= 100 else f"{v:.1f}"
            if np.isfinite(matrix.low[i, j]):
                text += f"\n[{matrix.low[i, j]:.0f}, {matrix.high[i, j]:.0f}]"
            color = "black" if v > 0.6 * vmax else "white"
            ax.text(j, i, text, ha="center", va="center", fontsize=6, color=color)
    title = f"Class-pair {matrix.label} ({matrix.extractor}, n = {matrix.n} per draw)"
    if matrix.n_boot >= 2:
        title += f"\nintervals: {matrix.interval or 'bootstrap'}; diagonal: same class (the bias at this n)"
    ax.set_title(title, fontsize=9)
    plt.setp(ax.spines.values(), visible=False)
    return finish(fig, name)


def fid_same_vs_different(result, *, name: str = "fid-same-vs-different"):
    """Grouped bars: the Frechet distance of two draws of one class and of two classes, at each n."""
    t = result.table
    extractors = list(dict.fromkeys(t["extractor"]))
    fig, axes = new_figure(1, len(extractors), width=4.6, height=3.8)
    comparisons = ["same class", "different classes"]
    for ax, ext in zip(axes[0], extractors):
        sub = t[t["extractor"] == ext]
        sizes = sorted(set(sub["n"]))
        x = np.arange(len(sizes))
        shown_interval = False
        for k, comp in enumerate(comparisons):
            rows = sub[sub["comparison"] == comp].set_index("n").loc[sizes]
            vals = rows["fd"].to_numpy()
            xk = x + (k - 0.5) * 0.38
            ax.bar(xk, vals, 0.38, label=comp, color=f"C{k}")
            if np.isfinite(rows["low"]).all():
                lo, hi = rows["low"].to_numpy(), rows["high"].to_numpy()
                label = textwrap.fill(result.interval or "bootstrap interval", 44)
                ax.vlines(xk, lo, hi, color="black", lw=1.5, label=None if shown_interval else label)
                ax.hlines(np.concatenate([lo, hi]), np.concatenate([xk, xk]) - 0.06,
                          np.concatenate([xk, xk]) + 0.06, color="black", lw=1.5)
                shown_interval = True
        ax.set_xticks(x, [str(s) for s in sizes])
        ax.set_xlabel("images per draw (n)")
        ax.set_ylabel(fd_label(ext))
        ax.set_title(f"{ext}: {result.classes[0]} vs {result.classes[1]}", fontsize=10)
        top = np.nanmax(np.concatenate([sub["fd"].to_numpy(), sub["high"].to_numpy()]))
        ax.set_ylim(0, 1.5 * top)  # room for the legend above the bars
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Same class vs different classes", fontsize=10)
    return finish(fig, name)
