"""Compatibility for ``experiments/evaluate.py`` until it moves to ``suites/``: the helpers moved lower.

``frame`` is :func:`genmetrics_nb.util.results.frame`, ``reemit_once``
:func:`genmetrics_nb.util.warn.reemit_once`, ``check_classes``
:func:`genmetrics_nb.util.checks.check_classes`, ``load_labeled``
:func:`genmetrics_nb.suites.class_draws.load_labeled`. Delete this module
once nothing imports it.
"""
from __future__ import annotations

from genmetrics_nb.util.checks import check_classes
from genmetrics_nb.util.results import frame
from genmetrics_nb.util.warn import reemit_once

__all__ = ["check_classes", "frame", "load_labeled", "reemit_once"]


def load_labeled(data):
    from genmetrics_nb.suites.class_draws import load_labeled as _load_labeled

    return _load_labeled(data)
