"""Benchmark: each extractor's speed against what this machine's CPU can do (its roofline).

In one run, on the same machine and thread count:

* the machine's fp32 GEMM rate (``torch.mm`` of two square matrices, best of
  ``--repeats``) and its memory bandwidth (a large tensor copy, read + write
  bytes counted);
* for each registered extractor: its FLOPs per image, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` on the unoptimised module
  (not quoted from papers), its images/s on ``uint8`` input at the network's
  own resolution (so no resize), the achieved GFLOP/s and their percentage of
  the GEMM rate, and the largest relative difference of its features from the
  unfused layer-by-layer reference (the plain eager module, without the
  rewrites the extractor applies);
* for ``efficientnet-lite0``, whose depthwise convolutions are bound by memory
  traffic, a bytes-moved estimate (activations and weights read and written
  by each layer, recorded with forward hooks) for the layer-by-layer network
  and for the fused plan the extractor runs, and the share of the measured
  bandwidth that the fused plan's traffic reaches;
* a second table of the ``efficientnet-lite0`` variants that were tried
  (eager, batch norm folded + channels_last, the oneDNN fused plan, with and
  without heap reuse, threads, batch sizes; ``--compile`` adds
  ``torch.compile`` and ``--jit`` ``torch.jit.freeze`` +
  ``optimize_for_inference``, both slow to build), interleaved in one
  process and repeated, so that their ratios share the machine's noise.

Networks whose published weights cannot be downloaded here (TF-FID
Inception, VGG-16, DINOv2, CLIP) run with seeded random weights written in the
publisher's file format by ``genmetrics_nb.testing`` and loaded through the
weight manager, as in the tests: speed does not depend on the values.
Extractors that are not registered in this build are skipped with a note.

Usage::

    python bench/roofline.py                  # full run (minutes on 2 cores)
    python bench/roofline.py --write          # ... and write bench/results/roofline-<host>.md
    python bench/roofline.py --quick          # seconds: tiny sizes, smoke test
    python bench/roofline.py --extractors efficientnet-lite0,vgg16-fc2 --threads 1

Timings on a shared machine are noisy; the tables report the best of
``--repeats`` interleaved runs and the machine's load average.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Extractors measured by default, in table order. dinov2-vit-g14 (4.5 GB of
#: random weights to write) only when asked for with --extractors.
DEFAULT_EXTRACTORS = ("efficientnet-lite0", "inception-v3-fid", "vgg16-fc2", "dinov2-vit-s14",
                      "dinov2-vit-b14", "dinov2-vit-l14", "clip-vit-l14-336")
QUICK_EXTRACTORS = ("efficientnet-lite0", "inception-v3-fid")
#: Native input side of each extractor (what is fed, so that no resize runs).
INPUT_SIZE = {"efficientnet-lite0": 224, "inception-v3-fid": 299, "vgg16-fc2": 224,
              "dinov2-vit-s14": 224, "dinov2-vit-b14": 224, "dinov2-vit-l14": 224,
              "dinov2-vit-g14": 224, "clip-vit-l14-336": 336, "inception-v3-torchvision": 299}


# ----------------------------------------------------------------------------
# machine
# ----------------------------------------------------------------------------
def best_time(fn, repeats: int, *, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def gemm_rate(n: int, repeats: int) -> float:
    """fp32 GFLOP/s of ``torch.mm`` on ``n x n`` matrices (2 n^3 FLOPs), best of ``repeats``."""
    import torch

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    out = torch.empty(n, n)
    t = best_time(lambda: torch.mm(a, b, out=out), repeats)
    return 2 * n ** 3 / t / 1e9


def copy_bandwidth(mib: int, repeats: int) -> float:
    """GB/s of ``dst.copy_(src)`` on ``mib`` MiB, counting the bytes read and written."""
    import torch

    n = mib * (1 << 20) // 4
    src, dst = torch.ones(n), torch.empty(n)
    dst.copy_(src)  # fault the pages in before timing
    t = best_time(lambda: dst.copy_(src), repeats)
    return 2 * n * 4 / t / 1e9


# ----------------------------------------------------------------------------
# random weights in the publishers' formats
# ----------------------------------------------------------------------------
def install_random_weights(names, home: Path) -> dict:
    """Write random checkpoints for the extractors in ``names``; returns notes for those that failed."""
    notes = {}
    wanted = {"inception-v3-fid": "pt_inception-2015-12-05", "vgg16-fc2": "vgg16",
              "inception-v3-torchvision": "inception_v3_google"}
    fake = [wanted[n] for n in names if n in wanted]
    if fake:
        from genmetrics_nb.testing.weights import install_fake_weights

        os.environ.update(install_fake_weights(fake, home))
    for name in names:
        try:
            if name.startswith("dinov2-vit-"):
                from genmetrics_nb.testing.dinov2_reference import install_fake_dinov2

                os.environ.update(install_fake_dinov2(home, name[len("dinov2-vit-")]))
            elif name == "clip-vit-l14-336":
                from genmetrics_nb.extractors.clip import VIT_L14_336
                from genmetrics_nb.testing.clip_checkpoint import install_fake_clip

                os.environ.update(install_fake_clip(home, VIT_L14_336))
        except Exception as exc:  # noqa: BLE001 - a helper still being written: skip, say why
            notes[name] = f"random weights not available ({type(exc).__name__}: {exc})"
    return notes


# ----------------------------------------------------------------------------
# references: the plain eager module, without the extractor's rewrites
# ----------------------------------------------------------------------------
def reference_of(name, ext, device):
    """``(ref(x_uint8, names) -> dict, what)``: the unfused layer-by-layer computation."""
    import torch

    if name == "efficientnet-lite0":
        from genmetrics_nb.extractors import efficientnet_lite as el

        plain = el.load_efficientnet_lite0(device=device)

        def ref(x, names):
            with torch.inference_mode():
                xin = el.efficientnet_lite0_preprocess(x.to(device).float())
                return el.efficientnet_lite0_stages(plain, xin, names=names)

        return ref, "efficientnet_lite_pytorch module, batch norm separate, NCHW, eager"
    if name == "inception-v3-fid":
        from genmetrics_nb.extractors import inception_fid

        plain = inception_fid.build_extractor(device=device, fused=False)
        return (lambda x, names: plain(x, outputs=names)), "pytorch-fid layer order, batch norm separate"
    return None, "no rewrite: the extractor runs the plain module"


def flops_per_image(name, ext, ref, size) -> float:
    """FLOPs of one image through the unoptimised network (torch's FLOP counter)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, 3, size, size, dtype=torch.uint8)
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        if ref is not None:
            ref(x, ext.outputs[:1])
        else:
            ext(x, outputs=ext.outputs[:1])
    return float(counter.get_total_flops())


def max_rel_diff(a: dict, b: dict) -> float:
    worst = 0.0
    for k in a:
        x, y = a[k].double().cpu().numpy(), b[k].double().cpu().numpy()
        worst = max(worst, float(np.abs(x - y).max() / max(np.abs(y).max(), 1e-30)))
    return worst


# ----------------------------------------------------------------------------
# EfficientNet-Lite0: bytes moved
# ----------------------------------------------------------------------------
def lite0_bytes_per_image(device) -> dict:
    """Activation + weight bytes read and written per image, from forward hooks.

    ``layer_by_layer``: every module of the unfused network is its own pass
    (TF "same" padding, convolution, batch norm, ReLU6, skip addition).
    ``fused_plan``: what :func:`onednn_plan` runs: one pass per convolution
    (bias, ReLU6 and the skip addition fused; symmetric padding inside the
    convolution), plus an explicit pad for the five stride-2 layers.
    """
    import torch
    from torch import nn

    from genmetrics_nb.extractors import efficientnet_lite as el

    plain = el.load_efficientnet_lite0(device=device)
    folded = el.fuse_efficientnet_lite0(plain)
    f4 = 4  # fp32

    def nbytes(t):
        return t.numel() * f4 if torch.is_tensor(t) else 0

    def skip_of(block):
        a = block._block_args
        return bool(a.id_skip and a.stride == 1 and a.input_filters == a.output_filters)

    totals = {"layer_by_layer": 0, "fused_plan": 0}
    hooks = []

    def params(m):
        return sum(p.numel() * f4 for p in m.parameters(recurse=False))

    def unfused_hook(m, inp, out):
        if isinstance(m, nn.Identity):
            return
        if any(True for _ in m.children()) and not params(m):
            return
        totals["layer_by_layer"] += nbytes(inp[0]) + nbytes(out) + params(m)

    def block_hook(m, inp, out):
        if skip_of(m):  # x + inputs: read two, write one
            totals["layer_by_layer"] += 3 * nbytes(out)

    for m in plain.modules():
        if isinstance(m, type(plain._blocks[0])):
            hooks.append(m.register_forward_hook(block_hook))
        elif not any(True for _ in m.children()) or params(m):
            hooks.append(m.register_forward_hook(unfused_hook))
    x = torch.zeros(1, 3, el.LITE0_SIZE, el.LITE0_SIZE, device=device)
    with torch.inference_mode():
        el.efficientnet_lite0_stages(plain, x, names=("pool", "logits"))
    for h in hooks:
        h.remove()

    residual = set()
    for b in folded._blocks:
        if skip_of(b):
            residual.add(id(b._project_conv))

    def fused_hook(m, inp, out):
        pad = getattr(m, "static_padding", None)
        read = nbytes(inp[0])
        if isinstance(pad, nn.ZeroPad2d):
            left, right, top, bottom = pad.padding
            if (left, top) != (right, bottom):  # explicit pad: read x, write and re-read padded
                n, c, h, w = inp[0].shape
                padded = n * c * (h + top + bottom) * (w + left + right) * f4
                read += 2 * padded
        extra = nbytes(out) if id(m) in residual else 0
        totals["fused_plan"] += read + nbytes(out) + params(m) + extra

    hooks = [m.register_forward_hook(fused_hook) for m in folded.modules()
             if isinstance(getattr(m, "weight", None), torch.Tensor) and m.weight.ndim == 4]
    with torch.inference_mode():
        out = el.efficientnet_lite0_stages(folded, x.contiguous(memory_format=torch.channels_last),
                                           names=("pool", "logits"))
    for h in hooks:
        h.remove()
    head_out = 1280 * 7 * 7 * f4
    totals["fused_plan"] += head_out + params(folded._fc) + nbytes(out["pool"]) + nbytes(out["logits"])
    return totals


# ----------------------------------------------------------------------------
# EfficientNet-Lite0 variants (what was tried)
# ----------------------------------------------------------------------------
def lite0_variants(x, *, device, repeats, threads, batch_sizes, compile_, jit):
    """``[(variant, threads, batch, images/s, max rel diff, note)]``, interleaved."""
    import torch

    from genmetrics_nb.extractors import efficientnet_lite as el
    from genmetrics_nb.features.heap import reuse_freed_memory

    plain = el.load_efficientnet_lite0(device=device)
    folded = el.fuse_efficientnet_lite0(plain)
    plan = el.onednn_plan(folded)
    xin_all = el.efficientnet_lite0_preprocess(x.float())

    def eager(module, cl):
        def run(xin):
            if cl:
                xin = xin.contiguous(memory_format=torch.channels_last)
            return el.efficientnet_lite0_stages(module, xin, names=("pool",))["pool"]
        return run

    runs = {"eager, unfused (reference)": (eager(plain, False), False, ""),
            "eager, batch norm folded + channels_last (before)": (eager(folded, True), False, ""),
            "eager, folded + channels_last + heap reuse": (eager(folded, True), True, "")}
    if plan is not None:
        runs["oneDNN fused plan"] = (lambda xin: plan(xin, ("pool",))["pool"], False, "")
        runs["oneDNN fused plan + heap reuse (shipped)"] = (lambda xin: plan(xin, ("pool",))["pool"], True, "")

    class Pool(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, xin):
            return el.efficientnet_lite0_stages(self.m, xin, names=("pool",))["pool"]

    example = xin_all[: batch_sizes[0]].contiguous(memory_format=torch.channels_last)
    if jit:
        import warnings

        t0 = time.perf_counter()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(Pool(folded).eval(), example)))
        note = f"build {time.perf_counter() - t0:.0f} s"
        runs["torch.jit.freeze + optimize_for_inference"] = (
            lambda xin: frozen(xin.contiguous(memory_format=torch.channels_last)), True, note)
    if compile_:
        t0 = time.perf_counter()
        compiled = torch.compile(Pool(folded).eval())
        with torch.inference_mode():
            compiled(example)
        note = f"compile {time.perf_counter() - t0:.0f} s"
        runs["torch.compile (inductor)"] = (
            lambda xin: compiled(xin.contiguous(memory_format=torch.channels_last)), True, note)

    with torch.inference_mode():
        ref = eager(plain, False)(xin_all[: max(batch_sizes)])
    configs = [(name, t, b) for name in runs for t in threads for b in batch_sizes]
    best = {c: float("inf") for c in configs}
    diffs = {}
    saved = torch.get_num_threads()
    try:
        with torch.inference_mode():
            for rep in range(repeats):
                for c in configs:
                    name, t, b = c
                    fn, heap, _ = runs[name]
                    torch.set_num_threads(t)
                    xin = xin_all[:b]
                    with reuse_freed_memory(heap):
                        out = fn(xin)  # warm-up (and the heap, when reused)
                        if c not in diffs:
                            diffs[c] = float(((out - ref[:b]).abs().max() / ref[:b].abs().max()))
                        t0 = time.perf_counter()
                        fn(xin)
                        best[c] = min(best[c], time.perf_counter() - t0)
    finally:
        torch.set_num_threads(saved)
    rows = []
    for c in configs:
        name, t, b = c
        rows.append({"variant": name, "threads": t, "batch": b, "images_per_s": b / best[c],
                     "max_rel_diff": diffs.get(c), "note": runs[name][2]})
    return rows


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (GEMM 256, copy 16 MiB, batch 2, one repeat, lite0 + inception)")
    parser.add_argument("--write", action="store_true", help="write bench/results/roofline-<host>.md and .json")
    parser.add_argument("--extractors", default=None, help="comma-separated names (default: all registered ones)")
    parser.add_argument("--batch-size", type=int, default=None, help="images per call (default 32; quick 2)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs, best kept (default 3; quick 1)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--gemm-n", type=int, default=None, help="GEMM side (default 2048; quick 256)")
    parser.add_argument("--copy-mib", type=int, default=None, help="copy size in MiB (default 512; quick 16)")
    parser.add_argument("--no-variants", action="store_true", help="skip the efficientnet-lite0 variants table")
    parser.add_argument("--compile", action="store_true", help="add torch.compile to the variants (slow to compile)")
    parser.add_argument("--jit", action="store_true", help="add torch.jit.freeze + optimize_for_inference to the variants")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"), help="folder for --write")
    args = parser.parse_args(argv)

    import torch

    from extraction import machine_description

    import genmetrics_nb as gm

    q = args.quick
    bs = args.batch_size or (2 if q else 32)
    repeats = args.repeats or (1 if q else 3)
    gemm_n = args.gemm_n or (256 if q else 2048)
    copy_mib = args.copy_mib or (16 if q else 512)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    device = torch.device("cpu")
    desc = machine_description(device)
    print(f"machine: {desc}", flush=True)

    gemm = gemm_rate(gemm_n, max(repeats, 2))
    bandwidth = copy_bandwidth(copy_mib, max(repeats, 2))
    print(f"fp32 GEMM ({gemm_n}^2, {threads} threads): {gemm:.1f} GFLOP/s; "
          f"copy bandwidth ({copy_mib} MiB): {bandwidth:.1f} GB/s", flush=True)

    names = args.extractors.split(",") if args.extractors else list(QUICK_EXTRACTORS if q else DEFAULT_EXTRACTORS)
    registered = set(gm.list_extractors())
    notes = {n: "not registered in this build" for n in names if n not in registered}
    names = [n for n in names if n in registered]
    home = Path(tempfile.mkdtemp(prefix="genmetrics-roofline-"))  # random weights: up to GBs
    try:
        return _measure(args, names, notes, home, desc, gemm, gemm_n, bandwidth, copy_mib, bs, repeats, threads)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _measure(args, names, notes, home, desc, gemm, gemm_n, bandwidth, copy_mib, bs, repeats, threads) -> int:
    import torch

    from extraction import make_images

    import genmetrics_nb as gm
    from genmetrics_nb.features.heap import reuse_freed_memory

    q = args.quick
    device = torch.device("cpu")
    notes.update(install_random_weights(names, home))
    names = [n for n in names if n not in notes]

    built = {}
    for name in names:
        try:
            ext = gm.get_extractor(name, device=device)
            ref, what = reference_of(name, ext, device)
            size = INPUT_SIZE.get(name) or int(ext.spec.get("input_size", [224])[0])
            built[name] = (ext, ref, what, size)
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            notes[name] = f"could not be built ({type(exc).__name__}: {exc})"

    rows = []
    inputs = {}
    for name, (ext, ref, what, size) in built.items():
        if size not in inputs:
            inputs[size] = torch.from_numpy(make_images(bs, size))
        x = inputs[size]
        flops = flops_per_image(name, ext, ref, size)
        with torch.inference_mode():
            got = ext(x)
            diff = max_rel_diff(got, ref(x, ext.outputs)) if ref is not None else None
        rows.append({"extractor": name, "input": f"{size}x{size}", "batch": bs, "threads": threads,
                     "gflop_per_image": flops / 1e9, "reference": what, "max_rel_diff": diff,
                     "outputs": list(ext.outputs), "best_s": float("inf")})
    # Timed runs, interleaved over extractors; heap reuse as in extract_features.
    with torch.inference_mode(), reuse_freed_memory():
        for name, (ext, _, _, size) in built.items():
            ext(inputs[size])  # warm-up
        for _ in range(repeats):
            gemm = max(gemm, gemm_rate(gemm_n, 1))  # re-measured between rounds: the same noise
            for row, (name, (ext, _, _, size)) in zip(rows, built.items()):
                t0 = time.perf_counter()
                ext(inputs[size])
                row["best_s"] = min(row["best_s"], time.perf_counter() - t0)
    for row in rows:
        row["images_per_s"] = bs / row.pop("best_s")
        row["gflop_per_s"] = row["gflop_per_image"] * row["images_per_s"]
        row["pct_of_gemm"] = 100 * row["gflop_per_s"] / gemm
        print(f"{row['extractor']:<22} {row['gflop_per_image']:7.2f} GFLOP/img {row['images_per_s']:8.2f} img/s "
              f"{row['gflop_per_s']:7.1f} GFLOP/s {row['pct_of_gemm']:5.1f}% of GEMM  "
              f"diff {row['max_rel_diff'] if row['max_rel_diff'] is not None else 'n/a'}", flush=True)

    memory = None
    lite = next((r for r in rows if r["extractor"] == "efficientnet-lite0"), None)
    if lite is not None:
        traffic = lite0_bytes_per_image(device)
        memory = {k: v / 1e6 for k, v in traffic.items()}
        memory["fused_plan_gb_per_s"] = traffic["fused_plan"] * lite["images_per_s"] / 1e9
        memory["pct_of_bandwidth"] = 100 * memory["fused_plan_gb_per_s"] / bandwidth
        memory["bound_images_per_s"] = bandwidth * 1e9 / traffic["fused_plan"]

    variants = []
    if lite is not None and not args.no_variants:
        x = inputs[224]
        vb = [bs] if q else [8, bs, 64]
        if not q:
            x = torch.from_numpy(make_images(max(vb), 224))
        vt = [threads] if q or threads == 1 else [1, threads]
        variants = lite0_variants(x, device=device, repeats=repeats, threads=vt, batch_sizes=vb,
                                  compile_=args.compile, jit=args.jit)

    text = render(desc, gemm, gemm_n, bandwidth, copy_mib, threads, bs, repeats, rows, notes, memory, variants)
    print("\n" + text)
    if args.write:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"roofline-{socket.gethostname()}"
        stem.with_suffix(".md").write_text(text)
        stem.with_suffix(".json").write_text(json.dumps(
            {"machine": desc, "args": vars(args), "gemm_gflop_per_s": gemm, "copy_gb_per_s": bandwidth,
             "rows": rows, "skipped": notes, "efficientnet_lite0_memory": memory, "variants": variants},
            indent=1, default=str))
        print(f"written {stem.with_suffix('.md')}")
    return 0


def _fmt_diff(d):
    return "n/a" if d is None else f"{d:.1e}"


def render(desc, gemm, gemm_n, bandwidth, copy_mib, threads, bs, repeats, rows, notes, memory, variants) -> str:
    lines = [f"Machine: {desc}",
             f"fp32 GEMM rate: {gemm:.1f} GFLOP/s (torch.mm {gemm_n} x {gemm_n}, {threads} threads, best of "
             f"{max(repeats, 2) + repeats}, between the extractor rounds); memory bandwidth: {bandwidth:.1f} GB/s (copy of {copy_mib} MiB, read + write).",
             f"Extractors on uint8 input at their own resolution, batch {bs}, fp32, best of {repeats} "
             "interleaved runs, heap reuse on (as in extract_features). FLOPs: torch.utils.flop_counter "
             "on the unoptimised module.", "",
             "| extractor | input | GFLOP/image | images/s | GFLOP/s | % of GEMM | max rel. diff vs layer-by-layer |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['extractor']} | {r['input']} | {r['gflop_per_image']:.2f} | {r['images_per_s']:.1f} | "
                     f"{r['gflop_per_s']:.1f} | {r['pct_of_gemm']:.0f}% | {_fmt_diff(r['max_rel_diff'])} |")
    lines.append("")
    lines += [f"- {r['extractor']}: reference = {r['reference']}" for r in rows]
    lines += [f"- {n}: skipped, {why}" for n, why in notes.items()]
    if memory is not None:
        lines += ["", "efficientnet-lite0 memory traffic (activations + weights read and written, per image, fp32):",
                  f"layer by layer {memory['layer_by_layer']:.1f} MB; fused plan {memory['fused_plan']:.1f} MB; "
                  f"at the measured rate the fused plan moves {memory['fused_plan_gb_per_s']:.1f} GB/s = "
                  f"{memory['pct_of_bandwidth']:.0f}% of the copy bandwidth (bandwidth bound: "
                  f"{memory['bound_images_per_s']:.0f} images/s). Layers whose activations fit in the caches "
                  "move less through DRAM than this estimate."]
    if variants:
        base = next((v for v in variants if v["variant"].startswith("eager, batch norm folded")
                     and v["threads"] == max(x["threads"] for x in variants)
                     and v["batch"] == variants[0]["batch"]), None)
        lines += ["", "efficientnet-lite0 variants (224 px, interleaved in one process, best of each):", "",
                  "| variant | threads | batch | images/s | vs folded eager (same threads, batch) | max rel. diff vs unfused | note |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        for v in variants:
            same = next((b for b in variants if b["variant"].startswith("eager, batch norm folded")
                         and b["threads"] == v["threads"] and b["batch"] == v["batch"]), base)
            ratio = v["images_per_s"] / same["images_per_s"] if same else float("nan")
            lines.append(f"| {v['variant']} | {v['threads']} | {v['batch']} | {v['images_per_s']:.1f} | "
                         f"{ratio:.2f}x | {_fmt_diff(v['max_rel_diff'])} | {v['note']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
