"""The image contract: every image that enters genmetrics-nb passes through here.

Images inside the package are ``uint8`` arrays shaped ``N x C x H x W``. Float
images are accepted only with a declared ``value_range``; they are converted
to uint8 by *rounding* (``round((x - lo) / (hi - lo) * 255)``). Truncation
(``x.astype(uint8)`` after scaling) is a known source of FID drift between
libraries, so it is never used here.

Folders are read lazily by :class:`ImageFolder` (a ``torch.utils.data``
dataset) so that feature extraction can stream them; :func:`load_images`
reads everything into memory and is meant for small sets and notebooks.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from genmetrics_nb.util.checks import is_torch

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageBatch",
    "ImageFolder",
    "as_uint8",
    "check_value_range",
    "list_image_files",
    "load_images",
    "read_image",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_VALID_RANGES = ((0, 1), (-1, 1), (0, 255))


class ImageBatch(np.ndarray):
    """A ``uint8`` ``N x C x H x W`` array that remembers where it came from.

    Attributes
    ----------
    paths : list of str or None
        The files the rows were read from, in order (folders and path lists).
    skipped : list of (str, str)
        ``(path, reason)`` for every file that ``on_error="skip"`` left out.
    """

    def __new__(cls, array, paths=None, skipped=None):
        obj = np.asarray(array).view(cls)
        obj.paths = paths
        obj.skipped = list(skipped or [])
        return obj

    def __array_finalize__(self, obj):
        if obj is None:
            return
        self.paths = getattr(obj, "paths", None)
        self.skipped = getattr(obj, "skipped", [])


# ----------------------------------------------------------------------------
# validation and conversion of in-memory arrays
# ----------------------------------------------------------------------------
def check_value_range(x, value_range, *, name: str = "images") -> tuple[float, float]:
    """Check that float data lie inside their declared range.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
        Float images.
    value_range : tuple of two numbers
        The range the caller declares, ``(0, 1)``, ``(-1, 1)`` or ``(0, 255)``.
    name : str
        The argument name used in error messages.

    Returns
    -------
    (lo, hi) : tuple of float

    Raises
    ------
    ValueError
        On NaN or Inf, on a malformed range, or on values outside the range.
    TypeError
        If ``value_range`` is missing for float data.
    """
    if value_range is None:
        raise TypeError(
            f"{name} are floating point, so their range must be declared: pass "
            "value_range=(0, 1), (-1, 1) or (0, 255)"
        )
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"value_range must be a pair of numbers such as (0, 1), got {value_range!r}"
        ) from None
    if not hi > lo:
        raise ValueError(f"value_range must satisfy low < high, got {value_range!r}")
    xmin, xmax, finite = _min_max_finite(x)
    if not finite:
        raise ValueError(
            f"{name} contain NaN or Inf; remove or repair those images before computing metrics"
        )
    # A tolerance of one part in 1e6 of the range absorbs float rounding of
    # values that were computed to sit exactly on the boundary.
    tol = 1e-6 * (hi - lo)
    if xmin < lo - tol or xmax > hi + tol:
        hint = ""
        if (lo, hi) == (0.0, 255.0) and xmax <= 1.0 + tol:
            hint = " They look like [0, 1] data: pass value_range=(0, 1)."
        elif (lo, hi) == (0.0, 1.0) and xmax > 1.0 + tol and xmax <= 255.0:
            hint = " They look like [0, 255] data: pass value_range=(0, 255) or uint8."
        elif (lo, hi) == (0.0, 1.0) and xmin < 0 and xmin >= -1.0 - tol:
            hint = " They look like [-1, 1] data: pass value_range=(-1, 1)."
        raise ValueError(
            f"{name} lie in [{xmin:.6g}, {xmax:.6g}], outside the declared "
            f"value_range=({lo:g}, {hi:g}).{hint} Otherwise clip or rescale them first."
        )
    return lo, hi


def _min_max_finite(x):
    if is_torch(x):
        import torch

        finite = bool(torch.isfinite(x).all()) if x.numel() else True
        if not x.numel():
            return 0.0, 0.0, True
        return float(x.min()), float(x.max()), finite
    x = np.asarray(x)
    if not x.size:
        return 0.0, 0.0, True
    finite = bool(np.isfinite(x).all())
    return float(np.nanmin(x)) if finite else 0.0, float(np.nanmax(x)) if finite else 0.0, finite


def as_uint8(x, *, value_range=None, name: str = "images"):
    """Convert images to ``uint8``, rounding float values.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
        ``uint8`` data are returned unchanged; float data need ``value_range``.
    value_range : tuple, optional
        Declared range of float data.
    name : str
        Argument name for error messages.

    Returns
    -------
    numpy.ndarray or torch.Tensor of uint8 (same kind as ``x``).

    Notes
    -----
    Float data map to ``round((x - lo) / (hi - lo) * 255)``; rounding, not
    truncation, so that ``as_uint8(u8 / 255, value_range=(0, 1)) == u8`` exactly.
    """
    if is_torch(x):
        import torch

        if x.dtype == torch.uint8:
            return x
        if x.dtype == torch.bool or not x.is_floating_point():
            raise TypeError(
                f"{name} have dtype {x.dtype}; integer images must be uint8. Convert them "
                "with x.to(torch.uint8) if they are 0..255, or pass floats with value_range"
            )
        lo, hi = check_value_range(x, value_range, name=name)
        y = (x.double() - lo) * (255.0 / (hi - lo))
        return torch.round(y).clamp_(0, 255).to(torch.uint8)
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} have dtype {x.dtype}; integer images must be uint8. Convert them with "
            "x.astype(np.uint8) if they are 0..255, or pass floats with value_range"
        )
    lo, hi = check_value_range(x, value_range, name=name)
    y = (x.astype(np.float64) - lo) * (255.0 / (hi - lo))
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def to_nchw(x, *, name: str):
    """Return a 4-D channels-first view of ``x`` (numpy or torch)."""
    if x.ndim != 4:
        raise ValueError(
            f"{name} must be 4-D (N x C x H x W or N x H x W x C), got shape "
            f"{tuple(x.shape)}; for one image add a batch axis (x[None]), for a "
            "grayscale batch add a channel axis (x[:, None])"
        )
    c_first, c_last = x.shape[1] in (1, 3), x.shape[-1] in (1, 3)
    if c_first:
        return x
    if c_last:
        return x.permute(0, 3, 1, 2) if is_torch(x) else np.transpose(x, (0, 3, 1, 2))
    if x.shape[1] == 4 or x.shape[-1] == 4:
        raise ValueError(
            f"{name} have 4 channels (RGBA?); drop the alpha channel first (x[:, :3])"
        )
    raise ValueError(
        f"{name} have shape {tuple(x.shape)}: no axis of size 1 or 3 for channels; "
        "pass N x C x H x W with C = 1 or 3"
    )


def _expand_channels(x, channels, *, name):
    if channels is None or x.shape[1] == channels:
        return x
    if channels == 3 and x.shape[1] == 1:
        if is_torch(x):
            return x.expand(-1, 3, -1, -1).contiguous()
        return np.repeat(x, 3, axis=1)
    raise ValueError(
        f"{name} have {x.shape[1]} channels and channels={channels} was asked; only "
        "grayscale -> RGB (channels=3) is converted"
    )


# ----------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------
def list_image_files(folder) -> list[str]:
    """Every image file below ``folder``, recursively, in sorted order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"source={str(folder)!r} is not a folder")
    files = sorted(
        str(p)
        for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )
    return files


def read_image(path, *, size=None, channels: int | None = 3) -> np.ndarray:
    """Decode one file into a ``uint8`` ``C x H x W`` array.

    Parameters
    ----------
    path : str or path-like
    size : int or (int, int), optional
        Resize to ``(H, W)`` with PIL's bicubic filter (the resize that
        clean-fid recommends) after decoding.
    channels : {3, 1, None}
        3 decodes as RGB (alpha dropped, grayscale repeated), 1 as luminance,
        None keeps grayscale images grayscale and everything else RGB.

    Notes
    -----
    16-bit images are reduced to 8 bits by rounding ``v / 257``.

    Raises
    ------
    OSError
        If the file cannot be decoded (truncated, empty, not an image).
    """
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(im, dtype=np.float64)
            arr = np.clip(np.rint(arr / 257.0), 0, 255).astype(np.uint8)
            im = Image.fromarray(arr, mode="L")
        if channels == 1:
            im = im.convert("L")
        elif channels == 3 or im.mode not in ("L", "1"):
            im = im.convert("RGB")
        else:
            im = im.convert("L")
        if size is not None:
            h, w = _parse_size(size)
            if im.size != (w, h):
                im = im.resize((w, h), resample=Image.BICUBIC)
        arr = np.asarray(im, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[None]
    else:
        arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
    return arr


def _parse_size(size) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be an int or (height, width), got {size!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return h, w


class ImageFolder:
    """A lazily decoded list of image files, usable as a torch ``Dataset``.

    Parameters
    ----------
    files : sequence of str
        Paths, decoded in this order.
    size : int or (int, int), optional
        Resize target; required when the files have different sizes and are
        batched together.
    channels : {3, 1, None}
        See :func:`read_image`.
    on_error : {"raise", "skip"}
        With "skip", an unreadable file yields ``None`` and is listed in
        :attr:`skipped`; collate with :func:`collate_skip`.
    """

    def __init__(self, files: Sequence[str], *, size=None, channels=3, on_error="raise"):
        _check_on_error(on_error)
        self.files = list(files)
        self.size = size
        self.channels = channels
        self.on_error = on_error

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        path = self.files[i]
        try:
            return read_image(path, size=self.size, channels=self.channels)
        except Exception as exc:  # PIL raises several types for bad files
            if self.on_error == "raise":
                raise ValueError(
                    f"cannot read image {path!r}: {exc}. Remove or repair the file, "
                    "or pass on_error='skip' to leave it out (skipped files are reported)"
                ) from exc
            return (path, f"{type(exc).__name__}: {exc}")


def _check_on_error(on_error):
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")


def load_images(
    source,
    *,
    size=None,
    value_range=None,
    channels: int | None = None,
    on_error: str = "raise",
) -> ImageBatch:
    """Load images into a ``uint8`` ``N x C x H x W`` array.

    Parameters
    ----------
    source : folder, list of paths, numpy.ndarray or torch.Tensor
        A folder is searched recursively for png/jpg/jpeg/bmp/tif/webp files,
        in sorted order. Arrays must be 4-D, channels first or last.
    size : int or (int, int), optional
        Resize every file to this ``(H, W)`` (bicubic). Files of mixed sizes
        need it.
    value_range : tuple, optional
        Required for float arrays: ``(0, 1)``, ``(-1, 1)`` or ``(0, 255)``.
    channels : {None, 1, 3}
        3 expands grayscale to RGB explicitly; files decode as RGB unless
        ``channels=1``.
    on_error : {"raise", "skip"}
        What to do with files that cannot be decoded. "skip" leaves them out,
        warns, and lists them in ``result.skipped``.

    Returns
    -------
    ImageBatch
        ``uint8`` ``N x C x H x W``, a numpy array (a torch tensor stays a
        torch tensor on its device).

    Raises
    ------
    ValueError
        Empty folder, unreadable file, mixed sizes without ``size``, float
        data outside ``value_range``, NaN/Inf, wrong rank.
    TypeError
        Unsupported source type, integer data that are not uint8, float data
        without ``value_range``.

    Examples
    --------
    >>> import numpy as np
    >>> x = load_images(np.full((2, 8, 8, 3), 0.5), value_range=(0, 1))
    >>> x.shape, x.dtype, int(x[0, 0, 0, 0])
    ((2, 3, 8, 8), dtype('uint8'), 128)
    """
    _check_on_error(on_error)
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be None, 1 or 3, got {channels!r}")
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).exists():
            raise ValueError(f"source={str(source)!r} does not exist; pass a folder, files or an array")
        files = list_image_files(source)
        if not files:
            raise ValueError(
                f"source={str(source)!r} holds no image files ({', '.join(IMAGE_EXTENSIONS)})"
            )
        return _load_files(files, size=size, channels=channels, on_error=on_error)
    if isinstance(source, (list, tuple)) and all(isinstance(p, (str, os.PathLike)) for p in source):
        if not source:
            raise ValueError("source is an empty list of paths; pass at least one image file")
        return _load_files([str(p) for p in source], size=size, channels=channels, on_error=on_error)
    if isinstance(source, np.ndarray) or is_torch(source):
        if size is not None:
            raise ValueError(
                "size= resizes files as they are decoded; resize arrays yourself "
                "(resizing is part of each extractor's preprocessing)"
            )
        if source.shape[0] == 0 if source.ndim else True:
            raise ValueError("source holds no images (N = 0)")
        x = to_nchw(source, name="source")
        x = as_uint8(x, value_range=value_range, name="source")
        x = _expand_channels(x, channels, name="source")
        if is_torch(x):
            return x
        return ImageBatch(np.ascontiguousarray(x))
    raise TypeError(
        f"source of type {type(source).__name__} is not supported; pass a folder, a list "
        "of paths, a numpy array or a torch tensor"
    )


def _load_files(files, *, size, channels, on_error) -> ImageBatch:
    from tqdm.auto import tqdm

    dec_channels = 1 if channels == 1 else 3
    ds = ImageFolder(files, size=size, channels=dec_channels, on_error=on_error)
    arrays, kept, skipped = [], [], []
    for i in tqdm(range(len(ds)), desc="reading images", unit="img", disable=len(ds) < 200):
        item = ds[i]
        if isinstance(item, tuple):
            skipped.append(item)
            continue
        arrays.append(item)
        kept.append(files[i])
    if skipped:
        listing = "\n".join(f"  {p}: {why}" for p, why in skipped)
        warnings.warn(f"skipped {len(skipped)} unreadable file(s):\n{listing}", stacklevel=3)
    if not arrays:
        raise ValueError(
            f"none of the {len(files)} files could be read; first error: {skipped[0][1]}"
        )
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        ex = sorted(shapes)[:2]
        raise ValueError(
            f"images have different sizes (for example {ex[0][1:]} and {ex[1][1:]}); "
            "pass size=(H, W) to resize them as they are read"
        )
    return ImageBatch(np.stack(arrays), paths=kept, skipped=skipped)


def iter_batches(n: int, batch_size: int) -> Iterable[slice]:
    """Slices ``[0:b], [b:2b], ...`` covering ``range(n)``."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))
