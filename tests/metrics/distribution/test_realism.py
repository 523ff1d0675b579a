"""Realism score and nearest neighbours against direct re-computations of the reference.

The reference semantics are those of kynkaat/improved-precision-and-recall-metric,
precision_recall.py (ManifoldEstimator with clamp_to_percentile=50 and
evaluate(return_realism=True)): squared distances, the k-th value of each
real row's partition (the row itself at index 0), radii above the percentile
set to 0, score = max_r radius_r / (d2 + 1e-5). Re-computed here with full
matrices on small sets, which the package never builds.
"""
from __future__ import annotations

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.metrics.distribution.realism import nearest_neighbours, realism_score


def _reference_realism(real, fake, k=3, pct=50, eps=1e-5):
    d_rr = ((real[:, None, :] - real[None, :, :]) ** 2).sum(-1)
    radii = np.partition(d_rr, k, axis=1)[:, k]
    radii[radii > np.percentile(radii, pct)] = 0
    d_fr = ((fake[:, None, :] - real[None, :, :]) ** 2).sum(-1)
    return np.max(radii[None, :] / (d_fr + eps), axis=1)


@pytest.mark.reference
@pytest.mark.parametrize("k, block", [(3, 7), (1, 1000), (5, 16)])
def test_realism_matches_reference_semantics(k, block):
    rng = np.random.default_rng(k)
    real = rng.normal(size=(120, 6))
    fake = np.concatenate([rng.normal(size=(40, 6)), real[:5], rng.normal(size=(10, 6)) * 4])
    got = realism_score(real, fake, k=k, block_size=block, progress=False)
    ref = _reference_realism(real, fake, k=k)
    np.testing.assert_allclose(got.values, ref, rtol=1e-9)
    assert got.value == pytest.approx(np.median(ref))


def test_realism_orders_copies_inliers_and_outliers():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 8))
    fake = np.concatenate([real[:3], rng.normal(size=(3, 8)) + 50])
    v = realism_score(real, fake, progress=False).values
    assert v[:3].min() > 1 > v[3:].max()


@pytest.mark.reference
def test_nearest_neighbours_match_brute_force():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(90, 5))
    q = np.concatenate([rng.normal(size=(30, 5)), ref[[4, 17]] + 1e-9])
    got = nearest_neighbours(q, ref, block_size=16, progress=False)
    d = np.sqrt(((q[:, None, :] - ref[None, :, :]) ** 2).sum(-1))
    np.testing.assert_array_equal(got.index, d.argmin(1))
    np.testing.assert_allclose(got.distance, d.min(1), rtol=1e-12, atol=1e-15)
    assert got.index[-2:].tolist() == [4, 17] and got.distance[-1] < 1e-8


def test_results_follow_the_protocol():
    x = np.random.default_rng(2).normal(size=(30, 3))
    for r in (realism_score(x, x[:4], progress=False), nearest_neighbours(x[:4], x, progress=False)):
        assert float(r) == r.value and "\n" not in str(r) and "value" in r.to_dict()
        assert "array(" not in r._repr_html_()


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: realism_score(x, x, k=30), ValueError, "k=30 needs more than k real samples"),
    (lambda x: realism_score(x, x, clamp_to_percentile=150), ValueError, "clamp_to_percentile must lie in"),
    (lambda x: realism_score(x, x[:, :2]), ValueError, "real has 3 features per sample but fake has 2"),
    (lambda x: nearest_neighbours(gm.FeatureStats.from_features(x), x), TypeError, "query is statistics"),
])
def test_bad_input(call, exc, match):
    x = np.random.default_rng(3).normal(size=(30, 3))
    with pytest.raises(exc, match=match):
        call(x)
