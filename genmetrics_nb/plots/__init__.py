"""Plot functions used by the notebooks, one module per notebook.

``plots/fid.py`` holds the fid notebook's figures, ``plots/evaluate.py`` the
evaluate notebook's, and so on; figure families several notebooks share are in
``samples.py`` (image grids), ``labels.py`` (label-map colours),
``sample_size.py`` (the Frechet distance against n, for the kid and evaluate
notebooks) and ``axes.py``. Each function returns a :class:`matplotlib.figure.Figure` with
labelled axes and, when a notebook runs under the report runner, also saves it
as a PNG in the report folder (``figures/<name>.png``).

Functions are found by name across the modules, so a notebook writes
``gm.plots.fid_matrix_heatmap(...)``; importing this package does not import
matplotlib.
"""
from __future__ import annotations

import importlib
import pkgutil


def __getattr__(name):
    if name.startswith("_"):
        raise AttributeError(name)
    names = [info.name for info in pkgutil.iter_modules(__path__)]
    for module_name in names:  # public names first: a function may share its module's name
        module = importlib.import_module(f"{__name__}.{module_name}")
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    if name in names:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"genmetrics_nb.plots has no plot function {name!r}")
