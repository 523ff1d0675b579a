"""Figures of the ppl notebook: PPL across checkpoints and truncation, and its distribution."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.axes import log_y, x_of
from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["ppl_curves", "ppl_histogram"]


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
            xs, xlabel = x_of(grp, x)
            ax.plot(xs, grp["ppl"], marker="o", label=f"{space}-space, {sampling}")
        log_y(ax)
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
        _, _, patches = ax.hist(v, bins=bins, histtype="step", lw=1.5, label=f"{label}: PPL {r.value:.3g}")
        ax.axvline(r.value, ls="--", lw=1.2, color=patches[0].get_edgecolor())
    ax.set_xscale("log")
    ax.set_xlabel("per-pair distance / epsilon^2 (log scale)")
    ax.set_ylabel("number of latent pairs")
    ax.set_title("Per-pair path lengths (dashed: trimmed mean = PPL)")
    ax.legend(fontsize=7)
    return finish(fig, name)
