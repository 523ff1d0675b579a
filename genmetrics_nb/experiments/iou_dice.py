"""The class-wise IoU / Dice table of several models, for notebooks and results.json."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from genmetrics_nb.util.findings import Verdict, check, not_testable, verdict_from_checks
from genmetrics_nb.util.format import fmt_number
from genmetrics_nb.util.results import StoryResult, frame

__all__ = ["ClassScoreTable", "class_score_table", "VariantOrdering", "compare_variants", "iou_dice_verdict",
           "MIN_FOREGROUND", "MIN_CLASS_SHARE", "SeedSpread", "seed_spread"]


@dataclasses.dataclass(frozen=True)
class ClassScoreTable(StoryResult):
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

    @property
    def table(self):
        """One row per class and a last ``mean`` row; a column per model and score (NaN: class absent)."""
        rows = [{"class": name, **{f"{m} {k}": v[i][c] for i, m in enumerate(self.models)
                                   for k, v in (("IoU", self.iou), ("Dice", self.dice))}}
                for c, name in enumerate(self.class_names)]
        rows.append({"class": "mean", **{f"{m} {k}": v[i] for i, m in enumerate(self.models)
                                         for k, v in (("IoU", self.mean_iou), ("Dice", self.mean_dice))}})
        return frame(rows)

    @property
    def summary(self) -> dict:
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
        return "—" if math.isnan(v) else fmt_number(v, 3)

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
class VariantOrdering(StoryResult):
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

    @property
    def table(self):
        """The expected order and the order observed by each score, best first."""
        return frame([{"by": "expected", "order": " > ".join(self.expected), "as expected": True},
                      {"by": "mean IoU", "order": " > ".join(self.by_iou), "as expected": self.reproduced_iou},
                      {"by": "mean Dice", "order": " > ".join(self.by_dice), "as expected": self.reproduced_dice}])

    @property
    def summary(self) -> dict:
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
# shipped checkpoints and their seed spread
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SeedSpread(StoryResult):
    """Test mean IoU of each FCN variant over its training seeds, as recorded by ``train-fcn --spread-seeds``.

    Attributes
    ----------
    models : tuple of str
        Display names (``"FCN-8s"``...).
    seeds : tuple of tuple of int
    mean_iou : tuple of tuple of float
        ``mean_iou[m][i]``: model ``m`` trained with ``seeds[m][i]``, on the test scenes of its entry.
    test : str
        The test scenes the entries were scored on.
    """

    models: tuple
    seeds: tuple
    mean_iou: tuple
    test: str = ""

    def mean(self, model: str) -> float:
        return float(np.mean(self.mean_iou[self.models.index(model)]))

    def spread(self, model: str) -> float:
        """Largest minus smallest mean IoU over the seeds."""
        v = self.mean_iou[self.models.index(model)]
        return float(np.max(v) - np.min(v))

    @property
    def caption(self) -> str:
        return f"Test mean IoU per training seed, recorded by train-fcn on {self.test}." if self.test else ""

    @property
    def table(self):
        """One row per model: its seeds, the test mean IoU of each, their mean and spread (max - min)."""
        return frame({"model": m, "seeds": ", ".join(map(str, self.seeds[i])),
                      "test mean IoU per seed": ", ".join(fmt_number(x, 4) for x in self.mean_iou[i]),
                      "mean": self.mean(m), "spread (max - min)": self.spread(m)} for i, m in enumerate(self.models))

    @property
    def summary(self) -> dict:
        return {m: {"seeds": list(self.seeds[i]), "mean_iou": list(self.mean_iou[i]), "mean": self.mean(m),
                    "spread": self.spread(m)} for i, m in enumerate(self.models)}  # fmt: skip

    def __str__(self) -> str:
        rows = ["model     seeds    mean IoU per seed              mean    spread (max - min)"]
        for i, m in enumerate(self.models):
            per = ", ".join(f"{x:.4f}" for x in self.mean_iou[i])
            rows.append(f"{m:9s} {','.join(map(str, self.seeds[i])):8s} {per:30s} {self.mean(m):.4f}  {self.spread(m):.4f}")
        return "\n".join(rows)


def seed_spread(variants=("32s", "16s", "8s"), *, names=None) -> SeedSpread:
    """Read the per-seed test mean IoU of the shipped ``fcn{v}-scenes224`` entries (``seed_runs``).

    The numbers are the ones ``genmetrics-nb train-fcn --spread-seeds`` wrote
    into ``data/models/manifest.json`` when it trained the checkpoints; only
    the first seed's weights ship.
    """
    from genmetrics_nb.segmentation.segmenters import SCENES224_FCNS
    from genmetrics_nb.weights.shipped import shipped_file

    names = names or {v: f"FCN-{v}" for v in variants}
    models, seeds, ious, test = [], [], [], ""
    for v in variants:
        if v not in SCENES224_FCNS:
            raise ValueError(f"variants must be among {list(SCENES224_FCNS)}, got {v!r}")
        _, entry = shipped_file(SCENES224_FCNS[v])
        runs = entry.get("seed_runs")
        if not runs:
            raise ValueError(f"manifest entry {SCENES224_FCNS[v]!r} has no seed_runs; train it with --spread-seeds")
        models.append(names[v])
        seeds.append(tuple(int(r["seed"]) for r in runs))
        ious.append(tuple(float(r["mean_iou"]) for r in runs))
        test = entry.get("data", {}).get("test", test)
    return SeedSpread(tuple(models), tuple(seeds), tuple(ious), test)


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
#: Below this foreground pixel accuracy (share of item pixels labelled with their class) for every
#: variant, no model has learned to segment items yet and their order is noise: not testable.
MIN_FOREGROUND = 0.05
#: An item class that covers at least this share of the test pixels must get an IoU above 0
#: from every variant (a variant that never predicts it has not learned).
MIN_CLASS_SHARE = 0.01


def iou_dice_verdict(scores: dict, *, expected=("FCN-8s", "FCN-16s", "FCN-32s"), spread: SeedSpread | None = None,
                     background: int = 0, class_names=None) -> Verdict:  # fmt: skip
    """The iou_dice notebook's finding: FCN-8s > FCN-16s > FCN-32s in mean IoU and in mean Dice.

    Checks: the order in mean IoU and in mean Dice; every variant gives each
    item class covering at least :data:`MIN_CLASS_SHARE` of the test pixels
    an IoU above 0 (all variants learned); and, with ``spread``, each margin
    between neighbours in mean IoU (means over the seeds) exceeds the larger
    of the two seed spreads (max - min over seeds). When no variant labels
    at least :data:`MIN_FOREGROUND` of the item pixels correctly (a run too
    short to leave the all-background solution), the order is not testable.

    Parameters
    ----------
    scores : dict of str to SegmentationResult
        Test scores of each variant (``run.val_scores``).
    expected : sequence of str
        The document's order, best first.
    spread : SeedSpread, optional
        Per-seed test mean IoU (:func:`seed_spread`).
    background : int
        Label of the background (not an item class).
    class_names : sequence of str, optional
        For the check's text.
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
    for m in expected:
        conf = getattr(scores[m], "confusion", None)
        if conf is None:
            continue
        counts = np.asarray(conf, dtype=float).sum(axis=1)
        share = counts / max(counts.sum(), 1.0)
        iou = np.asarray(scores[m].per_class_iou, dtype=float)
        big = [c for c in range(len(share)) if c != background and share[c] >= MIN_CLASS_SHARE]
        zero = [c for c in big if not iou[c] > 0]
        label = (lambda c: class_names[c]) if class_names is not None else str
        lowest = min(big, key=lambda c: np.nan_to_num(iou[c], nan=-1.0)) if big else None
        text = (f"{m}: every item class with >= {MIN_CLASS_SHARE:.0%} of the test pixels has IoU > 0 "
                f"({len(big)} classes, lowest {label(lowest)} {iou[lowest]:.3f})" if big and not zero else
                f"{m}: IoU 0 for {', '.join(label(c) for c in zero)}" if zero else
                f"{m}: no item class covers {MIN_CLASS_SHARE:.0%} of the test pixels")
        checks.append(check(text, big and not zero))
    if spread is not None:
        for a, b in zip(expected, expected[1:]):
            margin = spread.mean(a) - spread.mean(b)
            noise = max(spread.spread(a), spread.spread(b))
            checks.append(check(f"margin {a} - {b} over seeds {margin:+.4f} "
                                f"{'>' if margin > noise else '<='} seed spread {noise:.4f}", margin > noise))
    return verdict_from_checks(finding, checks)
