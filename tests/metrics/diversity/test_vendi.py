"""gm.vendi_score against the ``vendi-score`` package (PyPI 0.0.3, ``vendi_score/vendi.py``)
and dgm-eval's per-class Vendi (transcribed in tests/reference/dgm_eval_reference.py)."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.metrics.diversity.vendi import vendi_from_features, vendi_from_kernel

vendi = pytest.importorskip("vendi_score.vendi")

# the reference's own use of scipy.sparse.csr (deprecated namespace), not ours
pytestmark = pytest.mark.filterwarnings("ignore:Please import `csr_matrix`:DeprecationWarning")

REFERENCE = Path(__file__).resolve().parents[2] / "reference"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_ref_{name}", REFERENCE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def dgm():
    return _load("dgm_eval_reference")


@pytest.mark.reference
def test_readme_examples():
    # Vendi-Score README "Usage" (vertaix/Vendi-Score, unchanged since 5f00dc6): 2.9999 and 2.1573.
    samples = [0, 0, 10, 10, 20, 20]
    k = lambda a, b: np.exp(-np.abs(a - b))  # noqa: E731
    K = np.array([[k(a, b) for b in samples] for a in samples])
    # the README prints 2.9999; the exact value is 2.999999996 (research notes, section 2.3)
    assert vendi_from_kernel(K) == pytest.approx(2.9999, abs=1e-4)
    assert vendi_from_kernel(K) == pytest.approx(vendi.score(samples, k), rel=1e-12)
    K3 = [[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert round(vendi_from_kernel(K3), 4) == 2.1573
    for q in (1, 2, 0.5, "inf"):
        assert vendi_from_kernel(K3, q=q) == pytest.approx(vendi.score_K(np.array(K3), q=q), rel=1e-12)


@pytest.mark.reference
@pytest.mark.parametrize("n,d", [(40, 64), (300, 16)])  # Gram (n <= d) and dual (n > d) forms
@pytest.mark.parametrize("q", [1, 2, math.inf])
def test_features_match_reference(n, d, q):
    rng = np.random.default_rng(n + d)
    x = rng.normal(size=(n, d)) + rng.normal(size=d)  # shared offset: not all directions equal
    q_ref = "inf" if math.isinf(q) else q
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    want = vendi.score_K(xn @ xn.T, q=q_ref)  # the n x n route, any q
    r = gm.vendi_score(x, q=q, progress=False, device="cpu")
    assert r.value == pytest.approx(want, rel=1e-10)
    assert r.form == ("dual" if n > d else "gram")
    assert r.value == pytest.approx(vendi.score_dual(x, q=q_ref), rel=1e-10)
    if q == 1:  # score_X passes q=1 on whatever q it is given: compare only there
        assert r.value == pytest.approx(vendi.score_X(x), rel=1e-10)


@pytest.mark.reference
def test_order_and_normalisation_change_the_number():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)) * np.linspace(0.2, 3, 8) + 1.0
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    v1 = gm.vendi_score(x, q=1, progress=False).value
    v2 = gm.vendi_score(x, q=2, progress=False).value
    vi = gm.vendi_score(x, q="inf", progress=False).value
    # Renyi orders decrease with q: a different q gives a different, smaller number
    assert v1 > v2 > vi
    assert v2 == pytest.approx(vendi.score_K(xn @ xn.T, q=2), rel=1e-10)
    assert v2 != pytest.approx(vendi.score_K(xn @ xn.T, q=1), rel=1e-3)
    # without normalisation the kernel differs (K[i, i] != 1) and so does the number
    raw = gm.vendi_score(x, normalize=False, progress=False).value
    assert raw == pytest.approx(vendi.score_dual(x, normalize=False), rel=1e-10)
    assert raw != pytest.approx(v1, rel=1e-3)


@pytest.mark.reference
def test_dgm_eval_per_class_and_polynomial(dgm):
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 60)
    x = rng.normal(size=(240, 12)) * (1 + labels[:, None]) + labels[:, None]
    r = gm.vendi_score(x, labels=labels, progress=False)
    want = dgm.compute_per_class_vendi_scores(x, labels)
    got = np.array([r.per_class[c] for c in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert r.per_class_mean == pytest.approx(want.mean(), rel=1e-10)
    assert r.value == pytest.approx(dgm.compute_vendi_score(x), rel=1e-10)
    poly = gm.vendi_score(x, kernel="polynomial", progress=False)
    assert poly.value == pytest.approx(dgm.compute_vendi_score(x, kernel="polynomial"), rel=1e-10)
    assert poly.value != pytest.approx(r.value, rel=1e-3)  # the kernel changes the number
    assert poly.form == "kernel"


def test_result_protocol():
    x = np.eye(5)[np.arange(100) % 5]
    r = gm.vendi_score(x, progress=False)
    assert float(r) == pytest.approx(5.0)
    d = r.to_dict()
    assert list(d)[0] == "value" and d["q"] == 1.0 and d["kernel"] == "linear"
    assert "Vendi score" in str(r) and "\n" not in str(r)
    assert "<table>" in r._repr_html_()
    with pytest.raises(dataclasses_error()):
        r.value = 1.0


def dataclasses_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_bootstrap_callable():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(80, 6))
    b = gm.bootstrap(lambda a: gm.vendi_score(a, progress=False), x, n_boot=5, progress=False)
    assert b.value == pytest.approx(gm.vendi_score(x, progress=False).value)


def test_bad_input():
    x = np.random.default_rng(0).normal(size=(30, 4))
    with pytest.raises(ValueError, match="q must be >= 0"):
        gm.vendi_score(x, q=-1, progress=False)
    with pytest.raises(ValueError, match="q must be a number >= 0 or 'inf'"):
        gm.vendi_score(x, q="infinity", progress=False)
    with pytest.raises(ValueError, match="kernel must be one of 'linear', 'polynomial'"):
        gm.vendi_score(x, kernel="rbf", progress=False)
    with pytest.raises(ValueError, match="labels must be a 1-D array with one label per sample"):
        gm.vendi_score(x, labels=[0, 1], progress=False)
    with pytest.raises(ValueError, match="max_kernel_n"):
        gm.vendi_score(x, kernel="polynomial", max_kernel_n=10, progress=False)
    with pytest.raises(ValueError, match="K must be a square"):
        vendi_from_kernel(np.ones((2, 3)))


def test_dual_memory_is_d_squared():
    # n >> d goes through the d x d matrix, block by block; the value equals the Gram route
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5000, 3))
    v, form = vendi_from_features(x, block_size=512)
    assert form == "dual"
    v_gram = vendi_from_features(x[:, :3], block_size=10**6)[0]
    assert v == pytest.approx(v_gram, rel=1e-12)
