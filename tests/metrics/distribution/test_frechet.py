"""Frechet distance, FID and FID-infinity.

Expected values come from the peers on identical statistics (pytorch-fid's
``calculate_frechet_distance``, torch-fidelity's ``fid_statistics_to_metric``,
torchmetrics' ``_compute_fid``), from the closed form of the Frechet distance
between Gaussians, and from the reference FID-infinity algorithm re-run here
with sklearn's LinearRegression.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import genmetrics_nb as gm

# pytorch-fid (a reference here) still passes scipy's deprecated sqrtm(disp=...)
pytestmark = pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")
from genmetrics_nb.metrics.distribution.frechet import (
    FrechetResult,
    SingularCovarianceWarning,
    frechet_distance,
    frechet_from_samples,
)


def _stats(x):
    return x.mean(0), np.cov(x, rowvar=False)


@pytest.fixture(scope="module")
def two_sets():
    rng = np.random.default_rng(7)
    d = 48
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    x = rng.normal(size=(1500, d)) @ mix + 0.5
    y = np.maximum(rng.normal(size=(1700, d)), 0) @ (mix + 0.3 * np.eye(d))
    return x, y


@pytest.mark.reference
def test_matches_pytorch_fid(two_sets):
    from pytorch_fid.fid_score import calculate_frechet_distance

    x, y = two_sets
    (mx, sx), (my, sy) = _stats(x), _stats(y)
    expected = calculate_frechet_distance(mx, sx, my, sy)  # scipy sqrtm path
    got = frechet_distance((mx, sx), (my, sy)).value
    assert got == pytest.approx(expected, rel=1e-6)


@pytest.mark.reference
def test_matches_torch_fidelity_and_torchmetrics(two_sets):
    from torch_fidelity.metric_fid import fid_statistics_to_metric
    from torchmetrics.image.fid import _compute_fid

    x, y = two_sets
    (mx, sx), (my, sy) = _stats(x), _stats(y)
    tf = fid_statistics_to_metric({"mu": mx, "sigma": sx}, {"mu": my, "sigma": sy}, False)
    tm = float(_compute_fid(*(torch.from_numpy(a) for a in (mx, sx, my, sy))))
    got = frechet_distance((mx, sx), (my, sy)).value
    assert got == pytest.approx(tf["frechet_inception_distance"], rel=1e-9)
    assert got == pytest.approx(tm, rel=1e-9)


@pytest.mark.reference
def test_closed_form_gaussians():
    # Frechet distance between N(m1, S1) and N(m2, S2) with commuting (diagonal)
    # covariances: |m1 - m2|^2 + sum (sqrt(s1) - sqrt(s2))^2 (Dowson & Landau 1982).
    rng = np.random.default_rng(0)
    d, n = 6, 400_000
    s1, s2 = np.linspace(0.5, 2.0, d), np.linspace(3.0, 0.2, d)
    m1, m2 = np.zeros(d), np.full(d, 0.3)
    analytic = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    x = m1 + rng.normal(size=(n, d)) * np.sqrt(s1)
    y = m2 + rng.normal(size=(n, d)) * np.sqrt(s2)
    got = frechet_distance(_stats(x), _stats(y)).value
    # sampling error of the estimate is O(d / sqrt(n)) ~ 0.01; bias O(d/n)
    assert got == pytest.approx(analytic, abs=0.03)
    # exact statistics give the analytic value to round-off
    exact = frechet_distance((m1, np.diag(s1)), (m2, np.diag(s2))).value
    assert exact == pytest.approx(analytic, rel=1e-12)


@pytest.mark.reference
def test_closed_form_non_commuting():
    # For S2 = A S1 A^T with A = S1^-1/2 (S1^1/2 S2 S1^1/2)^1/2 S1^-1/2 ... use the
    # simplest non-commuting check: S1 = I, then tr sqrt(S1 S2) = tr sqrt(S2) = sum sqrt(eig S2).
    rng = np.random.default_rng(1)
    b = rng.normal(size=(5, 5))
    s2 = b @ b.T + 0.1 * np.eye(5)
    analytic = 5 + np.trace(s2) - 2 * np.sqrt(np.linalg.eigvalsh(s2)).sum()
    got = frechet_distance((np.zeros(5), np.eye(5)), (np.zeros(5), s2)).value
    assert got == pytest.approx(analytic, rel=1e-12)


def test_identity_and_symmetry(two_sets):
    x, y = two_sets
    a, b = _stats(x), _stats(y)
    assert abs(frechet_distance(a, a).value) < 1e-8
    ab, ba = frechet_distance(a, b).value, frechet_distance(b, a).value
    assert ab == pytest.approx(ba, rel=1e-10)


def test_accepts_feature_stats_and_torch(two_sets):
    x, y = two_sets
    sa = gm.FeatureStats.from_features(x)
    sb = gm.FeatureStats.from_features(y)
    r = frechet_distance(sa, sb)
    ref = frechet_distance(_stats(x), _stats(y)).value
    assert r.value == pytest.approx(ref, rel=1e-10)
    assert (r.n_a, r.n_b, r.dim) == (1500, 1700, 48)
    rt = frechet_distance(tuple(torch.from_numpy(v) for v in _stats(x)), _stats(y))
    assert rt.value == pytest.approx(ref, rel=1e-10)
    assert float(r) == r.value and "Frechet distance" in str(r)
    assert set(r.to_dict()) >= {"value", "mean_term", "trace_term", "rank_a"}


def test_singular_covariance_warns_and_reports():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(20, 32))  # n <= D: rank 19
    y = rng.normal(size=(400, 32))
    with pytest.warns(SingularCovarianceWarning, match=r"a has n = 20 <= D = 32"):
        r = frechet_distance(gm.FeatureStats.from_features(x), gm.FeatureStats.from_features(y),
                             diagnostics=True)
    assert r.rank_a == 19  # n - 1 independent centred rows
    assert r.rank_b == 32
    assert r.clipped_a >= 1 and r.clipped_a_magnitude < 1e-10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frechet_distance(gm.FeatureStats.from_features(x), _stats(y), warn=False)


@pytest.mark.reference
def test_collapsed_set_with_round_off_covariance():
    # All samples equal: sum x x^T - n mu mu^T leaves a covariance that is zero up to
    # round-off of either sign (what torchmetrics' FID state gives). Closed form:
    # |v - mu_b|^2 + tr(S_b), since tr sqrt(0 * S_b) = 0.
    rng = np.random.default_rng(0)
    v = rng.normal(size=32).astype(np.float32).astype(np.float64)
    x = np.repeat(v[None], 300, axis=0)
    sigma = (x.T @ x - 300 * np.outer(v, v)) / 299
    sigma = (sigma + sigma.T) / 2
    y = rng.normal(size=(400, 32))
    r = frechet_distance((x.mean(0), sigma), _stats(y))
    expected = np.sum((v - y.mean(0)) ** 2) + np.trace(np.cov(y, rowvar=False))
    assert r.value == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "a, b, exc, match",
    [
        (np.zeros((5, 3)), (np.zeros(3), np.eye(3)), TypeError, "a is an array.*FeatureStats.from_features"),
        ((np.zeros(3), np.eye(3)), "x", TypeError, "b must be a FeatureStats or a \\(mu, sigma\\) pair"),
        ((np.zeros(3), np.eye(4)), (np.zeros(3), np.eye(3)), ValueError, "sigma must be D x D = 3 x 3"),
        ((np.zeros(3), np.eye(3)), (np.zeros(4), np.eye(4)), ValueError, "a has D = 3 features but b has D = 4"),
        ((np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]])), (np.zeros(2), np.eye(2)), ValueError, "not symmetric"),
        ((np.array([np.nan, 0.0]), np.eye(2)), (np.zeros(2), np.eye(2)), ValueError, "a.mu contains NaN"),
    ],
)
def test_bad_input_messages(a, b, exc, match):
    with pytest.raises(exc, match=match):
        frechet_distance(a, b)


@pytest.mark.reference
@pytest.mark.parametrize("n_x, n_y, d", [(40, 60, 32), (300, 250, 16)])
def test_from_samples_gram_and_weights(n_x, n_y, d):
    """The cross-Gram path (n < D) and the covariance path agree with pytorch-fid,
    and bootstrap weights equal explicitly repeated rows."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    rng = np.random.default_rng(3)
    x = rng.normal(size=(n_x, d)) + 0.2
    y = rng.normal(size=(n_y, d)) * 1.3
    expected = calculate_frechet_distance(*_stats(x), *_stats(y), eps=0.0) if n_x > d else None
    got = frechet_from_samples(torch.from_numpy(x), torch.from_numpy(y))
    if expected is not None:
        assert got == pytest.approx(expected, rel=1e-6)
    via_eig = frechet_distance(_stats(x), _stats(y), warn=False).value
    assert got == pytest.approx(via_eig, rel=1e-8, abs=1e-8)
    ix, iy = rng.integers(0, n_x, n_x), rng.integers(0, n_y, n_y)
    wx = torch.as_tensor(np.bincount(ix, minlength=n_x), dtype=torch.float64)
    wy = torch.as_tensor(np.bincount(iy, minlength=n_y), dtype=torch.float64)
    weighted = frechet_from_samples(torch.from_numpy(x), torch.from_numpy(y), weights_x=wx, weights_y=wy)
    explicit = frechet_distance(_stats(x[ix]), _stats(y[iy]), warn=False).value
    assert weighted == pytest.approx(explicit, rel=1e-8, abs=1e-8)


# ----------------------------------------------------------------------------
# gm.fid
# ----------------------------------------------------------------------------
def test_fid_on_features_stats_and_files(two_sets, tmp_path):
    x, y = two_sets
    ref = frechet_distance(_stats(x), _stats(y)).value
    r = gm.fid(x, y)
    assert r.value == pytest.approx(ref, rel=1e-10)
    assert (r.n_real, r.n_fake) == (1500, 1700)
    path = tmp_path / "real.npz"
    gm.FeatureStats.from_features(x).save(path)
    assert gm.fid(str(path), y).value == pytest.approx(ref, rel=1e-10)
    # a pytorch-fid style file: only mu and sigma, sample count unknown
    np.savez(tmp_path / "pf.npz", mu=x.mean(0), sigma=np.cov(x, rowvar=False))
    r2 = gm.fid(tmp_path / "pf.npz", gm.FeatureStats.from_features(y))
    assert r2.value == pytest.approx(ref, rel=1e-10) and r2.n_real is None
    assert str(r).startswith("FD = ")  # features of unknown origin: not called FID
    assert r.to_dict()["frechet"]["dim"] == 48


def test_fid_refuses_mixed_extractors(two_sets):
    x, y = two_sets
    a = gm.FeatureStats.from_features(x, meta={"extractor": "efficientnet-lite0", "output": "pool"})
    b = gm.FeatureStats.from_features(y, meta={"extractor": "inception-v3-fid", "output": "pool"})
    with pytest.raises(ValueError, match="extractor is 'efficientnet-lite0' for real and 'inception-v3-fid'"):
        gm.fid(a, b)


@pytest.mark.parametrize(
    "src, exc, match",
    [
        ("/no/such/folder", ValueError, "neither an existing folder"),
        ("/no/such/stats.npz", ValueError, "no such statistics file"),
        (np.zeros((3, 4, 5)), ValueError, "must be 2-D \\(N x D features\\) or 4-D \\(N x C x H x W images\\)"),
        (object(), TypeError, "is not a source"),
    ],
)
def test_fid_bad_sources(src, exc, match):
    with pytest.raises(exc, match=match):
        gm.fid(src, np.zeros((10, 4)))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::genmetrics_nb.metrics.distribution.frechet.SingularCovarianceWarning")  # 8 images, D = 1280
def test_fid_on_images_range_check_and_metadata():
    """Images go through the extractor; [0, 1] floats declared as [0, 255] are refused.

    (The default extractor is the published inception-v3-fid, whose weights are not on
    this machine; the offline network is named explicitly.)"""
    from genmetrics_nb.datasets import fashion_mnist

    data = fashion_mnist("test")
    a = data.images[data.labels == 0][:8]
    b = data.images[data.labels == 1][:8]
    r = gm.fid(a, b, extractor="efficientnet-lite0", device="cpu", progress=False)
    assert r.extractor == "efficientnet-lite0" and r.output == "pool"
    assert r.n_real == 8 and r.weights_digest and r.preprocessing
    assert r.value > 0
    as01 = a.astype(np.float32) / 255
    with pytest.raises(ValueError, match=r"look like \[0, 1\] data: declare value_range=\(0, 1\)"):
        gm.fid(as01, b, value_range=(0, 255), extractor="efficientnet-lite0", device="cpu", progress=False)
    r01 = gm.fid(as01, b, value_range=(0, 1), extractor="efficientnet-lite0", device="cpu", progress=False)
    assert r01.value == pytest.approx(r.value, rel=1e-6)  # rounding back to uint8 is exact
    r_b3 = gm.fid(a, b, batch_size=3, extractor="efficientnet-lite0", device="cpu", progress=False)  # batch-size independence
    assert r_b3.value == pytest.approx(r.value, rel=1e-4)


# ----------------------------------------------------------------------------
# FID-infinity
# ----------------------------------------------------------------------------
@pytest.mark.reference
@pytest.mark.parametrize("d, n_real, sizes", [(8, 5000, [500, 1000, 1500, 2000, 3000]),
                                              (64, 60, [20, 30, 40, 50])])  # n > D, and the n < D Gram path
def test_fid_infinity_matches_reference_algorithm(d, n_real, sizes):
    """Chong & Forsyth's calculate_FID_infinity: FID on the first N of a fresh
    shuffle for each N, then sklearn LinearRegression on 1/N, read at 0."""
    from sklearn.linear_model import LinearRegression
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    rng = np.random.default_rng(4)
    real = rng.normal(size=(n_real, d))
    fake = rng.normal(size=(sizes[-1], d)) * 1.1 + 0.1
    expect = pytest.warns(SingularCovarianceWarning, match="smallest size 20 is <= D = 64") if d > sizes[0] \
        else warnings.catch_warnings()
    with expect:
        r = gm.fid_infinity(real, fake, sizes=sizes, seed=11, progress=False)
    perm_rng = np.random.default_rng(11)  # the subsets fid_infinity documents
    mr, sr = _stats(real)
    fids = []
    for n in sizes:
        mf, sf = _stats(fake[perm_rng.permutation(len(fake))[:n]])
        # torch-fidelity's eigvals form: no eps added to singular covariances
        fids.append(fid_statistics_to_metric({"mu": mr, "sigma": sr}, {"mu": mf, "sigma": sf},
                                             False)["frechet_inception_distance"])
    reg = LinearRegression().fit(1 / np.array(sizes).reshape(-1, 1), np.array(fids))
    assert np.allclose(r.fids, fids, rtol=1e-6)
    assert r.value == pytest.approx(reg.predict(np.array([[0.0]]))[0], rel=1e-6)
    assert r.sizes == tuple(sizes)


@pytest.mark.reference
def test_fid_infinity_removes_small_sample_bias():
    # Same distribution: the true FID is 0, FID_N is biased upwards by ~ c/N;
    # the extrapolation must land much closer to 0 than the smallest-N value.
    rng = np.random.default_rng(5)
    d = 16
    real = rng.normal(size=(20000, d))
    fake = rng.normal(size=(4000, d))
    r = gm.fid_infinity(gm.FeatureStats.from_features(real), fake, num_points=8, progress=False)
    assert r.fids[0] > 0.02
    assert abs(r.value) < 0.25 * r.fids[0]
    assert r.slope > 0


def test_fid_infinity_validation():
    x = np.zeros((100, 4)) + np.arange(4)
    with pytest.raises(ValueError, match="sizes go up to 200 but fake_feats has only 100"):
        gm.fid_infinity(np.random.default_rng(0).normal(size=(50, 4)), x, sizes=[50, 200])
    with pytest.raises(TypeError, match="real must be statistics or features"):
        gm.fid_infinity(np.zeros((2, 3, 8, 8), np.uint8), x)
    with pytest.raises(ValueError, match="at least 2 distinct sizes"):
        gm.fid_infinity(x, x, sizes=[50, 50])


def test_result_is_frozen_dataclass(two_sets):
    r = frechet_distance(_stats(two_sets[0]), _stats(two_sets[1]))
    assert isinstance(r, FrechetResult)
    with pytest.raises(Exception):
        r.value = 0.0


# ----------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------
def test_cli_fid_json_matches_api(two_sets, tmp_path, capsys):
    import json

    from genmetrics_nb.cli import main

    x, y = two_sets
    np.save(tmp_path / "real.npy", x)
    gm.FeatureStats.from_features(y).save(tmp_path / "fake.npz")
    assert main(["fid", str(tmp_path / "real.npy"), str(tmp_path / "fake.npz"), "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["value"] == pytest.approx(gm.fid(x, y).value, rel=1e-10)
    assert out["n_real"] == 1500 and out["n_fake"] == 1700


def test_cli_fid_errors(tmp_path, capsys):
    from genmetrics_nb.cli import main
    from genmetrics_nb.sources import is_dataset_spec

    assert is_dataset_spec("fashion-mnist:test") and is_dataset_spec("cifar10")
    assert not is_dataset_spec("imagenet:val")
    assert main(["fid", str(tmp_path / "nope"), str(tmp_path / "nope2")]) == 2
    assert "neither an existing folder or file, nor a dataset name" in capsys.readouterr().err


@pytest.mark.gpu
def test_gpu_matches_cpu(two_sets):
    a, b = _stats(two_sets[0]), _stats(two_sets[1])
    cpu = frechet_distance(a, b, device="cpu").value
    gpu = frechet_distance(a, b, device="cuda").value
    assert gpu == pytest.approx(cpu, rel=1e-9)
    k_cpu = gm.kid(*two_sets, subsets=3, subset_size=200, device="cpu", progress=False).value
    k_gpu = gm.kid(*two_sets, subsets=3, subset_size=200, device="cuda", progress=False).value
    assert k_gpu == pytest.approx(k_cpu, rel=1e-9)
