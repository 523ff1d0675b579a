"""Suites: a published evaluation protocol run whole, its numbers comparable with the papers'.

A suite sits between the experiments and the metrics: it composes several
metrics exactly as one reference evaluator does (its extractor outputs, its
statistics files, its arithmetic) and returns one result with all of its
numbers and the protocol behind them.

- :func:`adm`: OpenAI guided-diffusion's ``evaluations/evaluator.py``
  (Inception Score, FID, sFID, precision, recall of two ``.npz`` batches);
  CLI ``genmetrics-nb adm REF.npz SAMPLE.npz``.

Nothing heavy is imported until a suite is called.
"""
from __future__ import annotations

import importlib

__all__ = ["ADMResult", "adm"]

_EXPORTS = {
    "adm": "genmetrics_nb.suites.adm_evaluator:adm",
    "ADMResult": "genmetrics_nb.suites.adm_evaluator:ADMResult",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        module, attr = _EXPORTS[name].split(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'genmetrics_nb.suites' has no attribute {name!r}")


def __dir__():
    return __all__
