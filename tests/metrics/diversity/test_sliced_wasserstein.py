"""gm.sliced_wasserstein against POT's ``ot.sliced_wasserstein_distance`` (PyPI ``POT``) and
dgm-eval's ``sw_approx`` (transcribed in tests/reference/dgm_eval_reference.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm

ot = pytest.importorskip("ot")

REFERENCE = Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="module")
def dgm():
    spec = importlib.util.spec_from_file_location("_ref_dgm_eval", REFERENCE / "dgm_eval_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.reference
@pytest.mark.parametrize("n,m", [(300, 300), (300, 170)])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_matches_pot(n, m, p):
    rng = np.random.default_rng(n + m + p)
    x = rng.normal(size=(n, 20))
    y = rng.normal(size=(m, 20)) * 1.2 + 0.3
    want = ot.sliced_wasserstein_distance(x, y, n_projections=100, p=p, seed=5)
    r = gm.sliced_wasserstein(x, y, p=p, num_projections=100, seed=5, projection_block=33,
                              progress=False, device="cpu")
    assert r.value == pytest.approx(want, rel=1e-10)


@pytest.mark.reference
def test_protocol_details_change_the_number():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 16))
    y = rng.normal(size=(400, 16)) * np.linspace(0.5, 2, 16)
    base = gm.sliced_wasserstein(x, y, seed=1, progress=False).value
    assert base == pytest.approx(ot.sliced_wasserstein_distance(x, y, seed=1), rel=1e-10)
    # another projection seed, another number (and POT agrees on it)
    other = gm.sliced_wasserstein(x, y, seed=2, progress=False).value
    assert other == pytest.approx(ot.sliced_wasserstein_distance(x, y, seed=2), rel=1e-10)
    assert abs(other - base) > 1e-3 * base
    # the number of projections and the order p
    more = gm.sliced_wasserstein(x, y, seed=1, num_projections=200, progress=False).value
    assert more == pytest.approx(ot.sliced_wasserstein_distance(x, y, n_projections=200, seed=1), rel=1e-10)
    assert abs(more - base) > 1e-4 * base
    p1 = gm.sliced_wasserstein(x, y, seed=1, p=1, progress=False).value
    assert abs(p1 - base) > 1e-3 * base


@pytest.mark.reference
def test_dgm_eval_approx(dgm):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 32))
    y = rng.normal(size=(350, 32)) * 1.5 + 0.2
    r = gm.sliced_wasserstein(x, y, method="approx", progress=False)
    assert r.value == pytest.approx(dgm.sw_approx(x, y), rel=1e-12)
    assert r.num_projections is None and r.method == "approx"
    # close to the Monte-Carlo SW_2 with many directions (both estimate SW_2), but not equal
    mc = gm.sliced_wasserstein(x, y, num_projections=2000, progress=False).value
    assert r.value == pytest.approx(mc, rel=0.1)
    assert r.value != pytest.approx(mc, rel=1e-6)


def test_result_and_identity():
    x = np.random.default_rng(2).normal(size=(60, 5))
    r = gm.sliced_wasserstein(x, x, progress=False)
    assert float(r) == 0.0
    d = r.to_dict()
    assert d["seed"] == 0 and d["num_projections"] == 50 and d["p"] == 2.0
    assert "SW_2" in str(r) and "\n" not in str(r)


def test_bad_input():
    x = np.random.default_rng(3).normal(size=(30, 4))
    with pytest.raises(ValueError, match="p must be a number >= 1"):
        gm.sliced_wasserstein(x, x, p=0.5, progress=False)
    with pytest.raises(ValueError, match="num_projections must be >= 1"):
        gm.sliced_wasserstein(x, x, num_projections=0, progress=False)
    with pytest.raises(ValueError, match="method must be one of 'monte-carlo', 'approx'"):
        gm.sliced_wasserstein(x, x, method="exact", progress=False)
    with pytest.raises(ValueError, match="real has 4 features per sample but fake has 3"):
        gm.sliced_wasserstein(x, x[:, :3], progress=False)
    with pytest.raises(TypeError, match="seed must be an int"):
        gm.sliced_wasserstein(x, x, seed="a", progress=False)
