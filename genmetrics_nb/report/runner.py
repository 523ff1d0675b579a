"""Execute notebooks with papermill into HTML reports and ``results.json``.

For each notebook ``notebooks/<name>.ipynb`` the runner writes::

    <out>/<name>/<name>.ipynb     the executed notebook (kept when it fails)
    <out>/<name>/<name>.html      the HTML page (shows the traceback on failure)
    <out>/<name>/results.json     parameters, headline numbers, versions, timing
    <out>/<name>/figures/*.png    every figure made by a genmetrics_nb plot function
    <out>/<name>/thumbnail.png    the main figure, small, for the index
    <out>/index.html              every report with its figure, numbers, verdict and status

Each notebook runs in its own process group with a wall-clock timeout, so a
notebook that hangs is stopped, marked ``timeout``, and the others still run.
Each kernel prints a warning as one plain line, once
(:mod:`genmetrics_nb.report.kernel_warnings`, installed by an IPython
startup file in a private ``$IPYTHONDIR``). Ctrl-C stops the running
notebook, marks it ``interrupted`` (keeping what it had recorded, its
executed notebook and the index) and then raises
:class:`NotebookInterrupted`, a ``KeyboardInterrupt``.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from genmetrics_nb.plots.core import REPORT_DIR_ENV
from genmetrics_nb.report.kernel_warnings import STARTUP as KERNEL_STARTUP
from genmetrics_nb.report.params import check_parameters, read_parameters
from genmetrics_nb.report.record import RECORDS_ENV, to_jsonable

__all__ = [
    "NotebookRun", "NotebookInterrupted", "run_notebook", "run_notebooks", "load_profile", "PROFILES", "NOTEBOOK_DIR",
]  # fmt: skip

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
PROFILE_DIR = NOTEBOOK_DIR / "profiles"
PROFILES = ("offline", "paper", "smoke")


@dataclasses.dataclass(frozen=True)
class NotebookRun:
    """What happened to one notebook."""

    name: str
    status: str  # "ok", "failed", "timeout" or "interrupted"
    results: dict
    html_path: Path
    notebook_path: Path
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __str__(self) -> str:
        secs = self.results.get("wall_time_s", float("nan"))
        line = f"{self.name}: {self.status} in {secs:.1f} s -> {self.html_path}"
        return line if self.ok else f"{line}\n  {self.error}"


class NotebookInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a notebook; ``run`` is its :class:`NotebookRun`, already written."""

    def __init__(self, run: NotebookRun):
        super().__init__(f"{run.name}: interrupted")
        self.run = run


def load_profile(profile: str, notebook: str) -> dict:
    """The parameter overrides a profile sets for one notebook.

    Parameters
    ----------
    profile : str
        ``"offline"``, ``"paper"`` or ``"smoke"``, or the path of a YAML file
        with the same layout (notebook name -> {parameter: value}). Profiles
        joined with ``+`` are merged left to right: ``"paper+smoke"`` is the
        paper setting at the smoke test's sizes.
    notebook : str
        Notebook stem, e.g. ``"psnr_ssim"``.
    """
    import yaml

    if not isinstance(profile, str) or not profile:
        raise ValueError(f"profile must be a non-empty string, got {profile!r}")
    if "+" in profile and not Path(profile).is_file():
        merged = {}
        for part in profile.split("+"):
            merged.update(load_profile(part, notebook))
        return merged
    path = Path(profile)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        if profile not in PROFILES:
            raise ValueError(
                f"profile must be one of {', '.join(PROFILES)} (or several joined by '+', "
                f"or a YAML file), got {profile!r}"
            )
        path = PROFILE_DIR / f"{profile}.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of notebook name -> parameters")
    section = data.get(notebook) or {}
    if not isinstance(section, dict):
        raise ValueError(f"{path}: section {notebook!r} must be a mapping of parameter -> value")
    return section


def resolve_notebook(nb) -> Path:
    path = Path(nb)
    if path.suffix != ".ipynb":
        path = NOTEBOOK_DIR / f"{nb}.ipynb"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(NOTEBOOK_DIR.glob("*.ipynb")))
        raise ValueError(f"notebook {str(nb)!r} not found; known notebooks: {known}")
    return path.resolve()


def _versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("genmetrics-nb", "torch", "torchvision", "numpy", "scipy", "scikit-image", "papermill"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _git_commit() -> str | None:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=NOTEBOOK_DIR.parent, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=NOTEBOOK_DIR.parent, capture_output=True, text=True, timeout=10,
    ).stdout.strip()  # fmt: skip
    return res.stdout.strip() + ("-dirty" if dirty else "")


KERNEL_NAME = "genmetrics-nb"


def _kernel_name() -> str:
    """The project's kernel (``make`` installs it into the venv), else ``python3``.

    Naming the kernel explicitly keeps a ``python3`` kernel from some other
    environment (``~/.local/share/jupyter``) from running the notebooks.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL_NAME if KERNEL_NAME in KernelSpecManager().find_kernel_specs() else "python3"


def _device(params: dict) -> str:
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        cuda = False
    asked = params.get("device", "auto")
    if asked in (None, "auto"):
        return "cuda" if cuda else "cpu"
    return str(asked)


def _error_from_notebook(path: Path) -> str | None:
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"{out.get('ename')}: {out.get('evalue')}"
    return None


def _write_html(nb_path: Path, html_path: Path, *, fallback_error: str | None, stopped: str | None = None) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    if nb_path.is_file():
        nb = nbformat.read(str(nb_path), as_version=4)
    else:  # the kernel died before papermill wrote anything
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_markdown_cell(f"# Execution failed\n\n```\n{fallback_error}\n```"))
    if stopped:  # a timeout or Ctrl-C leaves no traceback in the notebook: say why it ends here
        nb.cells.append(nbformat.v4.new_markdown_cell(f"**Stopped:** {stopped}"))
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb)
    html_path.write_text(body, encoding="utf-8")


def run_notebook(
    notebook,
    *,
    profile: str = "offline",
    parameters: dict | None = None,
    out_dir="reports",
    timeout: float | None = None,
    write_index: bool = True,
) -> NotebookRun:
    """Execute one notebook into a report.

    Parameters
    ----------
    notebook : str or Path
        A path to an ``.ipynb`` or a notebook name in ``notebooks/`` (``"psnr_ssim"``).
    profile : str
        ``"offline"`` (default), ``"paper"``, ``"smoke"``, or a YAML file.
    parameters : dict, optional
        Overrides applied on top of the profile; checked against the
        notebook's parameters cell (unknown names and wrong types raise).
    out_dir : path
        The reports folder; the notebook's report goes to ``out_dir/<name>/``.
    timeout : float, optional
        Seconds before the notebook is stopped and marked ``"timeout"``.
    write_index : bool
        Rewrite ``out_dir/index.html`` afterwards.

    Returns
    -------
    NotebookRun

    Raises
    ------
    ValueError, TypeError
        For an unknown notebook, profile or parameter, before anything runs.
    NotebookInterrupted
        On Ctrl-C, once the report (status ``"interrupted"``) and the index
        are written; its ``run`` is the :class:`NotebookRun`.
    """
    path = resolve_notebook(notebook)
    name = path.stem
    spec = read_parameters(path)
    values = dict(load_profile(profile, name))
    values.update(parameters or {})
    values = check_parameters(spec, values, notebook=f"{name}.ipynb")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")

    folder = Path(out_dir).resolve() / name
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (folder / "figures").glob("*.png"):
        stale.unlink()
    out_nb = folder / f"{name}.ipynb"
    html = folder / f"{name}.html"
    records = folder / "records.json"
    for f in (out_nb, html, records):
        if f.exists():
            f.unlink()
    all_params = {p.name: p.default for p in spec.values()}
    all_params.update(values)

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        import yaml

        yaml.safe_dump(values, fh)
        params_file = fh.name
    env = dict(os.environ)
    # the kernel's IPython starts with kernel_warnings.install(): each warning one plain line, once
    ipython_dir = Path(tempfile.mkdtemp(prefix="genmetrics-ipython-"))
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-genmetrics-warnings.py").write_text(KERNEL_STARTUP)
    env["IPYTHONDIR"] = str(ipython_dir)
    env[RECORDS_ENV] = str(records)
    env[REPORT_DIR_ENV] = str(folder)
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    env.setdefault("PYTHONHASHSEED", "0")
    # A report needs the bars' final state, not a redraw every 0.1 s.
    env.setdefault("TQDM_MININTERVAL", "30")
    cmd = [
        sys.executable, "-m", "papermill", str(path), str(out_nb),
        "-f", params_file, "--cwd", str(path.parent), "--kernel", _kernel_name(),
        "--no-progress-bar", "--log-level", "WARNING",
    ]  # fmt: skip
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    status, error = "ok", None
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        log, _ = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            status = "failed"
            error = _error_from_notebook(out_nb) or (log.strip().splitlines() or ["papermill failed"])[-1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the kernel is in the same group
        log, _ = proc.communicate()
        status, error = "timeout", f"stopped after the {timeout:g} s timeout"
    except KeyboardInterrupt:  # the kernel runs in its own session: Ctrl-C reaches only us
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        status, error = "interrupted", "interrupted (Ctrl-C); the numbers recorded before it are kept"
    finally:
        os.unlink(params_file)
        shutil.rmtree(ipython_dir, ignore_errors=True)
    wall = time.perf_counter() - t0
    (folder / "papermill.log").write_text(log or "")
    _write_html(out_nb, html, fallback_error=error, stopped=error if status in ("timeout", "interrupted") else None)

    metrics = json.loads(records.read_text()) if records.is_file() else {}
    results = {
        "notebook": name,
        "status": status,
        "error": error,
        "profile": str(profile),
        "parameters": to_jsonable(all_params),
        "overrides": to_jsonable(values),
        "metrics": metrics,
        # In the order they were saved: the index's thumbnail is the first, unless a notebook records
        # "main_figure".
        "figures": [
            p.name for p in sorted((folder / "figures").glob("*.png"), key=lambda p: (p.stat().st_mtime_ns, p.name))
        ],
        "versions": _versions(),
        "device": _device(all_params),
        "git_commit": _git_commit(),
        "started_at": started.isoformat(timespec="seconds"),
        "wall_time_s": round(wall, 3),
    }
    (folder / "results.json").write_text(json.dumps(results, indent=2, sort_keys=False))
    if write_index:
        from genmetrics_nb.report.index import write_index as _write_index

        _write_index(out_dir)
    run = NotebookRun(name, status, results, html, out_nb, error)
    if status == "interrupted":
        raise NotebookInterrupted(run)
    return run


def run_notebooks(notebooks=None, *, profile="offline", parameters=None, out_dir="reports", timeout=None):
    """Run several notebooks (all of ``notebooks/`` by default); returns the runs.

    Every notebook runs even when an earlier one fails; Ctrl-C stops them all
    (:class:`NotebookInterrupted`, once the interrupted one's report is
    written). ``parameters`` keys may be plain (``n=5``: applied to each notebook, which must all accept
    it) or qualified (``fid.n=5``: that notebook only).
    """
    paths = [resolve_notebook(n) for n in notebooks] if notebooks else sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    if not paths:
        raise ValueError(f"no notebooks found in {NOTEBOOK_DIR}")
    parameters = dict(parameters or {})
    per_nb = {p.stem: {} for p in paths}
    for key, value in parameters.items():
        stem, dot, pname = key.rpartition(".")
        if dot and stem in per_nb:
            per_nb[stem][pname] = value
        elif dot:
            raise ValueError(f"parameter {key!r} names notebook {stem!r}, which is not being run")
        else:
            for d in per_nb.values():
                d[key] = value
    # Check every notebook's parameters before running any of them.
    for p in paths:
        spec = read_parameters(p)
        vals = dict(load_profile(profile, p.stem))
        vals.update(per_nb[p.stem])
        check_parameters(spec, vals, notebook=p.name)
    runs = []
    for p in paths:
        print(f"running {p.name} (profile {profile}) ...", flush=True)
        try:
            run = run_notebook(p, profile=profile, parameters=per_nb[p.stem], out_dir=out_dir, timeout=timeout)
        except NotebookInterrupted as exc:  # the later notebooks do not run
            print(f"  {exc.run}", flush=True)
            raise
        print(f"  {run}", flush=True)
        runs.append(run)
    return runs
