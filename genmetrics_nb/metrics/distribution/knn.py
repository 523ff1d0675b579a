"""k-nearest-neighbour manifold metrics: precision/recall and density/coverage.

Both families compare two feature sets through balls around each sample
whose radius is the distance to its k-th nearest neighbour in its own set.
This module computes the radii and the ball memberships in tiles of
``block_size x block_size`` distances, on the CPU or a GPU, so that nothing
``N x N`` is ever held: at N = 50,000 and D = 2048 the working memory is a
float32 copy of each feature set (400 MB each) plus a few tiles.

Exact and fast
--------------
Distances are computed in float32 with one matrix product per tile (the
fast path), after shifting both sets by the real mean. Each float32
squared distance ``c`` between ``a`` and ``b`` comes with a rigorous bound
on its error, ``kappa * (|a|^2 + |b|^2)`` with ``kappa = 4 (gamma_D + 8u)``:
Higham's ``gamma_D = D u / (1 - D u)`` for a length-D dot product, a few
``u`` for the rounding of the shift and of the norms, and a safety factor
of 2. A comparison with a radius is decided from float32 only when it holds
outside that margin; the rare pairs inside it, and the candidates for each
k-th neighbour, are recomputed in float64 from the original features (by
differences, not by the norm expansion). The decisions are therefore those
of a float64 computation, not of float32 round-off, at close to float32
speed; ``tests/metrics/distribution/test_knn.py`` places samples at a radius times (1 +- 2e-7)
to check it, and lattice data with exact ties and duplicated points check
it against an exact integer oracle. Radii are found in one pass over the
upper-triangular tiles of each set (distances are symmetric). If the
float32 matrix product is allowed to use TF32 or bfloat16
(``torch.set_float32_matmul_precision``),
the bound widens accordingly, and when it would be too loose the tiles are
computed in float64 instead.
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int, check_same_dim

__all__ = [
    "DensityCoverageResult",
    "PrecisionRecallResult",
    "density_coverage",
    "knn_radii",
    "precision_recall",
    "unit_roundoff",
]


# ----------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PrecisionRecallResult(Result):
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    ``value`` is ``precision``, the first of the two headline numbers
    (``float(result)`` too); read ``recall`` by name.

    Attributes
    ----------
    precision : float
        Share of **fake** samples inside the union of the **real** k-NN balls
        (fidelity: are generated images realistic?).
    recall : float
        Share of **real** samples inside the union of the **fake** k-NN balls
        (diversity: is the real distribution covered?).
    k : int
    n_real, n_fake : int
    """

    precision: float
    recall: float
    k: int
    n_real: int
    n_fake: int

    metric_name: ClassVar[str] = "precision / recall"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("precision", "recall")
    value_field: ClassVar[str] = "precision"
    display_fields: ClassVar[tuple[str, ...]] = ("recall", "k")

    @property
    def value(self) -> float:
        """The headline number: ``precision``."""
        return self.precision

    @property
    def f_score(self) -> float:
        """Harmonic mean of precision and recall (0 when both are 0)."""
        s = self.precision + self.recall
        return 2 * self.precision * self.recall / s if s > 0 else 0.0

    def __str__(self) -> str:
        return (f"precision = {self.precision:.4f}, recall = {self.recall:.4f} "
                f"(k = {self.k}; n = {self.n_real} real / {self.n_fake} fake)")


@dataclasses.dataclass(frozen=True)
class DensityCoverageResult(Result):
    """Density and coverage (Naeem et al. 2020).

    ``value`` is ``density``, the first of the two headline numbers
    (``float(result)`` too); read ``coverage`` by name.

    Attributes
    ----------
    density : float
        ``1/(k M) sum_fake #{real balls containing the fake sample}``; about 1
        when the two sets match, above 1 when fakes crowd dense real regions.
    coverage : float
        Share of **real** samples whose own k-NN ball contains at least one
        fake sample.
    k : int
    n_real, n_fake : int
    """

    density: float
    coverage: float
    k: int
    n_real: int
    n_fake: int

    metric_name: ClassVar[str] = "density / coverage"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("density", "coverage")
    value_field: ClassVar[str] = "density"
    display_fields: ClassVar[tuple[str, ...]] = ("coverage", "k")

    @property
    def value(self) -> float:
        """The headline number: ``density``."""
        return self.density

    def __str__(self) -> str:
        return (f"density = {self.density:.4f}, coverage = {self.coverage:.4f} "
                f"(k = {self.k}; n = {self.n_real} real / {self.n_fake} fake)")


# ----------------------------------------------------------------------------
# preparation: centred low-precision copies with error bounds
# ----------------------------------------------------------------------------
def unit_roundoff(dtype, device) -> float:
    """Unit round-off of a matrix product in ``dtype`` on ``device``."""
    import torch

    if dtype == torch.float64:
        return 2.0**-53
    u = 2.0**-24
    prec = torch.get_float32_matmul_precision()
    tf32 = False
    if device.type == "cuda":
        tf32 = bool(getattr(torch.backends.cuda.matmul, "allow_tf32", False))
    if prec == "medium":
        u = 2.0**-8  # bfloat16 products allowed
    elif prec == "high" or tf32:
        u = 2.0**-11  # TF32 products allowed
    return u


class _Prepared:
    """One feature set: originals (for exact float64) and a centred fast copy."""

    def __init__(self, orig, center, *, dtype, device, block_size):
        import torch

        self.orig = orig
        self.n, self.d = orig.shape
        self.device = device
        # Any common shift leaves distances unchanged, so the shift is the centre rounded
        # to the working dtype; then each centred entry carries one rounding (relative u).
        shift = center.to(dtype)
        self.c = torch.empty((self.n, self.d), dtype=dtype, device=device)
        sq = torch.empty(self.n, dtype=torch.float64, device=device)
        for s in range(0, self.n, block_size):
            blk = orig[s:s + block_size].to(device=device)
            if blk.dtype == dtype:
                low = blk - shift
            else:
                low = (blk.to(torch.float64) - shift.to(torch.float64)).to(dtype)
            self.c[s:s + block_size] = low
            sq[s:s + block_size] = (low * low).sum(1, dtype=torch.float64)
        self.sq = sq.to(dtype)

    def rows64(self, idx):
        """Original rows ``idx`` (a tensor on ``self.device``) as float64 on the device."""
        import torch

        return self.orig[idx.to(self.orig.device)].to(device=self.device, dtype=torch.float64)


class _Engine:
    def __init__(self, sets, *, device, block_size, progress):
        import torch

        from genmetrics_nb.device import resolve

        self.device = resolve(device)
        self.block_size = block_size
        self.progress = progress
        d = sets[0].shape[1]
        dtype = torch.float32
        u = unit_roundoff(dtype, self.device)
        if d * u > 0.01:  # the float32 bound would be too loose to decide anything
            dtype = torch.float64
            u = unit_roundoff(dtype, self.device)
        self.dtype = dtype
        gamma = d * u / (1.0 - d * u)
        # |c - d^2| <= (gamma_D + 5u)(|a| + |b|)^2 (see module docstring); x2 for safety.
        self.tolc = 2.0 * (gamma + 8.0 * u)
        self.kappa = 2.0 * self.tolc  # bound in terms of |a|^2 + |b|^2 (see tile)
        self.u = u
        # centre on the mean of the first set (the real one), in float64, in blocks
        ref = sets[0]
        total = torch.zeros(d, dtype=torch.float64, device=self.device)
        for s in range(0, ref.shape[0], block_size):
            total += ref[s:s + block_size].to(device=self.device).sum(0, dtype=torch.float64)
        self.center = total / ref.shape[0]
        self.sets = [_Prepared(x, self.center, dtype=dtype, device=self.device,
                               block_size=block_size) for x in sets]
        self.refined_pairs = 0
        self.fallback_rows = 0

    # -- tiles ---------------------------------------------------------------
    def tile(self, a: _Prepared, ra: slice, b: _Prepared, rb: slice):
        """Squared distances ``c`` of rows ``ra`` of a to rows ``rb`` of b, and their error scale.

        Returns ``(c, s)`` with ``s = |a_i|^2 + |b_j|^2``: the true squared
        distance lies within ``c -+ kappa * s`` (``kappa = 2 * tolc``, since
        ``(|a| + |b|)^2 <= 2 (|a|^2 + |b|^2)``).
        """
        import torch

        s = a.sq[ra, None] + b.sq[None, rb]
        c = torch.addmm(s, a.c[ra], b.c[rb].T, alpha=-2.0)
        c.clamp_(min=0)
        return c, s

    def exact(self, a: _Prepared, ia, b: _Prepared, ib):
        """float64 squared distances of pairs (a[ia[m]], b[ib[m]]), by differences."""
        import torch

        out = torch.empty(ia.shape[0], dtype=torch.float64, device=self.device)
        chunk = max(1, (1 << 22) // a.d)
        for s in range(0, ia.shape[0], chunk):
            diff = a.rows64(ia[s:s + chunk]) - b.rows64(ib[s:s + chunk])
            out[s:s + chunk] = (diff * diff).sum(1)
        self.refined_pairs += int(ia.shape[0])
        return out

    def blocks(self, n):
        return [slice(s, min(s + self.block_size, n)) for s in range(0, n, self.block_size)]

    # -- radii -----------------------------------------------------------------
    def radii2(self, a: _Prepared, k: int, bar=None):
        """Exact squared distance of each row of ``a`` to its k-th nearest other row.

        One pass over the upper-triangular tiles keeps, per row, the ``keep``
        smallest float squared distances and their columns. Their error
        bounds then give ``U*``, an upper bound of the true (k+1)-th smallest
        squared distance (the row itself counts, at 0), and the candidates:
        kept entries whose lower bound is <= ``U*``. Every entry that can be
        the (k+1)-th is among them unless the row was truncated: it has more
        near-ties than were kept (exact ties, duplicated points); such rows
        get a second blocked pass (``_radii2_rows_exact``). Candidates are
        recomputed exactly; when the farthest candidate is unambiguous, only
        its distance is needed.
        """
        import torch

        n, dev, kappa = a.n, self.device, self.kappa
        kk = k + 1  # the row itself is its own nearest neighbour, at distance 0
        keep = min(n, kk + max(8, 2 * kk))
        inf = float("inf")
        c_best = torch.full((n, keep), inf, dtype=self.dtype, device=dev)
        c_idx = torch.full((n, keep), -1, dtype=torch.long, device=dev)

        def update(rows: slice, c, col0: int):
            # reduce the tile to its own top-k first, so that merges touch small arrays only
            tv, tp = torch.topk(c, min(keep, c.shape[1]), dim=1, largest=False, sorted=False)
            mv = torch.cat([c_best[rows], tv], dim=1)
            mi = torch.cat([c_idx[rows], tp + col0], dim=1)
            v, pos = torch.topk(mv, keep, dim=1, largest=False, sorted=True)
            c_best[rows] = v
            c_idx[rows] = torch.gather(mi, 1, pos)

        blocks = self.blocks(n)
        for i, bi in enumerate(blocks):
            for bj in blocks[i:]:
                c, _ = self.tile(a, bi, a, bj)
                update(bi, c, bj.start)
                if bj.start != bi.start:
                    update(bj, c.T, bi.start)
                if bar is not None:
                    bar.update(1)
        valid = c_idx >= 0
        scale = a.sq[:, None] + a.sq[c_idx.clamp(min=0)]
        lo = torch.where(valid, c_best - kappa * scale, inf)
        hi = torch.where(valid, c_best + kappa * scale, inf)
        u_star = torch.kthvalue(hi, kk, dim=1).values  # >= the true kk-th smallest
        cand = valid & (lo <= u_star[:, None])
        if keep < n:  # an entry not kept has c >= c_best[:, -1]: could it still be a candidate?
            floor = c_best[:, -1] - kappa * (a.sq + a.sq.max())
            truncated = floor <= u_star
        else:
            truncated = torch.zeros(n, dtype=torch.bool, device=dev)
        # Usual case: exactly kk candidates, and the one with the largest lower bound is
        # certainly the farthest of them; then only its distance needs computing.
        lo_c = torch.where(cand, lo, -inf)
        far = lo_c.argmax(dim=1)
        hi_o = torch.where(cand, hi, -inf)
        hi_o[torch.arange(n, device=dev), far] = -inf
        sep = lo_c.max(dim=1).values > hi_o.max(dim=1).values * (1 + 16 * self.u)
        simple = (cand.sum(dim=1) == kk) & ~truncated & sep
        todo = cand & ~truncated[:, None]
        todo[simple] = False
        todo[simple.nonzero(as_tuple=True)[0], far[simple]] = True
        rows, pos = torch.nonzero(todo, as_tuple=True)
        cols = c_idx[rows, pos]
        exact = torch.full((n, keep), inf, dtype=torch.float64, device=dev)
        self_pair = rows == cols  # a sample's distance to itself is exactly 0
        exact[rows[self_pair], pos[self_pair]] = 0.0
        rows, pos, cols = rows[~self_pair], pos[~self_pair], cols[~self_pair]
        if rows.numel():
            exact[rows, pos] = self.exact(a, rows, a, cols)
        r2 = torch.kthvalue(exact, kk, dim=1).values
        r2[simple] = exact[simple, far[simple]]
        bad = torch.nonzero(truncated, as_tuple=True)[0]
        if bad.numel():
            r2[bad] = self._radii2_rows_exact(a, bad, kk, u_star[bad])
        return r2

    def _radii2_rows_exact(self, a: _Prepared, rows, kk: int, u_star):
        """Rows with more near-ties than were kept: a second blocked pass over their tiles.

        Each row keeps its ``kk`` smallest *exact* squared distances so far,
        starting from the upper bound ``u_star`` of the kk-th one. In every
        tile, the entries whose lower bound does not exceed the current kk-th
        value (or ``u_star``) are recomputed in float64 by differences and
        merged; a row whose kk-th value reaches 0 is finished. Exact ties and
        duplicated points are thus decided as float64 distances decide them
        (never through the rounded expansion ``|x|^2 + |y|^2 - 2 x.y``), and
        memory stays at a few tiles. The work beyond the tiles is proportional
        to the number of near-tied pairs.
        """
        import torch

        self.fallback_rows += int(rows.numel())
        dev, kappa, inf = self.device, self.kappa, float("inf")
        out = torch.empty(rows.numel(), dtype=torch.float64, device=dev)
        for rb in self.blocks(rows.numel()):
            idx = rows[rb]
            best = torch.full((idx.numel(), kk), inf, dtype=torch.float64, device=dev)
            # u_star bounds the true kk-th smallest squared distance from above, with
            # margin to spare over float64 round-off; u_star == 0 means kk exact duplicates
            thr = u_star[rb].to(torch.float64)
            a_c, a_sq = a.c[idx], a.sq[idx]
            for bj in self.blocks(a.n):
                live = thr > 0
                if not bool(live.any()):
                    break
                s = a_sq[:, None] + a.sq[None, bj]
                c = torch.addmm(s, a_c, a.c[bj].T, alpha=-2.0)
                lo = torch.add(c, s, alpha=-kappa)
                del c, s
                ask = (lo.to(torch.float64) <= thr[:, None]) & live[:, None]
                del lo
                ii, jj = torch.nonzero(ask, as_tuple=True)
                if not ii.numel():
                    continue
                vals = torch.full(ask.shape, inf, dtype=torch.float64, device=dev)
                vals[ii, jj] = self.exact(a, idx[ii], a, jj + bj.start)
                best = torch.topk(torch.cat([best, vals], dim=1), kk, dim=1, largest=False,
                                  sorted=True).values
                thr = torch.minimum(thr, best[:, -1])
            out[rb] = torch.where(thr > 0, best[:, -1], thr.new_zeros(()))
        return out

    # -- memberships -------------------------------------------------------------
    def cross(self, real: _Prepared, fake: _Prepared, *, r2_real, r2_fake, inclusive_pr: bool,
              inclusive_dc: bool, want: set, bar=None):
        """One pass over fake x real tiles; returns the requested per-sample arrays."""
        import torch

        dev = self.device
        out = {}
        prec = torch.zeros(fake.n, dtype=torch.bool, device=dev)
        dens = torch.zeros(fake.n, dtype=torch.float64, device=dev)
        cov = torch.zeros(real.n, dtype=torch.bool, device=dev)
        rec = torch.zeros(real.n, dtype=torch.bool, device=dev)
        u4 = 4.0 * self.u
        if r2_real is not None:
            rr_lo, rr_hi = (r2_real * (1 - u4)).to(self.dtype), (r2_real * (1 + u4)).to(self.dtype)
        if r2_fake is not None:
            rf_lo, rf_hi = (r2_fake * (1 - u4)).to(self.dtype), (r2_fake * (1 + u4)).to(self.dtype)
        need_r = bool(want & {"precision", "density", "coverage"})
        need_f = "recall" in want
        for bi in self.blocks(fake.n):
            for bj in self.blocks(real.n):
                c, sc = self.tile(fake, bi, real, bj)
                hi, lo = torch.add(c, sc, alpha=self.kappa), torch.add(c, sc, alpha=-self.kappa)
                del c, sc
                ask = None
                if need_r:
                    sure_r = hi < rr_lo[None, bj]
                    amb_r = ~sure_r & ~(lo > rr_hi[None, bj])
                    if "precision" in want:
                        prec[bi] |= sure_r.any(dim=1)
                    if "density" in want:
                        dens[bi] += sure_r.sum(dim=1)
                    if "coverage" in want:
                        cov[bj] |= sure_r.any(dim=0)
                    # pairs whose exact distance can still change an answer
                    ask_r = torch.zeros_like(amb_r)
                    if "density" in want:
                        ask_r |= amb_r
                    if "precision" in want:
                        ask_r |= amb_r & ~prec[bi, None]
                    if "coverage" in want:
                        ask_r |= amb_r & ~cov[None, bj]
                    ask = ask_r
                if need_f:
                    sure_f = hi < rf_lo[bi, None]
                    rec[bj] |= sure_f.any(dim=0)
                    ask_f = ~sure_f & ~(lo > rf_hi[bi, None]) & ~rec[None, bj]
                    ask = ask_f if ask is None else (ask | ask_f)
                del hi, lo
                ii, jj = torch.nonzero(ask, as_tuple=True)
                if ii.numel():
                    gi, gj = ii + bi.start, jj + bj.start
                    d2 = self.exact(fake, gi, real, gj)
                    if need_r:
                        sel = ask_r[ii, jj]
                        ri, rj, dr = gi[sel], gj[sel], d2[sel]
                        strict = dr < r2_real[rj]
                        if "precision" in want:
                            hit = (dr <= r2_real[rj]) if inclusive_pr else strict
                            prec[ri[hit]] = True
                        if "density" in want:
                            hit = (dr <= r2_real[rj]) if inclusive_dc else strict
                            dens.index_add_(0, ri[hit], torch.ones_like(dr[hit]))
                        if "coverage" in want:
                            hit = (dr <= r2_real[rj]) if inclusive_dc else strict
                            cov[rj[hit]] = True
                    if need_f:
                        sel = ask_f[ii, jj]
                        fi, fj, df = gi[sel], gj[sel], d2[sel]
                        hit = (df <= r2_fake[fi]) if inclusive_pr else (df < r2_fake[fi])
                        rec[fj[hit]] = True
                if bar is not None:
                    bar.update(1)
        out.update(precision=prec, density=dens, coverage=cov, recall=rec)
        return out


def _n_tiles(n, b):
    m = math.ceil(n / b)
    return m * (m + 1) // 2


def _check_common(real, fake, k, block_size):
    x = as_feature_tensor(real, name="real", min_rows=1)
    y = as_feature_tensor(fake, name="fake", min_rows=1)
    check_same_dim(x, y, name_a="real", name_b="fake")
    k = check_int(k, name="k", minimum=1)
    block_size = check_int(block_size, name="block_size", minimum=1)
    return x, y, k, block_size


def _check_k_vs_n(k, n, name):
    if k >= n:
        raise ValueError(
            f"k={k} needs more than k samples in {name} (it has {n}): each sample's ball reaches "
            f"its k-th nearest other sample. Pass k <= {n - 1} or use more samples"
        )


# ----------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------
def knn_radii(feats, *, k: int, block_size: int = 2048, device="auto", progress: bool = False):
    """Distance from each sample to its k-th nearest other sample in the same set.

    Parameters
    ----------
    feats : array_like or torch.Tensor, N x D
    k : int
        1 is the nearest neighbour. Duplicated samples count as neighbours
        at distance 0 (as in prdc and torch-fidelity).
    block_size : int
        Tile edge: at most ``block_size x block_size`` distances are held.
    device : str or torch.device
    progress : bool

    Returns
    -------
    numpy.ndarray of float64, shape (N,)
    """
    import torch
    from tqdm.auto import tqdm

    x = as_feature_tensor(feats, name="feats")
    k = check_int(k, name="k", minimum=1)
    block_size = check_int(block_size, name="block_size", minimum=1)
    _check_k_vs_n(k, x.shape[0], "feats")
    eng = _Engine([x], device=device, block_size=block_size, progress=progress)
    with tqdm(total=_n_tiles(x.shape[0], block_size), desc="k-NN radii", unit="tile",
              disable=not progress, leave=False) as bar:
        r2 = eng.radii2(eng.sets[0], k, bar)
    return torch.sqrt(r2).cpu().numpy()


def precision_recall(
    real,
    fake,
    *,
    k: int = 3,
    block_size: int = 2048,
    device="auto",
    inclusive: bool = True,
    extractor="vgg16-fc2",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
    resize: str | None = None,
    weights=None,
) -> PrecisionRecallResult:
    """Improved precision and recall of generated samples (Kynkaanniemi et al.).

    Parameters
    ----------
    real : source
        The **real** set: images (folder, files, ``N x C x H x W`` array, dataset
        name) run through ``extractor``, or ``N x D`` features.
    fake : source
        The **generated** set, the same way (same extractor output).
    k : int
        Neighbourhood size: each sample's ball reaches its k-th nearest
        other sample of the same set (3 in the paper).
    block_size : int
        Tile edge of the blocked distance computation; memory per tile is
        ``4 * block_size**2`` bytes (plus a few such temporaries).
    device : str or torch.device
    inclusive : bool
        A sample on a ball's boundary counts as inside (``<=``, as the
        authors' code and torch-fidelity). ``False`` uses ``<`` as prdc does.
        The two differ only on exact ties.
    extractor : str
        Registered extractor run on image sources (``gm.list_extractors()``);
        ignored for features.
    output : str, optional
        Extractor output (default: ``pool``; ``fc2_relu`` for ``vgg16-fc2``).
    batch_size : int
        Images per forward pass.
    value_range : tuple, optional
        Declared range of float image arrays (``(0, 1)``, ``(-1, 1)``, ``(0, 255)``).
    cache : bool or path-like
        Use the feature cache for image sources (off by default, as :func:`~genmetrics_nb.fid`).
    progress : bool
        Progress bars (extraction, tiles).
    resize : {"legacy_tensorflow", "clean", "legacy_pytorch"}, optional
        clean-fid's resize mode for image sources (as :func:`genmetrics_nb.fid`).
    weights : str or path-like, optional
        The extractor's weights file; its sha256 is recorded (as :func:`genmetrics_nb.fid`).

    Returns
    -------
    PrecisionRecallResult
        ``.precision``: share of fake samples inside the union of real balls;
        ``.recall``: share of real samples inside the union of fake balls.

    Notes
    -----
    Argument names and result fields are explicit on purpose: a peer
    library once shipped a release with precision and recall swapped. Here
    ``precision`` always measures the fake samples against the real
    manifold. To match the paper's protocol use k = 3, 50,000 samples per
    side and VGG16 fc2 features (``vgg16-fc2``); StyleGAN2-ADA's
    implementation computes the same quantity.

    References
    ----------
    .. [1] T. Kynkaanniemi, T. Karras, S. Laine, J. Lehtinen and T. Aila,
       "Improved Precision and Recall Metric for Assessing Generative
       Models", NeurIPS 2019 (``kynkaat/improved-precision-and-recall-metric``).
    .. [2] torch-fidelity, ``metric_prc.py``; prdc, ``compute_prdc``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(300, 16))
    >>> r = precision_recall(x, x, progress=False)
    >>> (r.precision, r.recall)
    (1.0, 1.0)
    """
    from tqdm.auto import tqdm

    real, fake, _ = inputs.features_pair(
        real, fake, metric="precision/recall", extractor=extractor, output=output, batch_size=batch_size, device=device,
        value_range=value_range, cache=cache, progress=progress, resize=resize, weights=weights,
    )  # fmt: skip
    x, y, k, block_size = _check_common(real, fake, k, block_size)
    if not isinstance(inclusive, bool):
        raise TypeError(f"inclusive must be True or False, got {inclusive!r}")
    _check_k_vs_n(k, x.shape[0], "real")
    _check_k_vs_n(k, y.shape[0], "fake")
    eng = _Engine([x, y], device=device, block_size=block_size, progress=progress)
    real, fake = eng.sets
    total = (_n_tiles(real.n, block_size) + _n_tiles(fake.n, block_size)
             + math.ceil(real.n / block_size) * math.ceil(fake.n / block_size))
    with tqdm(total=total, desc="precision/recall", unit="tile", disable=not progress,
              leave=False) as bar:
        r2_real = eng.radii2(real, k, bar)
        r2_fake = eng.radii2(fake, k, bar)
        m = eng.cross(real, fake, r2_real=r2_real, r2_fake=r2_fake, inclusive_pr=inclusive,
                      inclusive_dc=False, want={"precision", "recall"}, bar=bar)
    return PrecisionRecallResult(
        precision=float(m["precision"].double().mean()),
        recall=float(m["recall"].double().mean()),
        k=k,
        n_real=real.n,
        n_fake=fake.n,
    )


def density_coverage(
    real,
    fake,
    *,
    k: int = 5,
    block_size: int = 2048,
    device="auto",
    inclusive: bool = False,
    extractor="vgg16-fc2",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
    resize: str | None = None,
    weights=None,
) -> DensityCoverageResult:
    """Density and coverage of generated samples (Naeem et al. 2020).

    Parameters
    ----------
    real : source
        The **real** set (images run through ``extractor``, or ``N x D``
        features); only its k-NN balls are used.
    fake : source
        The **generated** set, the same way.
    k : int
        Neighbourhood size (5 in the paper).
    block_size : int
        Tile edge of the blocked distance computation.
    device : str or torch.device
    inclusive : bool
        Count a sample exactly on a boundary as inside. The default
        ``False`` (``<``) is the authors' prdc code.
    extractor : str
        Registered extractor run on image sources (``gm.list_extractors()``);
        ignored for features.
    output : str, optional
        Extractor output (default: ``pool``; ``fc2_relu`` for ``vgg16-fc2``).
    batch_size : int
        Images per forward pass.
    value_range : tuple, optional
        Declared range of float image arrays (``(0, 1)``, ``(-1, 1)``, ``(0, 255)``).
    cache : bool or path-like
        Use the feature cache for image sources (off by default, as :func:`~genmetrics_nb.fid`).
    progress : bool
    resize : {"legacy_tensorflow", "clean", "legacy_pytorch"}, optional
        clean-fid's resize mode for image sources (as :func:`genmetrics_nb.fid`).
    weights : str or path-like, optional
        The extractor's weights file; its sha256 is recorded (as :func:`genmetrics_nb.fid`).

    Returns
    -------
    DensityCoverageResult
        ``.density = 1/(kM) sum_j sum_i 1[fake_j in B(real_i, r_i)]`` and
        ``.coverage = 1/N sum_i 1[some fake in B(real_i, r_i)]``.

    Notes
    -----
    Density and coverage use only the real balls, which makes them robust
    to outliers among the fakes. To match the paper use k = 5 with equal
    numbers of real and fake samples (10,000 in their experiments) and the
    same features as for FID.

    References
    ----------
    .. [1] M. F. Naeem, S. J. Oh, Y. Uh, Y. Choi and J. Yoo, "Reliable
       Fidelity and Diversity Metrics for Generative Models", ICML 2020
       (``clovaai/generative-evaluation-prdc``, the ``prdc`` package).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = density_coverage(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 5,
    ...                      progress=False)
    >>> r.coverage
    0.0
    """
    from tqdm.auto import tqdm

    real, fake, _ = inputs.features_pair(
        real, fake, metric="density/coverage", extractor=extractor, output=output, batch_size=batch_size, device=device,
        value_range=value_range, cache=cache, progress=progress, resize=resize, weights=weights,
    )  # fmt: skip
    x, y, k, block_size = _check_common(real, fake, k, block_size)
    if not isinstance(inclusive, bool):
        raise TypeError(f"inclusive must be True or False, got {inclusive!r}")
    _check_k_vs_n(k, x.shape[0], "real")
    eng = _Engine([x, y], device=device, block_size=block_size, progress=progress)
    real, fake = eng.sets
    total = _n_tiles(real.n, block_size) + math.ceil(real.n / block_size) * math.ceil(fake.n / block_size)
    with tqdm(total=total, desc="density/coverage", unit="tile", disable=not progress,
              leave=False) as bar:
        r2_real = eng.radii2(real, k, bar)
        m = eng.cross(real, fake, r2_real=r2_real, r2_fake=None, inclusive_pr=False,
                      inclusive_dc=inclusive, want={"density", "coverage"}, bar=bar)
    return DensityCoverageResult(
        density=float(m["density"].sum()) / (k * fake.n),
        coverage=float(m["coverage"].double().mean()),
        k=k,
        n_real=real.n,
        n_fake=fake.n,
    )
