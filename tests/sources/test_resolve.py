"""The one source resolver: each side's kind is decided once and each folder is walked once.

The counts are the point of :mod:`genmetrics_nb.sources.resolve`: before it, a
folder given to ``gm.fid`` was classified three times per side and walked twice.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import genmetrics_nb as gm
from genmetrics_nb import images as gi
from genmetrics_nb.sources import resolver as resolve_module
from genmetrics_nb.testing.extractors import register_tiny_extractor

register_tiny_extractor("test-tiny")
OPTS = dict(extractor="test-tiny", device="cpu", progress=False)


def _folder(path, x):
    path.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(x):
        Image.fromarray(np.transpose(img, (1, 2, 0))).save(path / f"{i:03d}.png")
    return path


@pytest.fixture
def folders(tmp_path):
    rng = np.random.default_rng(0)
    a = _folder(tmp_path / "a", rng.integers(0, 256, (12, 3, 8, 8), dtype=np.uint8))
    b = _folder(tmp_path / "b", rng.integers(0, 256, (10, 3, 8, 8), dtype=np.uint8))
    return a, b


def _count(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args[0] if args else None)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_fid_of_two_folders_decides_each_kind_once_and_walks_each_folder_once(folders, monkeypatch):
    a, b = folders
    expected = gm.fid(gm.load_images(a), gm.load_images(b), output="mean", **OPTS).value
    decisions = _count(monkeypatch, resolve_module, "_resolve_path")
    walks = _count(monkeypatch, gi, "list_image_files")
    got = gm.fid(a, b, output="mean", **OPTS)
    assert sorted(map(str, decisions)) == sorted([str(a), str(b)])
    assert sorted(map(str, walks)) == sorted([str(a), str(b)])
    assert got.value == pytest.approx(expected, abs=0)  # same pixels, same number
    assert (got.n_real, got.n_fake) == (12, 10)


def test_a_resolved_source_passes_through_every_consumer(folders, monkeypatch):
    a, _ = folders
    src = gm.resolve(a, name="real")
    decisions = _count(monkeypatch, resolve_module, "_resolve_path")
    feats = gm.extract_features(src, "test-tiny", device="cpu", progress=False, cache=False)
    assert feats.meta["source"]["fingerprint"] == src.fingerprint
    assert gm.load_images(src).shape == (12, 3, 8, 8)
    assert decisions == []


def test_class_subfolders_give_labels_in_the_folder_order(tmp_path):
    rng = np.random.default_rng(1)
    _folder(tmp_path / "cat", rng.integers(0, 256, (3, 3, 8, 8), dtype=np.uint8))
    _folder(tmp_path / "dog", rng.integers(0, 256, (2, 3, 8, 8), dtype=np.uint8))
    src = gm.resolve(tmp_path)
    assert src.class_names == ["cat", "dog"] and src.labels.tolist() == [0, 0, 0, 1, 1]
    assert src.origin == "class folder"
    # the file order, hence every number, is the plain folder's
    assert src.files == gi.list_image_files(tmp_path)
    sub = src.subset([4, 0])
    assert sub.labels.tolist() == [1, 0] and len(sub) == 2
    np.testing.assert_array_equal(sub.read_batch(0, 2), src.images([4, 0]))
    assert sub.fingerprint != src.fingerprint


def test_statistics_and_features_resolve_to_what_a_metric_needs(tmp_path):
    x = np.random.default_rng(2).normal(size=(20, 4))
    stats = gm.FeatureStats.from_features(x)
    assert isinstance(gm.resolve(stats), gm.sources.StatsInput)
    stats.save(tmp_path / "s.npz")
    assert gm.resolve(tmp_path / "s.npz").origin == "file"
    assert isinstance(gm.resolve(x), gm.sources.FeaturesInput)
    with pytest.raises(TypeError, match="holds statistics, not images"):
        gm.sources.resolve_images(stats, name="real")
    with pytest.raises(TypeError, match="real of type int is not a source"):
        gm.resolve(3, name="real")


def test_generator_sources_read_rows_in_any_order():
    fake = gm.sources.generated("fmnist-stylegan-it02000", num_images=6, seed=0, device="cpu")
    src = gm.resolve(fake)
    whole = src.read_batch(0, 6)
    np.testing.assert_array_equal(src.images([5, 1, 2]), whole[[5, 1, 2]])
    np.testing.assert_array_equal(src.subset([3, 4]).read_batch(0, 2), whole[3:5])


def test_sfid_takes_the_extractor_keywords_of_fid():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(40, 2023)), rng.normal(size=(40, 2023))
    assert gm.sfid(a, b, progress=False).value == pytest.approx(gm.fid(a, b, progress=False).value, rel=1e-8)
    with pytest.raises(ValueError, match="unknown extractor"):
        gm.sfid(np.zeros((4, 3, 8, 8), np.uint8), np.zeros((4, 3, 8, 8), np.uint8), extractor="no-such-net",
                progress=False)
