"""Benchmark: k-NN precision/recall (and density/coverage) at large N, D = 2048.

This project's blocked, exactness-guarded float32 computation against prdc
(``compute_prdc``: sklearn ``pairwise_distances`` into full N x N matrices)
and torch-fidelity (``calculate_precision_recall_part``, its memory-saving
path, and ``_full``). Every method runs in its own process on the same
features (generated there from the same seed), so that its peak resident
memory can be measured: the table reports wall time and the growth of the
peak RSS over the process's state with the features loaded.

Usage::

    python bench/knn.py --sizes 10000 50000 [--dim 2048] [--methods ours prdc tf-part]
                        [--max-gib 20]

A method whose N x N matrices would not fit in ``--max-gib`` is skipped
and reported as such (prdc at N = 50,000 needs about 30 GB).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time, io, contextlib
import numpy as np, torch
method, n, d, seed, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = np.random.default_rng(seed)
basis = rng.standard_normal((256, d), dtype=np.float32) / 16.0
def feats(shift):
    # built in float32 blocks, so that no large temporary raises the peak before the measurement
    z = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 2000):
        blk = rng.standard_normal((min(2000, n - s), 256), dtype=np.float32) @ basis
        blk += rng.standard_normal(blk.shape, dtype=np.float32) * 0.3 + shift
        z[s:s + len(blk)] = np.maximum(blk, 0)
    return z
real, fake = feats(0.0), feats(0.05)
import genmetrics_nb.metrics.distribution.knn, prdc, sklearn.metrics, torch_fidelity.metric_prc  # imports are not working memory
_w = torch.ones(256, 256); (_w @ _w).topk(4, dim=1); torch.cdist(_w, _w)  # initialise torch/MKL once
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
extra = {}
if method == "ours":
    import genmetrics_nb as gm
    from genmetrics_nb.metrics.distribution import knn  # noqa: F401  (imported before timing)
    pr = gm.precision_recall(real, fake, k=k, progress=False)
    out = {"precision": pr.precision, "recall": pr.recall}
elif method == "ours+dc":
    import genmetrics_nb as gm
    pr = gm.precision_recall(real, fake, k=k, progress=False)
    dc = gm.density_coverage(real, fake, k=k, progress=False)
    out = {"precision": pr.precision, "recall": pr.recall, "density": dc.density, "coverage": dc.coverage}
elif method == "prdc":
    from prdc import compute_prdc
    with contextlib.redirect_stdout(io.StringIO()):
        out = {k_: float(v) for k_, v in compute_prdc(real, fake, k).items()}
elif method in ("tf-part", "tf-full"):
    from torch_fidelity import metric_prc as m
    fn = m.calculate_precision_recall_part if method == "tf-part" else m.calculate_precision_recall_full
    p, r = fn(torch.from_numpy(fake), torch.from_numpy(real), k, 10000)  # features_1 = generated
    out = {"precision": p, "recall": r}
else:
    raise SystemExit(f"unknown method {method}")
secs = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": secs, "peak_growth_mib": (after - before) / 1024, **out, **extra}))
"""

# bytes of N x N-sized float32 matrices each peer holds at once (lower bounds)
_NN_MATRICES = {"prdc": 3, "tf-full": 4, "tf-part": 0, "ours": 0, "ours+dc": 0}
_LABELS = {
    "ours": "genmetrics-nb precision_recall",
    "ours+dc": "genmetrics-nb precision_recall + density_coverage",
    "prdc": "prdc compute_prdc (P, R, D, C)",
    "tf-part": "torch-fidelity PRC, save_cpu_ram path",
    "tf-full": "torch-fidelity PRC, full matrices",
}


def _fmt(r, key):
    return f"{r[key]:.4f}" if key in r else ""


def _table(rows, args, desc) -> list:
    lines = [
        f"Precision/recall with k = {args.k}, D = {args.dim}, N real = N fake. Machine: {desc}.",
        f"Fastest of {args.repeats} interleaved run(s) per method. Peak memory: growth of the "
        "process's peak RSS over its state with the features loaded and the libraries imported and "
        "initialised (largest over the runs).",
        "",
        "| N | method | time (s) | peak memory growth (MiB) | precision | recall | density | coverage | status |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r.get("status") == "ok":
            lines.append(f"| {r['n']} | {r['method']} | {r['seconds']:.1f} | {r['peak_growth_mib']:.0f} | "
                         f"{_fmt(r, 'precision')} | {_fmt(r, 'recall')} | {_fmt(r, 'density')} | "
                         f"{_fmt(r, 'coverage')} | ok |")
        else:
            lines.append(f"| {r['n']} | {r['method']} | | | | | | | {r['status']} |")
    return lines


def main(argv=None) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from frechet import machine

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000])
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--methods", nargs="+", default=["ours", "ours+dc", "prdc", "tf-part"],
                    choices=sorted(_LABELS))
    ap.add_argument("--max-gib", type=float, default=20.0, help="skip methods whose N x N matrices exceed this")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per method run")
    ap.add_argument("--repeats", type=int, default=1,
                    help="run every method this many times, interleaved; report the fastest run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0,
                    help="BLAS/OpenMP and torch threads in every child (0: library defaults)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args(argv)
    env = dict(os.environ)
    if args.threads:
        env.update({v: str(args.threads) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})

    rows = []
    for n in args.sizes:
        runs = {m: [] for m in args.methods}
        for rep in range(args.repeats):
            for method in args.methods:  # interleaved, so that load changes hit every method
                need = _NN_MATRICES[method] * n * n * 4 / 2**30
                if need > args.max_gib:
                    if rep == 0:
                        runs[method].append({"status": f"skipped: needs >= {need:.0f} GiB of N x N matrices"})
                    continue
                print(f"N = {n}: {method} (run {rep + 1}) ...", file=sys.stderr, flush=True)
                t = time.perf_counter()
                row = {}
                try:
                    res = subprocess.run([sys.executable, "-c", _CHILD, method, str(n), str(args.dim),
                                          str(args.seed), str(args.k)], capture_output=True, text=True,
                                         timeout=args.timeout, env=env)
                    if res.returncode != 0:
                        row["status"] = "failed: " + (res.stderr.strip().splitlines() or ["?"])[-1][:200]
                    else:
                        row.update(status="ok", **json.loads(res.stdout.strip().splitlines()[-1]))
                except subprocess.TimeoutExpired:
                    row["status"] = f"stopped after {args.timeout:.0f} s"
                row["wall_with_setup_s"] = time.perf_counter() - t
                runs[method].append(row)
                print(row, file=sys.stderr, flush=True)
        for method, rs in runs.items():
            ok = [r for r in rs if r.get("status") == "ok"]
            best = dict(min(ok, key=lambda r: r["seconds"])) if ok else dict(rs[0])
            if ok:
                best["peak_growth_mib"] = max(r["peak_growth_mib"] for r in ok)
                best["all_seconds"] = [r["seconds"] for r in ok]
            best.update(n=n, method=_LABELS[method])
            rows.append(best)
    if args.threads:
        os.environ.update({v: str(args.threads) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    desc = machine()
    lines = _table(rows, args, desc)
    table = "\n".join(lines)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "knn.md").write_text(table + "\n")
    (out / "knn.json").write_text(json.dumps({"machine": desc, "args": vars(args), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
