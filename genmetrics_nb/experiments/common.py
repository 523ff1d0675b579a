"""Helpers shared by the experiments: dataset arguments, class lists, tables, warnings."""
from __future__ import annotations

from genmetrics_nb.util.checks import check_int
from genmetrics_nb.util.warn import reemit_once  # one registry of shown warnings per process

__all__ = ["check_classes", "frame", "load_labeled", "reemit_once"]


def load_labeled(data):
    """Labelled images and a description of where they came from.

    ``data`` is a registered dataset name (``"fashion-mnist:test"``,
    ``"cifar10:train"``), a folder in the ImageFolder layout (one subfolder
    per class, e.g. CIFAR-10 written as PNGs), or ``LabeledImages``. A
    folder's images must share one size.
    """
    import os

    from genmetrics_nb.datasets.common import LabeledImages
    from genmetrics_nb.datasets.registry import DATASET_NAMES, load_dataset

    if isinstance(data, (str, os.PathLike)) and os.path.isdir(data):
        from genmetrics_nb.image_sets import image_folder

        return image_folder(os.fspath(data)).load(), os.path.abspath(data)
    if isinstance(data, str):
        if data.partition(":")[0] not in DATASET_NAMES:
            raise ValueError(
                f"dataset={data!r} is neither a registered dataset ({', '.join(n + ':test' for n in DATASET_NAMES)}) "
                "nor an existing folder with one subfolder per class"
            )
        return load_dataset(data), data
    if isinstance(data, LabeledImages):
        return data, None
    raise TypeError(
        "data must be a dataset name such as 'fashion-mnist:test', a folder with one subfolder per class, "
        f"or LabeledImages, got {type(data).__name__}"
    )


def check_classes(classes, n_classes: int, *, name="classes") -> list[int]:
    if classes is None:
        return list(range(n_classes))
    out = []
    for c in classes:
        c = check_int(c, name=f"{name}[i]", hint=f"{name} holds class indices in 0..{n_classes - 1}")
        if not 0 <= c < n_classes:
            raise ValueError(f"{name} must hold class indices in 0..{n_classes - 1}, got {c!r}")
        out.append(c)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} lists a class twice: {out}")
    return out


def frame(rows):
    import pandas as pd

    return pd.DataFrame(rows)


