"""Format-exact random-weight checkpoints, for testing the real loading path offline.

The published checkpoints (TF-FID Inception, torchvision ImageNet and COCO
networks) cannot be downloaded on machines without internet access. To keep
the code that loads them alive, :func:`install_fake_weights` builds each
architecture with seeded random weights, saves it exactly as its publisher
does (``torch.save(model.state_dict())`` of the same architecture, same key
names, same file name; Keras' InceptionV3 in Keras' HDF5 weights layout), writes a manifest that overrides those entries with
the fake files' sha256, and returns the environment variables that point the
weight manager at them::

    env = install_fake_weights(["vgg16"], tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    ext = gm.get_extractor("vgg16-fc2")      # loads through gm.weights.path

Random weights are not "untrained noise": convolution and linear weights are
drawn with He (fan-in) scaling and every batch-norm layer's running
statistics are calibrated on one random batch, so activations keep a sane
scale through the network and outputs depend on every tensor in the file.

Built files are memoised in ``$GENMETRICS_FAKE_CACHE`` (default: a folder in
the system temporary directory) and hard-linked into ``home``, so tests that
ask for the 528 MB VGG-16 do not rebuild or copy it each time.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

from genmetrics_nb.util.io import atomic_write, atomic_write_json

__all__ = ["FAKE_ARCHITECTURES", "build_fake_model", "install_fake_weights", "register_fake_file"]

_FAKE_VERSION = 1


def _fid_inception():
    from genmetrics_nb.extractors.inception_fid import build_fid_inception

    return build_fid_inception(), (2, 3, 299, 299)


def _inception_v3_google():
    from torchvision.models import inception_v3

    return inception_v3(weights=None, aux_logits=True, init_weights=False), (2, 3, 299, 299)


def _vgg16():
    from torchvision.models import vgg16

    return vgg16(weights=None, init_weights=False), None


def _alexnet():
    from torchvision.models import alexnet

    return alexnet(weights=None), None


def _squeezenet1_1():
    from torchvision.models import squeezenet1_1

    return squeezenet1_1(weights=None), None


def _keras_inception_v3_notop():
    from genmetrics_nb.extractors.keras_inception import build_keras_inception

    return build_keras_inception(), (2, 3, 224, 224)


def _save_keras_h5(model, fh):
    from genmetrics_nb.extractors.keras_inception import save_keras_h5

    save_keras_h5(model, fh)


def _fcn_resnet50_coco():
    from torchvision.models.segmentation import fcn_resnet50

    model = fcn_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
    return model, (2, 3, 64, 64)


#: Manifest name -> builder of the publisher's architecture, and the input
#: shape used to calibrate batch-norm statistics (None: no batch norm).
FAKE_ARCHITECTURES = {
    "pt_inception-2015-12-05": _fid_inception,
    "inception_v3_google": _inception_v3_google,
    "vgg16": _vgg16,
    "alexnet": _alexnet,
    "squeezenet1_1": _squeezenet1_1,
    "fcn_resnet50_coco": _fcn_resnet50_coco,
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop": _keras_inception_v3_notop,
}

#: Manifest name -> ``save(model, binary_file)`` for files that are not
#: ``torch.save(model.state_dict())`` (Keras' HDF5 layout).
_SAVERS = {
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop": _save_keras_h5,
}


def build_fake_model(name: str, *, seed: int = 0):
    """The architecture behind manifest entry ``name`` with seeded random weights (eval mode)."""
    import torch
    from torch import nn

    if name not in FAKE_ARCHITECTURES:
        raise ValueError(
            f"no fake-weights builder for {name!r}; available: {', '.join(sorted(FAKE_ARCHITECTURES))}"
        )
    gen = torch.Generator().manual_seed(int(seed))
    model, calib_shape = FAKE_ARCHITECTURES[name]()
    bns = []
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=gen)
                if m.bias is not None:
                    m.bias.normal_(0.0, 0.01, generator=gen)
            elif isinstance(m, nn.BatchNorm2d):
                if m.affine:
                    m.weight.uniform_(0.5, 1.5, generator=gen)
                    m.bias.normal_(0.0, 0.1, generator=gen)
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the calibration batch
                bns.append(m)
        for pname, p in model.named_parameters():
            if pname.endswith(".beta"):  # the shift of Keras' BatchNormalization(scale=False)
                p.normal_(0.0, 0.1, generator=gen)
        if bns and calib_shape is not None:
            model.train()
            model(torch.randn(calib_shape, generator=gen))
            for m in bns:
                m.momentum = 0.1
    return model.eval()


def _fake_cache_dir() -> Path:
    env = os.environ.get("GENMETRICS_FAKE_CACHE")
    if env:
        return Path(env)
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"genmetrics-fake-weights-{uid}"


def _built_file(name: str, seed: int) -> Path:
    """Path of the memoised fake checkpoint, building it atomically if needed."""
    import torch
    import torchvision

    folder = _fake_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    from genmetrics_nb.weights.manifest import BUILTIN

    suffix = Path(BUILTIN[name].filename).suffix
    f = folder / f"{name}-seed{seed}-v{_FAKE_VERSION}-tv{torchvision.__version__}{suffix}"
    if f.is_file():
        return f
    model = build_fake_model(name, seed=seed)
    with atomic_write(f, suffix=".part") as fh:
        if name in _SAVERS:
            _SAVERS[name](model, fh)
        else:
            torch.save(model.state_dict(), fh)
    return f


def _place(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.linking")
    if tmp.exists():
        tmp.unlink()
    try:
        os.link(src, tmp)
    except OSError:  # another file system: copy
        shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def install_fake_weights(names, home, *, seed: int = 0) -> dict:
    """Install random-weight checkpoints in the publishers' format into ``home``.

    Parameters
    ----------
    names : str or iterable of str
        Manifest names: ``"pt_inception-2015-12-05"``, ``"inception_v3_google"``,
        ``"vgg16"``, ``"alexnet"``, ``"squeezenet1_1"``, ``"fcn_resnet50_coco"``.
    home : path-like
        Folder to use as ``GENMETRICS_HOME`` (files go to ``home/weights/``
        under their published names).
    seed : int
        Seed of the random weights.

    Returns
    -------
    dict of str to str
        ``GENMETRICS_HOME``, ``GENMETRICS_MANIFEST`` (a JSON file in ``home``
        overriding the entries with the fake files' sha256 and size) and
        ``GENMETRICS_OFFLINE="1"``. Set them with ``monkeypatch.setenv``.

    Notes
    -----
    Calling it again with the same ``home`` adds entries to the same manifest.
    """
    from genmetrics_nb.weights.manifest import BUILTIN

    if isinstance(names, str):
        names = [names]
    names = list(names)
    unknown = [n for n in names if n not in FAKE_ARCHITECTURES]
    if unknown:
        raise ValueError(
            f"install_fake_weights cannot build {unknown}; available: "
            f"{', '.join(sorted(FAKE_ARCHITECTURES))}"
        )
    home = Path(home)
    manifest_path = home / "fake-manifest.json"
    entries = {}
    if manifest_path.is_file():
        entries = json.loads(manifest_path.read_text())
    for name in names:
        src = _built_file(name, seed)
        entry = BUILTIN[name]
        dest = home / "weights" / entry.filename
        _place(src, dest)
        entries[name] = _fake_entry(dest, entry, seed=seed, source="genmetrics_nb.testing.weights.install_fake_weights")
    atomic_write_json(manifest_path, entries, indent=1, sort_keys=True)
    return _fake_env(home, manifest_path)


def _fake_entry(dest: Path, entry, *, seed: int, source: str) -> dict:
    from genmetrics_nb.weights.manager import sha256_file

    return {
        "sha256": sha256_file(dest),
        "sha256_prefix": None,
        "size": dest.stat().st_size,
        "description": f"FAKE random weights (seed {seed}) in the format of: {entry.description}",
        "source": source,
    }


def _fake_env(home: Path, manifest_path: Path) -> dict:
    return {
        "GENMETRICS_HOME": str(home),
        "GENMETRICS_MANIFEST": str(manifest_path),
        "GENMETRICS_OFFLINE": "1",
    }


def register_fake_file(home, name: str, dest, *, seed: int, source: str) -> dict:
    """Record ``dest`` (a fake checkpoint already written) as manifest entry ``name`` in ``home``.

    The file manifest ``home/fake-manifest.json`` keeps its other entries.
    Returns the environment that points the weight manager at it, as
    :func:`install_fake_weights` does.
    """
    from genmetrics_nb.weights.manifest import BUILTIN

    home = Path(home)
    manifest_path = home / "fake-manifest.json"
    entries = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    entries[name] = _fake_entry(Path(dest), BUILTIN[name], seed=seed, source=source)
    atomic_write_json(manifest_path, entries, indent=1, sort_keys=True)
    return _fake_env(home, manifest_path)
