"""The image contract: every image that enters genmetrics-nb passes through here.

Images inside the package are ``uint8`` arrays shaped ``N x C x H x W``. Float
images are accepted only with a declared ``value_range``; they are converted
to uint8 by *rounding* (``round((x - lo) / (hi - lo) * 255)``). Truncation
(``x.astype(uint8)`` after scaling) is a known source of FID drift between
libraries, so it is never used here.

Files are decoded to ``uint8`` by the rules tabled in :func:`read_image`
(16-bit: ``round(v / 257)``; float TIFFs in ``[0, 1]``: ``round(v * 255)``;
anything without an agreed mapping raises with the file's name).

Folders are read lazily by :class:`ImageFolder` (a ``torch.utils.data``
dataset) so that feature extraction can stream them; :func:`genmetrics_nb.sources.load_images`
reads everything into memory and is meant for small sets and notebooks.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from genmetrics_nb.util.checks import is_torch

__all__ = [
    "DECODING_VERSION",
    "IMAGE_EXTENSIONS",
    "ImageBatch",
    "ImageFolder",
    "NARROW_LEVELS",
    "as_uint8",
    "check_allow_narrow",
    "check_data_range",
    "check_image_size",
    "check_narrow_range",
    "check_value_range",
    "narrow_range_problem",
    "list_image_files",
    "expand_channels",
    "read_all",
    "read_image",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: Version of the file-decoding rules of :func:`read_image` (16-bit rounding, float
#: TIFFs, palettes, ...). It is part of every feature-cache key, so features cached
#: under older rules are recomputed rather than served.
DECODING_VERSION = 2
_VALID_RANGES = ((0, 1), (-1, 1), (0, 255))
#: The range guard (:func:`narrow_range_problem`): float data whose values all lie
#: within ``NARROW_LEVELS / 255`` of their declared span above its low end would
#: round to uint8 levels 0 and 1 only -- an image with no visible content. That is
#: what [0, 1] data declared as (0, 255) always look like.
NARROW_LEVELS = 1.5
#: What the range guard's messages tell a caller who offers ``allow_narrow``.
_ASSERT_NARROW = "pass allow_narrow=True"


class ImageBatch(np.ndarray):
    """A ``uint8`` ``N x C x H x W`` array that remembers where it came from.

    Attributes
    ----------
    paths : list of str or None
        The file each row was read from (one entry per row, in order), or
        None when the rows are not files or can no longer be traced.
    skipped : list of (str, str)
        ``(path, reason)`` for every file that ``on_error="skip"`` left out.

    Notes
    -----
    ``paths`` follows the rows through indexing whose first index selects
    rows: an int array, a slice, a list of ints or a 1-D boolean mask, with
    any basic indices (ints, slices, ``...``) after it. ``x[:2].paths`` is
    the first two paths, ``x[mask].paths`` those where ``mask`` is True,
    ``x[1:3, :, :8].paths`` two paths (the rows are cropped, not changed).
    ``skipped`` is kept along with it.

    Everything else returns an ``ImageBatch`` whose ``paths`` is None and
    ``skipped`` empty: ``x[0]`` (one image: its first axis is channels),
    ``x[None]``, arithmetic, ``astype``, ``reshape``, ``transpose``,
    ``np.sort(x, axis=0)`` and ``np.concatenate``. Such results would
    otherwise keep paths that no longer match their rows. ``x.copy()`` and
    pickling keep them. The rule: ``paths`` is None or has one entry per row,
    in the rows' order. Reordering rows in place through assignment
    (``x[:] = x[::-1]``, ``rng.shuffle(x)``) cannot be seen: select instead
    (``x = x[rng.permutation(len(x))]``).
    """

    def __new__(cls, array, paths=None, skipped=None):
        obj = np.asarray(array).view(cls)
        if paths is not None:
            paths = list(paths)
            if obj.ndim == 0 or len(paths) != obj.shape[0]:
                raise ValueError(
                    f"paths must have one entry per image: got {len(paths)} paths for an "
                    f"array of shape {obj.shape}; pass paths=None if the rows are not files"
                )
        obj.paths = paths
        obj.skipped = list(skipped or [])
        return obj

    def __array_finalize__(self, obj):
        # Every new array (view, ufunc result, copy) starts without paths;
        # __getitem__ and copy() put them back where the rows are known.
        self.paths = None
        self.skipped = []

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, ImageBatch):
            rows = _selected_rows(key, self.shape)
            if rows is not None:
                out.paths = None if self.paths is None else [self.paths[i] for i in rows]
                out.skipped = list(self.skipped)
        return out

    def copy(self, order="C"):
        out = super().copy(order=order)
        out.paths = None if self.paths is None else list(self.paths)
        out.skipped = list(self.skipped)
        return out

    def sort(self, axis=-1, kind=None, order=None, **kw):
        super().sort(axis=axis, kind=kind, order=order, **kw)
        if self.ndim and axis % self.ndim == 0:  # rows shuffled element by element
            self.paths, self.skipped = None, []

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        super().partition(kth, axis=axis, kind=kind, order=order)
        if self.ndim and axis % self.ndim == 0:
            self.paths, self.skipped = None, []

    def __copy__(self):
        return self.copy(order="K")

    def __deepcopy__(self, memo):
        return self.copy(order="K")

    def __reduce__(self):
        rebuild, args, state = super().__reduce__()
        return rebuild, args, (state, self.paths, self.skipped)

    def __setstate__(self, state):
        state, self.paths, self.skipped = state
        super().__setstate__(state)


def _is_int(k) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _selected_rows(key, shape):
    """Rows of ``shape`` that ``x[key]``'s first axis holds, or None if untraceable."""
    if not shape:
        return None
    key = key if isinstance(key, tuple) else (key,)
    if not key:
        return range(shape[0])
    first, rest = key[0], key[1:]
    if not all(k is Ellipsis or isinstance(k, slice) or _is_int(k) for k in rest):
        return None  # arrays or new axes after the first index can move or mix the rows
    if first is Ellipsis:
        used = sum(1 for k in rest if k is not Ellipsis)
        return range(shape[0]) if used < len(shape) else _selected_rows(rest, shape)
    if isinstance(first, slice):
        return range(shape[0])[first]
    if first is None or _is_int(first) or isinstance(first, (bool, np.bool_)):
        return None  # a new axis, or one image whose first axis is channels
    try:
        sel = np.asarray(first)
    except Exception:  # pragma: no cover - numpy has already accepted the key
        return None
    if sel.ndim != 1:
        return None
    if sel.size == 0:
        return []
    if sel.dtype == bool:
        return np.flatnonzero(sel).tolist() if sel.shape[0] == shape[0] else None
    if np.issubdtype(sel.dtype, np.integer):
        return np.arange(shape[0])[sel].tolist()
    return None


# ----------------------------------------------------------------------------
# validation and conversion of in-memory arrays
# ----------------------------------------------------------------------------
def check_allow_narrow(allow_narrow) -> bool:
    """``allow_narrow`` if it is a bool, else a TypeError that says what it is for."""
    if not isinstance(allow_narrow, bool):
        raise TypeError(
            f"allow_narrow must be True or False, got {allow_narrow!r}; True asserts that float "
            "images far narrower than their declared range are meant to be so"
        )
    return allow_narrow


def narrow_range_problem(xmin: float, xmax: float, value_range) -> str | None:
    """Why float data observed in ``[xmin, xmax]`` look mis-declared as ``value_range``.

    The range guard. Data inside their declared range can still be declared
    wrongly: ``[0, 1]`` data declared as ``(0, 255)`` or as ``(-1, 1)`` pass a
    plain range check and give a plausible but wrong number (an almost black
    image, or a washed-out grey one). Two rules catch those confusions:

    1. **Scale** (the ``/ 255`` confusion): every value lies within
       :data:`NARROW_LEVELS` ``/ 255`` (1.5 / 255) of the declared span above
       its low end, and some value lies above the low end. Converted to uint8
       such data round to levels 0 and 1 only: no visible content is left.
       ``[0, 1]`` data declared as ``(0, 255)`` always match; a dark but real
       image does not (one at 0..40 of 255 uses 40 levels); an image that is
       exactly at the low end everywhere (all black) is the same image under
       either reading and is let through.
    2. **Sign** (the ``[0, 1]`` vs ``[-1, 1]`` confusion): the declared range
       has a negative low end and a positive high end, yet no value lies
       below zero by more than half a uint8 level (``0.5 / 255`` of the span).
       ``[0, 1]`` data declared as ``(-1, 1)`` always match. So does a batch
       of genuine ``[-1, 1]`` images with no pixel darker than mid-grey --
       rare for natural images, where some shadow is almost always present,
       but possible for one very bright image; that is what ``allow_narrow``
       is for.

    Parameters
    ----------
    xmin, xmax : float
        The smallest and largest value observed.
    value_range : tuple of two floats
        The declared ``(lo, hi)``.

    Returns
    -------
    str or None
        A sentence for an error message (what the data look like and which
        range to declare), or None when neither rule applies.

    Notes
    -----
    Both rules can only refuse: they never change a number. A refusal is
    lifted by declaring the right range or, where the data really are that
    narrow, by ``allow_narrow=True`` (:func:`genmetrics_nb.sources.load_images`,
    :func:`genmetrics_nb.extract_features`, PSNR/SSIM/MS-SSIM, LPIPS,
    :func:`genmetrics_nb.sources.generated`). Streamed sources (array files,
    generators) are checked batch by batch.

    References
    ----------
    .. [1] R. Zhang et al., LPIPS reference code, https://github.com/richzhang/PerceptualSimilarity
       (``lpips.LPIPS`` expects [-1, 1] input, or ``normalize=True`` for
       [0, 1]): the confusion rule 2 catches.
    .. [2] G. Parmar, R. Zhang, J.-Y. Zhu, "On Aliased Resizing and Surprising
       Subtleties in GAN Evaluation", CVPR 2022 (clean-fid): how such
       preprocessing slips move FID.
    """
    rule = _narrow_rule(xmin, xmax, *(float(v) for v in value_range))
    return None if rule is None else rule[1]


def _narrow_rule(xmin, xmax, lo, hi):
    """``(1 or 2, sentence)`` for the rule of :func:`narrow_range_problem` that applies, or None."""
    level = (hi - lo) / 255.0
    if lo < 0.0 < hi and xmin >= -0.5 * level:
        return 2, (
            f"with no value below 0, but value_range=({lo:g}, {hi:g}) was declared: read that way "
            f"every pixel is at least mid-grey. They look like [0, {hi:g}] data: declare "
            f"value_range=(0, {hi:g})"
        )
    if xmax > lo and xmax - lo <= NARROW_LEVELS * level:
        looks = (" They look like [0, 1] data: declare value_range=(0, 1)"
                 if lo == 0.0 and xmax <= 1.0 + 1e-6 and hi > 1.0 else
                 " Declare the range the data really have")
        return 1, (
            f"within the lowest {NARROW_LEVELS:g}/255 of the declared value_range=({lo:g}, {hi:g}): "
            f"converted to uint8 every pixel would be 0 or 1, an almost black image.{looks}"
        )
    return None


def check_narrow_range(xmin: float, xmax: float, value_range, *, what: str, allow_narrow: bool = False,
                       hint: str | None = None) -> None:
    """Raise the range guard's ValueError for data observed in ``[xmin, xmax]``.

    Parameters
    ----------
    xmin, xmax : float
        The extremes observed.
    value_range : tuple of two floats
        The declared ``(lo, hi)``.
    what : str
        The start of the message: the data and where they lie
        (``"x lie in [0.01, 0.98]"``).
    allow_narrow : bool
        True: nothing is checked.
    hint : str, optional
        How to lift the guard (default "pass allow_narrow=True").

    Raises
    ------
    ValueError
        When a rule of :func:`narrow_range_problem` applies.
    """
    if allow_narrow:
        return
    lo, hi = (float(v) for v in value_range)
    rule = _narrow_rule(xmin, xmax, lo, hi)
    if rule is None:
        return
    number, sentence = rule
    really = "this dark" if number == 1 else f"({lo:g}, {hi:g}) images with no pixel darker than mid-grey"
    raise ValueError(f"{what}{',' if number == 1 else ''} {sentence}. If they really are {really}, "
                     f"{hint or _ASSERT_NARROW}.")


def check_data_range(xmin: float, xmax: float, data_range: float, *, names: str = "x and y",
                     allow_narrow: bool = False) -> None:
    """The range guard for a declared *width* (PSNR/SSIM ``data_range``).

    ``data_range`` declares only the width the images can take, not where
    it starts, so rule 1 of :func:`narrow_range_problem` is measured from the
    data's own minimum, and must cover both float conventions: float images
    whose values all lie within ``2 * NARROW_LEVELS / 255`` (3/255) of
    ``data_range`` of each other, and are not all equal, are refused. Both
    ``[0, 1]`` images (width 1) and ``[-1, 1]`` images (width 2) with
    ``data_range=255`` always are (the first is the issue's example: PSNR
    74.6 dB where 26.5 dB is right). A real image, even a dark one, spans
    far more than 3 of 255 levels; a nearly flat pair of images is refused
    too, and ``allow_narrow=True`` lets it through. The sign confusion cannot
    be seen here: ``[0, 1]`` images with ``data_range=2`` span half the range,
    as a low-contrast ``[-1, 1]`` image may.

    Parameters
    ----------
    xmin, xmax : float
        The extremes of both image batches together.
    data_range : float
        The declared width.
    names : str
        What messages call the images.
    allow_narrow : bool
        True skips the check (the images really vary that little).

    Raises
    ------
    ValueError
        Naming the observed span, the declared one, and both fixes.
    """
    if allow_narrow:
        return
    span = xmax - xmin
    levels = 2 * NARROW_LEVELS
    if 0.0 < span <= levels * data_range / 255.0:
        guess = ""
        if xmin >= 0.0 and xmax <= 1.0 + 1e-6 and data_range > 1.0:
            guess = " They look like [0, 1] data: pass data_range=1.0."
        elif xmin >= -1.0 - 1e-6 and xmax <= 1.0 + 1e-6 and data_range > 2.0:
            guess = " They look like [-1, 1] data: pass data_range=2.0."
        raise ValueError(
            f"{names} span [{xmin:.6g}, {xmax:.6g}], within {levels:g}/255 of "
            f"data_range={data_range:g}: measured against that range they hardly differ, and "
            f"PSNR/SSIM would come out far too good.{guess} data_range is the full range the "
            "images can take (255 for uint8, 1.0 for [0, 1] floats, 2.0 for [-1, 1]). If the "
            "images really vary this little, pass allow_narrow=True."
        )


def check_value_range(x, value_range, *, name: str = "images", allow_narrow: bool = False,
                      narrow_hint: str | None = None) -> tuple[float, float]:
    """Check that float data lie inside their declared range, and do not look mis-declared.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
        Float images.
    value_range : tuple of two numbers
        The range the caller declares, ``(0, 1)``, ``(-1, 1)`` or ``(0, 255)``.
    name : str
        The argument name used in error messages.
    allow_narrow : bool
        True lifts the range guard (:func:`narrow_range_problem`): the data
        are meant to be that narrow (a black frame, a very bright image).
    narrow_hint : str, optional
        How the caller's user lifts the guard, for the message (default:
        "pass allow_narrow=True").

    Returns
    -------
    (lo, hi) : tuple of float

    Raises
    ------
    ValueError
        On NaN or Inf, on a malformed range, on values outside the range, or
        on data the range guard refuses (naming the observed and the declared
        range, the range to declare, and ``allow_narrow``).
    TypeError
        If ``value_range`` is missing for float data, or ``allow_narrow`` is
        not a bool.
    """
    check_allow_narrow(allow_narrow)
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
    if _size(x):  # an empty array has no range to judge
        check_narrow_range(xmin, xmax, (lo, hi), what=f"{name} lie in [{xmin:.6g}, {xmax:.6g}]",
                           allow_narrow=allow_narrow, hint=narrow_hint)
    return lo, hi


def _size(x) -> int:
    return int(x.numel()) if is_torch(x) else int(np.asarray(x).size)


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


def as_uint8(x, *, value_range=None, name: str = "images", allow_narrow: bool = False,
             narrow_hint: str | None = None):
    """Convert images to ``uint8``, rounding float values.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor
        ``uint8`` data are returned unchanged; float data need ``value_range``.
    value_range : tuple, optional
        Declared range of float data.
    name : str
        Argument name for error messages.
    allow_narrow, narrow_hint
        The range guard, as in :func:`check_value_range`.

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
        lo, hi = check_value_range(x, value_range, name=name, allow_narrow=allow_narrow,
                                   narrow_hint=narrow_hint)
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
    lo, hi = check_value_range(x, value_range, name=name, allow_narrow=allow_narrow,
                               narrow_hint=narrow_hint)
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
        return check_image_size(x, name=name)
    if c_last:
        x = x.permute(0, 3, 1, 2) if is_torch(x) else np.transpose(x, (0, 3, 1, 2))
        return check_image_size(x, name=name)
    if x.shape[1] == 4 or x.shape[-1] == 4:
        raise ValueError(
            f"{name} have 4 channels (RGBA?); drop the alpha channel first (x[:, :3])"
        )
    raise ValueError(
        f"{name} have shape {tuple(x.shape)}: no axis of size 1 or 3 for channels; "
        "pass N x C x H x W with C = 1 or 3"
    )


def check_image_size(x, *, name: str, minimum: int = 1, why: str = "", fix: str = ""):
    """``x`` (``N x C x H x W``) if its images are at least ``minimum`` pixels on each side.

    Parameters
    ----------
    x : array or tensor
    name : str
        The argument's name, for the message.
    minimum : int
        The smallest side accepted (1: an image with no pixels is never one).
    why, fix : str
        What needs that size and how to get there, for the message.

    Raises
    ------
    ValueError
        Naming the size found and the minimum.
    """
    h, w = int(x.shape[-2]), int(x.shape[-1])
    if min(h, w) < minimum:
        raise ValueError(
            f"{name} are {h} x {w} pixels; {why or 'images need'} at least {minimum} x {minimum}"
            f"{'; ' + fix if fix else ''}"
        )
    return x


def expand_channels(x, channels, *, name):
    """Grayscale ``N x 1 x H x W`` as RGB when ``channels=3`` (``None``: as they are)."""
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


def read_image(path, *, size=None, channels: int | None = 3, name: str | None = None) -> np.ndarray:
    """Decode one file into a ``uint8`` ``C x H x W`` array.

    Parameters
    ----------
    path : str, path-like or bytes
        A file, or the encoded bytes of one (a member read from an archive).
    size : int or (int, int), optional
        Resize to ``(H, W)`` with PIL's bicubic filter (the resize that
        clean-fid recommends) after decoding.
    channels : {3, 1, None}
        3 decodes as RGB (alpha dropped, grayscale repeated), 1 as luminance,
        None keeps grayscale images grayscale and everything else RGB.
    name : str, optional
        What messages call the image (default: the path; ``"<bytes>"`` for bytes).

    Returns
    -------
    numpy.ndarray
        ``uint8`` ``C x H x W``.

    Raises
    ------
    OSError
        If the file cannot be decoded (truncated, empty, not an image).
    ValueError
        If its samples have no documented mapping to ``0..255`` (32-bit or
        signed integers; floats outside ``[0, 1]``, NaN or Inf). The message
        names the file and says how to convert it.

    Notes
    -----
    Files are decoded by Pillow, and by OpenCV (``IMREAD_UNCHANGED``) where
    Pillow would lose bits: 16-bit colour PNGs and TIFFs, which Pillow reduces
    to their high byte, and float TIFFs with several channels or 64 bits,
    which Pillow cannot open. Samples then become ``uint8`` as follows.

    =============================  ==============================================
    File                           Conversion
    =============================  ==============================================
    8-bit (L, RGB, P, ...)         as stored
    16-bit integer (PNG, TIFF)     ``round(v / 257)``, every channel
    32-bit or signed integer TIFF  ValueError naming the file: no agreed range
    float TIFF in ``[0, 1]``       ``round(v * 255)``
    float TIFF outside ``[0, 1]``  ValueError naming the file and its range
    palette (P) PNG/GIF            expanded to RGB through the palette
    LA, RGBA, palette + alpha      alpha dropped, not composited
    CMYK JPEG/TIFF                 Pillow's CMYK -> RGB, ``(255 - C)(255 - K)/255``
                                   per channel, no ICC colour management
    several frames (GIF, APNG,     the first frame, with a warning naming the file
    WebP, multi-page TIFF)
    JPEG with MPF pictures         the primary (first) picture, no warning: phones
                                   store depth and gain maps there
    EXIF orientation               ignored: pixels as stored
    =============================  ==============================================

    32-bit integer samples are refused because no convention exists: Pillow
    clips them to ``0..255`` when converting, other tools divide by the type's
    maximum or by the image's own maximum, and the TIFF tag that could say
    (MaxSampleValue) is rarely written. Any choice would give a plausible
    wrong number for someone.

    The EXIF orientation tag is not applied, as in pytorch-fid, clean-fid and
    torch-fidelity, which all read files with ``Image.open(path).convert("RGB")``:
    features then match theirs. A photograph shot in portrait whose pixels
    are stored in landscape is read in landscape; apply
    ``PIL.ImageOps.exif_transpose`` when writing the files if that matters.
    Peers truncate 16-bit colour files to their high byte (Pillow's decoding)
    and read float TIFFs as black; the rounding above differs from them by at
    most one level on such files.
    """
    from PIL import Image

    if isinstance(path, (bytes, bytearray, memoryview)):
        src, name = io.BytesIO(path), name or "<bytes>"
    else:
        src, name = path, name or os.fspath(path)
    with _open_first_frame(src, name) as im:
        if im.mode in ("P", "PA") and "transparency" in im.info:
            # the same colours as convert("RGB"), without Pillow's warning about
            # palette alpha; the alpha is then dropped as for RGBA files
            im = im.convert("RGBA")
        if channels == 1:
            im = im.convert("L")
        elif channels == 3 or im.mode not in ("1", "L", "LA", "La"):
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


# Pillow modes whose samples are 8 bits or fewer; Pillow converts these to RGB
# and L itself. Its integer and float modes ("I;16", "I", "F") are converted here.
_PIL_8BIT_MODES = frozenset(
    {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}
)


def _open_first_frame(src, name):
    """The first frame of ``src`` (a path or an ``io.BytesIO``) as a loaded Pillow image
    with 8-bit samples; ``name`` names it in messages."""
    from PIL import Image, UnidentifiedImageError

    try:
        im = Image.open(src)
    except UnidentifiedImageError:
        if not name.lower().endswith((".tif", ".tiff")):
            raise
        # Pillow opens neither float TIFFs with several channels nor 64-bit ones.
        _warn_frames(name, _opencv_page_count(src))
        return _image_from_samples(_read_with_opencv(src, name), name)
    with im:
        if im.format != "MPO":  # a JPEG's extra MPF pictures (depth, gain maps) are not frames
            _warn_frames(name, getattr(im, "n_frames", 1))
        if im.mode in _PIL_8BIT_MODES:
            if not _has_deep_samples(im, src, name):
                im.load()
                return im
            samples = _read_with_opencv(src, name)  # Pillow would keep the high byte only
        else:
            im.load()
            samples = np.asarray(im)
            if im.mode == "I":
                samples = _pillow_int32(im, samples, name)
    return _image_from_samples(samples, name)


def _warn_frames(name, n_frames):
    if n_frames > 1:
        warnings.warn(
            f"{name} holds {n_frames} frames; only the first is used (genmetrics-nb reads "
            "one image per file: split animations into files to use every frame)",
            UserWarning,
            stacklevel=4,
        )


def _as_tuple(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


def _has_deep_samples(im, src, name) -> bool:
    """True for a PNG or TIFF with > 8-bit samples that Pillow opened in an 8-bit mode."""
    if im.format == "PNG":
        head = _head(src, 26)  # signature, IHDR length and type, width, height, bit depth
        return len(head) == 26 and head[24] > 8
    if im.format == "TIFF":
        if max(_as_tuple(im.tag_v2.get(258, 1))) <= 8:
            return False
        if im.tag_v2.get(262) not in (1, 2):  # only min-is-black gray and RGB are read deep
            raise ValueError(
                f"image file {name!r} has more than 8 bits per sample in a "
                f"{im.mode} TIFF; convert it to 8-bit, or to 16-bit RGB or grayscale"
            )
        return True
    return False


def _pillow_int32(im, samples, name):
    """Samples of Pillow's 32-bit integer mode "I": 16-bit gray PNG, or refused."""
    if im.format == "PNG":  # Pillow before 10 opened 16-bit grayscale PNGs as "I"
        return samples.astype(np.uint16)
    bits, signed = 32, True
    if im.format == "TIFF":
        bits = max(_as_tuple(im.tag_v2.get(258, 32)))
        signed = _as_tuple(im.tag_v2.get(339, 1))[0] == 2
    _refuse_integers(name, bits, signed)


def _refuse_integers(name, bits, signed):
    raise ValueError(
        f"image file {name!r} holds {bits}-bit integer samples ({'signed' if signed else 'unsigned'}), "
        "which have no agreed mapping to 0..255 (Pillow clips them, other tools divide by the "
        "type's or the image's maximum); convert the file to 8- or 16-bit unsigned integers, "
        "or to float in [0, 1]"
    )


def _head(src, n: int) -> bytes:
    """The first ``n`` bytes of a file or of an ``io.BytesIO``."""
    if isinstance(src, io.BytesIO):
        return src.getvalue()[:n]
    with open(src, "rb") as f:
        return f.read(n)


def _encoded_bytes(src) -> np.ndarray:
    """The encoded file as a uint8 array: read from disk, or the bytes of an ``io.BytesIO``."""
    if isinstance(src, io.BytesIO):
        return np.frombuffer(src.getvalue(), dtype=np.uint8)
    return np.fromfile(src, dtype=np.uint8)


def _read_with_opencv(src, name):
    """All samples of ``src`` at full depth, RGB(A) order, EXIF orientation ignored."""
    import cv2

    arr = cv2.imdecode(_encoded_bytes(src), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise OSError(f"cannot decode {name!r}: neither Pillow nor OpenCV reads this file")
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        arr = arr[..., [2, 1, 0, 3][: arr.shape[2]]]  # OpenCV's BGR(A) -> RGB(A)
    return arr


def _opencv_page_count(src) -> int:
    if isinstance(src, io.BytesIO):
        return 1  # cv2.imcount reads files only; an archive member's extra pages go unreported
    import cv2

    try:
        return int(cv2.imcount(src))
    except Exception:  # an OpenCV without imcount, or a path it cannot open
        return 1


def _image_from_samples(samples, name):
    """An 8-bit Pillow image from decoded samples, converted as in :func:`read_image`."""
    from PIL import Image

    a = np.asarray(samples)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise ValueError(
            f"image file {name!r} decodes to shape {a.shape}; expected H x W with 1 to 4 "
            "channels: convert it to gray, RGB or RGBA"
        )
    if a.dtype.kind == "u" and a.itemsize == 1:
        out = a
    elif a.dtype.kind == "u" and a.itemsize == 2:
        out = np.rint(a.astype(np.float64) / 257.0).astype(np.uint8)
    elif a.dtype.kind == "f":
        out = _unit_float_to_uint8(a, name)
    elif a.dtype.kind in "ui":
        _refuse_integers(name, 8 * a.itemsize, a.dtype.kind == "i")
    else:
        raise ValueError(f"image file {name!r} holds {a.dtype} samples; convert it to 8-bit")
    return Image.fromarray(np.ascontiguousarray(out))


def _unit_float_to_uint8(a, name):
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"image file {name!r} holds NaN or Inf samples; repair or remove the file")
    lo, hi = float(a.min()), float(a.max())
    tol = 1e-6  # as check_value_range: values computed to sit on 0 or 1
    if lo < -tol or hi > 1 + tol:
        hint = ""
        if lo >= -tol and hi <= 255 + tol:
            hint = " They look like 0..255 data: divide them by 255."
        raise ValueError(
            f"image file {name!r} holds floating-point samples in [{lo:.6g}, {hi:.6g}]; float "
            f"files must lie in [0, 1] (read as round(v * 255)).{hint} Rescale the file to "
            "[0, 1], or save it as 8- or 16-bit integers"
        )
    return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)


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


def read_all(dataset, *, names=None) -> ImageBatch:
    """Decode every image of a lazily decoded set into one ``uint8`` :class:`ImageBatch`.

    Parameters
    ----------
    dataset : ImageFolder or alike
        ``len(dataset)`` items, each a ``uint8`` ``C x H x W`` array or, for a
        file that ``on_error="skip"`` leaves out, a ``(name, reason)`` tuple
        (:class:`ImageFolder`, :class:`genmetrics_nb.image_sets.ArchiveImages`).
    names : sequence of str, optional
        What each item is called in ``.paths`` (default: ``dataset.files``).

    Raises
    ------
    ValueError
        When no item could be read, or the images have different sizes (the
        fix: build the set with ``size=(H, W)``).
    """
    from tqdm.auto import tqdm

    names = list(getattr(dataset, "files", None) or []) if names is None else list(names)
    arrays, kept, skipped = [], [], []
    for i in tqdm(range(len(dataset)), desc="reading images", unit="img", disable=len(dataset) < 200):
        item = dataset[i]
        if isinstance(item, tuple):
            skipped.append(item)
            continue
        arrays.append(item)
        kept.append(names[i] if names else None)
    if skipped:
        listing = "\n".join(f"  {p}: {why}" for p, why in skipped)
        warnings.warn(f"skipped {len(skipped)} unreadable file(s):\n{listing}", stacklevel=4)
    if not arrays:
        raise ValueError(
            f"none of the {len(dataset)} files could be read; first error: {skipped[0][1]}"
        )
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        ex = sorted(shapes)[:2]
        raise ValueError(
            f"images have different sizes (for example {ex[0][1:]} and {ex[1][1:]}); "
            "pass size=(H, W) to resize them as they are read"
        )
    return ImageBatch(np.stack(arrays), paths=kept if names else None, skipped=skipped)


def iter_batches(n: int, batch_size: int) -> Iterable[slice]:
    """Slices ``[0:b], [b:2b], ...`` covering ``range(n)``."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))
