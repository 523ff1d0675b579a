"""FeatureStats: float64 sufficient statistics against numpy, files, peers' formats."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from genmetrics_nb import FeatureStats


def _x(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    return (rng.normal(size=(n, d)) @ a + 5.0).astype(np.float32)


@pytest.mark.reference
def test_matches_numpy_mean_and_cov():
    # Reference: pytorch-fid / TTUR compute mu = np.mean(act, axis=0) and
    # sigma = np.cov(act, rowvar=False) (unbiased, n - 1).
    x = _x()
    s = FeatureStats(6).update(x[:100]).update(x[100:250]).update(x[250:])
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(s.mu, np.mean(x64, axis=0), rtol=1e-13)
    np.testing.assert_allclose(s.sigma, np.cov(x64, rowvar=False), rtol=1e-10, atol=1e-12)
    assert s.n == 300 and s.sum.dtype == np.float64 and s.outer.dtype == np.float64
    assert np.array_equal(s.sigma, s.sigma.T)


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(0, 200), max_size=5))
def test_any_split_and_merge_gives_the_same_statistics(cuts):
    x = _x(200, 4, seed=1)
    bounds = [0, *sorted(cuts), 200]
    parts = [FeatureStats.from_features(x[a:b]) if b > a else FeatureStats() for a, b in zip(bounds, bounds[1:])]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    full = FeatureStats.from_features(x)
    assert merged.n == 200
    np.testing.assert_allclose(merged.mu, full.mu, rtol=1e-12)
    np.testing.assert_allclose(merged.sigma, full.sigma, rtol=1e-9, atol=1e-12)


def test_torch_batches_equal_numpy_batches():
    x = _x(50, 5, seed=2)
    a = FeatureStats().update(torch.from_numpy(x))
    b = FeatureStats().update(x)
    # The raw sums are taken around the batch mean (near zero, all round-off),
    # so compare what they encode.
    np.testing.assert_allclose(a.shift, b.shift, rtol=1e-13)
    np.testing.assert_allclose(a.mu, b.mu, rtol=1e-13)
    np.testing.assert_allclose(a.sigma, b.sigma, rtol=1e-12)


def test_save_load_roundtrip_with_metadata(tmp_path):
    s = FeatureStats.from_features(_x(), meta={"extractor": "efficientnet-lite0", "n_source": 300})
    p = s.save(tmp_path / "s.npz")
    t = FeatureStats.load(p)
    assert t.n == s.n and t.meta == s.meta
    np.testing.assert_array_equal(t.outer, s.outer)
    np.testing.assert_array_equal(t.sigma, s.sigma)
    assert [f.name for f in tmp_path.iterdir()] == ["s.npz"]  # atomic: no temporary left


@pytest.mark.reference
def test_saved_file_is_read_by_pytorch_fid(tmp_path):
    from pytorch_fid.fid_score import compute_statistics_of_path

    s = FeatureStats.from_features(_x())
    p = s.save(tmp_path / "s.npz")
    # pytorch-fid reads precomputed statistics from any .npz with mu and sigma.
    mu, sigma = compute_statistics_of_path(str(p), None, 1, 6, "cpu", 0)
    np.testing.assert_array_equal(mu, s.mu)
    np.testing.assert_array_equal(sigma, s.sigma)


@pytest.mark.reference
def test_imports_pytorch_fid_and_clean_fid_statistics(tmp_path):
    x = _x().astype(np.float64)
    mu, sigma = np.mean(x, axis=0), np.cov(x, rowvar=False)
    # pytorch-fid's save_fid_stats and clean-fid's reference statistics both
    # write np.savez_compressed(path, mu=mu, sigma=sigma).
    np.savez_compressed(tmp_path / "ref.npz", mu=mu, sigma=sigma)
    s = FeatureStats.load(tmp_path / "ref.npz")
    np.testing.assert_array_equal(s.mu, mu)
    np.testing.assert_array_equal(s.sigma, sigma)
    assert s.meta["imported_from"].endswith("ref.npz") and s.to_dict()["moments_only"]
    with pytest.raises(ValueError, match="mu/sigma only"):
        s.update(x)
    with pytest.raises(ValueError, match="mu/sigma only"):
        s.merge(FeatureStats.from_features(x))
    s.save(tmp_path / "again.npz")
    np.testing.assert_array_equal(FeatureStats.load(tmp_path / "again.npz").sigma, sigma)


def test_bad_inputs_say_the_fix(tmp_path):
    s = FeatureStats(3)
    with pytest.raises(ValueError, match="N x D"):
        s.update(np.zeros(3))
    with pytest.raises(ValueError, match="NaN or Inf"):
        s.update(np.array([[1.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="4 features per row but these statistics have 3"):
        s.update(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="no features"):
        FeatureStats(3).mu
    s.update(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        s.sigma
    with pytest.raises(ValueError, match="dimension 3 and 2"):
        s.merge(FeatureStats.from_features(np.zeros((2, 2))))
    with pytest.raises(TypeError, match="merge FeatureStats"):
        s.merge(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="must end in .npz"):
        s.save(tmp_path / "s.txt")
    (tmp_path / "x.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable"):
        FeatureStats.load(tmp_path / "x.npz")
    np.savez(tmp_path / "y.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="expected FeatureStats.save output"):
        FeatureStats.load(tmp_path / "y.npz")


def test_meta_is_json_and_repr():
    s = FeatureStats.from_features(_x(10, 2), meta={"extractor": "x"})
    assert json.dumps(s.to_dict())
    assert "n=10" in repr(s) and "'x'" in repr(s)
