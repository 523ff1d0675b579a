"""The shipped Fashion-MNIST models: file format, manifest, and loaders.

Checkpoints live in ``data/models/`` of the repository, listed in
``data/models/manifest.json`` (one entry per file: sha256, size, the exact
command that produced it, seed, training time, and for generators the FID
against the Fashion-MNIST test set with ``efficientnet-lite0`` features).
Weights are stored in float16 to keep the repository small; they are loaded
into float32 modules.
"""
from __future__ import annotations

from pathlib import Path

from genmetrics_nb.util.checks import check_choice, check_int, check_uint8_images
from genmetrics_nb.util.io import sha256_file
from genmetrics_nb.weights.shipped import models_dir, read_manifest, shipped_file

__all__ = [
    "GENERATOR_FORMAT",
    "CLASSIFIER_FORMAT",
    "list_checkpoints",
    "load_generator",
    "load_classifier",
    "classifier_logits",
    "save_checkpoint",
]

GENERATOR_FORMAT = "genmetrics-nb/small-stylegan/1"
CLASSIFIER_FORMAT = "genmetrics-nb/fashion-cnn/1"


def save_checkpoint(path, *, fmt: str, arch: dict, state_dict, meta: dict) -> dict:
    """Write a float16 checkpoint and return its manifest facts (file, sha256, bytes)."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu())
             for k, v in state_dict.items()}
    torch.save({"format": fmt, "arch": arch, "state_dict": state, "meta": meta}, path)
    return {"file": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size}


def list_checkpoints(kind: str = "generator", *, root=None) -> list[dict]:
    """Manifest entries of one kind (``"generator"`` or ``"classifier"``), by training iteration.

    Each entry is the manifest dict plus its ``"name"``.
    """
    check_choice(kind, name="kind", choices=("generator", "classifier"))
    out = [dict(v, name=k) for k, v in read_manifest(root).items()
           if isinstance(v, dict) and v.get("kind") == kind]
    return sorted(out, key=lambda e: (e.get("iteration", 0), e["name"]))


def _load(name, kind, root):
    import torch

    folder = models_dir(root)
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
    path, entry = shipped_file(name, root=folder)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    return dict(entry, name=name), ckpt


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
    """The shipped Fashion-MNIST classifier as an :class:`~genmetrics_nb.generators.attributes.AttributeClassifier`.

    Its ten classes are the offline attributes of linear separability
    (one-vs-rest), and its logits give the offline Inception-Score analogue.
    Input: one-channel 28 x 28 images in [-1, 1].
    """
    from genmetrics_nb.generators.attributes import AttributeClassifier
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

    x = check_uint8_images(images, name="images", keep_torch=True)
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.array(x))  # a copy: may be read-only
    clf = classifier if classifier is not None else load_classifier(device=device)
    out = [clf.logits(x[i:i + batch_size], (0.0, 255.0)).cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()
