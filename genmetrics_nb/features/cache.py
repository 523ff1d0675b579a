"""On-disk cache of extracted features, and of completed chunks of a running extraction.

The key is the sha256 of a canonical JSON document holding everything that
changes the numbers: the source fingerprint (paths, sizes and modification
times of files; a hash of the bytes of an array), the extractor name, its
weights digest and preprocessing spec, the requested outputs, the numeric
precision, the error policy, and the versions of genmetrics-nb and torch.

Every file is written to a temporary name in the same folder and renamed
(``os.replace``), so a reader never sees a half-written file and a killed
process leaves at worst a stray temporary file, never a corrupt entry.
Every file carries the sha256 of its arrays (member ``sha256``), checked on
every read: a file damaged later (disk errors, a copy cut short, a byte
flipped) is reported with a :class:`CacheCorruptionWarning` naming it,
deleted and recomputed, never used.

Two processes extracting the same features into the same cache are
serialised by an exclusive lock on the extraction (:class:`ExtractionLock`,
``fcntl.flock``): the second waits, says so, and then reads the finished
entry; if the first dies, the kernel releases its lock and the second
resumes from its completed chunks.

Layout under ``$GENMETRICS_HOME/features`` (or ``cache=<folder>``)::

    <key>.npz                   finished features
    partial/<key>-b<B>-k<K>/    chunks of an unfinished extraction
        chunk-000000.npz        batches [0, K) of batch size B
    locks/<key>.lock            held while a process extracts <key>
    stats/<key>.npz             cached FeatureStats (gm.feature_stats)
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import time
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from genmetrics_nb.sources.fingerprint import digest
from genmetrics_nb.util.io import atomic_write, remove_quietly

__all__ = [
    "CacheCorruptionWarning",
    "ChunkStore",
    "CorruptFileError",
    "ExtractionLock",
    "FORMAT_VERSION",
    "arrays_sha256",
    "atomic_savez",
    "cache_key",
    "features_dir",
    "load_entry",
    "read_checked_npz",
    "save_entry",
    "write_checked_npz",
]

#: Part of every cache key: entries written by an older layout are never read.
FORMAT_VERSION = 2


class CacheCorruptionWarning(UserWarning):
    """A cache file failed its checksum or load check; it was deleted and recomputed."""


class CorruptFileError(ValueError):
    """An ``.npz`` file is truncated, damaged, or fails its sha256 check."""


def features_dir(root=None) -> Path:
    """``root`` or ``$GENMETRICS_HOME/features``."""
    if root is not None:
        return Path(root)
    from genmetrics_nb.weights.manager import home

    return home() / "features"


def cache_key(parts: dict) -> str:
    """sha256 of the canonical JSON of ``parts`` (:func:`genmetrics_nb.sources.fingerprint.digest`)."""
    return digest(parts)


def atomic_savez(path, arrays: dict) -> None:
    """``np.savez`` to a temporary file next to ``path``, synced, then renamed into place."""
    with atomic_write(path, suffix=".tmp.npz", fsync=True) as fh:
        np.savez(fh, **arrays)


def arrays_sha256(arrays: dict) -> str:
    """sha256 over the names, dtypes, shapes and bytes of ``arrays`` (sorted by name)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.reshape(-1).view(np.uint8))  # raw bytes, no copy
    return h.hexdigest()


def write_checked_npz(path, arrays: dict) -> None:
    """:func:`atomic_savez` of ``arrays`` plus a ``sha256`` member (:func:`arrays_sha256`)."""
    if "sha256" in arrays:
        raise ValueError("'sha256' is reserved for the checksum member")
    payload = dict(arrays)
    payload["sha256"] = np.array(arrays_sha256(arrays))
    atomic_savez(path, payload)


# What a damaged .npz raises somewhere between np.load and reading its last
# member: a cut file or a bad CRC-32 (zipfile.BadZipFile is neither an
# OSError nor a ValueError), a bad deflate stream, a bad .npy header.
_DAMAGE = (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, KeyError, UnicodeDecodeError)


def read_checked_npz(path, *, require_checksum: bool = True) -> dict:
    """All arrays of an ``.npz`` file, verified.

    Raises
    ------
    FileNotFoundError
        The file does not exist (absent, not damaged).
    CorruptFileError
        The file cannot be read completely, or its ``sha256`` member does not
        match its arrays, or (with ``require_checksum``) it has none.
    """
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise CorruptFileError("it is a single .npy array, not an .npz archive")
        with data:
            arrays = {k: data[k] for k in data.files}
    except (FileNotFoundError, CorruptFileError):
        raise
    except _DAMAGE as exc:
        raise CorruptFileError(f"unreadable ({type(exc).__name__}: {exc})") from None
    stored = arrays.pop("sha256", None)
    if stored is None:
        if require_checksum:
            raise CorruptFileError("no sha256 member (not written by genmetrics-nb, or cut short)")
        return arrays
    if arrays_sha256(arrays) != str(stored):
        raise CorruptFileError("sha256 of its arrays does not match the recorded checksum")
    return arrays


def _discard_corrupt(path: Path, reason: str, what: str) -> None:
    """Report a damaged cache file by name and delete it so it is rewritten."""
    warnings.warn(
        f"{what} {str(path)!r} is corrupt ({reason}); it was not used, has been deleted, "
        "and will be recomputed",
        CacheCorruptionWarning,
        stacklevel=3,
    )
    remove_quietly(path)


def save_entry(root, key: str, arrays: dict, index: np.ndarray, meta: dict) -> Path:
    """Store finished features under ``key`` (atomic, with a sha256 member)."""
    payload = {f"out.{k}": v for k, v in arrays.items()}
    payload["index"] = np.asarray(index, dtype=np.int64)
    payload["meta"] = np.array(json.dumps(meta, sort_keys=True, default=str))
    path = features_dir(root) / f"{key}.npz"
    write_checked_npz(path, payload)
    return path


def _entry_problem(arrays, index, *, n_rows_expected=None, dims=None):
    """Why decoded arrays do not form a consistent entry, or None."""
    index = np.asarray(index)
    if index.ndim != 1 or index.dtype.kind != "i":
        return f"index has shape {index.shape} and dtype {index.dtype}"
    if len(index) > 1 and not bool((np.diff(index) > 0).all()):
        return "index is not strictly increasing"
    for name, a in arrays.items():
        if a.ndim != 2 or a.shape[0] != len(index):
            return f"output {name!r} has shape {a.shape} for {len(index)} indices"
        if dims is not None and name in dims and a.shape[1] != dims[name]:
            return f"output {name!r} has {a.shape[1]} columns, the extractor gives {dims[name]}"
    if n_rows_expected is not None and len(index) != n_rows_expected:
        return f"{len(index)} rows where {n_rows_expected} were expected"
    return None


def load_entry(root, key: str, *, n_expected=None, dims=None):
    """``(arrays, index, meta)`` for ``key``, or None when absent.

    A damaged entry (unreadable, failed checksum, or rows that do not add up
    to ``n_expected`` images with the extractor's ``dims``) is reported with
    a :class:`CacheCorruptionWarning`, deleted, and treated as absent.
    """
    path = features_dir(root) / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        data = read_checked_npz(path)
        if "index" not in data or "meta" not in data:
            raise CorruptFileError("'index' or 'meta' is missing")
        meta = json.loads(str(data["meta"]))
        arrays = {k[4:]: v for k, v in data.items() if k.startswith("out.")}
        expected = None
        if n_expected is not None:
            expected = int(n_expected) - len(meta.get("skipped", []))
        problem = _entry_problem(arrays, data["index"], n_rows_expected=expected, dims=dims)
        if problem:
            raise CorruptFileError(problem)
    except FileNotFoundError:
        return None
    except (CorruptFileError, json.JSONDecodeError) as exc:
        _discard_corrupt(path, str(exc), "feature cache file")
        return None
    return arrays, data["index"], meta


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

    def load(self, i: int, *, start: int | None = None, stop: int | None = None, dims=None):
        """``(arrays, index, skipped)`` of chunk ``i``, or None when absent.

        ``start``/``stop`` (the image range the chunk covers) and ``dims``
        let the rows be checked too. A damaged chunk is reported with a
        :class:`CacheCorruptionWarning`, deleted and recomputed.
        """
        f = self._file(i)
        if not f.is_file():
            return None
        try:
            data = read_checked_npz(f)
            if "index" not in data or "skipped" not in data:
                raise CorruptFileError("'index' or 'skipped' is missing")
            arrays = {k[4:]: v for k, v in data.items() if k.startswith("out.")}
            skipped = [tuple(s) for s in json.loads(str(data["skipped"]))]
            index = data["index"]
            expected = None if start is None else (stop - start) - len(skipped)
            problem = _entry_problem(arrays, index, n_rows_expected=expected, dims=dims)
            if problem is None and start is not None and len(index) and (
                index[0] < start or index[-1] >= stop
            ):
                problem = f"indices {index[0]}..{index[-1]} lie outside the chunk's [{start}, {stop})"
            if problem:
                raise CorruptFileError(problem)
        except FileNotFoundError:
            return None
        except (CorruptFileError, json.JSONDecodeError) as exc:
            _discard_corrupt(f, str(exc), "feature chunk file")
            return None
        return arrays, index, skipped

    def save(self, i: int, arrays: dict, index: np.ndarray, skipped=()) -> None:
        payload = {f"out.{k}": v for k, v in arrays.items()}
        payload["index"] = np.asarray(index, dtype=np.int64)
        payload["skipped"] = np.array(json.dumps([list(s) for s in skipped]))
        write_checked_npz(self._file(i), payload)

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


# ----------------------------------------------------------------------------
# one extraction at a time per key
# ----------------------------------------------------------------------------
class ExtractionLock:
    """Exclusive, process-safe lock on one cache key (a context manager).

    ``fcntl.flock`` on ``locks/<key>.lock``: the kernel releases it when the
    holder exits or is killed, so a crashed run never blocks the next one.
    The holder writes its host and pid into the file, so a process that has
    to wait can say whom it waits for. The file is removed on release; a
    waiter that then finds its descriptor pointing at a removed file opens
    the new one and tries again (the usual unlink-safe flock pattern).
    Where ``fcntl`` does not exist (Windows), the cache folder is not
    writable, or its file system refuses ``flock``, this is a no-op: writes stay atomic, but two processes may then
    compute the same features twice.

    Parameters
    ----------
    root : path-like or None
        Cache root (see :func:`features_dir`).
    key : str
        The cache key.
    notify : callable, optional
        Called once with a message when the lock is held by another process.

    Attributes
    ----------
    waited : float
        Seconds spent waiting for another process.
    """

    def __init__(self, root, key: str, *, notify=None):
        self.path = features_dir(root) / "locks" / f"{key}.lock"
        self.notify = notify
        self.waited = 0.0
        self._fd = None

    def acquire(self) -> "ExtractionLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        t0 = time.monotonic()
        told = False
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                # A read-only cache (shared, or on a read-only mount) can still
                # serve hits; nothing will be written to it, so nothing to guard.
                return self
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not told and self.notify is not None:
                        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                        self.notify(
                            f"waiting for another process ({holder}) that is extracting the same "
                            f"features into this cache (lock {self.path})"
                        )
                        told = True
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError:  # a file system without flock (some network mounts)
                    os.close(fd)
                    return self
                # The holder before us may have removed the file it locked.
                try:
                    same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if same:
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"host {socket.gethostname()}, pid {os.getpid()}".encode(), 0)
                    self._fd = fd
                    self.waited = time.monotonic() - t0
                    return self
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)  # while still holding it: see acquire()
        except FileNotFoundError:
            pass
        os.close(self._fd)  # closing releases the flock
        self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False
