"""Protocol fingerprints: two sides computed differently are refused, listed, or recorded.

The extractors here are built in the test with the same seeded network and two
resizes that differ as clean-fid's modes do (antialiased vs plain bilinear), so
that the statistics really differ; FID values are checked against pytorch-fid's
``calculate_frechet_distance`` of the same moments (an outside implementation).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.features.protocol import (
    UNKNOWN,
    compare_protocols,
    fingerprint,
    protocol_differences,
)


def _extractor(resize_mode: str):
    """A seeded conv net whose preprocessing resizes as ``resize_mode`` says, recorded in its spec."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from genmetrics_nb.extractors.base import Extractor

    g = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(3, 6, 3, stride=2)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * 0.3)
        conv.bias.zero_()
    model = nn.Sequential(conv, nn.Tanh(), nn.AdaptiveAvgPool2d(2), nn.Flatten()).eval()
    antialias = resize_mode == "clean"

    def pre(x):
        return F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False, antialias=antialias) / 255

    return Extractor("test-protocol", model, preprocess=pre, forward=lambda m, x, names: {"feat": m(x)},
                     outputs={"feat": 24}, spec={"resize_mode": resize_mode, "input_size": [16, 16], "version": 1},
                     weights_digest="1" * 64, device=torch.device("cpu"))


@pytest.fixture(scope="module")
def stats():
    """real/fake statistics in the "clean" and "legacy_pytorch" modes (fake has fewer images)."""
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (60, 3, 40, 40), dtype=np.uint8)
    fake = np.clip(real[:50].astype(int) + rng.integers(-80, 80, (50, 3, 40, 40)), 0, 255).astype(np.uint8)
    out = {}
    for mode in ("clean", "legacy_pytorch"):
        ext = _extractor(mode)
        for name, x in (("real", real), ("fake", fake)):
            out[name, mode] = gm.feature_stats(x, ext, device="cpu", cache=False, progress=False)
    return out


def _pytorch_fid(a, b):
    from pytorch_fid.fid_score import calculate_frechet_distance

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy's sqrtm(disp=) in pytorch-fid
        return calculate_frechet_distance(a.mu, a.sigma, b.mu, b.sigma)


def test_a_resize_difference_is_refused_and_listed(stats):
    real, fake = stats["real", "clean"], stats["fake", "legacy_pytorch"]
    assert protocol_differences(real, fake) == ["resize_mode"]
    with pytest.raises(ValueError, match=r"real and fake were computed differently: resize_mode is 'clean' for "
                                         r"real and 'legacy_pytorch' for fake\. FID is only meaningful .*"
                                         r"allow_protocol_mismatch=True"):
        gm.fid(real, fake, device="cpu")


@pytest.mark.reference
def test_allowing_a_mismatch_scores_and_records_it(stats):
    real, fake = stats["real", "clean"], stats["fake", "legacy_pytorch"]
    r = gm.fid(real, fake, device="cpu", allow_protocol_mismatch=True)
    assert r.value == pytest.approx(_pytorch_fid(real, fake), rel=1e-7)
    assert r.protocol_mismatch == {"resize_mode": ["clean", "legacy_pytorch"]}
    d = r.to_dict()["protocol"]
    assert d["mismatch"] == {"resize_mode": ["clean", "legacy_pytorch"]} and d["mismatch_allowed"] is True
    assert d["preprocessing"]["resize_mode"] == "clean" and d["extractor"] == "test-protocol"
    assert d["weights_sha256"] == "1" * 64 and d["versions"]["genmetrics_nb"] == gm.__version__
    assert "PROTOCOL MISMATCH allowed: resize_mode" in str(r)
    # the detail matters: the same-protocol score is another number
    same = gm.fid(real, stats["fake", "clean"], device="cpu")
    assert same.protocol_mismatch == {} and abs(same.value - r.value) > 1e-3 * max(same.value, r.value)


def test_n_and_source_differences_do_not_count(stats):
    real, fake = stats["real", "clean"], stats["fake", "clean"]
    fa, fb = fingerprint(real), fingerprint(fake)
    assert (fa["n"], fb["n"]) == (60, 50) and fa["source"] != fb["source"]
    assert fa["extractor"] == "test-protocol" and fa["weights_sha256"] == "1" * 64 and fa["precision"] == "fp32"
    assert fa["output"] == "feat" and fa["versions"]["genmetrics_nb"] == gm.__version__
    r = gm.fid(real, fake, device="cpu")
    assert r.protocol_mismatch == {} and r.protocol_unverified == []
    # a difference in a compared field is one: weights, precision
    other = dict(real.meta, weights_digest="2" * 64, precision="bf16")
    assert protocol_differences(real.meta, other) == ["weights_sha256", "precision"]


def test_kid_goes_through_the_same_check(stats):
    # KID and the k-NN metrics compare per-sample features through sources.features_pair,
    # which calls the same check_compatible as gm.fid.
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (30, 3, 40, 40), dtype=np.uint8)
    a = gm.extract_features(x, _extractor("clean"), device="cpu", cache=False, progress=False)
    b = gm.extract_features(x, _extractor("legacy_pytorch"), device="cpu", cache=False, progress=False)
    with pytest.raises(ValueError, match="resize_mode is 'clean' for real and 'legacy_pytorch' for fake"):
        gm.kid(a, b, subsets=2, subset_size=10, progress=False)
    x_, y_, prov = __import__("genmetrics_nb.features.inputs").features.inputs.features_pair(a, b, metric="KID", allow_protocol_mismatch=True)
    assert prov["protocol"]["mismatch"] == {"resize_mode": ["clean", "legacy_pytorch"]}
    assert prov["protocol"]["mismatch_allowed"] and x_.shape == y_.shape == (30, 24)


@pytest.mark.reference
def test_imported_pytorch_fid_file_is_unverified_not_refused(tmp_path, stats):
    from pytorch_fid import fid_score

    real = stats["real", "clean"]
    ref = tmp_path / "ref.npz"
    np.savez_compressed(ref, mu=real.mu, sigma=real.sigma)  # pytorch-fid save_fid_stats' writer
    imported = gm.FeatureStats.load(ref)
    assert imported.protocol["extractor"] == UNKNOWN  # 24-d: nothing can be inferred
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # recorded, not warned about
        r = gm.fid(str(ref), stats["fake", "legacy_pytorch"], device="cpu")
    assert r.protocol_mismatch == {}
    assert r.protocol_unverified == ["extractor", "weights_sha256", "output", "precision", "preprocessing"]
    assert r.value == pytest.approx(_pytorch_fid(real, stats["fake", "legacy_pytorch"]), rel=1e-7)
    assert r.protocol["imported"]["real"]["format"] == "pytorch-fid" and "fake" not in r.protocol["imported"]
    assert r.protocol["extractor"] == "test-protocol"  # the known side's

    # A 2048-d file is most likely the TF-FID Inception's pool3: inferred, so still not refused,
    # even against a side known to come from another extractor.
    big = tmp_path / "ref2048.npz"
    fid_score.np.savez_compressed(big, mu=np.zeros(2048), sigma=np.eye(2048))
    fp = gm.FeatureStats.load(big).protocol
    assert (fp["extractor"], fp["output"]) == ("inception-v3-fid", "pool")
    assert {"extractor", "output"} <= set(fp["inferred"]) and fp["weights_sha256"] == UNKNOWN
    known = {"extractor": "efficientnet-lite0", "output": "pool", "weights_digest": "3" * 64,
             "precision": "fp32", "spec": {"resize_mode": "clean"}}
    cmp = compare_protocols(fp, known)
    assert cmp["mismatch"] == {}
    assert cmp["unverified"] == ["extractor", "weights_sha256", "output", "precision", "preprocessing"]
    # Stated to be pytorch-fid's (not only detected as its container), the resize is inferred too:
    # its F.interpolate bilinear is clean-fid's "legacy_pytorch"; against "clean" still only recorded.
    fp = gm.FeatureStats.load(big, format="pytorch-fid").protocol
    assert fp["preprocessing"] == {"resize_mode": "legacy_pytorch"}
    assert compare_protocols(fp, known) == {
        "mismatch": {}, "unverified": ["extractor", "weights_sha256", "output", "precision", "resize_mode"]}


def test_plain_features_are_unverified(stats):
    rng = np.random.default_rng(2)
    r = gm.fid(rng.normal(size=(40, 4)), rng.normal(size=(40, 4)), device="cpu")
    assert r.protocol_mismatch == {} and "extractor" in r.protocol_unverified
    # one side known, the other plain features: nothing to refuse either
    r2 = gm.fid(stats["real", "clean"], rng.normal(size=(40, 24)), device="cpu")
    assert r2.protocol_unverified == ["extractor", "weights_sha256", "output", "precision", "preprocessing"]


def test_fingerprint_reads_any_spec_key():
    a = {"extractor": "x", "spec": {"extractor": "x", "outputs": {"pool": 3}, "weights": "label",
                                    "resize": "TF1 bilinear", "resize_mode": "legacy_tensorflow"}}
    fp = fingerprint(a)
    assert fp["preprocessing"] == {"resize": "TF1 bilinear", "resize_mode": "legacy_tensorflow"}
    assert fingerprint(fp) == fp
    b = {"extractor": "x", "spec": {"resize": "PIL bicubic", "resize_mode": "clean", "new_key": 1}}
    assert protocol_differences(a, b) == ["new_key", "resize", "resize_mode"]
