"""Exact ball memberships on top of the blocked k-NN engine of :mod:`.knn`.

The rarity score and clipped density/coverage ask more of the k-NN balls
than precision/recall and density/coverage do: how many points fall in each
ball (per ball, or per point), and the smallest ball that holds each point.
:func:`ball_pass` answers these in one pass over ``points x owners`` tiles of
the same engine (:class:`~genmetrics_nb.metrics.distribution.knn._Engine`):
float32 tiles decide every pair that lies clearly inside or outside its ball,
and the pairs within the float32 error bound of a radius are recomputed in
float64 by differences. The decisions are those of float64 distances, and
memory stays at a few ``block_size x block_size`` tiles.
"""
from __future__ import annotations

__all__ = ["ball_pass"]

WANTS = ("point_counts", "owner_counts", "min_r2")


def ball_pass(eng, owners, r2, points, *, inclusive: bool, want, bar=None) -> dict:
    """Memberships of ``points`` in the balls ``B(owner_i, sqrt(r2_i))``.

    Parameters
    ----------
    eng : knn._Engine
        The engine holding both prepared sets.
    owners, points : knn._Prepared
        Ball centres and the points tested (may be the same set: a point then
        lies in its own ball, at distance 0).
    r2 : torch.Tensor of float64, shape (owners.n,)
        Squared radii.
    inclusive : bool
        ``d <= r`` counts as inside (else ``d < r``).
    want : iterable of str
        ``"point_counts"``: number of balls holding each point (float64);
        ``"owner_counts"``: number of points in each ball (float64);
        ``"min_r2"``: smallest squared radius among the balls holding each
        point (``inf`` when none).
    bar : tqdm, optional
        Advanced by one per tile.

    Returns
    -------
    dict of str to torch.Tensor
    """
    import torch

    want = set(want)
    unknown = want - set(WANTS)
    if unknown:
        raise ValueError(f"unknown outputs {sorted(unknown)}; use {', '.join(WANTS)}")
    dev = eng.device
    inf = float("inf")
    u4 = 4.0 * eng.u
    r_lo, r_hi = (r2 * (1 - u4)).to(eng.dtype), (r2 * (1 + u4)).to(eng.dtype)
    pc = torch.zeros(points.n, dtype=torch.float64, device=dev)
    oc = torch.zeros(owners.n, dtype=torch.float64, device=dev)
    mr = torch.full((points.n,), inf, dtype=torch.float64, device=dev)
    for bi in eng.blocks(points.n):
        for bj in eng.blocks(owners.n):
            c, sc = eng.tile(points, bi, owners, bj)
            hi, lo = torch.add(c, sc, alpha=eng.kappa), torch.add(c, sc, alpha=-eng.kappa)
            del c, sc
            sure = hi < r_lo[None, bj]  # certainly d^2 < r^2: inside either way
            amb = ~sure & ~(lo > r_hi[None, bj])
            del hi, lo
            if "point_counts" in want:
                pc[bi] += sure.sum(dim=1)
            if "owner_counts" in want:
                oc[bj] += sure.sum(dim=0)
            if "min_r2" in want:
                cand = torch.where(sure, r2[None, bj], torch.full_like(r2[None, bj], inf))
                mr[bi] = torch.minimum(mr[bi], cand.min(dim=1).values)
                del cand
            ii, jj = torch.nonzero(amb, as_tuple=True)
            if ii.numel():
                gi, gj = ii + bi.start, jj + bj.start
                d2 = eng.exact(points, gi, owners, gj)
                hit = (d2 <= r2[gj]) if inclusive else (d2 < r2[gj])
                gi, gj = gi[hit], gj[hit]
                ones = torch.ones(gi.shape[0], dtype=torch.float64, device=dev)
                if "point_counts" in want:
                    pc.index_add_(0, gi, ones)
                if "owner_counts" in want:
                    oc.index_add_(0, gj, ones)
                if "min_r2" in want and gi.numel():
                    mr.scatter_reduce_(0, gi, r2[gj], reduce="amin")
            if bar is not None:
                bar.update(1)
    out = {}
    if "point_counts" in want:
        out["point_counts"] = pc
    if "owner_counts" in want:
        out["owner_counts"] = oc
    if "min_r2" in want:
        out["min_r2"] = mr
    return out
