"""GenEval's rule engine on detections the user brings.

GenEval (Ghosh et al., 2023) runs an object detector (Mask2Former) on each
generated image and checks the prompt's metadata (``include``/``exclude``
clauses with counts, colours and relative positions). This module is the
rule engine of djghosh13/geneval ``evaluation/evaluate_images.py`` and the
summary of ``evaluation/summary_scores.py``; the detector and the CLIP
colour classifier stay with the user, who passes for each detection its
box, confidence and (for colour clauses) colour label:

- detections scoring above ``threshold`` (0.3; ``counting_threshold`` 0.9
  for the ``counting`` task) are kept, most confident first, at most
  ``max_objects`` (16) per class; non-maximum suppression is off
  (``nms_threshold=1.0``, the reference's ``max_overlap``);
- an ``include`` clause needs ``count`` objects of its class; a colour needs
  that many of the ``count`` most confident to carry the colour; a position
  needs every such object to stand in the relation to every object of the
  target clause: centres offset by more than ``position_threshold`` (0.1)
  times the summed box sizes, then ``dx, dy`` of the unit offset beyond
  +-0.5 ("left of", "right of", "above", "below");
- an ``exclude`` clause fails when ``count`` or more objects are found;
- a task's accuracy is the fraction of correct images; the GenEval score is
  the mean of the task accuracies.

References
----------
.. [1] Ghosh, D., Hajishirzi, H. and Schmidt, L. "GenEval: An Object-Focused
   Framework for Evaluating Text-to-Image Alignment." NeurIPS 2023 Datasets
   and Benchmarks. https://github.com/djghosh13/geneval (commit af4902f).
"""
from __future__ import annotations

import dataclasses
import json
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.result import Result

__all__ = ["GenEvalResult", "geneval_image", "geneval_score", "relative_position"]

COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white")


@dataclasses.dataclass(frozen=True)
class GenEvalResult(Result):
    """GenEval: mean over tasks of the fraction of correct images.

    Attributes
    ----------
    value : float
        Mean of ``per_task`` (the README's "Overall").
    per_task : dict of str to float
        Accuracy per task tag, in order of first appearance.
    task_counts : dict of str to int
        Images per task.
    image_accuracy : float
        Fraction of correct images over all tasks.
    prompt_accuracy : float
        Fraction of prompts with at least one correct image.
    correct : tuple of bool
        Per image, in input order.
    reasons : tuple of str
        Per image, why it failed ("" when correct).
    n_images, n_prompts : int
    threshold, counting_threshold : float
    max_objects : int
    nms_threshold : float
    position_threshold : float
    """

    value: float
    per_task: dict
    task_counts: dict
    image_accuracy: float
    prompt_accuracy: float
    correct: tuple
    reasons: tuple
    n_images: int
    n_prompts: int
    threshold: float
    counting_threshold: float
    max_objects: int
    nms_threshold: float
    position_threshold: float

    metric_name: ClassVar[str] = "GenEval"
    display_fields: ClassVar[tuple[str, ...]] = ("image_accuracy", "prompt_accuracy")
    n_fields: ClassVar[tuple[str, ...]] = ("n_images", "n_prompts")
    dict_exclude: ClassVar[tuple[str, ...]] = ("correct", "reasons")

    def __str__(self) -> str:
        return (f"GenEval = {self.value:.5f} (mean of {len(self.per_task)} task accuracies) over "
                f"{self.n_images} images of {self.n_prompts} prompts")

    def _html_rows(self):
        head, rows = super()._html_rows()
        for tag, v in self.per_task.items():
            rows.append([f"GenEval[{tag}]", v, None, None, self.task_counts[tag]])
        return head, rows


def _box(det, where):
    try:
        box = [float(v) for v in det["box"]]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{where} needs 'box': [x1, y1, x2, y2]") from None
    if len(box) != 4:
        raise ValueError(f"{where}: 'box' has {len(box)} numbers; give [x1, y1, x2, y2]")
    return box


def relative_position(box_a, box_b, *, position_threshold: float = 0.1) -> set:
    """Relations of box A to box B ("left of", "right of", "above", "below").

    The centre offset is shrunk by ``position_threshold`` times the summed
    box sizes on each axis; no relation when both shrunk offsets are below
    1e-3; otherwise a relation when the shrunk offset divided by the length
    of the raw offset is beyond +-0.5 on its axis (image y grows downwards).
    """
    boxes = np.array([box_a, box_b], dtype=np.float64).reshape(2, 2, 2)
    center_a, center_b = boxes.mean(axis=-2)
    dim_a, dim_b = np.abs(np.diff(boxes, axis=-2))[..., 0, :]
    offset = center_a - center_b
    revised = np.maximum(np.abs(offset) - position_threshold * (dim_a + dim_b), 0) * np.sign(offset)
    if np.all(np.abs(revised) < 1e-3):
        return set()
    dx, dy = revised / np.linalg.norm(offset)
    rel = set()
    if dx < -0.5:
        rel.add("left of")
    if dx > 0.5:
        rel.add("right of")
    if dy < -0.5:
        rel.add("above")
    if dy > 0.5:
        rel.add("below")
    return rel


def _iou(a, b) -> float:
    # the reference's pixel-inclusive areas (+1)
    area = lambda x: max(x[2] - x[0] + 1, 0) * max(x[3] - x[1] + 1, 0)  # noqa: E731
    inter = area([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])])
    union = area(a) + area(b) - inter
    return inter / union if union else 0


def _keep(dets, *, threshold, max_objects, nms_threshold, where):
    """The kept detections of one class, most confident first."""
    scored = []
    for j, d in enumerate(dets):
        if "score" not in d:
            raise ValueError(f"{where}[{j}] needs 'score' (the detector's confidence)")
        scored.append((float(d["score"]), _box(d, f"{where}[{j}]"), d.get("color")))
    # the reference's order, ties included: numpy's argsort reversed
    order = np.argsort(np.array([s for s, _, _ in scored], dtype=np.float64))[::-1].tolist()
    order = [k for k in order if scored[k][0] > threshold][:max_objects]
    kept = []
    while order:
        top = order.pop(0)
        kept.append(scored[top])
        if nms_threshold != 1:
            order = [k for k in order if _iou(scored[top][1], scored[k][1]) < nms_threshold]
    return kept


def geneval_image(detections, metadata, *, threshold: float = 0.3, counting_threshold: float = 0.9,
                  max_objects: int = 16, nms_threshold: float = 1.0,
                  position_threshold: float = 0.1) -> tuple[bool, str]:
    """Whether one image satisfies its GenEval metadata, and why not.

    Parameters
    ----------
    detections : mapping of str to list of mapping
        Class name -> detections, each ``{"box": [x1, y1, x2, y2], "score": s}``
        plus ``"color"`` (one of the 10 GenEval colour names) where the
        prompt asks for a colour. Raw detector output: thresholds are applied here.
    metadata : mapping
        The prompt's line of ``evaluation_metadata.jsonl``.

    Returns
    -------
    (bool, str)
    """
    tag = metadata.get("tag")
    conf = counting_threshold if tag == "counting" else threshold
    objects = {}
    for cls, dets in detections.items():
        kept = _keep(dets, threshold=conf, max_objects=max_objects, nms_threshold=nms_threshold,
                     where=f"detections[{cls!r}]")
        if kept:
            objects[cls] = kept
    correct = True
    reason = []
    matched_groups = []
    for req in metadata.get("include", []):
        cls = req["class"]
        matched = True
        found = objects.get(cls, [])[: req["count"]]
        if len(found) < req["count"]:
            correct = matched = False
            reason.append(f"expected {cls}>={req['count']}, found {len(found)}")
        else:
            if "color" in req:
                colors = [c for _, _, c in found]
                if any(c is None for c in colors):
                    raise ValueError(f"the prompt {metadata.get('prompt')!r} asks for a colour: give each "
                                     f"detection of {cls!r} a 'color' label (one of {', '.join(COLORS)})")
                if colors.count(req["color"]) < req["count"]:
                    correct = matched = False
                    reason.append(f"expected {req['color']} {cls}>={req['count']}, found "
                                  f"{colors.count(req['color'])} {req['color']}")
            if "position" in req and matched:
                expected, target = req["position"]
                if matched_groups[target] is None:
                    correct = matched = False
                    reason.append(f"no target for {cls} to be {expected}")
                else:
                    for obj in found:
                        for tobj in matched_groups[target]:
                            rels = relative_position(obj[1], tobj[1], position_threshold=position_threshold)
                            if expected not in rels:
                                correct = matched = False
                                reason.append(f"expected {cls} {expected} target, found "
                                              f"{' and '.join(sorted(rels))} target")
                                break
                        if not matched:
                            break
        matched_groups.append(found if matched else None)
    for req in metadata.get("exclude", []):
        cls = req["class"]
        if len(objects.get(cls, [])) >= req["count"]:
            correct = False
            reason.append(f"expected {cls}<{req['count']}, found {len(objects[cls])}")
    return correct, "\n".join(reason)


def geneval_score(records, *, threshold: float = 0.3, counting_threshold: float = 0.9, max_objects: int = 16,
                  nms_threshold: float = 1.0, position_threshold: float = 0.1) -> GenEvalResult:
    """GenEval score of detections the user brings.

    Parameters
    ----------
    records : iterable of mapping
        One per image: ``{"metadata": <its line of evaluation_metadata.jsonl>,
        "detections": {class name: [{"box", "score", "color"?}, ...]}}``.
    threshold, counting_threshold : float
        Detection confidence kept (strictly above), for the other tasks and
        for ``counting`` (reference: 0.3 and 0.9).
    max_objects : int
        Detections kept per class (16).
    nms_threshold : float
        IoU above which a less confident box of the same class is dropped;
        1.0 (the reference default) turns suppression off.
    position_threshold : float
        Share of the summed box sizes an offset must exceed (0.1).

    Returns
    -------
    GenEvalResult

    References
    ----------
    .. [1] Ghosh et al., NeurIPS 2023; djghosh13/geneval ``evaluation/evaluate_images.py``,
       ``evaluation/summary_scores.py``.

    Examples
    --------
    >>> meta = {"tag": "single_object", "include": [{"class": "cat", "count": 1}], "prompt": "a photo of a cat"}
    >>> geneval_score([{"metadata": meta, "detections": {"cat": [{"box": [0, 0, 9, 9], "score": 0.8}]}},
    ...                {"metadata": meta, "detections": {"cat": [{"box": [0, 0, 9, 9], "score": 0.2}]}}]).value
    0.5
    """
    correct, reasons, tags, keys = [], [], [], []
    for i, rec in enumerate(records):
        if "metadata" not in rec or "detections" not in rec:
            raise ValueError(f"records[{i}] needs 'metadata' (its evaluation_metadata.jsonl line) and "
                             f"'detections' (class name -> list of boxes with scores)")
        meta = rec["metadata"]
        ok, why = geneval_image(rec["detections"], meta, threshold=threshold,
                                counting_threshold=counting_threshold, max_objects=max_objects,
                                nms_threshold=nms_threshold, position_threshold=position_threshold)
        correct.append(bool(ok))
        reasons.append(why)
        tags.append(meta.get("tag"))
        # the reference groups images of a prompt by their metadata line
        keys.append(json.dumps(meta))
    if not correct:
        raise ValueError("records is empty; pass one record per image")
    groups: dict = {}
    for t, c in zip(tags, correct):
        groups.setdefault(t, []).append(c)
    per_task = {t: float(np.mean(v)) for t, v in groups.items()}
    prompts: dict = {}
    for k, c in zip(keys, correct):
        prompts[k] = prompts.get(k, False) or c
    return GenEvalResult(
        value=float(np.mean(list(per_task.values()))), per_task=per_task,
        task_counts={t: len(v) for t, v in groups.items()},
        image_accuracy=float(np.mean(correct)), prompt_accuracy=float(np.mean(list(prompts.values()))),
        correct=tuple(correct), reasons=tuple(reasons), n_images=len(correct), n_prompts=len(prompts),
        threshold=float(threshold), counting_threshold=float(counting_threshold), max_objects=int(max_objects),
        nms_threshold=float(nms_threshold), position_threshold=float(position_threshold),
    )
