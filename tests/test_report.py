"""The report runner: parameters, profiles, failures, timeouts, the index."""
from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from conftest import REPO
from genmetrics_nb.report.params import check_parameters, read_parameters
from genmetrics_nb.report.runner import load_profile, run_notebook, run_notebooks


def _notebook(path, params_src, body_src):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    p = nbformat.v4.new_code_cell(params_src)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), p, nbformat.v4.new_code_cell(body_src)]
    nbformat.write(nb, str(path))
    return path


PARAMS = 'n: int = 3  # how many\nscale: float = 0.5  # a factor\nname: str = "x"  # a label\nks: list[int] = [1, 3]  # kernels\n'


def test_parameters_cell_is_parsed_with_help(tmp_path):
    nb = _notebook(tmp_path / "t.ipynb", PARAMS, "pass")
    spec = read_parameters(nb)
    assert list(spec) == ["n", "scale", "name", "ks"]
    assert spec["n"].default == 3 and spec["n"].help == "how many" and spec["ks"].annotation == "list[int]"


def test_unknown_and_mistyped_parameters_are_refused(tmp_path):
    spec = read_parameters(_notebook(tmp_path / "t.ipynb", PARAMS, "pass"))
    with pytest.raises(ValueError, match=r"(?s)unknown parameter 'batchsize'.*n     : int = 3  # how many"):
        check_parameters(spec, {"batchsize": 4}, notebook="t.ipynb")
    with pytest.raises(TypeError, match="'n' of t.ipynb must be int"):
        check_parameters(spec, {"n": "three"}, notebook="t.ipynb")
    with pytest.raises(TypeError, match="must be list\\[int\\]"):
        check_parameters(spec, {"ks": [1, "a"]}, notebook="t.ipynb")
    with pytest.raises(TypeError, match="must be int"):
        check_parameters(spec, {"n": True}, notebook="t.ipynb")
    assert check_parameters(spec, {"scale": 2}, notebook="t.ipynb") == {"scale": 2.0}


def test_parameters_cell_must_be_typed_literals(tmp_path):
    with pytest.raises(ValueError, match="not 'name: type = literal"):
        read_parameters(_notebook(tmp_path / "a.ipynb", "n = 3  # untyped\n", "pass"))
    with pytest.raises(ValueError, match="not supported"):
        read_parameters(_notebook(tmp_path / "b.ipynb", "n: tuple = (1,)  # x\n", "pass"))


def test_every_shipped_notebook_has_a_valid_parameters_cell_and_profiles():
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        spec = read_parameters(path)
        assert all(p.help for p in spec.values()), f"{path.name}: every parameter needs a help comment"
        for profile in ("offline", "paper", "smoke"):
            check_parameters(spec, load_profile(profile, path.stem), notebook=path.name)
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), f"{path.name} has outputs"
        src = "\n".join("".join(c["source"]) for c in code)
        assert "\ndef " not in "\n" + src and "\nclass " not in "\n" + src, f"{path.name} defines code"


@pytest.mark.notebook
def test_runner_success_failure_and_index(tmp_path):
    ok = _notebook(tmp_path / "good.ipynb", PARAMS, "import genmetrics_nb as gm\ngm.record('twice', n * 2)\nprint(name)")
    bad = _notebook(tmp_path / "bad.ipynb", PARAMS, "import genmetrics_nb as gm\ngm.record('before', 1.0)\nraise RuntimeError('boom ' + name)")
    runs = run_notebooks([ok, bad], parameters={"n": 5, "bad.name": "zz"}, out_dir=tmp_path / "out")
    good, failed = runs
    assert good.status == "ok" and good.results["metrics"] == {"twice": 10}
    assert good.results["parameters"]["n"] == 5 and good.results["versions"]["torch"]
    assert failed.status == "failed" and "RuntimeError: boom zz" in failed.error
    # The failed notebook keeps what it recorded, its executed copy and an HTML traceback.
    assert failed.results["metrics"] == {"before": 1.0}
    assert failed.notebook_path.is_file()
    assert "boom zz" in failed.html_path.read_text()
    index = (tmp_path / "out" / "index.html").read_text()
    assert "good/good.html" in index and "bad/bad.html" in index
    assert "<tr class='failed'>" in index and "<tr class='ok'>" in index


@pytest.mark.notebook
def test_runner_timeout_stops_a_hanging_notebook(tmp_path):
    hang = _notebook(tmp_path / "hang.ipynb", PARAMS, "import time\ntime.sleep(600)")
    run = run_notebook(hang, out_dir=tmp_path / "out", timeout=20)
    assert run.status == "timeout" and "20 s timeout" in run.error
    assert run.results["wall_time_s"] < 120 and run.html_path.is_file()


def test_runner_refuses_bad_parameters_before_running(tmp_path):
    nb = _notebook(tmp_path / "t.ipynb", PARAMS, "raise SystemExit('must not run')")
    with pytest.raises(ValueError, match="unknown parameter"):
        run_notebook(nb, parameters={"nn": 1}, out_dir=tmp_path / "out")
    with pytest.raises(ValueError, match="profile must be one of"):
        run_notebook(nb, profile="fast", out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_exit_codes_and_parameter_listing(tmp_path):
    nb = _notebook(tmp_path / "t.ipynb", PARAMS, "pass")
    cmd = [sys.executable, "-m", "genmetrics_nb", "report", str(nb), "--out", str(tmp_path / "o")]
    listing = subprocess.run(cmd + ["--list-parameters"], capture_output=True, text=True, cwd=REPO)
    assert listing.returncode == 0 and "ks    : list[int] = [1, 3]  # kernels" in listing.stdout
    bad = subprocess.run(cmd + ["-p", "batchsize=4"], capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 2 and "unknown parameter 'batchsize'" in bad.stderr


@pytest.mark.notebook
def test_psnr_ssim_notebook_smoke(tmp_path):
    run = run_notebook("psnr_ssim", profile="smoke", out_dir=tmp_path)
    assert run.status == "ok", run.error
    m = run.results["metrics"]
    # PSNR falls as the blur kernel grows; identical images have infinite PSNR.
    assert m["psnr_blur_1"] == "inf" and m["psnr_blur_25"] < 30
    assert m["ssim_blur_1"] == 1.0 and m["ssim_blur_25"] < m["ssim_blur_1"]
    assert set(run.results["figures"]) >= {"sweep-psnr.png", "sweep-ssim.png", "distortion-examples.png"}
