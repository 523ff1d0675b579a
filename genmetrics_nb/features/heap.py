"""Keep freed activation memory in the process while a CPU extraction runs.

glibc's ``malloc`` serves every block larger than its mmap threshold (at
most 32 MiB) with a fresh ``mmap`` and hands it back to the kernel on
``free``. A convolutional network on the CPU allocates and frees tensors of
that size for every layer of every batch (a batch of 32 images at 224 px
holds 150 MiB in EfficientNet-Lite0's first expanded layer), so each layer
starts by page-faulting its output into existence: on a 2-core machine this
costs about as much as the convolutions of the memory-bound networks. The
usual cure is a different allocator (jemalloc, tcmalloc), which a library
cannot choose for its user.

:func:`reuse_freed_memory` does the same within glibc for the duration of a
``with`` block: it turns the mmap path off (``M_MMAP_MAX = 0``) and raises
the trim threshold, so freed blocks go back to the heap and the next batch
reuses them without faults. On exit the defaults are restored
(``M_MMAP_MAX = 65536``, ``M_TRIM_THRESHOLD = 128 KiB``) and ``malloc_trim``
returns the heap's free memory to the kernel. It changes no number, only
where memory comes from. Elsewhere than on glibc (macOS, Windows, musl) it
does nothing; ``GENMETRICS_HEAP_REUSE=0`` turns it off.

References
----------
.. [1] ``mallopt(3)``: ``M_MMAP_MAX``, ``M_TRIM_THRESHOLD``, ``malloc_trim(3)``.
   https://man7.org/linux/man-pages/man3/mallopt.3.html
.. [2] PyTorch CPU performance tuning guide, "Switch Memory allocator":
   https://pytorch.org/tutorials/recipes/recipes/tuning_guide.html
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
import threading

__all__ = ["ENV", "reuse_freed_memory"]

#: Environment variable that turns the heap reuse off when set to 0/false/no/off.
ENV = "GENMETRICS_HEAP_REUSE"

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_DEFAULT_MMAP_MAX = 65536
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
_HELD_TRIM_THRESHOLD = 1 << 30

_LOCK = threading.Lock()
_DEPTH = 0
_LIBC = None


def _libc():
    """glibc's ``mallopt``/``malloc_trim``, or None (another C library, another OS)."""
    global _LIBC
    if _LIBC is None:
        _LIBC = False
        if sys.platform.startswith("linux"):
            try:
                lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                lib.gnu_get_libc_version  # noqa: B018 - glibc only (musl has mallopt as a stub)
                lib.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                lib.malloc_trim.argtypes = [ctypes.c_size_t]
                _LIBC = lib
            except (OSError, AttributeError):
                _LIBC = False
    return _LIBC or None


def _enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@contextlib.contextmanager
def reuse_freed_memory(active: bool = True):
    """Serve large CPU allocations from the heap, not from fresh mmaps, inside the block.

    Parameters
    ----------
    active : bool
        False makes the block a no-op (callers pass ``device.type == "cpu"``).

    Notes
    -----
    Process-wide while the block runs (glibc has one setting per process);
    nested and concurrent blocks are counted, and the defaults come back when
    the last one exits. The peak resident memory is unchanged: it is the
    memory the extraction uses anyway, kept between batches instead of
    returned and faulted in again.

    Examples
    --------
    >>> with reuse_freed_memory():
    ...     pass
    """
    lib = _libc() if active and _enabled() else None
    if lib is None:
        yield
        return
    global _DEPTH
    with _LOCK:
        _DEPTH += 1
        if _DEPTH == 1:
            lib.mallopt(_M_MMAP_MAX, 0)
            lib.mallopt(_M_TRIM_THRESHOLD, _HELD_TRIM_THRESHOLD)
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                lib.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                lib.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                lib.malloc_trim(0)
