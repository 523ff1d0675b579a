"""Helpers shared by the experiments: dataset arguments, class lists, tables, warnings."""
from __future__ import annotations

import warnings

from genmetrics_nb.util.checks import check_int

__all__ = ["check_classes", "frame", "load_labeled", "reemit_once"]


def load_labeled(data):
    from genmetrics_nb.datasets.common import LabeledImages
    from genmetrics_nb.datasets.registry import load_dataset

    if isinstance(data, str):
        return load_dataset(data), data
    if isinstance(data, LabeledImages):
        return data, None
    raise TypeError(
        f"data must be a dataset name such as 'fashion-mnist:test' or LabeledImages, got {type(data).__name__}"
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


def reemit_once(caught) -> None:
    seen = set()
    for w in caught:
        key = (str(w.message), w.category)
        if key not in seen:
            seen.add(key)
            warnings.warn(w.message, w.category, stacklevel=3)
