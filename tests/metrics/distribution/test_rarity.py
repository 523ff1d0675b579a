"""gm.rarity_score against the Rarity Score reference code (hichoe95/Rarity-Score, src/rarity_score.py
at ec2ebd8), transcribed in tests/reference/rarity_score_reference.py."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm

REFERENCE = Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="module")
def ref():
    spec = importlib.util.spec_from_file_location("_ref_rarity", REFERENCE / "rarity_score_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _reference(ref, real, fake, k, capsys):
    scores, ids = ref.MANIFOLD(real_features=real, fake_features=fake).rarity(k=k)
    capsys.readouterr()  # the reference prints progress
    return scores, ids


@pytest.mark.reference
@pytest.mark.parametrize("k", [1, 3, 5])
def test_matches_reference(ref, k, capsys):
    rng = np.random.default_rng(k)
    real = rng.normal(size=(400, 24))
    fake = rng.normal(size=(300, 24)) * 1.15 + 0.1
    scores, ids = _reference(ref, real, fake, k, capsys)
    # small blocks: many tiles, and both the float32 fast path and the float64 refinement run
    r = gm.rarity_score(real, fake, k=k, block_size=64, device="cpu", progress=False)
    np.testing.assert_allclose(r.scores, scores, rtol=1e-12, atol=0)
    assert np.array_equal(r.in_manifold, scores > 0)
    assert r.order.shape == ids.shape
    np.testing.assert_allclose(r.scores[r.order], scores[ids], rtol=1e-12)  # rarest first
    assert r.value == pytest.approx(scores[scores > 0].mean(), rel=1e-12)
    assert 0 < r.in_manifold_share < 1


@pytest.mark.reference
def test_k_changes_the_scores(ref, capsys):
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(300, 8)), rng.normal(size=(200, 8))
    s3, _ = _reference(ref, real, fake, 3, capsys)
    r5 = gm.rarity_score(real, fake, k=5, progress=False)
    s5, _ = _reference(ref, real, fake, 5, capsys)
    np.testing.assert_allclose(r5.scores, s5, rtol=1e-12)
    assert np.abs(r5.scores - s3).max() > 1e-2  # a different k is a different protocol


@pytest.mark.reference
def test_boundary_is_strict():
    # a fake exactly on a ball's boundary is outside (the reference's radius - distance > 0)
    real = np.array([[0.0], [1.0], [3.0]])  # k = 1 radii: 1, 1, 2
    fake = np.array([[1.0 + 2.0], [-1.0], [2.0], [0.25]])
    r = gm.rarity_score(real, fake, k=1, progress=False)
    # [3.0] is the centre of the radius-2 ball; [-1] is at 1 from 0 (boundary); [2] is at 1 from
    # both 1 and 3: only inside the radius-2 ball; [0.25] is inside the balls of 0 and 1 (radius 1)
    assert r.scores.tolist() == [2.0, 0.0, 2.0, 1.0]
    assert r.in_manifold.tolist() == [True, False, True, True]


def test_result_protocol():
    rng = np.random.default_rng(1)
    r = gm.rarity_score(rng.normal(size=(50, 3)), rng.normal(size=(40, 3)), progress=False)
    d = r.to_dict()
    assert "scores" not in d and d["k"] == 3 and list(d)[0] == "value"
    assert "rarity score" in str(r) and "\n" not in str(r)
    assert float(r) == r.value


def test_bad_input():
    x = np.random.default_rng(2).normal(size=(5, 3))
    with pytest.raises(ValueError, match="k=5 needs more than k samples in real"):
        gm.rarity_score(x, x, k=5, progress=False)
    with pytest.raises(ValueError, match="real has 3 features per sample but fake has 2"):
        gm.rarity_score(x, x[:, :2], progress=False)
