"""The evaluate suite's diversity and memorisation section (``suites/evaluate/diversity_report.py``).

References: every number of the section is compared with the public metric
function called directly on the same features (``vendi_score``,
``rarity_score``, ``prd``, ``authpct``, ``ct_test``), whose own tests compare
them with their reference implementations; the C_T's held-out set is the one
the test passed (or the reference split :func:`reference_split` states);
the copies are the ones the test planted.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from genmetrics_nb.metrics.distribution.rarity import rarity_score
from genmetrics_nb.metrics.diversity.prd import prd
from genmetrics_nb.metrics.diversity.vendi import vendi_score
from genmetrics_nb.metrics.memorisation.authpct import authpct
from genmetrics_nb.metrics.memorisation.ct_test import ct_test
from genmetrics_nb.suites import evaluate as E
from genmetrics_nb.suites.evaluate.diversity_report import HELDOUT_ROW, equal_size_rows
from genmetrics_nb.suites.evaluate.sets import load_sets, reference_split
from genmetrics_nb.testing.extractors import register_tiny_extractor

register_tiny_extractor("test-tiny")
OPTS = dict(extractor="test-tiny", progress=False, device="cpu")
Q = dict(device="cpu", progress=False)


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))


def _images(seed, n=60, size=16):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, 3, 1, 1))
    return np.clip(base + rng.integers(-40, 40, (n, 3, size, size)), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def given(tmp_path_factory):
    """A labelled reference of 150, a held-out set of 80 and a generated set of 100 (PRD cuts the reference)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENMETRICS_HOME", str(tmp_path_factory.mktemp("home")))
        ev = load_sets(_images(0, n=150), [_images(1, n=100)], names=["g"], heldout=_images(2, n=80), **OPTS)
        ev = dataclasses.replace(ev, real=dataclasses.replace(ev.real, labels=np.arange(150) % 3))
        yield ev, E.diversity(ev, num_runs=2, seed=5, device="cpu")


def test_numbers_are_the_metric_functions_on_the_same_features(given):
    ev, div = given
    g = ev.get("g")
    ref = vendi_score(ev.real.fd, labels=ev.real.labels, **Q)
    assert div.vendi["reference"].value == ref.value and div.vendi["reference"].per_class == ref.per_class
    assert div.vendi["g"].value == vendi_score(g.fd, **Q).value
    assert div.vendi[HELDOUT_ROW].value == vendi_score(ev.heldout.fd, **Q).value
    r = rarity_score(ev.real.pr, g.pr, k=3, **Q)
    np.testing.assert_array_equal(div.rarity["g"].scores, r.scores)
    assert list(div.rarest["g"]) == list(r.order[:8]) and list(div.typical["g"]) == list(r.order[::-1][:8])
    assert div.authpct["g"].value == authpct(ev.real.fd, g.fd, **Q).value
    a, b = div.prd_rows["g"]
    p = prd(ev.real.fd[a], g.fd[b], num_runs=2, seed=5, **Q)
    np.testing.assert_array_equal(div.prd["g"].precision, p.precision)
    assert (div.prd["g"].f_beta, div.prd["g"].f_beta_inv) == (p.f_beta, p.f_beta_inv)


def test_prd_uses_equal_sizes_from_a_seeded_draw_and_states_n(given):
    ev, div = given
    a, b = div.prd_rows["g"]
    assert len(a) == len(b) == 100 and list(b) == list(range(100))  # the reference (150) is cut to 100
    assert len(set(a.tolist())) == 100
    np.testing.assert_array_equal(a, equal_size_rows(150, 100, seed=5)[0])
    assert div.prd["g"].n_real == div.prd["g"].n_fake == 100
    assert "n = 100" in div.prd_note and "seed 5" in div.prd_note
    html = div._repr_html_()
    assert "<th>n</th>" in html and "<td>150</td>" in html and "<td>80</td>" in html


def test_c_t_uses_the_heldout_set(given):
    ev, div = given
    g = ev.get("g")
    direct = ct_test(ev.real.fd, ev.heldout.fd, g.fd, seed=5, **Q)
    assert div.ct["g"].value == direct.value
    assert (div.ct["g"].n_train, div.ct["g"].n_test, div.ct["g"].n_generated) == (150, 80, 100)
    assert div.heldout_note == reference_split(ev).note and f"n = {ev.heldout.n}" in div.heldout_note


def test_without_heldout_c_t_uses_the_stated_reference_split():
    real, gen = _images(0, n=150), _images(1, n=100)
    ev = load_sets(real, [gen], names=["g"], **OPTS)
    div = E.diversity(ev, num_runs=1, device="cpu")
    split = reference_split(ev)
    direct = ct_test(split.reference.fd, split.heldout.fd, ev.get("g").fd, seed=ev.seed, **Q)
    assert div.ct["g"].value == direct.value and div.ct["g"].n_test == split.heldout.n == 30
    assert div.heldout_note == split.note and "no held-out real images were given" in div._repr_html_()
    assert div.authpct[HELDOUT_ROW].value == authpct(split.reference.fd, split.heldout.fd, **Q).value


def test_copies_have_no_authenticity_and_a_record_of_headlines():
    real = _images(0, n=80)
    ev = load_sets(real, [real[:40]], names=["copier"], heldout=_images(3, n=40), **OPTS)
    div = E.diversity(ev, num_runs=1, device="cpu")
    assert div.authpct["copier"].value == 0.0  # every sample is a reference image
    entries = div.report_entries()
    assert entries["authpct_copier"] == 0.0 and "vendi_copier" in entries
    d = div.to_dict()
    assert [r["name"] for r in d["rows"]] == ["reference", HELDOUT_ROW, "copier"]
    assert d["rows"][2]["n"] == 40 and "<" not in str(div)
