"""How the evaluate suite's results show numbers and tables."""
from __future__ import annotations

import html
import math

__all__ = ["fmt", "html_rows", "frame"]


def fmt(v, digits: int = 4) -> str:
    """``v`` to ``digits`` significant digits; ``"-"`` for None, NaN and infinities."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}g}"


def html_rows(header, rows) -> str:
    """An HTML table of already formatted cells (escaped here)."""
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def frame(rows):
    """Rows of dicts as a ``pandas.DataFrame``."""
    import pandas as pd

    return pd.DataFrame(rows)
