"""Warnings in a report: one plain line each, once, in words.

Jupyter prints a warning as Python formats it: the file and line that raised
it (for a notebook cell, the kernel's temporary file such as
``/tmp/ipykernel_81/2731.py:3``), the category's class name, and the source
line, every time a new cell raises it. In a report that is noise around the
one thing a reader can act on. The report runner makes every kernel it
starts call :func:`install` (an IPython startup file), which prints each
warning as::

    Warning (singular covariance): n = 48 samples in 2048 dimensions: ...

on one line, once: once per category for the package's own categories
(their wording repeats with each call's numbers), once per message for
others. Deprecation warnings raised outside this package are about the code
that raised them (a peer library, torchvision), not about the report's
numbers, and are not shown.
"""
from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

__all__ = ["install", "plain_warning", "STARTUP"]

_PACKAGE = str(Path(__file__).resolve().parents[1])
_SEEN: set = set()
_DEPRECATION = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)

#: The IPython startup file the runner writes (``$IPYTHONDIR/profile_default/startup/``).
STARTUP = """\
# written by genmetrics_nb.report.runner: warnings print as one plain line, once
try:
    from genmetrics_nb.report.kernel_warnings import install as _install
except ImportError:  # another environment's kernel: leave Python's warnings as they are
    pass
else:
    _install()
"""


def _words(category) -> str:
    """``SingularCovarianceWarning`` -> ``"singular covariance"``; ``UserWarning`` -> ``"user"``."""
    name = category.__name__
    if name.endswith("Warning") and name != "Warning":
        name = name[: -len("Warning")]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower() or "warning"


def plain_warning(message, category, filename="", lineno=0) -> str | None:
    """The line :func:`install` prints for a warning, or None when it is not shown (again).

    >>> class SingularCovarianceWarning(UserWarning): pass
    >>> plain_warning("n = 4  <= 8\\n  dims", SingularCovarianceWarning)
    'Warning (singular covariance): n = 4 <= 8 dims'
    """
    text = " ".join(str(message).split())
    if issubclass(category, _DEPRECATION) and not str(filename).startswith(_PACKAGE):
        return None
    key = category if category.__module__.startswith("genmetrics_nb") else (category, text)
    if key in _SEEN:
        return None
    _SEEN.add(key)
    return f"Warning ({_words(category)}): {text}"


def _show(message, category, filename, lineno, file=None, line=None):
    out = plain_warning(message, category, filename, lineno)
    if out is not None:
        print(out, file=file if file is not None else sys.stderr)


def install() -> None:
    """Print warnings as :func:`plain_warning` lines (for the rest of this process)."""
    warnings.showwarning = _show
    warnings.simplefilter("always")  # let every warning reach _show, which decides what is new
