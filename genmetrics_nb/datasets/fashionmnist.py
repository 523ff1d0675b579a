"""Fashion-MNIST from its four IDX ``.gz`` files, offline.

References
----------
.. [1] H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
   Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from genmetrics_nb.datasets.common import LabeledImages, check_split, select_classes

__all__ = ["fashion_mnist", "FASHION_MNIST_CLASSES", "search_paths"]

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_REPO_DATA = Path(__file__).resolve().parents[2] / "data" / "fashion-mnist"
_SYSTEM = Path("/usr/share/datasets/fashion-mnist")
_CACHE: dict = {}


def search_paths(root=None) -> list[Path]:
    """The folders searched for the IDX files, in order."""
    paths = []
    if root is not None:
        paths.append(Path(root))
    env = os.environ.get("GENMETRICS_DATA")
    if env:
        paths.append(Path(env) / "fashion-mnist")
    paths += [_REPO_DATA, _SYSTEM]
    return paths


def _read_idx(path: Path) -> np.ndarray:
    # The IDX format is four bytes of magic (0, 0, dtype code, ndim), then
    # ndim big-endian int32 sizes, then the data. Written out here because it
    # is twenty lines and avoids a dependency for reading two files.
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: {data.size} bytes for shape {tuple(dims)}")
    return data.reshape(tuple(int(d) for d in dims))


def fashion_mnist(split: str = "test", *, classes=None, root=None) -> LabeledImages:
    """Load Fashion-MNIST as ``uint8`` ``N x 1 x 28 x 28`` images with labels.

    Parameters
    ----------
    split : {"test", "train"}
        10,000 test or 60,000 training images.
    classes : int, str or list, optional
        Keep only these classes (indices or names from
        :data:`FASHION_MNIST_CLASSES`). Labels keep their original values.
    root : path, optional
        A folder holding the four ``.gz`` files, searched first. Then
        ``$GENMETRICS_DATA/fashion-mnist``, ``data/fashion-mnist`` in the
        repository, and ``/usr/share/datasets/fashion-mnist`` (Debian's
        ``dataset-fashion-mnist`` package).

    Returns
    -------
    LabeledImages
        ``(images, labels, class_names)``.

    Raises
    ------
    FileNotFoundError
        Listing every folder searched and the commands that fix it.

    References
    ----------
    .. [1] Xiao et al., arXiv:1708.07747, 2017. https://github.com/zalandoresearch/fashion-mnist
    """
    check_split(split)
    img_name, lab_name = _FILES[split]
    tried = search_paths(root)
    for folder in tried:
        if (folder / img_name).is_file() and (folder / lab_name).is_file():
            break
    else:
        places = "\n".join(f"  - {p}" for p in tried)
        raise FileNotFoundError(
            f"Fashion-MNIST ({img_name}, {lab_name}) was not found. Searched:\n{places}\n"
            "Fix it with one of:\n"
            "  sudo apt-get install dataset-fashion-mnist   # Debian/Ubuntu: installs to "
            "/usr/share/datasets/fashion-mnist\n"
            "  make data                                      # the same, from the repository\n"
            "  or copy the four .gz files from https://github.com/zalandoresearch/fashion-mnist "
            "into data/fashion-mnist/ or $GENMETRICS_DATA/fashion-mnist/, or pass root="
        )
    key = (str(folder.resolve()), split)
    if key not in _CACHE:
        images = _read_idx(folder / img_name)
        labels = _read_idx(folder / lab_name).astype(np.int64)
        if images.ndim != 3 or images.shape[0] != labels.shape[0]:
            raise ValueError(f"{folder}: images {images.shape} and labels {labels.shape} do not match")
        images = images[:, None]
        images.setflags(write=False)
        labels.setflags(write=False)
        _CACHE[key] = LabeledImages(images, labels, list(FASHION_MNIST_CLASSES))
    data = _CACHE[key]
    return select_classes(data, classes)
