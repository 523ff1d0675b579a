"""The ADM (guided-diffusion) evaluator suite: sFID features, the float16 manifold estimator, IS splits, stored statistics.

Outside references, none of them this package's code:

- the TF tensor ``mixed_6/conv:0`` as the evaluator reads it, ``[..., :7]`` of
  the NHWC map, taken with a forward hook on ``Mixed_6d.branch1x1`` of the
  reference-order network loaded from a random checkpoint in pytorch-fid's
  format (wrong layers, pre-BN / pre-ReLU maps and NCHW order are shown to differ);
- a literal numpy transcription of the evaluator's ``ManifoldEstimator`` and
  ``DistanceBlock`` (float16 casts, ``norm_u - 2 u.v + norm_v``, the per-block
  float32 fallback, ``np.partition``, ``<=``), with TF's half-precision row sum
  written lane by lane as the GPU kernel runs it. Features are multiples of
  1/16 so that every float32 dot product is exact whatever the summation order,
  and float16 rounding is then the only rounding: results must agree exactly;
- the evaluator's Inception Score loop, in float64;
- closed forms: stored reference statistics ``(mu + delta, S)`` of the sample's
  own ``(mu, S)`` give FID = ``|delta|^2`` exactly.
"""
from __future__ import annotations

import functools
import io
import json

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.suites.adm import manifold as mf
from genmetrics_nb.suites.adm.split_inception_score import evaluator_inception_score, float32_softmax
from genmetrics_nb.testing.weights import install_fake_weights

pytestmark = pytest.mark.filterwarnings("ignore::genmetrics_nb.metrics.distribution.frechet.SingularCovarianceWarning")


def _rel(a, b):
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return float((a - b).abs().max() / b.abs().max())


# ----------------------------------------------------------------------------
# fake TF-FID Inception weights (pytorch-fid's format)
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake_env(tmp_path_factory):
    return install_fake_weights(["pt_inception-2015-12-05"], tmp_path_factory.mktemp("fake-weights"))


@pytest.fixture
def fake(fake_env, monkeypatch):
    for k, v in fake_env.items():
        monkeypatch.setenv(k, v)
    return fake_env


@pytest.fixture(scope="module")
def calm_weights(fake_env, tmp_path_factory):
    """The fake checkpoint with Mixed_7c's batch-norm affine scaled down, so pool3 has the real
    network's scale (about 0.4: squared norms far below float16's 65504) and IS logits are moderate."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in fake_env.items():
            mp.setenv(k, v)
        state = torch.load(gm.weights.path("pt_inception-2015-12-05"), map_location="cpu", weights_only=True)
    for key in state:
        if key.startswith("Mixed_7c.") and key.endswith((".bn.weight", ".bn.bias")):
            state[key] = state[key] * 0.005
    path = tmp_path_factory.mktemp("calm") / "pt_inception-calm.pth"
    torch.save(state, path)
    return path


# ----------------------------------------------------------------------------
# (a) the spatial output is TF's mixed_6/conv:0[..., :7], NHWC
# ----------------------------------------------------------------------------
def test_spatial_output_is_mixed_6d_branch1x1_after_relu_in_nhwc_order(fake):
    from genmetrics_nb.extractors.inception_fid import build_extractor

    x = torch.randint(0, 256, (2, 3, 40, 40), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    ext = gm.get_extractor("inception-v3-fid", device="cpu")
    out = ext(x)
    assert ext.dims["spatial"] == 2023 and out["spatial"].shape == (2, 2023)

    plain = build_extractor(device="cpu", fused=False)  # pytorch-fid's modules in their layer order
    model = plain.module
    maps = {}
    for name, mod in [("6d", model.Mixed_6d.branch1x1), ("6d_conv", model.Mixed_6d.branch1x1.conv),
                      ("6d_bn", model.Mixed_6d.branch1x1.bn), ("6c", model.Mixed_6c.branch1x1),
                      ("6e", model.Mixed_6e.branch1x1)]:
        mod.register_forward_hook(lambda m, i, o, name=name: maps.__setitem__(name, o.clone()))  # clone: ReLU is in place
    plain_out = plain(x)  # every output: the whole network runs, and the hooks see it

    def tf_order(fmap):  # spatial = graph["mixed_6/conv:0"] (N x 17 x 17 x C); spatial[..., :7].reshape(N, -1)
        return fmap.permute(0, 2, 3, 1)[..., :7].reshape(fmap.shape[0], -1)

    ref = tf_order(maps["6d"])
    assert ref.shape == (2, 17 * 17 * 7) and float(ref.min()) >= 0  # after the ReLU
    assert _rel(out["spatial"], ref) <= 1e-4  # fused network (batch norm folded) vs reference order
    assert torch.equal(plain_out["spatial"], ref)  # the reference-order forward taps that very module
    alone = ext(x, outputs="spatial")["spatial"]  # stops after Mixed_6d
    assert torch.equal(alone, out["spatial"])
    assert torch.equal(ext(x, outputs="pool")["pool"], out["pool"])
    # every other reading of the evaluator's tensor gives other numbers
    wrong = {
        "NCHW flatten": maps["6d"][:, :7].reshape(2, -1),
        "raw Conv2D (before batch norm)": tf_order(maps["6d_conv"]),
        "before the ReLU": tf_order(maps["6d_bn"]),
        "Mixed_6c (TF mixed_5)": tf_order(maps["6c"]),
        "Mixed_6e (TF mixed_7)": tf_order(maps["6e"]),
        "channels 7..13": maps["6d"].permute(0, 2, 3, 1)[..., 7:14].reshape(2, -1),
    }
    for what, w in wrong.items():
        assert _rel(w, ref) > 0.05, what


# ----------------------------------------------------------------------------
# (b) the manifold estimator against a literal transcription of the evaluator
# ----------------------------------------------------------------------------
def _tf_half_row_sums(x16):
    """TF's GPU reduce_sum(square(x), 1) on float16, lane by lane (cub block reduce / warp row reduce)."""
    n, d = x16.shape
    with np.errstate(over="ignore"):
        return _tf_half_row_sums_inner(x16, n, d)


def _tf_half_row_sums_inner(x16, n, d):
    sq = x16 * x16
    threads = 256 if d >= 1024 else 32
    out = np.empty(n, np.float16)
    for r in range(n):
        part = []
        for t in range(threads):  # thread t: columns t, t + threads, ... in order
            cols = range(t, d, threads)
            acc = np.float16(0)
            for j, c in enumerate(cols):
                acc = sq[r, c] if j == 0 else np.float16(acc + sq[r, c])
            part.append(acc)
        warps = []
        for w in range(threads // 32):  # shuffle-down tree: lane i += lane i + offset
            lanes = part[32 * w:32 * w + 32]
            for off in (1, 2, 4, 8, 16):
                lanes = [np.float16(lanes[i] + lanes[i + off]) if i + off < 32 else lanes[i] for i in range(32)]
            warps.append(lanes[0])
        acc = warps[0]
        for v in warps[1:]:  # warp aggregates in order
            acc = np.float16(acc + v)
        out[r] = acc
    return out


class _DistanceBlock:
    """evaluator.DistanceBlock in numpy (float16 graph, float32 fallback per block)."""

    def __init__(self, arithmetic):
        self.arithmetic = arithmetic

    def pairwise_distances(self, u, v):
        if self.arithmetic == "float16":
            u16, v16 = u.astype(np.float16), v.astype(np.float16)
            norm_u = _tf_half_row_sums(u16).reshape(-1, 1)
            norm_v = _tf_half_row_sums(v16).reshape(1, -1)
            with np.errstate(over="ignore", invalid="ignore"):
                uv = (u16.astype(np.float32) @ v16.astype(np.float32).T).astype(np.float16)  # fp32-accumulated GEMM
                d = np.maximum(norm_u - np.float16(2) * uv + norm_v, np.float16(0))
            if np.all(np.isfinite(d)):
                return d.astype(np.float32)
        u, v = u.astype(np.float32), v.astype(np.float32)
        norm_u = np.sum(np.square(u), 1).reshape(-1, 1)
        norm_v = np.sum(np.square(v), 1).reshape(1, -1)
        return np.maximum(norm_u - 2 * np.matmul(u, v.T) + norm_v, np.float32(0))

    def less_thans(self, b1, r1, b2, r2, cmp):
        d = self.pairwise_distances(b1, b2)[..., None]
        return np.any(cmp(d, r2), axis=1), np.any(cmp(d, r1[:, None]), axis=0)


def _evaluator_pr(ref, smp, *, rows, cols, arithmetic="float16", k=3, cmp=np.less_equal):
    """evaluator.ManifoldEstimator.manifold_radii + evaluate_pr (nhood_sizes=[k]); returns (p, r, radii)."""
    block = _DistanceBlock(arithmetic)

    def radii_of(f):
        n = len(f)
        radii = np.zeros([n, 1], dtype=np.float32)
        batch = np.zeros([rows, n], dtype=np.float32)
        for b1 in range(0, n, rows):
            e1 = min(b1 + rows, n)
            for b2 in range(0, n, cols):
                e2 = min(b2 + cols, n)
                batch[0:e1 - b1, b2:e2] = block.pairwise_distances(f[b1:e1], f[b2:e2])
            radii[b1:e1, :] = np.partition(batch[0:e1 - b1, :], np.arange(k + 1), axis=1)[:, [k]]
        return radii

    r1, r2 = radii_of(ref), radii_of(smp)
    s1 = np.zeros([len(ref), 1], dtype=bool)
    s2 = np.zeros([len(smp), 1], dtype=bool)
    for b1 in range(0, len(ref), rows):
        for b2 in range(0, len(smp), cols):
            a, b = block.less_thans(ref[b1:b1 + rows], r1[b1:b1 + rows], smp[b2:b2 + cols], r2[b2:b2 + cols], cmp)
            s1[b1:b1 + rows] |= a
            s2[b2:b2 + cols] |= b
    return float(np.mean(s2.astype(np.float64))), float(np.mean(s1.astype(np.float64))), r1[:, 0], r2[:, 0]


def _pool_like(rng, n, d, shift=0.0):
    """Non-negative pool3-like features on a 1/16 grid (float32 dot products exact in any order)."""
    x = np.abs(rng.normal(0.45 + shift, 0.5, size=(n, d))) * rng.uniform(0.7, 1.3, size=(n, 1))
    return (np.round(x * 16) / 16).astype(np.float32)


@pytest.mark.reference
@pytest.mark.parametrize("d", [2048, 1500, 100, 5])
def test_half_row_sum_follows_tf_gpu_kernel_order(d):
    rng = np.random.default_rng(d)
    x16 = _pool_like(rng, 4, d).astype(np.float16)
    ours = mf.half_row_sum_of_squares(torch.from_numpy(x16).float()).numpy()
    assert np.array_equal(ours, _tf_half_row_sums(x16).astype(np.float32))
    if d == 2048:  # the order matters: one float16 rounding of the float32 sum is another number
        once = (x16.astype(np.float32) ** 2).sum(1).astype(np.float16).astype(np.float32)
        assert not np.array_equal(ours, once)


@pytest.mark.reference
@pytest.mark.parametrize("arithmetic", ["float16", "float32"])
def test_manifold_estimator_matches_evaluator(arithmetic):
    rng = np.random.default_rng(1)
    ref, smp = _pool_like(rng, 70, 64), _pool_like(rng, 90, 64, shift=0.05)
    opts = dict(row_batch_size=16, col_batch_size=24)
    p, r, r_ref, r_smp = _evaluator_pr(ref, smp, rows=16, cols=24, arithmetic=arithmetic)
    res = mf.manifold_precision_recall(ref, smp, arithmetic=arithmetic, device="cpu", progress=False, **opts)
    assert (res.precision, res.recall) == (p, r)
    assert res.fallback_blocks == 0 and 0 < p < 1 and 0 < r < 1
    assert np.array_equal(mf.manifold_radii(ref, arithmetic=arithmetic, device="cpu", **opts), r_ref)
    assert np.array_equal(mf.manifold_radii(smp, arithmetic=arithmetic, device="cpu", **opts), r_smp)
    if arithmetic == "float16":  # float16 distances are not float32's (or this test could not fail)
        assert not np.array_equal(r_ref, _evaluator_pr(ref, smp, rows=16, cols=24, arithmetic="float32")[2])


@pytest.mark.reference
def test_manifold_estimator_realistic_width_matches_evaluator():
    rng = np.random.default_rng(2)
    ref, smp = _pool_like(rng, 30, 2048), _pool_like(rng, 36, 2048, shift=0.02)
    p, r, r_ref, _ = _evaluator_pr(ref, smp, rows=16, cols=24)
    res = mf.manifold_precision_recall(ref, smp, row_batch_size=16, col_batch_size=24, device="cpu", progress=False)
    assert (res.precision, res.recall) == (p, r)
    assert np.array_equal(mf.manifold_radii(ref, row_batch_size=16, col_batch_size=24, device="cpu"), r_ref)


@pytest.mark.reference
def test_float16_overflow_falls_back_to_float32_per_block():
    rng = np.random.default_rng(3)
    ref, smp = _pool_like(rng, 48, 64), _pool_like(rng, 60, 64)
    ref[:5] *= 64  # squared norms above 65504: those rows' blocks overflow float16 (inf - inf = nan)
    smp[50:] *= 64
    p, r, _, _ = _evaluator_pr(ref, smp, rows=16, cols=24)
    res = mf.manifold_precision_recall(ref, smp, row_batch_size=16, col_batch_size=24, device="cpu", progress=False)
    assert (res.precision, res.recall) == (p, r)
    blocks = 3 * 2 + 3 * 3 + 3 * 3  # ref radii, sample radii, cross
    assert 0 < res.fallback_blocks < blocks


@pytest.mark.reference
def test_ties_and_duplicates_follow_the_evaluator():
    """Integer lattice features: every distance exact, many ties on the radii, duplicated rows."""
    rng = np.random.default_rng(4)
    ref = rng.integers(0, 3, size=(40, 6)).astype(np.float32)
    smp = rng.integers(0, 3, size=(50, 6)).astype(np.float32)
    ref[30:36] = ref[0]  # duplicates: a ball of radius 0 counts them
    smp[:8] = ref[:8]
    p, r, r_ref, _ = _evaluator_pr(ref, smp, rows=16, cols=24)
    res = mf.manifold_precision_recall(ref, smp, row_batch_size=16, col_batch_size=24, device="cpu", progress=False)
    assert (res.precision, res.recall) == (p, r)
    assert np.array_equal(mf.manifold_radii(ref, row_batch_size=16, col_batch_size=24, device="cpu"), r_ref)
    assert r_ref[0] == 0.0  # the sample, its duplicates: entry 3 of the sorted row is 0
    strict = _evaluator_pr(ref, smp, rows=16, cols=24, cmp=np.less)
    assert (strict[0], strict[1]) != (p, r)  # "<" instead of "<=" changes the answer here


def test_manifold_bad_input():
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="k=3 needs more than k samples"):
        mf.manifold_radii(x)
    with pytest.raises(ValueError, match="arithmetic must be one of"):
        mf.manifold_precision_recall(np.ones((5, 2)), np.ones((5, 2)), arithmetic="bfloat16")
    with pytest.raises(ValueError, match="real has 2 features per sample but fake has 3"):
        mf.manifold_precision_recall(np.ones((5, 2)), np.ones((5, 3)), progress=False)


# ----------------------------------------------------------------------------
# (c) Inception Score: the evaluator's splits
# ----------------------------------------------------------------------------
def _evaluator_is64(p, split_size):
    scores = []
    for i in range(0, len(p), split_size):  # evaluator: range(0, len(preds), split_size)
        part = p[i:i + split_size].astype(np.float64)
        py = part.mean(0, keepdims=True)
        scores.append(np.exp(np.mean(np.sum(part * (np.log(part) - np.log(py)), 1))))
    return float(np.mean(scores)), scores


@pytest.mark.reference
def test_inception_score_uses_the_evaluators_splits():
    from scipy.special import softmax

    logits = np.random.default_rng(5).normal(0, 2.0, size=(23, 10)).astype(np.float32)
    probs = float32_softmax(logits)
    assert probs.dtype == np.float32 and np.allclose(probs, softmax(logits.astype(np.float64), axis=1), rtol=1e-6)
    value, scores = evaluator_inception_score(probs, split_size=5)
    expected, exp_scores = _evaluator_is64(probs, 5)
    assert len(scores) == 5 and np.allclose(scores, exp_scores, rtol=1e-5)  # 4 splits of 5, one of 3
    assert value == pytest.approx(expected, rel=1e-5)
    assert value != pytest.approx(float(np.mean(exp_scores[:4])), rel=1e-4)  # the partial split counts
    assert value != pytest.approx(gm.inception_score(logits, splits=5).value, rel=1e-4)  # not equal chunks


def test_inception_score_underflow_is_nan_as_the_evaluator():
    logits = np.array([[0.0, 200.0, 0.0], [200.0, 0.0, 0.0]], np.float32)
    with pytest.warns(RuntimeWarning, match="exactly 0"):
        value, _ = evaluator_inception_score(float32_softmax(logits), split_size=5)
    assert np.isnan(value)


# ----------------------------------------------------------------------------
# (d) the suite: stored statistics are reused, everything else as the evaluator
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def batches(fake_env, calm_weights, tmp_path_factory):
    """ADM-format batches (uint8 NHWC arr_0), the sample's features, and stored statistics
    ``(mu + delta, S)`` built from the sample's own ``(mu, S)``."""
    from genmetrics_nb.image_sets import ArrayFileImages

    folder = tmp_path_factory.mktemp("adm-batches")
    rng = np.random.default_rng(6)
    ref_imgs = rng.integers(0, 256, size=(5, 28, 28, 3), dtype=np.uint8)
    smp_imgs = rng.integers(0, 256, size=(7, 32, 32, 3), dtype=np.uint8)
    np.savez(folder / "sample.npz", smp_imgs, np.arange(7))  # arr_1: labels, as ADM's samples
    cache = folder / "cache"  # the features are extracted once: the suite's calls read them from here
    opts = dict(weights=calm_weights, device="cpu", cache=cache, progress=False)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in fake_env.items():
            mp.setenv(k, v)
        f_smp = gm.extract_features(ArrayFileImages(folder / "sample.npz", key="arr_0"), "inception-v3-fid",
                                    outputs=("pool", "logits_unbiased", "spatial"), **opts)
        f_smp = {k: np.asarray(v, np.float64) for k, v in f_smp.items()}
        delta = rng.normal(0, 1.0, size=2048)
        delta_s = rng.normal(0, 1.0, size=2023)
        stored = dict(mu=(f_smp["pool"].mean(0) + delta).astype(np.float32),
                      sigma=np.cov(f_smp["pool"], rowvar=False),
                      mu_s=(f_smp["spatial"].mean(0) + delta_s).astype(np.float32),
                      sigma_s=np.cov(f_smp["spatial"], rowvar=False))
        np.savez(folder / "ref.npz", ref_imgs, **stored)
        np.savez(folder / "same_as_sample_with_stats.npz", smp_imgs, **stored)
        f_ref = gm.extract_features(ArrayFileImages(folder / "ref.npz", key="arr_0"), "inception-v3-fid",
                                    outputs=("pool",), **opts)
        f_ref = {k: np.asarray(v, np.float64) for k, v in f_ref.items()}
    w = torch.load(calm_weights, map_location="cpu", weights_only=True)["fc.weight"].double().numpy()  # 1008 x 2048
    np.savez(folder / "ref_partial.npz", ref_imgs, mu=stored["mu"], sigma=stored["sigma"])
    return dict(folder=folder, cache=cache, f_smp=f_smp, f_ref=f_ref, w=w, stored=stored,
                delta2=float(np.sum((stored["mu"] - f_smp["pool"].mean(0)) ** 2)),
                delta2_s=float(np.sum((stored["mu_s"] - f_smp["spatial"].mean(0)) ** 2)))


@pytest.mark.reference
def test_adm_suite_reuses_stored_statistics_and_matches_the_evaluator(fake, batches, calm_weights):
    b = batches
    res = gm.suites.adm(b["folder"] / "ref.npz", b["folder"] / "sample.npz", split_size=4, weights=calm_weights,
                        device="cpu", cache=b["cache"], progress=False)
    # FID/sFID against (mu + delta, S) of the sample's own (mu, S): |delta|^2 exactly (the images' stats would not)
    assert res.fid == pytest.approx(b["delta2"], rel=1e-6)
    assert res.sfid == pytest.approx(b["delta2_s"], rel=1e-6)
    assert res.protocol["reference_batch"]["statistics"].startswith("stored")
    assert res.protocol["reference_batch"]["outputs"] == ["pool"]  # no spatial features needed
    # IS: softmax(pool3 @ W) without bias, splits of 4 (the last one partial)
    logits = b["f_smp"]["pool"] @ b["w"].T
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    expected, _ = _evaluator_is64(probs, 4)
    assert res.inception_score == pytest.approx(expected, rel=1e-4)
    assert res.protocol["inception_score"]["splits"] == 2 and res.protocol["inception_score"]["last_split_size"] == 3
    # precision/recall: the evaluator's estimator on both batches' pool3
    p, r, _, _ = _evaluator_pr(b["f_ref"]["pool"].astype(np.float32), b["f_smp"]["pool"].astype(np.float32),
                               rows=10000, cols=10000)
    assert (res.precision, res.recall) == (p, r)
    assert res.protocol["precision_recall"]["fallback_blocks"] == 0  # real-scale features stay in float16
    assert (res.n_reference, res.n_sample) == (5, 7) and float(res) == res.fid
    assert res.protocol["extractor"] == "inception-v3-fid" and "spatial" in res.protocol["preprocessing"]
    json.dumps(res.to_dict())


@pytest.mark.reference
@pytest.mark.slow  # two more 2048 x 2048 eigendecompositions; the sample side already takes this path above
def test_adm_suite_recomputes_statistics_from_arr_0_when_asked(fake, batches, calm_weights):
    path = batches["folder"] / "same_as_sample_with_stats.npz"  # arr_0 = the sample's images
    res = gm.suites.adm(path, batches["folder"] / "sample.npz", split_size=4, weights=calm_weights,
                        use_stored_statistics=False, device="cpu", cache=batches["cache"], progress=False)
    scale = float(np.trace(batches["stored"]["sigma"]))
    assert abs(res.fid) <= 1e-6 * scale and abs(res.sfid) <= 1e-6 * float(np.trace(batches["stored"]["sigma_s"]))
    assert res.protocol["reference_batch"]["statistics"].startswith("computed from arr_0")
    assert (res.precision, res.recall) == (1.0, 1.0)


def test_adm_suite_bad_batches(fake, batches, tmp_path):
    f = batches["folder"]
    with pytest.raises(ValueError, match="holds mu, sigma but not mu_s, sigma_s"):
        gm.suites.adm(f / "ref_partial.npz", f / "sample.npz", progress=False)
    np.savez(tmp_path / "stats_only.npz", mu=np.zeros(3), sigma=np.eye(3))
    with pytest.raises(ValueError, match="no arr_0"):
        gm.suites.adm(tmp_path / "stats_only.npz", f / "sample.npz", progress=False)
    with pytest.raises(ValueError, match="reference_batch=.*is not an .npz file"):
        gm.suites.adm(tmp_path / "x.png", f / "sample.npz", progress=False)
    with pytest.raises(TypeError, match="reference_batch must be the path of an .npz batch"):
        gm.suites.adm(np.zeros((4, 8, 8, 3), np.uint8), f / "sample.npz", progress=False)
    np.savez(tmp_path / "bad_mu_s.npz", np.zeros((5, 8, 8, 3), np.uint8), mu=np.zeros(2048), sigma=np.eye(2048),
             mu_s=np.zeros(7), sigma_s=np.eye(7))
    with pytest.raises(ValueError, match="mu_s has shape \\(7,\\).*2023"):
        gm.suites.adm(tmp_path / "bad_mu_s.npz", f / "sample.npz", progress=False)
    with pytest.raises(ValueError, match="split_size must be"):
        gm.suites.adm(f / "ref.npz", f / "sample.npz", split_size=0, progress=False)
    np.savez(tmp_path / "tiny.npz", np.zeros((3, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="has 3 images; precision/recall with k=3 needs more than k"):
        gm.suites.adm(tmp_path / "tiny.npz", f / "sample.npz", progress=False)


# ----------------------------------------------------------------------------
# gm.sfid
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_sfid_uses_a_reference_batchs_mu_s(batches):
    feats = batches["f_smp"]["spatial"]
    res = gm.sfid(batches["folder"] / "ref.npz", feats, progress=False)
    assert res.value == pytest.approx(batches["delta2_s"], rel=1e-6)  # (mu_s, sigma_s) = (mu + delta, S)
    assert res.name == "sFID" and str(res).startswith("sFID = ") and res.to_dict()["name"] == "sFID"
    with pytest.raises(ValueError, match="real has D = 2048 features, but sFID's are 2023"):
        gm.sfid(batches["f_smp"]["pool"], feats, progress=False)
    stats = gm.FeatureStats.from_features(batches["f_smp"]["pool"])
    stats.save(batches["folder"] / "pool_stats.npz")
    with pytest.raises(ValueError, match="pool3 statistics give FID, not sFID"):
        gm.sfid(batches["folder"] / "pool_stats.npz", feats, progress=False)


# ----------------------------------------------------------------------------
# CLI: the evaluator's own output lines
# ----------------------------------------------------------------------------
def test_cli_prints_the_evaluators_lines(monkeypatch, capsys):
    from genmetrics_nb.cli import main
    from genmetrics_nb.suites.adm import evaluator as adm_evaluator

    scores = [np.float32(215.8), np.float32(215.87407)]
    res = adm_evaluator.ADMResult(
        inception_score=float(np.mean(scores)), fid=3.9425574129223264, sfid=6.140433703346162,
        precision=0.8265, recall=0.5309, n_reference=10000, n_sample=50000, protocol={"k": 3})
    seen = {}

    @functools.wraps(adm_evaluator.adm)  # the CLI takes its defaults from the signature
    def fake_adm(ref, smp, **kw):
        seen.update(ref=ref, smp=smp, **kw)
        return res

    monkeypatch.setattr(adm_evaluator, "adm", fake_adm)
    assert main(["adm", "REF.npz", "SAMPLE.npz", "--split-size", "4", "--device", "cpu"]) == 0
    expected = io.StringIO()  # what evaluator.py's main() prints for the same values
    print("Inception Score:", float(np.mean(scores)), file=expected)
    print("FID:", np.float64(3.9425574129223264), file=expected)
    print("sFID:", np.float64(6.140433703346162), file=expected)
    print("Precision:", float(np.mean(np.array([1.0] * 8265 + [0.0] * 1735))), file=expected)
    print("Recall:", 0.5309, file=expected)
    assert capsys.readouterr().out == expected.getvalue()
    assert "FID: 3.9425574129223264\nsFID: 6.140433703346162\n" in expected.getvalue()
    assert seen["split_size"] == 4 and seen["use_stored_statistics"] is True and seen["arithmetic"] == "float16"
    assert main(["adm", "REF.npz", "SAMPLE.npz", "--json", "--recompute-statistics"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fid"] == out["value"] == 3.9425574129223264 and seen["use_stored_statistics"] is False
    from genmetrics_nb.cli import build_parser

    assert "adm" in build_parser().format_help()


def test_the_suite_stays_callable_as_gm_suites_adm():
    # importing the package's modules makes the package the `adm` attribute of gm.suites: it must still run the suite
    import genmetrics_nb.suites.adm.manifold  # noqa: F401
    from genmetrics_nb.suites.adm.evaluator import ADMResult

    assert callable(gm.suites.adm) and gm.suites.ADMResult is ADMResult
    with pytest.raises(TypeError, match="reference_batch must be the path of an .npz batch"):
        gm.suites.adm(np.zeros((4, 8, 8, 3), np.uint8), "sample.npz", progress=False)
