"""Warnings shown once per process: a notebook's many metric calls repeat the same one."""
from __future__ import annotations

import warnings

__all__ = ["reemit_once"]

_REEMITTED: set = set()


def reemit_once(caught) -> None:
    """Re-issue recorded warnings, each category once per process.

    A step of a notebook makes many metric calls that raise the same warning
    (one ``n <= D`` warning per Frechet distance, worded with each call's n);
    it records them (``warnings.catch_warnings(record=True)``) and hands them
    here. A notebook is one kernel process, so each kind of warning then
    appears once in its report however many cells and calls repeat it (the
    first one's wording is shown), which Python's default filter (once per
    cell and message) does not do.
    """
    for w in caught:
        key = w.category
        if key not in _REEMITTED:
            _REEMITTED.add(key)
            warnings.warn(w.message, w.category, stacklevel=3)
