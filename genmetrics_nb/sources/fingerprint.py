"""Fingerprints of image sources: what the feature cache keys a source by.

A fingerprint is a property of the source (:attr:`ImageSource.fingerprint
<genmetrics_nb.sources.ImageSource.fingerprint>`), computed here once when the
source is resolved; the cache only reads it.
"""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from genmetrics_nb.util.checks import is_torch

__all__ = ["digest", "fingerprint_array", "fingerprint_files", "fingerprint_object"]


def digest(parts: dict) -> str:
    """sha256 of the canonical JSON of ``parts`` (the feature cache's key function)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint_files(files) -> str:
    """sha256 over ``(absolute path, size, mtime_ns)`` of every file, in order."""
    h = hashlib.sha256()
    for f in files:
        st = os.stat(f)
        h.update(f"{os.path.abspath(f)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def fingerprint_array(x) -> str:
    """sha256 of an array's dtype, shape and bytes (numpy or torch)."""
    if is_torch(x):
        x = x.detach().to("cpu").contiguous().numpy()
    x = np.ascontiguousarray(x)
    h = hashlib.sha256()
    h.update(f"{x.dtype.str}{x.shape}".encode())
    h.update(memoryview(x.reshape(-1)).cast("B"))
    return h.hexdigest()


def fingerprint_object(obj) -> str | None:
    """An object's own ``fingerprint`` (attribute or method), or None when it has none."""
    fp = getattr(obj, "fingerprint", None)
    if callable(fp):
        fp = fp()
    return None if fp is None else str(fp)
