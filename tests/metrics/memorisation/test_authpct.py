"""gm.authpct against dgm-eval's ``compute_authpct``.

Outside reference: ``tests/reference/dgm_eval_memorisation_reference.py``, a
literal transcription of ``dgm_eval/metrics/authpct.py`` (and ``ct.py``) of
layer6ai-labs/dgm-eval at commit 74c79f7.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm

REF = Path(__file__).resolve().parents[2] / "reference" / "dgm_eval_memorisation_reference.py"


def _ref():
    spec = importlib.util.spec_from_file_location("dgm_eval_memorisation_reference", REF)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _ours(t, g, **kw):
    return gm.authpct(t, g, device="cpu", progress=False, block_size=64, **kw)


@pytest.mark.reference
@pytest.mark.parametrize("seed,n,m,d,copies", [(0, 400, 300, 16, 0), (1, 300, 500, 64, 60), (2, 500, 200, 4, 20)])
def test_matches_compute_authpct(seed, n, m, d, copies):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, d)).astype(np.float32)
    g = rng.normal(size=(m, d)).astype(np.float32)
    g[:copies] = t[:copies] + rng.normal(size=(copies, d)).astype(np.float32) * 0.01  # near-copies
    want = _ref().compute_authpct(t, g)
    got = _ours(t, g)
    assert got.value == pytest.approx(want, abs=1e-4)  # reference: float32 100 * sum / len
    assert got.n_authentic == round(want * m / 100)


@pytest.mark.reference
def test_threshold_detail_changes_the_number():
    """The threshold is the nearest *other* training sample: counting the sample itself (k = 0) or the
    second neighbour (k = 2) would give another number."""
    from genmetrics_nb.metrics.distribution.knn import knn_radii

    rng = np.random.default_rng(3)
    t = rng.normal(size=(300, 8)).astype(np.float32)
    g = rng.normal(size=(300, 8)).astype(np.float32)
    want = _ref().compute_authpct(t, g)
    assert _ours(t, g).value == pytest.approx(want, abs=1e-4)
    d = np.linalg.norm(g[:, None, :].astype(np.float64) - t[None].astype(np.float64), axis=2)
    i, dist = d.argmin(1), d.min(1)
    second = knn_radii(t, k=2, device="cpu")
    assert abs(100 * np.mean(second[i] < dist) - want) > 1.0


def test_copies_and_far_samples():
    rng = np.random.default_rng(4)
    t = rng.normal(size=(200, 6))
    assert _ours(t, t[:50]).value == 0.0
    assert _ours(t, t[:50] + 100).value == 100.0


def test_result_protocol_and_bad_input():
    rng = np.random.default_rng(5)
    t, g = rng.normal(size=(50, 3)), rng.normal(size=(40, 3))
    r = _ours(t, g)
    assert float(r) == r.value and 0 <= r.value <= 100
    assert list(r.to_dict()) == ["value", "n_authentic", "n_train", "n_generated"]
    assert "AuthPct" in str(r) and "<table>" in r._repr_html_()
    with pytest.raises(ValueError, match="train needs at least 2 samples"):
        _ours(t[:1], g)
    with pytest.raises(ValueError, match="same extractor output"):
        _ours(t, g[:, :2])
