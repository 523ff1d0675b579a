"""Benchmark: Vendi, PRD, sliced Wasserstein, rarity score and clipped density/coverage against their references.

Each of this project's functions and its reference implementation runs in its
own process on the same random Gaussian features (N real and N generated, D
columns, float64, generated there from the same seed), so that the growth of
the peak resident memory can be measured. The references:

- Vendi: ``vendi_score.vendi.score_dual`` (PyPI ``vendi-score``; d x d, as ours for n > d);
- PRD: ``compute_prd_from_embedding`` of ``prd_score.py`` (transcribed in
  tests/reference/), NumPy's global state seeded as ours;
- sliced Wasserstein: POT's ``ot.sliced_wasserstein_distance`` (50 directions,
  seed 0), and dgm-eval's ``sw_approx`` (transcribed);
- rarity score: Rarity-Score's ``MANIFOLD.rarity`` (transcribed; full N x N float64 matrices);
- clipped density/coverage: the authors' ``ClippedDensityCoverage`` (transcribed;
  scikit-learn neighbour searches).

Usage::

    python bench/diversity_a.py [--n 10000] [--dim 2048] [--metrics vendi prd ...] [--threads 1]
                                [--repeats 2]

Writes ``bench/results/diversity_a.md`` (the table) and ``diversity_a.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import contextlib, io, json, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[7])  # tests/reference
metric, impl, n, d, seed, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
rng = np.random.default_rng(seed)
real = rng.standard_normal((n, d))
fake = rng.standard_normal((n, d)) * 1.1 + 0.05
import torch
threads = int(sys.argv[8])
if threads:
    torch.set_num_threads(threads)
import genmetrics_nb as gm
from genmetrics_nb.metrics.diversity import prd as _p, sliced_wasserstein as _s, vendi as _v  # noqa: F401
from genmetrics_nb.metrics.distribution import clipped_density_coverage as _c, rarity as _r  # noqa: F401
import ot, sklearn.cluster, sklearn.neighbors, vendi_score.vendi  # noqa: F401
import clipped_density_coverage_reference as cdc_ref, dgm_eval_reference as dgm_ref
import prd_score_reference as prd_ref, rarity_score_reference as rar_ref
_w = torch.ones(256, 256); (_w @ _w).topk(4, dim=1)  # initialise torch/BLAS once
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
res = {}
quiet = contextlib.redirect_stdout(io.StringIO())
with quiet:
    if (metric, impl) == ("vendi", "ours"):
        res["value"] = gm.vendi_score(real, progress=False, device="cpu").value
    elif (metric, impl) == ("vendi", "ref"):
        res["value"] = vendi_score.vendi.score_dual(real)
    elif (metric, impl) == ("prd", "ours"):
        r = gm.prd(real, fake, seed=0, progress=False, device="cpu")
        res.update(precision=r.precision, recall=r.recall, f=[r.f_beta, r.f_beta_inv])
    elif (metric, impl) == ("prd", "ref"):
        np.random.seed(0)
        p, rc = prd_ref.compute_prd_from_embedding(fake, real)
        res.update(precision=p, recall=rc, f=list(prd_ref.prd_to_max_f_beta_pair(p, rc, beta=8)))
    elif (metric, impl) == ("sliced_wasserstein", "ours"):
        res["value"] = gm.sliced_wasserstein(real, fake, seed=0, progress=False, device="cpu").value
    elif (metric, impl) == ("sliced_wasserstein", "ref"):
        res["value"] = ot.sliced_wasserstein_distance(real, fake, n_projections=50, seed=0)
    elif (metric, impl) == ("sw_approx", "ours"):
        res["value"] = gm.sliced_wasserstein(real, fake, method="approx", progress=False, device="cpu").value
    elif (metric, impl) == ("sw_approx", "ref"):
        res["value"] = dgm_ref.sw_approx(real, fake)
    elif (metric, impl) == ("rarity", "ours"):
        res["scores"] = gm.rarity_score(real, fake, k=3, progress=False, device="cpu").scores
    elif (metric, impl) == ("rarity", "ref"):
        res["scores"] = rar_ref.MANIFOLD(real_features=real, fake_features=fake).rarity(k=3)[0]
    elif (metric, impl) == ("clipped_dc", "ours"):
        r = gm.clipped_density_coverage(real, fake, k=5, progress=False, device="cpu")
        res["value"] = [r.clipped_density, r.clipped_coverage]
    elif (metric, impl) == ("clipped_dc", "ref"):
        c = cdc_ref.ClippedDensityCoverage(real_data=real, K=5, n_jobs=max(threads, 1))
        res["value"] = [c.ClippedDensity(synthetic_data=fake), c.ClippedCoverage(synthetic_data=fake)]
    else:
        raise SystemExit(f"unknown {metric} {impl}")
secs = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
np.savez(out, **{k: np.asarray(v, dtype=np.float64) for k, v in res.items()})
print(json.dumps({"seconds": secs, "peak_growth_mib": (after - before) / 1024}))
"""

METRICS = {
    "vendi": ("gm.vendi_score (q = 1, linear, d x d)", "vendi-score score_dual"),
    "prd": ("gm.prd (20 clusters, 10 runs, 1001 angles)", "prd_score.py compute_prd_from_embedding"),
    "sliced_wasserstein": ("gm.sliced_wasserstein (50 directions)", "POT sliced_wasserstein_distance"),
    "sw_approx": ("gm.sliced_wasserstein(method='approx')", "dgm-eval sw_approx"),
    "rarity": ("gm.rarity_score (k = 3)", "Rarity-Score MANIFOLD.rarity"),
    "clipped_dc": ("gm.clipped_density_coverage (k = 5)", "ClippedDensityCoverage (authors' code)"),
}


def _run(metric, impl, args, env, tmp):
    out = Path(tmp) / f"{metric}-{impl}.npz"
    cmd = [sys.executable, "-c", _CHILD, metric, impl, str(args.n), str(args.dim), str(args.seed), str(out),
           str(ROOT / "tests" / "reference"), str(args.threads)]
    print(f"{metric} / {impl} ...", file=sys.stderr, flush=True)
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"status": f"stopped after {args.timeout:.0f} s"}, None
    if res.returncode != 0:
        return {"status": "failed: " + (res.stderr.strip().splitlines() or ["?"])[-1][:200]}, None
    row = json.loads(res.stdout.strip().splitlines()[-1])
    row["status"] = "ok"
    print(row, file=sys.stderr, flush=True)
    import numpy as np

    with np.load(out) as z:
        return row, {k: z[k] for k in z.files}


def _max_diff(a, b) -> float:
    import numpy as np

    return float(max(np.max(np.abs(a[k] - b[k])) for k in a))


def main(argv=None) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from frechet import machine

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="samples per set")
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--metrics", nargs="+", default=list(METRICS), choices=list(METRICS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS/OpenMP and torch threads in every child (0: library defaults)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    ap.add_argument("--repeats", type=int, default=1,
                    help="run both sides this many times, interleaved; report the fastest run")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if args.threads:
        env.update({v: str(args.threads) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for metric in args.metrics:
            runs = {"ours": [], "ref": []}
            out = {}
            for _ in range(args.repeats):  # interleaved, so that load changes hit both sides
                for impl in ("ours", "ref"):
                    row, arrays = _run(metric, impl, args, env, tmp)
                    runs[impl].append(row)
                    out.setdefault(impl, arrays)
            best = {}
            for impl, rs in runs.items():
                ok = [r for r in rs if r["status"] == "ok"]
                best[impl] = dict(min(ok, key=lambda r: r["seconds"])) if ok else rs[0]
                if ok:
                    best[impl]["peak_growth_mib"] = max(r["peak_growth_mib"] for r in ok)
                    best[impl]["all_seconds"] = [r["seconds"] for r in ok]
            a, b = out.get("ours"), out.get("ref")
            rows.append({"metric": metric, "ours": best["ours"], "ref": best["ref"],
                         "max_abs_diff": _max_diff(a, b) if a is not None and b is not None else None})
    if args.threads:
        os.environ.update({v: str(args.threads) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    desc = machine()
    lines = [
        f"Each metric against its reference, N = {args.n:,} real and {args.n:,} generated random Gaussian "
        f"features (float64), D = {args.dim}. Machine: {desc}; {args.threads or 'default'} thread(s) per "
        f"process. Fastest of {args.repeats} interleaved run(s) per side, each in its own process (the "
        "2-core machine is shared with other jobs: single timings vary by up to 2x); peak memory is the "
        "growth of the process's peak RSS over its state with the features loaded and the libraries "
        "imported (largest over the runs). Max abs diff: largest difference of any reported number "
        "(values, curves, per-sample scores).",
        "",
        "| metric | ours | reference | ours (s) | reference (s) | ratio (ref / ours) | max abs diff | "
        "peak MB ours | peak MB reference |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        o, f = r["ours"], r["ref"]
        ok = o["status"] == "ok" and f["status"] == "ok"
        lines.append(
            f"| {r['metric']} | {METRICS[r['metric']][0]} | {METRICS[r['metric']][1]} | "
            f"{o['seconds']:.2f} | " if o["status"] == "ok" else
            f"| {r['metric']} | {METRICS[r['metric']][0]} | {METRICS[r['metric']][1]} | {o['status']} | "
        )
        lines[-1] += (f"{f['seconds']:.2f} | " if f["status"] == "ok" else f"{f['status']} | ")
        lines[-1] += (f"{f['seconds'] / o['seconds']:.2f} | {r['max_abs_diff']:.2e} | " if ok else " | | ")
        lines[-1] += (f"{o['peak_growth_mib']:.0f} | " if o["status"] == "ok" else " | ")
        lines[-1] += (f"{f['peak_growth_mib']:.0f} |" if f["status"] == "ok" else " |")
    table = "\n".join(lines)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "diversity_a.md").write_text(table + "\n")
    (out / "diversity_a.json").write_text(json.dumps({"machine": desc, "args": vars(args), "rows": rows},
                                                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
