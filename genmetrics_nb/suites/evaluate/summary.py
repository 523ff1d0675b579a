"""The evaluate suite's summary: every headline metric of each generated set against the whole reference.

Each number is the public metric function (``gm.fid``, ``gm.kid``,
``gm.inception_score``, ``gm.precision_recall``, ``gm.density_coverage``,
``gm.fid_infinity``) called on the features :func:`~.sets.load_sets`
extracted, so it equals what that function and its command
(``genmetrics-nb fid``, ``kid``, ``isc``, ``prc``) give on the same images
and options: the summary cannot drift from them.

References
----------
.. [1] M. Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
   to a Local Nash Equilibrium", NeurIPS 2017 (FID).
.. [2] M. Binkowski et al., "Demystifying MMD GANs", ICLR 2018 (KID).
.. [3] T. Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016 (IS).
.. [4] T. Kynkaanniemi et al., "Improved Precision and Recall Metric for
   Assessing Generative Models", NeurIPS 2019.
.. [5] M. F. Naeem et al., "Reliable Fidelity and Diversity Metrics for
   Generative Models", ICML 2020 (density, coverage).
.. [6] M. J. Chong and D. Forsyth, "Effectively Unbiased FID and Inception
   Score and where to find them", CVPR 2020 (FD-infinity).
.. [7] G. Stein et al., "Exposing flaws of generative model evaluation metrics
   and their unfair treatment of diffusion models", NeurIPS 2023 (FD on
   other networks than Inception: ``FD_<extractor>``).
"""
from __future__ import annotations

import dataclasses
import html
import math
import re
import warnings

from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.metrics.distribution.bootstrap import INTERVAL_METHOD
from genmetrics_nb.suites.evaluate.display import fmt, frame
from genmetrics_nb.suites.evaluate.sets import Evaluation, reference_split
from genmetrics_nb.util.checks import check_int
from genmetrics_nb.util.warn import reemit_once

__all__ = ["INTERVAL_METHOD", "COLUMNS", "SummaryTable", "summary_table", "kid_subset_size"]


#: Columns of the summary table: key -> (label, True if higher is better); None: the FD's own name.
COLUMNS = {
    "fd": (None, False),
    "kid": ("KID", False),
    "is": ("IS", True),
    "precision": ("precision", True),
    "recall": ("recall", True),
    "density": ("density", True),
    "coverage": ("coverage", True),
    "fd_inf": (None, False),
}


def kid_subset_size(n_real: int, n_fake: int) -> int:
    """torch-fidelity's 1000, or half the smaller set: subsets of a whole set would all be equal."""
    return max(2, min(1000, min(n_real, n_fake) // 2))


@dataclasses.dataclass(frozen=True)
class SummaryTable:
    """One row per generated set: every headline metric against the whole reference, with its interval.

    Attributes
    ----------
    rows : tuple of dict
        ``name``, ``n`` (images of the set), ``kid_subset_size``, and for
        each metric its value, and ``<metric>_low`` / ``<metric>_high``
        (interval) or ``<metric>_std``.
    fd_name : str
        ``"FID"`` or ``"FD_<extractor>"``.
    n_reference : int
        Images of the reference every row is compared with (all of it).
    k : int
        Neighbourhood size of precision/recall and density/coverage.
    baseline : dict
        Held-out real images against the reference: FD and KID, what a
        perfect generator would score (FD's bias at that n), with ``n``
        and ``n_reference`` of that comparison.
    baseline_note : str
        Where the held-out images come from (given, or split from the
        reference for the baseline only).
    interval : str
        How the intervals were computed.
    best : dict
        Column -> name of the best set.
    """

    rows: tuple
    fd_name: str
    n_reference: int
    k: int
    baseline: dict
    baseline_note: str
    interval: str
    best: dict

    @property
    def table(self):
        """The rows as a ``pandas.DataFrame``."""
        return frame(list(self.rows)).set_index("name")

    def __float__(self) -> float:
        return float(min(r["fd"] for r in self.rows))

    def to_dict(self) -> dict:
        return {"fd_name": self.fd_name, "n_reference": self.n_reference, "k": self.k, "interval": self.interval,
                "baseline": self.baseline, "baseline_note": self.baseline_note, "best": self.best,
                "rows": {r["name"]: {k: v for k, v in r.items() if k != "name"} for r in self.rows}}

    def _cell(self, row, key) -> str:
        v = row.get(key)
        if v is None:
            return "-"
        text = fmt(v)
        if f"{key}_low" in row:
            text += f" [{fmt(row[key + '_low'])}, {fmt(row[key + '_high'])}]"
        elif f"{key}_std" in row:
            text += f" &plusmn; {fmt(row[key + '_std'], 2)}"
        if self.best.get(key) == row["name"] and len(self.rows) > 1:
            text = f"<b>{text} &#9733;</b>"
        return text

    def labels(self) -> dict:
        """Column key -> its label (the FD columns carry the FD's name)."""
        return {k: (self.fd_name if k == "fd" else f"{self.fd_name}-infinity" if k == "fd_inf" else lab)
                for k, (lab, _) in COLUMNS.items()}

    def _repr_html_(self) -> str:
        labels = self.labels()
        keys = [k for k in COLUMNS if any(r.get(k) is not None for r in self.rows)]
        head = "".join(f"<th>{html.escape(labels[k])}</th>" for k in keys)
        body = "".join(
            f"<tr><td>{html.escape(r['name'])}</td><td>{r['n']}</td>"
            + "".join(f"<td>{self._cell(r, k)}</td>" for k in keys) + "</tr>" for r in self.rows
        )
        b = self.baseline
        base = ", ".join(f"{html.escape(labels[k])} {fmt(b[k])}" for k in ("fd", "kid") if k in b)
        star = "&#9733; best in its column. " if len(self.rows) > 1 else ""
        return (f"<table><tr><th>set</th><th>n</th>{head}</tr>{body}</table>"
                f"<p><small>Every row against the whole reference, n = {self.n_reference}. {star}"
                f"Intervals: {html.escape(self.interval)}. Precision, recall, density and coverage: k = {self.k}. "
                f"Baseline, a perfect generator's scores (FD's small-sample bias): held-out real images "
                f"(n = {b.get('n')}) against the reference (n = {b.get('n_reference')}): {base}; "
                f"{html.escape(self.baseline_note)}.</small></p>")

    def report_entries(self) -> dict:
        """What ``gm.record`` writes for the index page: each set's Frechet distance
        (``fd_<set>``) and the ``headline`` mapping of those keys to labels."""
        entries, labels = {}, {}
        for r in self.rows:
            key = "fd_" + re.sub(r"[^A-Za-z0-9_.-]", "_", r["name"])
            entries[key] = r["fd"]
            labels[key] = f"{self.fd_name}, {r['name']} (n = {r['n']})"
        entries["headline"] = dict(list(labels.items())[:6])
        return entries

    def __str__(self) -> str:
        labels = self.labels()
        lines = [f"against the whole reference, n = {self.n_reference}"]
        for r in self.rows:
            parts = [f"{labels[k]} {fmt(r[k])}" for k in COLUMNS if r.get(k) is not None]
            lines.append(f"{r['name']} (n = {r['n']}): " + ", ".join(parts))
        return "\n".join(lines)


#: Ranges the bootstrapped statistics can take (interval ends are clipped to them).
_RANGES = {"fid": (0.0, math.inf), "precision_recall": (0.0, 1.0), "density_coverage": (0.0, math.inf)}


def _interval(metric, a, b, *, field, n_boot, seed, device, **kw):
    from genmetrics_nb.metrics.distribution.bootstrap import bootstrap

    res = bootstrap(metric, a, b, n_boot=n_boot, method=INTERVAL_METHOD, seed=seed, device=device,
                    progress=False, **kw)
    iv = next(i for i in res.intervals if i.name == field)
    # The percentile interval re-centred on the estimate (see genmetrics_nb.bootstrap):
    # it contains the estimate and keeps the replicates' spread; FD's bias is shown
    # separately (the held-out baseline, FD-infinity). Clipped to the statistic's
    # range: FD >= 0, shares in [0, 1].
    lo, hi = _RANGES[metric]
    return max(lo, iv.low), min(hi, iv.high)


def summary_table(ev: Evaluation, *, k: int = 3, n_boot: int = 50, kid_subsets: int = 100,
                  is_splits: int = 10, seed: int = 0, device="auto", progress: bool = True) -> SummaryTable:
    """The summary: FD (FID or FD_<extractor>), KID, IS, precision, recall, density, coverage, FD-infinity.

    Every generated set is compared with the whole reference, by the public
    metric functions on the extracted features: FD is ``gm.fid``, KID
    ``gm.kid`` (``kid_subsets`` subsets of :func:`kid_subset_size`, ``seed``),
    IS ``gm.inception_score`` (``min(is_splits, n)`` splits), precision and
    recall ``gm.precision_recall``, density and coverage
    ``gm.density_coverage`` (both with ``k``), FD-infinity ``gm.fid_infinity``.

    Parameters
    ----------
    ev : Evaluation
    k : int
        Neighbourhood size of precision/recall and density/coverage (3 and 5
        in their papers; one value here so the columns share it; ``prc --k``).
    n_boot : int
        Bootstrap resamples of the intervals of FD, precision, recall, density
        and coverage (0: no intervals). The values themselves do not depend on it.
    kid_subsets : int
        KID subsets (its ``± std`` is over these, as torch-fidelity reports it).
    is_splits : int
        Inception Score splits (``± std`` over splits), when the extractor has logits.
    seed : int
        Seeds the KID subsets, the bootstrap and FD-infinity's subsets.
    device : str
    progress : bool

    Returns
    -------
    SummaryTable
    """
    from tqdm.auto import tqdm

    from genmetrics_nb.metrics.distribution.fid import fid, fid_infinity
    from genmetrics_nb.metrics.distribution.inception_score import inception_score
    from genmetrics_nb.metrics.distribution.kid import kid
    from genmetrics_nb.metrics.distribution.knn import density_coverage, precision_recall

    k = check_int(k, name="k", minimum=1)
    n_boot = check_int(n_boot, name="n_boot", minimum=0)
    if n_boot == 1:
        raise ValueError("n_boot must be 0 (no intervals) or at least 2")
    fd_name = fd_label(ev.protocol["extractor"]["name"])
    real = ev.real
    rows = []
    with warnings.catch_warnings(record=True) as caught:  # one n <= D warning, not one per set
        warnings.simplefilter("always")
        split = reference_split(ev)
        ref, held = split.reference, split.heldout
        baseline = {"fd": fid(ref.fd, held.fd, device=device).value,
                    "kid": kid(ref.fd, held.fd, subsets=kid_subsets, subset_size=kid_subset_size(ref.n, held.n),
                               seed=seed, device=device, progress=False).value,
                    "n": held.n, "n_reference": ref.n}
        for g in tqdm(ev.generated, desc="summary", unit="set", disable=not progress):
            row = {"name": g.name, "n": g.n, "kid_subset_size": kid_subset_size(real.n, g.n)}
            row["fd"] = fid(real.fd, g.fd, device=device).value
            if n_boot:
                row["fd_low"], row["fd_high"] = _interval("fid", real.fd, g.fd, field="value", n_boot=n_boot,
                                                          seed=seed, device=device)
            kr = kid(real.fd, g.fd, subsets=kid_subsets, subset_size=row["kid_subset_size"], seed=seed,
                     device=device, progress=False)
            row["kid"], row["kid_std"] = kr.value, kr.std
            if g.logits is not None:
                isr = inception_score(g.logits, splits=min(is_splits, g.n), device=device)
                row["is"], row["is_std"] = isr.value, isr.std
            pr = precision_recall(real.pr, g.pr, k=k, device=device, progress=False)
            dc = density_coverage(real.pr, g.pr, k=k, device=device, progress=False)
            row.update(precision=pr.precision, recall=pr.recall, density=dc.density, coverage=dc.coverage)
            if n_boot:
                for metric, fields in (("precision_recall", ("precision", "recall")),
                                       ("density_coverage", ("density", "coverage"))):
                    for f in fields:
                        row[f + "_low"], row[f + "_high"] = _interval(
                            metric, real.pr, g.pr, field=f, n_boot=n_boot, seed=seed, device=device, k=k)
            row["fd_inf"] = fid_infinity(real.fd, g.fd, seed=seed, device=device, progress=False).value
            rows.append(row)
    reemit_once(caught)
    best = {}
    for key, (_, higher) in COLUMNS.items():
        vals = [(r[key], r["name"]) for r in rows if r.get(key) is not None and math.isfinite(r[key])]
        if vals:
            best[key] = (max(vals) if higher else min(vals))[1]
    interval = (f"{n_boot} bootstrap resamples, {0.95:.0%} percentile intervals re-centred on the estimate; "
                "KID and IS: ± std over subsets / splits" if n_boot else "none (n_boot=0)")
    return SummaryTable(tuple(rows), fd_name, real.n, k, baseline, split.note, interval, best)
