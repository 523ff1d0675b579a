"""Shared plumbing for the training commands: a contained, reproducible torch state."""
from __future__ import annotations

import contextlib

from genmetrics_nb.util.checks import check_int

__all__ = ["local_torch_state"]


@contextlib.contextmanager
def local_torch_state(seed: int, threads: int):
    """Seed torch's global generator and fix the CPU thread count, restoring both afterwards.

    Parameter initialisation in ``torch.nn`` draws from the global generator,
    so a reproducible training run has to seed it; forking keeps the caller's
    random state untouched. The thread count changes the order of float
    reductions, so it is part of what makes a run bit-reproducible on a CPU
    (and one thread is the fastest choice on a shared 2-core machine).
    """
    import torch

    threads = check_int(threads, name="threads", minimum=1)
    old_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(old_threads)
