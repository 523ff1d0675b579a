"""One protocol for what a notebook's story returns: a ``table`` and a ``summary`` give the rest.

A story's result (a sweep, a matrix of distances, a parity table) defines two
things:

``table``
    a :class:`pandas.DataFrame`, one row per measurement: what the notebook
    shows and plots;
``summary``
    a dict of the numbers a report records (``gm.record("...", result)``
    records ``result.to_dict()``, which is ``summary``).

:class:`StoryResult` turns them into ``to_dict()``, a one-line ``__str__``
and a compact ``_repr_html_`` (the table with :func:`~genmetrics_nb.util.format.fmt_number`
numbers, at most :data:`MAX_ROWS` rows, and the result's ``caption``). A
result overrides ``_repr_html_`` or ``__str__`` only where its display is
not a table (a C x C matrix, a fixed-width listing a notebook prints).
Metric results follow :mod:`genmetrics_nb.metrics.result` instead.
"""
from __future__ import annotations

import html
import numbers

from genmetrics_nb.util.format import fmt_number

__all__ = ["StoryResult", "frame", "MAX_ROWS"]

#: Rows a result's HTML shows before it says how many more there are.
MAX_ROWS = 40
_ONE_LINE_ITEMS = 6


def frame(rows):
    """A :class:`pandas.DataFrame` of ``rows`` (dicts), pandas imported on first use."""
    import pandas as pd

    return pd.DataFrame(list(rows))


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


class StoryResult:
    """Mixin for a story's result (a frozen dataclass): ``table`` and ``summary`` give the display.

    Subclasses define ``table`` (a DataFrame) and ``summary`` (a dict), as
    fields or properties, and may set ``caption`` (one line under the
    table's HTML) and ``display_table()`` (what the HTML shows, by default
    ``table``).
    """

    # ``table`` and ``summary`` are not defined here: a dataclass would take an inherited
    # property for a field's default.
    caption: str = ""

    def display_table(self):
        """The DataFrame the HTML shows (``table``; a result may show an aggregate instead)."""
        return self.table

    def to_dict(self) -> dict:
        """``summary``: the numbers a report records."""
        return dict(self.summary)

    def __str__(self) -> str:
        """``Name: key value, ...`` for the summary's first scalar items (else the table's size), on one line."""
        items = [(k, v) for k, v in dict(self.summary).items() if _is_number(v) or isinstance(v, (str, bool))]
        shown = ", ".join(f"{k} {fmt_number(v) if _is_number(v) else v}" for k, v in items[:_ONE_LINE_ITEMS])
        more = f", ... ({len(items) - _ONE_LINE_ITEMS} more)" if len(items) > _ONE_LINE_ITEMS else ""
        if shown:
            return f"{type(self).__name__}: {shown}{more}"
        t = self.table
        return f"{type(self).__name__}: {len(t)} rows of {', '.join(map(str, t.columns))}"

    def _repr_html_(self) -> str:
        t = self.display_table()
        rows = len(t)
        shown = t.head(MAX_ROWS)
        body = shown.to_html(index=False, border=0, na_rep="—", escape=True,
                             float_format=lambda v: fmt_number(float(v)))
        extra = f"<br>{rows - MAX_ROWS} more rows in <code>.table</code>." if rows > MAX_ROWS else ""
        caption = html.escape(str(self.caption or ""))
        note = f"<p><small>{caption}{extra}</small></p>" if (caption or extra) else ""
        return body + note
