"""Small models trained on Fashion-MNIST for the offline generator metrics.

- :func:`load_generator` / :func:`list_checkpoints`: snapshots of a small
  style-based generator (:class:`~genmetrics_nb.generators.SmallStyleGAN`)
  from several stages of training, shipped in ``data/models/``.
- :func:`load_classifier`: a small CNN, the offline attribute classifier of
  linear separability; :func:`classifier_logits` feed the offline IS analogue.
- ``genmetrics-nb train-generator`` / ``train-classifier`` reproduce them
  (:mod:`genmetrics_nb.training`); :mod:`genmetrics_nb.weights.shipped`
  reads and verifies their manifest.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "load_generator": "genmetrics_nb.zoo.checkpoints:load_generator",
    "load_classifier": "genmetrics_nb.zoo.checkpoints:load_classifier",
    "list_checkpoints": "genmetrics_nb.zoo.checkpoints:list_checkpoints",
    "classifier_logits": "genmetrics_nb.zoo.checkpoints:classifier_logits",
    "read_manifest": "genmetrics_nb.weights.shipped:read_manifest",
    "models_dir": "genmetrics_nb.weights.shipped:models_dir",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name].split(":")
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"genmetrics_nb.zoo has no attribute {name!r}")
