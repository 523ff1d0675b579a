"""Shared helpers at the bottom of the layers: argument checks, file I/O, and the shapes every story shares.

- :mod:`~genmetrics_nb.util.checks`: argument checks;
- :mod:`~genmetrics_nb.util.io`: atomic file writes;
- :mod:`~genmetrics_nb.util.format`: :func:`~genmetrics_nb.util.format.fmt_number`, the one number formatter;
- :mod:`~genmetrics_nb.util.findings`: :class:`~genmetrics_nb.util.findings.Verdict`, the one verdict type;
- :mod:`~genmetrics_nb.util.results`: :class:`~genmetrics_nb.util.results.StoryResult`, the one protocol
  for what a story returns (``table`` + ``summary`` give ``to_dict``, ``__str__``, ``_repr_html_``);
- :mod:`~genmetrics_nb.util.warn`: :func:`~genmetrics_nb.util.warn.reemit_once`.

Nothing here imports any other part of ``genmetrics_nb``.
"""
