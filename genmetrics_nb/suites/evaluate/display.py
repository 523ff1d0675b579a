"""How the evaluate suite's results show numbers and tables (the package's one formatter)."""
from __future__ import annotations

import html

from genmetrics_nb.util.format import fmt_number as fmt
from genmetrics_nb.util.results import frame

__all__ = ["fmt", "html_rows", "frame"]


def html_rows(header, rows) -> str:
    """An HTML table of already formatted cells (escaped here)."""
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"
