"""Benchmark: the Frechet distance of D = 2048 float64 statistics, five ways, in one run.

This project's symmetric-eigen form (CPU, and GPU when present) against
``scipy.linalg.sqrtm`` as pytorch-fid and clean-fid use it (pytorch-fid's
``calculate_frechet_distance``; clean-fid calls the same ``sqrtm(s1 @ s2)``),
and against the ``eigvals(s1 @ s2)`` form of torch-fidelity
(``fid_statistics_to_metric``) and torchmetrics (``_compute_fid``).

Prints a Markdown table (time, speed-up over the sqrtm path, absolute and
relative difference from this project's value) and writes it, with the
machine description, to ``bench/results/frechet.md`` and ``.json``.

Usage::

    python bench/frechet.py [--dim 2048] [--n 10000] [--repeats 3] [--threads 1]

``--threads`` pins every library to the same number of threads; on a shared
machine, oversubscribed multi-threaded LAPACK makes timings meaningless.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def set_threads(n) -> None:
    """Pin BLAS/LAPACK and torch to ``n`` threads (before numpy/torch are imported)."""
    if n:
        for var in _THREAD_VARS:
            os.environ[var] = str(n)


def machine() -> str:
    import numpy as np
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), numpy {np.__version__}, {gpu}")


def make_stats(dim: int, n: int, seed: int):
    """Statistics of ReLU features with a decaying spectrum (pool3-like: non-negative, correlated)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    k = min(dim, 512)
    basis = rng.normal(size=(k, dim)) * (np.arange(1, k + 1) ** -0.5)[:, None]
    out = []
    for shift in (0.0, 0.15):
        z = rng.normal(size=(n, k)) @ basis + rng.normal(size=(n, dim)) * 0.05 + shift
        f = np.maximum(z, 0)
        out.append((f.mean(0), np.cov(f, rowvar=False)))
    return out


def timed(fn, repeats: int):
    best, value = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best, float(value)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--n", type=int, default=10000, help="samples behind each covariance")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0,
                    help="BLAS/LAPACK and torch threads for every method (0: library defaults)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args(argv)
    set_threads(args.threads)
    import torch

    from genmetrics_nb.metrics.distribution.frechet import frechet_distance

    if args.threads:
        torch.set_num_threads(args.threads)
    (m1, s1), (m2, s2) = make_stats(args.dim, args.n, args.seed)
    methods = [
        ("genmetrics-nb (eigh, float64, CPU)",
         lambda: frechet_distance((m1, s1), (m2, s2), device="cpu", warn=False).value),
    ]
    if torch.cuda.is_available():
        ms = [torch.as_tensor(a, device="cuda") for a in (m1, s1, m2, s2)]

        def gpu():
            v = frechet_distance((ms[0], ms[1]), (ms[2], ms[3]), device="cuda", warn=False).value
            torch.cuda.synchronize()
            return v

        gpu()  # warm up cuSOLVER
        methods.append(("genmetrics-nb (eigh, float64, GPU)", gpu))
    from pytorch_fid.fid_score import calculate_frechet_distance

    def pfid():
        with warnings.catch_warnings():  # scipy deprecates sqrtm(disp=...), which pytorch-fid passes
            warnings.simplefilter("ignore", DeprecationWarning)
            return calculate_frechet_distance(m1, s1, m2, s2)

    methods.append(("pytorch-fid / clean-fid (scipy sqrtm)", pfid))
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    methods.append(("torch-fidelity (numpy eigvals)",
                    lambda: fid_statistics_to_metric({"mu": m1, "sigma": s1}, {"mu": m2, "sigma": s2},
                                                     False)["frechet_inception_distance"]))
    from torchmetrics.image.fid import _compute_fid

    tm = [torch.from_numpy(a) for a in (m1, s1, m2, s2)]
    methods.append(("torchmetrics (torch eigvals)", lambda: _compute_fid(*tm)))

    rows = []
    for name, fn in methods:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        fn()  # warm-up: library loading and thread pools are not part of the timing
        secs, value = timed(fn, args.repeats)
        rows.append({"method": name, "seconds": secs, "value": value})
    ours = rows[0]["value"]
    sqrtm = next(r["seconds"] for r in rows if "sqrtm" in r["method"])
    for r in rows:
        r["abs_diff"] = abs(r["value"] - ours)
        r["rel_diff"] = abs(r["value"] - ours) / abs(ours)
        r["speedup_vs_sqrtm"] = sqrtm / r["seconds"]
    desc = machine()
    lines = [
        f"Frechet distance, D = {args.dim}, float64 statistics of {args.n} samples each, "
        f"best of {args.repeats}. Machine: {desc}.",
        "",
        "| method | time (s) | speed-up vs sqrtm | FID | abs. diff. from ours | rel. diff. |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['method']} | {r['seconds']:.2f} | {r['speedup_vs_sqrtm']:.1f}x | "
                     f"{r['value']:.6f} | {r['abs_diff']:.2e} | {r['rel_diff']:.2e} |")
    table = "\n".join(lines)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "frechet.md").write_text(table + "\n")
    (out / "frechet.json").write_text(json.dumps({"machine": desc, "args": vars(args), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
