"""Bootstrap confidence intervals for any distribution metric."""
from __future__ import annotations

import dataclasses
import numbers
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int, check_probability, is_torch

__all__ = ["BootstrapResult", "Interval", "bootstrap", "interval_label", "METRICS", "METHODS", "INTERVAL_METHOD"]

#: Metrics that :func:`bootstrap` knows by name (``bootstrap("fid", real, fake)``).
METRICS = ("fid", "kid", "precision_recall", "density_coverage", "inception_score")

#: Interval kinds of :func:`bootstrap` (``method=``), and how tables name them.
METHODS = {
    "centred-percentile": "percentile bootstrap, re-centred on the estimate",
    "percentile": "percentile bootstrap",
    "basic": "basic bootstrap",
}

#: The interval the notebooks and the evaluate report print beside a number: the bootstrap's
#: spread at this n, centred on the estimate (it always contains it). A small-sample bias is
#: shown apart (e.g. the same-class FID at the same n), not folded into the interval.
INTERVAL_METHOD = "centred-percentile"


def interval_label(method: str, ci: float = 0.95, n_boot: int | None = None) -> str:
    """How a table or a plot names an interval.

    >>> interval_label("centred-percentile", 0.95, 30)
    '95% percentile bootstrap, re-centred on the estimate (30 resamples)'
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in METHODS)}, got {method!r}")
    text = f"{ci:.0%} {METHODS[method]}"
    return text if n_boot is None else f"{text} ({n_boot} resamples)"


def _interval_bounds(t: float, reps: np.ndarray, ci: float, method: str) -> tuple[float, float]:
    """The ``ci`` interval of kind ``method`` from the estimate ``t`` and its replicates."""
    alpha = (1.0 - ci) / 2.0
    q_lo, q_med, q_hi = np.quantile(reps, [alpha, 0.5, 1.0 - alpha])
    if method == "basic":
        return 2 * t - q_hi, 2 * t - q_lo
    if method == "percentile":
        return q_lo, q_hi
    # centred-percentile: the replicates' spread around their median, placed around t.
    return t - (q_med - q_lo), t + (q_hi - q_med)


@dataclasses.dataclass(frozen=True)
class Interval(Result):
    """A statistic, its bootstrap interval, standard error and bias.

    Attributes
    ----------
    name : str
    value : float
        The statistic on the full data. ``to_dict()`` also writes it under
        its former key ``"estimate"``.
    low, high : float
        The interval (``method`` says which kind; the default
        ``"centred-percentile"`` always contains ``value``).
    std : float
        Bootstrap standard error (std of the replicates, ddof 1).
    bias : float
        Bootstrap bias estimate, mean of the replicates minus ``value``.
    ci : float
    method : str
    """

    name: str
    value: float
    low: float
    high: float
    std: float
    bias: float
    ci: float
    method: str = "centred-percentile"

    display_fields: ClassVar[tuple[str, ...]] = ("low", "high", "method", "std", "bias")
    n_fields: ClassVar[tuple[str, ...]] = ()
    dict_aliases: ClassVar[dict] = {"value": "estimate"}

    def _label(self) -> str:
        return self.name

    def __str__(self) -> str:
        return (f"{self.name} = {self.value:.6g} [{self.low:.6g}, {self.high:.6g}] "
                f"({interval_label(self.method, self.ci)}, bootstrap s.e. {self.std:.3g}, "
                f"bias {self.bias:+.3g})")


@dataclasses.dataclass(frozen=True)
class BootstrapResult(Result):
    """Bootstrap intervals of one or more statistics of a metric.

    Attributes
    ----------
    intervals : tuple of Interval
        One per statistic: the metric result's ``bootstrap_fields``
        (``("value",)`` for a metric returning a number; ``precision`` and
        ``recall`` for :func:`precision_recall`).
    samples : dict of str to numpy.ndarray
        The ``n_boot`` bootstrap replicates of each statistic.
    n_boot : int
    ci : float
    seed : int
    metric : str

    ``value`` is the first statistic on the full data (``float(result)``
    too). Use ``result["precision"]`` for one statistic; ``.low``,
    ``.high``, ``.std`` and ``.bias`` work directly when there is only one.
    """

    intervals: tuple
    samples: dict = dataclasses.field(repr=False)
    n_boot: int
    ci: float
    seed: int
    metric: str
    method: str = "centred-percentile"

    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)

    @property
    def value(self) -> float:
        """The first statistic on the full data."""
        return self.intervals[0].value

    @property
    def names(self) -> tuple:
        return tuple(iv.name for iv in self.intervals)

    def __getitem__(self, name: str) -> Interval:
        for iv in self.intervals:
            if iv.name == name:
                return iv
        raise KeyError(f"no statistic {name!r}; this bootstrap has {list(self.names)}")

    def _single(self, attr):
        if len(self.intervals) != 1:
            raise AttributeError(
                f"this bootstrap has several statistics {list(self.names)}; use "
                f"result[{self.names[0]!r}].{attr}"
            )
        return getattr(self.intervals[0], attr)

    low = property(lambda self: self._single("low"))
    high = property(lambda self: self._single("high"))
    std = property(lambda self: self._single("std"))
    bias = property(lambda self: self._single("bias"))

    def _label(self) -> str:
        return f"bootstrap of {self.metric}"

    def __str__(self) -> str:
        parts = [f"{iv.name} = {iv.value:.6g} [{iv.low:.6g}, {iv.high:.6g}] (s.e. {iv.std:.3g}, "
                 f"bias {iv.bias:+.3g})" for iv in self.intervals]
        return (f"bootstrap of {self.metric}, {interval_label(self.method, self.ci, self.n_boot)}, "
                f"seed {self.seed}: " + "; ".join(parts))

    def to_dict(self) -> dict:
        """``value``, then one entry per statistic under ``intervals``; the replicates are left out."""
        return {
            "value": self.value,
            "metric": self.metric,
            "intervals": {iv.name: {"value": iv.value, "low": iv.low, "high": iv.high, "std": iv.std,
                                    "bias": iv.bias} for iv in self.intervals},
            "ci": self.ci,
            "method": self.method,
            "n_boot": self.n_boot,
            "seed": self.seed,
        }

    def _html_rows(self) -> tuple[list[str], list[list]]:
        head = ["metric", "statistic", "value", "low", "high", "interval", "std", "bias", "resamples"]
        rows = [[self._label(), iv.name, iv.value, iv.low, iv.high, interval_label(self.method, self.ci), iv.std,
                 iv.bias, self.n_boot] for iv in self.intervals]
        return head, rows


def _statistics(value, *, metric_name: str) -> dict:
    """The headline numbers of a metric's result, as {name: float}."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return {"value": float(value)}
    if is_torch(value) and value.numel() == 1:
        return {"value": float(value)}
    if isinstance(value, np.ndarray) and value.size == 1:
        return {"value": float(value)}
    names = getattr(value, "bootstrap_fields", None)
    if names:
        return {n: float(getattr(value, n)) for n in names}
    raise TypeError(
        f"metric {metric_name} returned {type(value).__name__}; bootstrap needs a number or a "
        "result with a 'bootstrap_fields' tuple of field names (all genmetrics_nb results have one)"
    )


def _resolve_metric(metric, kwargs):
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)} or a callable")
        if metric == "fid":
            return metric, None  # fast path below
        if metric == "kid":
            from genmetrics_nb.metrics.distribution.kid import kid as fn
        elif metric == "precision_recall":
            from genmetrics_nb.metrics.distribution.knn import precision_recall as fn
        elif metric == "density_coverage":
            from genmetrics_nb.metrics.distribution.knn import density_coverage as fn
        else:
            from genmetrics_nb.metrics.distribution.inception_score import inception_score as fn
        if metric != "inception_score":
            kwargs.setdefault("progress", False)
        return metric, fn
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    raise TypeError(f"metric must be a name ({', '.join(METRICS)}) or a callable, got {type(metric).__name__}")


def bootstrap(
    metric,
    real,
    fake=None,
    *,
    n_boot: int = 200,
    ci: float = 0.95,
    method: str = "centred-percentile",
    seed: int = 0,
    device="auto",
    progress: bool = True,
    **metric_kwargs,
) -> BootstrapResult:
    """Bootstrap confidence intervals for a distribution metric.

    Both feature sets are resampled with replacement (independently),
    ``n_boot`` times, and the metric recomputed on every resample.

    Parameters
    ----------
    metric : str or callable
        ``"fid"``, ``"kid"``, ``"precision_recall"``, ``"density_coverage"``,
        ``"inception_score"``, or any ``f(real, fake, **metric_kwargs)``
        returning a number or a genmetrics_nb result (one with a
        ``bootstrap_fields`` tuple). A one-sample callable gets ``f(real)`` when
        ``fake`` is None.
    real : array_like or torch.Tensor, N x D
        Real features (or, for ``"inception_score"``, the logits).
    fake : array_like or torch.Tensor, M x D, optional
        Generated features; None for one-sample metrics.
    n_boot : int
        Number of resamples.
    ci : float
        Nominal coverage of the interval (0.95).
    method : {"centred-percentile", "percentile", "basic"}
        With ``t`` the estimate, ``q_lo``, ``q_hi`` the replicates'
        quantiles at ``(1 -+ ci) / 2`` and ``m`` their median:

        - ``"centred-percentile"`` (default): ``[t - (m - q_lo), t + (q_hi - m)]``,
          the percentile interval moved so that the replicates' median sits
          on the estimate. It describes the sampling variability of the
          statistic *at this sample size* and always contains ``t``. It does
          not remove the statistic's own small-sample bias (FID's; see
          Notes): report that separately.
        - ``"percentile"``: ``[q_lo, q_hi]``; right for statistics the
          resampling does not bias (a mean, KID), and then close to the
          centred one.
        - ``"basic"``: ``[2 t - q_hi, 2 t - q_lo]``, an interval for the
          large-sample value that corrects the bias to first order; for FID
          at small n it usually lies entirely *below* the estimate, so do not
          print it beside ``t`` as if it described ``t``.
    seed : int
        Seed of the ``numpy.random.default_rng`` that draws the resamples.
    device : str or torch.device
        Where ``"fid"`` computes; passed on to named metrics.
    progress : bool
        Show a progress bar over resamples.
    **metric_kwargs
        Passed to the metric (``k=3``, ``subsets=...``, ``splits=...``).

    Returns
    -------
    BootstrapResult
        ``.value`` is the metric on the full data; ``.low``/``.high`` the
        interval; ``.std`` the bootstrap standard error; ``.bias`` the mean
        of the replicates minus the estimate. With several statistics
        (``bootstrap_fields`` of the metric's result) read each as
        ``result["recall"]``.

    Notes
    -----
    ``"fid"`` is fast: a resample's mean and covariance are weighted sums
    over the original rows (weights = multiplicities), and when the sets are
    smaller than the feature dimension the Frechet trace is taken from the
    small cross-Gram matrix (see
    :func:`genmetrics_nb.metrics.distribution.frechet.frechet_from_samples`); the result
    equals computing ``np.cov`` of the resampled rows.

    FID is biased upwards at finite n, and a resample (about 63 % distinct
    rows) is more biased still: the replicates of FID sit *above* the
    estimate, often entirely, so the plain percentile interval can exclude
    the estimate, and the basic interval (which reflects the replicates
    around the estimate) then excludes it from below. The centred
    percentile interval keeps the replicates' spread, which approximates
    the spread of FID over repeated draws of the same size, and places it
    on the estimate. The bias itself is a separate number: the FID of two
    draws of one distribution at the same n (a same-class or held-out
    baseline), or FID-infinity (:func:`~genmetrics_nb.metrics.distribution.fid.fid_infinity`);
    compare FIDs only at equal sample sizes. For the k-NN metrics,
    resampling with replacement creates duplicate samples, which shrink the
    k-NN radii (a duplicate is a neighbour at distance 0); their intervals
    are indicative only. Basic and centred intervals of bounded metrics
    (precision, coverage) may cross their bounds; they are not clipped.

    References
    ----------
    .. [1] A. C. Davison and D. V. Hinkley, "Bootstrap Methods and their
       Application", 1997, section 5.2 (basic and percentile intervals).
    .. [2] B. Efron and R. J. Tibshirani, "An Introduction to the Bootstrap",
       1993, chapter 10 (bootstrap estimates of bias).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(300, 4)), rng.normal(size=(300, 4)) + 0.5
    >>> b = bootstrap("fid", x, y, n_boot=50, progress=False)
    >>> bool(b.low <= b.value <= b.high)
    True
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve

    n_boot = check_int(n_boot, name="n_boot", minimum=2)
    ci = check_probability(ci, name="ci")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in METHODS)}, got {method!r}")
    seed = check_int(seed, name="seed", minimum=0)
    name, fn = _resolve_metric(metric, metric_kwargs)
    one_sample = fake is None
    if name in ("fid", "kid", "precision_recall", "density_coverage") and one_sample:
        raise ValueError(f"metric {name!r} compares two sets: pass fake=")
    if name == "inception_score" and not one_sample:
        raise ValueError("inception_score takes one set of logits: pass them as real and leave fake=None")
    x = as_feature_tensor(real, name="real", min_rows=2)
    y = None if one_sample else as_feature_tensor(fake, name="fake", min_rows=2)
    if y is not None and x.shape[1] != y.shape[1]:
        raise ValueError(
            f"real has {x.shape[1]} features per sample but fake has {y.shape[1]}; both must come "
            "from the same extractor output"
        )
    rng = np.random.default_rng(seed)
    n_x = x.shape[0]
    n_y = None if y is None else y.shape[0]

    if name == "fid":
        from genmetrics_nb.metrics.distribution.frechet import GramFrechet, _warn_singular, frechet_from_samples

        if metric_kwargs:
            raise TypeError(f"bootstrap('fid') takes no metric options, got {sorted(metric_kwargs)}")
        dev = resolve(device)
        xd = x.to(device=dev, dtype=torch.float64)
        yd = y.to(device=dev, dtype=torch.float64)
        _warn_singular(n_x, n_y, x.shape[1], names=("real", "fake"))

        gram = GramFrechet(xd, yd) if min(n_x, n_y) < x.shape[1] else None  # computed once

        def compute(ix, iy):
            wx = wy = None
            if ix is not None:
                wx = torch.as_tensor(np.bincount(ix, minlength=n_x), dtype=torch.float64, device=dev)
                wy = torch.as_tensor(np.bincount(iy, minlength=n_y), dtype=torch.float64, device=dev)
            if gram is not None:
                return {"value": gram.value(wx, wy)}
            return {"value": frechet_from_samples(xd, yd, weights_x=wx, weights_y=wy)}
    else:
        if name in METRICS and "device" not in metric_kwargs:
            metric_kwargs["device"] = device

        def compute(ix, iy):
            xs = x if ix is None else x[torch.as_tensor(ix)]
            if one_sample:
                return _statistics(fn(xs, **metric_kwargs), metric_name=name)
            ys = y if iy is None else y[torch.as_tensor(iy)]
            return _statistics(fn(xs, ys, **metric_kwargs), metric_name=name)

    estimate = compute(None, None)
    reps = {k: np.empty(n_boot) for k in estimate}
    for b in tqdm(range(n_boot), desc=f"bootstrap {name}", unit="resample", disable=not progress,
                  leave=False):
        ix = rng.integers(0, n_x, n_x)
        iy = None if one_sample else rng.integers(0, n_y, n_y)
        for k, v in compute(ix, iy).items():
            reps[k][b] = v
    intervals = []
    for k, t in estimate.items():
        low, high = _interval_bounds(t, reps[k], ci, method)
        intervals.append(Interval(
            name=k,
            value=float(t),
            low=float(low),
            high=float(high),
            std=float(np.std(reps[k], ddof=1)),
            bias=float(reps[k].mean() - t),
            ci=ci,
            method=method,
        ))
    return BootstrapResult(intervals=tuple(intervals), samples=reps, n_boot=n_boot, ci=ci,
                           seed=int(seed), metric=name, method=method)
