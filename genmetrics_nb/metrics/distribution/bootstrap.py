"""Bootstrap confidence intervals for any distribution metric."""
from __future__ import annotations

import dataclasses
import numbers
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int, check_probability, is_torch

__all__ = ["BootstrapResult", "Interval", "bootstrap", "METRICS"]

#: Metrics that :func:`bootstrap` knows by name (``bootstrap("fid", real, fake)``).
METRICS = ("fid", "kid", "precision_recall", "density_coverage", "inception_score")


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
        The interval (``method`` says which kind).
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
    method: str = "basic"

    display_fields: ClassVar[tuple[str, ...]] = ("low", "high", "std", "bias")
    n_fields: ClassVar[tuple[str, ...]] = ()
    dict_aliases: ClassVar[dict] = {"value": "estimate"}

    def _label(self) -> str:
        return self.name

    def __str__(self) -> str:
        return (f"{self.name} = {self.value:.6g} [{self.low:.6g}, {self.high:.6g}] "
                f"({self.ci:.0%} {self.method} interval, bootstrap s.e. {self.std:.3g}, "
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
    method: str = "basic"

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
        return (f"bootstrap of {self.metric}, {self.ci:.0%} {self.method} intervals from "
                f"{self.n_boot} resamples (seed {self.seed}): " + "; ".join(parts))

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
        head = ["metric", "statistic", "value", "low", "high", "std", "bias", "resamples"]
        rows = [[self._label(), iv.name, iv.value, iv.low, iv.high, iv.std, iv.bias, self.n_boot]
                for iv in self.intervals]
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
    method: str = "basic",
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
    method : {"basic", "percentile"}
        ``"basic"`` (default): ``[2 t - q_hi, 2 t - q_lo]`` with ``t`` the
        estimate and ``q`` the replicates' quantiles at ``(1 -+ ci) / 2``;
        it corrects for the bias of the estimator, which for FID is large
        (see Notes). ``"percentile"``: ``[q_lo, q_hi]``.
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
    estimate, often entirely, so the percentile interval can exclude the
    estimate. The basic interval reflects the replicates around the
    estimate and so corrects, to first order, for that bias; compare FIDs
    only at equal sample sizes all the same. For the k-NN metrics,
    resampling with replacement creates duplicate samples, which shrink the
    k-NN radii (a duplicate is a neighbour at distance 0); their intervals
    are indicative only. Basic intervals of bounded metrics (precision,
    coverage) may cross their bounds; they are not clipped.

    References
    ----------
    .. [1] A. C. Davison and D. V. Hinkley, "Bootstrap Methods and their
       Application", 1997, section 5.2 (basic and percentile intervals).

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
    if method not in ("basic", "percentile"):
        raise ValueError(f"method must be 'basic' or 'percentile', got {method!r}")
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
    alpha = (1.0 - ci) / 2.0
    intervals = []
    for k, t in estimate.items():
        q_lo, q_hi = np.quantile(reps[k], [alpha, 1.0 - alpha])
        low, high = (2 * t - q_hi, 2 * t - q_lo) if method == "basic" else (q_lo, q_hi)
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
