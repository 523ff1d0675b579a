"""GenEval's rule engine against a literal transcription of djghosh13/geneval
(tests/reference/geneval_reference.py), on random detections.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from genmetrics_nb.metrics.alignment import geneval_image, geneval_score
from genmetrics_nb.metrics.alignment.geneval import relative_position

REF = Path(__file__).resolve().parents[2] / "reference" / "geneval_reference.py"
_spec = importlib.util.spec_from_file_location("geneval_reference", REF)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

CLASSES = ["cat", "dog", "bench", "cup", "car"]
SOME_COLORS = ["red", "blue", "green"]
RELS = ["left of", "right of", "above", "below"]


def _metadata(rng):
    a, b = rng.choice(CLASSES, size=2, replace=False).tolist()
    tag = ["single_object", "two_object", "counting", "colors", "position", "color_attr"][rng.integers(6)]
    c1, c2 = rng.choice(SOME_COLORS, size=2).tolist()
    if tag == "single_object":
        meta = {"include": [{"class": a, "count": 1}]}
    elif tag == "two_object":
        meta = {"include": [{"class": a, "count": 1}, {"class": b, "count": 1}]}
    elif tag == "counting":
        n = int(rng.integers(2, 4))
        meta = {"include": [{"class": a, "count": n}], "exclude": [{"class": a, "count": n + 1}]}
    elif tag == "colors":
        meta = {"include": [{"class": a, "count": 1, "color": c1}]}
    elif tag == "position":
        meta = {"include": [{"class": b, "count": 1},
                            {"class": a, "count": 1, "position": [RELS[rng.integers(4)], 0]}]}
    else:
        meta = {"include": [{"class": a, "count": 1, "color": c1}, {"class": b, "count": 1, "color": c2}]}
    return {"tag": tag, **meta, "prompt": f"{tag} {a} {b}"}


def _detections(rng):
    dets = {}
    for cls in CLASSES:
        n = int(rng.integers(0, 5))
        xy = rng.uniform(0, 400, size=(n, 2))
        wh = rng.uniform(10, 200, size=(n, 2))
        score = np.where(rng.random(n) < 0.5, rng.uniform(0.85, 1.0, n), rng.uniform(0, 1, n))
        dets[cls] = [{"box": [*xy[k], *(xy[k] + wh[k])], "score": float(score[k]),
                      "color": SOME_COLORS[rng.integers(3)]} for k in range(n)]
    return dets


def _reference(records, **options):
    ref.set_options(**options)
    out = []
    for rec in records:
        bbox = [np.array([[*d["box"], d["score"]] for d in rec["detections"][c]], dtype=np.float64).reshape(-1, 5)
                for c in CLASSES]
        colors = [[d["color"] for d in rec["detections"][c]] for c in CLASSES]
        out.append(ref.evaluate_image(bbox, colors, CLASSES, rec["metadata"]))
    ref.set_options()
    return out, ref.summary_scores(out)


def _records(seed, n_prompts=60, per_prompt=4):
    rng = np.random.default_rng(seed)
    recs = []
    for _ in range(n_prompts):
        meta = _metadata(rng)
        recs += [{"metadata": meta, "detections": _detections(rng)} for _ in range(per_prompt)]
    return recs


OPTIONS = [{}, {"max_overlap": 0.5}, {"max_objects": 2, "position_threshold": 0.0}]


@pytest.mark.reference
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("options", OPTIONS)
def test_equals_the_reference_rule_engine_and_summary(seed, options):
    recs = _records(seed)
    per_image, summary = _reference(recs, **options)
    ours_opts = {{"max_overlap": "nms_threshold"}.get(k, k): v for k, v in options.items()}
    ours = geneval_score(recs, **ours_opts)
    assert list(ours.correct) == [r["correct"] for r in per_image]
    assert 0 < sum(ours.correct) < len(recs)  # the synthetic set exercises both outcomes
    assert ours.value == summary["overall"]
    assert ours.per_task == summary["tasks"]
    assert ours.image_accuracy == summary["images"]
    assert ours.prompt_accuracy == summary["prompts"]


@pytest.mark.reference
def test_relative_position_equals_the_reference():
    rng = np.random.default_rng(5)
    for _ in range(300):
        a = [*rng.uniform(0, 300, 2)]
        a += [a[0] + rng.uniform(1, 100), a[1] + rng.uniform(1, 100)]
        b = [*rng.uniform(0, 300, 2)]
        b += [b[0] + rng.uniform(1, 100), b[1] + rng.uniform(1, 100)]
        assert relative_position(a, b) == ref.relative_position((np.array(a),), (np.array(b),))


def test_counting_threshold_and_position_threshold_change_the_verdict():
    """Wrong details: the detection threshold for counting, no position margin."""
    meta = {"tag": "counting", "include": [{"class": "cup", "count": 2}],
            "exclude": [{"class": "cup", "count": 3}], "prompt": "a photo of two cups"}
    dets = {"cup": [{"box": [0, 0, 10, 10], "score": 0.95}, {"box": [20, 0, 30, 10], "score": 0.95},
                    {"box": [40, 0, 50, 10], "score": 0.5}]}
    assert geneval_image(dets, meta)[0] is True
    assert geneval_image(dets, meta, counting_threshold=0.3)[0] is False
    # A's centre 3 px left of B's, boxes 20 px wide: a relation only without the 0.1 margin
    pos = {"tag": "position", "include": [{"class": "dog", "count": 1},
                                          {"class": "cat", "count": 1, "position": ["left of", 0]}],
           "prompt": "a photo of a cat left of a dog"}
    d2 = {"dog": [{"box": [13, 0, 33, 20], "score": 0.9}], "cat": [{"box": [10, 0, 30, 20], "score": 0.9}]}
    assert geneval_image(d2, pos)[0] is False
    assert geneval_image(d2, pos, position_threshold=0.0)[0] is True


def test_missing_colour_label_and_bad_records_are_named():
    meta = {"tag": "colors", "include": [{"class": "car", "count": 1, "color": "red"}], "prompt": "a red car"}
    with pytest.raises(ValueError, match="give each detection of 'car' a 'color'"):
        geneval_image({"car": [{"box": [0, 0, 5, 5], "score": 0.9}]}, meta)
    with pytest.raises(ValueError, match="needs 'score'"):
        geneval_image({"car": [{"box": [0, 0, 5, 5]}]}, meta)
    with pytest.raises(ValueError, match="needs 'metadata'"):
        geneval_score([{"detections": {}}])
    r = geneval_score([{"metadata": meta, "detections": {"car": [{"box": [0, 0, 5, 5], "score": 0.9,
                                                                  "color": "red"}]}}])
    assert float(r) == 1.0 and "GenEval[colors]" in r._repr_html_() and list(r.to_dict())[0] == "value"
