"""What the resolver returns: an image source, statistics, or features.

:func:`genmetrics_nb.sources.resolve` decides once what a user's input is
and returns one of the classes here. Nothing downstream asks again: the
feature engine reads an :class:`ImageSource` batch by batch, and the metrics
take :class:`StatsInput` and :class:`FeaturesInput` as they are.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from genmetrics_nb.sources.fingerprint import digest
from genmetrics_nb.util.checks import is_torch

__all__ = ["FeaturesInput", "ImageSource", "StatsInput"]


@dataclasses.dataclass(frozen=True, eq=False)
class ImageSource:
    """A set of images, resolved once: its size, labels, fingerprint and reader.

    Attributes
    ----------
    kind : {"files", "archive", "array", "stream", "dataset"}
        How the engine reads it: decoded files, archive members, a uint8
        array in memory, ``read_batch`` calls in order (array files,
        generators), or ``dataset[i]`` items.
    data : object
        The reader: an ``ImageFolder``, ``ArchiveImages``, a uint8
        ``N x C x H x W`` array or tensor, an object with ``read_batch``, or a
        map-style dataset of ``C x H x W`` uint8 images.
    n : int
        Number of images.
    fingerprint : str or None
        The feature cache's key for these images (None: not cacheable).
    description : str
        What the protocol block says the source is.
    origin : str
        What the user passed: ``"folder"``, ``"class folder"``, ``"files"``,
        ``"archive"``, ``"array file"``, ``"array"``, ``"dataset"``,
        ``"generator"``, ``"labelled images"``, ``"stream"`` or ``"subset"``.
    files : list of str or None
        The image files, for file-backed sources.
    labels : numpy.ndarray or None
        ``int64`` class labels, one per image, where the source has them
        (class folders, datasets, ``LabeledImages``).
    class_names : list of str or None
    """

    kind: str
    data: object = dataclasses.field(repr=False)
    n: int
    fingerprint: str | None
    description: str
    origin: str
    files: list | None = dataclasses.field(default=None, repr=False)
    labels: np.ndarray | None = dataclasses.field(default=None, repr=False)
    class_names: list | None = None

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"ImageSource({self.description})"

    def to_dict(self) -> dict:
        """What a protocol block records of the source."""
        out = {"kind": self.origin, "n": self.n, "description": self.description,
               "fingerprint": self.fingerprint}
        if self.class_names is not None:
            out["classes"] = len(self.class_names)
        return out

    # -- reading ------------------------------------------------------------------------
    def read_batch(self, start: int, stop: int):
        """Images ``start:stop`` as ``uint8`` ``N x C x H x W`` (a tensor stays a tensor).

        Raises
        ------
        ValueError
            When a file cannot be decoded (an unreadable file is skipped only
            by the engine with ``on_error="skip"``), or the images of the
            range have different sizes.
        """
        if self.kind == "array":
            return self.data[start:stop]
        if self.kind == "stream":
            return self.data.read_batch(start, stop)
        return self.images(np.arange(start, stop))

    def images(self, index):
        """Images of rows ``index`` (any order, repeats allowed), ``uint8`` ``N x C x H x W``."""
        index = np.atleast_1d(np.asarray(index, dtype=np.int64))
        if index.size and (index.min() < 0 or index.max() >= self.n):
            raise IndexError(f"row index out of range for a source of {self.n} images")
        if self.kind == "array":
            return self.data[index] if not is_torch(self.data) else self.data[index.tolist()]
        if self.kind == "stream":
            return _stream_rows(self.data, index)
        items = []
        for i in index.tolist():
            item = self.data[i]
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                raise ValueError(f"image {item[0]!r} cannot be read: {item[1]}")
            items.append(np.asarray(item))
        if not items:
            return np.zeros((0, 3, 1, 1), np.uint8)
        if len({a.shape for a in items}) > 1:
            raise ValueError(
                f"the images of {self.description} have different sizes; read them one at a time, "
                "or open the folder with gm.image_folder(path, size=(H, W))"
            )
        return np.stack(items)

    def read_all(self):
        """Every image in memory as an :class:`~genmetrics_nb.images.ImageBatch`."""
        from genmetrics_nb.images import ImageBatch, read_all

        if self.kind in ("files", "archive", "dataset") and hasattr(self.data, "__getitem__"):
            names = self.files if self.files is not None else None
            return read_all(self.data, names=names) if names is not None else read_all(self.data, names=[])
        x = self.read_batch(0, self.n)
        return x if is_torch(x) else ImageBatch(np.ascontiguousarray(x))

    # -- selecting ----------------------------------------------------------------------
    def subset(self, index, *, description: str | None = None) -> ImageSource:
        """The images of rows ``index``, as a source of their own (labels and files follow).

        Parameters
        ----------
        index : array-like of int
            Rows, in the order the subset reads them.
        description : str, optional
            What the protocol block calls the subset (default: "rows of" the parent).
        """
        index = np.atleast_1d(np.asarray(index, dtype=np.int64))
        if index.size == 0:
            raise ValueError("a subset needs at least one row")
        if index.min() < 0 or index.max() >= self.n:
            raise IndexError(f"row index out of range for a source of {self.n} images")
        fp = None if self.fingerprint is None else digest(
            {"subset_of": self.fingerprint, "rows": digest({"rows": index.tolist()})})
        desc = description or f"{index.size} of the {self.n} images of {self.description}"
        labels = None if self.labels is None else self.labels[index]
        files = None if self.files is None else [self.files[i] for i in index.tolist()]
        if self.kind == "array":
            data = self.data[index] if not is_torch(self.data) else self.data[index.tolist()]
            return dataclasses.replace(self, data=data, n=int(index.size), fingerprint=fp, description=desc,
                                       origin="subset", files=files, labels=labels)
        if self.kind == "stream":
            data = _RowStream(self.data, index)
        else:
            data = _RowItems(self.data, index)
        return dataclasses.replace(self, kind="stream" if self.kind == "stream" else "dataset", data=data,
                                   n=int(index.size), fingerprint=fp, description=desc, origin="subset",
                                   files=files, labels=labels)


class _RowItems:
    """``items[index[i]]`` as item ``i`` (a map-style view; DataLoader workers pickle it)."""

    def __init__(self, items, index):
        self.items, self.index = items, index

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        return self.items[int(self.index[i])]


class _RowStream:
    """Rows ``index`` of a ``read_batch`` source, read in contiguous runs."""

    def __init__(self, stream, index):
        self.stream, self.index = stream, index

    def __len__(self):
        return len(self.index)

    def read_batch(self, start, stop):
        return _stream_rows(self.stream, self.index[start:stop])


def _stream_rows(stream, index):
    """Rows ``index`` of a stream, each contiguous run read with one ``read_batch`` call."""
    if index.size == 0:
        return stream.read_batch(0, 0)
    order = np.argsort(index, kind="stable")
    rows = index[order]
    parts, s = [], 0
    while s < rows.size:
        e = s
        while e + 1 < rows.size and rows[e + 1] - rows[e] <= 1:
            e += 1
        block = stream.read_batch(int(rows[s]), int(rows[e]) + 1)
        parts.append(block[np.asarray(rows[s:e + 1] - rows[s])] if not is_torch(block)
                     else block[(rows[s:e + 1] - rows[s]).tolist()])
        s = e + 1
    if is_torch(parts[0]):
        import torch

        out = torch.cat(parts)
        return out[np.argsort(order).tolist()]
    return np.concatenate(parts)[np.argsort(order)]


@dataclasses.dataclass(frozen=True, eq=False)
class StatsInput:
    """Statistics a user passed: a ``FeatureStats``-like object, a ``(mu, sigma)`` pair or a file.

    Attributes
    ----------
    value : object
        The object, pair or path as given.
    origin : {"object", "moments", "file"}
    """

    value: object = dataclasses.field(repr=False)
    origin: str

    @property
    def path(self) -> str | None:
        return os.fspath(self.value) if self.origin == "file" else None


@dataclasses.dataclass(frozen=True, eq=False)
class FeaturesInput:
    """Per-sample features a user passed: an ``N x D`` array or tensor, or a ``Features`` result.

    Attributes
    ----------
    value : array, tensor or Features
    origin : {"array", "features"}
        ``"features"``: a ``Features`` mapping (several outputs, with metadata).
    """

    value: object = dataclasses.field(repr=False)
    origin: str
