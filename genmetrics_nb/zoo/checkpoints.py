"""The shipped Fashion-MNIST models: file format, manifest, and loaders.

Checkpoints live in ``data/models/`` of the repository, listed in
``data/models/manifest.json`` (one entry per file: sha256, size, the exact
command that produced it, seed, training time, and for generators the FID
against the Fashion-MNIST test set with ``efficientnet-lite0`` features).
Weights are stored in float16 to keep the repository small; they are loaded
into float32 modules.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

__all__ = [
    "MODELS_DIR",
    "GENERATOR_FORMAT",
    "CLASSIFIER_FORMAT",
    "list_checkpoints",
    "load_generator",
    "load_classifier",
    "classifier_logits",
    "read_manifest",
    "update_manifest",
    "save_checkpoint",
]

#: ``data/models`` of the source tree (the package is installed editable).
MODELS_DIR = Path(__file__).resolve().parents[2] / "data" / "models"
GENERATOR_FORMAT = "genmetrics-nb/small-stylegan/1"
CLASSIFIER_FORMAT = "genmetrics-nb/fashion-cnn/1"
MODELS_ENV = "GENMETRICS_MODELS"


def _root(root=None) -> Path:
    if root is not None:
        return Path(root)
    env = os.environ.get(MODELS_ENV)
    return Path(env) if env else MODELS_DIR


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(root=None) -> dict:
    """The manifest of a models folder (``{}`` if it has none)."""
    path = _root(root) / "manifest.json"
    if not path.is_file():
        return {}
    with open(path) as fh:
        return json.load(fh)


def update_manifest(entries: dict, root=None) -> Path:
    """Add or replace ``entries`` (name -> dict) in the manifest, leaving other entries alone.

    The file is rewritten atomically (temporary file + rename), so entries
    other tools wrote (e.g. segmentation models) are kept.
    """
    folder = _root(root)
    folder.mkdir(parents=True, exist_ok=True)
    data = read_manifest(folder)
    data.update(entries)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".manifest.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(dict(sorted(data.items())), fh, indent=2)
            fh.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the manifest is a shared, committed file
        os.replace(tmp, folder / "manifest.json")
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return folder / "manifest.json"


def save_checkpoint(path, *, fmt: str, arch: dict, state_dict, meta: dict) -> dict:
    """Write a float16 checkpoint and return its manifest facts (file, sha256, bytes)."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu())
             for k, v in state_dict.items()}
    torch.save({"format": fmt, "arch": arch, "state_dict": state, "meta": meta}, path)
    return {"file": path.name, "sha256": _sha256(path), "bytes": path.stat().st_size}


def list_checkpoints(kind: str = "generator", *, root=None) -> list[dict]:
    """Manifest entries of one kind (``"generator"`` or ``"classifier"``), by training iteration.

    Each entry is the manifest dict plus its ``"name"``.
    """
    if kind not in ("generator", "classifier"):
        raise ValueError(f"kind must be 'generator' or 'classifier', got {kind!r}")
    out = [dict(v, name=k) for k, v in read_manifest(root).items()
           if isinstance(v, dict) and v.get("kind") == kind]
    return sorted(out, key=lambda e: (e.get("iteration", 0), e["name"]))


def _load(name, kind, root):
    import torch

    folder = _root(root)
    entries = {e["name"]: e for e in list_checkpoints(kind, root=folder)}
    if not entries:
        raise FileNotFoundError(
            f"no {kind} checkpoints listed in {folder / 'manifest.json'}; train one with "
            f"'genmetrics-nb train-{kind} --out {folder}'"
        )
    if name is None:
        name = list(entries)[-1]
    if name not in entries:
        raise ValueError(f"unknown {kind} checkpoint {name!r}; available: {list(entries)}")
    entry = entries[name]
    path = folder / entry["file"]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is listed in the manifest but missing; re-run: {entry.get('command')}")
    digest = _sha256(path)
    if digest != entry["sha256"]:
        raise ValueError(
            f"{path} has sha256 {digest[:12]}..., the manifest says {entry['sha256'][:12]}...; the file is "
            f"corrupt or stale: re-run {entry.get('command')!r}"
        )
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    return entry, ckpt


def load_generator(name: str | None = None, *, root=None, device="auto"):
    """A shipped Fashion-MNIST generator as a :class:`~genmetrics_nb.generators.StyleGANGenerator`.

    Parameters
    ----------
    name : str, optional
        Manifest name, e.g. ``"fmnist-stylegan-it02000"``; default: the last
        (most trained) checkpoint. :func:`list_checkpoints` lists them.
    root : path, optional
        Models folder (default ``data/models`` or ``$GENMETRICS_MODELS``).
    device : str
    """
    from genmetrics_nb.generators.adapters import StyleGANGenerator
    from genmetrics_nb.generators.small_stylegan import SmallStyleGAN

    entry, ckpt = _load(name, "generator", root)
    if ckpt.get("format") != GENERATOR_FORMAT:
        raise ValueError(f"{entry['file']} is not a {GENERATOR_FORMAT} checkpoint")
    G = SmallStyleGAN(**ckpt["arch"])
    G.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
    return StyleGANGenerator(G, name=entry["name"], device=device)


def load_classifier(name: str | None = None, *, root=None, device="auto"):
    """The shipped Fashion-MNIST classifier as an :class:`~genmetrics_nb.metrics.separability.AttributeClassifier`.

    Its ten classes are the offline attributes of linear separability
    (one-vs-rest), and its logits give the offline Inception-Score analogue.
    Input: one-channel 28 x 28 images in [-1, 1].
    """
    from genmetrics_nb.metrics.separability import AttributeClassifier
    from genmetrics_nb.zoo.classifier import FashionCNN

    entry, ckpt = _load(name, "classifier", root)
    if ckpt.get("format") != CLASSIFIER_FORMAT:
        raise ValueError(f"{entry['file']} is not a {CLASSIFIER_FORMAT} checkpoint")
    net = FashionCNN(**ckpt["arch"])
    net.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
    return AttributeClassifier(
        net.eval(), attributes=list(ckpt["meta"]["classes"]), kind="multiclass", value_range=(-1.0, 1.0),
        channels=1, resolution=28, name=entry["name"], device=device,
    )


def classifier_logits(images, classifier=None, *, batch_size: int = 256, device="auto"):
    """Logits of the shipped classifier for uint8 images (N x 1 x 28 x 28), as numpy N x 10.

    Feed them to :func:`genmetrics_nb.inception_score` for the offline IS analogue.
    """
    import numpy as np
    import torch

    clf = classifier if classifier is not None else load_classifier(device=device)
    x = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.array(images))  # a copy: may be read-only
    if x.dtype != torch.uint8 or x.ndim != 4:
        raise TypeError(f"images must be uint8 N x C x H x W, got {x.dtype} with shape {tuple(x.shape)}")
    out = [clf.logits(x[i:i + batch_size], (0.0, 255.0)).cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()
