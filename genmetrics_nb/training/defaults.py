"""Training defaults, one table each, shared by the Python functions and the CLI (no torch import)."""
from __future__ import annotations

__all__ = ["GENERATOR_DEFAULTS", "CLASSIFIER_DEFAULTS"]

GENERATOR_DEFAULTS = {
    "iterations": 2000,
    "snapshots": (250, 500, 1000, 2000),
    "batch_size": 32,
    "lr": 0.0025,
    "r1_gamma": 0.5,
    "r1_interval": 16,
    "ema_beta": 0.995,
    "seed": 0,
    "threads": 1,
    "fid_samples": 2000,
    "fid_seed": 12345,
}

CLASSIFIER_DEFAULTS = {"epochs": 2, "batch_size": 128, "lr": 1e-3, "seed": 0, "threads": 1}
