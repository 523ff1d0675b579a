"""gm.top_pr against PyPI ``top-pr`` 0.2.1 (``top_pr.top_pr.compute_top_pr``, LAIT-CVLab/TopPR).

``top_pr`` imports torch, sklearn, scipy and gudhi; it is imported inside the
tests only. ``compute_top_pr`` calls ``Fix_seed(42)`` when it projects (D > 32),
which reseeds numpy's global state; for D <= 32 it draws its bootstrap from that
global state unseeded, so the tests seed it with 42 first (what gm.top_pr's
``bootstrap_seed=42`` reproduces).
"""
from __future__ import annotations

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.metrics.support.top_pr import projection_matrix

pytestmark = pytest.mark.reference


def _ref():
    return pytest.importorskip("top_pr.top_pr")


def _data(seed, n, d, shift, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (rng.normal(size=(n, d)) * scale + shift).astype(np.float32)
    return x, y


def _reference(x, y, **kw):
    ref = _ref()
    if kw.get("kernel") == "epanechnikov":
        kw = dict(kw, kernel="epanechinikov")  # the reference's spelling (compact_KDE returns None otherwise)
    state = np.random.get_state()
    try:
        np.random.seed(42)
        out = ref.compute_top_pr(real_features=x, fake_features=y, **kw)
    finally:
        np.random.set_state(state)
    return out


def _ours(x, y, **kw):
    return gm.top_pr(x, y, device="cpu", progress=False, block_size=128, **kw)


def test_projection_is_the_references():
    import torch

    torch.manual_seed(0)
    lin = torch.nn.Linear(64, 32, bias=False)
    torch.manual_seed(99)  # compute_top_pr: Fix_seed(42), nn.Linear(...), manual_seed(99), xavier_normal_
    torch.nn.init.xavier_normal_(lin.weight)
    assert torch.equal(lin.weight.data, projection_matrix(64, seed=99))


@pytest.mark.parametrize("n,d,shift,scale,kw", [
    (600, 64, 0.4, 1.0, {}),                          # the README setting, small: projected 64 -> 32
    (500, 16, 0.3, 1.0, {}),                          # no projection (D <= 32)
    (500, 48, 0.0, 0.7, {"alpha": 0.2}),
    (450, 40, 0.5, 1.0, {"kernel": "epanechnikov"}),
])
def test_matches_compute_top_pr(n, d, shift, scale, kw):
    x, y = _data(n + d, n, d, shift, scale)
    want = _reference(x, y, **kw)
    got = _ours(x, y, **kw)
    # precision and recall are ratios of counts: equal, not approximately equal
    assert got.precision == float(want["fidelity"])
    assert got.recall == float(want["diversity"])
    assert got.f1 == pytest.approx(float(want["Top_F1"]), abs=1e-15)
    assert got.random_proj == (d > 32)


def test_bandwidth_and_band_match_the_references_steps():
    """Bandwidth (balloon quirk) and the confidence band c, step by step with the reference's functions."""
    from scipy.spatial import distance

    ref = _ref()
    x, y = _data(5, 400, 20, 0.2)
    got = _ours(x, y)
    k = 5 * 20
    for feats, h_got, c_got, first in ((x, got.bandwidth_real, got.band_real, True),
                                       (y, got.bandwidth_fake, got.band_fake, False)):
        dist = distance.cdist(feats, feats, metric="euclidean")[:-k]
        est = sorted(sorted(dist[i, i + 1:])[k - 1] for i in range(len(dist)))
        h = est[int(len(est) * 0.5) - 1]
        assert h_got == pytest.approx(h, rel=1e-12)
        np.random.seed(42)
        if not first:  # the fake band's resamples follow the real band's ten in the same stream
            for _ in range(10):
                np.random.choice(np.arange(len(x)), size=len(x), replace=True)
        c, _ = ref.confband_est(data=feats, h=h, alpha=0.1, kernel="cosine", p_val=True)
        assert c_got == pytest.approx(c, rel=1e-9)


def test_protocol_details_change_the_number():
    """Each detail the reference fixes moves the result away from it on this data."""
    x, y = _data(11, 600, 64, 0.4)
    want = _reference(x, y)
    want = (float(want["fidelity"]), float(want["diversity"]))
    assert (_ours(x, y).precision, _ours(x, y).recall) == want
    for kw in ({"projection_seed": 98}, {"bootstrap_seed": 41}, {"alpha": 0.05}, {"kernel": "epanechnikov"},
               {"random_proj": False}):
        got = _ours(x, y, **kw)
        assert (got.precision, got.recall) != want, kw


def test_result_protocol_and_bad_input():
    x, y = _data(3, 200, 8, 0.0)
    r = _ours(x, y)
    assert float(r) == r.precision
    assert r.bootstrap_fields == ("precision", "recall", "f1")
    assert list(r.to_dict())[:4] == ["value", "precision", "recall", "f1"]
    assert "TopP" in str(r) and "<table>" in r._repr_html_()
    with pytest.raises(ValueError, match="alpha must lie strictly between 0 and 1"):
        _ours(x, y, alpha=1.5)
    with pytest.raises(ValueError, match="kernel must be one of"):
        _ours(x, y, kernel="gaussian")
    with pytest.raises(ValueError, match=r"at least 5 \* d \+ 2 = 42 samples in real"):
        _ours(x[:30], y)
