"""``gm.record``: the one way a notebook reports a headline number.

Under the report runner, ``$GENMETRICS_RECORDS`` names a JSON file; every call
rewrites it atomically so that a notebook that dies later keeps the numbers
it had already recorded. Interactively the values are kept in memory
(:func:`recorded`). ``record`` returns nothing, so no report shows a raw repr.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re

from genmetrics_nb.util.io import atomic_write_json

__all__ = ["record", "recorded", "to_jsonable", "RECORDS_ENV"]

RECORDS_ENV = "GENMETRICS_RECORDS"
_RECORDS: dict = {}


def to_jsonable(value):
    """Convert numbers, arrays, dataclasses and containers into JSON-ready values.

    Non-finite floats become the strings ``"inf"``, ``"-inf"`` and ``"nan"``
    (JSON has no such numbers), so that PSNR of identical images survives.
    """
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return to_jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        if hasattr(value, "detach"):
            value = value.detach().cpu()
        return to_jsonable(value.tolist())
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    raise TypeError(
        f"cannot record a value of type {type(value).__name__}; record numbers, strings, "
        "lists, dicts or a result object with to_dict()"
    )


def record(name, value=None):
    """Record a headline number of the running notebook.

    Parameters
    ----------
    name : str or dict
        Key in ``results.json["metrics"]``; letters, digits, ``_``, ``-``, ``.``.
        A dict records each of its items.
    value : number, str, bool, list, dict, or object with ``to_dict()``

    Returns
    -------
    None
        Nothing, so a ``gm.record(...)`` that ends a notebook cell shows
        nothing. Assign a result first, record it, then show it::

            r = gm.fid(real, fake)
            gm.record("fid", r)
            r
    """
    if isinstance(name, dict):
        if value is not None:
            raise TypeError("record(mapping) takes no value; pass record(name, value) or record({name: value})")
        for key, val in name.items():
            record(key, val)
        return None
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"name must be a non-empty string of letters, digits, '_', '-', '.', got {name!r}")
    _RECORDS[name] = to_jsonable(value)
    path = os.environ.get(RECORDS_ENV)
    if path:
        atomic_write_json(path, _RECORDS)
    return None


def recorded() -> dict:
    """A copy of everything recorded so far in this process."""
    return json.loads(json.dumps(_RECORDS))
