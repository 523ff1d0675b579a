"""Higher-level helpers that notebooks call: one module per experiment.

Functions are found by name across the modules of this package, so a
notebook writes ``gm.experiments.distortion_sweep(...)`` without knowing the
module; nothing is imported until it is used.
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
    raise AttributeError(f"genmetrics_nb.experiments has no experiment {name!r}")
