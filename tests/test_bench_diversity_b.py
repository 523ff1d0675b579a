"""bench/diversity_b.py runs: its quick mode on two metrics exits 0 and prints its table (no timing asserted)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_diversity_b_quick(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", GENMETRICS_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "bench/diversity_b.py", "--quick", "--metrics", "pp_pr", "authpct"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| pp_pr |" in proc.stdout and "| authpct |" in proc.stdout
    assert "error" not in proc.stdout
