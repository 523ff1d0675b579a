"""DSG aggregation against a literal transcription of j-min/DSG (tests/reference/dsg_reference.py).

Published numbers: the DSG README's table for the released PaLI-17B answers on SD v2.1
images (j-min/DSG README, "DSG-1k score calculation"), checked when
GENMETRICS_DSG_ANSWERS and GENMETRICS_DSG_ANNOTATIONS point at the released files.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from genmetrics_nb.metrics.alignment import dsg_score, read_dsg_annotations, read_dsg_answers
from genmetrics_nb.metrics.alignment.dsg import dsg_item_score
from genmetrics_nb.prompts import dsg1k_category

REF = Path(__file__).resolve().parents[2] / "reference" / "dsg_reference.py"
_spec = importlib.util.spec_from_file_location("dsg_reference", REF)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

PREFIXES = ["tifa160", "stanford_paragraph", "localized", "countbench", "vrd", "diffusiondb", "midjourney",
            "posescript", "whoops", "drawtext"]
ANSWERS = ["yes", "yes", "yes", "no", "Yes", "", "unanswerable"]


def _synthetic(seed: int, n_items: int = 60):
    """Random items: question graphs with parents among earlier questions, random answers."""
    rng = np.random.default_rng(seed)
    answers, deps = {}, {}
    for i in range(n_items):
        item = f"{PREFIXES[rng.integers(len(PREFIXES))]}_{i}"
        nq = int(rng.integers(1, 9))
        answers[item] = {q: ANSWERS[rng.integers(len(ANSWERS))] for q in range(1, nq + 1)}
        deps[item] = {}
        for q in range(1, nq + 1):
            k = int(rng.integers(0, min(q - 1, 2) + 1))
            parents = sorted(rng.choice(np.arange(1, q), size=k, replace=False).tolist()) if k else [0]
            deps[item][q] = parents
    return answers, deps


@pytest.mark.reference
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_items_equal_the_reference_calc_vqa_score(seed):
    answers, deps = _synthetic(seed)
    for item in answers:
        ours, _ = dsg_item_score(answers[item], deps[item])
        theirs = ref.calc_vqa_score(answers[item], deps[item])
        assert ours == theirs["average_score_with_dependency"]
        ours_nodep, _ = dsg_item_score(answers[item], deps[item], dependency_zeroing=False)
        assert ours_nodep == theirs["average_score_without_dependency"]


@pytest.mark.reference
@pytest.mark.parametrize("seed", [3, 4])
def test_overall_and_categories_equal_the_reference_script(seed):
    answers, deps = _synthetic(seed)
    items = list(answers) + ["tifa160_9999"]  # an item with no answers: the script scores it 0
    item_qa = {i: [{"question_id": q, "vqa_answer": a} for q, a in answers.get(i, {1: ""}).items()] for i in items}
    deps_all = dict(deps, tifa160_9999={1: [0]})
    cats = list(dict.fromkeys(ref.get_data_category(i) for i in items))
    theirs = ref.t2i_eval(items, item_qa, deps_all, cats)
    ours = dsg_score(answers, dependencies=deps, items=items, categories=dsg1k_category)
    assert ours.value == pytest.approx(theirs["all"], rel=0, abs=1e-15)
    assert ours.n_missing_items == 1
    assert list(ours.per_category) == cats
    for c in cats:
        assert ours.per_category[c] == pytest.approx(theirs[c], rel=0, abs=1e-15)


@pytest.mark.reference
def test_unparsable_dependency_drops_the_items_dependencies_as_the_reference_does(tmp_path):
    rows = [
        {"item_id": "a_1", "text": "t", "proposition_id": "1", "dependency": "0"},
        {"item_id": "a_1", "text": "t", "proposition_id": "2", "dependency": "1"},
        {"item_id": "a_1", "text": "t", "proposition_id": "3", "dependency": "1, right"},
        {"item_id": "b_1", "text": "u", "proposition_id": "1", "dependency": "0"},
        {"item_id": "b_1", "text": "u", "proposition_id": "2", "dependency": "1"},
    ]
    f = tmp_path / "anns.csv"
    f.write_text("item_id,text,proposition_id,dependency\n"
                 + "".join(f'{r["item_id"]},{r["text"]},{r["proposition_id"]},"{r["dependency"]}"\n' for r in rows))
    ann = read_dsg_annotations(f)
    theirs = ref.dependencies_of([dict(r, proposition_id=int(r["proposition_id"])) for r in rows])
    assert ann["dependencies"] == theirs
    assert ann["unparsed_dependencies"] == ["a_1"]
    answers = {"a_1": {1: "no", 2: "yes", 3: "yes"}, "b_1": {1: "no", 2: "yes"}}
    r = dsg_score(answers, dependencies=ann["dependencies"])
    expect = np.mean([ref.calc_vqa_score(answers[i], theirs[i])["average_score_with_dependency"] for i in answers])
    assert r.value == expect


def test_dropping_the_dependency_rule_changes_the_score():
    """Wrong detail: no parent zeroing. A child answered yes under a parent answered no counts."""
    answers = {"x_1": {1: "no", 2: "yes", 3: "yes"}}
    deps = {"x_1": {1: [0], 2: [1], 3: [0]}}
    with_rule = dsg_score(answers, dependencies=deps)
    without = dsg_score(answers, dependencies=deps, dependency_zeroing=False)
    assert with_rule.value == ref.calc_vqa_score(answers["x_1"], deps["x_1"])["average_score_with_dependency"] == 1 / 3
    assert without.value == 2 / 3
    assert with_rule.n_zeroed == 1 and "with dependency" in str(with_rule)


def test_zeroing_does_not_cascade():
    # 3 depends on 2, which is zeroed by 1's "no" but was itself answered "yes": 3 keeps its point
    a = {1: "no", 2: "yes", 3: "yes"}
    d = {2: [1], 3: [2]}
    assert dsg_item_score(a, d)[0] == ref.calc_vqa_score(a, d)["average_score_with_dependency"] == 1 / 3


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="depends on question 7"):
        dsg_score({"a": {1: "yes"}}, dependencies={"a": {1: [7]}})
    with pytest.raises(TypeError, match="answers must be a mapping"):
        dsg_score([("a", 1, "yes")])
    with pytest.raises(ValueError, match="not in items"):
        dsg_score({"a": {1: "yes"}}, items=["b"])
    with pytest.raises(ValueError, match="no category for item"):
        dsg_score({"a": {1: "yes"}}, categories={})


def test_result_protocol():
    r = dsg_score({"tifa160_1": {1: "yes", 2: "no"}}, categories=dsg1k_category)
    assert float(r) == r.value == 0.5
    d = r.to_dict()
    assert list(d)[0] == "value" and "item_scores" not in d and d["per_category"] == {"tifa": 0.5}
    assert "DSG[tifa]" in r._repr_html_()


# ---- the published numbers, from the released answers (files not shipped) -------------------------
_ANS = os.environ.get("GENMETRICS_DSG_ANSWERS")
_ANN = os.environ.get("GENMETRICS_DSG_ANNOTATIONS")


@pytest.mark.reference
@pytest.mark.skipif(not (_ANS and _ANN), reason=(
    "set GENMETRICS_DSG_ANSWERS to j-min/DSG vqa_answers_release/pali17b_dsg.csv and "
    "GENMETRICS_DSG_ANNOTATIONS to dsg/data/dsg-1k-anns.csv (commit 7330119; gm.prompts.path can fetch both)"))
def test_released_pali17b_answers_give_the_readme_table():
    from genmetrics_nb.prompts import check_file

    check_file("dsg-pali17b-answers", _ANS)
    check_file("dsg1k", _ANN)
    d = read_dsg_answers(_ANS, t2i_model="sd2dot1", annotations=_ANN)
    r = dsg_score(**d, categories=dsg1k_category)
    # j-min/DSG README, "DSG-1k score calculation (e.g., with SDv2.1 images)", printed with one decimal
    readme = {"tifa": 88.1, "paragraph": 85.1, "relation": 34.4, "count": 70.4, "real_user": 89.7,
              "pose": 89.6, "defying": 84.4, "text": 83.7}
    assert f"{r.value * 100:.1f}" == "80.5"
    assert r.n_items == 1060 and r.n_missing_items == 1
    assert {c: float(f"{v * 100:.1f}") for c, v in r.per_category.items()} == readme
    counts = {"tifa": 160, "paragraph": 200, "relation": 100, "count": 100, "real_user": 200, "pose": 100,
              "defying": 100, "text": 100}
    assert r.category_counts == counts
    # and the transcribed reference script on the same files gives the same numbers to the last bit
    import csv

    with open(_ANN, newline="", encoding="utf-8") as fh:
        rows = [dict(x, proposition_id=int(x["proposition_id"])) for x in csv.DictReader(fh)]
    items = d["items"]
    item_qa = {i: [{"question_id": q, "vqa_answer": a} for q, a in d["answers"].get(i, {1: ""}).items()]
               for i in items}
    theirs = ref.t2i_eval(items, item_qa, ref.dependencies_of(rows), list(readme))
    assert theirs["all"] == r.value
    assert all(theirs[c] == r.per_category[c] for c in readme)
