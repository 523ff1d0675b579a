"""The report runner: parameters, profiles, failures, timeouts, the index."""
from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
import time

import nbformat
import pytest

from conftest import REPO
from genmetrics_nb.report import index as report_index
from genmetrics_nb.report.index import THUMBNAIL, headline, write_index
from genmetrics_nb.report.params import check_parameters, read_parameters
from genmetrics_nb.report.runner import NotebookInterrupted, load_profile, run_notebook, run_notebooks


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
    ok = _notebook(
        tmp_path / "good.ipynb", PARAMS,
        "import genmetrics_nb as gm\nfrom genmetrics_nb.plots.core import finish, new_figure\n"
        "gm.record('twice', n * 2)\nprint(name)\nfig, axes = new_figure()\naxes[0, 0].plot([1, 2])\nfinish(fig, 'line')",
    )  # fmt: skip
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
    assert "<tr class='report failed'" in index and "<tr class='report ok'" in index
    # The good notebook's only figure becomes its thumbnail, linked to its page.
    assert good.results["figures"] == ["line.png"] and (tmp_path / "out" / "good" / THUMBNAIL).is_file()
    assert f"<a href='good/good.html' title='line.png'><img src='good/{THUMBNAIL}'" in index


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
    assert m["verdict"]["reproduced"] is True, m["verdict"]["statement"]  # PSNR and SSIM fall at every step


# ------------------------------------------------------------------------ the index page


def _png(path, size=(900, 600), color=(200, 30, 30)):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    time.sleep(0.01)  # distinct save times: "the first figure saved" must be well defined


def _report(out, name, metrics, *, status="ok", figures=(), error=None):
    folder = out / name
    for fig in figures:
        _png(folder / "figures" / fig)
    folder.mkdir(parents=True, exist_ok=True)
    res = {"notebook": name, "status": status, "error": error, "profile": "smoke", "metrics": metrics,
           "figures": list(figures), "device": "cpu", "wall_time_s": 3.0}  # fmt: skip
    (folder / "results.json").write_text(json.dumps(res))
    return folder


def test_index_module_doctests():
    assert doctest.testmod(report_index).failed == 0


def test_index_thumbnail_is_the_named_main_figure_else_the_first_saved(tmp_path):
    from PIL import Image

    named = _report(tmp_path, "fid", {"fid": 1.0, "main_figure": "pairs"}, figures=["samples.png", "pairs.png"])
    first = _report(tmp_path, "kid", {"kid": 0.1}, figures=["curve.png", "grid.png"])
    _report(tmp_path, "bare", {"x": 1.0})
    page = write_index(tmp_path).read_text()
    with Image.open(named / THUMBNAIL) as im:
        assert im.text["source"] == "pairs.png" and im.size == (480, 320)  # 240 x 160 CSS pixels at 2x
    with Image.open(first / THUMBNAIL) as im:
        assert im.text["source"] == "curve.png"
    assert f"<a href='fid/fid.html' title='pairs.png'><img src='fid/{THUMBNAIL}' width='240' height='160'" in page
    assert not (tmp_path / "bare" / THUMBNAIL).exists() and "no figure" in page
    # A main figure that was never saved falls back to the first one.
    _report(tmp_path, "fid", {"main_figure": "../../etc/passwd"}, figures=["samples.png"])
    write_index(tmp_path)
    with Image.open(named / THUMBNAIL) as im:
        assert im.text["source"] == "samples.png"


def test_headline_numbers_are_labelled_for_a_person(tmp_path):
    metrics = {
        "kernels": [1, 3, 5, 7, 9],
        "is_all_classes_10_splits": {"value": 9.56712, "std": 0.05123, "splits": 10, "classes": 1000},
        "fid_same_class": 57.123456,
        "fd": {"value": 321.44, "low": 310.21, "high": 333.92, "ci": 0.95, "std": 6.1},
        "psnr_blur_1": "inf",
        "ordering_reproduced": True,
        "table": {"fid": {"final": 23.4}},
        "ssim_blur_3": 0.000012345,
        "verdict": {"reproduced": True, "statement": "ok"},
        "kid_a": 1.0, "kid_b": 2.0, "kid_c": 3.0,
    }  # fmt: skip
    assert headline(metrics) == [
        ("IS all classes 10 splits", "9.567 ± 0.051"),
        ("FID same class", "57.12"),
        ("FD", "321.4 (95% CI 310.2–333.9)"),
        ("PSNR blur 1", "∞"),
        ("SSIM blur 3", "1.23e-05"),
        ("KID a", "1"),
    ]
    # A notebook names its headline: a list of keys (dotted paths reach into dicts) or key -> label.
    assert headline({**metrics, "headline": ["table.fid.final", "ordering_reproduced", "missing"]}) == [
        ("Table · FID · final", "23.4"), ("Ordering reproduced", "yes"), ("Missing", "—"),
    ]  # fmt: skip
    assert headline({**metrics, "headline": {"fid_same_class": "FID, same class"}}) == [("FID, same class", "57.12")]
    _report(tmp_path, "is", metrics)
    page = write_index(tmp_path).read_text()
    assert "9.567 ± 0.051" in page and "IS all classes 10 splits" in page
    assert "classes = " not in page and ".classes" not in page and "kernels" not in page.lower()


def test_index_shows_each_verdict_with_its_colour_and_counts_them(tmp_path):
    _report(tmp_path, "a", {"verdict": {"reproduced": True, "statement": "same-class FID 57.1 < 112.3"}})
    _report(tmp_path, "b", {"verdict": {"reproduced": False, "statement": "IS did not drop"}})
    _report(tmp_path, "c", {"verdict": {"reproduced": None, "statement": "model B is closer"}})
    _report(tmp_path, "d", {"x": 1.0}, status="interrupted", error="interrupted (Ctrl-C)")
    page = write_index(tmp_path).read_text()
    assert "<div class='verdict reproduced'><b>Reproduced</b>same-class FID 57.1 &lt; 112.3</div>" in page
    assert "<div class='verdict not-reproduced'><b>Not reproduced</b>IS did not drop</div>" in page
    assert "<div class='verdict not-applicable'><b>Verdict</b>model B is closer</div>" in page
    assert page.count("class='verdict ") == 3  # d recorded none: no line
    assert "Findings: <b>1</b> reproduced, <b>1</b> not reproduced (of 4)" in page
    assert "<b>3</b> ok, <b>1</b> interrupted" in page and "<span class='status interrupted'>" in page


def test_index_shows_a_verdict_in_two_lines_and_keeps_the_statement_in_the_tooltip(tmp_path):
    from genmetrics_nb.util.findings import check, verdict_from_checks

    long = verdict_from_checks("every protocol agrees", [check(f"protocol {i} within " + "x" * 40, True)
                                                         for i in range(11)], short="11 of 11 agree.")
    _report(tmp_path, "a", {"verdict": long.to_dict()})
    paragraph = "The score falls. " + "It falls at every kernel and the segmenter is good. " * 12
    _report(tmp_path, "b", {"verdict": {"reproduced": False, "statement": paragraph}})  # no "short": cut
    page = write_index(tmp_path).read_text()
    assert "<b>Reproduced</b>11 of 11 agree.</div>" in page and "protocol 10 within" in page  # in the title
    shown = re.search(r"<b>Not reproduced</b>([^<]*)</div>", page).group(1)
    assert len(shown) <= 200 and shown.endswith("…") and shown.startswith("The score falls.")
    assert "-webkit-line-clamp: 2" in page


def test_index_escapes_every_string_from_results_json(tmp_path):
    evil = "<script>alert(1)</script>'\""
    _report(
        tmp_path, "x<script>", {f"k{evil}"[:20]: 1.0, "headline": {"v": evil}, "v": evil[:30],
                                "verdict": {"reproduced": True, "statement": evil}},
        status=evil, error=evil,
    )  # fmt: skip
    page = write_index(tmp_path).read_text()
    assert "<script" not in page and "alert(1)</" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "href='x%3Cscript%3E/x%3Cscript%3E.html'" in page and "<span class='status unknown'>" in page


@pytest.mark.notebook
def test_ctrl_c_marks_the_report_interrupted_and_keeps_what_it_recorded(tmp_path, monkeypatch):
    body = "import time\nimport genmetrics_nb as gm\ngm.record('before', 2.5)\ntime.sleep(600)"
    slow = _notebook(tmp_path / "slow.ipynb", PARAMS, body)
    later = _notebook(tmp_path / "later.ipynb", PARAMS, "pass")
    records = tmp_path / "out" / "slow" / "records.json"

    class CtrlC(subprocess.Popen):
        """Papermill's process, with a Ctrl-C once the notebook has recorded its number."""

        def communicate(self, *args, **kwargs):
            if "papermill" in self.args and not getattr(self, "interrupted", False):
                self.interrupted = True
                deadline = time.monotonic() + 120
                while not records.is_file() and time.monotonic() < deadline:
                    time.sleep(0.2)
                raise KeyboardInterrupt
            return super().communicate(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", CtrlC)
    with pytest.raises(NotebookInterrupted) as caught:
        run_notebooks([slow, later], out_dir=tmp_path / "out")
    run = caught.value.run
    assert isinstance(caught.value, KeyboardInterrupt)
    assert run.status == "interrupted" and "Ctrl-C" in run.error and run.results["wall_time_s"] < 120
    assert json.loads((tmp_path / "out" / "slow" / "results.json").read_text())["metrics"] == {"before": 2.5}
    assert "Stopped:" in run.html_path.read_text()
    assert not (tmp_path / "out" / "later").exists()  # Ctrl-C stops the whole run
    assert "<span class='status interrupted'>" in (tmp_path / "out" / "index.html").read_text()


def test_warnings_in_a_report_are_one_plain_line_once(monkeypatch):
    """What the runner's kernels print for a warning: no temporary cell file, no class name, no repeats."""
    import warnings

    from genmetrics_nb.metrics.distribution.frechet import SingularCovarianceWarning
    from genmetrics_nb.report import kernel_warnings as kw

    assert doctest.testmod(kw).failed == 0
    monkeypatch.setattr(kw, "_SEEN", set())
    out = kw.plain_warning("n = 48 samples\n  <= 2048 dimensions", SingularCovarianceWarning,
                           "/tmp/ipykernel_81/2731.py", 3)
    assert out == "Warning (singular covariance): n = 48 samples <= 2048 dimensions"
    # the package's own category once, whatever its numbers; others once per message
    assert kw.plain_warning("n = 20 samples", SingularCovarianceWarning) is None
    assert kw.plain_warning("a", UserWarning) == "Warning (user): a"
    assert kw.plain_warning("a", UserWarning) is None and kw.plain_warning("b", UserWarning)
    # a peer's deprecation is not shown; one raised in this package is
    assert kw.plain_warning("'pretrained' is deprecated", DeprecationWarning, "/site-packages/torchvision/x.py") is None
    assert kw.plain_warning("old", FutureWarning, kw._PACKAGE + "/metrics/x.py") == "Warning (future): old"
    with warnings.catch_warnings():
        kw.install()
        import io
        import sys

        err = io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        warnings.warn("n = 5 samples", SingularCovarianceWarning)  # already seen above: not again
        warnings.warn("c", RuntimeWarning)
        warnings.warn("c", RuntimeWarning)
    assert err.getvalue() == "Warning (runtime): c\n"
    assert "install()" in kw.STARTUP
