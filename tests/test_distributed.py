"""Sharding with torchrun: 2 CPU processes (gloo) must equal one process.

The same script runs once under ``torchrun --standalone --nproc_per_node=2``
and once as a plain single process (both with one thread per process, so
convolutions reduce in the same order). Gathered features must be identical,
merged statistics equal within 1e-9 relative, and a rank that receives no
images must neither hang nor change the result.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = [pytest.mark.distributed, pytest.mark.slow]

_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import genmetrics_nb as gm
    from genmetrics_nb.cli import main
    from genmetrics_nb.features import distributed as dd, feature_stats

    out, n, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    x = np.random.default_rng(0).integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    kw = dict(batch_size=4, device="cpu", cache=False, progress=False)
    f = gm.extract_features(x, "efficientnet-lite0", **kw)
    s = feature_stats(x, "efficientnet-lite0", **kw)
    if folder != "-":
        rc = main(["stats", folder, "--extractor", "efficientnet-lite0", "--out", out + ".cli.npz",
                   "--no-cache", "--no-progress", "--num-workers", "0", "--batch-size", "4"])
        assert rc == 0
    if dd.rank() == 0:
        np.savez(out, pool=f["pool"], logits=f["logits"], index=f.index, n=s.n, sum=s.sum,
                 outer=s.outer, sigma=s.sigma, world=f.meta["world_size"], sworld=s.meta["world_size"])
    """
)


def _torchrun():
    exe = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "torch.distributed.run"]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    return env


def _run_pair(tmp_path, n, folder):
    script = tmp_path / "job.py"
    script.write_text(_SCRIPT)
    single, multi = str(tmp_path / f"single{n}.npz"), str(tmp_path / f"multi{n}.npz")
    subprocess.run([sys.executable, str(script), single, str(n), folder], env=_env(), check=True,
                   timeout=300)
    subprocess.run([*_torchrun(), "--standalone", "--nproc_per_node=2", str(script), multi, str(n), folder],
                   env=_env(), check=True, timeout=300)  # a hung rank would hit the timeout
    return np.load(single), np.load(multi)


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def _write_pngs(n, folder):
    from PIL import Image

    x = np.random.default_rng(0).integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    folder.mkdir()
    for i, img in enumerate(x):
        Image.fromarray(img.transpose(1, 2, 0)).save(folder / f"{i:03d}.png")
    return str(folder)


def test_two_processes_equal_one(tmp_path):
    folder = _write_pngs(18, tmp_path / "imgs")
    one, two = _run_pair(tmp_path, 18, folder)
    assert int(one["world"]) == 1 and int(two["world"]) == 2 and int(two["sworld"]) == 2
    # Gathered features: identical, in the original order.
    np.testing.assert_array_equal(two["index"], np.arange(18))
    np.testing.assert_array_equal(two["pool"], one["pool"])
    np.testing.assert_array_equal(two["logits"], one["logits"])
    # Statistics merged by summing sufficient statistics.
    assert int(two["n"]) == int(one["n"]) == 18
    assert _rel(two["sum"], one["sum"]) <= 1e-9
    assert _rel(two["outer"], one["outer"]) <= 1e-9
    assert _rel(two["sigma"], one["sigma"]) <= 1e-9
    # The statistics from the features of the single run (reference: numpy).
    np.testing.assert_allclose(one["sigma"], np.cov(one["pool"].astype(np.float64), rowvar=False),
                               rtol=1e-9, atol=1e-12)
    # The CLI under torchrun writes the same statistics as without.
    from genmetrics_nb import FeatureStats

    s1 = FeatureStats.load(str(tmp_path / "single18.npz") + ".cli.npz")
    s2 = FeatureStats.load(str(tmp_path / "multi18.npz") + ".cli.npz")
    assert s1.n == s2.n == 18 and s2.meta["world_size"] == 2
    assert _rel(s2.sigma, s1.sigma) <= 1e-9
    np.testing.assert_allclose(s1.mu, one["pool"].astype(np.float64).mean(0), rtol=1e-6)


def test_rank_without_images_does_not_hang(tmp_path):
    # 3 images in batches of 4: one batch, so rank 1 gets nothing.
    one, two = _run_pair(tmp_path, 3, "-")
    np.testing.assert_array_equal(two["pool"], one["pool"])
    assert int(two["n"]) == 3
    assert _rel(two["outer"], one["outer"]) <= 1e-9
