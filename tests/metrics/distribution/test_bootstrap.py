"""Bootstrap intervals.

References: the centred-percentile, percentile and basic intervals are
recomputed here from the documented resampling scheme
(``numpy.random.default_rng(seed).integers``, real then fake) with
pytorch-fid's ``calculate_frechet_distance`` and ``np.cov`` on explicitly
resampled rows; coverage is checked against closed forms for Gaussians (the
Frechet distance of two Gaussians; the expectation of the squared distance
between two sample means) and against a Monte Carlo estimate of FID's
expectation at the sample size.
"""
from __future__ import annotations

import numpy as np
import pytest

import genmetrics_nb as gm

# pytorch-fid (a reference here) still passes scipy's deprecated sqrtm(disp=...)
pytestmark = pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")


def _stats(x):
    return x.mean(0), np.cov(x, rowvar=False)


@pytest.fixture
def one_thread():
    """Thousands of tiny FIDs: one torch thread (two contend on a shared 2-core machine, 10x slower)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def sets():
    rng = np.random.default_rng(0)
    return rng.normal(size=(150, 6)), rng.normal(size=(120, 6)) * 1.2 + 0.3


@pytest.mark.reference
@pytest.mark.parametrize("method", ["centred-percentile", "basic", "percentile"])
def test_fid_replicates_match_explicit_resampling(sets, method):
    from pytorch_fid.fid_score import calculate_frechet_distance

    x, y = sets
    b = gm.bootstrap("fid", x, y, n_boot=25, seed=3, ci=0.9, method=method, progress=False)
    rng = np.random.default_rng(3)
    reps = []
    for _ in range(25):
        ix, iy = rng.integers(0, len(x), len(x)), rng.integers(0, len(y), len(y))
        reps.append(calculate_frechet_distance(*_stats(x[ix]), *_stats(y[iy])))
    reps = np.array(reps)
    assert np.allclose(b.samples["value"], reps, rtol=1e-6)
    est = calculate_frechet_distance(*_stats(x), *_stats(y))
    q_lo, med, q_hi = np.quantile(reps, [0.05, 0.5, 0.95])
    lo, hi = {"basic": (2 * est - q_hi, 2 * est - q_lo), "percentile": (q_lo, q_hi),
              "centred-percentile": (est - (med - q_lo), est + (q_hi - med))}[method]
    assert b.value == pytest.approx(est, rel=1e-6)
    assert b.method == method and b.to_dict()["method"] == method
    assert (b.low, b.high) == pytest.approx((lo, hi), rel=1e-6)
    assert b.std == pytest.approx(np.std(reps, ddof=1), rel=1e-6)
    assert b.bias == pytest.approx(reps.mean() - est, rel=1e-6)


@pytest.mark.reference
@pytest.mark.slow
def test_basic_interval_covers_the_truth_where_percentile_fails(one_thread):
    # FID between N(0, I) and N(0.25 * 1, I) in D = 24 is 24 * 0.0625 = 1.5 (closed form).
    # At n = 200 the FID estimate is biased far upwards; the basic interval corrects it.
    rng = np.random.default_rng(1)
    d, n, truth = 24, 200, 24 * 0.25**2
    hits_basic = hits_pct = 0
    for _ in range(6):
        x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d)) + 0.25
        b = gm.bootstrap("fid", x, y, n_boot=60, seed=int(rng.integers(1 << 30)), method="basic", progress=False)
        p = gm.bootstrap("fid", x, y, n_boot=60, seed=1, method="percentile", progress=False)
        hits_basic += b.low <= truth <= b.high
        hits_pct += p.low <= truth <= p.high
    assert hits_basic >= 4
    assert hits_pct <= 1


@pytest.mark.filterwarnings("ignore::genmetrics_nb.metrics.distribution.frechet.SingularCovarianceWarning")
def test_centred_percentile_interval_always_contains_the_estimate(one_thread):
    # Where the other kinds miss it: FID with n < D, whose replicates all lie above the estimate.
    rng = np.random.default_rng(2)
    for trial in range(4):
        x, y = rng.normal(size=(40, 60)), rng.normal(size=(40, 60)) + 0.1 * trial
        kinds = {m: gm.bootstrap("fid", x, y, n_boot=20, seed=trial, method=m, progress=False)
                 for m in ("centred-percentile", "basic", "percentile")}
        c = kinds["centred-percentile"]
        assert c.low <= c.value <= c.high
        assert kinds["basic"].high < c.value < kinds["percentile"].low  # both exclude it here
        assert c.high - c.low == pytest.approx(kinds["percentile"].high - kinds["percentile"].low)
    # A skewed statistic with several outputs.
    x, y = rng.exponential(size=(80, 3)), rng.exponential(size=(70, 3))
    pr = gm.bootstrap("precision_recall", x, y, n_boot=15, k=3, progress=False)
    for iv in pr.intervals:
        assert iv.low <= iv.value <= iv.high and iv.method == "centred-percentile"
    assert "re-centred on the estimate" in str(pr) and "re-centred" in pr._repr_html_()


@pytest.mark.reference
@pytest.mark.slow
def test_centred_percentile_coverage_of_a_closed_form_expectation(one_thread):
    # T = ||mean(x) - mean(y)||^2 with x ~ N(0, I_D), y ~ N(delta, I_D): the mean term of the
    # Frechet distance, biased upwards like it, with E[T] = ||delta||^2 + D (1/n + 1/m) in closed form.
    rng = np.random.default_rng(0)
    d, n, m, reps = 4, 200, 150, 60
    delta = np.full(d, 1.0)
    expected = float(delta @ delta + d * (1 / n + 1 / m))

    def mean_gap(a, b):
        return float(((a.mean(0) - b.mean(0)) ** 2).sum())

    hits = 0
    for r in range(reps):
        x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d)) + delta
        b = gm.bootstrap(mean_gap, x, y, n_boot=100, seed=r, progress=False)
        hits += b.low <= expected <= b.high
    assert 0.85 <= hits / reps <= 1.0  # nominal 0.95; 60 trials (measured 0.93-0.95 with 100-200 trials)


@pytest.mark.reference
@pytest.mark.slow
def test_centred_percentile_describes_fid_at_its_sample_size(one_thread):
    # FID between N(0, I) and N(0.25, I) in D = 24 is 1.5; at n = 200 FID estimates average about 3.2.
    # The centred interval covers that expectation at this n (measured 0.975 over 40 trials) and has
    # about the width of the Monte Carlo spread; the basic interval, aimed at 1.5, rarely covers it.
    rng = np.random.default_rng(1)
    d, n = 24, 200
    draws = np.array([gm.fid(rng.normal(size=(n, d)), rng.normal(size=(n, d)) + 0.25).value for _ in range(200)])
    expected, spread = draws.mean(), np.quantile(draws, 0.975) - np.quantile(draws, 0.025)
    hits, hits_basic, widths = 0, 0, []
    for r in range(20):
        x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d)) + 0.25
        c = gm.bootstrap("fid", x, y, n_boot=60, seed=r, progress=False)
        b = gm.bootstrap("fid", x, y, n_boot=60, seed=r, method="basic", progress=False)
        hits += c.low <= expected <= c.high
        hits_basic += b.low <= expected <= b.high
        widths.append(c.high - c.low)
    assert hits >= 16
    assert hits_basic <= 3
    assert 0.6 * spread <= np.mean(widths) <= 1.8 * spread


def test_named_metrics_and_callables(sets):
    x, y = sets
    pr = gm.bootstrap("precision_recall", x, y, n_boot=5, k=3, progress=False)
    assert pr.names == ("precision", "recall")
    assert pr["precision"].value == gm.precision_recall(x, y, k=3, progress=False).precision
    with pytest.raises(AttributeError, match=r"several statistics \['precision', 'recall'\]"):
        pr.low
    kid = gm.bootstrap("kid", x, y, n_boot=3, subsets=2, subset_size=50, progress=False)
    assert kid.names == ("value",)
    isc = gm.bootstrap("inception_score", np.random.default_rng(0).normal(size=(100, 5)),
                       n_boot=4, splits=2, progress=False)
    assert isc.names == ("value",)
    mean_gap = gm.bootstrap(lambda a, b: float(np.abs(a.numpy().mean() - b.numpy().mean())), x, y,
                            n_boot=10, progress=False)
    assert mean_gap.value == pytest.approx(abs(x.mean() - y.mean()))
    d = pr.to_dict()
    assert d["intervals"]["precision"]["low"] == pr["precision"].low and d["n_boot"] == 5
    assert d["value"] == pr.value == pr["precision"].value
    assert "bootstrap of precision_recall" in str(pr) and "\n" not in str(pr)


def test_same_seed_same_result(sets):
    a = gm.bootstrap("fid", *sets, n_boot=10, seed=9, progress=False)
    b = gm.bootstrap("fid", *sets, n_boot=10, seed=9, progress=False)
    c = gm.bootstrap("fid", *sets, n_boot=10, seed=10, progress=False)
    assert np.array_equal(a.samples["value"], b.samples["value"])
    assert not np.array_equal(a.samples["value"], c.samples["value"])


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        (("nope",), {}, ValueError, "unknown metric 'nope'"),
        (("fid",), dict(fake=None), ValueError, "compares two sets: pass fake="),
        (("fid",), dict(n_boot=1), ValueError, "n_boot must be >= 2"),
        (("fid",), dict(ci=95), ValueError, r"ci must lie strictly between 0 and 1 \(e.g. 0.95\)"),
        (("fid",), dict(method="bca"), ValueError, "method must be one of 'centred-percentile', 'percentile', 'basic'"),
        (("fid",), dict(k=3), TypeError, "bootstrap\\('fid'\\) takes no metric options"),
        ((42,), {}, TypeError, "metric must be a name"),
        ((lambda a, b: "x",), {}, TypeError, "returned str; bootstrap needs a number"),
    ],
)
def test_bad_input(sets, args, kwargs, exc, match):
    x, y = sets
    kwargs = {"n_boot": 3, "progress": False, **kwargs}
    fake = kwargs.pop("fake", y)
    with pytest.raises(exc, match=match):
        gm.bootstrap(*args, x, fake, **kwargs)
