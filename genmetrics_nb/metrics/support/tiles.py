"""Blocked float64 distance computations shared by the support and memorisation metrics.

The support metrics (TopP&R, P-precision/P-recall, alpha-precision) and the
memorisation metrics (AuthPct, C_T, FLD) all need sums or minima over
pairwise distances between two feature sets. Their reference codes build the
full ``N x M`` matrix; here the distances come in tiles of at most
``block_size x block_size`` float64 values, so memory stays at a few tiles
whatever N is.

- :func:`distance_tiles` yields float64 Euclidean distance tiles through the
  expansion ``|a|^2 + |b|^2 - 2 a.b`` after a common shift (the mean of the
  second set), which keeps the rounding error near ``1e-16`` of the squared
  norms of the centred rows: float noise next to the float64 references.
- :func:`nearest` finds each query row's ``k`` nearest reference rows; the
  kept candidates are recomputed by differences (not the expansion), so the
  distances of near-copies are exact too, and ties go to the lowest index.
- :func:`upper_kth` is TopP&R's "balloon" quirk: the k-th smallest distance
  from row i to the rows of *higher* index only.

The within-set k-NN radii of k-NN metrics come from the exact engine of
:func:`genmetrics_nb.metrics.distribution.knn.knn_radii`.
"""
from __future__ import annotations

__all__ = ["as_float64", "distance_tiles", "mean64", "nearest", "norms_to", "upper_kth"]


def as_float64(x, device):
    """A feature tensor as float64 on ``device`` (a full copy: for small or projected sets)."""
    import torch

    return x.to(device=device, dtype=torch.float64)


def _blocks(n, b):
    return [slice(s, min(s + b, n)) for s in range(0, n, b)]


def mean64(x, device, block_size: int = 2048):
    """Column means of ``x`` in float64 on ``device``, accumulated in row blocks (no full copy)."""
    import torch

    total = torch.zeros(x.shape[1], dtype=torch.float64, device=device)
    for rows in _blocks(x.shape[0], block_size):
        total += x[rows].to(device=device, dtype=torch.float64).sum(0)
    return total / x.shape[0]


def norms_to(x, center, device, block_size: int = 2048):
    """float64 Euclidean norms of the rows of ``x - center`` (a float64 vector on ``device``), in blocks."""
    import torch

    out = torch.empty(x.shape[0], dtype=torch.float64, device=device)
    for rows in _blocks(x.shape[0], block_size):
        out[rows] = torch.linalg.vector_norm(x[rows].to(device=device, dtype=torch.float64) - center, dim=1)
    return out


def distance_tiles(x, y, *, block_size: int, squared: bool = False, center=None, device=None):
    """Yield ``(rows, cols, tile)``: float64 distances of ``x[rows]`` to ``y[cols]`` on ``device``.

    ``x`` and ``y`` may be any float tensors (on the CPU, say); each block is
    converted to float64 on ``device`` (default: ``x``'s) when its tile is
    computed, so no float64 copy of a whole set is held. ``center`` is the
    common shift (default: the mean of ``y``); any shift leaves distances
    unchanged and a central one keeps the expansion's rounding small.
    """
    import torch

    dev = x.device if device is None else device
    if center is None:
        center = mean64(y, dev, block_size)
    for rows in _blocks(x.shape[0], block_size):
        a = x[rows].to(device=dev, dtype=torch.float64) - center
        asq = (a * a).sum(1)
        for cols in _blocks(y.shape[0], block_size):
            b = y[cols].to(device=dev, dtype=torch.float64) - center
            d2 = torch.addmm(asq[:, None] + (b * b).sum(1)[None, :], a, b.T, alpha=-2.0).clamp_(min=0.0)
            yield rows, cols, (d2 if squared else d2.sqrt_())


def _exact_d2(query, reference, qi, ri, device):
    """float64 squared distances of pairs (query[qi[m]], reference[ri[m]]), by differences."""
    import torch

    out = torch.empty(qi.shape[0], dtype=torch.float64, device=device)
    chunk = max(1, (1 << 22) // max(1, query.shape[1]))
    for s in range(0, qi.shape[0], chunk):
        a = query[qi[s:s + chunk].to(query.device)].to(device=device, dtype=torch.float64)
        b = reference[ri[s:s + chunk].to(reference.device)].to(device=device, dtype=torch.float64)
        out[s:s + chunk] = ((a - b) ** 2).sum(1)
    return out


def _candidates(query, reference, rows_idx, *, keep, block_size, dtype, center, exclude_self, device,
                stable=False, low=None):
    """Per query row (of ``rows_idx``): the ``keep`` smallest tile values of ``dtype`` and their columns.

    ``stable``: distances by differences (``torch.cdist`` without the matrix
    product), and among equal values the lowest columns are kept (a stable
    sort instead of ``topk``), so that exact ties are decided by index; for
    the few rows the fast pass cannot certify.

    Also returns the squared norms of the centred query rows (``dtype``), for error bounds.
    """
    import torch

    inf = float("inf")
    n, m = rows_idx.shape[0], reference.shape[0]
    best = torch.full((n, keep), inf, dtype=dtype, device=device)
    bidx = torch.full((n, keep), -1, dtype=torch.long, device=device)
    qsq = torch.empty(n, dtype=dtype, device=device)
    for rb in _blocks(n, block_size):
        gi = rows_idx[rb]
        a = (query[gi.to(query.device)].to(device=device, dtype=torch.float64) - center).to(dtype)
        asq = (a * a).sum(1, dtype=torch.float64).to(dtype)
        qsq[rb] = asq
        for cols in _blocks(m, block_size):
            if low is not None:
                b, bsq = low[0][cols], low[1][cols]
            else:
                b = (reference[cols].to(device=device, dtype=torch.float64) - center).to(dtype)
                bsq = (b * b).sum(1, dtype=torch.float64).to(dtype)
            if stable:  # by differences: equal distances come out equal
                d2 = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist") ** 2
            else:
                d2 = torch.addmm(asq[:, None] + bsq[None, :], a, b.T, alpha=-2.0).clamp_(min=0.0)
            if exclude_self:
                c = torch.arange(cols.start, cols.stop, device=device)
                d2 = d2.masked_fill(gi[:, None] == c[None, :], inf)
            if stable:  # equal values keep their column order: ties go to the lowest index
                v, p = torch.sort(d2, dim=1, stable=True)
                v, p = v[:, :keep], p[:, :keep]
            else:
                v, p = torch.topk(d2, min(keep, d2.shape[1]), dim=1, largest=False)
            mv = torch.cat([best[rb], v], 1)
            mi = torch.cat([bidx[rb], p + cols.start], 1)
            if stable:
                v, p = torch.sort(mv, dim=1, stable=True)
                v, p = v[:, :keep], p[:, :keep]
            else:
                v, p = torch.topk(mv, keep, dim=1, largest=False)
            best[rb] = v
            bidx[rb] = torch.gather(mi, 1, p)
    return best, bidx, qsq


def nearest(query, reference, *, k: int = 1, block_size: int = 2048, exclude_self: bool = False, device=None):
    """The ``k`` nearest reference rows of each query row, exactly, in blocks.

    Tiles are computed in float32 (after a common float64 shift), each row
    keeping its ``k + 8`` smallest values; the kept candidates' distances are
    then recomputed in float64 by differences. A float32 squared distance
    ``c`` lies within ``kappa (|a|^2 + |b|^2)`` of the true one (the bound of
    :mod:`genmetrics_nb.metrics.distribution.knn`), so a row is certified when
    its k-th exact candidate is below every entry it did not keep, lowered by
    that bound; the rare rows that are not (near-ties at the boundary, exact
    ties, features too large for float32) are searched again in float64
    tiles, keeping the lowest indices among equal values. The result is that
    of a float64 search, at float32 speed.

    Parameters
    ----------
    query, reference : torch.Tensor
        Float tensors (any device; blocks are moved to ``device``).
    k : int
    block_size : int
    exclude_self : bool
        ``query`` is ``reference``: row i is not its own neighbour.
    device : torch.device, optional
        Where tiles are computed (default: ``query``'s device).

    Returns
    -------
    dist : torch.Tensor, float64, (n, k)
        Euclidean distances, ascending, recomputed by differences.
    index : torch.Tensor, int64, (n, k)
        Reference rows; among equal distances the lowest index comes first.
    """
    import torch

    from genmetrics_nb.metrics.distribution.knn import unit_roundoff

    dev = query.device if device is None else device
    n, m, d = query.shape[0], reference.shape[0], query.shape[1]
    keep = min(m, k + 8)
    center = mean64(reference, dev, block_size)
    u = unit_roundoff(torch.float32, dev)
    dtype = torch.float32 if d * u <= 0.01 else torch.float64
    if dtype == torch.float64:
        u = unit_roundoff(torch.float64, dev)
    gamma = d * u / (1.0 - d * u)
    kappa = 4.0 * (gamma + 8.0 * u)
    rows_all = torch.arange(n, device=dev)
    # the centred reference in the working dtype, once (m x D: the one copy this search holds)
    ref_low = torch.empty((m, d), dtype=dtype, device=dev)
    ref_sq = torch.empty(m, dtype=dtype, device=dev)
    for cols in _blocks(m, block_size):
        b = (reference[cols].to(device=dev, dtype=torch.float64) - center).to(dtype)
        ref_low[cols] = b
        ref_sq[cols] = (b * b).sum(1, dtype=torch.float64).to(dtype)
    best, bidx, qsq = _candidates(query, reference, rows_all, keep=keep, block_size=block_size, dtype=dtype,
                                  center=center, exclude_self=exclude_self, device=dev, low=(ref_low, ref_sq))
    del ref_low
    ex, idx = _finish(query, reference, best, bidx, rows_all, m, dev)
    if keep < m:
        ref_sq_max = float(ref_sq.max()) * (1 + 1e-6)
        floor = best[:, -1].to(torch.float64) - kappa * (qsq.to(torch.float64) + ref_sq_max)
        bad = torch.nonzero(~(ex[:, k - 1] ** 2 <= floor * (1 - 1e-12)), as_tuple=True)[0]
        if bad.numel():
            b64, i64, _ = _candidates(query, reference, bad, keep=min(m, k + 8), block_size=block_size,
                                      dtype=torch.float64, center=center, exclude_self=exclude_self,
                                      device=dev, stable=True)
            e2, i2 = _finish(query, reference, b64, i64, bad, m, dev)
            ex[bad], idx[bad] = e2, i2
    return ex[:, :k], idx[:, :k]


def _finish(query, reference, best, bidx, rows_idx, m, device):
    """Exact distances of the kept candidates, ordered by (distance, index)."""
    import torch

    inf = float("inf")
    valid = bidx >= 0
    r, p = torch.nonzero(valid, as_tuple=True)
    ex = torch.full(best.shape, inf, dtype=torch.float64, device=device)
    ex[r, p] = _exact_d2(query, reference, rows_idx[r], bidx[r, p], device).sqrt()
    o = torch.argsort(bidx.masked_fill(~valid, m), dim=1, stable=True)
    ex, bidx = torch.gather(ex, 1, o), torch.gather(bidx, 1, o)
    o = torch.argsort(ex, dim=1, stable=True)
    return torch.gather(ex, 1, o), torch.gather(bidx, 1, o)


def upper_kth(x, k: int, *, block_size: int = 2048):
    """For rows ``i < n - k``: the k-th smallest distance from ``x[i]`` to ``x[j]``, ``j > i``.

    This is TopP&R's balloon estimate (``sorted(dist[i, i+1:])[k-1]`` over
    ``dist[:-k]`` in ``top_pr.compute_top_pr``), computed from the
    upper-triangular tiles only.

    Returns
    -------
    torch.Tensor, float64, (n - k,)
    """
    import torch

    n = x.shape[0]
    inf = float("inf")
    best = torch.full((n, k), inf, dtype=torch.float64, device=x.device)
    center = x.mean(0)
    blocks = _blocks(n, block_size)
    for bi in blocks:
        a = x[bi] - center
        asq = (a * a).sum(1)
        for bj in blocks:
            if bj.stop <= bi.start + 1:
                continue  # every column j <= every row i of this tile
            b = x[bj] - center
            d2 = torch.addmm(asq[:, None] + (b * b).sum(1)[None, :], a, b.T, alpha=-2.0).clamp_(min=0.0)
            r = torch.arange(bi.start, bi.stop, device=x.device)
            c = torch.arange(bj.start, bj.stop, device=x.device)
            d2 = d2.masked_fill(c[None, :] <= r[:, None], inf)
            t = min(k, d2.shape[1])
            v = torch.topk(d2, t, dim=1, largest=False).values
            best[bi] = torch.topk(torch.cat([best[bi], v], 1), k, dim=1, largest=False).values
    return best[: n - k, k - 1].sqrt()
