"""Property-based bad input: every public metric and loader refuses it clearly.

Hypothesis draws a defect (wrong rank, mismatched N or D, empty set, a single
sample, NaN/Inf, out-of-range floats, a wrong integer dtype, mismatched label
maps, k or subset_size larger than the set) and its sizes. Each case must end
in a ValueError or TypeError whose message names one of the function's
arguments; a crash of another type, a hang or a returned number fails.
Hypothesis runs derandomized, so CI sees the same cases every time.
"""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genmetrics_nb as gm

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


def _assert_refused(fn, *args, **kwargs):
    with pytest.raises((ValueError, TypeError)) as err:
        result = fn(*args, **kwargs)
        pytest.fail(f"{fn.__name__} returned {result!r} for bad input")
    msg = str(err.value)
    assert _names_an_argument(fn, msg), f"{fn.__name__}: message names no argument: {msg!r}"
    assert len(msg) > 25, f"{fn.__name__}: message too short to say the fix: {msg!r}"


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
