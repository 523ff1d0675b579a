"""The inception_score notebook: IS per class, of mixtures of classes, and against the number of splits."""
from __future__ import annotations

import dataclasses

import numpy as np

from genmetrics_nb.suites.class_draws import ClassFeatures
from genmetrics_nb.util.findings import Verdict, check, verdict_from_checks
from genmetrics_nb.util.results import StoryResult, frame

__all__ = ["ISExperiment", "inception_score_experiment", "inception_score_verdict"]


# ----------------------------------------------------------------------------
# Inception Score
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ISExperiment(StoryResult):
    """Inception Score per class, against the number of classes mixed, and against splits."""

    caption = "Inception Score of mixtures of 1, 2, ... classes: mean and standard deviation over the random choices."

    per_class: tuple  # rows {class, is}
    mixtures: tuple  # rows {classes, repeat, is}
    splits: tuple  # rows {splits, is_mean, is_std}
    n: int

    @property
    def per_class_table(self):
        return frame(list(self.per_class))

    @property
    def mixture_table(self):
        return frame(list(self.mixtures))

    @property
    def mixture_summary(self):
        return self.mixture_table.groupby("classes").agg(is_mean=("is", "mean"), is_std=("is", "std")).reset_index()

    @property
    def splits_table(self):
        return frame(list(self.splits))

    def __repr__(self) -> str:
        return (f"ISExperiment({len(self.per_class)} classes, {self.n} images per set, "
                f"{len(self.mixtures)} mixtures, {len(self.splits)} split counts)")

    @property
    def table(self):
        """The mixtures' mean and spread per number of classes (what the notebook shows)."""
        return self.mixture_summary

    @property
    def summary(self) -> dict:
        m = self.mixture_summary
        return {"n": self.n, "per_class": {r["class"]: r["is"] for r in self.per_class},
                "mixture_classes": m["classes"].tolist(), "mixture_is": m["is_mean"].tolist(),
                "splits": {int(r["splits"]): r["is_mean"] for r in self.splits}}


def inception_score_experiment(
    feats: ClassFeatures,
    *,
    n: int = 200,
    split_counts=(1, 2, 5, 10, 20),
    repeats: int = 5,
    output: str = "logits",
    seed: int = 0,
    device="auto",
) -> ISExperiment:
    """IS of each class alone, of mixtures of 1..C classes, and of all classes at several splits.

    A mixture of ``m`` classes holds ``n`` samples, ``n // m`` (plus the
    remainder spread over the first classes) from each of ``m`` classes
    chosen at random (``repeats`` times). Every set has the same size, so
    only the number of classes changes. One split is used for these; the
    last part scores the ``n``-per-class union of all classes with
    ``split_counts`` splits.
    """
    from genmetrics_nb.metrics.distribution.inception_score import inception_score

    classes = feats.classes
    per_class = tuple({"class": feats.class_names[c],
                       "is": inception_score(feats.rows(c, 0, n, output=output), splits=1, device=device).value}
                      for c in classes)
    rng = np.random.default_rng(seed)
    mixtures = []
    for m in range(1, len(classes) + 1):
        for r in range(repeats if m < len(classes) else 1):
            chosen = rng.choice(classes, m, replace=False)
            counts = [n // m + (1 if i < n % m else 0) for i in range(m)]
            x = np.concatenate([feats.rows(int(c), 0, k, output=output) for c, k in zip(chosen, counts)])
            mixtures.append({"classes": m, "repeat": r,
                             "is": inception_score(x, splits=1, device=device).value})
    union = feats.stack(start=0, stop=n, output=output)
    union = union[np.random.default_rng(seed).permutation(len(union))]  # mix the classes over splits
    splits = tuple({"splits": int(s), "is_mean": r.value, "is_std": r.std}
                   for s in split_counts
                   for r in [inception_score(union, splits=int(s), device=device)])
    return ISExperiment(per_class, tuple(mixtures), splits, int(n))


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
#: A trend counts when the Spearman rank correlation between the two series reaches this size.
TREND = 0.9


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic) if len(a) > 1 else float("nan")


def inception_score_verdict(exp: ISExperiment) -> Verdict:
    """The inception_score notebook's finding: IS rises with the number of classes present.

    Checks:

    - the mean IS of the mixtures rises with the number of classes: Spearman
      rank correlation >= :data:`TREND` (the class choices are random, so a
      single step may dip), and the all-classes mixture scores above the
      single-class one;
    - IS falls as the same images are cut into more, smaller splits
      (rank correlation <= -:data:`TREND`).
    """
    m = exp.mixture_summary
    k, v = m["classes"].to_numpy(), m["is_mean"].to_numpy()
    rho = _spearman(k, v)
    checks = [check(f"mixtures: mean IS {v[0]:.2f} with 1 class, {v[-1]:.2f} with {int(k[-1])} "
                    f"(rank correlation with the number of classes {rho:.2f}, >= {TREND:g} required)",
                    len(k) > 1 and v[-1] > v[0] and rho >= TREND)]
    st = exp.splits_table
    if len(st) > 1:
        s, iv = st["splits"].to_numpy(), st["is_mean"].to_numpy()
        rho_s = _spearman(s, iv)
        checks.append(check(f"splits: IS {iv[0]:.3f} with {int(s[0])} split(s), {iv[-1]:.3f} with {int(s[-1])} "
                            f"(rank correlation {rho_s:.2f}, <= -{TREND:g} required)",
                            iv[-1] < iv[0] and rho_s <= -TREND))
    return verdict_from_checks("IS rises with the number of classes in the set and falls with smaller splits", checks)
