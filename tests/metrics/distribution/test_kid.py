"""KID: unbiased MMD^2 with the cubic polynomial kernel.

References: torch-fidelity's ``kid_features_to_metric`` (same RandomState
subsets), torchmetrics' ``poly_mmd`` on identical subsets, and the defining
double sum written out in the test.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.metrics.distribution.kid import mmd2_unbiased


@pytest.fixture(scope="module")
def feats():
    rng = np.random.default_rng(0)
    x = np.maximum(rng.normal(size=(300, 24)), 0)
    y = np.maximum(rng.normal(size=(260, 24)) * 1.2 + 0.1, 0)
    return x, y


@pytest.mark.reference
def test_matches_torch_fidelity_subsets(feats):
    from torch_fidelity.metric_kid import kid_features_to_metric

    x, y = feats
    ref = kid_features_to_metric(
        torch.from_numpy(x), torch.from_numpy(y),
        kid_subsets=20, kid_subset_size=100, kid_kernel="poly",
        kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1,
        rng_seed=5, verbose=False,
    )
    got = gm.kid(x, y, subsets=20, subset_size=100, seed=5, progress=False)
    assert got.value == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-9)
    assert got.std == pytest.approx(ref["kernel_inception_distance_std"], rel=1e-9)
    assert len(got.values) == 20


@pytest.mark.reference
def test_matches_torchmetrics_poly_mmd(feats):
    from torchmetrics.image.kid import poly_mmd

    x, y = (torch.from_numpy(a[:200]) for a in feats)
    ref = float(poly_mmd(x, y, degree=3, gamma=None, coef=1.0))
    assert mmd2_unbiased(x, y) == pytest.approx(ref, rel=1e-9)
    # one subset holding every sample: the KID is that single estimate
    got = gm.kid(x, y, subsets=1, subset_size=200, progress=False)
    assert got.value == pytest.approx(ref, rel=1e-9) and got.std == 0.0


@pytest.mark.reference
def test_definition_written_out():
    # MMD_u^2 = 1/(m(m-1)) sum_{i!=j} k(x_i,x_j) + 1/(m(m-1)) sum_{i!=j} k(y_i,y_j)
    #           - 2/m^2 sum_{i,j} k(x_i,y_j),  k(a,b) = (a.b/D + 1)^3   (Binkowski et al. eq. 3-4)
    rng = np.random.default_rng(1)
    m, d = 30, 5
    x, y = rng.normal(size=(m, d)), rng.normal(size=(m, d)) + 0.3
    k = lambda a, b: (a @ b / d + 1.0) ** 3  # noqa: E731
    sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    syy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    sxy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    expected = (sxx + syy) / (m * (m - 1)) - 2 * sxy / m**2
    got = mmd2_unbiased(torch.from_numpy(x), torch.from_numpy(y), block_size=7)
    assert got == pytest.approx(expected, rel=1e-10)


@pytest.mark.reference
def test_unbiased_near_zero_for_same_distribution():
    # E[MMD_u^2] = 0 when both sets come from one distribution (unbiasedness);
    # the mean over subsets must be within a few standard errors of 0.
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    r = gm.kid(x, y, subsets=50, subset_size=200, progress=False)
    assert abs(r.value) < 4 * r.std / np.sqrt(50) + 1e-4


def test_block_size_and_dtype_independence(feats):
    x, y = feats
    a = gm.kid(x, y, subsets=5, subset_size=120, progress=False).value
    b = gm.kid(x, y, subsets=5, subset_size=120, block_size=17, progress=False).value
    c = gm.kid(torch.from_numpy(x).float(), y, subsets=5, subset_size=120, progress=False).value
    assert a == pytest.approx(b, rel=1e-12)
    assert a == pytest.approx(c, rel=1e-5)  # float32 features: input rounding only


def test_result_object(feats):
    r = gm.kid(*feats, subsets=3, subset_size=50, progress=False)
    assert "KID =" in str(r) and float(r) == r.value
    d = r.to_dict()
    assert d["subset_size"] == 50 and len(d["values"]) == 3


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(subset_size=1000), ValueError, r"subset_size=1000 exceeds the number of samples \(real: 300, fake: 260\); pass subset_size <= 260"),
        (dict(subsets=0), ValueError, "subsets must be >= 1"),
        (dict(subsets=2.5), TypeError, "subsets must be an int"),
        (dict(degree=0), ValueError, "degree must be >= 1"),
        (dict(seed="a"), TypeError, "seed must be an int"),
    ],
)
def test_bad_options(feats, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        gm.kid(*feats, progress=False, **kwargs)


def test_bad_features(feats):
    x, y = feats
    with pytest.raises(ValueError, match="real has 24 features per sample but fake has 23"):
        gm.kid(x, y[:, :23], progress=False)
    # a 4-D float array is images: their range must be declared, and the error names the side
    with pytest.raises(TypeError, match="real are floating point, so their range must be declared"):
        gm.kid(np.zeros((4, 3, 8, 8)), y, progress=False)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="real contains NaN or Inf in 1 of 300 rows"):
        gm.kid(bad, y, progress=False)


def test_cli_kid_matches_api(feats, tmp_path, capsys):
    import json

    from genmetrics_nb.cli import main

    x, y = feats
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", y)
    args = ["kid", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--subsets", "4", "--subset-size", "50",
            "--seed", "3", "--json", "--no-progress"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["value"] == pytest.approx(gm.kid(x, y, subsets=4, subset_size=50, seed=3, progress=False).value)
    gm.FeatureStats.from_features(x).save(tmp_path / "s.npz")
    assert main(["kid", str(tmp_path / "s.npz"), str(tmp_path / "b.npy")]) == 2
    assert "is the statistics file" in (err := capsys.readouterr().err) and "KID needs the per-sample features" in err
