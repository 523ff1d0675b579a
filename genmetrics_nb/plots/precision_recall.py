"""Figures of the precision_recall notebook: scenario bars and blurred examples."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["pr_scenario_bars", "blur_examples"]


def pr_scenario_bars(result, *, name: str = "precision-recall"):
    """Grouped bars of precision, recall, density and coverage for each scenario."""
    t = result.table
    metrics = [("precision", f"precision (k={result.k_pr})"), ("recall", f"recall (k={result.k_pr})"),
               ("density", f"density (k={result.k_dc})"), ("coverage", f"coverage (k={result.k_dc})")]
    fig, axes = new_figure(1, 1, width=8.0, height=4.0)
    ax = axes[0, 0]
    x = np.arange(len(t))
    w = 0.2
    for k, (col, label) in enumerate(metrics):
        ax.bar(x + (k - 1.5) * w, t[col], w, label=label)
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xticks(x, list(t["scenario"]))
    ax.set_xlabel("generated set (stand-in)")
    ax.set_ylabel("value (1 = matches the real set)")
    ax.set_title("Precision/recall and density/coverage against the real set", fontsize=10)
    ax.legend(fontsize=8, ncols=2)
    return finish(fig, name)


def blur_examples(result, *, name: str = "blur-examples"):
    """One image per class: unblurred and at each blur level."""
    rows = list(result.examples)
    rows = ["real"] + [r for r in rows if r != "real"]
    k = len(result.examples["real"])
    fig, axes = new_figure(len(rows), k, width=0.9, height=1.0)
    for i, key in enumerate(rows):
        imgs = result.examples[key]
        for j in range(k):
            ax = axes[i, j]
            img = imgs[j]
            ax.imshow(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0), cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(key, fontsize=7)
    fig.suptitle("The generated-set stand-ins (one image per class)", fontsize=9)
    return finish(fig, name)
