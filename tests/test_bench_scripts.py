"""The benchmark scripts run: their smoke modes exit 0 (no timing is asserted).

``bench/gpu.sh --dry-run`` runs every step of the GPU benchmark on the CPU
with tiny sizes (imports, arguments, the FID command); ``bench/roofline.py
--quick`` measures efficientnet-lite0 at batch 2; ``bench/end_to_end.py
--dry-run`` builds the image folders and puts the same random weights where
each peer looks for them, and checks that each tool's loader would find them.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, tmp_path, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS="1", GENMETRICS_OFFLINE="1", PYTHON=sys.executable,
               GENMETRICS_HOME=str(tmp_path / "home"))
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "GENMETRICS_MANIFEST"):
        env.pop(k, None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bash script")
def test_gpu_script_dry_run(tmp_path):
    out = _run(["bash", "bench/gpu.sh", "--dry-run"], tmp_path)
    for step in ("[extractors]", "[decode]", "[frechet]", "[knn]", "[peers]", "[fid50k]"):
        assert step in out
    assert "no numbers claimed" in out
    assert not list((ROOT / "bench" / "results").glob("gpu-cpu*")), "a dry run must not write results"


def test_roofline_quick(tmp_path):
    out = _run([sys.executable, "bench/roofline.py", "--quick", "--extractors", "efficientnet-lite0,no-such-net",
                "--no-variants"], tmp_path)
    assert "| efficientnet-lite0 | 224x224 |" in out
    assert "fused plan" in out
    assert "no-such-net: skipped, not registered" in out


def test_end_to_end_dry_run(tmp_path):
    out = _run([sys.executable, "bench/end_to_end.py", "--dry-run", "--workdir", str(tmp_path / "e2e")], tmp_path)
    assert "nothing timed" in out
    for tool in ("genmetrics-nb:", "pytorch-fid:", "clean-fid:", "torch-fidelity:"):
        assert tool in out
    # the same checkpoint where each tool looks for it
    hub = tmp_path / "e2e" / "torch_home" / "hub" / "checkpoints"
    ours = next((tmp_path / "e2e" / "genmetrics_home" / "weights").glob("pt_inception-*.pth"))
    for name in ("pt_inception-2015-12-05-6726825d.pth", "weights-inception-2015-12-05-6726825d.pth"):
        assert (hub / name).read_bytes() == ours.read_bytes()
