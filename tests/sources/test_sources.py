"""One source resolver: every distribution metric accepts what gm.fid accepts.

The reference for each check is the same metric computed on features
extracted explicitly with gm.extract_features: passing images, a folder, an
.npy file or a Features result must give exactly that number.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import genmetrics_nb as gm
from genmetrics_nb.testing.extractors import register_tiny_extractor

register_tiny_extractor("test-tiny")
register_tiny_extractor("test-tiny-b")
register_tiny_extractor("test-tiny-logits", logits=True)


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (40, 3, 24, 24), dtype=np.uint8)
    fake = np.clip(real.astype(int) + rng.integers(-60, 60, real.shape), 0, 255).astype(np.uint8)
    return real, fake


def _folder(path, x):
    path.mkdir()
    for i, img in enumerate(x):
        Image.fromarray(img.transpose(1, 2, 0)).save(path / f"{i:03d}.png")
    return path


OPTS = dict(extractor="test-tiny", device="cpu", progress=False)


def _feats(x, output="feat"):
    return gm.extract_features(x, "test-tiny", device="cpu", progress=False, cache=False)[output]


@pytest.mark.parametrize("metric, kwargs, fields", [
    ("kid", dict(subsets=5, subset_size=20), ("value", "std")),
    ("precision_recall", dict(k=3), ("precision", "recall")),
    ("density_coverage", dict(k=3), ("density", "coverage")),
])
def test_two_sample_metrics_accept_images_folders_and_npy(tmp_path, images, metric, kwargs, fields):
    real, fake = images
    fn = getattr(gm, metric)
    ref = fn(_feats(real), _feats(fake), progress=False, **kwargs)
    folder_a, folder_b = _folder(tmp_path / "a", real), _folder(tmp_path / "b", fake)
    np.save(tmp_path / "b.npy", fake)
    features = gm.extract_features(real, "test-tiny", device="cpu", progress=False, cache=False)
    for a, b in [(real, fake), (folder_a, folder_b), (str(folder_a), str(tmp_path / "b.npy")),
                 (features, fake)]:
        got = fn(a, b, **kwargs, **OPTS)
        for f in fields:
            assert getattr(got, f) == getattr(ref, f), (metric, f, type(a).__name__)


def test_inception_score_accepts_images_and_folders(tmp_path, images):
    real, _ = images
    opts = dict(OPTS, extractor="test-tiny-logits")
    ref = gm.inception_score(gm.extract_features(real, "test-tiny-logits", device="cpu", progress=False,
                                                 cache=False)["logits"], splits=2)
    for src in (real, _folder(tmp_path / "a", real)):
        got = gm.inception_score(src, splits=2, **opts)
        assert got.value == ref.value and got.std == ref.std
    # An output whose values all lie in [0, 1] is what probabilities look like: asked, not guessed.
    with pytest.raises(ValueError, match=r"logits all lie in \[0, 1\].*from_logits=False"):
        gm.inception_score(real, splits=2, output="mean", **OPTS)


def test_inception_score_needs_logits(images):
    with pytest.raises(ValueError, match="has no logits output"):
        gm.inception_score(images[0], **OPTS)


@pytest.mark.parametrize("metric", ["kid", "precision_recall", "density_coverage"])
def test_statistics_are_refused_where_features_are_needed(tmp_path, metric):
    x = np.random.default_rng(1).normal(size=(50, 6))
    stats = gm.FeatureStats.from_features(x)
    stats.save(tmp_path / "s.npz")
    fn = getattr(gm, metric)
    with pytest.raises(ValueError, match=r"real is the statistics file .*s\.npz.* needs the per-sample features"):
        fn(str(tmp_path / "s.npz"), x, progress=False)
    with pytest.raises(TypeError, match="fake is statistics .* needs the per-sample features"):
        fn(x, stats, progress=False)


def test_sides_from_different_protocols_are_refused(images):
    real, fake = images
    a = gm.extract_features(real, "test-tiny", device="cpu", progress=False, cache=False)
    b = gm.extract_features(fake, "test-tiny-b", device="cpu", progress=False, cache=False)
    with pytest.raises(ValueError, match="computed differently: extractor is 'test-tiny' for real and "
                                         "'test-tiny-b' for fake"):
        gm.kid(a, b, subsets=2, subset_size=10, progress=False)


def test_float_images_must_declare_their_range(images):
    x = images[0].astype(np.float32) / 255
    with pytest.raises(TypeError, match="real are floating point, so their range must be declared"):
        gm.precision_recall(x, x, **OPTS)
    with pytest.raises(ValueError, match=r"(?s)real lie in \[.*value_range=\(0, 255\).*\[0, 1\] data"):
        gm.precision_recall(x, x, value_range=(0, 255), **OPTS)
    got = gm.precision_recall(x, images[1], value_range=(0, 1), **OPTS)
    assert got.precision == gm.precision_recall(images[0], images[1], **OPTS).precision
