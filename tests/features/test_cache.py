"""Faults and edge cases of the feature engine, its cache and the statistics (issue 7).

- two processes extracting the same features into one cache at once;
- truncated / corrupted feature-cache, chunk and statistics files;
- statistics with n <= D, a zero covariance, nearly singular covariances.

Already covered elsewhere (not repeated here): SIGKILL + resume of one
extraction (tests/features/test_engine.py), torchrun with an empty rank
(tests/features/test_distributed.py), weights checksum / truncation / interrupted
download (tests/weights/test_weights.py).

Every test says in a comment what it catches, i.e. which behaviour, once
removed, makes it fail.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.features import cache as fcache
from genmetrics_nb.features import feature_stats
from genmetrics_nb.testing.extractors import register_tiny_extractor

TINY = "test-faults-tiny"


# A tiny deterministic extractor (registered here and in the subprocesses) so
# that the engine's mechanics are exercised in milliseconds.
register_tiny_extractor(TINY)


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _images(n=24, size=24, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 3, size, size), dtype=np.uint8)


def _run(source, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("device", "cpu")
    kw.setdefault("batch_size", 4)
    kw.setdefault("num_workers", 0)
    return gm.extract_features(source, TINY, **kw)


class _Images:
    """A cacheable Dataset over an array; ``fail_at`` simulates a crash part way."""

    fingerprint = "faults-dataset-v1"

    def __init__(self, x, fail_at=None):
        self.x, self.fail_at = x, fail_at

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        if self.fail_at is not None and i >= self.fail_at:
            raise RuntimeError(f"simulated crash at image {i}")
        return self.x[i]


def _files(root, pattern):
    return sorted(p for p in root.rglob(pattern) if p.is_file())


# ----------------------------------------------------------------------------
# ways to damage a file
# ----------------------------------------------------------------------------
def _cut_in_half(p):
    b = p.read_bytes()
    p.write_bytes(b[: len(b) // 2])


def _flip_a_byte(p):
    """Flip one byte in the middle of the largest member's stored data (not in a zip header)."""
    import zipfile

    with zipfile.ZipFile(p) as z:
        info = max(z.infolist(), key=lambda i: i.compress_size)
    b = bytearray(p.read_bytes())
    off = info.header_offset  # local header: 30 bytes, then the name and the extra field
    start = off + 30 + int.from_bytes(b[off + 26:off + 28], "little") + int.from_bytes(b[off + 28:off + 30], "little")
    b[start + info.compress_size // 2] ^= 0xFF
    p.write_bytes(bytes(b))


def _empty(p):
    p.write_bytes(b"")


def _rewrite_one_value(p):
    """A well-formed archive (valid zip CRCs) whose arrays no longer match its sha256."""
    with np.load(p) as d:
        arrays = {k: d[k] for k in d.files}
    big = max((k for k in arrays if arrays[k].dtype.kind == "f"), key=lambda k: arrays[k].size)
    arrays[big] = arrays[big].copy()
    arrays[big].flat[arrays[big].size // 2] += 0.5
    with open(p, "wb") as fh:
        np.savez(fh, **arrays)


DAMAGE = {"cut-in-half": _cut_in_half, "byte-flipped": _flip_a_byte, "empty": _empty,
          "value-rewritten": _rewrite_one_value}


# ----------------------------------------------------------------------------
# two processes, one cache
# ----------------------------------------------------------------------------
_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    import numpy as np, torch
    import genmetrics_nb as gm
    from genmetrics_nb.testing.extractors import register_tiny_extractor

    torch.set_num_threads(1)
    register_tiny_extractor("test-faults-tiny")

    class Slow:  # a cacheable dataset that takes its time
        fingerprint = "faults-concurrency-v1"
        def __init__(self, x, delay):
            self.x, self.delay = x, delay
        def __len__(self):
            return len(self.x)
        def __getitem__(self, i):
            time.sleep(self.delay)
            return self.x[i]

    out, delay, go = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    x = np.random.default_rng(0).integers(0, 256, (32, 3, 24, 24), dtype=np.uint8)
    kw = dict(batch_size=4, num_workers=0, device="cpu")
    open(out + ".ready", "w").close()
    while not os.path.exists(go):  # start line: both processes call the engine together
        time.sleep(0.002)
    f = gm.extract_features(Slow(x, delay), "test-faults-tiny", chunk_size=8, cache=True,
                            progress=True, **kw)
    # The uninterrupted single run: same batches, no cache, same process settings.
    ref = gm.extract_features(x, "test-faults-tiny", cache=False, progress=False, **kw)
    np.savez(out, feat=f["feat"], mean=f["mean"], index=f.index, ref_feat=ref["feat"],
             ref_mean=ref["mean"], meta=json.dumps(f.meta, default=str))
    """
)


def _start(tmp_path, name, delay, go, env):
    script = tmp_path / "extract.py"
    if not script.exists():
        script.write_text(_SCRIPT)
    out = tmp_path / f"{name}.npz"
    err = open(tmp_path / f"{name}.err", "w")
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(delay), str(go)], env=env,
                            stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    return proc, out


def _wait_for(cond, what, procs, timeout=120):
    deadline = time.time() + timeout
    while not cond():
        for p in procs:
            if p.poll() is not None and p.returncode != 0:
                pytest.fail(f"a process died (rc {p.returncode}) while waiting for {what}")
        if time.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _env(home):
    return dict(os.environ, GENMETRICS_HOME=str(home), OMP_NUM_THREADS="1")


def _assert_cache_is_clean_and_valid(home, expected_feat):
    """Exactly one finished entry, which passes its checksum and holds ``expected_feat``;
    no chunks, temporaries or lock files left behind."""
    feats = home / "features"
    entries = sorted(feats.glob("*.npz"))
    assert len(entries) == 1, entries
    data = fcache.read_checked_npz(entries[0])  # raises if the checksum does not match
    np.testing.assert_array_equal(data["out.feat"], expected_feat)
    assert _files(feats / "partial", "*") == []
    assert [p for p in _files(feats, "*") if ".tmp" in p.name] == []
    assert _files(feats / "locks", "*") == []


@pytest.mark.slow
def test_two_processes_extracting_into_one_cache_at_once(tmp_path, _home):
    # Two real processes are released from a start line at the same moment and
    # extract the same source (32 images, 1.6 s of loading each) with the same
    # extractor into the same GENMETRICS_HOME.
    # Catches: removing the per-key lock (then both compute -- two "miss" -- and
    # the first one's cleanup of the chunk folder races the second one's chunk
    # writes), non-atomic or unchecked files (a reader would hit a half-written
    # file: a crash or a "corrupt" warning on stderr), and any difference from
    # an uninterrupted run.
    env, go = _env(_home), tmp_path / "go"
    a, out_a = _start(tmp_path, "a", 0.05, go, env)
    b, out_b = _start(tmp_path, "b", 0.05, go, env)
    try:
        _wait_for(lambda: os.path.exists(f"{out_a}.ready") and os.path.exists(f"{out_b}.ready"),
                  "both processes to be ready", [a, b])
        go.touch()
        assert a.wait(timeout=180) == 0, (tmp_path / "a.err").read_text()[-3000:]
        assert b.wait(timeout=180) == 0, (tmp_path / "b.err").read_text()[-3000:]
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
    ra, rb = np.load(out_a), np.load(out_b)
    metas = [json.loads(str(ra["meta"])), json.loads(str(rb["meta"]))]
    # Serialised: one computed, the other waited for it and read its entry.
    assert sorted(m["cache"] for m in metas) == ["hit", "miss"], metas
    waiter = "a" if metas[0]["cache"] == "hit" else "b"
    assert max(m["lock_wait_s"] for m in metas) > 0.5
    assert "waiting for another process" in (tmp_path / f"{waiter}.err").read_text()
    # Both results are exactly the uninterrupted run's.
    for r in (ra, rb):
        np.testing.assert_array_equal(r["feat"], r["ref_feat"])
        np.testing.assert_array_equal(r["mean"], r["ref_mean"])
        np.testing.assert_array_equal(r["index"], np.arange(32))
    np.testing.assert_array_equal(ra["feat"], rb["feat"])
    # Nothing damaged was ever read, and the cache is valid afterwards.
    for name in ("a", "b"):
        assert "corrupt" not in (tmp_path / f"{name}.err").read_text()
    _assert_cache_is_clean_and_valid(_home, ra["ref_feat"])


@pytest.mark.slow
def test_waiting_process_resumes_when_the_lock_holder_is_killed(tmp_path, _home):
    # A (slow) holds the lock and has persisted some chunks; B arrives, waits
    # and says for whom; A is killed with SIGKILL. The kernel drops A's lock,
    # B takes over, resumes from A's chunks and returns the uninterrupted
    # run's features. Catches: a lock that outlives its holder (B hangs -> the
    # timeout fails the test), no lock (B never waits), and a resume that
    # ignores or mangles the chunks of the killed process.
    env = _env(_home)
    go_a, go_b = tmp_path / "go-a", tmp_path / "go-b"
    a, out_a = _start(tmp_path, "a", 0.25, go_a, env)  # 32 images x 0.25 s: ~8 s in all
    b, out_b = _start(tmp_path, "b", 0.0, go_b, env)
    partial = _home / "features" / "partial"
    try:
        _wait_for(lambda: os.path.exists(f"{out_a}.ready") and os.path.exists(f"{out_b}.ready"),
                  "both processes to be ready", [a, b])
        go_a.touch()
        _wait_for(lambda: len(_files(partial, "chunk-*.npz")) >= 1, "A's first chunk", [a, b])
        go_b.touch()
        _wait_for(lambda: "waiting for another process" in (tmp_path / "b.err").read_text(),
                  "B to report that it waits", [a, b])
        assert a.poll() is None, "A finished before it could be killed"
        os.kill(a.pid, signal.SIGKILL)
        a.wait()
        assert b.wait(timeout=180) == 0, (tmp_path / "b.err").read_text()[-3000:]
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
    assert f"pid {a.pid}" in (tmp_path / "b.err").read_text()  # the notice names the holder
    assert not out_a.exists()
    rb = np.load(out_b)
    meta = json.loads(str(rb["meta"]))
    assert meta["cache"] == "miss" and meta["resumed_chunks"] >= 1, meta
    np.testing.assert_array_equal(rb["feat"], rb["ref_feat"])
    np.testing.assert_array_equal(rb["mean"], rb["ref_mean"])
    _assert_cache_is_clean_and_valid(_home, rb["ref_feat"])


def test_a_writer_that_dies_before_the_rename_leaves_the_old_file_intact(tmp_path, monkeypatch):
    # Every cache write goes to a temporary name and is renamed into place.
    # Catches: writing straight to the final path -- a writer that dies part
    # way would then leave a half-written file where readers look.
    path = tmp_path / "entry.npz"
    fcache.write_checked_npz(path, {"x": np.arange(1000.0)})

    def die(fd):
        raise OSError("simulated crash while writing")

    monkeypatch.setattr(os, "fsync", die)
    with pytest.raises(OSError, match="simulated crash"):
        fcache.write_checked_npz(path, {"x": -np.arange(1000.0)})
    monkeypatch.undo()
    np.testing.assert_array_equal(fcache.read_checked_npz(path)["x"], np.arange(1000.0))
    assert [p.name for p in tmp_path.iterdir()] == ["entry.npz"]  # no temporary left


# ----------------------------------------------------------------------------
# damaged cache files: reported by name, deleted, recomputed
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_feature_cache_entry_is_reported_and_recomputed(_home, damage):
    # Catches: no checksum / load check (a cut or flipped file crashes with
    # zipfile.BadZipFile; a rewritten value is silently returned), and a
    # damaged entry that is used or left in place instead of being recomputed.
    x = _images()
    first = _run(x, cache=True)
    assert first.meta["cache"] == "miss"
    entry = _home / "features" / f"{first.meta['cache_key']}.npz"
    DAMAGE[damage](entry)
    with pytest.warns(fcache.CacheCorruptionWarning, match=re.escape(str(entry))):
        again = _run(x, cache=True)
    assert again.meta["cache"] == "miss"  # recomputed, not read
    np.testing.assert_array_equal(again["feat"], first["feat"])
    np.testing.assert_array_equal(again["mean"], first["mean"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", fcache.CacheCorruptionWarning)
        third = _run(x, cache=True)  # the rewritten entry is valid
    assert third.meta["cache"] == "hit"
    np.testing.assert_array_equal(third["feat"], first["feat"])


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_chunk_is_reported_and_recomputed_on_resume(_home, damage):
    # A run crashes after persisting chunks 0 and 1 (8 images each); chunk 0 is
    # then damaged. The next run must report it by name, recompute it, reuse
    # chunk 1, and return exactly the features of an uninterrupted run.
    # Catches: resuming from an unchecked chunk (crash, or wrong features).
    x = _images(24)
    with pytest.raises(RuntimeError, match="simulated crash"):
        _run(_Images(x, fail_at=20), cache=True, chunk_size=8)
    chunks = _files(_home / "features" / "partial", "chunk-*.npz")
    assert [c.name for c in chunks] == ["chunk-000000.npz", "chunk-000001.npz"]
    DAMAGE[damage](chunks[0])
    with pytest.warns(fcache.CacheCorruptionWarning, match=re.escape(str(chunks[0]))):
        f = _run(_Images(x), cache=True, chunk_size=8)
    assert f.meta["resumed_chunks"] == 1  # chunk 1 reused, chunk 0 recomputed
    reference = _run(x, cache=False)  # the uninterrupted run
    np.testing.assert_array_equal(f["feat"], reference["feat"])
    np.testing.assert_array_equal(f["mean"], reference["mean"])
    _assert_cache_is_clean_and_valid(_home, reference["feat"])


@pytest.mark.parametrize("damage", ["cut-in-half", "value-rewritten"])
def test_damaged_statistics_cache_is_reported_and_recomputed(_home, damage):
    # gm.feature_stats caches statistics under features/stats/. Catches: a
    # damaged statistics cache that is used (wrong numbers, or a crash) or
    # skipped silently.
    x = _images(12)
    kw = dict(output="feat", batch_size=4, device="cpu", progress=False, num_workers=0)
    first = feature_stats(x, TINY, cache=True, **kw)
    assert first.meta["cache"] == "miss"
    path = _home / "features" / "stats" / f"{first.meta['cache_key']}.npz"
    DAMAGE[damage](path)
    with pytest.warns(fcache.CacheCorruptionWarning, match=re.escape(str(path))):
        again = feature_stats(x, TINY, cache=True, **kw)
    assert again.meta["cache"] == "miss"
    np.testing.assert_array_equal(again.mu, first.mu)
    np.testing.assert_array_equal(again.sigma, first.sigma)
    assert feature_stats(x, TINY, cache=True, **kw).meta["cache"] == "hit"


# ----------------------------------------------------------------------------
# a damaged statistics file given by the user: refused, never used
# ----------------------------------------------------------------------------
def _user_stats(tmp_path, kind):
    x = np.random.default_rng(3).normal(size=(200, 8)) + 2.0
    path = tmp_path / f"{kind}.npz"
    if kind == "genmetrics":
        gm.FeatureStats.from_features(x).save(path)
    else:  # what pytorch-fid --save-stats and clean-fid write: no checksum member
        np.savez_compressed(path, mu=x.mean(0), sigma=np.cov(x, rowvar=False))
    return path


@pytest.mark.parametrize("kind", ["genmetrics", "pytorch-fid"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_user_statistics_file_is_refused(tmp_path, kind, damage):
    # Catches: a load that lets zipfile.BadZipFile / zlib.error escape (not a
    # ValueError that names the file and the fix), and a rewritten file
    # accepted without its checksum (genmetrics files carry one; a rewritten
    # pytorch-fid file is well-formed and unverifiable, so it is loaded).
    path = _user_stats(tmp_path, kind)
    intact = gm.FeatureStats.load(path)
    DAMAGE[damage](path)
    if kind == "pytorch-fid" and damage == "value-rewritten":
        assert not np.array_equal(gm.FeatureStats.load(path).sigma, intact.sigma)
        return
    with pytest.raises(ValueError, match=re.escape(repr(str(path))) + r".*recompute it"):
        gm.FeatureStats.load(path)


def test_fid_refuses_a_damaged_statistics_file(tmp_path):
    # The refusal reaches the metric: gm.fid given a damaged stats file names it.
    good = _user_stats(tmp_path, "genmetrics")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(good.read_bytes())
    _flip_a_byte(bad)
    with pytest.raises(ValueError, match=re.escape(repr(str(bad))) + r".*not used"):
        gm.fid(str(bad), str(good), progress=False, device="cpu")


def test_inconsistent_statistics_file_is_refused(tmp_path):
    # A file that reads back fine but cannot be statistics (a sigma that does
    # not match mu). Catches: shape checks removed from FeatureStats.load.
    path = tmp_path / "odd.npz"
    np.savez(path, mu=np.zeros(4), sigma=np.eye(3))
    with pytest.raises(ValueError, match=r"odd\.npz.*expected D and D x D"):
        gm.FeatureStats.load(path)


# ----------------------------------------------------------------------------
# statistics edge cases: n <= D, zero covariance, nearly singular covariances
# ----------------------------------------------------------------------------
def _gram_reference(x, y):
    """Squared Frechet distance of two sample sets via an identity independent of our code.

    With centred data A (n_a x D), B (n_b x D), S_a = A^T A / (n_a - 1) and
    S_b = B^T B / (n_b - 1), tr sqrt(S_a^1/2 S_b S_a^1/2) equals the nuclear
    norm of A B^T over sqrt((n_a - 1)(n_b - 1)) (the singular values of
    (A^T A)^1/2 (B^T B)^1/2 and of A B^T coincide). numpy's SVD of the small
    n_a x n_b matrix -- no D x D square root at all.
    """
    a, b = x - x.mean(0), y - y.mean(0)
    na, nb = len(x), len(y)
    tr_sqrt = np.linalg.svd(a @ b.T, compute_uv=False).sum() / np.sqrt((na - 1) * (nb - 1))
    mean = np.sum((x.mean(0) - y.mean(0)) ** 2)
    return mean + np.trace(np.cov(x, rowvar=False)) + np.trace(np.cov(y, rowvar=False)) - 2 * tr_sqrt


@pytest.mark.reference
@pytest.mark.parametrize("n", [2, 5, 16])
def test_n_at_most_d_warns_and_stays_finite(n):
    # D = 16 features, n <= D samples on one side: a singular covariance. The
    # metric issue asks for a warning (n <= D biases FID) and a finite value.
    # Reference: the Gram identity above (numpy SVD). Catches: the warning
    # removed, a NaN/complex result, or a wrong square root on singular input.
    from genmetrics_nb.metrics.distribution.frechet import SingularCovarianceWarning

    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 16))
    y = rng.normal(size=(40, 16)) * 1.5 + 0.3
    with pytest.warns(SingularCovarianceWarning, match=rf"a has n = {n} <= D = 16"):
        r = gm.frechet_distance(gm.FeatureStats.from_features(x), gm.FeatureStats.from_features(y),
                                device="cpu")
    assert np.isfinite(r.value) and r.rank_a == n - 1  # centred n points span n - 1 dimensions
    np.testing.assert_allclose(r.value, _gram_reference(x, y), rtol=1e-7)


@pytest.mark.reference
@pytest.mark.parametrize("offset", [0.1, 1e3])
def test_zero_covariance_of_identical_samples(offset):
    # Every sample identical (e.g. a collapsed generator), far from the origin.
    # Reference: np.cov of identical rows is exactly 0, and then the Frechet
    # distance to N(mu_b, S_b) is |v - mu_b|^2 + tr(S_b) in closed form (the
    # cross term vanishes). Catches: accumulating x x^T without a shift, which
    # leaves +-round-off "variances" (up to 3e-8 at offset 1e3) that
    # frechet_distance then refuses as negative -- an error instead of a number.
    rng = np.random.default_rng(1)
    v = (rng.normal(size=32) * offset).astype(np.float32)
    x = np.repeat(v[None], 300, axis=0)
    s = gm.FeatureStats(32)
    for part in np.array_split(x, 5):  # streamed in batches, as the engine does
        s.update(part)
    s = s.merge(gm.FeatureStats.from_features(x[:50]))  # and merged with another shard
    np.testing.assert_array_equal(s.sigma, np.cov(x.astype(np.float64), rowvar=False))
    assert not s.sigma.any()
    y = rng.normal(size=(300, 32))
    t = gm.FeatureStats.from_features(y)
    r = gm.frechet_distance(s, t, device="cpu", diagnostics=True)
    expected = np.sum((v.astype(np.float64) - y.mean(0)) ** 2) + np.trace(np.cov(y, rowvar=False))
    np.testing.assert_allclose(r.value, expected, rtol=1e-12)
    assert r.rank_a == 0 and r.rank_b == 32
    assert gm.frechet_distance(s, s, device="cpu").value == 0.0


@pytest.mark.reference
def test_constant_feature_columns_keep_exact_statistics():
    # Dead units (a feature that is the same in every image) make the
    # covariance singular with n > D. Reference: numpy mean/cov; the dead
    # columns' variances must be exactly 0 and the rank is numpy's
    # matrix_rank. No n <= D warning is due (n > D). Catches: cancellation in
    # the accumulated statistics and a spurious or missing warning.
    from genmetrics_nb.metrics.distribution.frechet import SingularCovarianceWarning

    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 12)) * 0.01 + 500.0  # small spread, large offset
    x[:, [3, 7]] = [250.0, -1e4]
    s = gm.FeatureStats.from_features(x, batch_size=64)
    ref = np.cov(x, rowvar=False)
    np.testing.assert_allclose(s.sigma, ref, rtol=1e-9, atol=1e-16)
    assert not s.sigma[:, [3, 7]].any() and not s.sigma[[3, 7]].any()
    y = rng.normal(size=(400, 12)) * 0.01 + 500.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", SingularCovarianceWarning)
        r = gm.frechet_distance(s, gm.FeatureStats.from_features(y), device="cpu")
    assert r.rank_a == np.linalg.matrix_rank(ref) == 10
    np.testing.assert_allclose(r.value, _gram_reference(x, y), rtol=1e-7)


@pytest.mark.reference
def test_nearly_singular_covariances():
    # Condition numbers of 1e15. (1) Commuting covariances Q diag(a) Q^T and
    # Q diag(b) Q^T: closed form |dmu|^2 + sum (sqrt a_i - sqrt b_i)^2.
    # (2) Sample covariances of data squeezed along 8 directions by up to
    # 1e-7 (n > D, so no warning): the Gram identity. Catches: a NaN from the
    # square root of a negative round-off eigenvalue, or a loss of accuracy.
    rng = np.random.default_rng(4)
    d = 16
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    ea, eb = np.logspace(0, -15, d), 2 * np.logspace(-15, 0, d)
    sa, sb = q @ np.diag(ea) @ q.T, q @ np.diag(eb) @ q.T
    sa, sb = (sa + sa.T) / 2, (sb + sb.T) / 2
    mu_a, mu_b = rng.normal(size=d), rng.normal(size=d)
    r = gm.frechet_distance((mu_a, sa), (mu_b, sb), device="cpu")
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(ea) - np.sqrt(eb)) ** 2)
    assert np.isfinite(r.value)
    np.testing.assert_allclose(r.value, expected, rtol=1e-8)

    from genmetrics_nb.metrics.distribution.frechet import SingularCovarianceWarning

    squeeze = np.r_[np.ones(8), np.logspace(-1, -7, 8)]
    x = rng.normal(size=(100, d)) * squeeze @ q.T
    y = rng.normal(size=(120, d)) * squeeze[::-1] @ q.T + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error", SingularCovarianceWarning)
        r = gm.frechet_distance(gm.FeatureStats.from_features(x), gm.FeatureStats.from_features(y),
                                device="cpu")
    assert np.isfinite(r.value)
    np.testing.assert_allclose(r.value, _gram_reference(x, y), rtol=1e-7)


@pytest.mark.reference
def test_round_off_zero_covariance_from_another_library_is_accepted():
    # torchmetrics' FrechetInceptionDistance keeps sum and x^T x and computes
    # cov = (cov_sum - n mu^T mu) / (n - 1) (torchmetrics/image/fid.py,
    # compute()). For identical samples that leaves a "zero" covariance with
    # round-off of either sign on the diagonal (-1e-14 here). Expected: a
    # finite distance, |v - mu_b|^2 + tr(S_b) (closed form), not a refusal.
    # Catches: frechet_distance judging "negative variances" against max|sigma|
    # alone (reported in /work/notes/requests.md, fixed in frechet.py).
    rng = np.random.default_rng(0)
    v = rng.normal(size=64).astype(np.float32).astype(np.float64)
    x = np.repeat(v[None], 500, axis=0)
    n, mu = len(x), x.mean(0)
    sigma = (x.T @ x - n * np.outer(mu, mu)) / (n - 1)
    sigma = (sigma + sigma.T) / 2
    assert sigma.diagonal().min() < 0  # the round-off this case is about
    y = rng.normal(size=(500, 64))
    r = gm.frechet_distance((mu, sigma), (y.mean(0), np.cov(y, rowvar=False)), device="cpu")
    expected = np.sum((v - y.mean(0)) ** 2) + np.trace(np.cov(y, rowvar=False))
    np.testing.assert_allclose(r.value, expected, rtol=1e-6)
