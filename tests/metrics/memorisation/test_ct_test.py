"""gm.ct_test against dgm-eval's C_T code (from casey-meehan/data-copying) and the closed-form copy limit.

Outside references:
- ``tests/reference/dgm_eval_memorisation_reference.py``, a literal transcription of
  ``dgm_eval/metrics/ct.py`` of layer6ai-labs/dgm-eval at commit 74c79f7, whose ``Zu``,
  ``Zu_cells`` and ``C_T`` are those of casey-meehan/data-copying ``data_copying_tests.py``;
- the copy limit: when every generated sample of a cell is nearer the training set than every
  held-out sample, U = 0 and Z_U = -(nm/2 - 1/2) / sqrt(nm(n+m+1)/12), -17.30 for n = m = 200
  (research notes paper-tables-2026-12-07.md, item 6; the moons figure of Meehan et al. 2020
  starts near -17 with about 200 points per cell).
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.metrics.memorisation.ct_test import copy_limit

REF = Path(__file__).resolve().parents[2] / "reference" / "dgm_eval_memorisation_reference.py"


def _ref():
    """The transcription, its ``mannwhitneyu`` given 1-D arrays.

    The reference passes ``kneighbors``' (n, 1) distance arrays, so ``Zu`` returns a shape-(1,)
    array, and ``Zu_cells[i] = Zu(...)`` stores it into a float array: NumPy 1.x converted it
    (with a DeprecationWarning since 1.25), NumPy 2 raises "setting an array element with a
    sequence". Ravelling the two columns gives scipy the same samples (axis 0), so the number
    is the one the reference computed under NumPy 1.
    """
    from scipy.stats import mannwhitneyu

    spec = importlib.util.spec_from_file_location("dgm_eval_memorisation_reference", REF)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.mannwhitneyu = lambda x, y, **kw: mannwhitneyu(np.ravel(x), np.ravel(y), **kw)
    return mod


def _ours(t, p, g, **kw):
    kw.setdefault("block_size", 64)
    return gm.ct_test(t, p, g, device="cpu", progress=False, **kw)


def _reference_ct(t, p, g, *, seed=0, num_cells=3):
    """dgm-eval's compute_CTscore step by step, its KMeans seeded (the reference leaves it unseeded)."""
    from sklearn.cluster import KMeans

    ref = _ref()
    t, p, g = ref.preprcoess_ct(t, p, g)
    km = KMeans(n_clusters=num_cells, n_init=10, random_state=seed).fit(t)
    return float(ref.C_T(p, km.predict(p), g, km.predict(g), t, km.predict(t), tau=20 / len(g)))


def _data(seed, n_t, n_p, n_g, d, *, shrink=1.0, copies=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, d)) * 4
    def draw(n):
        return centres[rng.integers(0, 3, n)] + rng.normal(size=(n, d))
    t, p = draw(n_t), draw(n_p)
    g = draw(n_g) * shrink
    g[:copies] = t[:copies] + rng.normal(size=(copies, d)) * 0.05
    return t, p, g


def test_copy_limit_closed_form():
    assert copy_limit(200, 200) == pytest.approx(-17.30, abs=0.005)
    assert copy_limit(100, 100) == pytest.approx(-12.22, abs=0.005)
    assert copy_limit(1000, 1000) == pytest.approx(-38.72, abs=0.005)
    # the same limit from the reference's own Zu: generated samples copying training samples exactly
    rng = np.random.default_rng(0)
    t, p = rng.normal(size=(2000, 2)), rng.normal(size=(200, 2))
    assert float(_ref().Zu(p, t[:200], t)) == pytest.approx(copy_limit(200, 200), abs=1e-12)


@pytest.mark.reference
def test_copy_limit_reached_per_cell():
    rng = np.random.default_rng(1)
    t, p = rng.normal(size=(2000, 2)), rng.normal(size=(200, 2))
    r = _ours(t, p, t[:200].copy(), num_cells=1)
    assert r.value == pytest.approx(-(200 * 200 / 2 - 0.5) / math.sqrt(200 * 200 * 401 / 12), abs=1e-12)
    far = _ours(t, p, t[:200] + 50, num_cells=1)
    assert far.value == pytest.approx(-copy_limit(200, 200) + 1 / math.sqrt(200 * 200 * 401 / 12), abs=1e-12)


@pytest.mark.reference
@pytest.mark.parametrize("seed,d,shrink,copies", [(0, 8, 1.0, 0), (1, 100, 1.0, 150), (2, 16, 0.8, 0)])
def test_matches_dgm_eval(seed, d, shrink, copies):
    t, p, g = _data(seed, 450, 300, 300, d, shrink=shrink, copies=copies)
    want = _reference_ct(t, p, g, seed=seed)
    got = _ours(t, p, g, seed=seed)
    assert got.value == pytest.approx(want, abs=1e-9)
    assert got.pca_components == (64 if d > 64 else None)


@pytest.mark.reference
def test_protocol_details_change_the_number():
    t, p, g = _data(5, 450, 300, 300, 100, copies=100)
    want = _reference_ct(t, p, g, seed=5)
    assert _ours(t, p, g, seed=5).value == pytest.approx(want, abs=1e-9)
    assert abs(_ours(t, p, g, seed=5, num_cells=4).value - want) > 1e-3
    assert abs(_ours(t, p, g, seed=5, pca_components=None).value - want) > 1e-3
    assert abs(_ours(t, p, g, seed=5, pca_components=32).value - want) > 1e-3


def test_result_protocol_and_bad_input():
    t, p, g = _data(6, 200, 100, 100, 4)
    r = _ours(t, p, g)
    assert float(r) == r.value and len(r.zu) == 3 and sum(r.test_share) == pytest.approx(1.0)
    assert list(r.to_dict())[:2] == ["value", "zu"]
    assert "C_T" in str(r) and "<table>" in r._repr_html_()
    with pytest.raises(ValueError, match="tau must be a share"):
        _ours(t, p, g, tau=1.5)
    with pytest.raises(ValueError, match="pass a smaller num_cells"):
        _ours(t, p[:2], g, num_cells=3)
    with pytest.raises(ValueError, match="same extractor output"):
        _ours(t, p[:, :3], g)
