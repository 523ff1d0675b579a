"""The evaluate notebook: one or more generated sets judged against one reference.

Each function is one step of ``notebooks/evaluate.ipynb`` and of
``genmetrics-nb evaluate``: the summary table (:func:`summary_table`), the
realism galleries (:func:`realism`), the memorisation check
(:func:`memorisation`), the per-class breakdown (:func:`per_class`), the
Frechet distance against the sample size (:func:`sample_size_curve`), the
protocol block (:func:`protocol_table`) and the closing statement
(:func:`verdict`). The sets come from
:func:`genmetrics_nb.experiments.evaluate_sets.load_sets`.

A Frechet distance is called FID only on the TF-FID Inception's pool3
features (``inception-v3-fid``); on any other network it is ``FD_<extractor>``
(Stein et al. 2023 on why the two are not comparable).

References
----------
.. [1] M. Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
   to a Local Nash Equilibrium", NeurIPS 2017 (FID).
.. [2] M. Binkowski et al., "Demystifying MMD GANs", ICLR 2018 (KID).
.. [3] T. Kynkaanniemi et al., "Improved Precision and Recall Metric for
   Assessing Generative Models", NeurIPS 2019 (precision, recall, realism score).
.. [4] M. F. Naeem et al., "Reliable Fidelity and Diversity Metrics for
   Generative Models", ICML 2020 (density, coverage).
.. [5] M. J. Chong and D. Forsyth, "Effectively Unbiased FID and Inception
   Score and where to find them", CVPR 2020 (FD-infinity).
.. [6] G. Stein et al., "Exposing flaws of generative model evaluation metrics
   and their unfair treatment of diffusion models", NeurIPS 2023.
"""
from __future__ import annotations

import dataclasses
import html
import math
import warnings

import numpy as np

from genmetrics_nb.experiments.common import frame, reemit_once
from genmetrics_nb.experiments.evaluate_sets import Evaluation
from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.util.checks import check_int

__all__ = [
    "INTERVAL_METHOD",
    "SummaryTable",
    "summary_table",
    "RealismGalleries",
    "realism",
    "Memorisation",
    "memorisation",
    "PerClass",
    "per_class",
    "SampleSizeCurve",
    "sample_size_curve",
    "ProtocolTable",
    "protocol_table",
    "EvaluationVerdict",
    "verdict",
]

#: Bootstrap interval of the summary table (see :func:`genmetrics_nb.bootstrap`).
INTERVAL_METHOD = "centred-percentile"

#: Columns of the summary table: name -> (label, True if higher is better).
_COLUMNS = {
    "fd": (None, False),
    "kid": ("KID", False),
    "is": ("IS", True),
    "precision": ("precision", True),
    "recall": ("recall", True),
    "density": ("density", True),
    "coverage": ("coverage", True),
    "fd_inf": (None, False),
}


def _fmt(v, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}g}"


@dataclasses.dataclass(frozen=True)
class SummaryTable:
    """One row per generated set: every headline metric with its interval.

    Attributes
    ----------
    rows : tuple of dict
        ``name``, and for each metric its value, and ``<metric>_low`` /
        ``<metric>_high`` (interval) or ``<metric>_std``.
    fd_name : str
        ``"FID"`` or ``"FD_<extractor>"``.
    baseline : dict
        The held-out real set against the reference: FD and KID at the same
        n, what a perfect generator would score (FD's bias at this n).
    interval : str
        How the intervals were computed.
    best : dict
        Column -> name of the best set.
    """

    rows: tuple
    fd_name: str
    baseline: dict
    interval: str
    best: dict

    @property
    def table(self):
        """The rows as a ``pandas.DataFrame``."""
        return frame(list(self.rows)).set_index("name")

    def to_dict(self) -> dict:
        return {"fd_name": self.fd_name, "interval": self.interval, "baseline": self.baseline,
                "best": self.best, "rows": {r["name"]: {k: v for k, v in r.items() if k != "name"}
                                           for r in self.rows}}

    def _cell(self, row, key) -> str:
        v = row.get(key)
        if v is None:
            return "-"
        text = _fmt(v)
        if f"{key}_low" in row:
            text += f" [{_fmt(row[key + '_low'])}, {_fmt(row[key + '_high'])}]"
        elif f"{key}_std" in row:
            text += f" &plusmn; {_fmt(row[key + '_std'], 2)}"
        if self.best.get(key) == row["name"] and len(self.rows) > 1:
            text = f"<b>{text} &#9733;</b>"
        return text

    def _labels(self) -> dict:
        return {k: (self.fd_name if k == "fd" else f"{self.fd_name}-infinity" if k == "fd_inf" else lab)
                for k, (lab, _) in _COLUMNS.items()}

    def _repr_html_(self) -> str:
        labels = self._labels()
        keys = [k for k in _COLUMNS if any(r.get(k) is not None for r in self.rows)]
        head = "".join(f"<th>{html.escape(labels[k])}</th>" for k in keys)
        body = "".join(
            f"<tr><td>{html.escape(r['name'])}</td>" + "".join(f"<td>{self._cell(r, k)}</td>" for k in keys)
            + "</tr>" for r in self.rows
        )
        base = ", ".join(f"{html.escape(labels[k])} {_fmt(v)}" for k, v in self.baseline.items() if k in labels)
        star = "&#9733; best in its column. " if len(self.rows) > 1 else ""
        return (f"<table><tr><th>set</th>{head}</tr>{body}</table>"
                f"<p><small>{star}Intervals: {html.escape(self.interval)}. "
                f"Held-out real images against the reference at the same n (a perfect generator's "
                f"scores, FD's small-sample bias): {base}.</small></p>")

    def report_entries(self) -> dict:
        """What ``gm.record`` writes for the index page: each set's Frechet distance
        (``fd_<set>``) and the ``headline`` mapping of those keys to labels."""
        import re

        entries, labels = {}, {}
        for r in self.rows:
            key = "fd_" + re.sub(r"[^A-Za-z0-9_.-]", "_", r["name"])
            entries[key] = r["fd"]
            labels[key] = f"{self.fd_name}, {r['name']}"
        entries["headline"] = dict(list(labels.items())[:6])
        return entries

    def __str__(self) -> str:
        labels = self._labels()
        lines = []
        for r in self.rows:
            parts = [f"{labels[k]} {_fmt(r[k])}" for k in _COLUMNS if r.get(k) is not None]
            lines.append(f"{r['name']}: " + ", ".join(parts))
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
    # separately (the held-out real set at the same n, FD-infinity). Clipped to the
    # statistic's range: FD >= 0, shares in [0, 1].
    lo, hi = _RANGES[metric]
    return iv.value, max(lo, iv.low), min(hi, iv.high)


def _kid_subset(n_real: int, n_fake: int) -> int:
    """torch-fidelity's 1000, or half the smaller set: subsets of a whole set would all be equal."""
    return max(2, min(1000, min(n_real, n_fake) // 2))


def summary_table(ev: Evaluation, *, k: int = 3, n_boot: int = 50, kid_subsets: int = 100,
                  is_splits: int = 10, seed: int = 0, device="auto", progress: bool = True) -> SummaryTable:
    """The summary table: FD (FID or FD_<extractor>), KID, IS, precision, recall, density, coverage, FD-infinity.

    Parameters
    ----------
    ev : Evaluation
    k : int
        Neighbourhood size of precision/recall and density/coverage (3 and 5
        in their papers; one value here so the columns share it).
    n_boot : int
        Bootstrap resamples of the intervals of FD, precision, recall, density
        and coverage (0: no intervals).
    kid_subsets : int
        KID subsets (its ``± std`` is over these, as torch-fidelity reports it),
        of 1000 samples per side or half the smaller set, whichever is smaller.
    is_splits : int
        Inception Score splits (``± std`` over splits), when the extractor has logits.
    seed : int
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
    rows = []
    with warnings.catch_warnings(record=True) as caught:  # one n <= D warning, not one per set
        warnings.simplefilter("always")
        held = ev.heldout
        baseline = {"fd": fid(ev.real.fd, held.fd).value,
                    "kid": kid(ev.real.fd, held.fd, subsets=kid_subsets, subset_size=_kid_subset(ev.real.n, held.n),
                               seed=seed, device=device, progress=False).value}
        for g in tqdm(ev.generated, desc="summary", unit="set", disable=not progress):
            row = {"name": g.name, "n": g.n}
            if n_boot:
                row["fd"], row["fd_low"], row["fd_high"] = _interval("fid", ev.real.fd, g.fd, field="value",
                                                                     n_boot=n_boot, seed=seed, device=device)
            else:
                row["fd"] = fid(ev.real.fd, g.fd, device=device).value
            kr = kid(ev.real.fd, g.fd, subsets=kid_subsets, subset_size=_kid_subset(ev.real.n, g.n), seed=seed,
                     device=device, progress=False)
            row["kid"], row["kid_std"] = kr.value, kr.std
            if g.logits is not None:
                isr = inception_score(g.logits, splits=min(is_splits, g.n), device=device)
                row["is"], row["is_std"] = isr.value, isr.std
            pr = precision_recall(ev.real.pr, g.pr, k=k, device=device, progress=False)
            dc = density_coverage(ev.real.pr, g.pr, k=k, device=device, progress=False)
            row.update(precision=pr.precision, recall=pr.recall, density=dc.density, coverage=dc.coverage)
            if n_boot:
                for metric, fields in (("precision_recall", ("precision", "recall")),
                                       ("density_coverage", ("density", "coverage"))):
                    for f in fields:
                        _, row[f + "_low"], row[f + "_high"] = _interval(
                            metric, ev.real.pr, g.pr, field=f, n_boot=n_boot, seed=seed, device=device, k=k)
            row["fd_inf"] = fid_infinity(ev.real.fd, g.fd, seed=seed, device=device, progress=False).value
            rows.append(row)
    reemit_once(caught)
    best = {}
    for key, (_, higher) in _COLUMNS.items():
        vals = [(r[key], r["name"]) for r in rows if r.get(key) is not None and math.isfinite(r[key])]
        if vals:
            best[key] = (max(vals) if higher else min(vals))[1]
    interval = (f"{n_boot} bootstrap resamples, {0.95:.0%} percentile intervals re-centred on the estimate; "
                "KID and IS: ± std over subsets / splits" if n_boot else "none (n_boot=0)")
    return SummaryTable(tuple(rows), fd_name, baseline, interval, best)


# ----------------------------------------------------------------------------
# realism galleries
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RealismGalleries:
    """The realism score of every generated sample, and the extremes of each set.

    Attributes
    ----------
    scores : dict
        Set name -> per-sample realism scores (feature order).
    most, least : dict
        Set name -> indices of the ``n_show`` most / least realistic samples.
    n_show : int
    k : int
    """

    scores: dict
    most: dict
    least: dict
    n_show: int
    k: int

    def to_dict(self) -> dict:
        return {"k": self.k, "median": {n: float(np.median(v)) for n, v in self.scores.items()},
                "share_above_1": {n: float(np.mean(v > 1)) for n, v in self.scores.items()}}

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{_fmt(float(np.median(v)))}</td><td>{np.mean(v > 1):.0%}</td></tr>"
            for n, v in self.scores.items()
        )
        return (f"<table><tr><th>set</th><th>median realism score</th><th>share inside the real "
                f"manifold (score &gt; 1)</th></tr>{rows}</table>")


def realism(ev: Evaluation, *, k: int = 3, n_show: int = 8, device="auto") -> RealismGalleries:
    """Realism score of every generated sample (Kynkaanniemi et al. 2019), and each set's extremes."""
    from genmetrics_nb.metrics.distribution.realism import realism_score

    n_show = check_int(n_show, name="n_show", minimum=1)
    scores, most, least = {}, {}, {}
    for g in ev.generated:
        v = realism_score(ev.real.pr, g.pr, k=k, device=device, progress=False).values
        order = np.argsort(-v, kind="stable")
        scores[g.name], most[g.name], least[g.name] = v, order[:n_show], order[::-1][:n_show]
    return RealismGalleries(scores, most, least, n_show, k)


# ----------------------------------------------------------------------------
# memorisation
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Memorisation:
    """Nearest real neighbours of generated samples, against those of held-out real images.

    Attributes
    ----------
    generated : dict
        Set name -> (nearest real row, distance) per generated sample.
    heldout : numpy.ndarray
        Nearest-neighbour distances of held-out real images to the reference set.
    threshold : float
        Generated samples closer than this to a real image are flagged:
        half the held-out set's 1st-percentile distance (no new real image
        came that close).
    flagged : dict
        Set name -> indices of flagged samples, closest first.
    closest : dict
        Set name -> indices of the ``n_show`` closest samples, closest first.
    """

    generated: dict
    heldout: np.ndarray
    threshold: float
    flagged: dict
    closest: dict

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "heldout_median": float(np.median(self.heldout)),
                "flagged": {n: int(len(v)) for n, v in self.flagged.items()},
                "flagged_share": {n: len(v) / len(self.generated[n][1]) for n, v in self.flagged.items()},
                "median": {n: float(np.median(d)) for n, (_, d) in self.generated.items()}}

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{_fmt(float(np.median(d)))}</td>"
            f"<td>{len(self.flagged[n])} ({len(self.flagged[n]) / len(d):.1%})</td></tr>"
            for n, (_, d) in self.generated.items()
        )
        return (f"<table><tr><th>set</th><th>median distance to nearest real</th><th>flagged as copies</th></tr>"
                f"{rows}</table><p><small>Held-out real images: median {_fmt(float(np.median(self.heldout)))}; "
                f"flagged: closer than {_fmt(self.threshold)} (half their 1st percentile).</small></p>")


def memorisation(ev: Evaluation, *, n_show: int = 8, device="auto") -> Memorisation:
    """Each generated sample's nearest reference image, compared with held-out real images'.

    A generator that copies training images puts samples much closer to a
    real image than new real images come; such samples are flagged.
    """
    from genmetrics_nb.metrics.distribution.realism import nearest_neighbours

    n_show = check_int(n_show, name="n_show", minimum=1)
    held = nearest_neighbours(ev.heldout.fd, ev.real.fd, device=device, progress=False).distance
    threshold = 0.5 * float(np.quantile(held, 0.01))
    gen, flagged, closest = {}, {}, {}
    for g in ev.generated:
        nn = nearest_neighbours(g.fd, ev.real.fd, device=device, progress=False)
        order = np.argsort(nn.distance, kind="stable")
        gen[g.name] = (nn.index, nn.distance)
        flagged[g.name] = order[nn.distance[order] < threshold]
        closest[g.name] = order[:n_show]
    return Memorisation(gen, held, threshold, flagged, closest)


# ----------------------------------------------------------------------------
# per class
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PerClass:
    """Class histograms and the Frechet distance per class.

    Attributes
    ----------
    class_names : list of str
    real_counts : numpy.ndarray
    generated_counts : dict
        Set name -> counts per class (from the set's labels or the classifier).
    fd : dict
        Set name -> FD per class (NaN where a side has fewer than 2 samples).
    fd_name : str
    labelled_by : str
        Where the generated labels come from.
    applies : bool
        False when the reference has no labels or the generated sets can get none.
    reason : str
    """

    class_names: list
    real_counts: np.ndarray
    generated_counts: dict
    fd: dict
    fd_name: str
    labelled_by: str
    applies: bool = True
    reason: str = ""

    @property
    def table(self):
        rows = []
        for i, c in enumerate(self.class_names):
            row = {"class": c, "real share": self.real_counts[i] / max(1, self.real_counts.sum())}
            for n, cnt in self.generated_counts.items():
                row[f"{n} share"] = cnt[i] / max(1, cnt.sum())
                row[f"{n} {self.fd_name}"] = self.fd[n][i]
            rows.append(row)
        return frame(rows).set_index("class")

    def to_dict(self) -> dict:
        if not self.applies:
            return {"applies": False, "reason": self.reason}
        return {"applies": True, "labelled_by": self.labelled_by, "class_names": list(self.class_names),
                "real_counts": self.real_counts.tolist(),
                "generated_counts": {n: c.tolist() for n, c in self.generated_counts.items()},
                "fd": {n: [None if not math.isfinite(v) else v for v in f] for n, f in self.fd.items()}}

    def _repr_html_(self) -> str:
        if not self.applies:
            return f"<p>Per-class breakdown does not apply: {html.escape(self.reason)}</p>"
        return self.table.to_html(float_format=lambda v: f"{v:.3g}")


def _classify(images, classifier, device) -> np.ndarray:
    if classifier == "shipped":
        from genmetrics_nb.zoo.checkpoints import classifier_logits

        x = images[:, :1] if images.shape[1] == 3 else images
        return np.asarray(classifier_logits(x, device=device)).argmax(1)
    out = np.asarray(classifier(images))
    return out.argmax(1) if out.ndim == 2 else out.astype(np.int64)


def per_class(ev: Evaluation, *, classifier=None, batch_size: int = 256, device="auto") -> PerClass:
    """Class histogram of each generated set against the real one, and FD per class.

    Parameters
    ----------
    ev : Evaluation
    classifier : None, "shipped" or callable
        Labels generated images that carry none: ``"shipped"`` is the
        shipped Fashion-MNIST classifier (28 x 28 grey images); a callable
        maps uint8 ``N x 3 x H x W`` images to labels or logits. Without one,
        only sets with their own labels (class folders, ``arr_1``) are broken down.
    batch_size : int
    device : str
    """
    import torch

    from genmetrics_nb.metrics.distribution.frechet import frechet_from_samples

    fd_name = fd_label(ev.protocol["extractor"]["name"])
    if ev.real.labels is None or ev.class_names is None:
        return PerClass([], np.zeros(0), {}, {}, fd_name, "", False,
                        "the reference set has no class labels (use a dataset name or a class-per-folder layout)")
    n_cls = len(ev.class_names)
    real_counts = np.bincount(ev.real.labels, minlength=n_cls)
    counts, fds, how = {}, {}, set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for g in ev.generated:
            if g.labels is not None:
                labels, src = np.asarray(g.labels), "the set's own labels"
            elif classifier is not None:
                labels = np.concatenate([_classify(g.images(np.arange(s, min(s + batch_size, g.n))), classifier, device)
                                         for s in range(0, g.n, batch_size)])
                src = "the shipped Fashion-MNIST classifier" if classifier == "shipped" else "the given classifier"
            else:
                continue
            how.add(src)
            counts[g.name] = np.bincount(labels, minlength=n_cls)[:n_cls]
            per = []
            for c in range(n_cls):
                a, b = ev.real.fd[ev.real.labels == c], g.fd[labels == c]
                ok = len(a) >= 2 and len(b) >= 2
                per.append(float(frechet_from_samples(torch.as_tensor(a, dtype=torch.float64),
                                                      torch.as_tensor(b, dtype=torch.float64))) if ok else math.nan)
            fds[g.name] = per
    reemit_once(caught)
    if not counts:
        return PerClass(list(ev.class_names), real_counts, {}, {}, fd_name, "", False,
                        "the generated sets carry no labels and no classifier was given (classifier=)")
    return PerClass(list(ev.class_names), real_counts, counts, fds, fd_name, ", ".join(sorted(how)))


# ----------------------------------------------------------------------------
# sample size
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SampleSizeCurve:
    """FD at several sample sizes per set, and its linear extrapolation in 1/n (FD-infinity).

    Attributes
    ----------
    curves : dict
        Set name -> ``FIDInfinityResult`` (sizes, FDs, slope, FD-infinity).
    fd_name : str
    """

    curves: dict
    fd_name: str

    def to_dict(self) -> dict:
        return {"fd_name": self.fd_name, "curves": {n: c.to_dict() for n, c in self.curves.items()}}

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{_fmt(c.fids[-1])}</td><td>{_fmt(c.value)}</td></tr>"
                       for n, c in self.curves.items())
        return (f"<table><tr><th>set</th><th>{html.escape(self.fd_name)} at full n</th>"
                f"<th>{html.escape(self.fd_name)}-infinity</th></tr>{rows}</table>")


def sample_size_curve(ev: Evaluation, *, num_points: int = 8, seed: int = 0, device="auto") -> SampleSizeCurve:
    """FD against the number of generated samples, with the FD-infinity line (Chong & Forsyth 2020)."""
    from genmetrics_nb.metrics.distribution.fid import fid_infinity

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        curves = {g.name: fid_infinity(ev.real.fd, g.fd, num_points=num_points, seed=seed, device=device,
                                       progress=False) for g in ev.generated}
    reemit_once(caught)
    return SampleSizeCurve(curves, fd_label(ev.protocol["extractor"]["name"]))


# ----------------------------------------------------------------------------
# protocol and verdict
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ProtocolTable:
    """The protocol as rows of (item, value), shown in full (digests are not cut)."""

    rows: tuple

    @property
    def table(self):
        return frame(list(self.rows)).set_index("item")

    def to_dict(self) -> dict:
        return {r["item"]: r["value"] for r in self.rows}

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(r['item']))}</th>"
                       f"<td style='text-align:left'>{html.escape(str(r['value']))}</td></tr>" for r in self.rows)
        return f"<table>{body}</table>"


def protocol_table(ev: Evaluation) -> ProtocolTable:
    """Everything needed to reproduce the numbers, one row per item."""
    p = ev.protocol
    rows = []
    for role in ("extractor", "pr_extractor"):
        e = p[role]
        rows += [{"item": f"{role}", "value": e["name"]},
                 {"item": f"{role} weights sha256", "value": e["weights_sha256"]},
                 {"item": f"{role} preprocessing", "value": ", ".join(f"{k}={v}" for k, v in e["preprocessing"].items())
                  if isinstance(e["preprocessing"], dict) else str(e["preprocessing"])},
                 {"item": f"{role} output", "value": e["output"]}]
    rows += [{"item": f"n ({name})", "value": n} for name, n in p["n"].items()]
    rows.append({"item": "seed", "value": p["seed"]})
    rows.append({"item": "precision", "value": p.get("precision")})
    rows += [{"item": f"source ({name})", "value": f"{s['source']}; fingerprint {s['fingerprint']}"}
             for name, s in p["sources"].items()]
    rows += [{"item": f"version ({k})", "value": v} for k, v in p["versions"].items()]
    return ProtocolTable(tuple(rows))


@dataclasses.dataclass(frozen=True)
class EvaluationVerdict:
    """Which set is best, and whether the summary's intervals separate it from the runner-up."""

    reproduced: None
    statement: str
    best: str

    def to_dict(self) -> dict:
        return {"reproduced": self.reproduced, "statement": self.statement, "best": self.best}

    def __str__(self) -> str:
        return self.statement

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.statement)}</b></p>"


def verdict(summary: SummaryTable, memo: Memorisation | None = None) -> EvaluationVerdict:
    """The evaluation's conclusion in one statement, from the summary table's numbers.

    An evaluation reproduces no published finding, so ``reproduced`` is None;
    the statement names the set with the lowest FD, says whether its interval
    is clear of the runner-up's, and mentions flagged copies.
    """
    rows = sorted((r for r in summary.rows if r.get("fd") is not None), key=lambda r: r["fd"])
    if not rows:
        return EvaluationVerdict(None, "No generated set was scored.", "")
    best = rows[0]
    text = f"Best by {summary.fd_name}: {best['name']} ({_fmt(best['fd'])})"
    if len(rows) > 1:
        second = rows[1]
        if "fd_high" in best and "fd_low" in second:
            clear = best["fd_high"] < second["fd_low"]
            text += (f", {'clearly' if clear else 'not clearly'} ahead of {second['name']} ({_fmt(second['fd'])}): "
                     f"the intervals {'do not overlap' if clear else 'overlap'}")
        else:
            text += f", ahead of {second['name']} ({_fmt(second['fd'])})"
    text += f". A held-out real set scores {_fmt(summary.baseline.get('fd'))} at this n."
    if memo is not None:
        flagged = {n: len(v) for n, v in memo.flagged.items() if len(v)}
        text += (" Possible copies of real images: " + ", ".join(f"{n} {c}" for n, c in flagged.items()) + "."
                 if flagged else " No sample is closer to a real image than new real images come.")
    return EvaluationVerdict(None, text, best["name"])
