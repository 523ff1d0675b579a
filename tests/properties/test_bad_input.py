"""Property-based bad input: every public metric and loader refuses it clearly, or is right.

Hypothesis draws a defect (wrong rank, mismatched N or D, empty set, a single
sample, NaN/Inf, out-of-range floats, a wrong integer dtype, mismatched label
maps, k or subset_size larger than the set) and its sizes, or the same data
passed another way (another dtype, another declared range, another source
kind: archives, npz arrays, labelled folders, generators). Each case must end
in a ValueError or TypeError whose message names one of the function's
arguments, or in the number the same data give when passed the right way; a
crash of another type, a hang or another number fails.
Hypothesis runs derandomized, so CI sees the same cases every time.

Every case is tallied (cases, refusals, right numbers, crashes, wrong
numbers). ``bench/bad_input.py`` runs this file with
``GENMETRICS_BAD_INPUT_REPORT=path``: the tally is written there as JSON. A
crash or a wrong number fails its test in either mode (the tally then counts the
cases run until that failure).
"""
from __future__ import annotations

import collections
import inspect
import json
import math
import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genmetrics_nb as gm

REPORT = os.environ.get("GENMETRICS_BAD_INPUT_REPORT")
#: (test, outcome) -> count; outcomes: refused, right, crash, wrong.
TALLY: collections.Counter = collections.Counter()
#: The first few crashes and wrong numbers, for the report.
PROBLEMS: list = []

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _names_an_argument(fn, message: str) -> bool:
    params = [p for p in inspect.signature(fn).parameters if p not in ("self", "kwargs", "metric_kwargs")]
    # Messages name inputs by role as well ("images", "features", "labels").
    params += ["images", "features", "source", "labels", "logits"]
    return any(re.search(rf"(?<![A-Za-z_]){re.escape(p)}(?![A-Za-z_])", message) for p in params)


def _family() -> str:
    """The running test's name (hypothesis calls the body under it)."""
    return os.environ.get("PYTEST_CURRENT_TEST", "?").split("::")[-1].split(" ")[0].split("[")[0]


def _record(outcome: str, detail: str = "") -> str:
    TALLY[(_family(), outcome)] += 1
    if outcome in ("crash", "wrong"):
        if len(PROBLEMS) < 50:
            PROBLEMS.append({"test": _family(), "outcome": outcome, "detail": detail[:500]})
        pytest.fail(f"{outcome}: {detail}")  # always: a tally (REPORT) never hides a problem
    return outcome


def _case(fn, args=(), kwargs=None, *, right=None, same=None, names=None, must_pass=False, what=""):
    """Run one case and tally its outcome.

    Parameters
    ----------
    fn : callable
        What is called: ``fn(*args, **kwargs)``.
    right : callable, optional
        The same data passed the right way (``right()`` gives the reference
        result). None: the input is bad, and any returned number is wrong.
    same : callable, optional
        ``same(result, reference) -> bool`` (default: equal ``.value``).
    names : callable, optional
        Whose argument names a refusal's message must contain (default ``fn``).
    must_pass : bool
        The input is valid and trips no documented guard: a refusal is a crash.
    what : str
        What the case is, for the report.

    Returns
    -------
    str
        ``"refused"``, ``"right"``, ``"crash"`` or ``"wrong"`` (the last two
        fail the test unless the bench script is counting).
    """
    kwargs = kwargs or {}
    name = getattr(names or fn, "__name__", repr(fn)) + (f" [{what}]" if what else "")
    try:
        result = fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if must_pass:
            return _record("crash", f"{name} refused valid input: {type(exc).__name__}: {msg}")
        if not _names_an_argument(names or fn, msg):
            return _record("crash", f"{name}: message names no argument: {msg!r}")
        if len(msg) <= 25:
            return _record("crash", f"{name}: message too short to say the fix: {msg!r}")
        return _record("refused")
    except Exception as exc:  # noqa: BLE001 - any other exception is what is being counted
        return _record("crash", f"{name} raised {type(exc).__name__}: {exc}")
    if right is None:
        return _record("wrong", f"{name} returned {result!r} for bad input")
    reference = right()
    ok = (same or _same_value)(result, reference)
    return _record("right" if ok else "wrong", "" if ok else f"{name} returned {result!r}, the right way {reference!r}")


def _same_value(a, b, rel=1e-9) -> bool:
    va, vb = float(a.value), float(b.value)
    return va == vb or math.isclose(va, vb, rel_tol=rel, abs_tol=1e-12)


def _assert_refused(fn, *args, **kwargs):
    _case(fn, args, kwargs)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    totals = collections.Counter()
    for (_, outcome), k in TALLY.items():
        totals[outcome] += k
    cases = sum(totals.values())
    print(f"\nbad input: {cases} cases, {totals['refused']} refused (ValueError/TypeError naming an "
          f"argument), {totals['right']} right numbers, {totals['crash']} crashes, {totals['wrong']} wrong numbers")
    if REPORT:
        by_test = collections.defaultdict(dict)
        for (test, outcome), k in sorted(TALLY.items()):
            by_test[test][outcome] = k
        with open(REPORT, "w") as f:
            json.dump({"cases": cases, "totals": dict(totals), "by_test": by_test, "problems": PROBLEMS}, f,
                      indent=1, sort_keys=True)


# ----------------------------------------------------------------------------
# feature-set metrics
# ----------------------------------------------------------------------------
FEATURE_DEFECTS = ["rank1", "rank3", "dim_mismatch", "empty", "nan", "inf", "strings", "k_too_large"]


@st.composite
def feature_pair(draw, defect):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n = draw(st.integers(2, 12))
    m = draw(st.integers(2, 12))
    d = draw(st.integers(1, 6))
    a = rng.normal(size=(n, d))
    b = rng.normal(size=(m, d))
    if defect == "rank1":
        a = a[:, 0]
    elif defect == "rank3":
        a = a[:, :, None]
    elif defect == "dim_mismatch":
        b = rng.normal(size=(m, d + draw(st.integers(1, 3))))
    elif defect == "empty":
        a = a[:0]
    elif defect == "nan":
        a[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = np.nan
    elif defect == "inf":
        b[draw(st.integers(0, m - 1)), 0] = -np.inf
    elif defect == "strings":
        a = a.astype(str)
    return a, b


@SETTINGS
@given(data=st.data(), defect=st.sampled_from(FEATURE_DEFECTS))
def test_precision_recall_refuses(data, defect):
    a, b = data.draw(feature_pair(defect))
    k = 3
    if defect == "k_too_large":
        k = min(len(a), len(b)) + data.draw(st.integers(0, 5))
    _assert_refused(gm.precision_recall, a, b, k=k, progress=False)


@SETTINGS
@given(data=st.data(), defect=st.sampled_from(FEATURE_DEFECTS))
def test_density_coverage_refuses(data, defect):
    a, b = data.draw(feature_pair(defect))
    k = 2
    if defect == "k_too_large":  # radii are k-NN distances among the real samples only
        k = len(a) + data.draw(st.integers(0, 5))
    _assert_refused(gm.density_coverage, a, b, k=k, progress=False)


@SETTINGS
@given(data=st.data(), defect=st.sampled_from(FEATURE_DEFECTS))
def test_kid_refuses(data, defect):
    a, b = data.draw(feature_pair(defect))
    subset_size = 2
    if defect == "k_too_large":  # for KID: subset_size larger than a set
        subset_size = min(len(a), len(b)) + data.draw(st.integers(1, 5))
    _assert_refused(gm.kid, a, b, subsets=3, subset_size=subset_size, progress=False)


@SETTINGS
@given(data=st.data(), defect=st.sampled_from(["rank1", "rank3", "dim_mismatch", "empty", "nan", "inf", "strings"]))
def test_frechet_distance_refuses(data, defect):
    a, b = data.draw(feature_pair(defect))
    # (mu, sigma) pairs built from the (bad) features, as a user would.
    if defect in ("rank1", "rank3", "strings"):
        _assert_refused(gm.FeatureStats.from_features, a)
        return
    if defect == "empty":
        _assert_refused(gm.FeatureStats.from_features, a)
        return
    mu_a, mu_b = np.mean(a, axis=0), np.mean(b, axis=0)
    sig_a = np.cov(a, rowvar=False).reshape(a.shape[1], a.shape[1])
    sig_b = np.cov(b, rowvar=False).reshape(b.shape[1], b.shape[1])
    _assert_refused(gm.frechet_distance, (mu_a, sig_a), (mu_b, sig_b), warn=False)


@SETTINGS
@given(data=st.data(), defect=st.sampled_from(["rank1", "rank3", "empty", "nan", "inf", "strings", "splits", "negative_probs"]))
def test_inception_score_refuses(data, defect):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    n, c = data.draw(st.integers(2, 30)), data.draw(st.integers(2, 8))
    logits = rng.normal(size=(n, c))
    splits = 1
    from_logits = True
    if defect == "rank1":
        logits = logits[:, 0]
    elif defect == "rank3":
        logits = logits[..., None]
    elif defect == "empty":
        logits = logits[:0]
    elif defect == "nan":
        logits[0, 0] = np.nan
    elif defect == "inf":
        logits[-1, -1] = np.inf
    elif defect == "strings":
        logits = logits.astype(str)
    elif defect == "splits":
        splits = n + data.draw(st.integers(1, 5))
    elif defect == "negative_probs":
        from_logits = False  # probabilities must lie in [0, 1] and sum to 1
    _assert_refused(gm.inception_score, logits, splits=splits, from_logits=from_logits)


# ----------------------------------------------------------------------------
# image metrics and the loader
# ----------------------------------------------------------------------------
IMAGE_DEFECTS = ["rank3", "shape_mismatch", "channel_mismatch", "empty", "nan", "inf", "int32", "uint16", "out_of_range"]


@st.composite
def image_pair(draw, defect, *, size=12):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n = draw(st.integers(1, 3))
    c = draw(st.sampled_from([1, 3]))
    x = rng.random((n, c, size, size))
    y = rng.random((n, c, size, size))
    if defect == "rank3":
        x = x[0]
    elif defect == "shape_mismatch":
        y = rng.random((n, c, size, size + draw(st.integers(1, 4))))
    elif defect == "channel_mismatch":
        y = rng.random((n, 4 - c if c == 1 else 1, size, size))
    elif defect == "empty":
        x, y = x[:0], y[:0]
    elif defect == "nan":
        x[0, 0, draw(st.integers(0, size - 1)), 0] = np.nan
    elif defect == "inf":
        y[0, 0, 0, draw(st.integers(0, size - 1))] = np.inf
    elif defect == "int32":
        x, y = (x * 255).astype(np.int32), (y * 255).astype(np.int32)
    elif defect == "uint16":
        x, y = (x * 65535).astype(np.uint16), (y * 65535).astype(np.uint16)
    elif defect == "out_of_range":
        x = x * draw(st.floats(2.0, 300.0))
    return x, y


@SETTINGS
@given(data=st.data(), defect=st.sampled_from(IMAGE_DEFECTS), fn=st.sampled_from(["psnr", "ssim", "ms_ssim"]))
def test_full_reference_metrics_refuse(data, defect, fn):
    x, y = data.draw(image_pair(defect))
    _assert_refused(getattr(gm, fn), x, y, data_range=1.0)


@SETTINGS
@given(data=st.data(), defect=st.sampled_from([d for d in IMAGE_DEFECTS if d != "rank3"] + ["rank2"]))
def test_lpips_refuses(data, defect):
    # lpips compares one C x H x W image with a batch (documented), so a
    # single 3-D image is valid input; a 2-D array is not.
    x, y = data.draw(image_pair("none" if defect == "rank2" else defect, size=32))
    if defect == "rank2":
        x = x[0, 0]
    _assert_refused(gm.lpips, x, y, net="efficientnet-lite0", value_range=(0, 1))


@SETTINGS
@given(data=st.data(), defect=st.sampled_from(["rank3", "empty", "nan", "inf", "int32", "uint16", "out_of_range", "no_range"]))
def test_load_images_refuses(data, defect):
    x, y = data.draw(image_pair("none" if defect == "no_range" else defect))
    if defect == "inf":  # image_pair puts the Inf into the second image
        x = y
    kwargs = {} if defect in ("no_range", "int32", "uint16") else {"value_range": (0, 1)}
    _assert_refused(gm.load_images, x, **kwargs)


# ----------------------------------------------------------------------------
# segmentation scores
# ----------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), defect=st.sampled_from(["shape_mismatch", "too_large", "negative", "float_maps", "num_classes", "empty"]))
def test_fcn_score_refuses(data, defect):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    k = data.draw(st.integers(2, 6))
    h, w = data.draw(st.integers(2, 9)), data.draw(st.integers(2, 9))
    t = rng.integers(0, k, (2, h, w))
    p = rng.integers(0, k, (2, h, w))
    num_classes = k
    if defect == "shape_mismatch":
        p = rng.integers(0, k, (2, h, w + 1))
    elif defect == "too_large":
        p[0, 0, 0] = k + data.draw(st.integers(0, 3))
    elif defect == "negative":
        t[0, 0, 0] = -1 - data.draw(st.integers(0, 3))
    elif defect == "float_maps":
        t = t.astype(np.float64) + 0.5
    elif defect == "num_classes":
        num_classes = data.draw(st.integers(-2, 0))
    elif defect == "empty":
        t, p = t[:0], p[:0]
    _assert_refused(gm.fcn_score, t, p, num_classes=num_classes)


# ============================================================================
# The same data passed several ways: refused, or the number of the right way
# ("Never a plausible wrong number": declared ranges, dtypes, probabilities)
# ============================================================================
def _uint8_pair(draw, rng, *, size, dark=None):
    """Two uint8 batches of real content: values in [lo, hi] with hi - lo >= 8 (or 0..40, dark)."""
    n = draw(st.integers(1, 3))
    c = draw(st.sampled_from([1, 3]))
    if dark if dark is not None else draw(st.booleans()):
        lo, hi = 0, 40
    else:
        lo = draw(st.integers(0, 100))
        hi = draw(st.integers(lo + 8, 255))
    x = rng.integers(lo, hi + 1, (n, c, size, size)).astype(np.uint8)
    y = np.clip(x.astype(int) + rng.integers(-20, 21, x.shape), lo, hi).astype(np.uint8)
    return x, y


#: How float images can be passed: name -> (function of the uint8 data, the range it has).
_REPRESENTATIONS = {
    "uint8": (lambda u: u, None),
    "unit": (lambda u: u / 255.0, (0, 1)),
    "signed": (lambda u: u / 127.5 - 1.0, (-1, 1)),
    "float255": (lambda u: u.astype(np.float64), (0, 255)),
}
_DECLARED = [(0, 1), (-1, 1), (0, 255)]


def _asserted(allow: bool) -> dict:
    """``allow_narrow=True`` when drawn (only ever with the right declaration), else nothing."""
    return {"allow_narrow": True} if allow else {}


def _as(kind, u, *, torch_=False, float32=False):
    import torch

    x = _REPRESENTATIONS[kind][0](u)
    if float32 and x.dtype != np.uint8:
        x = x.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(x)) if torch_ else x


_WIDTH = {"uint8": 255.0, "unit": 1.0, "signed": 2.0, "float255": 255.0}
#: data_range declarations a pixel metric is tried with. Not generated, because
#: data_range declares a width only and cannot show them (docs/reliability.md,
#: the narrow-range row): [0, 1] data with data_range=2 and [-1, 1] data with data_range=1.
_UNSEEABLE = {("unit", 2.0), ("signed", 1.0)}


@SETTINGS
@given(data=st.data(), fn=st.sampled_from(["psnr", "ssim", "ms_ssim"]),
       kind=st.sampled_from(list(_REPRESENTATIONS)), declared=st.sampled_from([1.0, 2.0, 255.0]))
def test_pixel_metrics_are_right_or_refuse(data, fn, kind, declared):
    if (kind, declared) in _UNSEEABLE:
        declared = _WIDTH[kind]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    u, v = _uint8_pair(data.draw, rng, size=24)
    metric = getattr(gm, fn)
    kw = {"weights": (0.4, 0.6)} if fn == "ms_ssim" else {}
    torch_ = data.draw(st.booleans())
    right_way = declared == _WIDTH[kind]
    allow = right_way and data.draw(st.booleans())  # asserting narrow data never changes a right number
    x, y = _as(kind, u, torch_=torch_), _as(kind, v, torch_=torch_)
    # The right way: the same values with their own width (SSIM is not offset-invariant,
    # so [-1, 1] data are compared with themselves, not with the uint8 images).
    _case(metric, (x, y), dict(data_range=declared, **kw, **_asserted(allow)),
          right=lambda: metric(_as(kind, u), _as(kind, v), data_range=_WIDTH[kind], **kw),
          same=lambda a, b: np.allclose(a.values, b.values, rtol=1e-9, atol=1e-12, equal_nan=True),
          must_pass=right_way)


@SETTINGS
@given(data=st.data(), kind=st.sampled_from(list(_REPRESENTATIONS)),
       declared=st.sampled_from(_DECLARED + [None]))
def test_load_images_is_right_or_refuses(data, kind, declared):
    import torch

    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    u, _ = _uint8_pair(data.draw, rng, size=6)
    torch_, last = data.draw(st.booleans()), data.draw(st.booleans())
    x = _as(kind, u, torch_=torch_, float32=data.draw(st.booleans()))
    if last:
        x = x.permute(0, 2, 3, 1) if torch_ else x.transpose(0, 2, 3, 1)
    right_way = kind == "uint8" or declared == _REPRESENTATIONS[kind][1]
    allow = right_way and data.draw(st.booleans())
    kwargs = dict(**_asserted(allow), **({} if declared is None else {"value_range": declared}))
    _case(gm.load_images, (x,), kwargs, right=lambda: u,
          same=lambda a, b: np.array_equal(a.cpu().numpy() if torch.is_tensor(a) else np.asarray(a), b),
          must_pass=right_way)


@pytest.fixture(scope="module")
def baseline_lpips():
    from genmetrics_nb.metrics.pixel.lpips import LPIPS

    return LPIPS("efficientnet-lite0", device="cpu")


@settings(SETTINGS, max_examples=50)
@given(data=st.data(), kind=st.sampled_from(list(_REPRESENTATIONS)),
       declared=st.sampled_from(_DECLARED + [None]), size=st.sampled_from([32, 32, 32, 1, 8, 16, 31]))
def test_lpips_is_right_or_refuses(baseline_lpips, data, kind, declared, size):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    u, v = _uint8_pair(data.draw, rng, size=size)
    u, v = (np.repeat(a, 3, axis=1) if a.shape[1] == 1 else a for a in (u, v))
    right_way = size == 32 and (declared == _REPRESENTATIONS[kind][1])
    allow = right_way and data.draw(st.booleans())
    x, y = _as(kind, u, torch_=data.draw(st.booleans())), _as(kind, v)
    _case(baseline_lpips, (x, y), dict(value_range=declared, **_asserted(allow)), names=gm.lpips,
          right=lambda: baseline_lpips(u, v),
          same=lambda a, b: np.allclose(a.values, b.values, rtol=1e-5, atol=1e-7),
          must_pass=right_way)


def _is_reference(log_p, splits):
    """Inception Score of float64 log-probabilities, written independently (scipy logsumexp)."""
    from scipy.special import logsumexp

    n, scores = len(log_p), []
    for i in range(splits):
        part = log_p[i * n // splits:(i + 1) * n // splits]
        log_py = logsumexp(part, axis=0) - np.log(len(part))
        with np.errstate(invalid="ignore"):
            terms = np.where(np.isfinite(part), np.exp(part) * (part - log_py), 0.0)
        scores.append(np.exp(terms.sum(1).mean()))
    return float(np.mean(scores))


@SETTINGS
@given(data=st.data(), kind=st.sampled_from(["logits", "probabilities"]),
       dtype=st.sampled_from(["float64", "float32", "float16", "bfloat16", "numpy-float16"]),
       from_logits=st.booleans(), scale=st.sampled_from([0.3, 3.0, 30.0, 500.0]))
def test_inception_score_is_right_or_refuses(data, kind, dtype, from_logits, scale):
    import torch

    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    n, c = data.draw(st.integers(4, 40)), data.draw(st.integers(2, 12))
    splits = data.draw(st.integers(1, min(4, n)))
    logits = torch.from_numpy(rng.normal(size=(n, c)) * scale)
    values = logits if kind == "logits" else torch.softmax(logits, 1)
    stored = values.to(torch.float16 if dtype == "numpy-float16" else getattr(torch, dtype))
    x = stored.numpy() if dtype == "numpy-float16" else stored
    exact = stored.double().numpy()  # the values as passed, in float64
    if kind == "logits":
        from scipy.special import logsumexp

        log_p = exact - logsumexp(exact, axis=1, keepdims=True)
    else:
        with np.errstate(divide="ignore"):
            log_p = np.log(exact / exact.sum(1, keepdims=True))
    right_way = from_logits == (kind == "logits")
    _case(gm.inception_score, (x,), dict(splits=splits, from_logits=from_logits),
          right=lambda: _is_reference(log_p, splits),
          same=lambda a, b: math.isfinite(a.value) and math.isclose(a.value, b, rel_tol=1e-9),
          must_pass=right_way)


_FEATURE_DTYPES = ["float64", "float32", "float16", "torch-float64", "torch-float32", "torch-float16",
                   "torch-bfloat16", "list"]


def _features_as(a, kind):
    import torch

    if kind == "list":
        return a.tolist()
    if kind.startswith("torch-"):
        return torch.from_numpy(a).to(getattr(torch, kind[6:]))
    return a.astype(kind)


@SETTINGS
@given(data=st.data(), metric=st.sampled_from(["precision_recall", "density_coverage", "kid", "fid"]),
       kind=st.sampled_from(_FEATURE_DTYPES), duplicates=st.booleans())
def test_feature_metrics_are_the_same_in_every_dtype(data, metric, kind, duplicates):
    # Values on a grid of 1/8 are exact in every dtype, so every dtype passes the same
    # data; the grid and the duplicated rows make exact k-NN ties (class 1) common.
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    n, m, d = data.draw(st.integers(6, 14)), data.draw(st.integers(6, 14)), data.draw(st.integers(1, 5))
    a = rng.integers(-16, 17, (n, d)) / 8.0
    b = rng.integers(-16, 17, (m, d)) / 8.0
    if duplicates:
        a[1:3] = a[0]
        half = min(n, m) // 2
        b[:half] = a[:half]
    fn = getattr(gm, metric)
    kw = {"precision_recall": dict(k=3, progress=False), "density_coverage": dict(k=3, progress=False),
          "kid": dict(subsets=3, subset_size=5, progress=False), "fid": dict(progress=False)}[metric]
    fields = {"precision_recall": ("precision", "recall"), "density_coverage": ("density", "coverage")}

    def same(r, ref):
        if metric in fields:
            return all(getattr(r, f) == getattr(ref, f) for f in fields[metric])
        return _same_value(r, ref)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n <= D covariance warnings of tiny sets
        # (a list of lists is no source: refused, naming the argument)
        _case(fn, (_features_as(a, kind), _features_as(b, kind)), kw, right=lambda: fn(a, b, **kw), same=same,
              must_pass=kind != "list")


@SETTINGS
@given(data=st.data(), kind=st.sampled_from(["int64", "int32", "uint8", "torch", "torch-cuda-free", "float"]),
       ignore=st.sampled_from([None, 0]))
def test_confusion_scores_are_the_same_in_every_integer_dtype(data, kind, ignore):
    import torch

    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    k = data.draw(st.integers(2, 6))
    t = rng.integers(0, k, (2, 5, 6))
    p = rng.integers(0, k, (2, 5, 6))
    if kind == "float":
        tt, pp = t.astype(np.float64), p.astype(np.float64)  # integral floats: refused or the same
    elif kind.startswith("torch"):
        tt, pp = torch.from_numpy(t), torch.from_numpy(p)
    else:
        tt, pp = t.astype(kind), p.astype(kind)
    _case(gm.fcn_score, (tt, pp), dict(num_classes=k, ignore_index=ignore),
          right=lambda: gm.fcn_score(t, p, num_classes=k, ignore_index=ignore),
          same=lambda a, b: repr(a.to_dict()) == repr(b.to_dict()))  # NaN for absent classes


# ============================================================================
# Sources: archives, npz/npy arrays, labelled folders, generators
# ============================================================================
_SRC_OPTS = dict(extractor="test-tiny", device="cpu", progress=False)
_SOURCE_METRICS = {
    "fid": (lambda real, fake, **kw: gm.fid(real, fake, **_SRC_OPTS, **kw), gm.fid),
    "kid": (lambda real, fake, **kw: gm.kid(real, fake, subsets=2, subset_size=3, **_SRC_OPTS, **kw), gm.kid),
    "precision_recall": (lambda real, fake, **kw: gm.precision_recall(real, fake, k=2, **_SRC_OPTS, **kw),
                         gm.precision_recall),
    "density_coverage": (lambda real, fake, **kw: gm.density_coverage(real, fake, k=2, **_SRC_OPTS, **kw),
                         gm.density_coverage),
    "extract_features": (lambda real, fake, **kw: gm.extract_features(fake, cache=False, **_SRC_OPTS, **kw),
                         gm.extract_features),
    "feature_stats": (lambda real, fake, **kw: gm.feature_stats(fake, cache=False, **_SRC_OPTS, **kw),
                      gm.feature_stats),
}


def _same_result(a, b) -> bool:
    if isinstance(a, gm.Features):
        return all(np.array_equal(a[k], b[k]) for k in b)
    if isinstance(a, gm.FeatureStats):
        return np.allclose(a.mu, b.mu, rtol=1e-12) and np.allclose(a.sigma, b.sigma, rtol=1e-9, atol=1e-12)
    return repr(a.to_dict()) == repr(b.to_dict())


def _png_bytes(img_chw) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img_chw.transpose(1, 2, 0))).save(buf, "PNG")
    return buf.getvalue()


def _tiny_generator(kind):
    """A ModuleGenerator of 3 x 16 x 16 images: tanh (right), sigmoid declared as [-1, 1],
    tanh * 127.5 declared as [0, 1], or NaN."""
    import torch

    from genmetrics_nb.generators import ModuleGenerator

    torch.manual_seed(0)
    lin = torch.nn.Linear(8, 3 * 16 * 16)
    out = {"tanh": torch.nn.Tanh(), "sigmoid-as-signed": torch.nn.Sigmoid(),
           "wide-as-unit": torch.nn.Sequential(torch.nn.Tanh(), _Scale(127.5)), "nan": _Scale(float("nan"))}[kind]
    net = torch.nn.Sequential(lin, out, torch.nn.Unflatten(1, (3, 16, 16)))
    declared = {"tanh": (-1, 1), "sigmoid-as-signed": (-1, 1), "wide-as-unit": (0, 1), "nan": (-1, 1)}[kind]
    return ModuleGenerator(net, z_dim=8, value_range=declared, device="cpu")


def _scale_forward(self, x):
    return x * self.s


def _make_scale():
    import torch

    return type("Scale", (torch.nn.Module,), {
        "__init__": lambda self, s: (torch.nn.Module.__init__(self), setattr(self, "s", s))[0],
        "forward": _scale_forward,
    })


class _LazyScale:
    cls = None

    def __call__(self, s):
        if _LazyScale.cls is None:
            _LazyScale.cls = _make_scale()
        return _LazyScale.cls(s)


_Scale = _LazyScale()

_SOURCE_DEFECTS = {
    "zip": ["none", "none", "no_images", "corrupt_member", "mixed_sizes"],
    "tar": ["none", "no_images", "corrupt_member", "mixed_sizes"],
    "npz": ["none", "none", "unit_right", "unit_as_255", "unit_as_signed", "float_no_range", "int32", "rank3",
            "nan", "five_channels"],
    "npy": ["none", "unit_right", "unit_as_255", "unit_as_signed", "float_no_range", "int32", "rank3"],
    "labelled": ["none", "none", "empty_class", "loose_file", "no_subfolders"],
    "generator": ["tanh", "tanh", "sigmoid-as-signed", "wide-as-unit", "nan", "num_images"],
}


@st.composite
def _source_case(draw, tmp):
    """A source of one kind with a drawn defect, the images it holds, and whether it is right."""
    import tarfile
    import zipfile

    kind = draw(st.sampled_from(list(_SOURCE_DEFECTS)))
    defect = draw(st.sampled_from(_SOURCE_DEFECTS[kind]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n = draw(st.integers(4, 7))
    images = rng.integers(0, 256, (n, 3, 16, 16), dtype=np.uint8)
    kwargs = {}
    if kind in ("zip", "tar"):
        members = {f"s/{i:03d}.png": _png_bytes(img) for i, img in enumerate(images)}
        if defect == "no_images":
            members = {"README.txt": b"no images here"}
        elif defect == "corrupt_member":
            members["s/002.png"] = b"\x89PNG\r\n\x1a\n" + bytes(rng.integers(0, 256, 40, dtype=np.uint8))
        elif defect == "mixed_sizes":
            members["s/001.png"] = _png_bytes(rng.integers(0, 256, (3, 12, 16), dtype=np.uint8))
        reference = images
        if defect == "mixed_sizes":  # valid for extraction (each image is resized); the right way is a folder
            reference = os.path.join(tmp, "folder")
            for name, blob in members.items():
                os.makedirs(os.path.dirname(os.path.join(reference, name)), exist_ok=True)
                with open(os.path.join(reference, name), "wb") as f:
                    f.write(blob)
        path = os.path.join(tmp, f"set.{'zip' if kind == 'zip' else 'tar.gz'}")
        if kind == "zip":
            with zipfile.ZipFile(path, "w") as zf:
                for name, blob in members.items():
                    zf.writestr(name, blob)
        else:
            import io

            with tarfile.open(path, "w:gz") as tf:
                for name, blob in members.items():
                    info = tarfile.TarInfo(name)
                    info.size = len(blob)
                    tf.addfile(info, io.BytesIO(blob))
        return path, reference, kwargs, defect in ("none", "mixed_sizes"), f"{kind} {defect}"
    if kind in ("npz", "npy"):
        arr, right = images.transpose(0, 2, 3, 1), defect == "none"
        if defect.startswith("unit") or defect in ("float_no_range", "nan"):
            arr = arr / 255.0
            declared = {"unit_right": (0, 1), "unit_as_255": (0, 255), "unit_as_signed": (-1, 1),
                        "nan": (0, 1)}.get(defect)
            if declared is not None:
                kwargs["value_range"] = declared
            right = defect == "unit_right"
            if defect == "nan":
                arr[draw(st.integers(0, n - 1)), 3, 3, 0] = np.nan
        elif defect == "int32":
            arr = arr.astype(np.int32)
        elif defect == "rank3":
            arr = arr[:, :, :, 0]
        elif defect == "five_channels":
            arr = np.concatenate([arr, arr[..., :2]], axis=-1)
        path = os.path.join(tmp, f"set.{kind}")
        if kind == "npz":
            np.savez(path, arr, np.arange(n))
        else:
            np.save(path, arr)
        return path, images, kwargs, right, f"{kind} {defect}"
    if kind == "labelled":
        from pathlib import Path

        root = Path(tmp) / "classes"
        for i, img in enumerate(images):
            folder = root / f"c{i % 2}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i:03d}.png").write_bytes(_png_bytes(img))
        if defect == "empty_class":
            (root / "c9").mkdir()
        elif defect == "loose_file":
            (root / "loose.png").write_bytes(_png_bytes(images[0]))
        elif defect == "no_subfolders":
            for f in sorted(root.rglob("*.png")):
                f.rename(root / f.name)
            for d in sorted(root.iterdir()):
                if d.is_dir():
                    d.rmdir()
        order = [i for c in (0, 1) for i in range(n) if i % 2 == c]  # class by class, sorted
        try:
            src = gm.image_folder(root)
        except (ValueError, TypeError) as exc:  # refused when opened: the case is that refusal
            return exc, images[order], kwargs, False, f"{kind} {defect}"
        return src, images[order], kwargs, defect == "none", f"{kind} {defect}"
    from genmetrics_nb import sources

    gen = _tiny_generator("tanh" if defect == "num_images" else defect)
    num = draw(st.sampled_from([0, -3, 2.5, True])) if defect == "num_images" else n
    try:
        src = sources.generated(gen, num_images=num, seed=1)
    except (ValueError, TypeError) as exc:
        return exc, None, kwargs, False, f"{kind} {defect}"
    right = defect == "tanh"
    return src, (gen.generate(n, seed=1, progress=False) if right else None), kwargs, right, f"{kind} {defect}"


def _raise(exc):
    raise exc


@settings(SETTINGS, max_examples=120)
@given(data=st.data(), metric=st.sampled_from(list(_SOURCE_METRICS)))
def test_sources_are_right_or_refuse(data, metric):
    _source_metric_case(data, metric)


@pytest.mark.slow
@settings(SETTINGS, max_examples=150)
@given(data=st.data(), metric=st.sampled_from(list(_SOURCE_METRICS)))
def test_sources_are_right_or_refuse_more(data, metric):
    _source_metric_case(data, metric)  # other draws (hypothesis seeds by the test's name)


def _source_metric_case(data, metric):
    import tempfile
    import warnings

    from genmetrics_nb.testing.extractors import register_tiny_extractor

    register_tiny_extractor("test-tiny")
    fn, public = _SOURCE_METRICS[metric]
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (6, 3, 16, 16), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n <= D covariance warnings, skipped-file warnings
        src, images, kwargs, right_way, what = data.draw(_source_case(tmp))
        if isinstance(src, Exception):  # refused as the source was opened (gm.image_folder, sources.generated)
            _case(_raise, (src,), names=gm.image_folder if images is not None else gm.sources.generated)
            return
        _case(fn, (real, src), kwargs, names=public, right=None if images is None else (lambda: fn(real, images)),
              same=_same_result, must_pass=right_way, what=what)


# ============================================================================
# Options of the remaining public functions
# ============================================================================
@SETTINGS
@given(data=st.data(), option=st.sampled_from(
    ["batch_size", "outputs", "precision", "on_error", "num_workers", "allow_narrow", "cache", "extractor",
     "chunk_size"]))
def test_extract_features_options_refuse(data, option):
    from genmetrics_nb.testing.extractors import register_tiny_extractor

    register_tiny_extractor("test-tiny")
    x = np.random.default_rng(0).integers(0, 256, (3, 3, 8, 8), dtype=np.uint8)
    bad = {
        "batch_size": st.sampled_from([0, -1, 2.5, "8", True]),
        "outputs": st.sampled_from(["nope", ["feat", "nope"], 3]),
        "precision": st.sampled_from(["fp8", "double", None]),
        "on_error": st.sampled_from(["ignore", "", None]),
        "num_workers": st.sampled_from([-1, 1.5, "2"]),
        "allow_narrow": st.sampled_from([None, 1, "yes"]),
        "cache": st.sampled_from([3, 1.5, object()]),
        "extractor": st.sampled_from(["no-such-net", "", 3]),
        "chunk_size": st.sampled_from([0, -5, 1.5]),
    }[option]
    kwargs = {"device": "cpu", "progress": False, "cache": False, option: data.draw(bad)}
    fn = data.draw(st.sampled_from([gm.extract_features, gm.feature_stats]))
    if fn is gm.feature_stats and option in ("outputs", "chunk_size"):
        kwargs.pop(option)
        kwargs["output"] = data.draw(st.sampled_from(["nope", 3]))
    _case(fn, (x, kwargs.pop("extractor", "test-tiny")), kwargs)


@SETTINGS
@given(data=st.data(), case=st.sampled_from(
    ["n_boot", "ci", "method", "metric", "seed", "fid_infinity_points", "fid_infinity_fake", "frechet_shapes"]))
def test_bootstrap_and_fid_variants_refuse(data, case):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    a, b = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    if case == "n_boot":
        _case(gm.bootstrap, ("fid", a, b), dict(n_boot=data.draw(st.sampled_from([0, -2, 1.5, "9"])), progress=False))
    elif case == "ci":
        _case(gm.bootstrap, ("fid", a, b), dict(n_boot=5, ci=data.draw(st.sampled_from([0.0, 1.0, 95, -0.5])),
                                                progress=False))
    elif case == "method":
        _case(gm.bootstrap, ("fid", a, b), dict(n_boot=5, method=data.draw(st.sampled_from(["bca", "", 3])),
                                                progress=False))
    elif case == "metric":
        _case(gm.bootstrap, (data.draw(st.sampled_from(["nope", 3, None])), a, b), dict(n_boot=5, progress=False))
    elif case == "seed":
        _case(gm.bootstrap, ("fid", a, b), dict(n_boot=5, seed=data.draw(st.sampled_from([-1, 1.5, "0"])),
                                                progress=False))
    elif case == "fid_infinity_points":
        _case(gm.fid_infinity, (a, b), dict(num_points=data.draw(st.sampled_from([0, 1, -3, 2.5])), progress=False))
    elif case == "fid_infinity_fake":
        bad = data.draw(st.sampled_from(["stats", "rank1", "nan"]))
        fake = {"stats": gm.FeatureStats.from_features(b), "rank1": b[:, 0],
                "nan": np.where(np.arange(b.size).reshape(b.shape) == 4, np.nan, b)}[bad]
        _case(gm.fid_infinity, (a, fake), dict(progress=False))
    else:
        mu, sig = a.mean(0), np.cov(a, rowvar=False)
        bad = data.draw(st.sampled_from(["mu_rank", "sigma_shape", "nan_sigma"]))
        if bad == "mu_rank":
            pair = (mu[None], sig)
        elif bad == "sigma_shape":
            pair = (mu, sig[:2])
        else:
            pair = (mu, np.where(np.eye(3) > 0, np.nan, sig))
        _case(gm.frechet_distance, (pair, (mu, sig)), dict(warn=False))


@pytest.fixture(scope="module")
def tiny_generator_and_classifier():
    import torch

    from genmetrics_nb.generators import AttributeClassifier

    gen = _tiny_generator("tanh")
    torch.manual_seed(1)
    head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 3))
    clf = AttributeClassifier(head, attributes=["a", "b", "c"], kind="multiclass", value_range=(-1, 1))
    return gen, clf


def _squared_l2(x, y):
    return ((x - y) ** 2).flatten(1).sum(1)


@SETTINGS
@given(data=st.data(), metric=st.sampled_from(["ppl", "linear_separability"]),
       option=st.sampled_from(["space", "sampling", "epsilon", "num_samples", "psi", "percentiles", "generator",
                               "distance", "keep", "num_keep", "batch_size", "classifier"]))
def test_generator_metrics_refuse(tiny_generator_and_classifier, data, metric, option):
    gen, clf = tiny_generator_and_classifier
    bad = {
        "space": st.sampled_from(["q", "", 3]),
        "sampling": st.sampled_from(["middle", None]),
        "epsilon": st.sampled_from([0.0, -1e-4, float("nan"), "1e-4"]),
        "num_samples": st.sampled_from([0, -10, 2.5, True]),
        "psi": st.sampled_from([float("nan"), "1", None]),
        "percentiles": st.sampled_from([(99, 1), (-1, 50), (0, 101), "1,99"]),
        "generator": st.sampled_from([None, 3, "no-such-generator"]),
        "distance": st.sampled_from(["lpips-nope", 3]),
        "keep": st.sampled_from(["all", None]),
        "num_keep": st.sampled_from([0, -1, 1.5]),
        "batch_size": st.sampled_from([0, -1, 2.5]),
        "classifier": st.sampled_from([None, 3, "clf"]),
    }[option]
    value = data.draw(bad)
    if metric == "ppl":
        if option in ("keep", "num_keep", "classifier"):
            option, value = "space", "q"
        kwargs = dict(num_samples=8, distance=_squared_l2, progress=False, device="cpu")
        args = (gen,)
    else:
        if option in ("sampling", "epsilon", "percentiles", "distance"):
            option, value = "space", "q"
        kwargs = dict(num_samples=40, progress=False)
        args = (gen, clf)
    if option == "generator":
        args = (value,) + args[1:]
    elif option == "classifier":
        args = (args[0], value)
    else:
        kwargs[option] = value
    _case(getattr(gm, metric), args, kwargs)


@SETTINGS
@given(data=st.data(), defect=st.sampled_from(
    ["float_images", "shape_mismatch", "labels_shape", "num_classes", "no_real", "segmenter", "batch_size",
     "two_channels", "negative_labels"]))
def test_segmentation_scores_refuse(data, defect):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    real = rng.integers(0, 256, (2, 3, 8, 8), dtype=np.uint8)
    fake = rng.integers(0, 256, (2, 3, 8, 8), dtype=np.uint8)

    def segmenter(x):
        return (np.asarray(x)[:, 0] > 127).astype(np.int64)

    kwargs = dict(num_classes=2, progress=False)
    args = [real, fake, segmenter]
    if defect == "float_images":
        args[1] = fake / 255.0
    elif defect == "shape_mismatch":
        args[0] = real[..., :6]
    elif defect == "labels_shape":
        kwargs["labels"] = rng.integers(0, 2, (2, 8, 7))
    elif defect == "num_classes":
        kwargs["num_classes"] = data.draw(st.sampled_from([0, 1, -2, 2.5]))
    elif defect == "no_real":
        args[0] = None
    elif defect == "segmenter":
        args[2] = data.draw(st.sampled_from(["no-such-segmenter", 3]))
    elif defect == "batch_size":
        kwargs["batch_size"] = data.draw(st.sampled_from([0, -1, 1.5]))
    elif defect == "two_channels":
        args[0], args[1] = real[:, :2], fake[:, :2]
    elif defect == "negative_labels":
        kwargs["labels"] = -rng.integers(1, 3, (2, 8, 8))
    _case(gm.fcn_score_images, tuple(args), kwargs)
    # the accumulating form takes the same maps
    cm = gm.ConfusionMatrix(2)
    maps = data.draw(st.sampled_from(["shape", "range", "float", "rank1"]))
    t = rng.integers(0, 2, (2, 8, 8))
    p = {"shape": rng.integers(0, 2, (2, 8, 7)), "range": t + 2, "float": t + 0.5, "rank1": t.ravel()[:5]}[maps]
    _case(cm.update, (t, p), names=gm.ConfusionMatrix.update)
