"""Warnings an experiment collects from many calls, shown once each, in words."""
from __future__ import annotations

import warnings

__all__ = ["reemit_once"]

_REEMITTED: set = set()


def reemit_once(caught) -> None:
    """Re-issue warnings an experiment recorded, each category once per process.

    An experiment makes many metric calls that raise the same warning (one
    ``n <= D`` warning per FID of a matrix, worded with each call's n); it
    records them (``warnings.catch_warnings(record=True)``) and hands them
    here. A notebook is one kernel process, so each kind of warning then
    appears once in its report however many cells and calls repeat it (the
    first one's wording is shown), which Python's default filter (once per
    cell and message) does not do. Deprecation warnings are not re-issued:
    they are about the code that raised them (often a peer library's), not
    about the reader's numbers.
    """
    for w in caught:
        key = w.category
        if issubclass(key, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        if key not in _REEMITTED:
            _REEMITTED.add(key)
            warnings.warn(w.message, w.category, stacklevel=3)
