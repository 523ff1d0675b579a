"""Saving and loading FCN checkpoints (the format of ``data/models/fcn8s-scenes.pt``).

A checkpoint holds the FCN's configuration, the encoder's identity and the
trainable state only (head and decoder when the encoder is frozen); the
encoder's ImageNet weights come from their own package or the weight manager.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from genmetrics_nb.device import resolve
from genmetrics_nb.segmentation.fcn import FCN
from genmetrics_nb.util.io import atomic_write

__all__ = ["CHECKPOINT_FORMAT", "save_fcn", "load_fcn"]


CHECKPOINT_FORMAT = "genmetrics-nb/fcn-1"


def atomic_torch_save(obj, path) -> Path:
    """``torch.save`` to a temporary file next to ``path``, renamed into place, readable by all."""
    path = Path(path)
    with atomic_write(path) as fh:
        torch.save(obj, fh)
    os.chmod(path, 0o644)  # mkstemp creates 0600; checkpoints are meant to be shared
    return path


def save_fcn(model: FCN, path, *, class_names=None, meta: dict | None = None) -> Path:
    """Write a small checkpoint: the configuration and the trainable state.

    With a frozen encoder only the head and decoder are stored (the encoder's
    ImageNet weights come from their own package / the weight manager when
    loading), which keeps an EfficientNet-Lite0 FCN-8s under 2 MB.
    """
    if not isinstance(model, FCN):
        raise TypeError(f"model must be a genmetrics_nb.segmentation.FCN, got {type(model).__name__}")
    state = {k: v.detach().cpu().clone() for k, v in model.trainable_state_dict().items()}
    obj = {
        "format": CHECKPOINT_FORMAT,
        "config": dict(model.config),
        "encoder": model.encoder_id,
        "class_names": list(class_names) if class_names is not None else None,
        "state": state,
        "meta": json.loads(json.dumps(meta or {})),
    }
    atomic_torch_save(obj, path)
    return Path(path)


def load_fcn(path, *, device="cpu", encoder_weights=None) -> FCN:
    """Rebuild an FCN from :func:`save_fcn`'s checkpoint (eval mode).

    Raises
    ------
    ValueError
        If the file is not such a checkpoint or its encoder weights differ
        from the ones available here (the decoder would not fit them).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no FCN checkpoint at {path}")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(obj, dict) or obj.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a genmetrics-nb FCN checkpoint (format {CHECKPOINT_FORMAT!r})")
    cfg = dict(obj["config"])
    model = FCN(
        cfg.pop("encoder"), variant=cfg.pop("variant"), num_classes=cfg.pop("num_classes"),
        weights=encoder_weights, **cfg,
    )  # fmt: skip
    if cfg["freeze_encoder"] and obj.get("encoder") != model.encoder_id:
        raise ValueError(
            f"{path} was trained on encoder weights {obj.get('encoder')!r} but {model.encoder_id!r} "
            "are installed; pass encoder_weights= with the original checkpoint"
        )
    missing, unexpected = model.load_state_dict(obj["state"], strict=False)
    bad_missing = [k for k in missing if not (cfg["freeze_encoder"] and k.startswith("encoder."))]
    if bad_missing or unexpected:
        raise ValueError(f"{path} does not fit the model: missing {bad_missing[:5]}, unexpected {unexpected[:5]}")
    model.class_names = obj.get("class_names")
    return model.to(resolve(device)).eval()
