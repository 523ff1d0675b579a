"""The precision_recall notebook: Kynkaanniemi et al.'s sanity checks on real images."""
from __future__ import annotations

import dataclasses
import math


from genmetrics_nb.distortions import gaussian_blur
from genmetrics_nb.experiments.class_features import ClassFeatures, class_features
from genmetrics_nb.experiments.common import check_classes, frame

__all__ = ["PRScenarios", "pr_scenarios"]


@dataclasses.dataclass(frozen=True)
class PRScenarios:
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

    def to_dict(self) -> dict:
        return {r["scenario"]: {k: v for k, v in r.items() if k != "scenario"} for r in self.rows}


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
