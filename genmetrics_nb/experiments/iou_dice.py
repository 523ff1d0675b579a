"""The class-wise IoU / Dice table of several models, for notebooks and results.json."""
from __future__ import annotations

import dataclasses
import html
import math

from genmetrics_nb.experiments.findings import Verdict, check, not_testable, verdict_from_checks

__all__ = ["ClassScoreTable", "class_score_table", "VariantOrdering", "compare_variants", "iou_dice_verdict",
           "MIN_FOREGROUND"]


@dataclasses.dataclass(frozen=True)
class ClassScoreTable:
    """Per-class IoU and Dice of several models (rows: classes, columns: model x score).

    Attributes
    ----------
    class_names : tuple of str
    models : tuple of str
    iou, dice : tuple of tuple of float
        ``iou[m][c]`` for model ``models[m]`` and class ``class_names[c]`` (NaN: class absent).
    mean_iou, mean_dice : tuple of float
        One per model.
    """

    class_names: tuple
    models: tuple
    iou: tuple
    dice: tuple
    mean_iou: tuple
    mean_dice: tuple

    def to_dict(self) -> dict:
        return {
            m: {
                "per_class_iou": dict(zip(self.class_names, self.iou[i])),
                "per_class_dice": dict(zip(self.class_names, self.dice[i])),
                "mean_iou": self.mean_iou[i],
                "mean_dice": self.mean_dice[i],
            }
            for i, m in enumerate(self.models)
        }

    @staticmethod
    def _fmt(v: float) -> str:
        return "—" if math.isnan(v) else f"{v:.3f}"

    def __str__(self) -> str:
        w = max(len(c) for c in (*self.class_names, "mean")) + 2
        head = "class".ljust(w) + "".join(f"{m + ' IoU':>12}{m + ' Dice':>13}" for m in self.models)
        rows = [head]
        for c, name in enumerate(self.class_names):
            rows.append(name.ljust(w) + "".join(
                f"{self._fmt(self.iou[i][c]):>12}{self._fmt(self.dice[i][c]):>13}" for i in range(len(self.models))
            ))  # fmt: skip
        rows.append("mean".ljust(w) + "".join(
            f"{self._fmt(self.mean_iou[i]):>12}{self._fmt(self.mean_dice[i]):>13}" for i in range(len(self.models))
        ))  # fmt: skip
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        th = "".join(f"<th>{html.escape(m)} IoU</th><th>{html.escape(m)} Dice</th>" for m in self.models)
        body = []
        for c, name in enumerate(self.class_names):
            cells = "".join(
                f"<td>{self._fmt(self.iou[i][c])}</td><td>{self._fmt(self.dice[i][c])}</td>" for i in range(len(self.models))
            )
            body.append(f"<tr><td>{html.escape(name)}</td>{cells}</tr>")
        means = "".join(
            f"<td><b>{self._fmt(self.mean_iou[i])}</b></td><td><b>{self._fmt(self.mean_dice[i])}</b></td>"
            for i in range(len(self.models))
        )
        body.append(f"<tr><td><b>mean</b></td>{means}</tr>")
        return f"<table><thead><tr><th>class</th>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def class_score_table(scores: dict, *, class_names) -> ClassScoreTable:
    """Collect per-class IoU and Dice of several :class:`SegmentationResult` into one table.

    Parameters
    ----------
    scores : dict of str to SegmentationResult
        E.g. ``{"FCN-32s": s32, "FCN-16s": s16, "FCN-8s": s8}``.
    class_names : sequence of str
        One name per class; must match each result's ``num_classes``.
    """
    if not scores:
        raise ValueError("scores is empty; pass a dict of model name -> SegmentationResult")
    names = tuple(class_names)
    for m, s in scores.items():
        if len(s.per_class_iou) != len(names):
            raise ValueError(f"scores[{m!r}] has {len(s.per_class_iou)} classes but class_names has {len(names)}")
    return ClassScoreTable(
        class_names=names,
        models=tuple(scores),
        iou=tuple(tuple(s.per_class_iou) for s in scores.values()),
        dice=tuple(tuple(s.per_class_dice) for s in scores.values()),
        mean_iou=tuple(s.mean_iou for s in scores.values()),
        mean_dice=tuple(s.mean_dice for s in scores.values()),
    )


@dataclasses.dataclass(frozen=True)
class VariantOrdering:
    """Whether FCN-8s > FCN-16s > FCN-32s held, in mean IoU and in mean Dice.

    Attributes
    ----------
    expected : tuple of str
        The document's order, best first.
    by_iou, by_dice : tuple of str
        The order observed, best first.
    reproduced_iou, reproduced_dice : bool
    statement : str
        One plain sentence for the notebook.
    """

    expected: tuple
    by_iou: tuple
    by_dice: tuple
    reproduced_iou: bool
    reproduced_dice: bool
    statement: str

    @property
    def reproduced(self) -> bool:
        return self.reproduced_iou and self.reproduced_dice

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "reproduced": self.reproduced}

    def __str__(self) -> str:
        return self.statement


def compare_variants(scores: dict, *, expected=("FCN-8s", "FCN-16s", "FCN-32s")) -> VariantOrdering:
    """Check the FCN document's finding (FCN-8s best, then 16s, then 32s) on test scores.

    Parameters
    ----------
    scores : dict of str to SegmentationResult
        Must contain every name in ``expected``.
    expected : sequence of str
        Names in the expected order, best first.
    """
    missing = [m for m in expected if m not in scores]
    if missing:
        raise ValueError(f"scores has no entry for {missing}; it has {list(scores)}")
    by_iou = tuple(sorted(expected, key=lambda m: -scores[m].mean_iou))
    by_dice = tuple(sorted(expected, key=lambda m: -scores[m].mean_dice))
    ok_iou = all(scores[a].mean_iou > scores[b].mean_iou for a, b in zip(expected, expected[1:]))
    ok_dice = all(scores[a].mean_dice > scores[b].mean_dice for a, b in zip(expected, expected[1:]))
    iou = " > ".join(f"{m} ({scores[m].mean_iou:.3f})" for m in by_iou)
    if ok_iou and ok_dice:
        verdict = "Reproduced: the document's order " + " > ".join(expected) + " holds in mean IoU and in mean Dice."
    elif ok_iou:
        verdict = "Reproduced in mean IoU only: " + " > ".join(expected) + " holds in IoU but not in Dice."
    elif ok_dice:
        verdict = "Reproduced in mean Dice only: the IoU order differs from " + " > ".join(expected) + "."
    else:
        verdict = "Not reproduced: the document's order " + " > ".join(expected) + " does not hold."
    return VariantOrdering(
        expected=tuple(expected), by_iou=by_iou, by_dice=by_dice, reproduced_iou=ok_iou, reproduced_dice=ok_dice,
        statement=f"{verdict} Mean IoU on the test scenes: {iou}.",
    )  # fmt: skip


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
#: Below this foreground pixel accuracy (share of item pixels labelled with their class) for every
#: variant, no model has learned to segment items yet and their order is noise: not testable.
MIN_FOREGROUND = 0.05


def iou_dice_verdict(scores: dict, *, expected=("FCN-8s", "FCN-16s", "FCN-32s")) -> Verdict:
    """The iou_dice notebook's finding: FCN-8s > FCN-16s > FCN-32s in mean IoU and in mean Dice.

    When no variant labels at least :data:`MIN_FOREGROUND` of the item
    pixels correctly (a run too short to leave the all-background solution),
    the order is not testable.

    Parameters
    ----------
    scores : dict of str to SegmentationResult
        Test scores of each variant (``run.val_scores``).
    expected : sequence of str
        The document's order, best first.
    """
    finding = "Skip connections help: " + " > ".join(expected) + " in mean IoU and mean Dice"
    order = compare_variants(scores, expected=expected)
    fg = {m: getattr(scores[m], "foreground_pixel_accuracy", None) for m in expected}
    if all(v is not None and v < MIN_FOREGROUND for v in fg.values()):
        shares = ", ".join(f"{m} {v:.3f}" for m, v in fg.items())
        return not_testable(finding, f"no variant labels {MIN_FOREGROUND:.0%} of the item pixels correctly "
                                     f"(foreground pixel accuracy {shares}): the models still paint background "
                                     "only; train longer (the offline default)")
    checks = []
    for field, name, held in (("mean_iou", "mean IoU", order.reproduced_iou),
                              ("mean_dice", "mean Dice", order.reproduced_dice)):
        vals = [getattr(scores[m], field) for m in expected]
        text = " ".join(f"{m} {v:.3f}" + ("" if i == len(vals) - 1 else f" {'>' if v > vals[i + 1] else '<='}")
                        for i, (m, v) in enumerate(zip(expected, vals)))
        checks.append(check(f"{name}: {text}", held))
    return verdict_from_checks(finding, checks)
