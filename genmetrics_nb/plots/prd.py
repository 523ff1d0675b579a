"""PRD curves (precision and recall for distributions, :func:`genmetrics_nb.prd`)."""
from __future__ import annotations

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["prd_curve"]


def prd_curve(results, labels=None, *, title: str | None = None, name: str = "prd_curve"):
    """The PRD curve of one or more :class:`~genmetrics_nb.metrics.diversity.prd.PRDResult`.

    Parameters
    ----------
    results : PRDResult or list of PRDResult
    labels : list of str, optional
        One legend entry per result; the default names each by its F_8 / F_1/8.
    title : str, optional
        Axes title.
    name : str
        File stem under the report runner.

    Returns
    -------
    matplotlib.figure.Figure
        Recall on x, precision on y, both in [0, 1] (as the reference's plot).
    """
    if not isinstance(results, (list, tuple)):
        results = [results]
    if labels is not None and len(labels) != len(results):
        raise ValueError(f"labels has {len(labels)} entries for {len(results)} results; pass one per result")
    below = len(results) > 2
    fig, axes = new_figure(width=5.0 if below else 4.2, height=4.0 + (0.22 * len(results) if below else 0))
    ax = axes[0, 0]
    for i, r in enumerate(results):
        label = labels[i] if labels is not None else (
            f"F_{r.beta:g} = {r.f_beta:.3f}, F_1/{r.beta:g} = {r.f_beta_inv:.3f}")
        ax.plot(r.recall, r.precision, label=label, alpha=0.7, linewidth=2.5)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    if below:  # below the axes: inside, several entries hide the curves
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=7)
    else:
        ax.legend(loc="lower left", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return finish(fig, name)
