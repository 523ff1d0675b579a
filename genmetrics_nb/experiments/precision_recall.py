"""The precision_recall notebook: Kynkaanniemi et al.'s sanity checks on real images."""
from __future__ import annotations

import dataclasses
import math


from genmetrics_nb.distortions import gaussian_blur
from genmetrics_nb.suites.class_draws import ClassFeatures, class_features
from genmetrics_nb.util.checks import check_classes
from genmetrics_nb.util.findings import Verdict, check, relation, verdict_from_checks
from genmetrics_nb.util.results import StoryResult, frame

__all__ = ["PRScenarios", "pr_scenarios", "precision_recall_verdict"]


@dataclasses.dataclass(frozen=True)
class PRScenarios(StoryResult):
    """Precision, recall, density and coverage of several generated-set stand-ins."""

    rows: tuple
    k_pr: int
    k_dc: int
    examples: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def table(self):
        return frame(list(self.rows))

    def get(self, scenario: str) -> dict:
        for r in self.rows:
            if r["scenario"] == scenario:
                return r
        raise KeyError(f"no scenario {scenario!r}; have {[r['scenario'] for r in self.rows]}")

    @property
    def summary(self) -> dict:
        """Scenario -> its precision, recall, density and coverage."""
        return {r["scenario"]: {k: v for k, v in r.items() if k != "scenario"} for r in self.rows}

    def __repr__(self) -> str:
        return f"PRScenarios({', '.join(r['scenario'] for r in self.rows)}; k = {self.k_pr} / {self.k_dc})"

    @property
    def caption(self) -> str:
        return f"Precision and recall with k = {self.k_pr}, density and coverage with k = {self.k_dc}."


def pr_scenarios(
    feats: ClassFeatures,
    *,
    n_per_class: int = 100,
    keep_classes=(0, 1, 2, 3, 4),
    blur_sigmas=(1.0, 2.0),
    k_pr: int = 3,
    k_dc: int = 5,
    batch_size: int = 64,
    device="auto",
    progress: bool = True,
) -> PRScenarios:
    """Kynkaanniemi et al.'s sanity checks on real images.

    The real set is rows ``0:n`` of every class. "Generated" stand-ins:
    ``real vs real`` (rows ``n:2n`` of every class), ``classes dropped``
    (the same total number of images, from ``keep_classes`` only: recall
    and coverage fall) and ``blur sigma=s`` (rows ``n:2n`` blurred with a
    Gaussian of ``s`` pixels: precision and density fall).
    """
    from genmetrics_nb.metrics.distribution.knn import density_coverage, precision_recall

    n = int(n_per_class)
    classes = feats.classes
    keep = check_classes(keep_classes, len(feats.class_names), name="keep_classes")
    real = feats.stack(start=0, stop=n)
    per_kept = math.ceil(n * len(classes) / len(keep))
    sets = {"real vs real": feats.stack(start=n, stop=2 * n),
            "classes dropped": feats.stack(start=n, stop=n + per_kept, classes=keep)[: n * len(classes)]}
    examples = {}
    for s in blur_sigmas:
        blurred = class_features(feats.data, extractor=feats.extractor, n_per_class=n, classes=classes,
                                 seed=feats.meta["seed"], offset=feats.meta["offset"] + n,
                                 batch_size=batch_size, device=device,
                                 transform=lambda x, s=s: gaussian_blur(x, s), progress=progress)
        sets[f"blur sigma={s:g}"] = blurred.stack(start=0, stop=n)
        ds = feats.data
        examples[f"blur sigma={s:g}"] = gaussian_blur(ds.images[[feats.indices[c][n] for c in classes]], s)
    examples["real"] = feats.data.images[[feats.indices[c][n] for c in classes]]
    rows = []
    for name, fake in sets.items():
        pr = precision_recall(real, fake, k=k_pr, device=device, progress=False)
        dc = density_coverage(real, fake, k=k_dc, device=device, progress=False)
        rows.append({"scenario": name, "precision": pr.precision, "recall": pr.recall,
                     "density": dc.density, "coverage": dc.coverage, "n_real": pr.n_real, "n_fake": pr.n_fake})
    return PRScenarios(tuple(rows), int(k_pr), int(k_dc), examples)


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
def precision_recall_verdict(scen: PRScenarios) -> Verdict:
    """The precision_recall notebook's finding (Kynkaanniemi et al.'s sanity checks).

    Checks, against the ``real vs real`` scenario:

    - classes dropped: recall falls, and by more than precision does
      (the missing modes cost diversity, not fidelity);
    - every blur level: precision falls (the images leave the real manifold).
    """
    real = scen.get("real vs real")
    dropped = scen.get("classes dropped")
    p0, r0 = real["precision"], real["recall"]
    pd_, rd = dropped["precision"], dropped["recall"]
    checks = [
        check(f"classes dropped: recall {rd:.2f} {relation(rd, r0)} {r0:.2f} (real vs real)", rd < r0),
        check(f"classes dropped: recall changes by {rd - r0:+.2f}, precision by {pd_ - p0:+.2f}", r0 - rd > p0 - pd_),
    ]
    for r in scen.rows:
        if r["scenario"].startswith("blur"):
            p = r["precision"]
            checks.append(check(f"{r['scenario']}: precision {p:.2f} {relation(p, p0)} {p0:.2f} (real vs real)",
                                p < p0))
    return verdict_from_checks("Dropping classes lowers recall while precision holds; blur lowers precision", checks)
