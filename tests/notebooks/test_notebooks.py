"""House rules every notebook keeps: the project's kernel, a parameters cell, thin and stripped."""
from __future__ import annotations

import json
import pathlib

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_follows_the_house_rules(path):
    nb = json.loads(path.read_text())
    # the project's kernel, so the notebook runs on it from any Jupyter (make lab, papermill)
    assert nb["metadata"]["kernelspec"]["name"] == "genmetrics-nb"
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    code = [c for c in cells if c["cell_type"] == "code"]
    assert sum("parameters" in c.get("metadata", {}).get("tags", []) for c in code) == 1
    for c in code:
        assert not c.get("outputs") and c.get("execution_count") is None, "commit notebooks with outputs stripped"
        src = "".join(c["source"])
        assert not any(line.lstrip().startswith(("def ", "class ")) for line in src.splitlines()), (
            "a notebook defines no functions: its story lives in genmetrics_nb/experiments/"
        )


def test_every_notebook_has_an_offline_and_a_smoke_profile():
    import yaml

    root = NOTEBOOKS[0].parent / "profiles"
    for profile in ("offline", "smoke", "paper"):
        entries = yaml.safe_load((root / f"{profile}.yaml").read_text())
        assert {p.stem for p in NOTEBOOKS} <= set(entries), profile
