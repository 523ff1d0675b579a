"""Stored sets of images, read one image or one batch at a time: archives, array files, class folders.

- :class:`ArchiveImages`: the image files inside a ``.zip`` or ``.tar``
  archive (``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz`` too), decoded
  member by member, never unpacked to disk.
- :class:`ArrayFileImages`: one ``N x H x W x C`` or ``N x C x H x W`` image
  array in an ``.npy`` file or an ``.npz`` member, such as the sample batches
  of OpenAI's guided-diffusion (``arr_0``: ``N x H x W x 3`` ``uint8``,
  ``arr_1``: class labels), read a batch of rows at a time.
- :func:`image_folder` (:class:`LabeledImageFolder`): torchvision's
  ImageFolder layout, one subfolder per class; the labels come from the
  paths, so nothing is decoded until an image is read.

Each has ``len()`` and a ``fingerprint`` (the feature cache's key for it).
:func:`genmetrics_nb.extract_features` and every metric stream them when
given the path (:mod:`genmetrics_nb.sources`); build one yourself for
options a path cannot carry (``size=``, ``key=``).
"""
from __future__ import annotations

import hashlib
import os
import tarfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from genmetrics_nb.datasets.common import LabeledImages
from genmetrics_nb.images import (
    IMAGE_EXTENSIONS,
    ImageFolder,
    as_uint8,
    check_allow_narrow,
    list_image_files,
    read_all,
    read_image,
    to_nchw,
)
from genmetrics_nb.util.checks import check_choice

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "ArchiveImages",
    "ArrayFileImages",
    "LabeledImageFolder",
    "array_file_shape",
    "image_folder",
    "is_archive",
    "npz_members",
]

#: Archive formats read as image sets (compression is detected from the content).
ARCHIVE_EXTENSIONS = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
#: Version of how these readers order and decode members; part of every fingerprint.
_READER_VERSION = 1


def is_archive(path) -> bool:
    """Whether ``path`` names an archive by its extension (:data:`ARCHIVE_EXTENSIONS`)."""
    return isinstance(path, (str, os.PathLike)) and os.fspath(path).lower().endswith(ARCHIVE_EXTENSIONS)


def _file_fingerprint(path, *parts) -> str:
    """sha256 of a file's absolute path, size and mtime, and the reader's options."""
    st = os.stat(path)
    text = "\0".join(str(p) for p in (_READER_VERSION, os.path.abspath(path), st.st_size, st.st_mtime_ns, *parts))
    return hashlib.sha256(text.encode()).hexdigest()


def _is_image_member(member: str) -> bool:
    """An image by its extension, and not macOS's ``__MACOSX/`` or ``._name`` resource forks."""
    base = member.rsplit("/", 1)[-1]
    return (member.lower().endswith(IMAGE_EXTENSIONS) and not base.startswith("._")
            and not member.startswith("__MACOSX/") and "/__MACOSX/" not in member)


def _compressed_opener(path):
    """``open`` for a plain tar, or the seekable reader of its compression (by magic bytes)."""
    import bz2
    import gzip
    import lzma

    with open(path, "rb") as f:
        magic = f.read(6)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open
    if magic[:3] == b"BZh":
        return bz2.open
    if magic == b"\xfd7zXZ\x00":
        return lzma.open
    return open


# ----------------------------------------------------------------------------
# archives
# ----------------------------------------------------------------------------
class ArchiveImages:
    """The image files inside a ``.zip`` or ``.tar`` archive, decoded one member at a time.

    A torch ``Dataset``: ``archive[i]`` is a ``uint8`` ``C x H x W`` array.
    Nothing is unpacked to disk and only one member is in memory at a time;
    each process (DataLoader worker) opens the archive for itself.

    Parameters
    ----------
    path : str or path-like
        ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2`` or ``.tar.xz``.
    size : int or (int, int), optional
        Resize every image to ``(H, W)`` as it is decoded (see
        :func:`~genmetrics_nb.images.read_image`); needed by :meth:`load`
        when the images have different sizes.
    channels : {3, 1, None}
        As in :func:`~genmetrics_nb.images.read_image`.
    on_error : {"raise", "skip"}
        An unreadable member: stop, or yield ``(name, reason)`` so that the
        engine leaves it out and reports it.
    name : str
        The argument name used in error messages.

    Attributes
    ----------
    members : list of str
        The image members, in sorted order of their names (as a folder's files).
    files : list of str
        ``"<archive>:<member>"``, the names used in messages and ``.paths``.
    fingerprint : str
        sha256 of the archive's path, size and modification time and of
        ``size`` and ``channels``: the feature cache's key for this set.

    Raises
    ------
    ValueError
        The file is no readable archive, or holds no image files.

    Notes
    -----
    Members are image files by extension (:data:`~genmetrics_nb.images.IMAGE_EXTENSIONS`);
    directories, links, macOS resource forks (``__MACOSX/``, ``._*``) and
    other files are left out. A ``.zip`` or plain ``.tar`` reads any member
    directly. A compressed tar can only be decompressed forwards: it is read
    once to list it, and each worker then reads it once more, which is fast
    when the members are stored in name order (Python's ``tarfile`` and
    ``tar --sort=name`` store them so); otherwise a warning says how to
    re-pack it.

    Examples
    --------
    >>> import io, zipfile, numpy as np
    >>> from PIL import Image
    >>> import genmetrics_nb as gm
    >>> path = getfixture("tmp_path") / "samples.zip"
    >>> with zipfile.ZipFile(path, "w") as zf:
    ...     for i in range(3):
    ...         buf = io.BytesIO()
    ...         Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(buf, "PNG")
    ...         zf.writestr(f"img{i}.png", buf.getvalue())
    >>> archive = ArchiveImages(path)
    >>> len(archive), archive[2].shape, int(archive[2][0, 0, 0])
    (3, (3, 8, 8), 80)
    """

    def __init__(self, path, *, size=None, channels=3, on_error: str = "raise", name: str = "source"):
        check_choice(on_error, name="on_error", choices=("raise", "skip"))
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ValueError(f"{name}={path!r}: no such archive file")
        self.path = os.path.abspath(path)
        self.size, self.channels, self.on_error = size, channels, on_error
        self.format = "zip" if path.lower().endswith(".zip") else "tar"
        self._spans = None
        if self.format == "zip":
            self.members, n_all = self._list_zip(name)
        else:
            self.members, self._spans, n_all = self._list_tar(name)
        if not self.members:
            raise ValueError(
                f"{name}={path!r} is an archive with no image files ({', '.join(IMAGE_EXTENSIONS)}) "
                f"among its {n_all} member(s); pass an archive of images, or the folder they are in"
            )
        self.files = [f"{self.path}:{m}" for m in self.members]
        self.fingerprint = _file_fingerprint(self.path, "archive", size, channels)
        self._handle, self._pid = None, None

    def _list_zip(self, name):
        try:
            with zipfile.ZipFile(self.path) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError) as exc:
            raise ValueError(f"{name}={self.path!r} is not a readable .zip archive ({exc}); "
                             "check that the file is complete") from None
        return sorted(i.filename for i in infos if _is_image_member(i.filename)), len(infos)

    def _list_tar(self, name):
        spans, n_all = {}, 0
        try:
            with tarfile.open(self.path, "r:*") as tf:
                for m in tf:
                    n_all += 1
                    if m.isreg() and _is_image_member(m.name):
                        spans[m.name] = (m.offset_data, m.size)
                    tf.members = []  # keep only the spans: memory stays O(images), not O(members)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ValueError(f"{name}={self.path!r} is not a readable tar archive ({exc}); "
                             "check that the file is complete") from None
        members = sorted(spans)
        opener = _compressed_opener(self.path)
        offsets = [spans[m][0] for m in members]
        if opener is not open and any(b < a for a, b in zip(offsets, offsets[1:])):
            warnings.warn(
                f"{self.path} stores its members out of name order, so reading them in name order "
                "decompresses it many times over (slow for a large archive): re-pack it sorted "
                "(tar --sort=name -czf ...), or as an uncompressed .tar or a .zip",
                UserWarning, stacklevel=4,
            )
        return members, [spans[m] for m in members], n_all

    def __len__(self):
        return len(self.members)

    def __getstate__(self):  # DataLoader workers open their own handle
        state = dict(self.__dict__)
        state["_handle"], state["_pid"] = None, None
        return state

    def _open(self):
        if self._handle is None or self._pid != os.getpid():
            if self.format == "zip":
                self._handle = zipfile.ZipFile(self.path)
            else:
                self._handle = _compressed_opener(self.path)(self.path, "rb")
            self._pid = os.getpid()
        return self._handle

    def read_bytes(self, i: int) -> bytes:
        """The encoded bytes of member ``i``."""
        handle = self._open()
        if self.format == "zip":
            return handle.read(self.members[i])
        offset, n = self._spans[i]
        handle.seek(offset)
        data = handle.read(n)
        if len(data) != n:
            raise OSError(f"the archive ends inside {self.members[i]!r} (truncated?)")
        return data

    def __getitem__(self, i):
        try:
            return read_image(self.read_bytes(i), size=self.size, channels=self.channels,
                              name=self.files[i])
        except Exception as exc:  # PIL, zipfile and gzip raise several types for bad members
            if self.on_error == "raise":
                raise ValueError(
                    f"cannot read image {self.files[i]!r}: {exc}. Repair the archive, or pass "
                    "on_error='skip' to leave the member out (skipped members are reported)"
                ) from exc
            return (self.files[i], f"{type(exc).__name__}: {exc}")

    def load(self):
        """Every image as one ``uint8`` :class:`~genmetrics_nb.images.ImageBatch` (small sets).

        Raises ValueError when the images have different sizes: build the set with ``size=``.
        """
        return read_all(self)

    def close(self):
        """Close this process's handle on the archive (reopened on the next read)."""
        if self._handle is not None:
            self._handle.close()
        self._handle, self._pid = None, None

    def __repr__(self):
        return f"ArchiveImages({self.path!r}, {len(self)} images)"


# ----------------------------------------------------------------------------
# .npy / .npz image arrays
# ----------------------------------------------------------------------------
def _read_npy_header(fh, where):
    from numpy.lib import format as npformat

    try:
        version = npformat.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = npformat.read_array_header_2_0(fh)
        else:
            raise ValueError(f".npy format version {version} is not supported")
    except ValueError as exc:
        raise ValueError(f"{where} is not a readable .npy array ({exc})") from None
    return tuple(shape), bool(fortran), np.dtype(dtype)


def array_file_shape(path, *, key: str | None = None) -> tuple:
    """The shape of the array in an ``.npy`` file, or of an ``.npz`` member (default
    ``arr_0``), read from its header alone."""
    path = os.fspath(path)
    if not path.lower().endswith(".npz"):
        with open(path, "rb") as fh:
            return _read_npy_header(fh, repr(path))[0]
    key = key or "arr_0"
    with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as fh:
        return _read_npy_header(fh, f"{path!r} (member {key!r})")[0]


def npz_members(path) -> list[str]:
    """Names of the arrays in an ``.npz`` file (without reading them)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{os.fspath(path)!r} is not a readable .npz file ({exc})") from None


class ArrayFileImages:
    """An image array in an ``.npy`` file or an ``.npz`` member, read a batch of rows at a time.

    Parameters
    ----------
    path : str or path-like
        An ``.npy`` file, or an ``.npz`` file (:func:`numpy.savez`, compressed
        or not) such as OpenAI guided-diffusion's sample batches.
    key : str, optional
        The ``.npz`` member holding the images; default ``"arr_0"`` (the
        first positional array of ``np.savez``), or the only member.
    value_range : tuple, optional
        Required for float arrays: ``(0, 1)``, ``(-1, 1)`` or ``(0, 255)``;
        each batch is checked against it and rounded to ``uint8``.
    name : str
        The argument name used in error messages.
    allow_narrow : bool
        Lift the range guard (:func:`genmetrics_nb.images.narrow_range_problem`),
        which checks each batch read: floats that look mis-declared ([0, 1]
        data declared ``(0, 255)`` or ``(-1, 1)``) are refused by default.
    narrow_hint : str, optional
        How the guard's message says to lift it (default "pass allow_narrow=True").

    Attributes
    ----------
    shape : tuple
        ``(N, C, H, W)`` of the images as they are read.
    layout : {"NCHW", "NHWC"}
        How the file stores them: channels last when the last axis has 1 or 3
        entries and the second has not (guided-diffusion's ``N x H x W x 3``).
    labels : numpy.ndarray or None
        ``int64`` class labels from the ``.npz`` member ``arr_1`` (with ``key="arr_0"``).
    fingerprint : str

    Raises
    ------
    ValueError
        The array is not 4-D, has no axis of 1 or 3 channels, is stored in
        Fortran order, or the ``.npz`` has no such member.
    TypeError
        Integer data that are not ``uint8``; float data without ``value_range``.

    Notes
    -----
    Only the rows of one batch are read into memory (an ``.npz`` member is
    decompressed as a stream, forwards), so an archive of 50,000 samples
    never needs 50,000 images of memory.
    """

    def __init__(self, path, *, key: str | None = None, value_range=None, name: str = "source",
                 allow_narrow: bool = False, narrow_hint: str | None = None):
        self.allow_narrow, self._narrow_hint = check_allow_narrow(allow_narrow), narrow_hint
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ValueError(f"{name}={path!r}: no such .npy/.npz file")
        self.path = os.path.abspath(path)
        self.is_npz = path.lower().endswith(".npz")
        self.labels = None
        if self.is_npz:
            members = npz_members(path)
            if key is None:
                key = "arr_0" if "arr_0" in members else (members[0] if len(members) == 1 else None)
            if key not in members:
                raise ValueError(
                    f"{name}={path!r} holds the arrays {members} and no image array "
                    f"{'arr_0' if key is None else key!r}; save the images as the first array "
                    "(np.savez(path, images)) or build ArrayFileImages(path, key=...)"
                )
        elif key is not None:
            raise ValueError(f"key={key!r} names an .npz member, but {path!r} is an .npy file; drop key=")
        self.key = key
        where = f"{name}={path!r}" + (f" (member {key!r})" if key else "")
        with self._open_raw() as fh:
            shape, fortran, dtype = _read_npy_header(fh, where)
            self._offset = fh.tell()
        if len(shape) != 4:
            raise ValueError(
                f"{where} holds an array of shape {shape}; images must be N x C x H x W or "
                "N x H x W x C (features are N x D)"
            )
        if fortran:
            raise ValueError(f"{where} is stored in Fortran order; re-save it with "
                             "np.save(path, np.ascontiguousarray(x))")
        if dtype != np.uint8:
            if not np.issubdtype(dtype, np.floating):
                raise TypeError(f"{where} has dtype {dtype}; images must be uint8, or floats with "
                                "value_range=")
            if value_range is None:
                raise TypeError(f"{where} holds floating-point images, so their range must be "
                                "declared: pass value_range=(0, 1), (-1, 1) or (0, 255)")
        probe = to_nchw(np.empty((1, *shape[1:]), np.uint8), name=where)  # checks the channels
        self.layout = "NCHW" if probe.shape[1:] == shape[1:] else "NHWC"
        self.shape = (shape[0], *probe.shape[1:])
        self.dtype, self.value_range, self._name = dtype, value_range, where
        self._row_bytes = int(np.prod(shape[1:])) * dtype.itemsize
        self._stored_shape = shape
        if self.is_npz and key == "arr_0" and "arr_1" in members:
            with np.load(path, allow_pickle=False) as z:
                labels = z["arr_1"]
            if labels.ndim == 1 and len(labels) == shape[0] and np.issubdtype(labels.dtype, np.integer):
                self.labels = labels.astype(np.int64)
        # allow_narrow changes no pixel, only what is refused; it is in the fingerprint
        # so that features cached under it are not served to a call without it.
        self.fingerprint = _file_fingerprint(self.path, "array", key, value_range,
                                             *(("allow_narrow",) if allow_narrow else ()))
        self._handle, self._pid, self._pos = None, None, None

    def _open_raw(self):
        if not self.is_npz:
            return open(self.path, "rb")
        zf = zipfile.ZipFile(self.path)
        return _ClosingMember(zf.open(f"{self.key}.npy"), zf)

    def __len__(self):
        return int(self.shape[0])

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_handle"], state["_pid"], state["_pos"] = None, None, None
        return state

    def read_batch(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` as a ``uint8`` ``N x C x H x W`` array."""
        start, stop = max(0, int(start)), min(len(self), int(stop))
        if self._handle is None or self._pid != os.getpid():
            self._handle, self._pid, self._pos = self._open_raw(), os.getpid(), None
        want = self._offset + start * self._row_bytes
        if self._pos != want:
            self._handle.seek(want)
        x = np.empty((stop - start, *self._stored_shape[1:]), dtype=self.dtype)
        view, got = memoryview(x.reshape(-1).view(np.uint8)), 0
        while got < x.nbytes:  # readinto may return less than asked (compressed members)
            k = self._handle.readinto(view[got:])
            if not k:
                self._pos = None
                raise ValueError(f"{self._name} ends after {start + got // max(self._row_bytes, 1)} of "
                                 f"{len(self)} images (truncated file?)")
            got += k
        self._pos = want + x.nbytes
        if self.layout == "NHWC":
            x = x.transpose(0, 3, 1, 2)
        if self.dtype != np.uint8:
            x = as_uint8(x, value_range=self.value_range, name=f"{self._name} rows {start}..{stop - 1}",
                         allow_narrow=self.allow_narrow, narrow_hint=self._narrow_hint)
        return np.ascontiguousarray(x)

    def __getitem__(self, i):
        return self.read_batch(i, i + 1)[0]

    def close(self):
        if self._handle is not None:
            self._handle.close()
        self._handle, self._pid, self._pos = None, None, None

    def __repr__(self):
        n, c, h, w = self.shape
        where = self.path + (f"[{self.key!r}]" if self.key else "")
        return f"ArrayFileImages({where}, {n} images of {c} x {h} x {w} {self.dtype}, stored {self.layout})"


class _ClosingMember:
    """A zip member's reader that also closes its zip file."""

    def __init__(self, fh, zf):
        self._fh, self._zf = fh, zf

    def __getattr__(self, attr):
        return getattr(self._fh, attr)

    def read(self, n=-1):
        return self._fh.read(n)

    def readinto(self, b):
        return self._fh.readinto(b)

    def seek(self, pos, whence=0):
        return self._fh.seek(pos, whence)

    def tell(self):
        return self._fh.tell()

    def close(self):
        self._fh.close()
        self._zf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ----------------------------------------------------------------------------
# class folders
# ----------------------------------------------------------------------------
class LabeledImageFolder(ImageFolder):
    """Images in class subfolders (torchvision's ImageFolder layout), labelled by their folder.

    ``root/<class>/**/<image>``: every subfolder of ``root`` is a class, in
    sorted order of the folder names (label 0 is the first); its images are
    found recursively. A torch ``Dataset`` like
    :class:`~genmetrics_nb.images.ImageFolder` (``folder[i]`` decodes one
    image), so feature extraction streams it; :meth:`load` reads everything
    as :class:`~genmetrics_nb.datasets.LabeledImages`. Build it with
    :func:`image_folder`.

    Attributes
    ----------
    root : str
    files : list of str
        Every image, class by class, each class's files sorted.
    labels : numpy.ndarray
        ``int64``, one per file.
    class_names : list of str
        ``class_names[label]`` is the folder name of a label.
    size, channels, on_error
        As in :class:`~genmetrics_nb.images.ImageFolder`.
    """

    def __init__(self, root, *, size=None, channels=3, on_error: str = "raise", name: str = "path"):
        root = os.fspath(root)
        if not os.path.isdir(root):
            raise ValueError(f"{name}={root!r} is not a folder; pass a folder with one subfolder per class")
        entries = sorted(os.scandir(root), key=lambda e: e.name)
        classes = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
        loose = [e.name for e in entries if e.is_file() and e.name.lower().endswith(IMAGE_EXTENSIONS)]
        if not classes:
            raise ValueError(
                f"{name}={root!r} has no class subfolders; the ImageFolder layout is "
                f"{name}/<class>/<image>. For unlabelled images pass the folder itself as a source"
            )
        if loose:
            raise ValueError(
                f"{name}={root!r} holds {len(loose)} image(s) outside the class subfolders "
                f"(e.g. {loose[0]!r}); move each image into the subfolder of its class"
            )
        files, labels, empty = [], [], []
        for label, cls in enumerate(classes):
            found = list_image_files(os.path.join(root, cls))
            if not found:
                empty.append(cls)
            files += found
            labels += [label] * len(found)
        if empty:
            raise ValueError(
                f"{name}={root!r}: the class folder(s) {empty} hold no image files "
                f"({', '.join(IMAGE_EXTENSIONS)}); add images or remove the folder(s)"
            )
        super().__init__(files, size=size, channels=channels, on_error=on_error)
        self.root = os.path.abspath(root)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.class_names = classes

    def load(self) -> LabeledImages:
        """Every image in memory, as :class:`~genmetrics_nb.datasets.LabeledImages` (small sets).

        Raises
        ------
        ValueError
            When the images have different sizes and the folder was opened without ``size=``.
        """
        try:
            x = read_all(self)
        except ValueError as exc:
            if "different sizes" in str(exc):
                raise ValueError(
                    f"the images under {self.root!r} have different sizes ({exc}); pass "
                    "size=(H, W) to image_folder to resize them as they are read"
                ) from None
            raise
        keep = np.isin(self.files, x.paths) if x.skipped else slice(None)
        return LabeledImages(x, self.labels[keep], list(self.class_names))

    def __repr__(self):
        return (f"LabeledImageFolder({self.root!r}, {len(self)} images, "
                f"{len(self.class_names)} classes: {', '.join(self.class_names)})")


def image_folder(path, *, size=None, channels=3, on_error: str = "raise") -> LabeledImageFolder:
    """Open a folder in torchvision's ImageFolder layout as a labelled, streamable image set.

    Parameters
    ----------
    path : str or path-like
        ``path/<class>/.../<image>``; each subfolder is a class (sorted by name).
    size : int or (int, int), optional
        Resize every image to ``(H, W)`` as it is read; needed by
        :meth:`LabeledImageFolder.load` when the images have different sizes.
        Feature extraction does not need it: each extractor resizes.
    channels : {3, 1, None}
        As in :func:`~genmetrics_nb.images.read_image`.
    on_error : {"raise", "skip"}
        What to do with unreadable files.

    Returns
    -------
    LabeledImageFolder
        ``.files``, ``.labels``, ``.class_names``; a source for every metric
        and for :func:`genmetrics_nb.extract_features` (decoded as streamed),
        and ``.load()`` for :class:`~genmetrics_nb.datasets.LabeledImages`.

    Raises
    ------
    ValueError
        Not a folder, no class subfolders, images outside them, or an empty class.

    References
    ----------
    .. [1] torchvision ``datasets.ImageFolder``: https://pytorch.org/vision/stable/generated/torchvision.datasets.ImageFolder.html

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image
    >>> root = getfixture("tmp_path")
    >>> for cls in ("cat", "dog"):
    ...     (root / cls).mkdir()
    ...     Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / cls / "a.png")
    >>> folder = image_folder(root)
    >>> folder.class_names, folder.labels.tolist()
    (['cat', 'dog'], [0, 1])
    """
    return LabeledImageFolder(Path(path), size=size, channels=channels, on_error=on_error)
