"""Registered datasets by name: ``load_dataset("fashion-mnist:test")``."""
from __future__ import annotations

from genmetrics_nb.datasets.cifar import cifar10
from genmetrics_nb.datasets.common import LabeledImages
from genmetrics_nb.datasets.fashionmnist import fashion_mnist

__all__ = ["DATASET_NAMES", "load_dataset"]


DATASET_NAMES = ("fashion-mnist", "cifar10")


def load_dataset(spec: str) -> LabeledImages:
    """Load a registered dataset from a ``"name:split"`` string.

    Parameters
    ----------
    spec : str
        ``"fashion-mnist:test"``, ``"fashion-mnist:train"``, ``"cifar10:test"``...
        The split defaults to ``test``.

    Examples
    --------
    >>> load_dataset("fashion-mnist:test").images.shape  # doctest: +SKIP
    (10000, 1, 28, 28)
    """
    name, _, split = spec.partition(":")
    split = split or "test"
    if name == "fashion-mnist":
        return fashion_mnist(split)
    if name == "cifar10":
        return cifar10(split)
    raise ValueError(f"unknown dataset {name!r} in {spec!r}; known: {', '.join(DATASET_NAMES)}")
