"""Argument checks shared by the whole package.

The same mistake gets the same message everywhere, and the exception type
follows one rule: a value of the wrong *type* raises ``TypeError``, a value
of the right type but outside what is allowed raises ``ValueError``. Each
message names the argument and says how to fix it.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

__all__ = [
    "as_feature_tensor",
    "check_choice",
    "check_classes",
    "check_int",
    "check_uint8_images",
    "check_probability",
    "check_same_dim",
    "is_torch",
]


def is_torch(x) -> bool:
    """True for a torch tensor (checked without importing torch)."""
    return type(x).__module__.startswith("torch")


def check_choice(value, *, name: str, choices):
    """``value`` if it is one of ``choices``, else a ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return value


def check_uint8_images(x, *, name: str = "images", channels=None, keep_torch: bool = False):
    """A ``uint8`` ``N x C x H x W`` numpy array (torch tensors are moved to the CPU
    unless ``keep_torch``).

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
    name : str
        The argument's name, for the messages.
    channels : int or tuple of int, optional
        Allowed channel counts (e.g. ``3`` or ``(1, 3)``).
    keep_torch : bool
        Return a torch tensor as it is (on its own device) instead of a numpy
        copy on the CPU; for code that runs the images through a network.

    Raises
    ------
    TypeError
        For another dtype: convert with ``gm.load_images(x, value_range=...)``.
    ValueError
        For another rank or channel count, or images with no pixels.
    """
    torch_in = is_torch(x) and hasattr(x, "dtype")
    if not torch_in and not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a uint8 N x C x H x W array, got {type(x).__name__}; "
            "load images with gm.load_images(...)"
        )
    if (str(x.dtype) != "torch.uint8") if torch_in else (x.dtype != np.uint8):
        raise TypeError(
            f"{name} must be uint8 N x C x H x W, got dtype {x.dtype}; convert with "
            f"gm.load_images({name}, value_range=...) (floats must declare their range)"
        )
    shape = tuple(x.shape)
    if len(shape) != 4:
        raise ValueError(f"{name} must be N x C x H x W (4-D), got shape {shape}")
    if min(shape[2:]) < 1:
        raise ValueError(f"{name} are {shape[2]} x {shape[3]} pixels; images need at least 1 x 1")
    if channels is not None:
        allowed = (channels,) if isinstance(channels, int) else tuple(channels)
        if shape[1] not in allowed:
            hint = "; channels-last arrays go through gm.load_images first" if shape[-1] in allowed else ""
            raise ValueError(
                f"{name} must have {' or '.join(map(str, allowed))} channels (N x C x H x W), "
                f"got shape {shape}{hint}"
            )
    if torch_in and not keep_torch:
        x = x.detach().cpu().numpy()
    return x


def check_int(value, *, name: str, minimum: int | None = None, hint: str = "") -> int:
    """An ``int`` (not a bool, not a float) at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}{hint and '; ' + hint}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}; {hint or f'pass {name}={minimum} or more'}")
    return value


def check_probability(value, *, name: str) -> float:
    """A float strictly between 0 and 1 (a confidence level)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number between 0 and 1, got {value!r}")
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1 (e.g. 0.95), got {value}")
    return value


def as_feature_tensor(x, *, name: str, min_rows: int = 1):
    """Check an ``N x D`` feature array and return it as a torch tensor.

    Numpy arrays are wrapped without copying (``torch.from_numpy``); torch
    tensors are returned as they are (detached), on their own device. Integer
    and half-precision features are upcast to float32; float64 stays float64.

    Raises
    ------
    TypeError
        For images, mappings of several outputs, or other objects.
    ValueError
        For the wrong rank, too few rows, no columns, NaN or Inf.
    """
    import torch

    if isinstance(x, Mapping):
        keys = ", ".join(repr(k) for k in list(x)[:4])
        raise TypeError(
            f"{name} is a mapping of several feature outputs ({keys}); pick one, "
            f"e.g. {name}[{next(iter(x), 'pool')!r}]"
        )
    if hasattr(x, "mu") and hasattr(x, "sigma"):
        raise TypeError(
            f"{name} is a summary (mean and covariance), but this metric needs the "
            "per-sample features (an N x D array); keep the features, not only FeatureStats"
        )
    if is_torch(x):
        t = x.detach()
    elif isinstance(x, np.ndarray) or isinstance(x, (list, tuple)):
        arr = np.asarray(x)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise TypeError(f"{name} must be a numeric N x D array, got dtype {arr.dtype}; convert it with np.asarray({name}, dtype=float)")
        if not arr.flags.writeable:
            # torch cannot wrap read-only memory without a warning; the metrics never
            # write into their inputs, but a copy is the only clean way to wrap it
            arr = np.array(arr)
        elif not arr.flags.c_contiguous and not arr.flags.f_contiguous:
            arr = np.ascontiguousarray(arr)
        if arr.dtype.byteorder not in ("=", "|", "<" if np.little_endian else ">"):
            arr = arr.astype(arr.dtype.newbyteorder("="))
        t = torch.from_numpy(arr)
    else:
        raise TypeError(
            f"{name} must be an N x D numpy array or torch tensor of features, got "
            f"{type(x).__name__}"
        )
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} has dtype {t.dtype}; features must be real numbers")
    if t.ndim != 2:
        extra = ""
        if t.ndim == 4:
            extra = (
                " It looks like a batch of images: extract features first, e.g. "
                "gm.extract_features(images, 'efficientnet-lite0')['pool']"
            )
        elif t.ndim == 1:
            extra = " For a single sample use x[None, :]; for a 1-D feature use x[:, None]."
        raise ValueError(f"{name} must be 2-D (N samples x D features), got shape {tuple(t.shape)}.{extra}")
    n, d = t.shape
    if d == 0:
        raise ValueError(f"{name} has no feature columns (shape {tuple(t.shape)})")
    if n < min_rows:
        raise ValueError(f"{name} has {n} samples; this metric needs at least {min_rows}")
    if not t.is_floating_point():
        t = t.to(torch.float32)
    elif t.dtype in (torch.float16, torch.bfloat16):
        t = t.to(torch.float32)
    # A sum is finite only if every term is (Inf or NaN anywhere makes it Inf or NaN), and a
    # float64 sum costs a fraction of an elementwise isfinite; only a non-finite sum (a bad
    # value, or an overflow of huge finite values) needs the elementwise check.
    if not bool(torch.isfinite(t.sum(dtype=torch.float64))) and not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).any(dim=1).sum())
        raise ValueError(
            f"{name} contains NaN or Inf in {bad} of {n} rows; remove those samples or "
            "fix the extractor (NaN features usually mean NaN images)"
        )
    return t


def check_same_dim(a, b, *, name_a: str, name_b: str) -> int:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} has {a.shape[1]} features per sample but {name_b} has {b.shape[1]}; "
            "both must come from the same extractor output"
        )
    return int(a.shape[1])



def check_classes(classes, n_classes: int, *, name="classes") -> list[int]:
    """``classes`` as a list of distinct class indices in ``0..n_classes - 1`` (``None``: all of them)."""
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
