"""Precision and recall as OpenAI's guided-diffusion evaluator computes them (its ``ManifoldEstimator``).

The ADM evaluator (``evaluations/evaluator.py``) reports the improved
precision and recall of Kynkaanniemi et al. with k = 3 on pool3 features,
through its own copy of the authors' TensorFlow estimator. Its numbers are
*not* those of an exact k-NN computation (:func:`genmetrics_nb.precision_recall`):
pairwise squared distances are computed in **float16**, so radii and
distances are float16 values, close calls are decided on them, and ties are
frequent. This module reproduces that arithmetic step by step, streamed in
bounded memory, so that published ADM precision/recall values can be
compared with numbers computed here.

What the evaluator does (and this module with it)
-------------------------------------------------
``DistanceBlock`` feeds two float32 feature batches ``U`` (rows) and ``V``
(columns) to ``_batch_pairwise_distances`` after ``tf.cast(., tf.float16)``:

1. ``norm_u = reduce_sum(square(U), 1)``, the same for ``V`` (float16);
2. ``D = maximum(norm_u - 2 * matmul(U, V^T) + norm_v, 0)`` (float16, in
   that order: ``(norm_u - 2 m) + norm_v``, each operation rounded to
   float16; not symmetric in ``U`` and ``V``, so rows are always the first
   argument of the evaluator's call);
3. if any entry of the block is not finite (a norm above 65504 overflows),
   the **whole block** is recomputed in float32 from the float32 features
   (``tf.cond``), else it is cast to float32.

Blocks are ``row_batch_size x col_batch_size`` (10,000 x 10,000), which is
therefore also the granularity of the float32 fallback; inside a block this
module works on tiles of rows, so memory stays at a few tiles whatever N.

Radii (``manifold_radii``): for each sample, the value at index ``k`` of its
row of distances to the whole set sorted ascending (``np.partition`` with
``kth = [0, ..., k]``): the row includes the sample itself, so this is the
k-th nearest *other* sample, and duplicates count (a duplicate sits at
distance 0). Radii are squared distances (no square root), float32 holding
float16 values. ``evaluate_pr``: a sample is inside the other set's manifold
when ``distance <= radius`` (float32 comparison, ``<=``: a sample exactly on
a boundary is inside) for at least one ball. Precision is the share of
*sample* (fake) rows inside the *reference* (real) balls; recall the share
of reference rows inside the sample balls.

The two reductions follow TensorFlow's GPU kernels, on which the evaluator
runs: the matrix product is cuBLAS's float16 GEMM with float32 accumulation
(TF's default ``TF_FP16_MATMUL_USE_FP32_COMPUTE=1``), emulated by a float32
product of the float16 values (the products are exact) rounded once to
float16; the row sums of squares are TF's ``Sum`` on ``Eigen::half``,
which accumulates **in float16**: for ``D >= 1024`` through
``cub::DeviceSegmentedReduce`` with 256-thread blocks (thread ``t`` adds
columns ``t, t + 256, ...`` in order, each warp adds its 32 partial sums by
a shuffle tree, then the 8 warp sums are added in order), for ``D < 1024``
by one warp per row (lane ``l`` adds columns ``l, l + 32, ...``, then the
shuffle tree). That order is reproduced exactly for ``D <= 4096`` (one
partial tile of cub's reduction; pool3 has D = 2048); accumulation order
inside the GEMM cannot be, so a distance can differ from the GPU's by one
float16 rounding where the float32 accumulator lands on a rounding
boundary (rare; these are the "float noise" of this estimator). The float32
fallback uses plain float32 sums and products (TF32 off).

``arithmetic="float32"`` computes every block as the fallback does: the
evaluator's geometry without float16 rounding (and, up to float32 round-off,
the exact estimator of :func:`genmetrics_nb.precision_recall` with
``inclusive=True``).

References
----------
.. [1] T. Kynkaanniemi, T. Karras, S. Laine, J. Lehtinen and T. Aila,
   "Improved Precision and Recall Metric for Assessing Generative Models",
   NeurIPS 2019 (``kynkaat/improved-precision-and-recall-metric``,
   ``precision_recall.py``: ``DistanceBlock`` with float16 placeholders).
.. [2] P. Dhariwal and A. Nichol, "Diffusion Models Beat GANs on Image
   Synthesis", NeurIPS 2021; evaluator
   https://github.com/openai/guided-diffusion/blob/main/evaluations/evaluator.py
   (``ManifoldEstimator(row_batch_size=10000, col_batch_size=10000,
   nhood_sizes=(3,), clamp_to_percentile=None, eps=1e-5)``,
   ``DistanceBlock``, ``_batch_pairwise_distances``).
.. [3] TensorFlow, ``core/kernels/reduction_gpu_kernels.cu.h``
   (``LaunchRowReduction``, ``Sum<Eigen::half>``) and
   ``core/util/env_var`` ``TF_FP16_MATMUL_USE_FP32_COMPUTE``; CUB
   ``AgentReduce::ConsumeTile`` (partial tile, block-striped) and
   ``BlockReduceWarpReductions``.
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_choice, check_int, check_same_dim

__all__ = [
    "ARITHMETICS",
    "ManifoldPRResult",
    "half_row_sum_of_squares",
    "manifold_precision_recall",
    "manifold_radii",
    "pairwise_distances",
]

#: ``arithmetic=`` choices: the evaluator's float16 blocks (with float32 fallback), or float32 throughout.
ARITHMETICS = ("float16", "float32")
#: Distances held per tile (float32 elements, 16 MB); a tile is ``2**22 // col_batch_size`` rows.
_TILE_ELEMENTS = 1 << 22


@dataclasses.dataclass(frozen=True)
class ManifoldPRResult(Result):
    """Precision and recall by the ADM evaluator's ``ManifoldEstimator``.

    ``value`` is ``precision`` (``float(result)`` too); read ``recall`` by name.

    Attributes
    ----------
    precision : float
        Share of **fake** (sample) rows within ``<=`` one squared radius of
        some **real** (reference) row.
    recall : float
        Share of **real** rows within ``<=`` one squared radius of some fake row.
    k : int
    n_real, n_fake : int
    arithmetic : str
        ``"float16"`` (the evaluator's) or ``"float32"``.
    fallback_blocks : int
        Blocks recomputed in float32 because a float16 value was not finite
        (0 in float32 arithmetic).
    row_batch_size, col_batch_size : int
        The evaluator's block shape (the granularity of the fallback).
    """

    precision: float
    recall: float
    k: int
    n_real: int
    n_fake: int
    arithmetic: str
    fallback_blocks: int
    row_batch_size: int
    col_batch_size: int

    metric_name: ClassVar[str] = "precision / recall (ADM evaluator)"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("precision", "recall")
    value_field: ClassVar[str] = "precision"
    display_fields: ClassVar[tuple[str, ...]] = ("recall", "k", "arithmetic")

    @property
    def value(self) -> float:
        """The headline number: ``precision``."""
        return self.precision

    def __str__(self) -> str:
        return (f"precision = {self.precision:.4f}, recall = {self.recall:.4f} "
                f"(ADM evaluator estimator, k = {self.k}, {self.arithmetic}; "
                f"n = {self.n_real} real / {self.n_fake} fake)")


# ----------------------------------------------------------------------------
# the arithmetic
# ----------------------------------------------------------------------------
def _round16(x):
    """float32 -> nearest float16 (ties to even; beyond 65504 -> inf), held in float32."""
    import torch

    return x.to(torch.float16).to(torch.float32)


def half_row_sum_of_squares(x16):
    """``reduce_sum(square(x), 1)`` of float16 rows, as TensorFlow's GPU kernels compute it.

    Parameters
    ----------
    x16 : torch.Tensor
        ``N x D`` float32 holding float16 values.

    Returns
    -------
    torch.Tensor
        ``N`` float32 holding float16 values (``inf`` where the sum overflows).

    Notes
    -----
    ``square`` rounds each product to float16; the sum accumulates in
    float16 (``Sum<Eigen::half>``), every addition rounded. Rows of
    ``D >= 1024`` go to ``cub::DeviceSegmentedReduce`` (one 256-thread block
    per row; thread ``t`` adds columns ``t, t + 256, ...`` in order; then a
    shuffle tree over each warp's 32 lanes; then the 8 warp sums in order),
    shorter rows to TF's ``RowReduceKernel`` (one warp per row: lane ``l``
    adds columns ``l, l + 32, ...``; then the shuffle tree). Float32
    operations on float16 values followed by one rounding equal the float16
    operation (24 >= 2 * 11 + 2 bits). Padding with zeros is exact.
    """
    import torch

    sq = _round16(x16 * x16)
    n, d = sq.shape
    threads = 256 if d >= 1024 else 32
    per = -(-d // threads)
    if per * threads != d:
        sq = torch.nn.functional.pad(sq, (0, per * threads - d))
    v = sq.view(n, per, threads)  # v[:, j, t] = column t + threads * j
    acc = v[:, 0]
    for j in range(1, per):
        acc = _round16(acc + v[:, j])
    w = acc.reshape(n, threads // 32, 32)
    while w.shape[-1] > 1:  # lane i += lane i + offset, offset = 1, 2, 4, 8, 16
        w = _round16(w[..., 0::2] + w[..., 1::2])
    w = w[..., 0]
    out = w[:, 0]
    for i in range(1, w.shape[1]):  # BlockReduceWarpReductions: warp aggregates in order
        out = _round16(out + w[:, i])
    return out


class _Set:
    """One feature set, prepared once: float32 values and norms, and their float16 versions."""

    def __init__(self, x, *, arithmetic: str, device):
        import torch

        self.x32 = x.to(device=device, dtype=torch.float32).contiguous()
        self.n = self.x32.shape[0]
        self.n32 = (self.x32 * self.x32).sum(dim=1)
        if arithmetic == "float16":
            self.x16 = self.x32.to(torch.float16)  # tf.cast(features, tf.float16)
            self.n16 = half_row_sum_of_squares(self.x16.float())


def _distances16(u16, nu, v16, nv):
    """``maximum(norm_u - 2 U V^T + norm_v, 0)`` with every step rounded to float16 (float32 out)."""
    import torch

    m = _round16(u16 @ v16.T)  # float16 GEMM, float32 accumulation, one rounding
    two_m = _round16(2.0 * m)  # exact, or inf past 65504 as in float16
    d = _round16(_round16(nu[:, None] - two_m) + nv[None, :])
    return torch.clamp(d, min=0.0)  # NaN stays NaN (and triggers the fallback)


def _distances32(u, nu, v, nv):
    """The evaluator's float32 fallback: ``maximum(norm_u - 2 U V^T + norm_v, 0)`` in float32."""
    import torch

    return torch.clamp((nu[:, None] - 2.0 * (u @ v.T)) + nv[None, :], min=0.0)


def _run_block(rows: _Set, cols: _Set, r0, r1, c0, c1, *, arithmetic, tile, init, consume):
    """Feed the distance tiles of block ``[r0, r1) x [c0, c1)`` to ``consume``, the evaluator's way.

    ``init()`` makes the block's fresh state; ``consume(state, t0, t1, d)``
    folds the tile of rows ``[t0, t1)`` (block-relative) into it. In float16,
    a non-finite tile discards the state and the whole block is redone in
    float32 (TF's ``tf.cond`` over the block). Returns ``(state, fell_back)``.
    """
    import torch

    if arithmetic == "float16":
        state = init()
        v, nv = cols.x16[c0:c1].float(), cols.n16[c0:c1]
        for t0 in range(r0, r1, tile):
            t1 = min(t0 + tile, r1)
            d = _distances16(rows.x16[t0:t1].float(), rows.n16[t0:t1], v, nv)
            if not bool(torch.isfinite(d).all()):
                break
            consume(state, t0 - r0, t1 - r0, d)
        else:
            return state, False
    state = init()
    v, nv = cols.x32[c0:c1], cols.n32[c0:c1]
    for t0 in range(r0, r1, tile):
        t1 = min(t0 + tile, r1)
        consume(state, t0 - r0, t1 - r0, _distances32(rows.x32[t0:t1], rows.n32[t0:t1], v, nv))
    return state, arithmetic == "float16"


def _tile_rows(col_batch_size: int) -> int:
    return max(1, _TILE_ELEMENTS // col_batch_size)


def _radii(s: _Set, *, k, arithmetic, row_batch_size, col_batch_size, bar=None):
    """Squared radii (float32, N) and the number of float32 fallback blocks."""
    import torch

    kk = k + 1
    tile = _tile_rows(col_batch_size)
    out = torch.empty(s.n, dtype=torch.float32, device=s.x32.device)
    fallbacks = 0
    for r0 in range(0, s.n, row_batch_size):
        r1 = min(r0 + row_batch_size, s.n)
        best = torch.full((r1 - r0, kk), math.inf, dtype=torch.float32, device=s.x32.device)
        for c0 in range(0, s.n, col_batch_size):
            c1 = min(c0 + col_batch_size, s.n)

            def init(best=best):
                return best.clone()

            def consume(state, t0, t1, d):
                cand = torch.cat([state[t0:t1], d], dim=1)
                state[t0:t1] = torch.topk(cand, kk, dim=1, largest=False, sorted=True).values

            best, fell = _run_block(s, s, r0, r1, c0, c1, arithmetic=arithmetic, tile=tile,
                                    init=init, consume=consume)
            fallbacks += int(fell)
            if bar is not None:
                bar.update(1)
        out[r0:r1] = best[:, k]  # np.partition(row, [0..k])[k]
    return out, fallbacks


def _check_k(k, n, name):
    if k >= n:
        raise ValueError(
            f"k={k} needs more than k samples in {name} (it has {n}): the radius is entry k of each "
            f"sorted row, which counts the sample itself. Pass k <= {n - 1} or use more samples"
        )


def _prepare(feats, *, name, arithmetic, device):
    x = as_feature_tensor(feats, name=name, min_rows=1)
    return _Set(x, arithmetic=arithmetic, device=device)


def _check_options(k, arithmetic, row_batch_size, col_batch_size):
    k = check_int(k, name="k", minimum=1)
    check_choice(arithmetic, name="arithmetic", choices=ARITHMETICS)
    row_batch_size = check_int(row_batch_size, name="row_batch_size", minimum=1)
    col_batch_size = check_int(col_batch_size, name="col_batch_size", minimum=1)
    return k, row_batch_size, col_batch_size


# ----------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------
def pairwise_distances(u, v, *, arithmetic: str = "float16", device="auto"):
    """The evaluator's ``DistanceBlock.pairwise_distances(U, V)`` for one block.

    Parameters
    ----------
    u, v : array_like or torch.Tensor
        ``n_u x D`` (rows) and ``n_v x D`` (columns) features, used as float32.
    arithmetic : {"float16", "float32"}
    device : str or torch.device

    Returns
    -------
    numpy.ndarray
        ``n_u x n_v`` float32 squared distances: float16 values, or the
        float32 fallback when a float16 value is not finite (the whole block).
        Small inputs only: this holds the whole block.
    """
    import torch

    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.base import precision_context

    check_choice(arithmetic, name="arithmetic", choices=ARITHMETICS)
    dev = resolve(device)
    with torch.no_grad(), precision_context("fp32", dev):
        a = _prepare(u, name="u", arithmetic=arithmetic, device=dev)
        b = _prepare(v, name="v", arithmetic=arithmetic, device=dev)
        check_same_dim(a.x32, b.x32, name_a="u", name_b="v")

        def init():
            return torch.empty(a.n, b.n, dtype=torch.float32, device=dev)

        def consume(state, t0, t1, d):
            state[t0:t1] = d

        d, _ = _run_block(a, b, 0, a.n, 0, b.n, arithmetic=arithmetic, tile=a.n, init=init, consume=consume)
    return d.cpu().numpy()


def manifold_radii(features, *, k: int = 3, arithmetic: str = "float16", row_batch_size: int = 10000,
                   col_batch_size: int = 10000, device="auto", progress: bool = False) -> np.ndarray:
    """The evaluator's ``ManifoldEstimator.manifold_radii``: squared k-NN radii.

    Parameters
    ----------
    features : array_like or torch.Tensor, N x D
        Used as float32 (the evaluator's placeholders).
    k : int
        Neighbourhood size (``nhood_sizes=[3]``).
    arithmetic : {"float16", "float32"}
        ``"float16"``: the evaluator's distances (module docstring).
    row_batch_size, col_batch_size : int
        The evaluator's blocks (10,000 x 10,000): the float32 fallback is
        decided per block. Memory does not depend on them beyond one tile
        of ``2**22`` distances.
    device : str or torch.device
    progress : bool

    Returns
    -------
    numpy.ndarray
        ``N`` float32 *squared* radii: entry ``k`` of each sample's sorted
        row of squared distances to the whole set, itself included.
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.base import precision_context

    k, row_batch_size, col_batch_size = _check_options(k, arithmetic, row_batch_size, col_batch_size)
    dev = resolve(device)
    with torch.no_grad(), precision_context("fp32", dev):
        s = _prepare(features, name="features", arithmetic=arithmetic, device=dev)
        _check_k(k, s.n, "features")
        blocks = math.ceil(s.n / row_batch_size) * math.ceil(s.n / col_batch_size)
        with tqdm(total=blocks, desc="manifold radii", unit="block", disable=not progress, leave=False) as bar:
            r, _ = _radii(s, k=k, arithmetic=arithmetic, row_batch_size=row_batch_size,
                          col_batch_size=col_batch_size, bar=bar)
    return r.cpu().numpy()


def manifold_precision_recall(
    real,
    fake,
    *,
    k: int = 3,
    arithmetic: str = "float16",
    row_batch_size: int = 10000,
    col_batch_size: int = 10000,
    device="auto",
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> ManifoldPRResult:
    """Precision and recall exactly as the ADM (guided-diffusion) evaluator computes them.

    Parameters
    ----------
    real : source
        The **reference** set (the evaluator's ``ref_batch``): images run
        through ``extractor``, or ``N x D`` features.
    fake : source
        The **sample** set, the same way.
    k : int
        Neighbourhood size (3, the evaluator's ``nhood_sizes``).
    arithmetic : {"float16", "float32"}
        ``"float16"`` (default): the evaluator's float16 distances with its
        per-block float32 fallback; ``"float32"``: every block as the fallback.
    row_batch_size, col_batch_size : int
        The evaluator's blocks (10,000 each); they decide where the float32
        fallback applies. Memory is a few tiles of ``2**22`` distances plus
        the features (float32 and float16 copies).
    device : str or torch.device
    extractor : str
        Registered extractor for image sources; the evaluator's is the TF
        FID Inception (``"inception-v3-fid"``, output ``pool``).
    output : str, optional
        Extractor output (default ``pool``).
    batch_size, value_range, cache, progress
        As in :func:`genmetrics_nb.extract_features`.

    Returns
    -------
    ManifoldPRResult
        ``.precision`` (fake rows inside the real manifold), ``.recall``
        (real rows inside the fake manifold), ``.fallback_blocks``.

    Raises
    ------
    ValueError
        ``k`` not below a set's size, features of different dimension, bad options.

    Notes
    -----
    Not :func:`genmetrics_nb.precision_recall`: that one decides every
    comparison as exact arithmetic would (and uses VGG-16 features by
    default, the protocol of the paper and of StyleGAN2-ADA). This one
    reproduces the ADM evaluator's float16 decisions, which is what its
    published precision/recall values are; see the module docstring for
    each step and :func:`genmetrics_nb.suites.adm` for the whole evaluator.

    References
    ----------
    .. [1] Kynkaanniemi et al., NeurIPS 2019; Dhariwal and Nichol, NeurIPS 2021,
       https://github.com/openai/guided-diffusion/blob/main/evaluations/evaluator.py

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(50, 8))
    >>> r = manifold_precision_recall(x, x, progress=False)
    >>> (r.precision, r.recall)
    (1.0, 1.0)
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.base import precision_context

    k, row_batch_size, col_batch_size = _check_options(k, arithmetic, row_batch_size, col_batch_size)
    real, fake, _ = inputs.features_pair(
        real, fake, metric="precision/recall", extractor=extractor, output=output, batch_size=batch_size,
        device=device, value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    dev = resolve(device)
    with torch.no_grad(), precision_context("fp32", dev):
        ref = _prepare(real, name="real", arithmetic=arithmetic, device=dev)
        smp = _prepare(fake, name="fake", arithmetic=arithmetic, device=dev)
        check_same_dim(ref.x32, smp.x32, name_a="real", name_b="fake")
        _check_k(k, ref.n, "real")
        _check_k(k, smp.n, "fake")

        def nb(a, b):
            return math.ceil(a / row_batch_size) * math.ceil(b / col_batch_size)

        total = nb(ref.n, ref.n) + nb(smp.n, smp.n) + nb(ref.n, smp.n)
        opts = dict(k=k, arithmetic=arithmetic, row_batch_size=row_batch_size, col_batch_size=col_batch_size)
        with tqdm(total=total, desc="precision/recall (ADM)", unit="block", disable=not progress,
                  leave=False) as bar:
            r_ref, fb_ref = _radii(ref, bar=bar, **opts)
            r_smp, fb_smp = _radii(smp, bar=bar, **opts)
            ref_in, smp_in, fb_pr = _evaluate_pr(ref, r_ref, smp, r_smp, arithmetic=arithmetic,
                                                 row_batch_size=row_batch_size,
                                                 col_batch_size=col_batch_size, bar=bar)
    return ManifoldPRResult(
        precision=float(smp_in.double().mean()),
        recall=float(ref_in.double().mean()),
        k=k,
        n_real=ref.n,
        n_fake=smp.n,
        arithmetic=arithmetic,
        fallback_blocks=fb_ref + fb_smp + fb_pr,
        row_batch_size=row_batch_size,
        col_batch_size=col_batch_size,
    )


def _evaluate_pr(ref: _Set, r_ref, smp: _Set, r_smp, *, arithmetic, row_batch_size, col_batch_size, bar=None):
    """The evaluator's ``evaluate_pr``: ball memberships, reference rows x sample columns."""
    import torch

    dev = ref.x32.device
    ref_in = torch.zeros(ref.n, dtype=torch.bool, device=dev)
    smp_in = torch.zeros(smp.n, dtype=torch.bool, device=dev)
    tile = _tile_rows(col_batch_size)
    fallbacks = 0
    for r0 in range(0, ref.n, row_batch_size):
        r1 = min(r0 + row_batch_size, ref.n)
        for c0 in range(0, smp.n, col_batch_size):
            c1 = min(c0 + col_batch_size, smp.n)
            rad_s = r_smp[c0:c1][None, :]

            def init(nr=r1 - r0, nc=c1 - c0):
                return (torch.zeros(nr, dtype=torch.bool, device=dev), torch.zeros(nc, dtype=torch.bool, device=dev))

            def consume(state, t0, t1, d, r0=r0, rad_s=rad_s):
                state[0][t0:t1] |= (d <= rad_s).any(dim=1)  # batch_1_in: reference row in a sample ball
                state[1].logical_or_(
                    (d <= r_ref[r0 + t0:r0 + t1][:, None]).any(dim=0))  # batch_2_in: sample in a reference ball

            (a, b), fell = _run_block(ref, smp, r0, r1, c0, c1, arithmetic=arithmetic, tile=tile, init=init,
                                      consume=consume)
            ref_in[r0:r1] |= a
            smp_in[c0:c1] |= b
            fallbacks += int(fell)
            if bar is not None:
                bar.update(1)
    return ref_in, smp_in, fallbacks
