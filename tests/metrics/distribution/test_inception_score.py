"""Inception Score.

References: torch-fidelity's ``isc_features_to_metric`` (same shuffling with
RandomState(2020)), torchmetrics' ``InceptionScore`` (fed the logits through
an identity feature module, with its torch.randperm reproduced), and closed
forms (confident balanced predictions give IS = number of classes; identical
predictions give IS = 1).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import genmetrics_nb as gm


@pytest.fixture(scope="module")
def logits():
    rng = np.random.default_rng(0)
    return rng.normal(size=(600, 12)) * 3


@pytest.mark.reference
def test_matches_torch_fidelity(logits):
    from torch_fidelity.metric_isc import isc_features_to_metric

    ref = isc_features_to_metric(torch.from_numpy(logits), splits=10, shuffle=True, rng_seed=2020)
    got = gm.inception_score(logits, splits=10, shuffle=True, seed=2020)
    assert got.value == pytest.approx(ref["inception_score_mean"], rel=1e-10)
    assert got.std == pytest.approx(ref["inception_score_std"], rel=1e-9)
    unshuffled = isc_features_to_metric(torch.from_numpy(logits[:597]), splits=7, shuffle=False)
    got2 = gm.inception_score(logits[:597], splits=7)  # 597 not divisible by 7: same cut points
    assert got2.value == pytest.approx(unshuffled["inception_score_mean"], rel=1e-10)


@pytest.mark.reference
@pytest.mark.filterwarnings("ignore:Metric `InceptionScore` will save all extracted features:UserWarning")
def test_matches_torchmetrics(logits):
    from torchmetrics.image.inception import InceptionScore

    x = torch.from_numpy(logits)
    metric = InceptionScore(feature=torch.nn.Identity(), splits=6)
    metric.update(x)
    torch.manual_seed(3)
    ref_mean, ref_std = metric.compute()
    torch.manual_seed(3)
    perm = torch.randperm(len(x))  # the permutation torchmetrics draws first
    got = gm.inception_score(logits[perm.numpy()], splits=6)
    assert got.value == pytest.approx(float(ref_mean), rel=1e-10)
    # torchmetrics reports the unbiased std (ddof 1); we report ddof 0 like the original code
    assert np.std(got.scores, ddof=1) == pytest.approx(float(ref_std), rel=1e-9)


@pytest.mark.reference
def test_closed_forms():
    onehot = np.eye(5)[np.arange(1000) % 5] * 80.0  # confident, balanced over 5 classes
    assert gm.inception_score(onehot, splits=4).value == pytest.approx(5.0, rel=1e-9)
    same = np.tile(np.array([[1.0, 2.0, 0.5]]), (90, 1))  # every p(y|x) equal to p(y)
    assert gm.inception_score(same, splits=3).value == pytest.approx(1.0, abs=1e-12)
    probs = np.eye(4)[np.arange(400) % 4]  # exact zeros in the probabilities: 0 log 0 = 0
    assert gm.inception_score(probs, splits=2, from_logits=False).value == pytest.approx(4.0, rel=1e-12)


def test_probabilities_and_logits_agree(logits):
    p = torch.softmax(torch.from_numpy(logits), 1).numpy()
    a = gm.inception_score(logits, splits=5)
    b = gm.inception_score(p, splits=5, from_logits=False)
    assert a.value == pytest.approx(b.value, rel=1e-9)
    assert len(a.scores) == 5 and "IS =" in str(a) and a.to_dict()["splits"] == 5


@pytest.mark.parametrize(
    "x, kwargs, exc, match",
    [
        (np.full((10, 4), 0.25), {}, ValueError, "look like probabilities.*from_logits=False"),
        (np.ones((10, 4)), dict(from_logits=False), ValueError, "must be non-negative and sum to 1"),
        (np.ones((5, 4)), dict(splits=10), ValueError, "fewer than splits=10; pass splits <= 5"),
        (np.ones((5, 1)), dict(splits=1), ValueError, "needs at least 2 classes"),
        (np.ones((5, 4)), dict(splits=0), ValueError, "splits must be >= 1"),
        (np.ones((5, 4)), dict(from_logits=1), TypeError, "from_logits must be True or False"),
        (np.ones(5), {}, ValueError, "must be 2-D"),
    ],
)
def test_bad_input(x, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        gm.inception_score(x, **kwargs)


# Probabilities in half precision ("Never a plausible wrong number", class 3).
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "numpy-float16"])
def test_half_precision_probabilities_are_probabilities(logits, dtype):
    p = torch.softmax(torch.from_numpy(logits), 1)
    ph = p.to(torch.float16).numpy() if dtype == "numpy-float16" else p.to(getattr(torch, dtype))
    sums = torch.as_tensor(ph).double().sum(1)
    assert float((sums - 1).abs().max()) > 1e-4  # outside a float32 tolerance: the case
    # The same data passed the right way: the rounded probabilities, normalised, in float64.
    right = torch.as_tensor(ph).double()
    right = (right / right.sum(1, keepdim=True)).numpy()
    expected = gm.inception_score(right, splits=5, from_logits=False).value
    got = gm.inception_score(ph, splits=5, from_logits=False).value
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == pytest.approx(gm.inception_score(logits, splits=5).value, rel=2e-2)
    # As logits they would give about 1.0: refused, asking which they are.
    with pytest.raises(ValueError, match=r"(?s)look like probabilities.*from_logits=False"):
        gm.inception_score(ph, splits=5)


def test_ambiguous_rows_are_refused_both_ways(logits):
    p = torch.softmax(torch.from_numpy(logits), 1).numpy()
    rounded = np.round(p, 2)  # probabilities written with two decimals: rows sum to 1 +- 0.05
    assert np.abs(rounded.sum(1) - 1).max() > 1e-3
    with pytest.raises(ValueError, match=r"(?s)look like probabilities.*from_logits=False"):
        gm.inception_score(rounded, splits=5)
    with pytest.raises(ValueError, match=r"(?s)renormalise.*p / p\.sum") as err:
        gm.inception_score(rounded, splits=5, from_logits=False)
    assert "from_logits=True" not in str(err.value)  # it would lead to the wrong number
    # Logits that happen to lie in [0, 1]: shifting a row leaves the softmax unchanged.
    x = np.random.default_rng(1).random((40, 6))
    with pytest.raises(ValueError, match="subtract"):
        gm.inception_score(x, splits=2)
    shifted = gm.inception_score(x - x.mean(1, keepdims=True), splits=2).value
    assert shifted == pytest.approx(_is_reference(x, 2), rel=1e-12)


def _is_reference(logits, splits, dps=60):
    """IS in mpmath at ``dps`` digits: the closed form, no shortcut."""
    import mpmath

    mpmath.mp.dps = dps
    rows = [[mpmath.mpf(float(v)) for v in r] for r in np.asarray(logits, dtype=np.float64)]
    n, scores = len(rows), []
    for i in range(splits):
        part = rows[i * n // splits:(i + 1) * n // splits]
        probs = []
        for r in part:
            z = mpmath.fsum(mpmath.exp(v) for v in r)
            probs.append([mpmath.exp(v) / z for v in r])
        py = [mpmath.fsum(col) / len(part) for col in zip(*probs)]
        kl = [mpmath.fsum(pi * mpmath.log(pi / q) for pi, q in zip(p, py) if pi > 0) for p in probs]
        scores.append(mpmath.exp(mpmath.fsum(kl) / len(part)))
    return float(mpmath.fsum(scores) / splits)


@pytest.mark.reference
def test_huge_logits_give_the_finite_score():
    # "Never a plausible wrong number", class 5: the marginal underflowed to 0 while a
    # subnormal probability stayed positive, and the score was inf.
    x = np.random.default_rng(9).normal(size=(50, 10)) * 500
    got = gm.inception_score(x, splits=5)
    assert np.isfinite(got.value)
    assert got.value == pytest.approx(_is_reference(x, 5), rel=1e-12)
    tiny = np.array([[0.0, -744.4], [0.0, -1000.0]])  # p = 5e-324 and 0: their mean rounds to 0
    assert gm.inception_score(tiny, splits=1).value == pytest.approx(_is_reference(tiny, 1), rel=1e-12)
    # and the probabilities path: exact zeros and subnormals
    p = np.array([[1.0, 5e-324], [1.0, 0.0]])
    assert gm.inception_score(p, splits=1, from_logits=False).value == pytest.approx(1.0, abs=1e-15)


def test_cli_isc_matches_api(logits, tmp_path, capsys):
    import json

    from genmetrics_nb.cli import main

    np.save(tmp_path / "logits.npy", logits)
    assert main(["isc", str(tmp_path / "logits.npy"), "--splits", "4", "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["value"] == pytest.approx(gm.inception_score(logits, splits=4).value, rel=1e-12)
