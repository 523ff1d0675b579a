"""Axis helpers shared by several figures."""
from __future__ import annotations

__all__ = ["log_y", "x_of"]


def log_y(ax):
    """Log-scale y axis with plain-number tick labels (no 1.05 x 10^2)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    fmt = FuncFormatter(lambda v, _: f"{v:.3g}")
    ax.yaxis.set_major_formatter(fmt)
    lo, hi = ax.get_ylim()
    if hi / lo < 10:  # less than a decade: label a few minor ticks so the axis has numbers
        ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 3.0, 5.0)))
        ax.yaxis.set_minor_formatter(fmt)
        ax.tick_params(axis="y", which="minor", labelsize=7)
    else:
        ax.yaxis.set_minor_formatter(NullFormatter())


def x_of(table, x):
    if x == "iteration":
        if table["iteration"].isna().any():
            return table["checkpoint"].astype(str), "checkpoint"
        return table["iteration"], "training iteration (generator steps)"
    return table["psi"], "truncation psi (1 = none)"
