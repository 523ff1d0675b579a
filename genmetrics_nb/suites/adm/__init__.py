"""The ADM suite: OpenAI guided-diffusion's ``evaluations/evaluator.py``, run whole.

- :mod:`~genmetrics_nb.suites.adm.evaluator`: :func:`adm` and :class:`ADMResult`
  (Inception Score, FID, sFID, precision, recall of two ``.npz`` batches);
- :mod:`~genmetrics_nb.suites.adm.batches`: reading the evaluator's ``.npz`` batches;
- :mod:`~genmetrics_nb.suites.adm.split_inception_score`: its split Inception Score;
- :mod:`~genmetrics_nb.suites.adm.manifold`: its ``ManifoldEstimator`` (float16
  pairwise distances), which only this suite uses.

``gm.suites.adm(ref, sample)`` calls :func:`~genmetrics_nb.suites.adm.evaluator.adm`:
this package is callable, because importing it as ``genmetrics_nb.suites.adm``
makes the package, not the function, the ``adm`` attribute of
:mod:`genmetrics_nb.suites`, and the README documents ``gm.suites.adm(...)``.
Nothing heavy is imported until the suite is called.
"""
from __future__ import annotations

import importlib
import sys
import types

__all__ = ["ADMResult", "adm", "evaluator", "batches", "manifold", "split_inception_score"]

_SUBMODULES = ("evaluator", "batches", "manifold", "split_inception_score")


def __getattr__(name: str):
    if name in ("adm", "ADMResult"):
        return getattr(importlib.import_module(f"{__name__}.evaluator"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__


class _CallableSuite(types.ModuleType):
    """The package, callable as :func:`~genmetrics_nb.suites.adm.evaluator.adm`."""

    def __call__(self, *args, **kwargs):
        from genmetrics_nb.suites.adm.evaluator import adm

        return adm(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableSuite
