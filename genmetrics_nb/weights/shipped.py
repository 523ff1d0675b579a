"""The models shipped in ``data/models/``: where they are, their manifest, their digests.

One module reads, verifies and updates ``data/models/manifest.json`` for every
shipped checkpoint (generators, classifier, segmenters). An entry records the
file, its sha256 and size, the exact command that produced it, and what the
training measured.

The folder is found, in order, at:

1. ``$GENMETRICS_MODELS`` (any folder holding ``manifest.json``);
2. ``data/models`` of the source checkout this package runs from (an
   editable install, or ``python -m`` from the repository);
3. ``<sys.prefix>/share/genmetrics-nb/models``, where a regular
   ``pip install`` puts the shipped files (``[tool.setuptools.data-files]``).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from genmetrics_nb.util.io import atomic_write_json, sha256_file

__all__ = ["MODELS_ENV", "models_dir", "read_manifest", "update_manifest", "shipped_file"]

MODELS_ENV = "GENMETRICS_MODELS"
_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "data" / "models",
    Path(sys.prefix) / "share" / "genmetrics-nb" / "models",
)


def models_dir(root=None) -> Path:
    """The folder of shipped models (``root`` if given).

    Raises
    ------
    FileNotFoundError
        When no candidate folder holds a ``manifest.json``; the message says how
        to point ``$GENMETRICS_MODELS`` at one.
    """
    if root is not None:
        return Path(root)
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env)
    for folder in _CANDIDATES:
        if (folder / "manifest.json").is_file():
            return folder
    raise FileNotFoundError(
        "no shipped models found (looked in "
        + ", ".join(str(c) for c in _CANDIDATES)
        + f"); set ${MODELS_ENV} to a folder holding manifest.json, e.g. the data/models folder "
        "of a genmetrics-nb checkout"
    )


def read_manifest(root=None) -> dict:
    """The manifest of a models folder as a dict (``{}`` if the folder has none)."""
    try:
        folder = models_dir(root)
    except FileNotFoundError:
        return {}
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object mapping model names to entries")
    return data


def update_manifest(entries: dict, root=None) -> Path:
    """Add or replace ``entries`` (name -> dict), keeping every other entry.

    ``root`` is a models folder or the path of a ``.json`` manifest (default:
    :func:`models_dir`). The file is rewritten atomically with entries sorted
    by name and each entry's own key order kept, readable by everyone (it is
    committed).
    """
    if root is not None and Path(root).suffix == ".json":
        path = Path(root)
    else:
        folder = models_dir(root) if root is not None or os.environ.get(MODELS_ENV) else _CANDIDATES[0]
        path = folder / "manifest.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object mapping model names to entries")
    data.update(entries)
    atomic_write_json(path, dict(sorted(data.items())))
    os.chmod(path, 0o644)  # mkstemp creates 0600; the manifest is a shared, committed file
    return path


def shipped_file(name: str, root=None) -> tuple[Path, dict]:
    """Path and manifest entry of shipped model ``name``, its sha256 verified.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or a file whose
        sha256 differs from the manifest's.
    FileNotFoundError
        For a listed file that is missing.
    """
    folder = models_dir(root)
    if not (folder / "manifest.json").is_file():
        raise FileNotFoundError(
            f"no model manifest at {folder / 'manifest.json'}; point ${MODELS_ENV} at a folder holding "
            "manifest.json (the data/models folder of a genmetrics-nb checkout)"
        )
    entries = read_manifest(folder)
    if name not in entries:
        raise ValueError(f"{folder / 'manifest.json'} has no model {name!r}; it has {sorted(entries)}")
    entry = entries[name]
    file = folder / entry["file"]
    if not file.is_file():
        raise FileNotFoundError(
            f"{file} is listed in the manifest but missing; reproduce it with: {entry.get('command')}"
        )
    digest = sha256_file(file)
    if digest != entry["sha256"]:
        raise ValueError(
            f"{file} has sha256 {digest[:12]}..., the manifest says {entry['sha256'][:12]}...; the file is "
            f"corrupt or stale (retrained without updating the manifest): re-run {entry.get('command')!r}"
        )
    return file, entry
