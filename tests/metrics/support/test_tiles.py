"""The blocked distance helpers against brute-force float64 numpy (by differences)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from genmetrics_nb.metrics.support.tiles import distance_tiles, nearest, upper_kth


def _brute(q, r):
    return np.sqrt(((q[:, None, :].astype(np.float64) - r[None].astype(np.float64)) ** 2).sum(-1))


@pytest.mark.parametrize("case", ["gauss", "far-and-close", "ties"])
def test_nearest_is_the_float64_search(case):
    rng = np.random.default_rng(0)
    if case == "gauss":
        r = rng.normal(size=(300, 40)).astype(np.float32)
        q = rng.normal(size=(200, 40)).astype(np.float32)
    elif case == "far-and-close":
        # norms of 1e4 and neighbours 1e-3 apart: float32 tiles cannot decide, the float64 pass must
        r = (rng.normal(size=(300, 16)) * 1e4)
        q = r[rng.integers(0, 300, 200)] + rng.normal(size=(200, 16)) * 1e-3
    else:
        # integer lattice with duplicated rows: exact ties, decided by the lowest index
        r = rng.integers(0, 3, size=(300, 4)).astype(np.float64)
        q = rng.integers(0, 3, size=(200, 4)).astype(np.float64)
    d, i = nearest(torch.from_numpy(q), torch.from_numpy(r), k=3, block_size=37)
    full = _brute(q, r)
    order = np.lexsort((np.broadcast_to(np.arange(r.shape[0]), full.shape), full), axis=1)[:, :3]
    np.testing.assert_allclose(d.numpy(), np.take_along_axis(full, order, 1), rtol=1e-12, atol=1e-12)
    if case == "ties":
        np.testing.assert_array_equal(i.numpy(), order)


def test_nearest_exclude_self():
    x = np.random.default_rng(1).normal(size=(150, 8))
    d, i = nearest(torch.from_numpy(x), torch.from_numpy(x), k=2, block_size=32, exclude_self=True)
    full = _brute(x, x)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_allclose(d.numpy(), np.sort(full, 1)[:, :2], rtol=1e-12)
    assert not (i.numpy() == np.arange(150)[:, None]).any()


def test_distance_tiles_and_upper_kth():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(70, 5)), rng.normal(size=(50, 5))
    full = _brute(x, y)
    got = np.zeros_like(full)
    for rows, cols, t in distance_tiles(torch.from_numpy(x), torch.from_numpy(y), block_size=16):
        got[rows, cols] = t.numpy()
    np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-12)
    k = 7
    dxx = _brute(x, x)[:-k]
    want = [sorted(dxx[i, i + 1:])[k - 1] for i in range(len(dxx))]  # TopP&R's balloon quirk
    np.testing.assert_allclose(upper_kth(torch.from_numpy(x), k, block_size=16).numpy(), want, rtol=1e-12)
