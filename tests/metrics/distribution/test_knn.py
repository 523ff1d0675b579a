"""k-NN metrics: precision/recall (Kynkaanniemi et al.) and density/coverage (Naeem et al.).

References: ``prdc.compute_prdc`` (the authors' package for density and
coverage; it also computes precision and recall), torch-fidelity's
``calculate_precision_recall_full``, scikit-learn's ``NearestNeighbors`` for
the radii, and a float64 brute force written out in this file for the
near-tie cases that float32 cannot decide.
"""
from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import genmetrics_nb as gm
from genmetrics_nb.metrics.distribution.knn import knn_radii


def _prdc(x, y, k):
    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
        return compute_prdc(real_features=x, fake_features=y, nearest_k=k)


def _brute(x, y, k, *, inclusive):
    """float64 brute force of the four metrics from their definitions."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    dxx = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    dyy = np.sqrt(((y[:, None] - y[None]) ** 2).sum(-1))
    dxy = np.sqrt(((x[:, None] - y[None]) ** 2).sum(-1))  # real x fake
    rx = np.sort(dxx, 1)[:, k]  # k-th neighbour, the sample itself at index 0
    ry = np.sort(dyy, 1)[:, k]
    le = (lambda a, b: a <= b) if inclusive else (lambda a, b: a < b)
    return dict(
        precision=le(dxy, rx[:, None]).any(0).mean(),
        recall=le(dxy, ry[None, :]).any(1).mean(),
        density=(dxy < rx[:, None]).sum(0).mean() / k,
        coverage=(dxy.min(1) < rx).mean(),
    )


@pytest.fixture(scope="module")
def sets():
    rng = np.random.default_rng(0)
    d = 32
    x = np.maximum(rng.normal(size=(700, d)), 0).astype(np.float32) + 2.0
    y = (np.maximum(rng.normal(size=(650, d)), 0) * 1.15 + 0.05).astype(np.float32) + 2.0
    return x, y


@pytest.mark.reference
@pytest.mark.parametrize("k", [3, 5])
def test_matches_prdc(sets, k):
    x, y = sets
    ref = _prdc(x, y, k)
    pr = gm.precision_recall(x, y, k=k, inclusive=False, progress=False)
    dc = gm.density_coverage(x, y, k=k, progress=False)
    assert pr.precision == ref["precision"] and pr.recall == ref["recall"]
    assert dc.density == pytest.approx(ref["density"], rel=1e-12)
    assert dc.coverage == ref["coverage"]
    assert 0.05 < pr.precision < 0.95 and 0.05 < dc.coverage < 0.95  # a test that can fail


@pytest.mark.reference
def test_matches_torch_fidelity_direction(sets):
    from torch_fidelity.metric_prc import calculate_precision_recall_full

    x, y = sets
    # torch-fidelity's convention: features_1 is the GENERATED set, features_2 the REAL one.
    p_ref, r_ref = calculate_precision_recall_full(torch.from_numpy(y), torch.from_numpy(x), 3)
    got = gm.precision_recall(real=x, fake=y, k=3, progress=False)
    assert got.precision == pytest.approx(p_ref, abs=1e-7)
    assert got.recall == pytest.approx(r_ref, abs=1e-7)
    assert abs(got.precision - got.recall) > 0.1  # swapping the sides would be caught
    swapped = gm.precision_recall(y, x, k=3, progress=False)
    assert swapped.precision == pytest.approx(got.recall) and swapped.recall == pytest.approx(got.precision)


@pytest.mark.reference
def test_radii_match_sklearn(sets):
    from sklearn.neighbors import NearestNeighbors

    x = sets[0]
    dist, _ = NearestNeighbors(n_neighbors=4).fit(x.astype(np.float64)).kneighbors(x.astype(np.float64))
    got = knn_radii(x, k=3, block_size=128)
    assert np.allclose(got, dist[:, 3], rtol=1e-6)


@pytest.mark.parametrize("block_size", [1, 37, 256, 5000])
def test_block_size_independence(sets, block_size):
    n = 40 if block_size == 1 else 300  # one tile per pair of samples is slow
    x, y = sets[0][:n], sets[1][: n - 10]
    ref = _brute(x, y, 3, inclusive=True)
    pr = gm.precision_recall(x, y, k=3, block_size=block_size, progress=False)
    dc = gm.density_coverage(x, y, k=3, block_size=block_size, progress=False)
    assert (pr.precision, pr.recall) == (ref["precision"], ref["recall"])
    assert dc.density == pytest.approx(ref["density"], rel=1e-12)
    assert dc.coverage == ref["coverage"]


def test_identical_sets_and_duplicates():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 8))
    pr = gm.precision_recall(x, x, progress=False)
    assert (pr.precision, pr.recall) == (1.0, 1.0)
    dc = gm.density_coverage(x, x, k=5, progress=False)
    assert dc.coverage == 1.0
    dup = np.concatenate([x, x[:50]])  # exact duplicates are neighbours at distance 0
    ref = _brute(dup, x, 3, inclusive=True)
    got = gm.precision_recall(dup, x, k=3, block_size=64, progress=False)
    assert (got.precision, got.recall) == (ref["precision"], ref["recall"])
    ref_dc = _brute(dup, x, 3, inclusive=False)
    got_dc = gm.density_coverage(dup, x, k=3, block_size=64, progress=False)
    assert got_dc.density == pytest.approx(ref_dc["density"]) and got_dc.coverage == ref_dc["coverage"]


@pytest.mark.reference
def test_near_ties_are_decided_in_float64():
    """Fake samples placed at the real radius times (1 +- 2e-7): float32 distances
    cannot tell inside from outside; the result must be the float64 one."""
    rng = np.random.default_rng(2)
    d, k = 64, 3
    real = rng.normal(size=(120, d)) * 0.01 + 100.0  # large offset: cancellation in float32
    radii = knn_radii(real, k=k)
    direction = rng.normal(size=(120, d))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    sign = np.where(np.arange(120) % 2 == 0, 1.0, -1.0)
    fake = real + direction * (radii * (1 + sign * 2e-7))[:, None]
    ref = _brute(real, fake, k, inclusive=True)
    got = gm.precision_recall(real, fake, k=k, progress=False)
    assert got.precision == ref["precision"] and got.recall == ref["recall"]
    assert 0.2 < got.precision < 1.0
    dc = gm.density_coverage(real, fake, k=k, progress=False)
    ref_dc = _brute(real, fake, k, inclusive=False)
    assert dc.density == pytest.approx(ref_dc["density"]) and dc.coverage == ref_dc["coverage"]


@pytest.mark.reference
def test_many_exact_ties_precision_matches_torch_fidelity():
    """The issue's example: the origin, the 16 unit vectors and all sums of two
    of them in 16-D. The origin has 16 neighbours tied at distance 1 (more than
    the engine keeps per row), and each negated unit vector lies exactly on the
    origin's k = 3 ball (distance 1), so with ``<=`` every fake sample is inside."""
    d = 16
    e = np.eye(d)
    real = np.array([np.zeros(d), *e, *(e[i] + e[j] for i, j in itertools.combinations(range(d), 2))])
    fake = -e
    from torch_fidelity.metric_prc import calculate_precision_recall_full

    p_ref, r_ref = calculate_precision_recall_full(torch.from_numpy(fake).float(),
                                                   torch.from_numpy(real).float(), 3)
    got = gm.precision_recall(real, fake, k=3, progress=False)
    assert got.precision == p_ref == 1.0  # exact answer: every fake is on the origin's ball
    assert got.recall == pytest.approx(r_ref, abs=1e-7)
    assert got.recall == _brute(real, fake, 3, inclusive=True)["recall"]


@pytest.mark.reference
def test_duplicated_real_points_match_prdc():
    """Four real points that appear 31 times each (more than the engine keeps
    per row): their k-NN radius is exactly 0, so with prdc's ``<`` nothing is
    inside their balls, not even a fake sample equal to them. Integer
    coordinates make prdc's own distances (scikit-learn's expansion) exact."""
    rng = np.random.default_rng(0)
    base = rng.integers(-3, 4, size=(60, 6)).astype(np.float64)
    reps = base[:4]
    real = np.concatenate([base, np.repeat(reps, 30, axis=0)])
    fake = np.concatenate([rng.integers(-3, 4, size=(50, 6)).astype(np.float64), reps])
    ref = _prdc(real, fake, 5)
    got = gm.density_coverage(real, fake, k=5, block_size=16, progress=False)
    assert got.density == pytest.approx(ref["density"], rel=1e-12)
    assert got.coverage == ref["coverage"]
    assert np.all(knn_radii(real, k=5, block_size=16)[60:] == 0.0)


def _lattice_oracle(xi, yi, k, *, inclusive_pr, inclusive_dc):
    """Exact k-NN metrics of integer points: int64 squared distances, exact ties.

    Returns the real and fake squared radii (int64) and the four metrics, each
    as the exact count divided by its denominator.
    """
    dxx = ((xi[:, None] - xi[None]) ** 2).sum(-1)
    dyy = ((yi[:, None] - yi[None]) ** 2).sum(-1)
    dxy = ((xi[:, None] - yi[None]) ** 2).sum(-1)  # real x fake
    rx = np.sort(dxx, axis=1)[:, k]  # the sample itself is at index 0
    ry = np.sort(dyy, axis=1)[:, k]
    pr_in = np.less_equal if inclusive_pr else np.less
    dc_in = np.less_equal if inclusive_dc else np.less
    n, m = len(xi), len(yi)
    return rx, ry, dict(
        precision=int(pr_in(dxy, rx[:, None]).any(0).sum()) / m,
        recall=int(pr_in(dxy, ry[None, :]).any(1).sum()) / n,
        density=int(dc_in(dxy, rx[:, None]).sum()) / (k * m),
        coverage=int(dc_in(dxy, rx[:, None]).any(1).sum()) / n,
    )


@st.composite
def _lattice_case(draw, k):
    """Real and fake points drawn from a small pool of integer points (so many
    duplicates and exact ties), then scaled and shifted exactly in float64."""
    d = draw(st.integers(1, 5))
    pool = np.array(draw(st.lists(st.lists(st.integers(-2, 2), min_size=d, max_size=d),
                                  min_size=1, max_size=10)), dtype=np.int64)
    n = draw(st.integers(k + 1, 34))
    m = draw(st.integers(k + 1, 30))
    xi = pool[draw(st.lists(st.integers(0, len(pool) - 1), min_size=n, max_size=n))]
    # fakes: mostly from the pool, some from a slightly wider lattice
    yi = np.array(draw(st.lists(
        st.one_of(st.integers(0, len(pool) - 1).map(lambda i: list(pool[i])),
                  st.lists(st.integers(-3, 3), min_size=d, max_size=d)),
        min_size=m, max_size=m)), dtype=np.int64)
    step = draw(st.sampled_from([1.0, 0.5, 3.0]))
    offset = draw(st.sampled_from([0.0, -7.0, 1000.0]))  # 1000: cancellation in float32
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    block_size = draw(st.sampled_from([2, 3, 5, 8, 64]))
    inclusive_pr = draw(st.booleans())
    inclusive_dc = draw(st.booleans())
    return xi, yi, step, offset, dtype, block_size, inclusive_pr, inclusive_dc


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_lattice_ties_and_duplicates_match_exact_oracle(k):
    """Property test: on lattice data every float64 squared distance is an exact
    integer (times step**2), so the exact integer oracle is the reference;
    small blocks exercise the blocked paths and the rows with more near-ties
    than the engine keeps."""

    @settings(derandomize=True, max_examples=25, deadline=None)
    @given(case=_lattice_case(k))
    def check(case):
        xi, yi, step, offset, dtype, block_size, inc_pr, inc_dc = case
        x = (xi * step + offset).astype(dtype)
        y = (yi * step + offset).astype(dtype)
        rx, ry, ref = _lattice_oracle(xi, yi, k, inclusive_pr=inc_pr, inclusive_dc=inc_dc)
        assert np.array_equal(knn_radii(x, k=k, block_size=block_size), np.sqrt(rx * step**2))
        assert np.array_equal(knn_radii(y, k=k, block_size=block_size), np.sqrt(ry * step**2))
        pr = gm.precision_recall(x, y, k=k, block_size=block_size, inclusive=inc_pr, progress=False)
        dc = gm.density_coverage(x, y, k=k, block_size=block_size, inclusive=inc_dc, progress=False)
        got = dict(precision=pr.precision, recall=pr.recall, density=dc.density, coverage=dc.coverage)
        assert got == ref

    check()


def test_tf32_precision_setting_stays_exact(sets, monkeypatch):
    # Emulate a session that allowed reduced-precision float32 products: the
    # error bound must widen (or the tiles switch to float64) and stay exact.
    x, y = sets[0][:200], sets[1][:200]
    ref = _brute(x, y, 3, inclusive=True)
    monkeypatch.setattr(torch, "get_float32_matmul_precision", lambda: "medium")
    pr = gm.precision_recall(x, y, progress=False)
    assert (pr.precision, pr.recall) == (ref["precision"], ref["recall"])


def test_results_are_named_and_printable(sets):
    pr = gm.precision_recall(*sets, progress=False)
    assert "precision =" in str(pr) and set(pr.to_dict()) == {"value", "precision", "recall", "k", "n_real", "n_fake"}
    assert 0 <= pr.f_score <= 1
    dc = gm.density_coverage(*sets, progress=False)
    assert "coverage =" in str(dc) and dc.to_dict()["k"] == 5


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda x: gm.precision_recall(x, x, k=0), ValueError, "k must be >= 1"),
        (lambda x: gm.precision_recall(x[:3], x, k=3), ValueError, r"k=3 needs more than k samples in real \(it has 3\)"),
        (lambda x: gm.density_coverage(x, x[:, :4]), ValueError, "real has 8 features per sample but fake has 4"),
        (lambda x: gm.precision_recall(x, x, block_size=0), ValueError, "block_size must be >= 1"),
        (lambda x: gm.precision_recall(x, x, inclusive="yes"), TypeError, "inclusive must be True or False"),
        (lambda x: gm.precision_recall({"pool": x}, x), TypeError, r"pick one, e.g. real\['pool'\]"),
        (lambda x: gm.precision_recall(gm.FeatureStats.from_features(x), x), TypeError, "needs the per-sample features"),
    ],
)
def test_bad_input(call, exc, match):
    x = np.random.default_rng(0).normal(size=(20, 8))
    with pytest.raises(exc, match=match):
        call(x)


_MEMORY_SCRIPT = r"""
import json, resource, sys
import numpy as np, torch
import genmetrics_nb as gm
torch.set_num_threads(1)
n, d = int(sys.argv[1]), 8
rng = np.random.default_rng(0)
x = rng.normal(size=(n, d)).astype(np.float32); y = rng.normal(size=(n, d)).astype(np.float32)
gm.precision_recall(x[:300], y[:300], block_size=256, progress=False)  # warm up the allocator
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = gm.precision_recall(x, y, block_size=1024, progress=False)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_kib": after - before, "precision": r.precision}))
"""


@pytest.mark.slow
def test_memory_is_bounded():
    """12,000 x 12,000 float32 distances would take 576 MB; the blocked pass
    must stay far below that (tiles of 1024 x 1024 are 4 MB)."""
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, "12000"], capture_output=True,
                         text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["grew_kib"] < 150 * 1024, res
    assert res["precision"] > 0.5


@pytest.mark.gpu
def test_gpu_matches_cpu(sets):
    x, y = sets
    a = gm.precision_recall(x, y, device="cpu", progress=False)
    b = gm.precision_recall(x, y, device="cuda", progress=False)
    assert (a.precision, a.recall) == (b.precision, b.recall)
    c = gm.density_coverage(x, y, device="cpu", progress=False)
    g = gm.density_coverage(x, y, device="cuda", progress=False)
    assert c.density == pytest.approx(g.density, rel=1e-12) and c.coverage == g.coverage


def test_cli_prc_matches_api(sets, tmp_path, capsys):
    from genmetrics_nb.cli import main

    x, y = sets[0][:200], sets[1][:150]
    np.save(tmp_path / "real.npy", x)
    np.save(tmp_path / "fake.npy", y)
    assert main(["prc", str(tmp_path / "real.npy"), str(tmp_path / "fake.npy"), "--density-coverage",
                 "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    pr = gm.precision_recall(x, y, progress=False)
    dc = gm.density_coverage(x, y, k=3, progress=False)
    assert out["precision_recall"]["precision"] == pr.precision and out["precision_recall"]["recall"] == pr.recall
    assert out["density_coverage"]["density"] == pytest.approx(dc.density)
