"""The surface every metric result shares.

Every metric returns a frozen dataclass named ``...Result`` that mixes in
:class:`Result`. Whatever the metric, a result has

- ``value``: its headline number. A metric with two headline numbers
  (precision and recall, density and coverage) puts the first of them there;
  the class docstring says which;
- ``float(result)``, equal to ``result.value``;
- ``to_dict()``: JSON-ready plain values (what ``gm.record`` writes into
  ``results.json``), with ``"value"`` first;
- a one-line ``str(result)``;
- ``_repr_html_()``: a one-row table (metric, value, the other headline
  numbers, n), which is what a notebook shows when a result is a cell's last
  value;
- ``bootstrap_fields``: the names of the numbers
  :func:`genmetrics_nb.bootstrap` resamples.

Sweeps and experiments (``genmetrics_nb.experiments``) call the numbers they
report their ``summary``; "headline" and ``value`` belong to metric results.
"""
from __future__ import annotations

import dataclasses
import html
import math
import numbers
from typing import ClassVar

import numpy as np

__all__ = ["Result", "plain"]


def plain(value):
    """``value`` with tuples, arrays, NumPy scalars and nested results turned into plain Python.

    Non-finite floats stay floats (``gm.record`` writes them as ``"nan"``,
    ``"inf"``), so ``json.dumps`` accepts the output.
    """
    if hasattr(value, "to_dict") and callable(value.to_dict) and not isinstance(value, type):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _text(value) -> str:
    """A number or a name as short text (six significant digits)."""
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = str(value)
    elif isinstance(value, numbers.Integral):
        text = str(int(value))
    elif isinstance(value, numbers.Real):
        v = float(value)
        text = f"{v:.6g}" if math.isfinite(v) else str(v)
    else:
        text = str(value)
    return text


class Result:
    """Mixin of the result protocol; subclasses are frozen dataclasses.

    A subclass has a ``value`` field (or, for two-number results, a
    ``value`` property returning the first number) and sets the class
    variables below. It writes its own one-line ``__str__``.

    Attributes
    ----------
    metric_name : ClassVar[str]
        What the metric is called in ``_repr_html_`` (``"FID"``).
    bootstrap_fields : ClassVar[tuple of str]
        Numeric attributes :func:`genmetrics_nb.bootstrap` resamples.
    display_fields : ClassVar[tuple of str]
        Attributes shown after ``value`` in ``_repr_html_``.
    value_field : ClassVar[str]
        The attribute ``value`` reads (``"precision"``); ``"value"`` when it
        is a field of its own.
    n_fields : ClassVar[tuple of str]
        Attributes shown, joined by " / ", in the ``n`` column (none: no column).
    dict_aliases : ClassVar[dict of str to str]
        Field -> the extra key it is also written under by ``to_dict``: the
        headline's name before it was called ``value`` (``{"value": "mean"}``
        for KID), so ``results.json`` files stay comparable across the rename.
    dict_exclude : ClassVar[tuple of str]
        Fields ``to_dict`` leaves out (large per-sample arrays).

    Examples
    --------
    >>> import numpy as np
    >>> import genmetrics_nb as gm
    >>> rng = np.random.default_rng(0)
    >>> r = gm.precision_recall(rng.normal(size=(50, 4)), rng.normal(size=(50, 4)), progress=False)
    >>> float(r) == r.value == r.precision
    True
    >>> list(r.to_dict())
    ['value', 'precision', 'recall', 'k', 'n_real', 'n_fake']
    >>> r.bootstrap_fields
    ('precision', 'recall')
    """

    metric_name: ClassVar[str] = ""
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ()
    value_field: ClassVar[str] = "value"
    n_fields: ClassVar[tuple[str, ...]] = ("n_real", "n_fake")
    dict_aliases: ClassVar[dict] = {}
    dict_exclude: ClassVar[tuple[str, ...]] = ()

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict:
        """The result as JSON-ready plain values: ``"value"`` first, then every field.

        Tuples become lists, arrays lists, nested results their own
        ``to_dict()``; the fields in ``dict_exclude`` are left out.
        """
        out = {"value": plain(self.value)}
        for f in dataclasses.fields(self):
            if f.name in self.dict_exclude:
                continue
            v = plain(getattr(self, f.name))
            if f.name in self.dict_aliases:
                out[self.dict_aliases[f.name]] = v
            if f.name != "value":
                out[f.name] = v
        return out

    def _label(self) -> str:
        """The metric's name in ``_repr_html_``."""
        return self.metric_name or type(self).__name__.removesuffix("Result")

    def _n_text(self) -> str | None:
        if not self.n_fields:
            return None
        return " / ".join(_text(getattr(self, f)) for f in self.n_fields)

    def _html_rows(self) -> tuple[list[str], list[list]]:
        """Header and rows of ``_repr_html_``."""
        head = ["metric", self.value_field, *self.display_fields]
        row = [self._label(), self.value, *(getattr(self, f) for f in self.display_fields)]
        n = self._n_text()
        if n is not None:
            head.append("n")
            row.append(n)
        return head, [row]

    def _repr_html_(self) -> str:
        """A compact one-row HTML table for notebooks."""
        head, rows = self._html_rows()
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_text(c))}</td>" for c in r) + "</tr>" for r in rows
        )
        return f"<table><tr>{th}</tr>{body}</table>"
