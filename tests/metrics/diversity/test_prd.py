"""gm.prd against the PRD reference code, transcribed in tests/reference/prd_score_reference.py
(msmsajjadi/precision-recall-distributions, prd_score.py at df840ad), its own test cases
(prd_score_test.py at the same commit) and the closed form of Theorem 1."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.metrics.diversity.prd import (
    f_beta_scores,
    max_f_beta_pair,
    prd_from_histograms,
)

REFERENCE = Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="module")
def ref():
    spec = importlib.util.spec_from_file_location("_ref_prd_score", REFERENCE / "prd_score_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- the reference's own tests (prd_score_test.py), on our functions ------------------
@pytest.mark.reference
def test_reference_histogram_cases():
    assert np.allclose(np.ravel(prd_from_histograms([0, 1], [1, 0])), 0)
    p, r = prd_from_histograms([1, 0], [1, 0], num_angles=11)
    np.testing.assert_almost_equal([p[5], r[5]], [1, 1])
    p, r = prd_from_histograms([0.5, 0.5], [1, 0], num_angles=11)
    np.testing.assert_almost_equal([p[5], r[5], p[10], r[1]], [0.5, 0.5, 0.5, 1])
    p, r = prd_from_histograms([1, 0], [0.5, 0.5], num_angles=11)
    np.testing.assert_almost_equal([p[5], r[5], r[1], p[10]], [0.5, 0.5, 0.5, 1])


@pytest.mark.reference
def test_reference_f_beta_vectors():
    precision = np.array([1, 1, 0, 0, 0.5, 1, 0.5])
    recall = np.array([1, 0, 1, 0, 0.5, 0.5, 1])
    with np.errstate(invalid="ignore"):
        np.testing.assert_almost_equal(f_beta_scores(precision, recall, beta=1), [1, 0, 0, 0, 0.5, 2 / 3, 2 / 3])
        np.testing.assert_almost_equal(f_beta_scores(precision, recall, beta=2), [1, 0, 0, 0, 0.5, 5 / 9, 5 / 6])
        np.testing.assert_almost_equal(f_beta_scores(precision, recall, beta=1 / 2), [1, 0, 0, 0, 0.5, 5 / 6, 5 / 9])
    assert f_beta_scores(np.array([]), np.array([])).shape == (0,)


@pytest.mark.reference
def test_reference_bad_arguments():
    for eps in (0, 1, -1):
        with pytest.raises(ValueError, match="epsilon must lie in"):
            prd_from_histograms([1], [1], epsilon=eps)
    for n in (0, 1, -1, 10**6 + 1):
        with pytest.raises(ValueError, match="num_angles must lie in"):
            prd_from_histograms([1], [1], num_angles=n)
    with pytest.raises(TypeError, match="num_angles must be an int"):
        prd_from_histograms([1], [1], num_angles=2.5)
    for beta in (0, -3):
        with pytest.raises(ValueError, match="beta must be positive"):
            f_beta_scores(np.ones(1), np.ones(1), beta=beta)
    with pytest.raises(ValueError, match="precision values must lie in"):
        f_beta_scores(-np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match="recall values must lie in"):
        f_beta_scores(np.ones(1), -np.ones(1))


# --- closed form (Theorem 1): reference uniform on 10 modes, generated uniform on 5 ----
@pytest.mark.reference
def test_closed_form_half_the_modes(ref):
    # research notes 2026-12-07, item 5b: max F_8 = 0.503863, max F_1/8 = 0.984829
    real_hist = np.full(10, 0.1)
    fake_hist = np.r_[np.full(5, 0.2), np.zeros(5)]
    f8, f18 = max_f_beta_pair(*prd_from_histograms(fake_hist, real_hist), beta=8)
    assert (round(f8, 6), round(f18, 6)) == (0.503863, 0.984829)
    assert (f8, f18) == pytest.approx(ref.prd_to_max_f_beta_pair(*ref.compute_prd(fake_hist, real_hist)),
                                      rel=1e-12)
    # the same through k-means on features: 10 tight, far-apart modes in 16-d
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(10, 16)) * 50
    real = centres[np.arange(1000) % 10] + rng.normal(size=(1000, 16)) * 0.01
    fake = centres[np.arange(1000) % 5] + rng.normal(size=(1000, 16)) * 0.01
    r = gm.prd(real, fake, num_clusters=10, num_runs=3, progress=False)
    assert (r.f_beta, r.f_beta_inv) == pytest.approx((f8, f18), abs=1e-9)
    assert r.precision.shape == (1001,)


# --- features: equal to the reference code run with the same k-means random stream ---
@pytest.mark.reference
def test_features_match_reference(ref):
    rng = np.random.default_rng(1)
    real = rng.normal(size=(600, 8))
    fake = rng.normal(size=(600, 8)) * 1.3 + 0.4
    np.random.seed(7)
    p_ref, r_ref = ref.compute_prd_from_embedding(fake, real, num_runs=3)
    want = ref.prd_to_max_f_beta_pair(p_ref, r_ref, beta=8)
    r = gm.prd(real, fake, num_runs=3, seed=7, progress=False)
    np.testing.assert_allclose(r.precision, p_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.recall, r_ref, rtol=0, atol=1e-12)
    assert (r.f_beta, r.f_beta_inv) == pytest.approx(want, abs=1e-12)
    # protocol details change the number: the clustering's seed and the number of clusters
    other_seed = gm.prd(real, fake, num_runs=3, seed=8, progress=False)
    assert np.abs(other_seed.precision - p_ref).max() > 1e-4
    ten = gm.prd(real, fake, num_runs=3, seed=7, num_clusters=10, progress=False)
    np.random.seed(7)
    p10, _ = ref.compute_prd_from_embedding(fake, real, num_runs=3, num_clusters=10)
    np.testing.assert_allclose(ten.precision, p10, atol=1e-12)
    assert np.abs(ten.precision - p_ref).max() > 1e-4
    # and the angles
    few = gm.prd(real, fake, num_runs=3, seed=7, num_angles=11, progress=False)
    np.random.seed(7)
    p11, _ = ref.compute_prd_from_embedding(fake, real, num_runs=3, num_angles=11)
    np.testing.assert_allclose(few.precision, p11, atol=1e-12)


def test_result_and_plot(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setenv("GENMETRICS_REPORT_DIR", str(tmp_path))
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(100, 4)), rng.normal(size=(100, 4)) + 1
    r = gm.prd(x, y, num_runs=2, num_clusters=5, progress=False)
    assert float(r) == r.f_beta
    d = r.to_dict()
    assert "precision" not in d and d["num_clusters"] == 5 and d["kmeans_batch_size"] == 1024
    assert "F_8" in str(r) and "\n" not in str(r)
    fig = gm.plots.prd_curve([r, r], labels=["a", "b"])
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("recall", "precision")
    assert (tmp_path / "figures" / "prd_curve.png").exists()
    with pytest.raises(ValueError, match="labels has 1 entries for 2 results"):
        gm.plots.prd_curve([r, r], labels=["a"])


def test_bad_input():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(50, 4)), rng.normal(size=(40, 4))
    with pytest.raises(ValueError, match="real has 50 samples but fake has 40.*enforce_balance=False"):
        gm.prd(x, y, progress=False)
    r = gm.prd(x, y, enforce_balance=False, num_runs=1, num_clusters=4, progress=False)
    assert r.n_fake == 40
    with pytest.raises(ValueError, match="num_angles must be >= 3"):
        gm.prd(x, x, num_angles=2, progress=False)
    with pytest.raises(ValueError, match="num_clusters must be >= 1"):
        gm.prd(x, x, num_clusters=0, progress=False)
    with pytest.raises(ValueError, match="beta must be a positive number"):
        gm.prd(x, x, beta=0, progress=False)
    with pytest.raises(TypeError, match="seed must be an int"):
        gm.prd(x, x, seed=1.5, progress=False)
