"""On-disk cache of extracted features, and of completed chunks of a running extraction.

The key is the sha256 of a canonical JSON document holding everything that
changes the numbers: the source fingerprint (paths, sizes and modification
times of files; a hash of the bytes of an array), the extractor name, its
weights digest and preprocessing spec, the requested outputs, the numeric
precision, the error policy, and the versions of genmetrics-nb and torch.

Every file is written to a temporary name in the same folder and renamed
(``os.replace``), so a reader never sees a half-written file and a killed
process leaves at worst a stray temporary file, never a corrupt entry.

Layout under ``$GENMETRICS_HOME/features`` (or ``cache=<folder>``)::

    <key>.npz                   finished features
    partial/<key>-b<B>-k<K>/    chunks of an unfinished extraction
        chunk-000000.npz        batches [0, K) of batch size B
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

__all__ = [
    "ChunkStore",
    "atomic_savez",
    "cache_key",
    "features_dir",
    "load_entry",
    "save_entry",
    "source_fingerprint",
]


def features_dir(root=None) -> Path:
    """``root`` or ``$GENMETRICS_HOME/features``."""
    if root is not None:
        return Path(root)
    from genmetrics_nb.weights.manager import home

    return home() / "features"


def cache_key(parts: dict) -> str:
    """sha256 of the canonical JSON of ``parts``."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def atomic_savez(path, arrays: dict) -> None:
    """``np.savez`` to a temporary file next to ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError):
        return None  # unreadable entries are ignored and recomputed


def save_entry(root, key: str, arrays: dict, index: np.ndarray, meta: dict) -> Path:
    """Store finished features under ``key``."""
    payload = {f"out.{k}": v for k, v in arrays.items()}
    payload["index"] = np.asarray(index, dtype=np.int64)
    payload["meta"] = np.array(json.dumps(meta, sort_keys=True, default=str))
    path = features_dir(root) / f"{key}.npz"
    atomic_savez(path, payload)
    return path


def load_entry(root, key: str):
    """``(arrays, index, meta)`` for ``key``, or None when absent or unreadable."""
    path = features_dir(root) / f"{key}.npz"
    if not path.is_file():
        return None
    data = _read_npz(path)
    if data is None or "index" not in data or "meta" not in data:
        return None
    arrays = {k[4:]: v for k, v in data.items() if k.startswith("out.")}
    return arrays, data["index"], json.loads(str(data["meta"]))


class ChunkStore:
    """Completed chunks of one extraction, so a killed run can resume.

    Parameters
    ----------
    root : path-like or None
        Cache root (see :func:`features_dir`).
    key : str
        The cache key of the whole extraction.
    batch_size, batches_per_chunk : int
        Part of the folder name: chunks are only reused by a run that cuts the
        source into exactly the same batches, so resumed features are
        bit-identical to an uninterrupted run.
    """

    def __init__(self, root, key: str, *, batch_size: int, batches_per_chunk: int):
        self.dir = features_dir(root) / "partial" / f"{key}-b{batch_size}-k{batches_per_chunk}"

    def _file(self, i: int) -> Path:
        return self.dir / f"chunk-{i:06d}.npz"

    def load(self, i: int):
        """``(arrays, index, skipped)`` of chunk ``i`` or None."""
        f = self._file(i)
        if not f.is_file():
            return None
        data = _read_npz(f)
        if data is None or "index" not in data:
            return None
        arrays = {k[4:]: v for k, v in data.items() if k.startswith("out.")}
        skipped = json.loads(str(data["skipped"])) if "skipped" in data else []
        return arrays, data["index"], [tuple(s) for s in skipped]

    def save(self, i: int, arrays: dict, index: np.ndarray, skipped=()) -> None:
        payload = {f"out.{k}": v for k, v in arrays.items()}
        payload["index"] = np.asarray(index, dtype=np.int64)
        payload["skipped"] = np.array(json.dumps([list(s) for s in skipped]))
        atomic_savez(self._file(i), payload)

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


# ----------------------------------------------------------------------------
# source fingerprints
# ----------------------------------------------------------------------------
def fingerprint_files(files) -> str:
    """sha256 over ``(absolute path, size, mtime_ns)`` of every file, in order."""
    h = hashlib.sha256()
    for f in files:
        st = os.stat(f)
        h.update(f"{os.path.abspath(f)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def fingerprint_array(x) -> str:
    """sha256 of an array's dtype, shape and bytes (numpy or torch)."""
    if type(x).__module__.startswith("torch"):
        x = x.detach().to("cpu").contiguous().numpy()
    x = np.ascontiguousarray(x)
    h = hashlib.sha256()
    h.update(f"{x.dtype.str}{x.shape}".encode())
    h.update(memoryview(x.reshape(-1)).cast("B"))
    return h.hexdigest()


def source_fingerprint(kind: str, obj) -> str | None:
    """Fingerprint of a prepared source (``"files"``, ``"array"`` or ``"dataset"``)."""
    if kind == "files":
        return fingerprint_files(obj)
    if kind == "array":
        return fingerprint_array(obj)
    fp = getattr(obj, "fingerprint", None)
    if callable(fp):
        fp = fp()
    return None if fp is None else str(fp)
