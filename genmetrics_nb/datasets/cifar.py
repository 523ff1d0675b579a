"""CIFAR-10 in torchvision's python-pickle layout (``cifar-10-batches-py``).

References
----------
.. [1] A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009.
   https://www.cs.toronto.edu/~kriz/cifar.html
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from genmetrics_nb.datasets.common import LabeledImages, check_split

__all__ = ["cifar10", "CIFAR10_CLASSES"]

CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip
_BATCHES = {
    "train": [f"data_batch_{i}" for i in range(1, 6)],
    "test": ["test_batch"],
}
_FOLDER = "cifar-10-batches-py"
_REPO_DATA = Path(__file__).resolve().parents[2] / "data"


def _candidates(root) -> list[Path]:
    roots = []
    if root is not None:
        roots.append(Path(root))
    env = os.environ.get("GENMETRICS_DATA")
    if env:
        roots.append(Path(env))
    roots.append(_REPO_DATA)
    # Accept both the parent folder (torchvision's ``root``) and the batch folder itself.
    return [r / _FOLDER for r in roots] + [r for r in roots]


def cifar10(split: str = "test", *, root=None, download: bool = False) -> LabeledImages:
    """Load CIFAR-10 as ``uint8`` ``N x 3 x 32 x 32`` images with labels.

    Parameters
    ----------
    split : {"test", "train"}
    root : path, optional
        Folder holding ``cifar-10-batches-py/`` (torchvision's ``root``), or
        that folder itself. Then ``$GENMETRICS_DATA`` and ``data/`` are searched.
    download : bool
        Fetch the archive with torchvision's downloader into ``root`` (or
        ``data/``) when it is missing. Off by default: nothing downloads
        unless asked.

    Returns
    -------
    LabeledImages
    """
    check_split(split)
    names = _BATCHES[split]
    tried = _candidates(root)
    folder = next((f for f in tried if all((f / n).is_file() for n in names)), None)
    if folder is None and download:
        from torchvision.datasets import CIFAR10

        target = Path(root) if root is not None else _REPO_DATA
        CIFAR10(str(target), train=(split == "train"), download=True)
        folder = target / _FOLDER
    if folder is None:
        places = "\n".join(f"  - {p}" for p in tried)
        raise FileNotFoundError(
            f"CIFAR-10 ({', '.join(names)}) was not found. Searched:\n{places}\n"
            "Fix it with one of:\n"
            "  gm.datasets.cifar10(split, download=True)   # online: torchvision's downloader\n"
            "  or unpack cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) "
            "into data/ or $GENMETRICS_DATA, or pass root="
        )
    images, labels = [], []
    for n in names:
        with open(folder / n, "rb") as fh:
            batch = pickle.load(fh, encoding="latin1")
        data = np.asarray(batch["data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise ValueError(f"{folder / n}: expected N x 3072 uint8 rows, got {data.shape}")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch["labels"], dtype=np.int64))
    return LabeledImages(np.concatenate(images), np.concatenate(labels), list(CIFAR10_CLASSES))
