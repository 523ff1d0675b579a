"""Any image source read into memory: :func:`load_images`."""
from __future__ import annotations

from genmetrics_nb.util.checks import is_torch

__all__ = ["load_images"]


def load_images(source, *, size=None, value_range=None, channels: int | None = None, on_error: str = "raise",
                allow_narrow: bool = False):
    """Load images into a ``uint8`` ``N x C x H x W`` array.

    Parameters
    ----------
    source : image source
        Anything :func:`genmetrics_nb.sources.resolve` takes as images: a
        folder (searched recursively for png/jpg/jpeg/bmp/tif/tiff/webp files,
        in sorted order; other files, GIFs included, are not read: pass them
        as a list), a list of files, an archive, an ``.npy``/``.npz`` file of
        images, a dataset name, ``generated(...)``, or a 4-D array or tensor
        (channels first or last).
    size : int or (int, int), optional
        Resize every file to this ``(H, W)`` (bicubic) as it is decoded.
        Files of mixed sizes need it.
    value_range : tuple, optional
        Required for float arrays: ``(0, 1)``, ``(-1, 1)`` or ``(0, 255)``.
    channels : {None, 1, 3}
        3 expands grayscale to RGB explicitly; files decode as RGB unless
        ``channels=1``.
    on_error : {"raise", "skip"}
        What to do with files that cannot be decoded. "skip" leaves them out,
        warns, and lists them in ``result.skipped``.
    allow_narrow : bool
        Lift the range guard for float arrays: by default floats that look
        mis-declared are refused (all values within 1.5/255 of the range above
        its low end, e.g. [0, 1] data declared ``(0, 255)``; or no negative
        value under a signed range, e.g. [0, 1] data declared ``(-1, 1)``; see
        :func:`genmetrics_nb.images.narrow_range_problem`). True says such data
        are meant.

    Returns
    -------
    ImageBatch
        ``uint8`` ``N x C x H x W``, a numpy array (a torch tensor stays a
        torch tensor on its device). For files, ``.paths`` names each row's
        file and follows row selections (``x[:2].paths``, ``x[mask].paths``);
        see :class:`~genmetrics_nb.images.ImageBatch`.

    Raises
    ------
    ValueError
        Empty folder, unreadable file, mixed sizes without ``size``, float
        data outside ``value_range`` or refused by the range guard, NaN/Inf,
        wrong rank, images with no pixels; a file whose samples have no
        documented 8-bit mapping (32-bit integer TIFF, float TIFF outside
        ``[0, 1]``), named in the message.
    TypeError
        Unsupported source type, statistics or features, integer data that
        are not uint8, float data without ``value_range``; ``allow_narrow``
        not a bool.

    Notes
    -----
    Files decode as in :func:`genmetrics_nb.images.read_image`: 16-bit
    samples become ``round(v / 257)``, float TIFFs in ``[0, 1]``
    ``round(v * 255)``, palettes are expanded, alpha is dropped, CMYK goes
    through Pillow's conversion, animations give their first frame (with a
    warning), and the EXIF orientation is not applied (as in pytorch-fid and
    clean-fid).

    Examples
    --------
    >>> import numpy as np
    >>> x = load_images(np.full((2, 8, 8, 3), 0.5), value_range=(0, 1))
    >>> x.shape, x.dtype, int(x[0, 0, 0, 0])
    ((2, 3, 8, 8), dtype('uint8'), 128)
    """
    from genmetrics_nb.images import ImageBatch, ImageFolder, expand_channels, read_all
    from genmetrics_nb.sources.resolver import resolve_images

    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be None, 1 or 3, got {channels!r}")
    src = resolve_images(source, name="source", value_range=value_range, allow_narrow=allow_narrow,
                         on_error=on_error)
    if src.kind == "files" and src.origin in ("folder", "files", "class folder") and (size is not None or channels == 1):
        folder = ImageFolder(src.files, size=size, channels=1 if channels == 1 else 3, on_error=on_error)
        return read_all(folder, names=src.files)
    if size is not None and src.kind in ("array", "stream"):
        raise ValueError(
            "size= resizes files as they are decoded; resize arrays yourself "
            "(resizing is part of each extractor's preprocessing)"
        )
    x = src.read_all()
    x = expand_channels(x, channels, name="source")
    return x if is_torch(x) or isinstance(x, ImageBatch) else ImageBatch(x)
