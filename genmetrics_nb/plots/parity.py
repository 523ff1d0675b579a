"""Figure of the parity notebook: each protocol's difference from its peer against its tolerance."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["parity_differences"]


def parity_differences(table, *, name: str = "parity"):
    """Horizontal bars of ``max_rel_diff`` per protocol (log scale), each with its tolerance marked.

    An exact agreement (difference 0) has no bar and is labelled as identical.
    """
    rows = list(table.rows)
    fig, axes = new_figure(1, 1, width=8.0, height=0.45 * len(rows) + 1.6)
    ax = axes[0, 0]
    y = np.arange(len(rows))[::-1]
    floor = 1e-17
    diffs = np.array([max(r.max_rel_diff, floor) for r in rows])
    colors = ["tab:green" if r.ok else "tab:red" for r in rows]
    ax.barh(y, diffs - floor, left=floor, color=colors, height=0.6, label="max relative difference")
    for yi, r in zip(y, rows):
        if r.max_rel_diff == 0:
            ax.text(floor * 3, yi, "identical (difference 0)", va="center", fontsize=7)
    ax.scatter([r.tolerance for r in rows], y, marker="|", s=400, color="black", label="tolerance", zorder=3)
    ax.set_xscale("log")
    ax.set_xlim(floor, 1.0)
    ax.set_yticks(y, [f"{r.protocol}\nvs {r.peer}" for r in rows], fontsize=7)
    ax.set_xlabel("max relative difference from the peer (log scale)")
    ax.set_title(f"genmetrics-nb against each protocol's reference ({table.weights} weights)", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return finish(fig, name)
