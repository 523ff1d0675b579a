"""Registered datasets named by a string (``"fashion-mnist:test"``, ``"cifar10:train"``)."""
from __future__ import annotations

import os

__all__ = ["is_dataset_spec", "load_dataset"]


def is_dataset_spec(s) -> bool:
    """``"fashion-mnist:test"`` or ``"cifar10"``, and not an existing path."""
    if not isinstance(s, str) or os.path.exists(s):
        return False
    from genmetrics_nb.datasets.registry import DATASET_NAMES

    return s.partition(":")[0] in DATASET_NAMES


def load_dataset(spec: str):
    """The :class:`~genmetrics_nb.datasets.LabeledImages` of a registered dataset spec (``"name:split"``)."""
    from genmetrics_nb.datasets.registry import load_dataset as _load

    return _load(spec)
