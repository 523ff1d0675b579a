"""Validation shared by the full-reference metrics (PSNR, SSIM, MS-SSIM)."""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from genmetrics_nb.device import resolve
from genmetrics_nb.images import check_allow_narrow, check_data_range, to_nchw
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import is_torch

__all__ = ["PerImageResult", "prepare_pair"]


@dataclasses.dataclass(frozen=True)
class PerImageResult(Result):
    """A score per image pair and their mean.

    Attributes
    ----------
    metric : str
        Which metric, e.g. ``"psnr"``.
    values : numpy.ndarray
        One value per image pair, float64.
    value : float
        ``values.mean()``; ``inf`` if any PSNR is infinite. ``to_dict()``
        also writes it under its former key ``"mean"``.
    """

    metric: str
    values: np.ndarray = dataclasses.field(repr=False)
    value: float

    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    n_fields: ClassVar[tuple[str, ...]] = ("n",)
    dict_aliases: ClassVar[dict] = {"value": "mean"}

    @property
    def n(self) -> int:
        """Number of image pairs."""
        return len(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def _label(self) -> str:
        return self.metric

    def __str__(self) -> str:
        unit = " dB" if self.metric == "psnr" else ""
        return f"{self.metric} = {self.value:.4f}{unit} (mean of {len(self.values)} image pairs)"


def score(metric: str, values) -> PerImageResult:
    v = values.detach().cpu().numpy().astype(np.float64)
    mean = float(v.mean()) if v.size else math.nan
    return PerImageResult(metric, v, mean)


def prepare_pair(x, y, *, data_range, device="auto", name_x="x", name_y="y", allow_narrow=False):
    """Check a pair of image batches and return them as float64 tensors.

    Both must be 4-D with the same shape (channels first, or channels last
    with 1 or 3 channels). ``data_range`` must be given: it is the
    difference between the largest and smallest value the images can take
    (255 for uint8, 1.0 for [0, 1] floats, 2.0 for [-1, 1] floats). Float
    images that span no more than 3/255 of it are refused unless
    ``allow_narrow`` (:func:`genmetrics_nb.images.check_data_range`).
    """
    import torch

    if data_range is None or isinstance(data_range, bool) or not isinstance(data_range, (int, float, np.number)):
        raise TypeError(
            f"data_range must be a number, got {data_range!r}; use 255 for uint8 images, "
            "1.0 for [0, 1] floats, 2.0 for [-1, 1] floats"
        )
    if not math.isfinite(float(data_range)) or float(data_range) <= 0:
        raise ValueError(f"data_range must be a positive finite number, got {data_range!r}")
    check_allow_narrow(allow_narrow)
    dev = resolve(device)
    out, floats = [], []
    for arr, name in ((x, name_x), (y, name_y)):
        if not (isinstance(arr, np.ndarray) or is_torch(arr)):
            raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(arr).__name__}")
        if arr.dtype == bool or (not _is_floating(arr) and str(arr.dtype) not in ("uint8", "torch.uint8")):
            raise TypeError(
                f"{name} has dtype {arr.dtype}; pass uint8 images or floating point images"
            )
        t = torch.as_tensor(np.asarray(arr)) if not is_torch(arr) else arr
        t = to_nchw(t, name=name)
        if _is_floating(t) and not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} contains NaN or Inf; repair or drop those images")
        out.append(t.to(device=dev, dtype=torch.float64))
        if _is_floating(t):
            floats.append(out[-1])
    a, b = out
    if a.shape != b.shape:
        raise ValueError(
            f"{name_x} and {name_y} must have the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}; resize or crop one of them to match"
        )
    if a.shape[0] == 0:
        raise ValueError(f"{name_x} and {name_y} hold no images (N = 0)")
    span = float(torch.maximum(a.max() - a.min(), b.max() - b.min()))
    if span > float(data_range) * (1 + 1e-6):
        raise ValueError(
            f"the images span {span:.6g}, more than data_range={data_range}; data_range is the "
            "full range the images can take (255 for uint8, 1.0 for [0, 1] floats)"
        )
    if floats:
        names = f"{name_x} and {name_y}" if len(floats) == 2 else (name_x if _is_floating(x) else name_y)
        check_data_range(min(float(t.min()) for t in floats), max(float(t.max()) for t in floats),
                         float(data_range), names=names, allow_narrow=allow_narrow)
    return a, b, float(data_range)


def _is_floating(t) -> bool:
    if is_torch(t):
        return t.is_floating_point()
    return np.issubdtype(np.asarray(t).dtype, np.floating)
