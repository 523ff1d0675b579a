"""Davidsonian Scene Graph (DSG) score from answers the user brings.

DSG (Cho et al., 2024) asks a VQA model yes/no questions generated from a
prompt's scene graph. A question may depend on parent questions ("is the
dog brown?" depends on "is there a dog?"). This module only aggregates:

- a question scores 1 when its answer is exactly ``"yes"`` (no case folding,
  no stripping; a missing answer scores 0);
- a question one of whose parents was answered anything but ``"yes"`` is set
  to 0 (the parent's *raw* answer decides, so zeroing does not cascade: a
  grandchild is not zeroed because its parent was);
- an item's score is the mean over its answered questions;
- the overall score, and each category's, is the mean of item scores.

These are the rules of ``calc_vqa_score`` in j-min/DSG ``dsg/vqa_utils.py``
and of ``scripts/t2i_eval_dsg1k.py`` (which scores an item with no answers
at all as 0). ``dependency_zeroing=False`` gives the score without the
dependency rule, which the reference also reports.

References
----------
.. [1] Cho, J. et al. "Davidsonian Scene Graph: Improving Reliability in
   Fine-grained Evaluation for Text-to-Image Generation." ICLR 2024.
   https://github.com/j-min/DSG (commit 7330119).
"""
from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.result import Result

__all__ = ["DSGResult", "dsg_item_score", "dsg_score", "read_dsg_annotations", "read_dsg_answers"]

YES = "yes"


@dataclasses.dataclass(frozen=True)
class DSGResult(Result):
    """DSG score: mean over items of the per-item question accuracy.

    Attributes
    ----------
    value : float
        Overall score in [0, 1] (the DSG README prints it x 100, "80.5%").
    per_category : dict of str to float
        Mean item score per category, in order of first appearance.
    category_counts : dict of str to int
        Number of items per category.
    item_scores : dict of str to float
        Each item's score.
    n_items : int
    n_questions : int
        Questions answered, over all items.
    n_zeroed : int
        Questions answered "yes" whose score the dependency rule set to 0.
    n_missing_items : int
        Items listed in ``items`` with no answers (each scores 0).
    dependency_zeroing : bool
        Whether children of a parent not answered "yes" were zeroed.
    answer_rule : str
        How an answer becomes a score.
    """

    value: float
    per_category: dict
    category_counts: dict
    item_scores: dict
    n_items: int
    n_questions: int
    n_zeroed: int
    n_missing_items: int
    dependency_zeroing: bool
    answer_rule: str = 'answer == "yes" (exact); children of a parent not answered "yes" score 0'

    metric_name: ClassVar[str] = "DSG"
    display_fields: ClassVar[tuple[str, ...]] = ("n_questions", "dependency_zeroing")
    n_fields: ClassVar[tuple[str, ...]] = ("n_items",)
    dict_exclude: ClassVar[tuple[str, ...]] = ("item_scores",)

    def __str__(self) -> str:
        dep = "with" if self.dependency_zeroing else "without"
        return (f"DSG = {100 * self.value:.1f}% over {self.n_items} items "
                f"({self.n_questions} questions, {dep} dependency zeroing)")

    def _html_rows(self):
        head, rows = super()._html_rows()
        for cat, v in self.per_category.items():
            rows.append([f"DSG[{cat}]", v, None, None, self.category_counts[cat]])
        return head, rows


def _parents(value) -> list[int]:
    """Parent ids from a list, an int or a ``"1,2"`` string (0 means no parent)."""
    if value is None:
        return [0]
    if isinstance(value, str):
        return [int(x.strip()) for x in value.split(",") if x.strip()] or [0]
    if isinstance(value, (int, np.integer)):
        return [int(value)]
    return [int(v) for v in value]


def dsg_item_score(answers: Mapping, dependencies: Mapping | None = None, *,
                   dependency_zeroing: bool = True, item: str = "item") -> tuple[float, int]:
    """Score of one item: (mean question score, number of "yes" answers zeroed).

    Parameters
    ----------
    answers : mapping of int to str
        Question id -> the VQA model's answer.
    dependencies : mapping of int to list of int, optional
        Question id -> parent question ids (0 or an empty list: no parent).
        Missing: no question has a parent.
    dependency_zeroing : bool
        Zero a question whose parent was not answered "yes".
    item : str
        The item's name, for messages.
    """
    scores = {qid: float(a == YES) for qid, a in answers.items()}
    if not scores:
        return 0.0, 0
    dependencies = dependencies or {}
    kept = dict(scores)
    zeroed = 0
    if dependency_zeroing:
        for qid in scores:
            for parent in _parents(dependencies.get(qid)):
                if parent == 0:
                    continue
                if parent not in scores:
                    raise ValueError(
                        f"answers of item {item!r}: question {qid} depends on question {parent}, "
                        f"which has no answer; give every parent question an answer"
                    )
                if scores[parent] == 0:
                    zeroed += int(kept[qid] == 1.0)
                    kept[qid] = 0.0
                    break
    return sum(kept.values()) / len(scores), zeroed


def dsg_score(answers: Mapping, *, dependencies: Mapping | None = None, categories=None,
              items=None, dependency_zeroing: bool = True) -> DSGResult:
    """DSG score of VQA answers the user brings.

    Parameters
    ----------
    answers : mapping of str to mapping of int to str
        Item id -> {question id -> answer}.
    dependencies : mapping of str to mapping of int to list of int, optional
        Item id -> {question id -> parent ids}; 0 means no parent. Without
        it no question has a parent (and the dependency rule changes nothing).
    categories : mapping of str to str or callable, optional
        Item id -> category (or a function of the item id, such as
        :func:`genmetrics_nb.prompts.dsg1k_category`) for ``per_category``.
    items : sequence of str, optional
        Every item of the benchmark. An item with no answers scores 0, as in
        the reference's DSG-1k script (one of its 1,060 items has none).
        Default: the items of ``answers``.
    dependency_zeroing : bool
        Apply the dependency rule (default, the published protocol). False
        gives the reference's ``average_score_without_dependency``.

    Returns
    -------
    DSGResult

    References
    ----------
    .. [1] Cho et al., ICLR 2024; j-min/DSG ``dsg/vqa_utils.py calc_vqa_score``.

    Examples
    --------
    >>> r = dsg_score({"a": {1: "yes", 2: "no", 3: "yes"}}, dependencies={"a": {3: [2]}})
    >>> r.value  # question 3 is zeroed because its parent 2 was answered no
    0.3333333333333333
    >>> dsg_score({"a": {1: "yes", 2: "no", 3: "yes"}}, dependencies={"a": {3: [2]}},
    ...           dependency_zeroing=False).value
    0.6666666666666666
    """
    if not isinstance(answers, Mapping):
        raise TypeError(f"answers must be a mapping item id -> {{question id -> answer}}, "
                        f"got {type(answers).__name__}; read a released CSV with read_dsg_answers")
    if items is None:
        items = list(answers)
    items = list(dict.fromkeys(items))
    if not items:
        raise ValueError("answers is empty; pass at least one item's answers")
    unknown = [i for i in answers if i not in set(items)]
    if unknown:
        raise ValueError(f"answers has {len(unknown)} item(s) not in items, e.g. {unknown[0]!r}; "
                         f"add them to items or leave items out")
    dependencies = dependencies or {}
    item_scores: dict = {}
    n_q = n_zeroed = n_missing = 0
    for item in items:
        a = answers.get(item)
        if not a:
            n_missing += 1
            item_scores[item] = 0.0
            continue
        s, z = dsg_item_score(a, dependencies.get(item), dependency_zeroing=dependency_zeroing, item=item)
        item_scores[item] = s
        n_q += len(a)
        n_zeroed += z
    per_category: dict = {}
    counts: dict = {}
    if categories is not None:
        cat_of = categories if callable(categories) else categories.__getitem__
        groups: dict = {}
        for item in items:
            try:
                cat = cat_of(item)
            except KeyError:
                raise ValueError(f"categories has no category for item {item!r}") from None
            groups.setdefault(cat, []).append(item_scores[item])
        per_category = {c: float(np.mean(v)) for c, v in groups.items()}
        counts = {c: len(v) for c, v in groups.items()}
    return DSGResult(
        value=float(np.mean([item_scores[i] for i in items])),
        per_category=per_category, category_counts=counts, item_scores=item_scores,
        n_items=len(items), n_questions=n_q, n_zeroed=n_zeroed, n_missing_items=n_missing,
        dependency_zeroing=bool(dependency_zeroing),
    )


def _parents_in(value, where: str) -> list[int]:
    try:
        return _parents(value)
    except ValueError:
        raise ValueError(f"{where}: dependency {value!r} is not a list of question ids; take the "
                         f"dependencies from the DSG annotations CSV (annotations=...)") from None


def _rows(path, need: set, what: str):
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what}={str(path)!r} is not a file")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        have = set(reader.fieldnames or ())
        if not need <= have:
            raise ValueError(f"{what}={str(path)!r} lacks the columns {sorted(need - have)}")
        yield from reader


def read_dsg_annotations(path) -> dict:
    """Items, prompts and question dependencies of a DSG annotations CSV (``dsg/data/dsg-1k-anns.csv``).

    A few rows of the released CSV have free text in their ``dependency``
    (``"5, right"``). The reference (``dsg/data_utils.py``) then drops the
    dependencies of that whole item, so none of its questions is zeroed;
    this reader does the same and lists those items.

    Returns
    -------
    dict
        ``{"items": [...], "prompts": {item: text}, "dependencies": {item: {qid: [parents]}},
        "unparsed_dependencies": [items whose dependencies were dropped]}``.
    """
    items: dict = {}
    deps: dict = {}
    bad: list = []
    for row in _rows(path, {"item_id", "text", "proposition_id", "dependency"}, "annotations"):
        item = row["item_id"]
        items.setdefault(item, row["text"])
        try:
            parents = _parents(row["dependency"])
        except ValueError:
            bad.append(item)
            parents = None
        deps.setdefault(item, {})[int(row["proposition_id"])] = parents
    bad = list(dict.fromkeys(bad))
    for item in bad:
        deps[item] = {}
    return {"items": list(items), "prompts": items, "dependencies": deps, "unparsed_dependencies": bad}


def read_dsg_answers(path, *, t2i_model: str | None = None, annotations=None) -> dict:
    """Read a DSG release answers CSV (``vqa_answers_release/*_dsg.csv``) into ``dsg_score`` arguments.

    Parameters
    ----------
    path : str or path-like
        CSV with columns ``item_id``, ``question_id`` and ``answer`` (plus
        ``t2i_model`` when it holds several models, and ``dependency_id``).
    t2i_model : str, optional
        Keep only this model's rows (``"sd2dot1"`` for the README's table).
    annotations : str or path-like, optional
        The DSG annotations CSV (``dsg/data/dsg-1k-anns.csv``). The reference
        takes the dependencies from it, and its item list (an item with no
        answers then scores 0); the answers CSV's own ``dependency_id``
        column has free-text slips in a few rows (``"1, outside"``).

    Returns
    -------
    dict
        ``{"answers": ..., "dependencies": ...}`` (and ``"items"`` with
        ``annotations``) for :func:`dsg_score`.
    """
    answers: dict = {}
    deps: dict = {}
    models = set()
    for i, row in enumerate(_rows(path, {"item_id", "question_id", "answer"}, "path")):
        models.add(row.get("t2i_model"))
        if t2i_model is not None and row.get("t2i_model") != t2i_model:
            continue
        qid = int(row["question_id"])
        answers.setdefault(row["item_id"], {})[qid] = row["answer"]
        if annotations is None and row.get("dependency_id") not in (None, ""):
            deps.setdefault(row["item_id"], {})[qid] = _parents_in(row["dependency_id"], f"{path} row {i + 2}")
    if not answers:
        raise ValueError(f"{str(path)!r} has no rows for t2i_model={t2i_model!r}; it has "
                         f"{', '.join(sorted(m for m in models if m))}")
    if annotations is None:
        return {"answers": answers, "dependencies": deps}
    ann = read_dsg_annotations(annotations)
    return {"answers": answers, "dependencies": ann["dependencies"], "items": ann["items"]}
