"""Benchmark: feature-extraction throughput of genmetrics-nb against pytorch-fid and torch-fidelity.

All three run the same TF-FID Inception architecture with the *same* random
weights (written by ``genmetrics_nb.testing.weights.install_fake_weights`` in
pytorch-fid's format; the real checkpoint cannot be downloaded here), in fp32,
on the same in-memory uint8 images, with the same batch size and thread
count. Two image sets: ``32 x 32`` (the CIFAR case, upsampled to 299) and
``256 x 256`` (downsampled to 299). EfficientNet-Lite0 (real weights) is
timed alone on the same sets.

Each implementation is run ``--repeats`` times, interleaved, after one warm-up
batch; the table reports the best run (images/s) and the ratio to the faster
peer. A column gives the largest relative difference of the pool3 features
from torch-fidelity's (the same TF1-resize protocol), so speed is only
compared at equal features. pytorch-fid resizes with
``F.interpolate(align_corners=False)`` instead of the TF1 resize, so its
features differ by design at 32 x 32 (shown for information).

Usage::

    python bench/extraction.py                 # small default for a 2-core machine
    python bench/extraction.py --n 2000        # the issue's full setting
    python bench/extraction.py --device cuda --n 2000

The table is printed and written to ``bench/results/extraction-<device>-<n>.md``
(plus a ``.json`` with the raw numbers).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def machine_description(device) -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    desc = (f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__} "
            f"({torch.get_num_threads()} intra-op threads)")
    if device.type == "cuda":
        desc += f", GPU {torch.cuda.get_device_name(device)}"
    try:
        load = os.getloadavg()[0]
        desc += f", load average at start {load:.1f}"
    except OSError:
        pass
    return desc


def make_images(n: int, size: int, *, seed: int = 0) -> np.ndarray:
    """``n`` uint8 RGB crops of scikit-image's photos, resized to ``size``."""
    import skimage.data
    from PIL import Image

    photos = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee(),
              skimage.data.rocket(), skimage.data.hubble_deep_field()]
    rng = np.random.default_rng(seed)
    out = np.empty((n, 3, size, size), np.uint8)
    for i in range(n):
        p = photos[rng.integers(len(photos))]
        s = int(rng.integers(64, min(p.shape[:2]) + 1))
        y, x = rng.integers(0, p.shape[0] - s + 1), rng.integers(0, p.shape[1] - s + 1)
        crop = Image.fromarray(p[y:y + s, x:x + s]).resize((size, size), Image.BICUBIC)
        out[i] = np.asarray(crop).transpose(2, 0, 1)
    return out


def _batches(x, bs):
    for s in range(0, len(x), bs):
        yield x[s:s + bs]


def run_pytorch_fid(x, weights, device, bs):
    import pytorch_fid.inception as pfi
    import torch

    state = torch.load(weights, map_location="cpu", weights_only=True)
    real = pfi.load_state_dict_from_url
    pfi.load_state_dict_from_url = lambda *a, **k: state
    try:
        model = pfi.InceptionV3([3]).eval().to(device)  # resize_input and normalize_input on
    finally:
        pfi.load_state_dict_from_url = real

    def run(xs):
        out = []
        with torch.no_grad():  # as pytorch-fid's get_activations
            for b in _batches(xs, bs):
                t = torch.from_numpy(b).to(device).float() / 255
                out.append(model(t)[0].flatten(1).cpu().numpy())
        return np.concatenate(out)

    return run


def run_torch_fidelity(x, weights, device, bs):
    import torch
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    model = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                        feature_extractor_weights_path=str(weights)).to(device)

    def run(xs):
        out = []
        with torch.no_grad():
            for b in _batches(xs, bs):
                out.append(model(torch.from_numpy(b).to(device))[0].cpu().numpy())
        return np.concatenate(out)

    return run


def run_ours(extractor, device, bs, output="pool"):
    import genmetrics_nb as gm

    def run(xs):
        return gm.extract_features(xs, extractor, outputs=output, batch_size=bs, device=device,
                                   cache=False, progress=False)[output]

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="images per set (the issue's setting: 2000)")
    parser.add_argument("--batch-size", type=int, default=50, help="batch size for every implementation")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per implementation (best is kept)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--sizes", default="32,256", help="image sides to test, comma separated")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"), help="folder for the table")
    args = parser.parse_args(argv)

    import torch

    import genmetrics_nb as gm
    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors import inception_fid
    from genmetrics_nb.testing.weights import install_fake_weights

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve(args.device)
    home = Path(tempfile.mkdtemp(prefix="genmetrics-bench-"))
    os.environ.update(install_fake_weights(["pt_inception-2015-12-05"], home))
    weights = gm.weights.path("pt_inception-2015-12-05")
    unfused = inception_fid.build_extractor(device=device, fused=False)
    desc = machine_description(device)
    print(f"machine: {desc}\n")

    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        x = make_images(args.n, size)
        impls = {
            "pytorch-fid": run_pytorch_fid(x, weights, device, args.batch_size),
            "torch-fidelity": run_torch_fidelity(x, weights, device, args.batch_size),
            "genmetrics-nb": run_ours("inception-v3-fid", device, args.batch_size),
            "genmetrics-nb (unfused)": run_ours(unfused, device, args.batch_size),
            "genmetrics-nb efficientnet-lite0": run_ours("efficientnet-lite0", device, args.batch_size),
        }
        feats, best = {}, {k: float("inf") for k in impls}
        for name, run in impls.items():  # warm-up and the features for the equality check
            run(x[: args.batch_size])
        for _ in range(args.repeats):
            for name, run in impls.items():
                if device.type == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                feats[name] = run(x)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                best[name] = min(best[name], time.perf_counter() - t0)
        ref = feats["torch-fidelity"].astype(np.float64)
        peer = min(best["pytorch-fid"], best["torch-fidelity"])
        for name in impls:
            f = feats[name]
            diff = "n/a" if f.shape != ref.shape else f"{np.abs(f - ref).max() / np.abs(ref).max():.1e}"
            ips = args.n / best[name]
            rows.append({"set": f"{args.n} x {size}x{size}", "implementation": name,
                         "images_per_s": ips, "vs_faster_peer": peer / best[name],
                         "max_rel_diff_vs_torch_fidelity": diff})
            print(f"{size:>4}px  {name:<34} {ips:8.1f} img/s  x{peer / best[name]:.2f}  diff {diff}")

    table = ["| images | implementation | images/s | vs faster peer | pool3 max rel. diff vs torch-fidelity |",
             "|---|---|---:|---:|---:|"]
    for r in rows:
        table.append(f"| {r['set']} | {r['implementation']} | {r['images_per_s']:.1f} | "
                     f"{r['vs_faster_peer']:.2f}x | {r['max_rel_diff_vs_torch_fidelity']} |")
    text = "\n".join(
        [f"Machine: {desc}", f"Device: {device}, fp32, batch size {args.batch_size}, best of {args.repeats}.",
         "", *table, ""]
    )
    print("\n" + text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"extraction-{device.type}-n{args.n}"
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps({"machine": desc, "args": vars(args), "rows": rows}, indent=1))
    print(f"written {stem.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
