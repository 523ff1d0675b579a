"""File helpers used everywhere: atomic writes and file digests.

A file that other code (or another process) may read is always written to a
temporary file in the same folder and renamed into place (``os.replace`` is
atomic on POSIX and Windows), so a crash or a kill never leaves half a file
at the final path.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_json", "sha256_file", "remove_quietly"]

_CHUNK = 1 << 20


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_quietly(path) -> None:
    """Delete ``path`` if it exists."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


@contextlib.contextmanager
def atomic_write(path, *, mode: str = "wb", suffix: str = ".tmp", fsync: bool = False, encoding=None):
    """Open a temporary file next to ``path``; rename it to ``path`` when the block ends.

    Parameters
    ----------
    path : str or os.PathLike
        Final path; its folder is created.
    mode : {"wb", "w"}
    suffix : str
        Suffix of the temporary name (``".tmp.npz"`` keeps NumPy from adding one).
    fsync : bool
        Flush the data to disk before the rename.

    If the block raises, the temporary file is removed and ``path`` is untouched.

    Examples
    --------
    >>> with atomic_write("out.json", mode="w") as fh:  # doctest: +SKIP
    ...     fh.write("{}")
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, mode, encoding=encoding if mode == "w" else None) as fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, mode="w", encoding="utf-8") as fh:
        fh.write(text)


def atomic_write_json(path, data, *, indent: int = 2, sort_keys: bool = False) -> None:
    """Write ``data`` as JSON to ``path`` atomically (a trailing newline included)."""
    atomic_write_text(path, json.dumps(data, indent=indent, sort_keys=sort_keys) + "\n")


def sha256_file(path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()
