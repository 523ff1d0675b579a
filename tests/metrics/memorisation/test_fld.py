"""gm.fld against marcojira/fld's ``FLD.compute_metric``.

Outside reference: ``tests/reference/fld_reference.py``, a literal transcription of
``fld/utils.py``, ``fld/metrics/Metric.py``, ``fld/MoG.py`` and ``fld/metrics/FLD.py`` of
marcojira/fld at commit ffbbf20. The reference draws its shuffles from numpy's global
state; ``np.random.seed(seed)`` before it gives gm.fld's ``seed`` draws. Both compute in
float32 (``torch.cdist``, Adam), and gm.fld sums each minibatch's loss over row blocks,
so values agree to float32 rounding carried through the fit.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm

REF = Path(__file__).resolve().parents[2] / "reference" / "fld_reference.py"


def _ref_module():
    spec = importlib.util.spec_from_file_location("fld_reference", REF)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.DEVICE = __import__("torch").device("cpu")
    return mod


def _reference(train, test, gen, *, eval_feat="test", seed=0, gen_size=10000):
    import torch

    ref = _ref_module()
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        metric = ref.FLD(eval_feat=eval_feat, gen_size=gen_size)
        return metric.compute_metric(*(torch.tensor(a, dtype=torch.float32) for a in (train, test, gen)))
    finally:
        np.random.set_state(state)


def _data(seed, n_train, n_test, n_gen, d, *, copies=0, noise=1.0):
    rng = np.random.default_rng(seed)
    train = rng.normal(size=(n_train, d))
    test = rng.normal(size=(n_test, d))
    gen = rng.normal(size=(n_gen, d)) * noise
    gen[:copies] = train[:copies] + 0.01 * rng.normal(size=(copies, d))
    return train.astype(np.float32), test.astype(np.float32), gen.astype(np.float32)


def _ours(train, test, gen, **kw):
    kw.setdefault("block_rows", 97)
    return gm.fld(train, test, gen, device="cpu", progress=False, **kw)


@pytest.mark.reference
@pytest.mark.parametrize("eval_set", ["test", "train", "gap"])
def test_matches_reference(eval_set):
    train, test, gen = _data(0, 600, 300, 300, 16, copies=50)
    want = _reference(train, test, gen, eval_feat=eval_set, seed=3)
    got = _ours(train, test, gen, eval_set=eval_set, seed=3)
    assert got.value == pytest.approx(want, rel=1e-4, abs=1e-3)


@pytest.mark.reference
def test_subsample_and_uncached_distances_match_reference():
    """More generated samples than gen_size (the first draw), distances recomputed per block."""
    train, test, gen = _data(1, 500, 250, 400, 8, noise=1.2)
    want = _reference(train, test, gen, seed=5, gen_size=300)
    got = _ours(train, test, gen, seed=5, gen_size=300, max_cache_bytes=0)
    assert got.value == pytest.approx(want, rel=1e-4, abs=1e-3)
    assert got.n_generated == 300


@pytest.mark.reference
def test_protocol_details_change_the_number():
    train, test, gen = _data(2, 600, 300, 300, 16, copies=100)
    want = _reference(train, test, gen, seed=0)
    assert _ours(train, test, gen, seed=0).value == pytest.approx(want, rel=1e-4, abs=1e-3)
    assert abs(_ours(train, test, gen, seed=1).value - want) > 1e-2          # the shuffles (baseline split)
    assert abs(_ours(train, test, gen, eval_set="train").value - want) > 1.0  # the evaluated set
    assert abs(_ours(train, test, gen, gen_size=200).value - want) > 1e-2     # the generated subsample


def test_memorisation_raises_fld_and_gap_goes_negative():
    train, test, gen = _data(3, 600, 300, 300, 8)
    good = _ours(train, test, gen)
    with pytest.warns(UserWarning, match="likely memorised"):  # the reference's warning above 1,000
        copied = _ours(train, test, train[:300])
    assert copied.value > good.value
    with pytest.warns(UserWarning, match="FLD gap value"):
        gap_copied = _ours(train, test, train[:300], eval_set="gap").value
    assert gap_copied < _ours(train, test, gen, eval_set="gap").value


def test_result_protocol_and_bad_input():
    train, test, gen = _data(4, 200, 100, 100, 4)
    r = _ours(train, test, gen, baseline_nll=1.3)
    assert float(r) == r.value and r.baseline_given and r.baseline_nll == 1.3
    assert r.value == pytest.approx((r.nll - 1.3) * 100, rel=1e-9)
    assert list(r.to_dict())[:3] == ["value", "eval_set", "nll"]
    assert "FLD" in str(r) and "<table>" in r._repr_html_()
    with pytest.raises(ValueError, match="eval_set must be one of"):
        _ours(train, test, gen, eval_set="val")
    with pytest.raises(ValueError, match="baseline_nll must be a finite number"):
        _ours(train, test, gen, baseline_nll=float("nan"))
    with pytest.raises(ValueError, match="same extractor output"):
        _ours(train, test[:, :2], gen)
