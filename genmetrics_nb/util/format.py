"""One way to write a number for a person: tables, captions, verdicts and the report index."""
from __future__ import annotations

import math
import numbers

__all__ = ["fmt_number"]

_NONFINITE = {"inf": "∞", "-inf": "-∞", "nan": "NaN"}


def fmt_number(value, digits: int = 4, *, missing: str = "—") -> str:
    """A number as short text: ``digits`` significant digits, no exponent between 1e-3 and 1e9.

    ``None`` shows as ``missing``; ``"inf"``, ``"-inf"`` and ``"nan"`` (how
    ``gm.record`` writes non-finite floats) and non-finite floats as ∞, -∞
    and NaN; booleans as yes / no; integers in full (thousands separated
    from 10,000); other strings unchanged.

    Examples
    --------
    >>> fmt_number(57.123456), fmt_number(0.000012345), fmt_number(123456.7)
    ('57.12', '1.23e-05', '123,457')
    >>> fmt_number("inf"), fmt_number(1000), fmt_number(True), fmt_number(None)
    ('∞', '1000', 'yes', '—')
    >>> fmt_number(0.123456789, 6), fmt_number(float("nan")), fmt_number(-2.5e-7, 3)
    ('0.123457', 'NaN', '-2.5e-07')
    """
    if value is None:
        return missing
    if isinstance(value, str):
        return _NONFINITE.get(value, value)
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):  # numpy's bool too
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        value = int(value)
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    v = float(value)
    if not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("∞" if v > 0 else "-∞")
    a = abs(v)
    if a == 0:
        return "0"
    if a < 1e-3 or a >= 1e9:
        return f"{v:.{max(digits - 1, 1)}g}"
    if a >= 10 ** digits:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"
