"""Figures of the linear_separability notebook: conditional entropy per attribute in z and w."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.axes import log_y
from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["separability_bars"]


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
    log_y(ax)
    ax.set_xlabel("training iteration (generator steps)")
    ax.set_ylabel("separability = 2^(sum of entropies) (log scale)")
    ax.set_title("Linear separability across training (lower = better)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return finish(fig, name)
