"""Plot functions used by the notebooks.

Each function returns a :class:`matplotlib.figure.Figure` with labelled axes
and, when a notebook runs under the report runner, also saves it as a PNG in
the report folder (``figures/<name>.png``) so it can be looked at directly.
"""
from __future__ import annotations

import importlib

_AREAS = ("core", "sweeps", "distribution", "segmentation", "generators")


def __getattr__(name):
    # Plot functions live in one module per area; look them up lazily so that
    # importing genmetrics_nb.plots does not import matplotlib.
    for area in _AREAS:
        try:
            module = importlib.import_module(f"genmetrics_nb.plots.{area}")
        except ModuleNotFoundError as exc:
            if exc.name == f"genmetrics_nb.plots.{area}":
                continue
            raise
        if hasattr(module, name) and not name.startswith("_"):
            return getattr(module, name)
    raise AttributeError(f"genmetrics_nb.plots has no plot function {name!r}")
