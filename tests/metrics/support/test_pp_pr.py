"""gm.pp_pr against the authors' code.

Outside reference: ``tests/reference/pp_pr_reference.py``, a literal
transcription of ``metric/pp_pr.py`` of kdst-team/Probablistic_precision_recall
at commit 7e15c91 (its CPU path, sklearn ``pairwise_distances``).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm

REF = Path(__file__).resolve().parents[2] / "reference" / "pp_pr_reference.py"


def _reference():
    spec = importlib.util.spec_from_file_location("pp_pr_reference", REF)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _data(seed=0, n=300, m=250, d=16):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 1.1 + 0.2


@pytest.mark.reference
@pytest.mark.parametrize("a,k", [(1.2, 4), (1.0, 2), (1.5, 6)])
def test_matches_reference(a, k):
    ref = _reference()
    x, y = _data()
    want = ref.compute_pprecision_precall(x, y, a=a, kth=k)
    got = gm.pp_pr(x, y, a=a, k=k, block_size=64, device="cpu", progress=False)
    assert got.p_precision == pytest.approx(float(want[0]), abs=1e-12)
    assert got.p_recall == pytest.approx(float(want[1]), abs=1e-12)
    assert (got.a, got.k) == (a, k)


@pytest.mark.reference
def test_matches_reference_with_outlier_and_unequal_sets():
    # the toy setting of the paper in small: one real outlier, shifted fakes
    ref = _reference()
    rng = np.random.default_rng(777)
    x = rng.normal(size=(400, 64))
    x[0] = -2 + rng.normal(size=64)
    y = rng.normal(size=(300, 64)) + 0.4
    want = ref.compute_pprecision_precall(x, y)
    got = gm.pp_pr(x, y, device="cpu", progress=False)
    assert (got.p_precision, got.p_recall) == pytest.approx((float(want[0]), float(want[1])), abs=1e-12)


@pytest.mark.reference
def test_protocol_details_change_the_number():
    """The test above would fail if k or a drifted from the reference's defaults (k = 4, a = 1.2)."""
    ref = _reference()
    x, y = _data(1)
    want = np.array(ref.compute_pprecision_precall(x, y), dtype=float)
    for opts in ({"k": 3}, {"k": 5}, {"a": 1.1}, {"a": 1.3}):
        got = gm.pp_pr(x, y, device="cpu", progress=False, **opts)
        assert np.abs(np.array([got.p_precision, got.p_recall]) - want).max() > 1e-3, opts


def test_blocks_and_types_do_not_change_the_number():
    import torch

    x, y = _data(2)
    a = gm.pp_pr(x, y, block_size=7, device="cpu", progress=False)
    b = gm.pp_pr(torch.from_numpy(x), torch.from_numpy(y), block_size=4096, device="cpu", progress=False)
    assert a.p_precision == pytest.approx(b.p_precision, abs=1e-12)
    assert a.p_recall == pytest.approx(b.p_recall, abs=1e-12)


def test_result_protocol():
    x, y = _data(3, n=60, m=50, d=4)
    r = gm.pp_pr(x, y, device="cpu", progress=False)
    assert float(r) == r.p_precision
    assert list(r.to_dict())[:3] == ["value", "p_precision", "p_recall"]
    assert r.bootstrap_fields == ("p_precision", "p_recall")
    assert "P-precision" in str(r) and "<table>" in r._repr_html_()
    b = gm.bootstrap(gm.pp_pr, x, y, n_boot=3, progress=False, device="cpu")
    assert b.names == ("p_precision", "p_recall")


def test_bad_input():
    x, y = _data(4, n=20, m=20, d=3)
    with pytest.raises(ValueError, match="a must be a positive number"):
        gm.pp_pr(x, y, a=0, progress=False)
    with pytest.raises(ValueError, match="k=30 needs more than k samples in real"):
        gm.pp_pr(x, y, k=30, progress=False)
    with pytest.raises(ValueError, match="same extractor output"):
        gm.pp_pr(x, y[:, :2], progress=False)
