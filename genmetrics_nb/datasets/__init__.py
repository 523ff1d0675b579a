"""Datasets, offline first: nothing is downloaded at import or by default.

- :func:`fashion_mnist` reads the IDX files Debian's ``dataset-fashion-mnist``
  package installs (or a copy elsewhere).
- :func:`cifar10` reads torchvision's python-pickle layout; ``download=True``
  uses torchvision's downloader for users who are online.
- :func:`sample_images` returns the photographs shipped inside scikit-image.
"""
from __future__ import annotations

import importlib

from genmetrics_nb.datasets.common import LabeledImages

_LAZY = {
    "fashion_mnist": "genmetrics_nb.datasets.fashionmnist:fashion_mnist",
    "FASHION_MNIST_CLASSES": "genmetrics_nb.datasets.fashionmnist:FASHION_MNIST_CLASSES",
    "cifar10": "genmetrics_nb.datasets.cifar:cifar10",
    "CIFAR10_CLASSES": "genmetrics_nb.datasets.cifar:CIFAR10_CLASSES",
    "sample_images": "genmetrics_nb.datasets.samples:sample_images",
    "SAMPLE_IMAGE_NAMES": "genmetrics_nb.datasets.samples:SAMPLE_IMAGE_NAMES",
    "fashion_mnist_scenes": "genmetrics_nb.datasets.scenes:fashion_mnist_scenes",
    "load_dataset": "genmetrics_nb.datasets.registry:load_dataset",
}

__all__ = ["LabeledImages", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name].split(":")
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"genmetrics_nb.datasets has no attribute {name!r}")
