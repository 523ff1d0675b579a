"""Figures of the metric_papers notebook: published numbers against our spread, C_T against bandwidth."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["published_spread", "ct_bandwidth", "prd_modes_curves"]


def published_spread(section, *, name: str = "published_spread"):
    """Each "close" number of a section: our values over seeds, their mean +/- 3 SD, and the published one.

    Parameters
    ----------
    section : genmetrics_nb.experiments.metric_papers.PaperSection
        A section with ``extra["per_seed"]`` (prdc or TopP&R example).
    name : str
        File stem under the report runner.

    Returns
    -------
    matplotlib.figure.Figure
        One row per quantity; the value on x.
    """
    per_seed = section.extra.get("per_seed")
    if not per_seed:
        raise ValueError(f"section {section.title!r} has no per-seed values to plot")
    rows = {r["quantity"]: r for r in section.rows if r["quantity"] in per_seed}
    fig, axes = new_figure(width=5.6, height=0.55 * len(per_seed) + 1.4)
    ax = axes[0, 0]
    for i, (q, values) in enumerate(per_seed.items()):
        r = rows[q]
        y = len(per_seed) - 1 - i
        if np.isfinite(r["low"]):
            ax.plot([r["low"], r["high"]], [y, y], color="0.6", linewidth=6, solid_capstyle="butt",
                    label="our mean ± 3 SD" if i == 0 else None)
        ax.plot(values, [y] * len(values), "o", color="C0", markersize=5, label="our seeds" if i == 0 else None)
        ax.plot([r["published"]], [y], "D", color="C3", markersize=7, label="published (one draw)" if i == 0 else None)
    ax.set_yticks(range(len(per_seed)))
    ax.set_yticklabels(list(per_seed)[::-1])
    ax.set_ylim(-0.7, len(per_seed) - 0.3)
    ax.set_xlabel("metric value")
    ax.set_ylabel("quantity")
    ax.legend(loc="best", fontsize=8)
    return finish(fig, name)


def ct_bandwidth(section, *, name: str = "ct_bandwidth"):
    """C_T against the KDE bandwidth (Meehan et al.'s Fig. 2), with the validation log-likelihood.

    Parameters
    ----------
    section : genmetrics_nb.experiments.metric_papers.PaperSection
        The result of :func:`~genmetrics_nb.experiments.metric_papers.ct_moons`.
    name : str

    Returns
    -------
    matplotlib.figure.Figure
        Bandwidth on a log x axis; C_T on the left y axis, the mean validation
        log-likelihood on the right; the best-likelihood bandwidth marked.
    """
    curve = section.extra["curve"]
    fig, axes = new_figure(width=5.6, height=3.6)
    ax = axes[0, 0]
    ax.semilogx(curve["bandwidth"], curve["C_T"], "o-", color="C0", markersize=3, label="C_T")
    ax.axhline(0, color="0.5", linewidth=0.8)
    ax.axvline(section.extra["best"], color="C3", linestyle="--", linewidth=1, label="best likelihood")
    ax.set_xlabel("KDE bandwidth σ")
    ax.set_ylabel("C_T (negative: copying)")
    right = ax.twinx()
    ll = np.asarray(curve["validation log-likelihood"], dtype=float)
    right.semilogx(curve["bandwidth"], ll, color="C2", linewidth=1, label="validation log-likelihood")
    right.set_ylim(max(ll.min(), ll.max() - 6), ll.max() + 0.5)
    right.set_ylabel("mean validation log-likelihood")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="lower right", fontsize=8)
    return finish(fig, name)


def prd_modes_curves(section, *, name: str = "prd_modes"):
    """Closed-form PRD curves of a reference on n modes against generated sets on fewer, and gm.prd's.

    Parameters
    ----------
    section : genmetrics_nb.experiments.metric_papers.PaperSection
        The result of :func:`~genmetrics_nb.experiments.metric_papers.prd_modes`.
    name : str

    Returns
    -------
    matplotlib.figure.Figure
        Recall on x, precision on y (limits a little beyond [0, 1] so that
        curves along the edges show): each closed form as a line, the
        sample curve of :func:`genmetrics_nb.prd` as dots.
    """
    ex = section.extra
    fig, axes = new_figure(width=4.6, height=4.2)
    ax = axes[0, 0]
    for i, (kept, (p, r)) in enumerate(ex["closed"].items()):
        ax.plot(r, p, color=f"C{i}", linewidth=2, alpha=0.8,
                label=f"closed form, {kept} of {ex['n_modes']} modes")
    res = ex["result"]
    step = max(1, len(res.recall) // 60)
    ax.plot(res.recall[::step], res.precision[::step], "o", color="k", markersize=3,
            label=f"gm.prd on samples, {ex['n_kept']} of {ex['n_modes']} modes")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel("recall (β)")
    ax.set_ylabel("precision (α)")
    ax.legend(loc="lower left", fontsize=7)
    return finish(fig, name)
