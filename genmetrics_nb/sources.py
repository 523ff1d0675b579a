"""What a "source" can be for the distribution metrics, and how to read it.

A source is one of: statistics (``FeatureStats``, an ``.npz`` file of them,
or a ``(mu, sigma)`` pair), features (an ``N x D`` array or a ``Features``
result), or images (a folder, a list of files, an ``N x C x H x W`` array or
tensor, ``LabeledImages``, or a registered dataset name such as
``"fashion-mnist:test"``). The Python API and the CLI share this module so
that they accept the same things.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from genmetrics_nb.util.checks import is_torch

__all__ = ["default_output", "is_dataset_spec", "classify", "load_dataset_images"]

#: The output each extractor uses for FID/KID/PR unless told otherwise.
_DISTRIBUTION_OUTPUT = {"vgg16-fc2": "fc2_relu"}


def default_output(extractor_name: str, outputs) -> str:
    """The feature output distribution metrics use for an extractor."""
    name = _DISTRIBUTION_OUTPUT.get(extractor_name)
    if name in outputs:
        return name
    if "pool" in outputs:
        return "pool"
    return tuple(outputs)[0]


def is_dataset_spec(s) -> bool:
    """``"fashion-mnist:test"`` or ``"cifar10"``, and not an existing path."""
    if not isinstance(s, str) or os.path.exists(s):
        return False
    from genmetrics_nb.datasets.registry import DATASET_NAMES

    return s.partition(":")[0] in DATASET_NAMES


def load_dataset_images(spec: str):
    """uint8 images of a registered dataset spec (``"name:split"``)."""
    from genmetrics_nb.datasets.registry import load_dataset

    return load_dataset(spec).images


def classify(x, *, name: str) -> str:
    """One of ``"stats"``, ``"stats-file"``, ``"features"``, ``"features-mapping"``,
    ``"dataset"``, ``"images"``."""
    if hasattr(x, "mu") and hasattr(x, "sigma"):
        return "stats"
    if isinstance(x, tuple) and len(x) == 2 and all(
        isinstance(v, np.ndarray) or is_torch(v) for v in x
    ) and getattr(x[0], "ndim", 0) == 1:
        return "stats"
    if isinstance(x, (str, os.PathLike)):
        s = os.fspath(x)
        if s.endswith(".npz"):
            if not os.path.isfile(s):
                raise ValueError(f"{name}={s!r}: no such statistics file")
            return "stats-file"
        if is_dataset_spec(s):
            return "dataset"
        if not os.path.exists(s):
            from genmetrics_nb.datasets.registry import DATASET_NAMES

            raise ValueError(
                f"{name}={s!r} is neither an existing folder or file, nor a dataset name "
                f"({', '.join(n + ':test' for n in DATASET_NAMES)}), nor an .npz of statistics"
            )
        return "images"
    if isinstance(x, Mapping) and hasattr(x, "meta"):
        return "features-mapping"
    if isinstance(x, tuple) and hasattr(x, "_fields") and hasattr(x, "images"):
        return "images"  # LabeledImages
    if isinstance(x, np.ndarray) or is_torch(x):
        if x.ndim == 2:
            return "features"
        if x.ndim == 4:
            return "images"
        raise ValueError(
            f"{name} has shape {tuple(x.shape)}: pass N x D features or N x C x H x W images"
        )
    if isinstance(x, (list, tuple)) and x and all(isinstance(p, (str, os.PathLike)) for p in x):
        return "images"
    raise TypeError(
        f"{name} of type {type(x).__name__} is not a source; pass images (folder, files, "
        "N x C x H x W array), features (N x D array), FeatureStats or an .npz of statistics"
    )
