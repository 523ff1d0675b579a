"""The evaluate suite's diversity and memorisation section: Vendi, rarity, PRD, AuthPct and C_T per set.

Every number is the project's public metric function on the features the
evaluation extracted once (:mod:`.sets`):

- Vendi score (Friedman & Dieng 2023; :func:`genmetrics_nb.vendi_score`, q = 1,
  linear kernel on L2-normalised ``extractor`` features, as dgm-eval) of each
  generated set and of the reference, overall and per class where the set
  has labels (or ``classifier=`` labels it);
- rarity score (Han et al. 2022; :func:`genmetrics_nb.rarity_score`) of each
  generated sample against the whole reference (``pr_extractor`` features,
  as the realism score): its summaries, the rarest and the most typical samples;
- the PRD curve (Sajjadi et al. 2018; :func:`genmetrics_nb.prd`) of each set
  against the reference on ``extractor`` features, at equal set sizes (the
  reference's rule): the larger side is cut to a seeded random subset of
  the smaller side's size, stated with its n;
- AuthPct (dgm-eval; :func:`genmetrics_nb.authpct`): the share of generated
  samples farther from their nearest reference image than that image is
  from its own nearest neighbour, the reference being the generators'
  training set;
- the C_T data-copying test (Meehan et al. 2020; :func:`genmetrics_nb.ct_test`)
  of each set against the held-out real images: ``heldout=``, or else the
  seeded split of the reference that the memorisation check uses
  (:func:`~.sets.reference_split`, whose note the section repeats).

A "held-out real" row gives the same numbers for new real images (Vendi of
the held-out images; rarity, PRD and AuthPct of the held-out images against
the rest of the reference):
what a generator that neither copies nor drops modes would get.

References
----------
.. [1] D. Friedman and A. B. Dieng, "The Vendi Score: A Diversity Evaluation
   Metric for Machine Learning", TMLR 2023.
.. [2] J. Han et al., "Rarity Score: A New Metric to Evaluate the
   Uncommonness of Synthesized Images", arXiv:2206.08549.
.. [3] M. S. M. Sajjadi et al., "Assessing Generative Models via Precision
   and Recall", NeurIPS 2018.
.. [4] A. M. Alaa et al., "How Faithful is your Synthetic Data?", ICML 2022;
   G. Stein et al., NeurIPS 2023 (dgm-eval's AuthPct).
.. [5] C. Meehan, K. Chaudhuri and S. Dasgupta, "A Non-Parametric Test to
   Detect Data-Copying in Generative Models", AISTATS 2020.
"""
from __future__ import annotations

import dataclasses
import html
import math
import re

import numpy as np

from genmetrics_nb.suites.evaluate.display import fmt, html_rows
from genmetrics_nb.suites.evaluate.sets import Evaluation, reference_split
from genmetrics_nb.util.checks import check_int

__all__ = ["Diversity", "diversity", "equal_size_rows"]

#: Principal components C_T projects the features on (dgm-eval's default of :func:`genmetrics_nb.ct_test`).
CT_PCA = 64

#: The name of the baseline row: held-out real images scored like a generated set.
HELDOUT_ROW = "held-out real"


def equal_size_rows(n_a: int, n_b: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of two sets cut to equal size: the larger side's a seeded random subset (sorted), the other's all.

    Examples
    --------
    >>> a, b = equal_size_rows(5, 3, seed=0)
    >>> len(a), b.tolist()
    (3, [0, 1, 2])
    """
    n = min(n_a, n_b)
    rng = np.random.default_rng([seed, 2])
    pick = lambda m: np.arange(m) if m == n else np.sort(rng.choice(m, n, replace=False))  # noqa: E731
    return pick(n_a), pick(n_b)


@dataclasses.dataclass(frozen=True)
class Diversity:
    """Diversity and memorisation of each generated set, beside the reference and held-out real images.

    Attributes
    ----------
    vendi : dict
        Set name (and ``"reference"``, ``"held-out real"``) -> :class:`~genmetrics_nb.metrics.diversity.vendi.VendiResult`
        (``per_class`` filled where the set has labels).
    rarity : dict
        Set name (and ``"held-out real"``) -> :class:`~genmetrics_nb.metrics.distribution.rarity.RarityScoreResult`.
    rarest, typical : dict
        Set name -> feature rows of the ``n_show`` rarest / most typical
        (lowest score) samples inside the real manifold, rarest / most typical first.
    prd : dict
        Set name (and ``"held-out real"``) -> :class:`~genmetrics_nb.metrics.diversity.prd.PRDResult`.
    prd_rows : dict
        Set name -> (reference rows, set rows) the PRD used (equal sizes).
    authpct : dict
        Set name (and ``"held-out real"``) -> :class:`~genmetrics_nb.metrics.memorisation.authpct.AuthPctResult`.
    ct : dict
        Set name -> :class:`~genmetrics_nb.metrics.memorisation.ct_test.CTResult`, or the reason (str)
        the test could not run on that set.
    n : dict
        Set name -> images used.
    n_reference : int
    heldout_note : str
        Where the held-out real images (C_T's test set, the baseline row) come from.
    prd_note : str
        How the PRD's equal sizes were drawn.
    labelled_by : str
        Where the generated sets' labels for per-class Vendi come from ("" when none).
    """

    vendi: dict
    rarity: dict
    rarest: dict
    typical: dict
    prd: dict
    prd_rows: dict
    authpct: dict
    ct: dict
    n: dict
    n_reference: int
    heldout_note: str
    prd_note: str
    labelled_by: str = ""

    @property
    def names(self) -> list[str]:
        """The generated sets, in order."""
        return list(self.rarest)

    def prd_labels(self) -> list[str]:
        """Legend entries of the PRD curves, in ``prd``'s order: each set with its n per side and F_8 / F_1/8."""
        return [f"{n} (n = {r.n_fake} per side): F_8 {r.f_beta:.2f}, F_1/8 {r.f_beta_inv:.2f}" for n, r in self.prd.items()]

    def _ct_value(self, name):
        r = self.ct.get(name)
        return None if r is None or isinstance(r, str) else r.value

    def rows(self) -> list[dict]:
        """One dict per row (reference, held-out real, each generated set) of the section's table."""
        out = []
        for name in ["reference", HELDOUT_ROW, *self.names]:
            v, ra, p, a = (self.vendi.get(name), self.rarity.get(name), self.prd.get(name), self.authpct.get(name))
            n = self.n_reference if name == "reference" else self.n[name]
            out.append({
                "name": name, "n": n,
                "vendi": None if v is None else v.value,
                "vendi_per_class": None if v is None else v.per_class_mean,
                "rarity_mean": None if ra is None else ra.value,
                "rarity_median": None if ra is None or not ra.in_manifold.any() else
                float(np.median(ra.scores[ra.in_manifold])),
                "in_manifold": None if ra is None else ra.in_manifold_share,
                "prd_f8": None if p is None else p.f_beta, "prd_f1_8": None if p is None else p.f_beta_inv,
                "prd_n": None if p is None else p.n_fake,
                "authpct": None if a is None else a.value,
                "c_t": self._ct_value(name),
            })
        return out

    def report_entries(self) -> dict:
        """Headline numbers for ``gm.record``: Vendi, AuthPct and C_T of each generated set."""
        out = {}
        for name in self.names:
            key = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
            out[f"vendi_{key}"] = self.vendi[name].value
            out[f"authpct_{key}"] = self.authpct[name].value
            out[f"c_t_{key}"] = self._ct_value(name)
        return out

    def to_dict(self) -> dict:
        ct = {n: (r if isinstance(r, str) else r.to_dict()) for n, r in self.ct.items()}
        return {"rows": self.rows(), "n_reference": self.n_reference, "heldout_note": self.heldout_note,
                "prd_note": self.prd_note, "labelled_by": self.labelled_by,
                "vendi_per_class": {n: (None if v.per_class is None else {str(c): s for c, s in v.per_class.items()})
                                    for n, v in self.vendi.items()},
                "vendi_protocol": {"q": 1, "kernel": "linear", "normalize": True},
                "rarity_k": next(iter(self.rarity.values())).k if self.rarity else None,
                "prd_protocol": {k: getattr(next(iter(self.prd.values())), k)
                                 for k in ("num_clusters", "num_angles", "num_runs", "seed")} if self.prd else {},
                "c_t": ct}

    def __str__(self) -> str:
        parts = []
        for r in self.rows()[2:]:
            ct = "C_T -" if r["c_t"] is None else f"C_T {r['c_t']:.2f}"
            parts.append(f"{r['name']} (n = {r['n']}): Vendi {fmt(r['vendi'])}, AuthPct {r['authpct']:.1f} %, {ct}")
        return "; ".join(parts)

    def _repr_html_(self) -> str:
        def cell(v, f=fmt):
            return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f(v)

        pct = lambda v: f"{v:.1f} %"  # noqa: E731
        share = lambda v: f"{v:.0%}"  # noqa: E731
        body = [[r["name"], r["n"], cell(r["vendi"]), cell(r["vendi_per_class"]), cell(r["rarity_median"]),
                 cell(r["in_manifold"], share), cell(r["prd_f8"]), cell(r["prd_f1_8"]), cell(r["prd_n"], str),
                 cell(r["authpct"], pct), cell(r["c_t"])] for r in self.rows()]
        table = html_rows(["set", "n", "Vendi", "Vendi per class (mean)", "median rarity score",
                           "inside the real manifold", "PRD F_8 (recall)", "PRD F_1/8 (precision)", "PRD n per side",
                           "AuthPct", "C_T"], body)
        reasons = {}  # one sentence per reason, naming every set it applies to (no repeated warnings)
        for n, r in self.ct.items():
            if isinstance(r, str):
                reasons.setdefault(r, []).append(n)
        fails = "".join(f" C_T not computed for {html.escape(', '.join(ns))}: {html.escape(r)}."
                        for r, ns in reasons.items())
        ct_used = [r for r in self.ct.values() if not isinstance(r, str)]
        ct_text = (f"C_T: {ct_used[0].num_cells} k-means cells of the reference's features"
                   f"{'' if ct_used[0].pca_components is None else f' (first {ct_used[0].pca_components} principal components)'}; "
                   "below 0 the samples lie closer to the reference than new real images do (copying), "
                   "above 0 farther; about 0 is ideal." if ct_used else "")
        labels = (f" Per-class Vendi of the generated sets: classes from {html.escape(self.labelled_by)}."
                  if self.labelled_by else "")
        return (table +
                f"<p><small>Vendi: q = 1, linear kernel on L2-normalised features (dgm-eval), each set at its own n "
                f"(the reference: all {self.n_reference} images); the score grows with n, so compare sets of equal n."
                f"{labels} Rarity score: against the whole reference; median over the samples inside the real "
                f"manifold. {html.escape(self.prd_note)} AuthPct: share of samples farther from their nearest "
                f"reference image than that image is from its own nearest neighbour (about 50 % for new real "
                f"images in high dimensions; lower: copies). {ct_text}{fails} C_T's test set and the held-out real row: "
                f"{html.escape(self.heldout_note)}.</small></p>")


def diversity(ev: Evaluation, *, k: int = 3, n_show: int = 8, classifier=None, num_runs: int = 10,
              num_clusters: int = 20, ct_cells: int = 3, seed: int | None = None, device="auto") -> Diversity:
    """Vendi, rarity, PRD, AuthPct and C_T of every generated set (the report's diversity and memorisation section).

    Parameters
    ----------
    ev : Evaluation
    k : int
        Neighbourhood of the rarity score (as the realism score).
    n_show : int
        Rarest and most typical samples kept per set for the galleries.
    classifier : None, "shipped" or callable
        Labels generated sets that carry none, for the per-class Vendi
        (as :func:`~.class_breakdown.per_class`).
    num_runs, num_clusters : int
        PRD's k-means runs and clusters (10 and 20 in the paper).
    ct_cells : int
        C_T's k-means cells (3 in dgm-eval).
    seed : int, optional
        Seeds the PRD's equal-size draw and k-means and the C_T's PCA and
        k-means (default: the evaluation's seed).
    device : str

    Returns
    -------
    Diversity
        Each number equals the public function on the same features:
        ``gm.vendi_score(g.fd, labels=...)``, ``gm.rarity_score(ev.real.pr, g.pr, k=k)``,
        ``gm.prd(real_rows, g_rows)``, ``gm.authpct(ev.real.fd, g.fd)`` and
        ``gm.ct_test(train, heldout, g.fd)`` with ``train, heldout`` from
        :func:`~.sets.reference_split`.
    """
    from genmetrics_nb.metrics.distribution.rarity import rarity_score
    from genmetrics_nb.metrics.diversity.prd import prd
    from genmetrics_nb.metrics.diversity.vendi import vendi_score
    from genmetrics_nb.metrics.memorisation.authpct import authpct
    from genmetrics_nb.metrics.memorisation.ct_test import ct_test
    from genmetrics_nb.suites.evaluate.class_breakdown import _classify

    n_show = check_int(n_show, name="n_show", minimum=1)
    seed = ev.seed if seed is None else check_int(seed, name="seed", minimum=0)
    quiet = dict(device=device, progress=False)
    split = reference_split(ev)
    real = ev.real

    vendi = {"reference": vendi_score(real.fd, labels=real.labels, **quiet)}
    rarity, rarest, typical, prds, prd_rows, auth, ct, n, how = {}, {}, {}, {}, {}, {}, {}, {}, set()

    def prd_of(ref, other):
        a, b = equal_size_rows(ref.n, other.n, seed=seed)
        return prd(ref.fd[a], other.fd[b], num_runs=num_runs, num_clusters=min(num_clusters, len(a)), seed=seed,
                   **quiet), (a, b)

    held, ref_rest = split.heldout, split.reference
    vendi[HELDOUT_ROW] = vendi_score(held.fd, labels=held.labels, **quiet)
    rarity[HELDOUT_ROW] = rarity_score(ref_rest.pr, held.pr, k=k, **quiet)
    prds[HELDOUT_ROW], _ = prd_of(ref_rest, held)
    auth[HELDOUT_ROW] = authpct(ref_rest.fd, held.fd, **quiet)
    n[HELDOUT_ROW] = held.n
    for g in ev.generated:
        labels = g.labels
        if labels is None and classifier is not None and real.labels is not None:
            labels = np.concatenate([_classify(g.images(np.arange(s, min(s + 256, g.n))), classifier, device)
                                     for s in range(0, g.n, 256)])
            how.add("the shipped Fashion-MNIST classifier" if classifier == "shipped" else "the given classifier")
        elif labels is not None:
            how.add("the set's own labels")
        vendi[g.name] = vendi_score(g.fd, labels=labels, **quiet)
        r = rarity_score(real.pr, g.pr, k=k, **quiet)
        rarity[g.name] = r
        order = r.order
        rarest[g.name], typical[g.name] = order[:n_show], order[::-1][:n_show]
        prds[g.name], prd_rows[g.name] = prd_of(real, g)
        auth[g.name] = authpct(real.fd, g.fd, **quiet)
        if ref_rest.fd.shape[1] > CT_PCA and ref_rest.n < CT_PCA:
            ct[g.name] = (f"it projects on the reference's first {CT_PCA} principal components, which takes at "
                          f"least {CT_PCA} reference images; this section has {ref_rest.n}")
        else:
            try:
                ct[g.name] = ct_test(ref_rest.fd, held.fd, g.fd, num_cells=ct_cells, seed=seed, **quiet)
            except ValueError as e:  # a cell without held-out samples, or none above tau, at this n: say so
                ct[g.name] = str(e)
        n[g.name] = g.n
    sizes = sorted({len(a) for a, _ in prd_rows.values()})
    prd_note = (f"PRD: {num_clusters} k-means clusters, {num_runs} runs, at equal set sizes (the reference's rule): "
                f"the larger side is a seeded random subset (seed {seed}) of the smaller side's size, "
                f"n = {', '.join(map(str, sizes))} per side; the held-out row compares the held-out images "
                f"with as many of the rest of the reference.")
    return Diversity(vendi, rarity, rarest, typical, prds, prd_rows, auth, ct, n, real.n, split.note, prd_note,
                     ", ".join(sorted(how)))
