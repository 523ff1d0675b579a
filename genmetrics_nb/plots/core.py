"""Shared plumbing for plot functions: style and saving."""
from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["finish", "new_figure", "REPORT_DIR_ENV"]

#: Environment variable the report runner sets to the notebook's report folder.
REPORT_DIR_ENV = "GENMETRICS_REPORT_DIR"


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 5.0, height: float = 3.6, **kwargs):
    """A figure with ``nrows x ncols`` axes of the given size per panel (inches)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kwargs
    )
    return fig, axes


def finish(fig, name: str):
    """Tidy the layout and, under the report runner, save ``figures/<name>.png``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        File stem; letters, digits, ``-`` and ``_``.

    Returns
    -------
    matplotlib.figure.Figure
        The same figure, so that a notebook cell displays it.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"name must use letters, digits, '-' and '_' only, got {name!r}")
    try:
        fig.tight_layout()
    except Exception:  # tight_layout can fail on exotic layouts; the figure is still valid
        pass
    out = os.environ.get(REPORT_DIR_ENV)
    if out:
        folder = Path(out) / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        fig.savefig(folder / f"{name}.png", dpi=110, bbox_inches="tight")
    return fig
