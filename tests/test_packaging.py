"""The package installs as documented and imports lightly."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from conftest import REPO


def _name(req: str) -> str:
    return re.split(r"[=<>!~\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins(reqs) -> dict:
    return {_name(r): r.replace(" ", "") for r in reqs}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    py_reqs = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
        else:
            conda.append(dep)
    env_reqs = _pins([d for d in conda if not d.startswith(("python", "pip"))] + pip)
    assert set(env_reqs) == set(py_reqs), (
        f"only in pyproject: {sorted(set(py_reqs) - set(env_reqs))}; "
        f"only in environment.yml: {sorted(set(env_reqs) - set(py_reqs))}"
    )
    # Pins must agree too (conda writes '=' where pip writes '==').
    for name, req in py_reqs.items():
        if "==" in req:
            assert env_reqs[name].replace("==", "=") == req.replace("==", "="), name


def test_import_is_light():
    # Importing the package must load no torch, no weights and touch no network.
    code = (
        "import sys, socket\n"
        "def deny(*a, **k): raise AssertionError('network access at import')\n"
        "socket.socket.connect = deny\n"
        "import genmetrics_nb as gm\n"
        "gm.psnr; gm.ssim; gm.ms_ssim; gm.load_images; gm.datasets.fashion_mnist; gm.datasets.cifar10;"
        " gm.datasets.sample_images\n"
        "heavy = [m for m in ('torchvision', 'lpips', 'efficientnet_lite_pytorch', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    out = subprocess.run(
        [sys.executable, "-c", "import sys, genmetrics_nb; print('torch' in sys.modules)"],
        check=True, cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert out.stdout.strip() == "False"
    # nor does building the command line (`genmetrics-nb --help` answers without loading torch)
    out = subprocess.run(
        [sys.executable, "-c", "import sys, genmetrics_nb.cli as c; c.build_parser(); print('torch' in sys.modules)"],
        check=True, cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert out.stdout.strip() == "False"


def test_every_public_name_resolves():
    import genmetrics_nb as gm

    missing = []
    for name in gm._EXPORTS:
        try:
            getattr(gm, name)
        except (AttributeError, ImportError) as exc:
            missing.append(f"{name}: {exc}")
    assert not missing, missing


def test_cli_lists_every_command():
    out = subprocess.run(
        [sys.executable, "-m", "genmetrics_nb", "--help"], check=True, cwd=REPO, capture_output=True, text=True
    ).stdout
    for cmd in ("report", "weights", "stats", "fid", "kid", "isc", "prc"):
        assert cmd in out, cmd
