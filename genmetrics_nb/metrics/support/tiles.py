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

__all__ = ["as_float64", "distance_tiles", "nearest", "upper_kth"]


def as_float64(x, device):
    """A feature tensor as float64 on ``device``."""
    import torch

    return x.to(device=device, dtype=torch.float64)


def _blocks(n, b):
    return [slice(s, min(s + b, n)) for s in range(0, n, b)]


def distance_tiles(x, y, *, block_size: int, squared: bool = False, center=None):
    """Yield ``(rows, cols, tile)``: float64 distances of ``x[rows]`` to ``y[cols]``.

    ``x`` and ``y`` are float64 tensors on one device. ``center`` is the
    common shift (default: the mean of ``y``); any shift leaves distances
    unchanged and a central one keeps the expansion's rounding small.
    """
    import torch

    if center is None:
        center = y.mean(0)
    ysq = {}
    for rows in _blocks(x.shape[0], block_size):
        a = x[rows] - center
        asq = (a * a).sum(1)
        for cols in _blocks(y.shape[0], block_size):
            if cols.start not in ysq:
                b = y[cols] - center
                ysq[cols.start] = (b, (b * b).sum(1))
            b, bsq = ysq[cols.start]
            d2 = torch.addmm(asq[:, None] + bsq[None, :], a, b.T, alpha=-2.0).clamp_(min=0.0)
            yield rows, cols, (d2 if squared else d2.sqrt_())


def nearest(query, reference, *, k: int = 1, block_size: int = 2048, exclude_self: bool = False):
    """The ``k`` nearest reference rows of each query row, exactly, in blocks.

    Parameters
    ----------
    query, reference : torch.Tensor
        float64, one device.
    k : int
    block_size : int
    exclude_self : bool
        ``query`` is ``reference``: row i is not its own neighbour.

    Returns
    -------
    dist : torch.Tensor, float64, (n, k)
        Euclidean distances, ascending, recomputed by differences.
    index : torch.Tensor, int64, (n, k)
        Reference rows; among equal distances the lowest index comes first.
    """
    import torch

    n, m = query.shape[0], reference.shape[0]
    keep = min(m, k + 8)
    inf = float("inf")
    best = torch.full((n, keep), inf, dtype=torch.float64, device=query.device)
    bidx = torch.full((n, keep), -1, dtype=torch.long, device=query.device)
    for rows, cols, d2 in distance_tiles(query, reference, block_size=block_size, squared=True):
        if exclude_self and cols.start < rows.stop and rows.start < cols.stop:
            r = torch.arange(rows.start, rows.stop, device=query.device)
            c = torch.arange(cols.start, cols.stop, device=query.device)
            d2 = d2.masked_fill(r[:, None] == c[None, :], inf)
        t = min(keep, d2.shape[1])
        v, p = torch.topk(d2, t, dim=1, largest=False)
        mv = torch.cat([best[rows], v], 1)
        mi = torch.cat([bidx[rows], p + cols.start], 1)
        v, p = torch.topk(mv, keep, dim=1, largest=False)
        best[rows] = v
        bidx[rows] = torch.gather(mi, 1, p)
    # exact distances of the kept candidates, by differences
    valid = bidx >= 0
    ex = torch.full_like(best, inf)
    chunk = max(1, (1 << 22) // max(1, query.shape[1] * keep))
    for s in range(0, n, chunk):
        q = query[s:s + chunk, None, :]
        r = reference[bidx[s:s + chunk].clamp(min=0)]
        dd = ((q - r) ** 2).sum(-1).sqrt()
        ex[s:s + chunk] = torch.where(valid[s:s + chunk], dd, inf)
    # order by (distance, index): stable sort by index, then by distance
    o = torch.argsort(bidx.masked_fill(~valid, m), dim=1, stable=True)
    ex, bidx = torch.gather(ex, 1, o), torch.gather(bidx, 1, o)
    o = torch.argsort(ex, dim=1, stable=True)
    ex, bidx = torch.gather(ex, 1, o), torch.gather(bidx, 1, o)
    return ex[:, :k], bidx[:, :k]


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
