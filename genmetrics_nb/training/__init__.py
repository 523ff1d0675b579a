"""Training the small models this project ships, and FCNs for the segmentation notebooks.

- :mod:`~genmetrics_nb.training.fcn`: :func:`encode_scenes`, :func:`train_fcn`,
  :func:`evaluate_fcn`, :func:`predict_fcn` (FCN-32s/16s/8s on scenes);
- :mod:`~genmetrics_nb.training.generator`: :func:`train_generator` and
  :func:`evaluate_checkpoints` (the shipped Fashion-MNIST generator);
- :mod:`~genmetrics_nb.training.classifier`: :func:`train_classifier` (the
  shipped Fashion-MNIST classifier).

``genmetrics-nb train-fcn | train-generator | train-classifier`` run them
from the shell with the commands recorded in ``data/models/manifest.json``.
Training sits above the metrics (it reports FID and IoU while it trains) and
beside the experiments; nothing below imports it.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "TRAIN_DEFAULTS": "genmetrics_nb.training.fcn:TRAIN_DEFAULTS",
    "EncodedScenes": "genmetrics_nb.training.fcn:EncodedScenes",
    "TrainedFCN": "genmetrics_nb.training.fcn:TrainedFCN",
    "TrainingHistory": "genmetrics_nb.training.fcn:TrainingHistory",
    "encode_scenes": "genmetrics_nb.training.fcn:encode_scenes",
    "train_fcn": "genmetrics_nb.training.fcn:train_fcn",
    "evaluate_fcn": "genmetrics_nb.training.fcn:evaluate_fcn",
    "predict_fcn": "genmetrics_nb.training.fcn:predict_fcn",
    "fcn_variant_models": "genmetrics_nb.training.fcn:fcn_variant_models",
    "fcn_variant_runs": "genmetrics_nb.training.fcn:fcn_variant_runs",
    "train_generator": "genmetrics_nb.training.generator:train_generator",
    "evaluate_checkpoints": "genmetrics_nb.training.generator:evaluate_checkpoints",
    "train_classifier": "genmetrics_nb.training.classifier:train_classifier",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name].split(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"genmetrics_nb.training has no attribute {name!r}")


def __dir__():
    return __all__
