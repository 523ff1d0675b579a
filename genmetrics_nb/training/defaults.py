"""Training defaults, one table each, shared by the Python functions and the CLI (no torch import)."""
from __future__ import annotations

__all__ = ["GENERATOR_DEFAULTS", "CLASSIFIER_DEFAULTS", "FCN_DEFAULTS", "FCN_SCHEDULES"]

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

#: genmetrics_nb.training.fcn.train_fcn's defaults (``TRAIN_DEFAULTS`` there).
FCN_DEFAULTS = {"epochs": 12, "batch_size": 32, "lr": 1e-3, "weight_decay": 1e-4, "seed": 0}
#: Learning-rate schedules of train_fcn (``SCHEDULES`` there; see ``lr_at``).
FCN_SCHEDULES = ("constant", "cosine")
