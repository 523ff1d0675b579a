"""TIFA aggregation against a literal transcription of Yushi-Hu/tifa (tests/reference/tifa_reference.py).

Published numbers: ``sample/sample_evaluation_result.json`` of Yushi-Hu/tifa (commit 8e37050):
tifa_average 0.8125, tifa_stdev 0.2651650429449553, checked when GENMETRICS_TIFA_SAMPLE points at it.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from genmetrics_nb.metrics.alignment import read_tifa_result, tifa_score

REF = Path(__file__).resolve().parents[2] / "reference" / "tifa_reference.py"
_spec = importlib.util.spec_from_file_location("tifa_reference", REF)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

TYPES = ["object", "animal/human", "color", "counting", "location", "activity"]
CHOICES = ["yes", "no", "two", "three", "red", "blue"]


def _synthetic(seed: int, n_prompts: int = 25):
    """Question lists with some questions repeated, and random multiple-choice answers."""
    rng = np.random.default_rng(seed)
    pairs, mc = [], []
    for p in range(n_prompts):
        nq = int(rng.integers(1, 7))
        qs = [{"id": f"p{p}", "question": f"q{p}-{k}?", "answer": CHOICES[rng.integers(len(CHOICES))],
               "choices": CHOICES, "element_type": TYPES[rng.integers(len(TYPES))]} for k in range(nq)]
        if rng.random() < 0.4:
            qs.append(dict(qs[0]))  # the question file lists it twice
        for q in qs:
            pairs.append(q)
            mc.append(q["answer"] if rng.random() < 0.7 else CHOICES[rng.integers(len(CHOICES))])
    return pairs, mc


def _records(pairs, mc):
    return [{"id": q["id"], "answer": q["answer"], "mc_answer": a, "element_type": q["element_type"]}
            for q, a in zip(pairs, mc)]


@pytest.mark.reference
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_equals_the_reference_tifa_score_benchmark(seed):
    pairs, mc = _synthetic(seed)
    theirs = ref.tifa_score_benchmark(copy.deepcopy(pairs), mc)
    ours = tifa_score(_records(pairs, mc))
    assert ours.value == theirs["tifa_average"]
    assert ours.stdev == theirs["tifa_stdev"]
    assert ours.accuracy_by_type == theirs["accuracy_by_type"]
    assert ours.prompt_scores == theirs["caption_scores"]


@pytest.mark.reference
def test_repeated_questions_count_twice():
    """Wrong detail: scoring each distinct question once (as the logs list them) changes TIFA."""
    pairs = [{"id": "a", "question": "is there a dog?", "answer": "yes", "element_type": "animal/human"},
             {"id": "a", "question": "is there a dog?", "answer": "yes", "element_type": "animal/human"},
             {"id": "a", "question": "what colour?", "answer": "red", "element_type": "color"},
             {"id": "b", "question": "is it night?", "answer": "yes", "element_type": "other"}]
    mc = ["yes", "yes", "blue", "no"]
    theirs = ref.tifa_score_benchmark(copy.deepcopy(pairs), mc)
    ours = tifa_score(_records(pairs, mc))
    assert ours.value == theirs["tifa_average"] == (2 / 3 + 0) / 2
    once = tifa_score(_records(pairs[1:], mc[1:]))
    assert once.value == (1 / 2 + 0) / 2 != ours.value


def test_single_prompt_and_bad_input():
    r = tifa_score([{"id": "a", "answer": "yes", "mc_answer": "yes"}])
    assert r.value == 1 and math.isnan(r.stdev) and r.n_prompts == 1
    with pytest.raises(ValueError, match="lacks"):
        tifa_score([{"id": "a", "answer": "yes"}])
    with pytest.raises(ValueError, match="records is empty"):
        tifa_score([])
    d = r.to_dict()
    assert list(d)[0] == "value" and "prompt_scores" not in d
    assert "TIFA" in r._repr_html_() and "TIFA = 1.0000" in str(r)


_SAMPLE = os.environ.get("GENMETRICS_TIFA_SAMPLE")


@pytest.mark.reference
@pytest.mark.skipif(not _SAMPLE, reason=(
    "set GENMETRICS_TIFA_SAMPLE to Yushi-Hu/tifa sample/sample_evaluation_result.json (commit 8e37050; "
    "gm.prompts.path('tifa-sample-result') can fetch it)"))
def test_released_sample_result_gives_its_published_numbers():
    from genmetrics_nb.prompts import check_file

    check_file("tifa-sample-result", _SAMPLE)
    r = tifa_score(read_tifa_result(_SAMPLE))
    # the numbers the reference wrote into the same file
    published = json.loads(Path(_SAMPLE).read_text())
    assert r.value == published["tifa_average"] == 0.8125
    assert r.stdev == published["tifa_stdev"] == 0.2651650429449553
    assert r.accuracy_by_type == published["accuracy_by_type"]
    assert r.prompt_scores == published["caption_scores"]
