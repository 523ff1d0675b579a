"""The diversity metrics take images through the one resolver (extractor=), or features.

Images run through ``efficientnet-lite0`` (shipped weights, CPU) give the same
numbers as the features extracted first with gm.extract_features.
"""
from __future__ import annotations

import numpy as np
import pytest

import genmetrics_nb as gm


@pytest.fixture(scope="module")
def images_and_features():
    from genmetrics_nb.datasets import fashion_mnist

    data = fashion_mnist("test")
    a = data.images[data.labels == 0][:12]
    b = data.images[data.labels == 1][:12]
    fa = gm.extract_features(a, "efficientnet-lite0", device="cpu", cache=False, progress=False)["pool"]
    fb = gm.extract_features(b, "efficientnet-lite0", device="cpu", cache=False, progress=False)["pool"]
    return a, b, np.asarray(fa), np.asarray(fb)


def test_images_equal_features(images_and_features):
    a, b, fa, fb = images_and_features
    opts = dict(extractor="efficientnet-lite0", device="cpu", progress=False)
    assert gm.vendi_score(a, **opts).value == pytest.approx(gm.vendi_score(fa, progress=False).value, rel=1e-6)
    assert gm.sliced_wasserstein(a, b, **opts).value == pytest.approx(
        gm.sliced_wasserstein(fa, fb, progress=False).value, rel=1e-6)
    r = gm.rarity_score(a, b, **opts)
    assert r.n_real == 12 and r.scores.shape == (12,)
    c = gm.clipped_density_coverage(a, b, **opts)
    assert 0 <= c.clipped_coverage <= 1
    p = gm.prd(a, b, num_clusters=3, num_runs=1, **opts)
    q = gm.prd(fa, fb, num_clusters=3, num_runs=1, progress=False)
    assert p.f_beta == pytest.approx(q.f_beta, abs=1e-6)


def test_statistics_are_refused():
    stats = gm.FeatureStats.from_features(np.random.default_rng(0).normal(size=(20, 4)))
    with pytest.raises(TypeError, match="needs the per-sample features"):
        gm.vendi_score(stats, progress=False)
    with pytest.raises(TypeError, match="needs the per-sample features"):
        gm.sliced_wasserstein(stats, stats, progress=False)


def test_finite_check_fast_path():
    # util.checks.as_feature_tensor decides "all finite" from a float64 sum first; huge finite
    # values whose sum overflows still pass, and a NaN or Inf anywhere is still found and counted
    from genmetrics_nb.util.checks import as_feature_tensor

    huge = np.full((4, 3), 1e308)
    assert as_feature_tensor(huge, name="real").shape == (4, 3)
    for bad_value, rows in ((np.nan, [1]), (np.inf, [0, 2]), (-np.inf, [3])):
        x = np.ones((4, 3))
        x[rows, 1] = bad_value
        with pytest.raises(ValueError, match=f"real contains NaN or Inf in {len(rows)} of 4 rows"):
            as_feature_tensor(x, name="real")
    x = np.ones((4, 3))
    x[0, 0], x[1, 0] = np.inf, -np.inf  # their sum is NaN: still refused
    with pytest.raises(ValueError, match="in 2 of 4 rows"):
        as_feature_tensor(x, name="real")


@pytest.mark.gpu
def test_cuda_equals_cpu():
    # the k-NN engine and the Vendi products on a GPU decide and compute as on the CPU
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(700, 64)), rng.normal(size=(600, 64)) * 1.2
    for fn in (gm.rarity_score, gm.clipped_density_coverage):
        a, b = fn(real, fake, device="cpu", progress=False), fn(real, fake, device="cuda", progress=False)
        for field in a.bootstrap_fields:
            assert getattr(a, field) == pytest.approx(getattr(b, field), rel=1e-12)
    assert gm.vendi_score(real, device="cuda", progress=False).value == pytest.approx(
        gm.vendi_score(real, device="cpu", progress=False).value, rel=1e-10)
