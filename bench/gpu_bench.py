"""Benchmark: the GPU path, measured in one run (driven by ``bench/gpu.sh``).

Steps, each timed on the GPU with ``torch.cuda.synchronize`` around it:

1. ``extractors``: throughput of each registered extractor at fp32 (TF32 off,
   as ``precision="fp32"`` sets it), bf16 and fp16 (``torch.autocast``), on
   ``uint8`` images at the network's own resolution already on the GPU, and
   the largest relative deviation of the bf16/fp16 features from fp32;
2. ``decode``: JPEG decoding, ``torchvision.io.decode_jpeg(device="cuda")`` in
   batches against the engine's CPU path (Pillow in DataLoader workers), with
   the largest pixel difference between the two decoders;
3. ``frechet``: the Frechet distance (D = 2048, float64) on the GPU against the CPU;
4. ``knn``: k-NN precision/recall at N = 50,000 real and fake, D = 2048, on the GPU;
5. ``peers``: the same Inception extraction (same random weights, same
   ``uint8`` batches from host memory) in genmetrics-nb, pytorch-fid and
   torch-fidelity on the same GPU, with the features' differences;
6. ``fid50k``: ``genmetrics-nb fid REF.npz DIR`` for 50,000 JPEGs of 256 px,
   from files to number, as a command (process start and imports included).

Networks without downloadable weights here run on seeded random weights in
the publishers' formats (``genmetrics_nb.testing``), as in the tests.

``--dry-run`` runs every step on the CPU with tiny sizes (fp32 only, the
precision names checked; the FID command with ``efficientnet-lite0``), to
check imports and arguments; it prints no table and writes nothing. Without ``--dry-run`` a CUDA device is required
and the table goes to ``bench/results/gpu-<device>.md`` (and ``.json``).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

STEPS = ("extractors", "decode", "frechet", "knn", "peers", "fid50k")
EXTRACTORS = ("efficientnet-lite0", "inception-v3-fid", "vgg16-fc2", "dinov2-vit-s14", "dinov2-vit-b14",
              "dinov2-vit-l14", "clip-vit-l14-336")


class Clock:
    """Wall time with CUDA work finished at both ends."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            import torch

            torch.cuda.synchronize()

    def best(self, fn, repeats: int, warmup: int = 1) -> float:
        for _ in range(warmup):
            fn()
        best = float("inf")
        for _ in range(repeats):
            self.sync()
            t0 = time.perf_counter()
            fn()
            self.sync()
            best = min(best, time.perf_counter() - t0)
        return best


def rel(a, b) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


# ----------------------------------------------------------------------------
# 1. extractors x precisions
# ----------------------------------------------------------------------------
def step_extractors(cfg, clock, home):
    import torch

    import genmetrics_nb as gm
    from roofline import INPUT_SIZE, install_random_weights

    names = [n for n in cfg.extractors if n in gm.list_extractors()]
    notes = {n: "not registered" for n in cfg.extractors if n not in names}
    notes.update(install_random_weights(names, home))
    rows = []
    precisions = ("fp32", "bf16", "fp16")
    if not clock.cuda:  # dry run: the names are checked, fp32 runs (CPU bf16 convolutions crawl without AMX)
        from genmetrics_nb.extractors.base import check_precision

        for p in precisions:
            check_precision(p, torch.device("cuda"))
        precisions = ("fp32",)
    for name in names:
        if name in notes:
            continue
        try:
            ext = gm.get_extractor(name, device=cfg.device)
        except Exception as exc:  # noqa: BLE001 - a helper still being written: note it
            notes[name] = f"not built ({type(exc).__name__}: {exc})"
            continue
        size = INPUT_SIZE.get(name, 224)
        g = torch.Generator().manual_seed(0)
        x = torch.randint(0, 256, (cfg.batch, 3, size, size), dtype=torch.uint8, generator=g).to(cfg.device)
        ref = None
        for p in precisions:
            with torch.inference_mode():
                out = ext(x, precision=p)
                t = clock.best(lambda: ext(x, precision=p), cfg.repeats)
            dev = None
            if ref is None:
                ref = {k: v.float().cpu() for k, v in out.items()}
            else:
                dev = max(rel(out[k].float().cpu(), ref[k]) for k in ref)
            rows.append({"extractor": name, "input": size, "precision": p, "batch": cfg.batch,
                         "images_per_s": cfg.batch / t, "max_rel_dev_vs_fp32": dev})
            print(f"  {name:<20} {p:<5} {cfg.batch / t:9.1f} img/s  dev {dev}", flush=True)
        ext = out = None  # free the network before the next one
        gm.extractors.registry.clear_cache()
        if clock.cuda:
            torch.cuda.empty_cache()
    return {"rows": rows, "notes": notes}


# ----------------------------------------------------------------------------
# 2. JPEG decoding
# ----------------------------------------------------------------------------
def _write_jpegs(args):
    folder, start, stop, base, seed = args
    from PIL import Image

    rng = np.random.default_rng(seed + start)
    for i in range(start, stop):
        img = base[rng.integers(len(base))]
        y, x = rng.integers(0, img.shape[0] - 256 + 1), rng.integers(0, img.shape[1] - 256 + 1)
        Image.fromarray(img[y:y + 256, x:x + 256]).save(os.path.join(folder, f"{i:06d}.jpg"), quality=90)
    return stop - start


def write_jpeg_folder(folder: Path, n: int, *, seed: int = 0, processes: int | None = None) -> Path:
    """``n`` distinct 256 x 256 JPEGs (random crops of 320 px photo crops), written in parallel."""
    from extraction import make_images

    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.jpg"))) == n:
        return folder
    base = make_images(min(n, 200), 320, seed=seed).transpose(0, 2, 3, 1).copy()
    procs = processes or min(16, os.cpu_count() or 1)
    step = max(1, -(-n // (procs * 4)))
    jobs = [(str(folder), s, min(s + step, n), base, seed) for s in range(0, n, step)]
    if procs > 1 and len(jobs) > 1:
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            pool.map(_write_jpegs, jobs)
    else:
        for j in jobs:
            _write_jpegs(j)
    return folder


def step_decode(cfg, clock, work):
    import torch
    import torchvision
    from torch.utils.data import DataLoader
    from torchvision.io import decode_jpeg

    from genmetrics_nb.images import ImageFolder, list_image_files

    folder = write_jpeg_folder(work / "decode", cfg.decode_n)
    files = list_image_files(folder)
    data = [torchvision.io.read_file(f) for f in files]  # encoded bytes, read once (page cache)
    rows = []

    def gpu():
        out = []
        for s in range(0, len(data), cfg.decode_batch):
            out.extend(decode_jpeg(data[s:s + cfg.decode_batch], device=cfg.device))
        return out

    if clock.cuda:
        t = clock.best(gpu, cfg.repeats)
        rows.append({"decoder": f"torchvision.io.decode_jpeg(device='cuda'), batches of {cfg.decode_batch}",
                     "workers": 0, "images_per_s": len(files) / t})
    ds = ImageFolder(files, channels=3)
    for w in cfg.decode_workers:
        def cpu(w=w):
            loader = DataLoader(ds, batch_size=cfg.decode_batch, num_workers=w,
                                collate_fn=lambda b: torch.from_numpy(np.stack(b)))
            return [b for b in loader]
        t = clock.best(cpu, cfg.repeats)
        rows.append({"decoder": "Pillow in DataLoader workers (the engine's path)", "workers": w,
                     "images_per_s": len(files) / t})
    # pixel agreement of the two decoders on a few files
    from genmetrics_nb.images import read_image

    k = min(16, len(files))
    dev_decoded = decode_jpeg(data[:k], device=cfg.device)
    diff = max(int((dev_decoded[i].cpu().int() - torch.from_numpy(read_image(files[i])).int()).abs().max())
               for i in range(k))
    for r in rows:
        print(f"  {r['decoder']:<62} workers {r['workers']:>2} {r['images_per_s']:9.1f} img/s", flush=True)
    return {"rows": rows, "n": len(files), "max_pixel_diff_vs_pillow": diff}


# ----------------------------------------------------------------------------
# 3. Frechet distance
# ----------------------------------------------------------------------------
def step_frechet(cfg, clock, work):
    import torch

    import genmetrics_nb as gm

    rng = np.random.default_rng(0)
    d = cfg.frechet_dim

    def stats(shift):
        a = rng.standard_normal((d, d)) / np.sqrt(d)
        return rng.standard_normal(d) * 0.1 + shift, a @ a.T + 1e-3 * np.eye(d)

    s1, s2 = stats(0.0), stats(0.1)
    rows = []
    values = {}
    for dev in ([cfg.device, torch.device("cpu")] if clock.cuda else [torch.device("cpu")]):
        c = Clock(dev)
        t = c.best(lambda: gm.frechet_distance(s1, s2, device=dev, warn=False), cfg.repeats)
        values[str(dev)] = float(gm.frechet_distance(s1, s2, device=dev, warn=False).value)
        rows.append({"device": str(dev), "seconds": t, "value": values[str(dev)]})
        print(f"  frechet D={d} on {dev}: {t:.3f} s  value {values[str(dev)]:.9f}", flush=True)
    ref = values["cpu"]
    for r in rows:
        r["rel_diff_vs_cpu"] = abs(r["value"] - ref) / abs(ref)
    return {"rows": rows, "dim": d}


# ----------------------------------------------------------------------------
# 4. k-NN precision/recall
# ----------------------------------------------------------------------------
def step_knn(cfg, clock, work):
    import torch

    import genmetrics_nb as gm

    n, d = cfg.knn_n, cfg.knn_dim
    g = torch.Generator(device="cpu").manual_seed(0)
    basis = torch.randn(256, d, generator=g) / 16

    def feats(shift):
        z = torch.randn(n, 256, generator=g) @ basis + torch.randn(n, d, generator=g) * 0.3 + shift
        return z.clamp_min_(0)

    real, fake = feats(0.0), feats(0.05)
    if clock.cuda:
        real, fake = real.to(cfg.device), fake.to(cfg.device)
    clock.sync()
    t0 = time.perf_counter()
    pr = gm.precision_recall(real, fake, k=3, device=cfg.device, progress=False)
    clock.sync()
    t = time.perf_counter() - t0
    print(f"  precision/recall N={n} D={d}: {t:.2f} s  P {pr.precision:.4f} R {pr.recall:.4f}", flush=True)
    return {"n": n, "dim": d, "seconds": t, "precision": float(pr.precision), "recall": float(pr.recall)}


# ----------------------------------------------------------------------------
# 5. peers on the same device
# ----------------------------------------------------------------------------
def step_peers(cfg, clock, home):
    import torch

    import genmetrics_nb as gm
    from extraction import make_images, run_ours, run_pytorch_fid, run_torch_fidelity
    from roofline import install_random_weights

    install_random_weights(["inception-v3-fid"], home)
    weights = gm.weights.path("pt_inception-2015-12-05")
    x = make_images(cfg.peers_n, 256)
    impls = {"pytorch-fid": run_pytorch_fid(x, weights, cfg.device, cfg.peers_batch),
             "torch-fidelity": run_torch_fidelity(x, weights, cfg.device, cfg.peers_batch),
             "genmetrics-nb": run_ours("inception-v3-fid", cfg.device, cfg.peers_batch)}
    feats, best = {}, {k: float("inf") for k in impls}
    for run in impls.values() if not cfg.dry_run else ():  # warm-up
        run(x[: cfg.peers_batch])
    for _ in range(cfg.repeats):
        for name, run in impls.items():
            clock.sync()
            t0 = time.perf_counter()
            feats[name] = run(x)
            clock.sync()
            best[name] = min(best[name], time.perf_counter() - t0)
    peer = min(best["pytorch-fid"], best["torch-fidelity"])
    rows = []
    for name in impls:
        rows.append({"implementation": name, "images_per_s": len(x) / best[name], "vs_faster_peer": peer / best[name],
                     "max_rel_diff_vs_torch_fidelity": rel(feats[name], feats["torch-fidelity"])})
        print(f"  {name:<16} {len(x) / best[name]:9.1f} img/s  x{peer / best[name]:.2f}", flush=True)
    del impls
    if clock.cuda:
        torch.cuda.empty_cache()
    return {"rows": rows, "n": len(x), "batch": cfg.peers_batch}


# ----------------------------------------------------------------------------
# 6. FID-50k from files
# ----------------------------------------------------------------------------
def step_fid50k(cfg, clock, work, home):
    from roofline import install_random_weights

    install_random_weights(["inception-v3-fid"], home)
    t0 = time.perf_counter()
    folder = write_jpeg_folder(work / "fid50k", cfg.fid_n, seed=1)
    written = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    d = 1280 if cfg.dry_run else 2048
    a = rng.standard_normal((d, d)) / np.sqrt(d)
    ref = work / "reference-stats.npz"
    np.savez(ref, mu=rng.standard_normal(d), sigma=a @ a.T)  # pytorch-fid's format
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[1]),
                                                    os.environ.get("PYTHONPATH")) if p)
    # The dry run checks the command's arguments with the cheap offline network.
    extractor = "efficientnet-lite0" if cfg.dry_run else "inception-v3-fid"
    cmd = [sys.executable, "-m", "genmetrics_nb", "fid", str(ref), str(folder), "--extractor",
           extractor, "--device", str(cfg.device), "--batch-size", str(cfg.fid_batch), "--json",
           "--no-progress"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"fid command failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    value = float(json.loads(proc.stdout[proc.stdout.index("{"):])["value"])
    print(f"  FID of {cfg.fid_n} JPEGs from files: {wall:.1f} s (value {value:.3f}; files written in "
          f"{written:.1f} s, not counted)", flush=True)
    return {"n": cfg.fid_n, "seconds": wall, "value": value, "command": " ".join(cmd[1:])}


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------
def config(args):
    import torch

    dry = args.dry_run
    device = torch.device("cpu" if dry else "cuda")
    cpus = os.cpu_count() or 1
    c = argparse.Namespace(
        device=device, dry_run=dry,
        extractors=args.extractors.split(",") if args.extractors else (["efficientnet-lite0"] if dry else list(EXTRACTORS)),
        batch=1 if dry else args.batch_size, repeats=1 if dry else args.repeats,
        decode_n=4 if dry else 2000, decode_batch=2 if dry else 256,
        decode_workers=[0] if dry else sorted({min(4, max(1, cpus - 1)), max(1, cpus - 1)}),
        frechet_dim=16 if dry else 2048,
        knn_n=40 if dry else 50_000, knn_dim=8 if dry else 2048,
        peers_n=1 if dry else 2000, peers_batch=1 if dry else 500,
        fid_n=4 if dry else 50_000, fid_batch=2 if dry else 500,
    )
    return c


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes: check imports and arguments only")
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated subset of " + ", ".join(STEPS))
    parser.add_argument("--extractors", default=None, help="comma-separated extractor names (default: all of the issue's)")
    parser.add_argument("--batch-size", type=int, default=256, help="images per call in the extractors step")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (best kept)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"), help="folder of the table")
    parser.add_argument("--workdir", default=None, help="folder for generated files (default: temporary)")
    args = parser.parse_args(argv)

    import torch

    steps = [s for s in args.steps.split(",") if s]
    unknown = set(steps) - set(STEPS)
    if unknown:
        parser.error(f"--steps: unknown {sorted(unknown)}; choose from {', '.join(STEPS)}")
    if not args.dry_run and not torch.cuda.is_available():
        print("gpu_bench: no CUDA device; run with --dry-run on a CPU machine", file=sys.stderr)
        return 2
    cfg = config(args)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="genmetrics-gpu-"))
    try:
        return _run_steps(args, cfg, steps, work)
    finally:
        if not args.workdir:  # 50,000 JPEGs and GBs of random weights
            shutil.rmtree(work, ignore_errors=True)


def _run_steps(args, cfg, steps, work) -> int:
    import torch

    home = work / "genmetrics_home"
    os.environ.setdefault("GENMETRICS_OFFLINE", "1")
    clock = Clock(cfg.device)
    results, timing = {}, {}
    for step in steps:
        t0 = time.perf_counter()
        print(f"[{step}]", flush=True)
        if step == "extractors":
            results[step] = step_extractors(cfg, clock, home)
        elif step == "decode":
            results[step] = step_decode(cfg, clock, work)
        elif step == "frechet":
            results[step] = step_frechet(cfg, clock, work)
        elif step == "knn":
            results[step] = step_knn(cfg, clock, work)
        elif step == "peers":
            results[step] = step_peers(cfg, clock, home)
        elif step == "fid50k":
            results[step] = step_fid50k(cfg, clock, work, home)
        timing[step] = time.perf_counter() - t0
        print(f"[{step}] {timing[step]:.1f} s", flush=True)
    if cfg.dry_run:
        print("dry run: every step's imports and arguments checked on the CPU; no numbers claimed")
        return 0
    from extraction import machine_description

    desc = machine_description(cfg.device)
    text = render(desc, cfg, results, timing)
    print("\n" + text)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", torch.cuda.get_device_name(cfg.device)).strip("-")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"gpu-{name}.md").write_text(text)
    (out / f"gpu-{name}.json").write_text(json.dumps({"machine": desc, "results": results, "seconds": timing},
                                                     indent=1, default=str))
    print(f"written {out / f'gpu-{name}.md'}")
    return 0


def _f(v, fmt):
    return "n/a" if v is None else format(v, fmt)


def render(desc, cfg, results, timing) -> str:
    lines = [f"Machine: {desc}", ""]
    if "extractors" in results:
        r = results["extractors"]
        lines += [f"Extractors on uint8 images already on the GPU, at each network's own resolution, batch "
                  f"{cfg.batch}, best of {cfg.repeats}; fp32 with TF32 off.", "",
                  "| extractor | input | precision | images/s | max rel. deviation from fp32 |",
                  "|---|---|---|---:|---:|"]
        for row in r["rows"]:
            lines.append(f"| {row['extractor']} | {row['input']} | {row['precision']} | {row['images_per_s']:.0f} | "
                         f"{_f(row['max_rel_dev_vs_fp32'], '.1e')} |")
        lines += [f"- {n}: skipped, {why}" for n, why in r["notes"].items()] + [""]
    if "decode" in results:
        r = results["decode"]
        lines += [f"JPEG decoding, {r['n']} files of 256 x 256 (quality 90), best of {cfg.repeats}; largest "
                  f"pixel difference nvJPEG vs Pillow: {r['max_pixel_diff_vs_pillow']}.", "",
                  "| decoder | CPU workers | images/s |", "|---|---:|---:|"]
        lines += [f"| {x['decoder']} | {x['workers']} | {x['images_per_s']:.0f} |" for x in r["rows"]] + [""]
    if "frechet" in results:
        r = results["frechet"]
        lines += [f"Frechet distance, D = {r['dim']}, float64:", "", "| device | seconds | value | rel. diff vs CPU |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {x['device']} | {x['seconds']:.3f} | {x['value']:.9f} | {x['rel_diff_vs_cpu']:.1e} |"
                  for x in r["rows"]] + [""]
    if "knn" in results:
        r = results["knn"]
        lines += [f"k-NN precision/recall (k = 3), N = {r['n']:,} real and fake, D = {r['dim']}, on the GPU: "
                  f"{r['seconds']:.2f} s (precision {r['precision']:.4f}, recall {r['recall']:.4f}).", ""]
    if "peers" in results:
        r = results["peers"]
        lines += [f"Inception extraction on the same GPU, {r['n']} uint8 images of 256 x 256 from host memory, "
                  f"batch {r['batch']}, fp32, the same random weights:", "",
                  "| implementation | images/s | vs faster peer | pool3 max rel. diff vs torch-fidelity |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {x['implementation']} | {x['images_per_s']:.0f} | {x['vs_faster_peer']:.2f}x | "
                  f"{x['max_rel_diff_vs_torch_fidelity']:.1e} |" for x in r["rows"]] + [""]
    if "fid50k" in results:
        r = results["fid50k"]
        lines += [f"FID of {r['n']:,} JPEGs (256 x 256) against reference statistics, from files to number, "
                  f"as a command (`{r['command']}`, process start included): {r['seconds']:.1f} s.", ""]
    lines.append("Step times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timing.items()))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
