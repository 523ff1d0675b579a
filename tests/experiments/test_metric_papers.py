"""The metric_papers story: its closed forms, its sections' checks and its verdict rule.

Outside references: the closed forms' values transcribed in
/work/shared/research/paper-tables-2026-12-07.md (Naeem et al.'s Lemma 2 as
Raisa's ``expected_coverage`` port computes it), a counting form of Lemma 2
(``math.comb``), the published README / test values each section carries
(from the repositories named in its rows), and the ``vendi-score`` package's
``score_dual`` for the pixel Vendi protocol.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from genmetrics_nb.experiments import metric_papers as mp
from genmetrics_nb.util.findings import check


# ----------------------------------------------------------------------------- Lemma 2
@pytest.mark.parametrize("n, m, k, expected", [
    (10_000, 10_000, 5, 0.968773), (10_000, 10_000, 1, 0.500025), (1000, 1000, 5, 0.968984),
    (100, 100, 5, 0.971070), (300, 300, 3, 0.876251), (10_000, 50_000, 5, 0.999872),
    (50_000, 10_000, 5, 0.598143),
])  # fmt: skip
def test_expected_coverage_against_published_table(n, m, k, expected):
    # research notes section 2.1, "Exact values" (six decimals)
    assert round(mp.expected_coverage(n, m, k), 6) == expected


@pytest.mark.parametrize("n, m, k", [(3, 2, 1), (7, 4, 3), (20, 50, 5)])
def test_expected_coverage_is_a_count_of_neighbour_orders(n, m, k):
    # a real point is uncovered iff its k nearest of the N - 1 + M others are all real:
    # C(N - 1, k) of the C(N - 1 + M, k) equally likely neighbour sets
    assert mp.expected_coverage(n, m, k) == pytest.approx(1 - math.comb(n - 1, k) / math.comb(n - 1 + m, k),
                                                          rel=1e-12)


def test_expected_coverage_limit_and_bad_input():
    assert mp.expected_coverage(10**7, 10**7, 5) == pytest.approx(1 - 2**-5, abs=1e-6)  # 1 - 2^-k as N = M grows
    with pytest.raises(ValueError, match="1 <= k < n_real"):
        mp.expected_coverage(5, 5, 5)


def test_naeem_lemmas_small_monte_carlo_matches():
    s = mp.naeem_lemmas([(100, 100, 3)], trials=40, dim=4, seed=1, progress=False)
    assert all(c.held for c in s.checks), [c.text for c in s.checks]
    assert len(s.rows) == 3 and s.rows[0]["ours"] == pytest.approx(0.968773, abs=5e-7)
    for r in s.rows[1:]:
        assert r["low"] <= r["ours"] <= r["high"]


# ----------------------------------------------------------------------------- exact sections
def test_prd_reference_cases_all_match_the_reference_tests():
    s = mp.prd_reference_cases()
    assert len(s.checks) == 7 and all(c.held for c in s.checks), [c.text for c in s.checks if not c.held]


def test_prd_modes_closed_form_and_samples():
    s = mp.prd_modes(n_per_mode=60, num_runs=1, progress=False)
    rows = {r["quantity"]: r["ours"] for r in s.rows}
    # Theorem 1 values of the research notes (item 5b)
    assert rows["max F_8, closed form (10 vs 5 modes)"] == pytest.approx(0.503863, abs=5e-7)
    assert rows["max F_1/8, closed form (10 vs 5 modes)"] == pytest.approx(0.984829, abs=5e-7)
    assert all(c.held for c in s.checks)
    with pytest.raises(ValueError, match="must be <= dim"):
        mp.prd_modes(n_modes=12, dim=10)


def test_vendi_readme_examples():
    s = mp.vendi_readme()
    assert [r["published"] for r in s.rows] == [2.9999, 2.1573]  # vertaix/Vendi-Score README, "Usage"
    assert all(c.held for c in s.checks)


def test_pixel_vendi_protocol_against_vendi_score_package():
    from PIL import Image
    from sklearn.preprocessing import normalize
    from vendi_score import vendi

    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (60, 1, 28, 28), dtype=np.uint8)
    labels = np.repeat([0, 1], 30)
    s = mp.pixel_vendi_table(imgs, labels, class_names=["a", "b"])
    for c, row in zip((0, 1), s.rows):
        x = np.stack([np.asarray(Image.fromarray(a[0]).resize((32, 32), Image.BICUBIC)).reshape(-1)
                      for a in imgs[labels == c]])
        assert row["ours"] == pytest.approx(vendi.score_dual(normalize(x.astype(np.float64))), rel=1e-9)
        assert row["kind"] == "analogue" and row["match"] is None
    assert s.rows[0]["published"] == 7.68 and s.checks == ()  # MNIST digit 0, shown for orientation only
    assert len(mp.pixel_vendi_table(imgs, labels, n_per_class=10).rows) == 2
    with pytest.raises(TypeError, match="uint8"):
        mp.pixel_vendi_table(imgs.astype(np.float32), labels)
    with pytest.raises(ValueError, match="one label per image"):
        mp.pixel_vendi_table(imgs, labels[:5])


# ----------------------------------------------------------------------------- spreads over seeds
def test_spread_rows_compare_published_with_mean_plus_minus_three_sd():
    rows, checks = mp._spread_rows({"a": [1.0, 2.0, 3.0], "b": [1.0, 1.1, 0.9]}, {"a": 5.0, "b": 2.0},
                                   source="s", compared=True)
    # a: mean 2, sd 1 -> [-1, 5] holds 5.0; b: mean 1, sd 0.1 -> [0.7, 1.3] misses 2.0
    assert [c.held for c in checks] == [True, False]
    assert rows[0]["low"] == pytest.approx(-1.0) and rows[0]["high"] == pytest.approx(5.0)
    rows, checks = mp._spread_rows({"a": [1.0, 2.0]}, {"a": 9.0}, source="s", compared=False)
    assert checks == [] and rows[0]["match"] is None


def test_prdc_example_below_published_size_is_not_compared():
    s = mp.prdc_example(n=60, dim=8, k=5, seeds=(0, 1), progress=False)
    assert s.checks == () and "Not compared" in s.skipped
    assert {r["quantity"] for r in s.rows} >= {"precision", "recall", "density", "coverage"}
    assert "<b>" in s._repr_html_() and "nan" not in s._repr_html_().lower()


def test_zero_crossing():
    x = np.array([0.01, 0.1, 1.0])
    assert mp._zero_crossing(x, np.array([-2.0, -1.0, 1.0])) == pytest.approx(math.sqrt(0.1))  # halfway in log x
    assert math.isnan(mp._zero_crossing(x, np.array([-2.0, -1.0, -0.5])))


# ----------------------------------------------------------------------------- the verdict
def _section(held, skipped=""):
    return mp.PaperSection("X: y", ({"quantity": "q", "published": 1.0, "ours": 1.0},), (check("q", held),), skipped)


def test_verdict_rule():
    v = mp.metric_papers_verdict(_section(True), _section(True))
    assert v.reproduced is True and "mean +/- 3 SD" in v.statement
    assert mp.metric_papers_verdict(_section(True), _section(False)).reproduced is False
    v = mp.metric_papers_verdict(_section(True), _section(True, skipped="Not compared: small n"))
    assert v.reproduced is None and "below the published sample size" in v.statement
    assert mp.metric_papers_verdict(_section(False), _section(True, skipped="x")).reproduced is False
    with pytest.raises(ValueError, match="at least one"):
        mp.metric_papers_verdict()


def test_ct_moons_small_has_the_papers_shape():
    s = mp.ct_moons(bandwidths=[1e-3, 0.1, 10.0], n_train=1000, n_test=500, n_generated=500, trials=1,
                    progress=False)
    curve = s.extra["curve"]
    assert list(curve.columns) == ["bandwidth", "C_T", "C_T sd", "validation log-likelihood"]
    assert curve["C_T"].iloc[0] < -10 and curve["C_T"].iloc[-1] > 10  # copying at 1e-3, underfitting at 10
    assert s.rows[0]["ours"] == pytest.approx(-17.30, abs=0.005)  # research notes 2.6: Z_U(200, 200)
    with pytest.raises(ValueError, match="at least 3 positive"):
        mp.ct_moons(bandwidths=[0.1, 1.0])
