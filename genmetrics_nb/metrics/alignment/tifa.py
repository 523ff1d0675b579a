"""TIFA score from multiple-choice answers the user brings.

TIFA (Hu et al., 2023) asks a VQA model multiple-choice questions generated
from each prompt. Aggregation, as in Yushi-Hu/tifa ``tifascore/tifa_score.py``
(``tifa_score_benchmark``):

- a question scores 1 when the model's multiple-choice answer equals the
  reference answer exactly;
- a prompt's score is the mean of its question scores. A question listed
  twice for a prompt counts twice (the reference appends every listed
  question to the prompt's scores, while its logs keep one entry per
  question text);
- TIFA is the mean of the prompt scores; the reference also reports their
  sample standard deviation (``statistics.stdev``) and the accuracy per
  element type (mean over all questions of that type).

References
----------
.. [1] Hu, Y. et al. "TIFA: Accurate and Interpretable Text-to-Image
   Faithfulness Evaluation with Question Answering." ICCV 2023.
   https://github.com/Yushi-Hu/tifa (commit 8e37050).
"""
from __future__ import annotations

import dataclasses
import json
import math
import statistics
from pathlib import Path
from typing import ClassVar

from genmetrics_nb.metrics.result import Result

__all__ = ["TIFAResult", "read_tifa_result", "tifa_score"]


@dataclasses.dataclass(frozen=True)
class TIFAResult(Result):
    """TIFA: mean over prompts of multiple-choice VQA accuracy.

    Attributes
    ----------
    value : float
        ``tifa_average`` of the reference.
    stdev : float
        Sample standard deviation of the prompt scores (``tifa_stdev``;
        nan for a single prompt).
    accuracy_by_type : dict of str to float
        Accuracy per question element type, in order of first appearance.
    prompt_scores : dict of str to float
        Each prompt's accuracy (``caption_scores``).
    n_prompts : int
    n_questions : int
        Questions scored, repeats included.
    answer_rule : str
    """

    value: float
    stdev: float
    accuracy_by_type: dict
    prompt_scores: dict
    n_prompts: int
    n_questions: int
    answer_rule: str = "multiple-choice answer == reference answer; prompt score = mean; TIFA = mean over prompts"

    metric_name: ClassVar[str] = "TIFA"
    display_fields: ClassVar[tuple[str, ...]] = ("stdev", "n_questions")
    n_fields: ClassVar[tuple[str, ...]] = ("n_prompts",)
    dict_exclude: ClassVar[tuple[str, ...]] = ("prompt_scores",)

    def __str__(self) -> str:
        return (f"TIFA = {self.value:.4f} (stdev {self.stdev:.4f}) over {self.n_prompts} prompts, "
                f"{self.n_questions} questions")


_KEYS = ("id", "answer", "mc_answer")


def tifa_score(records) -> TIFAResult:
    """TIFA of multiple-choice answers the user brings.

    Parameters
    ----------
    records : iterable of mapping
        One per question asked of a prompt's image, with keys ``"id"`` (the
        prompt's id), ``"answer"`` (the reference answer from the question
        file), ``"mc_answer"`` (the VQA model's multiple-choice answer) and,
        for ``accuracy_by_type``, ``"element_type"``. List a question as
        many times as the question file lists it.

    Returns
    -------
    TIFAResult

    References
    ----------
    .. [1] Hu et al., ICCV 2023; Yushi-Hu/tifa ``tifascore/tifa_score.py``.

    Examples
    --------
    >>> r = tifa_score([{"id": "a", "answer": "yes", "mc_answer": "yes"},
    ...                 {"id": "a", "answer": "dog", "mc_answer": "cat"},
    ...                 {"id": "b", "answer": "no", "mc_answer": "no"}])
    >>> r.value, r.prompt_scores
    (0.75, {'a': 0.5, 'b': 1})
    """
    by_prompt: dict = {}
    by_type: dict = {}
    n = 0
    for i, rec in enumerate(records):
        missing = [k for k in _KEYS if k not in rec]
        if missing:
            raise ValueError(f"records[{i}] lacks {missing}; each record needs 'id', 'answer' "
                             f"(reference) and 'mc_answer' (the model's choice)")
        score = int(rec["mc_answer"] == rec["answer"])
        by_prompt.setdefault(rec["id"], []).append(score)
        if rec.get("element_type") is not None:
            by_type.setdefault(rec["element_type"], []).append(score)
        n += 1
    if not by_prompt:
        raise ValueError("records is empty; pass one record per question")
    # statistics.mean/stdev, as the reference uses: they sum exactly (fractions),
    # so the reference's printed digits are reproduced, not only to float noise.
    prompt_scores = {k: statistics.mean(v) for k, v in by_prompt.items()}
    values = list(prompt_scores.values())
    return TIFAResult(
        value=float(statistics.mean(values)),
        stdev=statistics.stdev(values) if len(values) > 1 else math.nan,
        accuracy_by_type={k: statistics.mean(v) for k, v in by_type.items()},
        prompt_scores=prompt_scores,
        n_prompts=len(values),
        n_questions=n,
    )


def read_tifa_result(path) -> list[dict]:
    """Records for :func:`tifa_score` from a TIFA result JSON (``question_details``).

    The reference's logs keep one entry per distinct question text of a
    prompt, so a question the question file repeats appears once here;
    rebuild the records from the question file to count repeats twice.

    Parameters
    ----------
    path : str or path-like
        A JSON written by ``tifa_score_benchmark`` (``sample/sample_evaluation_result.json``).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path={str(path)!r} is not a file; pass a TIFA result JSON")
    data = json.loads(path.read_text(encoding="utf-8"))
    details = data.get("question_details") if isinstance(data, dict) else None
    if not isinstance(details, dict):
        raise ValueError(f"{str(path)!r} has no 'question_details'; pass the JSON tifa_score_benchmark writes")
    out = []
    for prompt_id, questions in details.items():
        for q in questions.values():
            out.append({"id": prompt_id, "question": q["question"], "answer": q["answer"],
                        "mc_answer": q["multiple_choice_vqa"], "element_type": q.get("element_type")})
    return out
