"""Sharding across ``torch.distributed`` ranks (``torchrun --nproc_per_node=N``).

:func:`~genmetrics_nb.features.engine.extract_features` splits its source
into contiguous runs of whole batches, one run per rank, so every rank
computes exactly the batches a single process would; features are then
gathered in rank order (= the original order) and statistics are merged by
summing their sufficient statistics. Every collective here is called by all
ranks, including ranks that were given no images, so none of them waits
forever.

Under ``torchrun`` the process group is created on first use (``gloo`` on
the CPU, ``nccl`` when the extractor runs on CUDA) unless the caller already
created one.
"""
from __future__ import annotations

import atexit
import os

import numpy as np

__all__ = [
    "all_gather_object",
    "all_reduce_sum",
    "barrier",
    "ensure_initialized",
    "is_launched",
    "rank",
    "shard",
    "world_size",
]


def is_launched() -> bool:
    """True when started by torchrun (or another launcher) with WORLD_SIZE > 1."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def ensure_initialized(device=None) -> bool:
    """Create the default process group under torchrun if nobody has; True when distributed."""
    import torch
    import torch.distributed as dist

    if not dist.is_available():
        return False
    if dist.is_initialized():
        return dist.get_world_size() > 1
    if not is_launched():
        return False
    backend = "nccl" if device is not None and torch.device(device).type == "cuda" else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend=backend)
    # We created it, so we tear it down: a gloo group left to the interpreter's
    # final destructors can abort the process ("terminate called without an
    # active exception") after all the work is done.
    atexit.register(_destroy_own_group)
    return dist.get_world_size() > 1


def _destroy_own_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank() -> int:
    d = _dist()
    return d.get_rank() if d else 0


def world_size() -> int:
    d = _dist()
    return d.get_world_size() if d else 1


def shard(n_units: int, r: int | None = None, w: int | None = None) -> range:
    """The contiguous run of ``range(n_units)`` that rank ``r`` of ``w`` handles.

    Runs differ in length by at most one; trailing ranks get empty runs when
    ``n_units < w``.
    """
    r = rank() if r is None else r
    w = world_size() if w is None else w
    base, extra = divmod(n_units, w)
    start = r * base + min(r, extra)
    return range(start, start + base + (1 if r < extra else 0))


def all_gather_object(obj) -> list:
    """``[obj of rank 0, obj of rank 1, ...]`` on every rank (``[obj]`` when not distributed)."""
    d = _dist()
    if not d:
        return [obj]
    out = [None] * d.get_world_size()
    d.all_gather_object(out, obj)
    return out


def all_reduce_sum(x: np.ndarray) -> np.ndarray:
    """Element-wise float64 sum of ``x`` over ranks."""
    import torch

    d = _dist()
    if not d:
        return x
    dev = "cpu"
    if d.get_backend() == "nccl":
        dev = f"cuda:{torch.cuda.current_device()}"
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).to(dev)
    d.all_reduce(t, op=d.ReduceOp.SUM)
    return t.cpu().numpy()


def barrier() -> None:
    d = _dist()
    if d:
        d.barrier()


def agree_all(flag: bool) -> bool:
    """True only if ``flag`` is true on every rank."""
    return all(all_gather_object(bool(flag)))
