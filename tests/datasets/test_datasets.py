"""Offline datasets: Fashion-MNIST, CIFAR-10's pickle format, skimage photos."""
from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.datasets import fashionmnist


def _write_idx(path, arr):
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}i", *arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def _tiny_fashion(root, n=6, seed=0):
    rng = np.random.default_rng(seed)
    imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n) % 10
    for split, (ifile, lfile) in fashionmnist._FILES.items():
        _write_idx(root / ifile, imgs)
        _write_idx(root / lfile, labels)
    return imgs, labels


def test_fashion_mnist_reader_on_known_bytes(tmp_path):
    imgs, labels = _tiny_fashion(tmp_path)
    x, y, names = gm.datasets.fashion_mnist("test", root=tmp_path)
    assert x.dtype == np.uint8 and x.shape == (6, 1, 28, 28)
    assert np.array_equal(x[:, 0], imgs) and np.array_equal(y, labels)
    assert names[0] == "T-shirt/top" and len(names) == 10
    sub = gm.datasets.fashion_mnist("train", root=tmp_path, classes=["Trouser", 3])
    assert sorted(sub.labels.tolist()) == [1, 3]


def test_fashion_mnist_installed_copy():
    # The real files (Debian's dataset-fashion-mnist): 10,000 test images, 1,000 per class.
    x, y, _ = gm.datasets.fashion_mnist("test")
    assert x.shape == (10000, 1, 28, 28)
    assert np.bincount(y).tolist() == [1000] * 10


def test_fashion_mnist_missing_lists_places_and_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(fashionmnist, "_REPO_DATA", tmp_path / "repo")
    monkeypatch.setattr(fashionmnist, "_SYSTEM", tmp_path / "system")
    monkeypatch.setenv("GENMETRICS_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as err:
        gm.datasets.fashion_mnist("test", root=tmp_path / "root")
    msg = str(err.value)
    for place in ("root", "env/fashion-mnist", "repo", "system"):
        assert str(tmp_path / place) in msg
    assert "apt-get install dataset-fashion-mnist" in msg


def test_fashion_mnist_bad_arguments(tmp_path):
    _tiny_fashion(tmp_path)
    with pytest.raises(ValueError, match="split"):
        gm.datasets.fashion_mnist("validation", root=tmp_path)
    with pytest.raises(ValueError, match="classes"):
        gm.datasets.fashion_mnist("test", root=tmp_path, classes=["Hat"])


def test_cifar10_reads_the_pickle_layout(tmp_path, monkeypatch):
    # A tiny file in CIFAR-10's real format: a latin1 pickle of a dict with
    # 'data' (N x 3072 uint8, channel-major rows) and 'labels'.
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    imgs = rng.integers(0, 256, (5, 3, 32, 32), dtype=np.uint8)
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"data": imgs.reshape(5, -1), "labels": [3, 1, 4, 1, 5], "batch_label": "testing batch 1 of 1"}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": gm.datasets.CIFAR10_CLASSES}, fh)
    x, y, names = gm.datasets.cifar10("test", root=tmp_path)
    assert np.array_equal(x, imgs) and y.tolist() == [3, 1, 4, 1, 5] and names[3] == "cat"
    # Outside reference: torchvision's own reader gives the same images and labels
    # (its md5 check is bypassed, since the file is ours).
    from torchvision.datasets import CIFAR10

    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setattr(CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *a, **k: True)
    tv = CIFAR10(str(tmp_path), train=False, download=False)
    assert np.array_equal(tv.data.transpose(0, 3, 1, 2), x) and tv.targets == y.tolist()
    with pytest.raises(FileNotFoundError, match="download=True"):
        gm.datasets.cifar10("train", root=tmp_path)


def test_sample_images_are_real_photographs():
    photos = gm.datasets.sample_images(["chelsea", "camera"])
    assert photos["chelsea"].shape == (300, 451, 3) and photos["chelsea"].dtype == np.uint8
    assert photos["camera"].shape == (512, 512, 3)
    assert np.array_equal(photos["camera"][..., 0], photos["camera"][..., 2])
    with pytest.raises(ValueError, match="choose from"):
        gm.datasets.sample_images("lena")


def test_load_dataset_by_name():
    data = gm.datasets.load_dataset("fashion-mnist:test")
    assert data.images.shape[0] == 10000
    with pytest.raises(ValueError, match="known"):
        gm.datasets.load_dataset("imagenet:val")
