"""The fid notebook: same-class against different-class FID, the class-pair FID matrix, and the range pitfall.

Tables, keys and labels call the distance ``fd``; it is FID only on
``inception-v3-fid`` features, and ``FD_<extractor>`` otherwise
(:func:`~genmetrics_nb.metrics.distribution.fid.fd_label`).
"""
from __future__ import annotations

import dataclasses
import html
import math
import warnings

import numpy as np

from genmetrics_nb.metrics.distribution.bootstrap import INTERVAL_METHOD
from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.suites.class_draws import ClassFeatures, class_features
from genmetrics_nb.util.checks import check_classes
from genmetrics_nb.util.findings import Verdict, check, relation, verdict_from_checks
from genmetrics_nb.util.results import StoryResult, frame
from genmetrics_nb.util.warn import reemit_once

__all__ = ["FIDMatrix", "class_pair_fid", "SameVsDifferent", "same_vs_different", "RangePitfall", "range_pitfall",
           "fid_verdict"]


def _interval_label(n_boot: int, ci: float = 0.95) -> str:
    from genmetrics_nb.metrics.distribution.bootstrap import interval_label

    return interval_label(INTERVAL_METHOD, ci, n_boot) if n_boot >= 2 else "none (n_boot < 2)"


def _with_interval(v, lo, hi) -> str:
    text = f"{v:.1f}"
    return text if not np.isfinite(lo) else f"{text} [{lo:.1f}, {hi:.1f}]"


# ----------------------------------------------------------------------------
# FID: class pairs
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FIDMatrix(StoryResult):
    """FID between a draw of class i (rows) and an independent draw of class j (columns).

    Attributes
    ----------
    values, low, high : numpy.ndarray
        ``C x C`` FIDs and their bootstrap interval (NaN without bootstrap).
    class_names : list of str
    n : int
        Images per draw.
    n_boot : int
    extractor : str
    interval : str
        What ``low`` and ``high`` are (:func:`~genmetrics_nb.metrics.distribution.bootstrap.interval_label`).
    """

    values: np.ndarray
    low: np.ndarray
    high: np.ndarray
    class_names: list
    n: int
    n_boot: int
    extractor: str
    interval: str = ""

    @property
    def label(self) -> str:
        """What the values are called: FID on ``inception-v3-fid``, ``FD_<extractor>`` otherwise."""
        return fd_label(self.extractor)

    @property
    def same_class_mean(self) -> float:
        return float(np.mean(np.diag(self.values)))

    @property
    def different_class_mean(self) -> float:
        off = ~np.eye(len(self.values), dtype=bool)
        return float(self.values[off].mean())

    @property
    def table(self):
        """Long table: one row per cell."""
        rows = []
        for i, a in enumerate(self.class_names):
            for j, b in enumerate(self.class_names):
                rows.append({"class_a": a, "class_b": b, "fd": self.values[i, j],
                             "low": self.low[i, j], "high": self.high[i, j]})
        return frame(rows)

    @property
    def summary(self) -> dict:
        """The matrix with its intervals and settings, and the same-class and different-class means."""
        return {"n": self.n, "n_boot": self.n_boot, "extractor": self.extractor, "label": self.label,
                "interval": self.interval,
                "class_names": list(self.class_names), "values": self.values.tolist(),
                "low": self.low.tolist(), "high": self.high.tolist(),
                "same_class_mean": self.same_class_mean, "different_class_mean": self.different_class_mean}

    def __repr__(self) -> str:
        return (f"FIDMatrix({len(self.class_names)} x {len(self.class_names)} classes, n = {self.n}, "
                f"{self.extractor}; same class mean {self.same_class_mean:.1f}, "
                f"different classes mean {self.different_class_mean:.1f})")

    def _repr_html_(self) -> str:
        """The C x C matrix, each cell ``FID [low, high]``; the diagonal (same class) in bold."""
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.class_names)
        rows = []
        for i, a in enumerate(self.class_names):
            cells = []
            for j in range(len(self.class_names)):
                v, lo, hi = self.values[i, j], self.low[i, j], self.high[i, j]
                text = f"<b>{v:.1f}</b>" if i == j else f"{v:.1f}"
                if np.isfinite(lo):
                    text += f"<br><small>[{lo:.1f}, {hi:.1f}]</small>"
                cells.append(f"<td style='white-space:nowrap'>{text}</td>")
            rows.append(f"<tr><th>{html.escape(a)}</th>{''.join(cells)}</tr>")
        caption = (f"{self.label} between a draw of the row's class and a draw of the column's class, {self.n} "
                   f"images each ({self.extractor}). Bold: two draws of one class, the small-sample bias at this n "
                   f"(the baseline every other cell is to be read against). Intervals: {self.interval}.")
        return (f"<table><tr><th>draw 1 (row), draw 2 (column)</th>{head}</tr>{''.join(rows)}</table>"
                f"<p><small>{html.escape(caption)}</small></p>")


def _fid_with_interval(a, b, *, n_boot, ci, seed, device):
    """FID of two float arrays, with a bootstrap interval (:data:`INTERVAL_METHOD`) when n_boot >= 2."""
    import torch

    from genmetrics_nb.metrics.distribution.bootstrap import bootstrap
    from genmetrics_nb.metrics.distribution.frechet import frechet_from_samples

    if n_boot >= 2:
        b_ = bootstrap("fid", a, b, n_boot=n_boot, ci=ci, method=INTERVAL_METHOD, seed=seed, device=device,
                       progress=False)
        return b_.value, b_.low, b_.high
    from genmetrics_nb.device import resolve

    dev = resolve(device)
    v = frechet_from_samples(torch.as_tensor(a, dtype=torch.float64, device=dev),
                             torch.as_tensor(b, dtype=torch.float64, device=dev))
    return v, math.nan, math.nan


def class_pair_fid(
    feats: ClassFeatures,
    *,
    n: int = 100,
    n_boot: int = 30,
    ci: float = 0.95,
    classes=None,
    output: str | None = None,
    seed: int = 0,
    device="auto",
    progress: bool = True,
) -> FIDMatrix:
    """The C x C class-pair FID matrix, with bootstrap intervals.

    Cell ``(i, j)`` is the FID between rows ``0:n`` of class ``i`` and rows
    ``n:2n`` of class ``j``: two independent draws, so the diagonal is the
    FID between two draws of the same class (not zero: the small-sample bias
    plus sampling noise) and the off-diagonal cells compare classes.
    Intervals are bootstrap percentile intervals re-centred on the estimate
    (:data:`INTERVAL_METHOD`, :func:`genmetrics_nb.bootstrap`): the sampling
    spread of FID at this n.
    """
    from tqdm.auto import tqdm

    classes = feats.classes if classes is None else check_classes(classes, len(feats.class_names))
    k = len(classes)
    vals, lo, hi = (np.full((k, k), np.nan) for _ in range(3))
    with warnings.catch_warnings(record=True) as caught:  # one n <= D warning, not C^2 of them
        warnings.simplefilter("always")
        with tqdm(total=k * k, desc="class pairs", unit="pair", disable=not progress) as bar:
            for i, ci_ in enumerate(classes):
                a = feats.rows(ci_, 0, n, output=output)
                for j, cj in enumerate(classes):
                    b = feats.rows(cj, n, 2 * n, output=output)
                    vals[i, j], lo[i, j], hi[i, j] = _fid_with_interval(
                        a, b, n_boot=n_boot, ci=ci, seed=seed + 1000 * i + j, device=device)
                    bar.update(1)
    reemit_once(caught)
    names = [feats.class_names[c] for c in classes]
    return FIDMatrix(vals, lo, hi, names, int(n), int(n_boot), feats.extractor, _interval_label(n_boot, ci))


@dataclasses.dataclass(frozen=True)
class SameVsDifferent(StoryResult):
    """FID of two draws of one class against FID of two classes, at several n.

    Attributes
    ----------
    rows : tuple of dict
        ``extractor``, ``label`` (:func:`fd_label` of the extractor), ``n``,
        ``comparison`` (``"same class"`` or ``"different classes"``), ``fd``,
        ``low``, ``high``.
    classes : tuple of str
        Class a (two draws) and class b.
    interval : str
        What ``low`` and ``high`` are.
    """

    rows: tuple
    classes: tuple
    interval: str = ""

    @property
    def table(self):
        """One row per distance: ``extractor``, ``label``, ``n``, ``comparison``, ``fd``, ``low``, ``high``."""
        return frame(list(self.rows))

    def pairs(self):
        """``(extractor, n, same-class row, different-classes row)`` for each extractor and n."""
        out = []
        for r in self.rows:
            if r["comparison"] == "same class":
                d = next(x for x in self.rows if x["comparison"] == "different classes"
                         and (x["extractor"], x["n"]) == (r["extractor"], r["n"]))
                out.append((r["extractor"], r["n"], r, d))
        return out

    def __repr__(self) -> str:
        return f"SameVsDifferent({self.classes[0]} vs {self.classes[1]}, {len(self.rows)} distances)"

    def _repr_html_(self) -> str:
        head = (f"<tr><th>distance</th><th>n per draw</th><th>same class: {html.escape(self.classes[0])} "
                f"vs {html.escape(self.classes[0])} (baseline)</th><th>different classes: "
                f"{html.escape(self.classes[0])} vs {html.escape(self.classes[1])}</th></tr>")
        body = "".join(
            f"<tr><td>{html.escape(fd_label(ext))}</td><td>{n}</td>"
            f"<td>{_with_interval(same['fd'], same['low'], same['high'])}</td>"
            f"<td>{_with_interval(diff['fd'], diff['low'], diff['high'])}</td></tr>"
            for ext, n, same, diff in self.pairs())
        caption = ("The same-class value is the distance's small-sample bias at that n (two draws of one distribution "
                   f"should give 0); compare only values at equal n. Intervals: {self.interval}.")
        return f"<table>{head}{body}</table><p><small>{html.escape(caption)}</small></p>"

    def value(self, extractor: str, n: int, comparison: str) -> float:
        for r in self.rows:
            if (r["extractor"], r["n"], r["comparison"]) == (extractor, n, comparison):
                return r["fd"]
        raise KeyError((extractor, n, comparison))

    @property
    def summary(self) -> dict:
        return {"classes": list(self.classes), "interval": self.interval, "rows": list(self.rows)}


def same_vs_different(
    feats: ClassFeatures,
    *,
    pair=(0, 1),
    sizes=(100, 500),
    n_boot: int = 30,
    ci: float = 0.95,
    compare_extractors=(),
    seed: int = 0,
    batch_size: int = 64,
    device="auto",
    progress: bool = True,
) -> SameVsDifferent:
    """FID(class a draw 1, class a draw 2) against FID(class a, class b) at each size.

    ``feats`` must hold ``2 * max(sizes)`` images of class ``a`` and
    ``max(sizes)`` of class ``b``. Each extractor in ``compare_extractors``
    is run on the same images (same permutation and seed).
    """
    if len(pair) != 2 or pair[0] == pair[1]:
        raise ValueError(f"pair must name two different classes, got {pair!r}")
    a, b = check_classes(pair, len(feats.class_names), name="pair")
    sizes = [int(s) for s in sizes]
    sets = [feats]
    for name in compare_extractors:
        sets.append(class_features(feats.data, extractor=name, n_per_class=max(sizes), more={a: 2 * max(sizes)},
                                   classes=[a, b], seed=feats.meta["seed"], batch_size=batch_size,
                                   device=device, progress=progress))
    rows = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fs in sets:
            for n in sizes:
                for comparison, x, y in (
                    ("same class", fs.rows(a, 0, n), fs.rows(a, n, 2 * n)),
                    ("different classes", fs.rows(a, 0, n), fs.rows(b, 0, n)),
                ):
                    v, lo, hi = _fid_with_interval(x, y, n_boot=n_boot, ci=ci, seed=seed + n, device=device)
                    rows.append({"extractor": fs.extractor, "label": fd_label(fs.extractor), "n": n,
                                 "comparison": comparison, "fd": v, "low": lo, "high": hi})
    reemit_once(caught)
    return SameVsDifferent(tuple(rows), (feats.class_names[a], feats.class_names[b]), _interval_label(n_boot, ci))


@dataclasses.dataclass(frozen=True)
class RangePitfall(StoryResult):
    """The Frechet distance between two classes computed right, and with [0, 1] floats fed as [0, 255]."""

    fd_correct: float
    fd_misscaled: float
    n: int
    error: str
    label: str = "FD"

    @property
    def table(self):
        return frame([{"images": "correctly scaled", self.label: self.fd_correct},
                      {"images": "[0, 1] floats read as [0, 255]", self.label: self.fd_misscaled}])

    @property
    def summary(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return (f"{self.label} with correctly scaled images: {self.fd_correct:.2f}\n"
                f"{self.label} with [0, 1] floats read as [0, 255]: {self.fd_misscaled:.2f}\n"
                f"what gm.fid says when asked to do that:\n  ValueError: {self.error}")


def range_pitfall(feats: ClassFeatures, *, pair=(0, 1), n: int = 100, batch_size: int = 64,
                  device="auto", progress: bool = True) -> RangePitfall:
    """The document's pitfall: images in [0, 1] given to a pipeline that expects [0, 255].

    Such a pipeline turns every pixel into 0 or 1 (almost black images), and
    FID between two very different classes collapses to a small, plausible
    number. ``gm.fid`` refuses float images declared as ``(0, 255)`` whose
    values all lie in [0, 1]; the message it raises is returned here.
    """
    from genmetrics_nb.sources import load_images
    from genmetrics_nb.metrics.distribution.fid import fid

    a, b = check_classes(pair, len(feats.class_names), name="pair")
    ds = feats.data
    imgs = [load_images(ds.images[feats.indices[c][:n]], channels=3) for c in (a, b)]
    floats = [np.asarray(x, dtype=np.float32) / 255.0 for x in imgs]
    # what a [0, 255] pipeline does with [0, 1] data: round every pixel to 0 or 1
    wrong = [np.rint(f).astype(np.uint8) for f in floats]
    with warnings.catch_warnings(record=True) as caught:  # report n <= D once
        warnings.simplefilter("always")
        correct = fid(feats.rows(a, 0, n), feats.rows(b, 0, n)).value
        try:
            fid(floats[0], floats[1], extractor=feats.extractor, value_range=(0, 255), device=device,
                progress=False)
            error = "(no error: the check did not fire)"
        except ValueError as exc:
            error = str(exc)
        misscaled = fid(wrong[0], wrong[1], extractor=feats.extractor, batch_size=batch_size,
                        device=device, progress=progress).value
    reemit_once(caught)
    return RangePitfall(float(correct), float(misscaled), int(n), error, fd_label(feats.extractor))


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
def fid_verdict(same_diff: SameVsDifferent, matrix: FIDMatrix | None = None) -> Verdict:
    """The fid notebook's finding: two draws of one class have a lower FID than two classes.

    Checked on the point estimates:

    - for every extractor and n of ``same_diff``: same-class FID <
      different-classes FID;
    - in the class-pair ``matrix``: each class's same-class FID (diagonal)
      is below every FID of its row and of its column (the class against
      any other class, as draw 1 or draw 2);
    - FID's small-sample bias, which the notebook also shows: the
      same-class FID at the largest n is below the one at the smallest n.

    Returns
    -------
    Verdict
    """
    fd = fd_label(same_diff.rows[0]["extractor"])
    checks = []
    for ext, n, same, diff in same_diff.pairs():
        checks.append(check(f"{fd_label(ext)}, n = {n}: same class {same['fd']:.1f} {relation(same['fd'], diff['fd'])} "
                            f"different classes {diff['fd']:.1f}", same["fd"] < diff["fd"]))
    if matrix is not None:
        v, names, k = matrix.values, matrix.class_names, len(matrix.class_names)
        margins = []
        for i in range(k):
            others = [(v[i, j], names[j]) for j in range(k) if j != i] + \
                     [(v[j, i], names[j]) for j in range(k) if j != i]
            low, other = min(others)
            margins.append((low - v[i, i], names[i], v[i, i], other, low))
        failed = [m for m in margins if not m[0] > 0]
        closest = min(margins)
        where = (f"closest: {closest[1]}, same class {closest[2]:.1f} < {closest[4]:.1f} against {closest[3]}"
                 if not failed else
                 ", ".join(f"{m[1]}, same class {m[2]:.1f} >= {m[4]:.1f} against {m[3]}" for m in failed[:3]))
        checks.append(check(f"class-pair matrix (n = {matrix.n}): same-class {fd} below every other value of its "
                            f"row and column in {k - len(failed)} of {k} classes ({where})", not failed))
    first = [(n, same["fd"]) for ext, n, same, _ in same_diff.pairs() if ext == same_diff.rows[0]["extractor"]]
    if len(first) >= 2:
        (n0, f0), (n1, f1) = min(first), max(first)
        checks.append(check(f"bias: same-class {fd} {f1:.1f} at n = {n1} {relation(f1, f0)} {f0:.1f} at n = {n0}",
                            f1 < f0))
    return verdict_from_checks(f"{fd} of two draws of one class is below {fd} of two different classes", checks)
