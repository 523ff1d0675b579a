"""gm.alpha_precision against the authors' ``compute_alpha_precision``.

Outside reference: ``tests/reference/alpha_precision_reference.py``, a literal
transcription of ``metrics/evaluation.py`` of ahmedmalaa/evaluating-generative-models
at commit 093910e, called as its ``metrics/combined.py`` calls it without a
one-class embedding (``emb_center = np.mean(X, axis=0)``). The data are
float32-representable, since the reference casts the features to float32.
Its curves are means of float32 arrays (``.float().numpy()``), so they carry
float32 rounding: the tolerance is 1e-7 (a curve step is 1/n, over 1e-3 here).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm

REF = Path(__file__).resolve().parents[2] / "reference" / "alpha_precision_reference.py"


def _reference(x, y, center=None):
    spec = importlib.util.spec_from_file_location("alpha_precision_reference", REF)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.compute_alpha_precision(x, y, np.mean(x, axis=0) if center is None else center)


def _data(seed, n, m, d, shift=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32).astype(np.float64)
    y = (rng.normal(size=(m, d)) * scale + shift).astype(np.float32).astype(np.float64)
    return x, y


def _ours(x, y, **kw):
    return gm.alpha_precision(x, y, device="cpu", progress=False, block_size=64, **kw)


@pytest.mark.reference
@pytest.mark.parametrize("seed,n,m,d,shift,scale", [
    (0, 400, 300, 16, 0.3, 1.0),
    (1, 300, 300, 64, 0.0, 0.6),   # mode collapse: fakes concentrated near the centre
    (2, 350, 200, 8, -0.5, 1.4),
])
def test_matches_compute_alpha_precision(seed, n, m, d, shift, scale):
    x, y = _data(seed, n, m, d, shift, scale)
    alphas, p_curve, b_curve, d_p, d_b, auth = _reference(x, y)
    got = _ours(x, y)
    np.testing.assert_allclose(got.alphas, alphas, rtol=0, atol=0)
    np.testing.assert_allclose(got.alpha_precision_curve, p_curve, rtol=0, atol=1e-7)
    np.testing.assert_allclose(got.beta_recall_curve, b_curve, rtol=0, atol=1e-7)
    assert got.alpha_precision == pytest.approx(d_p, abs=1e-7)
    assert got.beta_recall == pytest.approx(d_b, abs=1e-7)
    assert got.authenticity == pytest.approx(auth, abs=1e-7)


@pytest.mark.reference
def test_given_center_matches_reference():
    x, y = _data(3, 300, 250, 12, 0.2)
    c = np.full(12, 0.5)
    want = _reference(x, y, center=c)
    got = _ours(x, y, center=c)
    assert (got.alpha_precision, got.beta_recall, got.authenticity) == pytest.approx(want[3:], abs=1e-7)
    assert got.center == "given"


@pytest.mark.reference
def test_protocol_details_change_the_number():
    x, y = _data(4, 400, 300, 16, 0.3)
    want = _reference(x, y)
    assert _ours(x, y).alpha_precision == pytest.approx(want[3], abs=1e-7)
    assert abs(_ours(x, y, n_steps=20).alpha_precision - want[3]) > 1e-3       # the alpha grid
    assert abs(_ours(x, y, center=np.zeros(16)).alpha_precision - want[3]) > 1e-3  # the centre
    assert abs(_ours(x, y, authenticity="per-sample").authenticity - want[5]) > 1e-3  # the estimator


def test_per_sample_authenticity_is_authpct():
    """The paper's per-sample authenticity is dgm-eval's AuthPct / 100 (checked there against its code)."""
    x, y = _data(5, 300, 350, 8)
    r = _ours(x, y, authenticity="per-sample")
    assert r.authenticity * 100 == pytest.approx(gm.authpct(x, y, device="cpu", progress=False).value, abs=1e-9)


def test_embedding_and_invariance():
    x, y = _data(6, 200, 200, 6, 0.4)
    a = _ours(x, y)
    b = _ours(x, y, embedding=lambda t: 3.0 * t + 1.0)  # distances scale, every comparison stays
    assert (a.alpha_precision, a.beta_recall, a.authenticity) == pytest.approx(
        (b.alpha_precision, b.beta_recall, b.authenticity), abs=1e-12)
    assert b.embedding == "<lambda>" and a.embedding == "identity"


def test_result_protocol_and_bad_input():
    x, y = _data(7, 100, 120, 4)
    r = _ours(x, y[:100])
    assert float(r) == r.alpha_precision
    assert r.bootstrap_fields == ("alpha_precision", "beta_recall", "authenticity")
    assert "alpha-precision" in str(r) and "<table>" in r._repr_html_()
    with pytest.raises(ValueError, match="pass authenticity='per-sample'"):
        _ours(x[:20], y)
    with pytest.raises(ValueError, match="authenticity must be one of"):
        _ours(x, y, authenticity="paper")
    with pytest.raises(ValueError, match="center must be a vector of length 4"):
        _ours(x, y, center=np.zeros(3))
    with pytest.raises(TypeError, match="embedding must be a callable"):
        _ours(x, y, embedding=3)
