"""The package's structure: layers that point one way, no cycles, no private names across packages.

The contracts live in pyproject.toml ([tool.importlinter]); import-linter reads
every import, including those inside functions.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "genmetrics_nb"


def test_import_linter_contracts_hold(monkeypatch):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def _package_of(path: pathlib.Path) -> str:
    """Dotted name of the package a module belongs to."""
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts)
    return ".".join(parts[:-1])


def _private_imports():
    for path in sorted(PACKAGE.rglob("*.py")):
        here = _package_of(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("genmetrics_nb"):
                target_pkg = node.module.rsplit(".", 1)[0] if node.module.count(".") else node.module
                for alias in node.names:
                    private_module = any(p.startswith("_") and not p.startswith("__") for p in node.module.split("."))
                    private_name = alias.name.startswith("_") and not alias.name.startswith("__")
                    if (private_name or private_module) and target_pkg != here:
                        yield f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}.{alias.name}"


def test_no_private_name_is_imported_across_packages():
    assert list(_private_imports()) == []


@pytest.mark.parametrize("text, expect", [
    ("from genmetrics_nb.metrics.pixel.pairs import _check", True),
    ("from genmetrics_nb.metrics.pixel.pairs import check", False),
])
def test_private_import_check_can_fail(tmp_path, monkeypatch, text, expect):
    # The scan above must flag a private name imported from another package.
    fake = PACKAGE / "experiments" / "_layers_probe.py"
    monkeypatch.setattr(pathlib.Path, "rglob", lambda self, pattern: iter([fake]))
    monkeypatch.setattr(pathlib.Path, "read_text", lambda self, *a, **k: text)
    assert bool(list(_private_imports())) is expect


def test_every_import_inside_the_package_resolves():
    # Imports inside functions run only when the function does; a module move that
    # missed one would surface as an ImportError in some rarely-run path.
    import importlib

    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("genmetrics_nb"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}")
    assert missing == []


@pytest.mark.parametrize("package", ["experiments", "plots", "suites.evaluate"])
def test_no_public_name_is_also_a_module_name(package):
    # gm.experiments.<name> finds functions by name; once a module of the same name is
    # imported, Python binds the module there instead and the notebook's call breaks.
    import importlib
    import pkgutil

    pkg = importlib.import_module(f"genmetrics_nb.{package}")
    modules = {m.name for m in pkgutil.iter_modules(pkg.__path__)}
    clashes = [(m, n) for m in sorted(modules)
               for n in set(getattr(importlib.import_module(f"genmetrics_nb.{package}.{m}"), "__all__", ()))
               | set(getattr(pkg, "__all__", ())) if n in modules]
    assert clashes == []


def _layer_index() -> dict:
    """Top-level package -> its layer's position in the contract (0 is the top)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")["layers"]
    return {name.strip(): i for i, layer in enumerate(layers) for name in layer.split("|")}


_DOTTED = __import__("re").compile(r"^genmetrics_nb((?:\.\w+)+)(?::[\w.]+)?$")


def _upward_module_strings(paths, index=None):
    """``"genmetrics_nb.x.y[:attr]"`` strings (importlib.import_module targets, lazy tables) that name
    a layer above the module holding them: import-linter cannot see these imports."""
    index = index or _layer_index()
    for path in paths:
        rel = path.relative_to(PACKAGE).parts
        own = rel[0].removesuffix(".py")
        if own not in index:  # the package face (genmetrics_nb/__init__.py) sits above every layer
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                m = _DOTTED.match(node.value)
                if m:
                    target = m.group(1).split(".")[1]
                    if target in index and index[target] < index[own]:
                        yield f"{path.relative_to(ROOT)}:{node.lineno} names {node.value} ({target} is above {own})"


def test_module_strings_respect_the_layers():
    assert list(_upward_module_strings(sorted(PACKAGE.rglob("*.py")))) == []


def test_module_string_check_can_fail(tmp_path, monkeypatch):
    probe, index = PACKAGE / "metrics" / "_probe.py", _layer_index()
    monkeypatch.setattr(pathlib.Path, "read_text",
                        lambda self, *a, **k: 'TABLE = {"x": "genmetrics_nb.experiments.fid:fid_table"}')
    assert len(list(_upward_module_strings([probe], index))) == 1
