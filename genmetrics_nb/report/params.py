"""The ``parameters`` cell of a notebook: read it, document it, check overrides.

A parameters cell holds one typed assignment per line with a help comment::

    n_per_class: int = 1000   # images drawn from each class

:func:`read_parameters` turns it into :class:`Parameter` records; the runner
rejects an unknown name or a value of the wrong type *before* executing, so a
misspelt ``batchsize=`` never runs silently with the default.
"""
from __future__ import annotations

import ast
import dataclasses
import io
import json
import tokenize
from pathlib import Path

__all__ = ["Parameter", "read_parameters", "check_parameters", "parse_cli_value", "describe"]


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's parameters cell."""

    name: str
    annotation: str
    default: object
    help: str

    def check(self, value, *, notebook: str = "notebook"):
        """Return ``value`` converted to this parameter's type, or raise TypeError."""
        ok, converted = _conforms(value, _parse_annotation(self.annotation))
        if not ok:
            raise TypeError(
                f"parameter {self.name!r} of {notebook} must be {self.annotation}, got "
                f"{value!r} ({type(value).__name__}); {self.name}: {self.annotation} = "
                f"{self.default!r}  # {self.help}"
            )
        return converted


def _cell_source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _load_notebook(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"notebook {str(path)!r} does not exist")
    return json.loads(path.read_text())


def read_parameters(path) -> dict[str, Parameter]:
    """Parse the cell tagged ``parameters`` of a notebook.

    Parameters
    ----------
    path : str or Path
        An ``.ipynb`` file.

    Returns
    -------
    dict
        name -> :class:`Parameter`, in the order of the cell.

    Raises
    ------
    ValueError
        No parameters cell, or a line that is not ``name: type = literal  # help``.
    """
    nb = _load_notebook(path)
    cells = [
        c for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]  # fmt: skip
    if len(cells) != 1:
        raise ValueError(f"{path}: expected exactly one code cell tagged 'parameters', found {len(cells)}")
    source = _cell_source(cells[0])
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    params = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None):
            raise ValueError(
                f"{path}: parameters cell line {node.lineno} is not 'name: type = literal  # help'"
            )
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise ValueError(f"{path}: parameter {node.target.id!r} has a default that is not a literal") from None
        annotation = ast.unparse(node.annotation)
        _parse_annotation(annotation)  # refuse types the runner cannot check
        params[node.target.id] = Parameter(node.target.id, annotation, default, comments.get(node.lineno, ""))
    return params


_SCALARS = {"str": str, "int": int, "float": float, "bool": bool}


def _parse_annotation(text: str):
    """'int' -> ('int',); 'list[float]' -> ('list', ('float',)); 'str | None' -> ('union', ...)."""
    node = ast.parse(text, mode="eval").body
    return _ann(node, text)


def _ann(node, text):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return ("union", _ann(node.left, text), _ann(node.right, text))
    if isinstance(node, ast.Constant) and node.value is None:
        return ("none",)
    if isinstance(node, ast.Name):
        if node.id in _SCALARS:
            return (node.id,)
        if node.id in ("list", "dict"):
            return (node.id, None)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "list":
        return ("list", _ann(node.slice, text))
    raise ValueError(
        f"parameter type {text!r} is not supported; use str, int, float, bool, list, "
        "list[T], dict or 'T | None'"
    )


def _conforms(value, ann):
    kind = ann[0]
    if kind == "union":
        for alt in ann[1:]:
            ok, v = _conforms(value, alt)
            if ok:
                return True, v
        return False, None
    if kind == "none":
        return value is None, None
    if kind == "bool":
        return isinstance(value, bool), value
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else None
    if kind == "str":
        return isinstance(value, str), value
    if kind == "dict":
        return isinstance(value, dict), value
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            return False, None
        if ann[1] is None:
            return True, list(value)
        out = []
        for item in value:
            ok, v = _conforms(item, ann[1])
            if not ok:
                return False, None
            out.append(v)
        return True, out
    return False, None


def describe(params: dict[str, Parameter]) -> str:
    """The valid parameters, one per line, as the notebook declares them."""
    width = max((len(p.name) for p in params.values()), default=0)
    return "\n".join(
        f"  {p.name:<{width}} : {p.annotation} = {p.default!r}  # {p.help}" for p in params.values()
    )


def check_parameters(params: dict[str, Parameter], values: dict, *, notebook: str) -> dict:
    """Validate ``values`` against the parameters cell.

    Returns the converted values. Raises ValueError for an unknown name and
    TypeError for a wrong type, listing the valid parameters.
    """
    out = {}
    for name, value in values.items():
        if name not in params:
            raise ValueError(
                f"unknown parameter {name!r} for {notebook}. Valid parameters:\n{describe(params)}"
            )
        try:
            out[name] = params[name].check(value, notebook=notebook)
        except TypeError as exc:
            raise TypeError(f"{exc}\nValid parameters:\n{describe(params)}") from None
    return out


def parse_cli_value(text: str, param: Parameter | None):
    """Parse the VALUE of ``-p name=VALUE`` as YAML, keeping strings for str parameters."""
    import yaml

    if param is not None and _parse_annotation(param.annotation) == ("str",):
        return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text
