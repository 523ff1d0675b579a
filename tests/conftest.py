"""Shared fixtures and the test tiers (markers are declared in pyproject.toml)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Under pytest-xdist (`make test`: one worker per core) each worker, and the
# notebook kernels and subprocesses it starts, computes on one thread, so the
# workers do not oversubscribe the cores. Set before numpy and torch load.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest

REPO = Path(__file__).resolve().parents[1]

# tests/reference holds scripts that wrote reference outputs with other packages' pins
# and transcriptions of reference code: imported by the tests, not collected themselves.
collect_ignore_glob = ["reference/*"]

# Tests never read or write the user's cache (~/.cache/genmetrics_nb): weights
# and feature caches go to a throw-away folder, inherited by the notebook
# kernels and torchrun workers the tests start.
os.environ["GENMETRICS_HOME"] = tempfile.mkdtemp(prefix="genmetrics-test-home-")
os.environ.pop("GENMETRICS_MANIFEST", None)


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
