"""gm.clipped_density_coverage against the authors' code (nicolassalvy/ClippedDensityCoverage,
ClippedDensityCoverage/metrics/Clipped_Density_Coverage.py at 9920dae), transcribed in
tests/reference/clipped_density_coverage_reference.py."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.metrics.distribution.clipped_density_coverage import (
    clipped_coverage_calibration,
    expected_clipped_coverage,
)

REFERENCE = Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="module")
def ref():
    spec = importlib.util.spec_from_file_location("_ref_cdc", REFERENCE / "clipped_density_coverage_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _reference(ref, real, fake, k, **kw):
    cdc = ref.ClippedDensityCoverage(real_data=real, K=k, n_jobs=1)
    return cdc.ClippedDensity(synthetic_data=fake, **kw), cdc.ClippedCoverage(synthetic_data=fake)


@pytest.mark.reference
@pytest.mark.parametrize("shift,scale", [(0.0, 1.0), (0.3, 1.0), (0.0, 0.6), (1.0, 1.5)])
def test_matches_reference(ref, shift, scale):
    rng = np.random.default_rng(int(10 * shift + 7 * scale))
    real = rng.normal(size=(500, 16))
    fake = rng.normal(size=(400, 16)) * scale + shift
    want_d, want_c = _reference(ref, real, fake, 5)
    r = gm.clipped_density_coverage(real, fake, block_size=96, device="cpu", progress=False)
    assert r.clipped_density == pytest.approx(want_d, rel=1e-12)
    assert r.clipped_coverage == pytest.approx(want_c, abs=1e-12)  # a rank over M + 1: exact
    assert r.clipped_coverage == pytest.approx(want_c, abs=0)
    # unclipped above 1 (fakes crowding the dense centre), as the reference's option
    d_free, _ = _reference(ref, real, fake, 5, can_exceed_one=True)
    free = gm.clipped_density_coverage(real, fake, can_exceed_one=True, progress=False)
    assert free.clipped_density == pytest.approx(d_free, rel=1e-12)


@pytest.mark.reference
def test_k_changes_the_numbers(ref):
    rng = np.random.default_rng(5)
    real = rng.normal(size=(400, 8))
    fake = np.random.default_rng(6).normal(size=(400, 8)) + 0.6  # density < 1
    d5, c5 = _reference(ref, real, fake, 5)
    d3, c3 = _reference(ref, real, fake, 3)
    r3 = gm.clipped_density_coverage(real, fake, k=3, progress=False)
    assert (r3.clipped_density, r3.clipped_coverage) == pytest.approx((d3, c3), rel=1e-12)
    # far outside the 1e-12 agreement above: k = 5 instead of 3 would fail it
    assert abs(d3 - d5) > 1e-2 and abs(c3 - c5) > 1e-3


@pytest.mark.reference
def test_calibration_matches_reference(ref):
    # the reference's f (all M + 1 values) and its searchsorted rank, against our binary search
    cdc = ref.ClippedDensityCoverage(real_data=np.zeros((1, 1)), K=5)
    for n_real, m in [(300, 200), (1000, 1000), (50, 400)]:
        f = cdc._f_coverage(K=5, N=n_real, M=m, check_code=True)
        ours = np.array([expected_clipped_coverage(i, k=5, n_real=n_real) for i in range(m + 1)])
        np.testing.assert_allclose(ours, f, rtol=1e-10, atol=1e-300)
        assert np.all(np.diff(f) >= 0)  # increasing: the binary search is valid
        # (values of f itself, like f(k) = k / n_real, are knife edges: f's round-off differs there)
        for y in [0.0, 0.123, 0.37, 0.5, f[m // 2] + 1e-9, f[m // 2] - 1e-9, 0.9, f[-1] - 1e-9, 1.0]:
            assert clipped_coverage_calibration(y, k=5, n_real=n_real, n_fake=m) == cdc._g(y, f)


def test_beside_naeem():
    # the clipped metrics' point (Salvy et al., section 3): a few far real outliers have huge k-NN
    # balls; generated samples near them, off the real manifold, count in Naeem's density and
    # coverage but not in the clipped ones (radii capped at the median)
    rng = np.random.default_rng(9)
    outliers = rng.normal(size=(10, 4)) * 30
    real = np.vstack([rng.normal(size=(300, 4)), outliers])
    fake = np.vstack([rng.normal(size=(150, 4)),  # half on the manifold
                      outliers[rng.integers(0, 10, 150)] + rng.normal(size=(150, 4)) * 2])
    dc = gm.density_coverage(real, fake, progress=False)
    cdc = gm.clipped_density_coverage(real, fake, progress=False)
    assert cdc.clipped_density < 0.6 < dc.density  # about the on-manifold half only
    assert cdc.clipped_coverage < 0.6 < dc.coverage


def test_result_protocol():
    rng = np.random.default_rng(1)
    r = gm.clipped_density_coverage(rng.normal(size=(60, 3)), rng.normal(size=(50, 3)), progress=False)
    assert float(r) == r.clipped_density
    d = r.to_dict()
    assert list(d)[:3] == ["value", "clipped_density", "clipped_coverage"] and d["k"] == 5
    assert "clipped coverage" in str(r) and "\n" not in str(r)
    assert r.bootstrap_fields == ("clipped_density", "clipped_coverage")


def test_bad_input():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(20, 3))
    with pytest.raises(ValueError, match="fake has 3 samples.*pass at least 5"):
        gm.clipped_density_coverage(x, x[:3], progress=False)
    with pytest.raises(ValueError, match="k=20 needs more than k samples in real"):
        gm.clipped_density_coverage(x, x, k=20, progress=False)
    with pytest.raises(TypeError, match="can_exceed_one must be True or False"):
        gm.clipped_density_coverage(x, x, can_exceed_one=1, progress=False)
