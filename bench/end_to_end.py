"""Benchmark: FID from image files to number, genmetrics-nb against pytorch-fid, clean-fid and torch-fidelity.

Every tool runs as users run it: one command in a fresh process, timed from
the process start to its exit, so the wall time includes the interpreter and
the imports, listing and decoding the files, the resize, the Inception
forward passes and the Frechet distance.

* genmetrics-nb: ``python -m genmetrics_nb fid DIR_A DIR_B --extractor inception-v3-fid --device cpu``
  ``--resize legacy_pytorch`` (pytorch-fid's protocol exactly); its weights come from the weight
  manager's cache, put there by its import (``genmetrics-nb weights import``);
* pytorch-fid: ``python -m pytorch_fid DIR_A DIR_B --device cpu``;
* clean-fid: ``cleanfid.fid.compute_fid(DIR_A, DIR_B, mode="legacy_pytorch")``
  through ``python -c`` (clean-fid has no command line), which runs
  pytorch-fid's ``InceptionV3`` (its own copy, ``cleanfid/inception_pytorch.py``)
  on ``F.interpolate`` bilinear resizes done in its data loader;
* torch-fidelity: ``fidelity --fid --cpu --input1 DIR_A --input2 DIR_B``.

Same conditions: the same machine, the same ``OMP_NUM_THREADS`` /
``MKL_NUM_THREADS`` for every process, the same batch size, and the same TF-FID
Inception architecture with the *same* random weights (the published
checkpoint cannot be downloaded here; speed does not depend on the values,
and equal weights make the FID values comparable). The one random file is
placed where each tool looks for it, under a temporary ``TORCH_HOME``:
``hub/checkpoints/pt_inception-2015-12-05-6726825d.pth`` (pytorch-fid, and
clean-fid's legacy_pytorch mode, which loads the same URL through
``torch.hub``) and ``hub/checkpoints/weights-inception-2015-12-05-6726825d.pth``
(torch-fidelity); ``XDG_CACHE_HOME`` and ``HOME`` point into the temporary
folder too, so nothing reaches the network or the user's caches. Each tool
keeps its own default number of decoding workers (reported); clean-fid,
whose default is 12, gets pytorch-fid's ``min(8, cpus)``.

Inputs, generated deterministically (crops of scikit-image's sample photos):
``--n-png`` PNGs at 32 x 32 (the CIFAR case) and ``--n-jpeg`` JPEGs at
256 x 256 (quality 90); FID is computed between the two folders.

A second table gives genmetrics-nb's extraction rate from the files against
its rate on the same images already decoded in memory (``extract_features``
of a ``uint8`` array), for each folder: decoding in DataLoader workers
overlaps the forward passes, so the ratio shows what reading files costs.

Usage::

    python bench/end_to_end.py                 # the issue's setting (5,000 PNGs + 2,000 JPEGs; long on 2 cores)
    python bench/end_to_end.py --quick         # 40 + 20 images: minutes, same code path
    python bench/end_to_end.py --dry-run       # seconds: folders, weights, imports, commands; no timings
    python bench/end_to_end.py --write         # also write bench/results/end-to-end-<host>.md

FID values from pytorch-fid and clean-fid (``F.interpolate`` bilinear, then
``2x - 1``) differ from torch-fidelity's and genmetrics-nb's default (TF1
bilinear, ``(x - 128) / 128``) by design; genmetrics-nb's
``resize="legacy_pytorch"`` reproduces the former.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

TOOLS = ("genmetrics-nb", "pytorch-fid", "clean-fid", "torch-fidelity")
WEIGHTS_NAME = "pt_inception-2015-12-05"
PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
TORCH_FIDELITY_FILE = "weights-inception-2015-12-05-6726825d.pth"


# ----------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------
def write_folders(root: Path, n_png: int, n_jpeg: int) -> tuple[Path, Path]:
    """``root/png32`` (``n_png`` PNGs, 32 px) and ``root/jpeg256`` (``n_jpeg`` JPEGs, 256 px, quality 90)."""
    from extraction import make_images
    from PIL import Image

    out = []
    for name, n, size, ext, seed in (("png32", n_png, 32, "png", 0), ("jpeg256", n_jpeg, 256, "jpg", 1)):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        if len(list(folder.glob(f"*.{ext}"))) != n:
            for i in range(0, n, 500):
                for j, img in enumerate(make_images(min(500, n - i), size, seed=seed + 7919 * i)):
                    im = Image.fromarray(img.transpose(1, 2, 0))
                    path = folder / f"{i + j:06d}.{ext}"
                    if ext == "png":
                        im.save(path)
                    else:
                        im.save(path, quality=90)
        out.append(folder)
    return out[0], out[1]


#: Mixed_7c's output branches: scaling their last batch norm scales pool3 (ReLU is positively homogeneous).
_POOL3_BRANCHES = ("branch1x1", "branch3x3_2a", "branch3x3_2b", "branch3x3dbl_3a", "branch3x3dbl_3b", "branch_pool")


def random_fid_inception(path: Path, images: list | None, *, seed: int = 0, pool3_mean: float = 0.4) -> Path:
    """Seeded random TF-FID Inception weights in pytorch-fid's format, with pool3 at a realistic scale.

    ``genmetrics_nb.testing.weights.build_fake_model`` draws He-scaled weights
    and calibrates the batch norms on random noise; on real images its pool3
    features come out tens of times larger than the published network's
    (mean about 0.4). With fewer images than the 2048 dimensions (the
    2,000-JPEG folder), pytorch-fid's and clean-fid's ``sqrtm`` then leaves
    imaginary parts above their 1e-3 tolerance and they refuse to answer. The
    last block's output batch norms are therefore rescaled so that pool3 has
    mean ``pool3_mean`` on ``images`` (a list of ``uint8`` ``N x 3 x H x W``
    arrays); any weights do for timing, and all tools load this same file.
    """
    import torch

    from genmetrics_nb.extractors.inception_fid import fid_inception_forward, fid_inception_preprocess
    from genmetrics_nb.testing.weights import build_fake_model, install_fake_weights
    from genmetrics_nb.weights.manifest import BUILTIN

    if images is None:  # dry run: the memoised test file, not rescaled
        install_fake_weights([WEIGHTS_NAME], path.parent, seed=seed)
        return path.parent / "weights" / BUILTIN[WEIGHTS_NAME].filename
    model = build_fake_model(WEIGHTS_NAME, seed=seed)
    with torch.inference_mode():
        means = [float(fid_inception_forward(model, fid_inception_preprocess(torch.as_tensor(np.asarray(x))),
                                             ("pool",))["pool"].mean()) for x in images]
    scale = pool3_mean / float(np.mean(means))
    state = model.state_dict()
    for b in _POOL3_BRANCHES:
        for k in ("weight", "bias"):
            state[f"Mixed_7c.{b}.bn.{k}"] = state[f"Mixed_7c.{b}.bn.{k}"] * scale
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def install_weights(root: Path, env: dict, images: list | None) -> dict:
    """One random FID Inception checkpoint, put where every tool looks for it.

    genmetrics-nb: a manifest override (``GENMETRICS_MANIFEST``) carries the
    random file's sha256, and ``genmetrics_nb.weights.manager.import_file``
    (what ``genmetrics-nb weights import NAME FILE`` runs) verifies it and
    copies it into ``GENMETRICS_HOME``'s cache; pytorch-fid, clean-fid and
    torch-fidelity: their ``torch.hub`` cache file names under
    ``TORCH_HOME``. Returns the paths.
    """
    from genmetrics_nb.util.io import atomic_write_json

    source = random_fid_inception(root / "staging" / "random-fid-inception.pth", images)
    from genmetrics_nb.weights.manager import sha256_file

    manifest = root / "staging" / "manifest.json"
    atomic_write_json(manifest, {WEIGHTS_NAME: {
        "sha256": sha256_file(source), "sha256_prefix": None, "size": source.stat().st_size,
        "description": "RANDOM weights in the format of pt_inception-2015-12-05 (bench/end_to_end.py)",
        "source": "bench/end_to_end.py"}}, indent=1)
    env["GENMETRICS_MANIFEST"] = str(manifest)
    for k in ("GENMETRICS_HOME", "GENMETRICS_MANIFEST", "GENMETRICS_OFFLINE"):
        os.environ[k] = env[k]  # this process imports, and later loads, the same weights
    from genmetrics_nb.weights import manager

    manager.import_file(WEIGHTS_NAME, source)  # what `genmetrics-nb weights import NAME FILE` runs
    hub = Path(env["TORCH_HOME"]) / "hub" / "checkpoints"
    hub.mkdir(parents=True, exist_ok=True)
    placed = {"genmetrics-nb": manager.path(WEIGHTS_NAME, download=False)}
    for tool, fname in (("pytorch-fid", PYTORCH_FID_FILE), ("torch-fidelity", TORCH_FIDELITY_FILE)):
        dest = hub / fname
        shutil.copyfile(source, dest)
        placed[tool] = dest
    placed["clean-fid"] = placed["pytorch-fid"]
    return placed


def check_weight_locations(placed: dict) -> list[str]:
    """Each tool's own idea of its weights file name, checked against where the file is."""
    problems = []
    from pytorch_fid.inception import FID_WEIGHTS_URL
    from cleanfid.inception_pytorch import FID_WEIGHTS_URL as CLEAN_URL
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

    for tool, url in (("pytorch-fid", FID_WEIGHTS_URL), ("clean-fid", CLEAN_URL), ("torch-fidelity", URL_INCEPTION_V3)):
        if os.path.basename(url) != placed[tool].name:
            problems.append(f"{tool} loads {os.path.basename(url)}, but the file was placed as {placed[tool].name}")
    return problems


# ----------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------
#: genmetrics-nb's options for pytorch-fid's protocol, and the mode's name in the tables.
OUR_FID_OPTIONS = ["--resize", "legacy_pytorch"]
OUR_RESIZE = "legacy_pytorch"


def commands(dir_a: Path, dir_b: Path, *, batch_size: int, workers: int, our_opts: list) -> dict:
    py = sys.executable
    clean = ("import torch; from cleanfid import fid; "
             f"v = fid.compute_fid({str(dir_a)!r}, {str(dir_b)!r}, mode='legacy_pytorch', "
             f"num_workers={workers}, batch_size={batch_size}, device=torch.device('cpu'), "
             "use_dataparallel=False, verbose=False); print('FID', repr(float(v)))")
    fidelity = shutil.which("fidelity", path=os.path.dirname(py)) or "fidelity"
    return {
        "genmetrics-nb": [py, "-m", "genmetrics_nb", "fid", str(dir_a), str(dir_b), "--extractor",
                          "inception-v3-fid", "--device", "cpu", "--batch-size", str(batch_size), "--json",
                          "--no-progress", *our_opts],
        "pytorch-fid": [py, "-m", "pytorch_fid", str(dir_a), str(dir_b), "--device", "cpu",
                        "--batch-size", str(batch_size)],
        "clean-fid": [py, "-c", clean],
        "torch-fidelity": [fidelity, "--fid", "--cpu", "--input1", str(dir_a), "--input2", str(dir_b),
                           "--batch-size", str(batch_size), "--no-cache", "--json"],
    }


def parse_fid(tool: str, out: str) -> float:
    if tool == "genmetrics-nb":
        data = json.loads(out[out.index("{"):])
        return float(data["value"])
    if tool == "torch-fidelity":
        data = json.loads(out[out.index("{"):])
        return float(data["frechet_inception_distance"])
    m = re.search(r"FID:?\s+'?([-+0-9.eE]+|nan|inf)", out)
    if not m:
        raise ValueError(f"no FID in the output of {tool}:\n{out[-2000:]}")
    return float(m.group(1))


def run_tool(tool: str, cmd: list, env: dict) -> tuple[float, float | None, str]:
    """``(wall seconds, FID or None, output)``; a failed run returns None and its last error line."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return wall, None, f"exit {proc.returncode}: {lines[-1] if lines else ''}"
    return wall, parse_fid(tool, proc.stdout), proc.stdout


def startup_seconds(env: dict, repeats: int) -> dict:
    """Seconds to start each tool and import what its command imports (``python -c 'import ...'``)."""
    imports = {"genmetrics-nb": "import genmetrics_nb.cli, genmetrics_nb.metrics.distribution.fid, "
                                "genmetrics_nb.extractors.inception_fid, genmetrics_nb.features.engine, torch",
               "genmetrics-nb (cli module only)": "import genmetrics_nb.cli",
               "pytorch-fid": "import pytorch_fid.fid_score",
               "clean-fid": "import cleanfid.fid",
               "torch-fidelity": "import torch_fidelity.fidelity"}
    best = {}
    for _ in range(repeats):
        for k, stmt in imports.items():
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", stmt], env=env, check=True)
            best[k] = min(best.get(k, float("inf")), time.perf_counter() - t0)
    return best


# ----------------------------------------------------------------------------
# files against memory (genmetrics-nb)
# ----------------------------------------------------------------------------
def files_vs_memory(folder: Path, n: int, *, batch_size: int, repeats: int, resize_opts: list) -> dict:
    import genmetrics_nb as gm
    from genmetrics_nb.extractors.registry import get_extractor
    from genmetrics_nb.images import list_image_files

    files = list_image_files(folder)[:n]
    x = gm.load_images(files)
    kw = {}
    if resize_opts:
        kw["resize"] = resize_opts[1]
    ext = get_extractor("inception-v3-fid", device="cpu", **kw)
    opts = dict(outputs="pool", batch_size=batch_size, device="cpu", cache=False, progress=False)
    gm.extract_features(x[:batch_size], ext, **opts)  # warm-up
    best = {"files": float("inf"), "memory": float("inf")}
    feats = {}
    for _ in range(repeats):
        for kind, src in (("memory", x), ("files", files)):
            t0 = time.perf_counter()
            feats[kind] = gm.extract_features(src, ext, **opts)["pool"]
            best[kind] = min(best[kind], time.perf_counter() - t0)
    same = bool(np.array_equal(feats["files"], feats["memory"]))
    return {"n": len(files), "files_img_s": len(files) / best["files"],
            "memory_img_s": len(files) / best["memory"], "ratio": best["memory"] / best["files"],
            "identical_features": same}


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-png", type=int, default=None, help="PNGs at 32 px (default 5000; quick 40)")
    parser.add_argument("--n-jpeg", type=int, default=None, help="JPEGs at 256 px (default 2000; quick 20)")
    parser.add_argument("--quick", action="store_true", help="small folders, one repeat")
    parser.add_argument("--dry-run", action="store_true",
                        help="build tiny folders and the weights, check imports, weight locations and "
                             "commands; time nothing")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ", ".join(TOOLS))
    parser.add_argument("--threads", type=int, default=None, help="OMP/MKL threads of every process (default: cpus)")
    parser.add_argument("--batch-size", type=int, default=50, help="batch size of every tool (default 50)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs of each command (best kept)")
    parser.add_argument("--memory-n", type=int, default=None,
                        help="images per folder for the files-vs-memory table (default min(n, 1000))")
    parser.add_argument("--workdir", default=None, help="folder for images and caches (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--write", action="store_true", help="write bench/results/end-to-end-<host>.md and .json")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"--tools: unknown {sorted(unknown)}; choose from {', '.join(TOOLS)}")
    tiny = args.dry_run
    n_png = args.n_png or (3 if tiny else 40 if args.quick else 5000)
    n_jpeg = args.n_jpeg or (3 if tiny else 20 if args.quick else 2000)
    threads = args.threads or os.cpu_count() or 1
    workers = min(8, os.cpu_count() or 1)  # pytorch-fid's default, given to clean-fid too

    root = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="genmetrics-e2e-"))
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), CUDA_VISIBLE_DEVICES="",
               TORCH_HOME=str(root / "torch_home"), XDG_CACHE_HOME=str(root / "xdg_cache"),
               HOME=str(root / "home"), GENMETRICS_HOME=str(root / "genmetrics_home"),
               GENMETRICS_OFFLINE="1", PYTHONUNBUFFERED="1", TQDM_DISABLE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[1]),
                                                    os.environ.get("PYTHONPATH")) if p)
    (root / "home").mkdir(exist_ok=True)
    try:
        dir_a, dir_b = write_folders(root / "images", n_png, n_jpeg)
        from genmetrics_nb.images import list_image_files
        from genmetrics_nb.sources import load_images

        sample = None if args.dry_run else [load_images(list_image_files(d)[:4]) for d in (dir_a, dir_b)]
        placed = install_weights(root, env, sample)
        problems = check_weight_locations(placed)
        our_opts, our_resize = OUR_FID_OPTIONS, OUR_RESIZE
        cmds = {t: c for t, c in commands(dir_a, dir_b, batch_size=args.batch_size, workers=workers,
                                          our_opts=our_opts).items() if t in tools}
        if problems:
            raise SystemExit("weights misplaced: " + "; ".join(problems))
        if args.dry_run:
            import importlib

            for module in ("cleanfid.fid", "pytorch_fid.fid_score", "torch_fidelity.fidelity",
                           "genmetrics_nb.metrics.distribution.fid"):  # each command's imports
                importlib.import_module(module)
            for t, c in cmds.items():
                if t == "torch-fidelity" and not shutil.which(c[0]):
                    raise SystemExit(f"torch-fidelity's command {c[0]!r} is not installed")
                print(f"{t}: {' '.join(c)}")
            print(f"weights: {json.dumps({k: str(v) for k, v in placed.items()})}")
            print(f"genmetrics-nb resize protocol: {our_resize}")
            print("dry run: folders, weights, imports and commands checked; nothing timed")
            return 0
        from extraction import machine_description

        import torch

        torch.set_num_threads(threads)
        desc = machine_description(torch.device("cpu"))
        print(f"machine: {desc}", flush=True)
        start = startup_seconds(env, max(1, args.repeats))
        results = {t: {"wall_s": float("inf")} for t in cmds}
        for rep in range(args.repeats):
            for t, c in cmds.items():
                wall, value, out = run_tool(t, c, env)
                results[t]["fid"] = value
                if value is None:
                    results[t]["error"] = out
                    print(f"{t:<16} failed after {wall:.1f} s: {out}", flush=True)
                    continue
                results[t]["wall_s"] = min(results[t]["wall_s"], wall)
                print(f"{t:<16} {wall:8.1f} s  FID {value:.6f}", flush=True)
        mem_n = args.memory_n
        ratios = {}
        for folder, n in ((dir_a, n_png), (dir_b, n_jpeg)):
            ratios[folder.name] = files_vs_memory(folder, min(n, mem_n or 1000), batch_size=args.batch_size,
                                                  repeats=args.repeats, resize_opts=our_opts)
            r = ratios[folder.name]
            print(f"{folder.name}: files {r['files_img_s']:.1f} img/s, memory {r['memory_img_s']:.1f} img/s, "
                  f"ratio {r['ratio']:.2f}", flush=True)
        text = render(desc, n_png, n_jpeg, threads, workers, args, results, start, ratios, our_resize)
        print("\n" + text)
        if args.write:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            stem = out / f"end-to-end-{socket.gethostname()}"
            stem.with_suffix(".md").write_text(text)
            stem.with_suffix(".json").write_text(json.dumps(
                {"machine": desc, "args": vars(args), "results": results, "startup_s": start,
                 "files_vs_memory": ratios, "genmetrics_resize": our_resize}, indent=1))
            print(f"written {stem.with_suffix('.md')}")
        return 0
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(root, ignore_errors=True)


def render(desc, n_png, n_jpeg, threads, workers, args, results, start, ratios, our_resize) -> str:
    peers = [t for t in results if t != "genmetrics-nb" and results[t].get("fid") is not None]
    fastest = min((results[t]["wall_s"] for t in peers), default=None)
    ref = results.get("pytorch-fid", {}).get("fid")
    protocol = {"genmetrics-nb": our_resize, "pytorch-fid": "legacy_pytorch (F.interpolate bilinear)",
                "clean-fid": "legacy_pytorch (F.interpolate bilinear)",
                "torch-fidelity": "legacy_tensorflow (TF1 bilinear)"}
    default_workers = {"genmetrics-nb": f"{min(4, max(1, (os.cpu_count() or 2) - 1))} (default)",
                       "pytorch-fid": f"{workers} (default)", "clean-fid": f"{workers} (set)",
                       "torch-fidelity": f"{min(4, 2 * (os.cpu_count() or 1))} (default)"}
    lines = [f"Machine: {desc}",
             f"FID between {n_png} PNGs at 32 x 32 and {n_jpeg} JPEGs at 256 x 256 (quality 90), CPU, fp32, "
             f"OMP/MKL threads {threads} in every process, batch size {args.batch_size}, the same random "
             f"TF-FID Inception weights in every tool; wall time of the whole command (process start, imports, "
             f"decoding, resize, extraction, distance), best of {args.repeats}.", "",
             "| tool | wall s | vs fastest peer | start-up + imports s | decoding workers | resize protocol | FID | FID - pytorch-fid |",
             "|---|---:|---:|---:|---|---|---:|---:|"]
    for t, r in results.items():
        if r.get("fid") is None:
            lines.append(f"| {t} | failed | | {start.get(t, float('nan')):.1f} | {default_workers[t]} | "
                         f"{protocol[t]} | {r.get('error', '')} | |")
            continue
        speed = f"{fastest / r['wall_s']:.2f}x" if fastest else "n/a"
        diff = f"{r['fid'] - ref:+.2e}" if ref is not None else "n/a"
        lines.append(f"| {t} | {r['wall_s']:.1f} | {speed} | {start.get(t, float('nan')):.1f} | "
                     f"{default_workers[t]} | {protocol[t]} | {r['fid']:.6f} | {diff} |")
    lines += ["", f"`python -c 'import genmetrics_nb.cli'`: {start.get('genmetrics-nb (cli module only)', float('nan')):.2f} s.",
              "", "genmetrics-nb extraction rate from files against the same images decoded in memory "
              f"(inception-v3-fid, batch {args.batch_size}, best of {args.repeats}):", "",
              "| folder | images | from files, images/s | from memory, images/s | files / memory | features identical |",
              "|---|---:|---:|---:|---:|---|"]
    for name, r in ratios.items():
        lines.append(f"| {name} | {r['n']} | {r['files_img_s']:.1f} | {r['memory_img_s']:.1f} | "
                     f"{r['ratio']:.2f} | {r['identical_features']} |")
    lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
