"""The streaming feature-extraction engine.

:func:`extract_features` runs a registered extractor over a source of images
(a folder, a list of files, an archive, an ``.npy``/``.npz`` image array,
an array or tensor, a generator source, or a Dataset) and returns float32
``N x D`` arrays for the requested outputs. Files and archive members are
decoded in DataLoader worker processes, array files and generators are read
a batch at a time, and images travel to the device as ``uint8``; the
conversion to float, the resize and the normalisation happen on the device,
under :func:`torch.inference_mode`. Memory grows only with the output
features themselves. :func:`feature_stats` streams the same batches into a
:class:`~genmetrics_nb.features.stats.FeatureStats` and keeps no features at all.

Batches always start at multiples of ``batch_size`` in the source order,
whether the run is fresh, resumed from persisted chunks, or sharded over
several processes: every image is computed in the same batch in every case,
so resumed and sharded runs reproduce an uninterrupted single-process run
bit for bit (on the same machine and thread settings).
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from genmetrics_nb.features import cache as fcache
from genmetrics_nb.features import distributed as dd
from genmetrics_nb.features.heap import reuse_freed_memory
from genmetrics_nb.images import DECODING_VERSION, check_allow_narrow
from genmetrics_nb.sources.resolver import resolve_images
from genmetrics_nb.util.checks import check_choice, check_int, is_torch

__all__ = ["Features", "extract_features", "feature_stats"]

_DEFAULT_CHUNK = 2048  # images per persisted chunk (rounded to whole batches)


# ----------------------------------------------------------------------------
# the result
# ----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Features(Mapping):
    """Extracted features: a read-only mapping output name -> float32 ``N x D`` array.

    Attributes
    ----------
    arrays : dict of str to numpy.ndarray
        The features, one ``float32`` ``N x D`` array per output.
    meta : dict
        How they were computed: ``n``, ``source`` (kind and fingerprint),
        ``extractor``, ``weights_digest``, ``spec`` (preprocessing), ``precision``,
        ``outputs``, ``package`` and ``torch`` versions, ``cache`` ("hit", "miss"
        or why it was off), ``world_size``, ``skipped`` files.
    index : numpy.ndarray
        For each row, its position in the source (differs from ``arange(n)``
        only when unreadable files were skipped).
    """

    arrays: dict
    meta: dict
    index: np.ndarray = field(default=None)

    def __getitem__(self, name):
        try:
            return self.arrays[name]
        except KeyError:
            raise KeyError(
                f"no output {name!r}; these features hold {list(self.arrays)}"
            ) from None

    def __iter__(self):
        return iter(self.arrays)

    def __len__(self):
        return len(self.arrays)

    @property
    def n(self) -> int:
        """Number of images (rows)."""
        return int(self.meta.get("n", 0))

    def stats(self, output: str | None = None):
        """:class:`FeatureStats` of one output (default: the first), carrying :attr:`meta`."""
        from genmetrics_nb.features.stats import FeatureStats

        output = output or next(iter(self.arrays))
        meta = dict(self.meta, output=output)
        return FeatureStats.from_features(self[output], meta=meta)

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "outputs": {k: int(v.shape[1]) for k, v in self.arrays.items()},
            "meta": dict(self.meta),
        }

    def __repr__(self):
        outs = ", ".join(f"{k}: {v.shape[0]}x{v.shape[1]}" for k, v in self.arrays.items())
        return f"Features({self.meta.get('extractor')!r}, {outs}, cache={self.meta.get('cache')!r})"


# ----------------------------------------------------------------------------
# sources
# ----------------------------------------------------------------------------
class _IndexedDataset:
    """Dataset wrapper yielding ``(index, item)`` so skipped files keep their place."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        return i, self.ds[i]


def _item_to_uint8(item, i):
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return None  # (path, reason): a file skipped by ImageFolder(on_error="skip")
    if isinstance(item, (tuple, list)):
        item = item[0]  # (image, label, ...) datasets
    if is_torch(item):
        import torch

        if item.dtype != torch.uint8:
            raise TypeError(
                f"dataset item {i} has dtype {item.dtype}; datasets must yield uint8 C x H x W "
                "images (convert floats with gm.images.as_uint8)"
            )
        return item
    arr = np.asarray(item)
    if arr.dtype != np.uint8:
        raise TypeError(
            f"dataset item {i} has dtype {arr.dtype}; datasets must yield uint8 C x H x W "
            "images (convert floats with gm.images.as_uint8)"
        )
    if arr.ndim != 3 or arr.shape[0] not in (1, 3):
        raise ValueError(
            f"dataset item {i} has shape {arr.shape}; datasets must yield C x H x W images "
            "with C = 1 or 3"
        )
    return arr


def _collate(batch):
    """``[(i, item)] -> (indices, images or list of images, skipped)``."""
    import torch

    idx, imgs, skipped = [], [], []
    for i, item in batch:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            skipped.append(item)
            continue
        img = _item_to_uint8(item, i)
        idx.append(i)
        imgs.append(torch.as_tensor(img))
    if imgs and len({tuple(t.shape) for t in imgs}) == 1:
        imgs = torch.stack(imgs)
    return np.asarray(idx, dtype=np.int64), imgs, skipped


# ----------------------------------------------------------------------------
# option checks
# ----------------------------------------------------------------------------
def _default_workers(kind):
    if kind in ("array", "stream"):
        return 0
    return min(4, max(1, (os.cpu_count() or 2) - 1))


def _plan(n, batch_size, chunk_size, world):
    """(batches per chunk, number of chunks, batches) for ``n`` images."""
    n_batches = math.ceil(n / batch_size)
    k = max(1, (chunk_size or _DEFAULT_CHUNK) // batch_size)
    if world > 1:  # let every rank own at least one chunk when there is enough work
        k = max(1, min(k, math.ceil(n_batches / world)))
    n_chunks = math.ceil(n_batches / k)
    return k, n_chunks, n_batches


# ----------------------------------------------------------------------------
# the engine
# ----------------------------------------------------------------------------
def _batches_for_chunk(c, k, n_batches, n, batch_size):
    for b in range(c * k, min((c + 1) * k, n_batches)):
        yield b * batch_size, min((b + 1) * batch_size, n)


def _run_extractor(ext, imgs, names, precision):
    """Run on a stacked uint8 batch, or on a list of differently sized images."""
    if isinstance(imgs, list):
        # Mixed sizes: group equal shapes, keep the order.
        groups = {}
        for j, t in enumerate(imgs):
            groups.setdefault(tuple(t.shape), []).append(j)
        out = {k: [None] * len(imgs) for k in names}
        import torch

        for _, js in groups.items():
            res = ext(torch.stack([imgs[j] for j in js]), outputs=names, precision=precision)
            for k in names:
                r = res[k].cpu().numpy()
                for row, j in enumerate(js):
                    out[k][j] = r[row]
        return {k: np.stack(v).astype(np.float32, copy=False) for k, v in out.items()}
    res = ext(imgs, outputs=names, precision=precision)
    return {k: v.cpu().numpy().astype(np.float32, copy=False) for k, v in res.items()}


def _as_tensor(xb: np.ndarray):
    """``torch.from_numpy`` of one batch, copying it only when it is read-only.

    Arrays from a cache, a memory map or ``np.broadcast_to`` are read-only;
    ``torch.from_numpy`` shares their memory and warns that writing to the
    tensor is undefined. A copy of that batch (never of the whole source)
    gives the tensor memory of its own.
    """
    import torch

    return torch.from_numpy(xb if xb.flags.writeable else np.array(xb))


def _iter_batches(src, batch_ranges, *, num_workers, pin):
    """Yield ``(indices, uint8 images, skipped)`` for ``batch_ranges`` in order."""
    if not batch_ranges:
        return
    if src.kind == "array":
        x = src.data
        for s, e in batch_ranges:
            xb = x[s:e]
            if isinstance(xb, np.ndarray):
                xb = _as_tensor(xb)
            yield np.arange(s, e, dtype=np.int64), xb, []
        return
    if src.kind == "stream":
        for s, e in batch_ranges:
            xb = src.data.read_batch(s, e)
            yield np.arange(s, e, dtype=np.int64), (xb if is_torch(xb) else _as_tensor(xb)), []
        return
    from torch.utils.data import DataLoader

    loader = DataLoader(
        _IndexedDataset(src.data),
        batch_sampler=[list(range(s, e)) for s, e in batch_ranges],
        num_workers=num_workers,
        collate_fn=_collate,
        pin_memory=pin,
        persistent_workers=False,
    )
    yield from loader


def _stream(src, ext, names, *, batch_size, chunk_size, num_workers, precision, progress,
            store, on_chunk, desc):
    """Process this rank's chunks; call ``on_chunk(c, arrays, index, skipped, computed)`` in order."""
    from tqdm.auto import tqdm

    world, r = dd.world_size(), dd.rank()
    k, n_chunks, n_batches = _plan(src.n, batch_size, chunk_size, world)
    mine = list(dd.shard(n_chunks, r, world))
    done = {}
    if store is not None:
        dims = {name: ext.dims[name] for name in names}
        for c in mine:
            start = c * k * batch_size
            loaded = store.load(c, start=start, stop=min(start + k * batch_size, src.n), dims=dims)
            if loaded is not None:
                done[c] = loaded
    pending = [c for c in mine if c not in done]
    ranges = [br for c in pending for br in _batches_for_chunk(c, k, n_batches, src.n, batch_size)]
    total = sum(e - s for s, e in ranges)
    pin = ext.device.type == "cuda"
    bar = tqdm(total=total, unit="img", desc=desc, disable=(not progress) or r != 0 or total == 0,
               dynamic_ncols=True)
    batches = _iter_batches(src, ranges, num_workers=num_workers, pin=pin)
    # CPU: freed activations stay in the heap between batches instead of being
    # unmapped and page-faulted in again (features.heap; numbers unchanged).
    heap = reuse_freed_memory(ext.device.type == "cpu")
    heap.__enter__()
    try:
        for c in mine:
            if c in done:
                arrays, index, skipped = done[c]
                on_chunk(c, arrays, index, skipped, False)
                continue
            parts, idx_parts, skipped = [], [], []
            for s, e in _batches_for_chunk(c, k, n_batches, src.n, batch_size):
                idx, imgs, skip = next(batches)
                skipped.extend(skip)
                if len(idx):
                    parts.append(_run_extractor(ext, imgs, names, precision))
                    idx_parts.append(idx)
                bar.update(e - s)
            if parts:
                arrays = {n: np.concatenate([p[n] for p in parts]) for n in names}
                index = np.concatenate(idx_parts)
            else:
                arrays = {n: np.zeros((0, ext.dims[n]), np.float32) for n in names}
                index = np.zeros(0, np.int64)
            if store is not None:
                store.save(c, arrays, index, skipped)
            on_chunk(c, arrays, index, skipped, True)
    finally:
        bar.close()
        close = getattr(batches, "close", None)
        if close:
            close()
        heap.__exit__(None, None, None)
    return k


def _common(source, extractor, *, outputs, batch_size, num_workers, device, precision, cache,
            value_range, on_error, weights, chunk_size, distributed, allow_narrow):
    from genmetrics_nb import __version__
    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.base import check_precision
    from genmetrics_nb.extractors.registry import get_extractor

    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, name="chunk_size", minimum=1)
    check_choice(on_error, name="on_error", choices=("raise", "skip"))
    check_allow_narrow(allow_narrow)
    if distributed not in ("auto", True, False):
        raise ValueError(f"distributed must be 'auto', True or False, got {distributed!r}")
    if not (isinstance(cache, bool) or isinstance(cache, (str, os.PathLike))):
        raise TypeError(f"cache must be True, False or a folder, got {type(cache).__name__}")
    if device == "auto" and dd.is_launched() and distributed is not False:
        import torch

        if torch.cuda.is_available():
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    dev = resolve(device)
    check_precision(precision, dev)
    if distributed is not False:
        active = dd.ensure_initialized(dev)
        if distributed is True and not active:
            raise ValueError(
                "distributed=True but no process group is running; launch with "
                "torchrun --nproc_per_node=N or call torch.distributed.init_process_group first"
            )
    ext = get_extractor(extractor, device=dev, weights=weights)
    names = ext.check_outputs(outputs)
    src = resolve_images(source, name="source", value_range=value_range, on_error=on_error,
                         allow_narrow=allow_narrow)
    if num_workers is None:
        num_workers = _default_workers(src.kind)
    num_workers = check_int(num_workers, name="num_workers", minimum=0)
    import torch

    key_parts = {
        "format": fcache.FORMAT_VERSION,
        "source": src.fingerprint,
        "n": src.n,
        "extractor": ext.name,
        "weights_digest": ext.weights_digest,
        "spec": ext.spec,
        "outputs": list(names),
        "precision": precision,
        "on_error": on_error,
        "decoding": DECODING_VERSION,
        "package": __version__,
        "torch": torch.__version__,
    }
    meta = {
        "n": None,
        "source": {"kind": src.kind, "fingerprint": src.fingerprint, "description": src.description},
        "extractor": ext.name,
        "weights_digest": ext.weights_digest,
        "spec": ext.spec,
        "precision": precision,
        "outputs": {n: ext.dims[n] for n in names},
        "package": __version__,
        "torch": torch.__version__,
        "device": str(dev),
        "batch_size": batch_size,
        "world_size": dd.world_size(),
    }
    root = None if cache is True else (cache if cache is not False else None)
    if cache is False:
        key, why = None, "off (cache=False)"
    elif src.fingerprint is None:
        key, why = None, f"off (the {src.kind} source has no 'fingerprint')"
    else:
        key, why = fcache.cache_key(key_parts), None
    return ext, names, src, key, root, why, meta, num_workers


def extract_features(
    source,
    extractor,
    *,
    outputs=None,
    batch_size: int = 64,
    num_workers: int | None = None,
    device="auto",
    precision: str = "fp32",
    cache=True,
    progress: bool = True,
    value_range=None,
    on_error: str = "raise",
    weights=None,
    chunk_size: int | None = None,
    distributed="auto",
    allow_narrow: bool = False,
) -> Features:
    """Run a feature extractor over images, streaming, with a resumable cache.

    Parameters
    ----------
    source : ImageSource, or anything :func:`genmetrics_nb.sources.resolve` takes as images
        Resolved once (:func:`genmetrics_nb.sources.resolve_images`): anything
        :func:`genmetrics_nb.load_images` takes (files are decoded
        lazily in DataLoader workers, not loaded up front); a ``.zip`` or
        ``.tar``/``.tar.gz``/``.tgz`` archive of image files (members decoded
        one at a time, each worker opening the archive itself,
        :class:`~genmetrics_nb.image_sets.ArchiveImages`); an ``.npy`` file or
        ``.npz`` (member ``arr_0``, as OpenAI guided-diffusion's samples) of
        ``N x C x H x W`` or ``N x H x W x C`` images, read a batch at a time
        (:class:`~genmetrics_nb.image_sets.ArrayFileImages`);
        :func:`genmetrics_nb.image_sets.image_folder`, ``LabeledImages``; a
        :class:`~genmetrics_nb.generators.GeneratorSource` (images generated
        batch by batch); or a Dataset whose items are ``uint8`` ``C x H x W``
        images (or tuples starting with one). Give a Dataset a
        ``fingerprint`` attribute (str) to make it cacheable. Any object with
        ``len()`` and ``read_batch(start, stop)`` returning ``uint8``
        ``N x C x H x W`` rows is streamed in order the same way.
    extractor : str or Extractor
        A name from :func:`genmetrics_nb.list_extractors` or a built extractor.
    outputs : str or list of str, optional
        Which outputs to keep (default: all of the extractor's).
    batch_size : int
        Images per forward pass.
    num_workers : int, optional
        DataLoader worker processes decoding files (default: ``min(4, cpus - 1)``
        for files, 0 for in-memory arrays).
    device : str or torch.device
        ``"auto"``: CUDA when available (under torchrun: ``cuda:LOCAL_RANK``).
    precision : {"fp32", "bf16", "fp16"}
        ``fp32`` (default, TF32 disabled) is the reference; ``bf16``/``fp16``
        are opt-in fast modes for GPUs and are part of the cache key.
    cache : bool or path-like
        True: use ``$GENMETRICS_HOME/features``; a folder: use that; False: off.
        With the cache on, finished chunks are persisted as they complete, so
        a run that is killed resumes where it stopped. A second process
        asking for the same features meanwhile waits for the first (and says
        so) and then reads its result. Cache files carry a sha256; a damaged
        one is reported (:class:`~genmetrics_nb.features.cache.CacheCorruptionWarning`
        naming the file), deleted and recomputed, never used.
    progress : bool
        Show a tqdm progress bar (images/s).
    value_range : tuple, optional
        Required for float arrays: ``(0, 1)``, ``(-1, 1)`` or ``(0, 255)``.
    on_error : {"raise", "skip"}
        Unreadable files: stop, or leave them out (listed in ``meta["skipped"]``).
    allow_narrow : bool
        Lift the range guard for float arrays and array files: by default
        floats that look mis-declared ([0, 1] data declared ``(0, 255)`` or
        ``(-1, 1)``; :func:`genmetrics_nb.images.narrow_range_problem`) are
        refused. Generators take it in :func:`genmetrics_nb.sources.generated`.
    weights : path-like, optional
        Checkpoint file overriding the extractor's default.
    chunk_size : int, optional
        Images per persisted chunk (rounded down to whole batches; default 2048).
    distributed : {"auto", True, False}
        "auto": shard across ranks when launched by torchrun (creating a
        gloo/nccl process group if needed). Every rank returns the full,
        gathered features.

    Returns
    -------
    Features
        Mapping output name -> float32 ``N x D`` numpy array, with ``.meta``.

    Raises
    ------
    ValueError, TypeError
        Bad source or options (messages say the fix).

    Warns
    -----
    CacheCorruptionWarning
        A cache entry or persisted chunk failed its checksum or load check;
        it is recomputed.

    Notes
    -----
    To match a paper's FID protocol use the extractor it used
    (``"inception-v3-fid"`` for TTUR / pytorch-fid / torch-fidelity numbers)
    and feed the images as ``uint8``; resizing is part of the extractor.

    References
    ----------
    .. [1] pytorch-fid ``get_activations``: https://github.com/mseitzer/pytorch-fid
    .. [2] torch-fidelity feature extraction: https://github.com/toshas/torch-fidelity

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    >>> f = extract_features(x, "efficientnet-lite0", cache=False, progress=False, device="cpu")
    >>> f["pool"].shape, f["pool"].dtype
    ((4, 1280), dtype('float32'))
    """
    ext, names, src, key, root, why, meta, num_workers = _common(
        source, extractor, outputs=outputs, batch_size=batch_size, num_workers=num_workers,
        device=device, precision=precision, cache=cache, value_range=value_range,
        on_error=on_error, weights=weights, chunk_size=chunk_size, distributed=distributed,
        allow_narrow=allow_narrow,
    )
    if key is None:
        return _extract(src, ext, names, key, root, why, meta, batch_size=batch_size,
                        chunk_size=chunk_size, num_workers=num_workers, precision=precision,
                        progress=progress)
    # One process at a time per cache key: a second process started on the same
    # features waits here and then reads the finished entry (or, if the first
    # one died, resumes from its chunks). Under torchrun rank 0 holds the lock
    # for its job; the other ranks follow rank 0 through the collectives below.
    lock = None
    if dd.rank() == 0:
        lock = fcache.ExtractionLock(root, key, notify=_notifier(progress)).acquire()
    try:
        return _extract(src, ext, names, key, root, why, meta, batch_size=batch_size,
                        chunk_size=chunk_size, num_workers=num_workers, precision=precision,
                        progress=progress, lock=lock)
    finally:
        if lock is not None:
            lock.release()


def _notifier(progress):
    """Where a waiting process says that it waits: the progress stream, or nowhere."""
    if not progress:
        return None

    def notify(message):
        import sys

        from tqdm.auto import tqdm

        tqdm.write(f"genmetrics_nb: {message}", file=sys.stderr)

    return notify


def _extract(src, ext, names, key, root, why, meta, *, batch_size, chunk_size, num_workers,
             precision, progress, lock=None):
    world = dd.world_size()
    t0 = time.perf_counter()
    if lock is not None:
        meta["lock_wait_s"] = round(lock.waited, 3)
    if key is not None:
        hit = fcache.load_entry(root, key, n_expected=src.n, dims={n: ext.dims[n] for n in names})
        ok = hit is not None and all(n in hit[0] for n in names)
        if dd.agree_all(ok):
            arrays, index, stored = hit
            meta.update(n=int(len(index)), cache="hit", cache_key=key,
                        skipped=stored.get("skipped", []), seconds=time.perf_counter() - t0)
            return Features({n: arrays[n] for n in names}, meta, index)
    store = None
    if key is not None:
        k, _, _ = _plan(src.n, batch_size, chunk_size, world)
        store = fcache.ChunkStore(root, key, batch_size=batch_size, batches_per_chunk=k)
    chunks = []
    resumed = []

    def on_chunk(c, arrays, index, skipped, computed):
        chunks.append((arrays, index, skipped))
        if not computed:
            resumed.append(c)

    _stream(src, ext, names, batch_size=batch_size, chunk_size=chunk_size, num_workers=num_workers,
            precision=precision, progress=progress, store=store, on_chunk=on_chunk,
            desc=f"{ext.name} features")
    local = _concat(chunks, names, ext)
    if world > 1:
        gathered = dd.all_gather_object(local)
        local = _concat(gathered, names, ext)
        n_resumed = sum(dd.all_gather_object(len(resumed)))
    else:
        n_resumed = len(resumed)
    arrays, index, skipped = local
    if skipped:
        import warnings

        listing = "\n".join(f"  {p}: {w}" for p, w in skipped[:20])
        warnings.warn(f"skipped {len(skipped)} unreadable file(s):\n{listing}", stacklevel=3)
    meta.update(n=int(len(index)), skipped=[list(s) for s in skipped],
                seconds=time.perf_counter() - t0)
    if key is None:
        meta["cache"] = why
    else:
        meta.update(cache="miss", cache_key=key, resumed_chunks=n_resumed)
        if dd.rank() == 0:
            fcache.save_entry(root, key, arrays, index, {"skipped": meta["skipped"]})
        dd.barrier()
        if dd.rank() == 0 and store is not None:
            store.clear()
    return Features(arrays, meta, index)


def _concat(chunks, names, ext):
    arrays = {
        n: np.concatenate([c[0][n] for c in chunks]) if chunks else np.zeros((0, ext.dims[n]), np.float32)
        for n in names
    }
    index = np.concatenate([c[1] for c in chunks]) if chunks else np.zeros(0, np.int64)
    skipped = [tuple(s) for c in chunks for s in c[2]]
    return arrays, index, skipped


def _load_cached_stats(path, *, dim):
    """Cached statistics, or None when absent; a damaged file is reported, deleted, recomputed."""
    from genmetrics_nb.features.stats import FeatureStats

    if not path.is_file():
        return None
    try:
        st = FeatureStats.load(path, require_checksum=True)
        if st.dim != dim or st._moments is not None:
            raise ValueError(f"statistics of dimension {st.dim} where {dim} were expected")
        return st
    except FileNotFoundError:
        return None
    except ValueError as exc:
        fcache._discard_corrupt(path, str(exc), "statistics cache file")
        return None


def feature_stats(
    source,
    extractor,
    *,
    output: str | None = None,
    batch_size: int = 64,
    num_workers: int | None = None,
    device="auto",
    precision: str = "fp32",
    cache=True,
    progress: bool = True,
    value_range=None,
    on_error: str = "raise",
    weights=None,
    distributed="auto",
    allow_narrow: bool = False,
):
    """Mean and covariance of one output over a source, without keeping the features.

    Takes the same arguments as :func:`extract_features` (``output`` names a
    single output, default the extractor's first). Features are folded into
    float64 sufficient statistics batch by batch, so memory is O(D^2) whatever
    the number of images; under torchrun each rank streams its shard and the
    sums are added (:meth:`FeatureStats.all_reduce`). When the features are
    already in the feature cache they are read from there instead, and with
    the cache on, the statistics themselves are cached.

    Returns
    -------
    FeatureStats
        With the same ``meta`` as :func:`extract_features` plus ``output``.
    """
    from genmetrics_nb.features.stats import FeatureStats

    ext, names, src, key, root, why, meta, num_workers = _common(
        source, extractor, outputs=output, batch_size=batch_size, num_workers=num_workers,
        device=device, precision=precision, cache=cache, value_range=value_range,
        on_error=on_error, weights=weights, chunk_size=None, distributed=distributed,
        allow_narrow=allow_narrow,
    )
    if output is None:
        names = names[:1]
    elif len(names) != 1:
        raise ValueError(f"output must name one output, got {output!r}")
    name = names[0]
    meta["output"] = name
    stats_key = None
    if key is not None:
        hit = fcache.load_entry(root, key)  # full features of the same extraction
        if dd.agree_all(hit is not None and name in hit[0]):
            arrays, index, stored = hit
            meta.update(n=int(len(index)), cache="hit (features)", cache_key=key,
                        skipped=stored.get("skipped", []))
            return FeatureStats.from_features(arrays[name], meta=meta)
        stats_key = fcache.cache_key({"stats_of": key, "output": name})
        path = fcache.features_dir(root) / "stats" / f"{stats_key}.npz"
        st = _load_cached_stats(path, dim=ext.dims[name])
        if dd.agree_all(st is not None):  # every rank takes the same branch
            st.meta = dict(meta, n=st.n, cache="hit", cache_key=stats_key)
            return st
    stats = FeatureStats(ext.dims[name], meta=meta)
    skipped_all = []

    def on_chunk(c, arrays, index, skipped, computed):
        if len(index):
            stats.update(arrays[name])
        skipped_all.extend(skipped)

    # No chunk persistence here: the statistics of a chunk are cheap to redo
    # relative to the memory of keeping its features on disk.
    _stream(src, ext, (name,), batch_size=batch_size, chunk_size=None, num_workers=num_workers,
            precision=precision, progress=progress, store=None, on_chunk=on_chunk,
            desc=f"{ext.name} statistics")
    stats.all_reduce()
    if dd.world_size() > 1:
        skipped_all = [s for part in dd.all_gather_object(skipped_all) for s in part]
    meta.update(n=stats.n, skipped=[list(s) for s in skipped_all],
                world_size=dd.world_size())
    stats.meta = meta
    if stats_key is not None:
        meta.update(cache="miss", cache_key=stats_key)
        if dd.rank() == 0:
            stats.save(fcache.features_dir(root) / "stats" / f"{stats_key}.npz")
        dd.barrier()
    else:
        meta["cache"] = why
    return stats
