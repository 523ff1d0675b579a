"""Suites: a published evaluation protocol run whole, its numbers comparable with the papers'.

A suite sits between the experiments and the metrics: it composes several
metrics exactly as one reference evaluator does (its extractor outputs, its
statistics files, its arithmetic) and returns one result with all of its
numbers and the protocol behind them.

- :mod:`~genmetrics_nb.suites.adm`: OpenAI guided-diffusion's ``evaluations/evaluator.py``
  (Inception Score, FID, sFID, precision, recall of two ``.npz`` batches);
  ``gm.suites.adm(ref, sample)``, CLI ``genmetrics-nb adm REF.npz SAMPLE.npz``.
- :mod:`~genmetrics_nb.suites.evaluate`: the evaluate report's machinery (one or
  more generated sets against a reference); ``notebooks/evaluate.ipynb``, CLI
  ``genmetrics-nb evaluate``.

Nothing heavy is imported until a suite is called.
"""
from __future__ import annotations

import importlib

__all__ = ["ADMResult", "adm", "evaluate"]

_EXPORTS = {
    "adm": "genmetrics_nb.suites.adm",  # the package, callable as the suite (see suites/adm/__init__.py)
    "ADMResult": "genmetrics_nb.suites.adm.evaluator:ADMResult",
    "evaluate": "genmetrics_nb.suites.evaluate",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        module, _, attr = _EXPORTS[name].partition(":")
        value = importlib.import_module(module)
        value = getattr(value, attr) if attr else value
        globals()[name] = value
        return value
    raise AttributeError(f"module 'genmetrics_nb.suites' has no attribute {name!r}")


def __dir__():
    return __all__
