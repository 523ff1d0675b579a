"""What every dataset returns (:class:`LabeledImages`), and the checks datasets share."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["LabeledImages", "check_split", "select_classes"]


class LabeledImages(NamedTuple):
    """Images with class labels.

    Attributes
    ----------
    images : numpy.ndarray
        ``uint8`` ``N x C x H x W``.
    labels : numpy.ndarray
        ``int64`` ``N``.
    class_names : list of str
        ``class_names[label]`` is the name of a label.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list

    def __repr__(self) -> str:
        n, c, h, w = self.images.shape
        return (
            f"LabeledImages({n} images of {c} x {h} x {w} uint8, "
            f"{len(self.class_names)} classes: {', '.join(self.class_names)})"
        )

    def of_class(self, label) -> np.ndarray:
        """The images whose label is ``label`` (an int or a class name)."""
        if isinstance(label, str):
            if label not in self.class_names:
                raise ValueError(f"label {label!r} is not one of {self.class_names}")
            label = self.class_names.index(label)
        return self.images[self.labels == label]


def check_split(split: str) -> str:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


def select_classes(data: LabeledImages, classes) -> LabeledImages:
    """Keep the images of some classes (ints or names); labels are unchanged."""
    if classes is None:
        return data
    if isinstance(classes, (int, str)):
        classes = [classes]
    idx = []
    for c in classes:
        if isinstance(c, str):
            if c not in data.class_names:
                raise ValueError(f"classes: {c!r} is not one of {data.class_names}")
            c = data.class_names.index(c)
        elif not 0 <= int(c) < len(data.class_names):
            raise ValueError(f"classes: {c} is outside 0..{len(data.class_names) - 1}")
        idx.append(int(c))
    keep = np.isin(data.labels, idx)
    return LabeledImages(data.images[keep], data.labels[keep], data.class_names)
