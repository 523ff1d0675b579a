"""Benchmark: TopP&R, P-precision/P-recall, alpha-precision, AuthPct, C_T and FLD against their references.

Features are random Gaussians, N x D float32 (N = 10,000 and D = 2,048 by
default): real ~ N(0, I), fake ~ N(0.1, I) for the support metrics; for the
memorisation metrics a training set, a held-out set and a generated set
whose first 10 % are near-copies of training samples (noise 0.05). Every
run (ours, reference) is its own process on features generated there from
the same seed, so that its peak resident memory can be measured: the table
reports wall time and the growth of the peak RSS over the process's state
with the features loaded (and, for the references, converted to the dtype
they take).

References:

- TopP&R: ``top_pr.compute_top_pr`` (PyPI ``top-pr`` 0.2.1);
- the others: the literal transcriptions under ``tests/reference/`` (P-precision/
  P-recall: kdst-team ``metric/pp_pr.py``; alpha-precision: ahmedmalaa
  ``metrics/evaluation.py``; AuthPct and C_T: dgm-eval ``authpct.py``,
  ``ct.py``; FLD: marcojira/fld). For C_T the reference's unseeded sklearn
  ``PCA`` and ``KMeans`` get ``random_state=0`` (what ``gm.ct_test(seed=0)``
  uses) and its ``mannwhitneyu`` 1-D columns (NumPy 2 refuses its (1,)-array
  assignment); for FLD ``np.random.seed(0)`` precedes the reference.

Usage::

    python bench/diversity_b.py [--n 10000] [--dim 2048] [--ref-n top_pr=5000 ...]
                                [--metrics top_pr pp_pr ...] [--out bench/results/diversity_b.md]
    python bench/diversity_b.py --quick      # N = 400, D = 64: a smoke run, writes nothing

``--ref-n metric=N`` runs that metric's reference (and, for the difference
column, ours again) at a smaller N where the reference loops in Python;
the table says so.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

METRICS = ("top_pr", "pp_pr", "alpha_precision", "authpct", "ct_test", "fld")

_CHILD = r"""
import json, resource, sys, time, importlib.util, functools, io, contextlib
import numpy as np, torch
metric, method, n, d, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
root = sys.argv[6]
rng = np.random.default_rng(seed)
def gauss(shift=0.0):
    z = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 2000):
        z[s:s + 2000] = rng.standard_normal((min(2000, n - s), d), dtype=np.float32) + shift
    return z
def load(name):
    spec = importlib.util.spec_from_file_location(name, f"{root}/tests/reference/{name}.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod); return mod
if metric in ("top_pr", "pp_pr", "alpha_precision"):
    real, fake = gauss(0.0), gauss(0.1)
else:
    train, test, gen = gauss(), gauss(), gauss()
    c = n // 10
    gen[:c] = train[:c] + 0.05 * rng.standard_normal((c, d), dtype=np.float32)
import genmetrics_nb as gm
ref = None
if method == "reference":
    if metric == "top_pr":
        import top_pr.top_pr as ref
    elif metric == "pp_pr":
        ref = load("pp_pr_reference"); real, fake = real.astype(np.float64), fake.astype(np.float64)
    elif metric == "alpha_precision":
        ref = load("alpha_precision_reference"); real, fake = real.astype(np.float64), fake.astype(np.float64)
    elif metric in ("authpct", "ct_test"):
        ref = load("dgm_eval_memorisation_reference")
        if metric == "ct_test":
            from scipy.stats import mannwhitneyu
            from sklearn.cluster import KMeans
            from sklearn.decomposition import PCA
            ref.mannwhitneyu = lambda x, y, **kw: mannwhitneyu(np.ravel(x), np.ravel(y), **kw)
            ref.KMeans = functools.partial(KMeans, random_state=0)
            ref.PCA = functools.partial(PCA, random_state=0)
    else:
        ref = load("fld_reference"); ref.DEVICE = torch.device("cpu")
        train, test, gen = (torch.from_numpy(a) for a in (train, test, gen))
_w = torch.ones(256, 256); (_w @ _w).topk(4, dim=1); torch.cdist(_w, _w)  # initialise torch/MKL once
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
quiet = contextlib.redirect_stdout(io.StringIO())
with quiet, contextlib.redirect_stderr(io.StringIO()):
    if method == "ours":
        kw = dict(device="cpu", progress=False)
        if metric == "top_pr":
            r = gm.top_pr(real, fake, **kw); out = [r.precision, r.recall, r.f1]
        elif metric == "pp_pr":
            r = gm.pp_pr(real, fake, **kw); out = [r.p_precision, r.p_recall]
        elif metric == "alpha_precision":
            r = gm.alpha_precision(real, fake, **kw); out = [r.alpha_precision, r.beta_recall, r.authenticity]
        elif metric == "authpct":
            out = [gm.authpct(train, gen, **kw).value]
        elif metric == "ct_test":
            out = [gm.ct_test(train, test, gen, seed=0, **kw).value]
        else:
            out = [gm.fld(train, test, gen, seed=0, **kw).value]
    else:
        if metric == "top_pr":
            r = ref.compute_top_pr(real_features=real, fake_features=fake)
            out = [r["fidelity"], r["diversity"], r["Top_F1"]]
        elif metric == "pp_pr":
            out = list(ref.compute_pprecision_precall(real, fake))
        elif metric == "alpha_precision":
            out = list(ref.compute_alpha_precision(real, fake, np.mean(real, axis=0))[3:])
        elif metric == "authpct":
            out = [ref.compute_authpct(train, gen)]
        elif metric == "ct_test":
            out = [ref.compute_CTscore(train, test, gen)]
        else:
            np.random.seed(0)
            out = [ref.FLD(eval_feat="test").compute_metric(train, test, gen)]
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_mb": (peak - before) / 1024, "out": [float(v) for v in out]}))
"""


def _run(metric, method, n, d, seed, timeout):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, metric, method, str(n), str(d), str(seed), str(ROOT)],
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--dim", type=int, default=2048)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--metrics", nargs="+", default=list(METRICS), choices=METRICS)
    p.add_argument("--ref-n", nargs="*", default=[], metavar="METRIC=N",
                   help="run this metric's reference (and ours, for the difference) at a smaller N")
    p.add_argument("--timeout", type=int, default=900, help="seconds per run")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "diversity_b.md"))
    p.add_argument("--quick", action="store_true", help="N = 400, D = 64, print only")
    a = p.parse_args(argv)
    if a.quick:
        a.n, a.dim, a.out = 400, 64, None
    ref_n = {}
    for item in a.ref_n:
        name, _, val = item.partition("=")
        if name not in METRICS or not val.isdigit():
            p.error(f"--ref-n takes METRIC=N with METRIC in {', '.join(METRICS)}, got {item!r}")
        ref_n[name] = int(val)
    rows = []
    for m in a.metrics:
        ours = _run(m, "ours", a.n, a.dim, a.seed, a.timeout)
        nr = ref_n.get(m, a.n)
        ref = _run(m, "reference", nr, a.dim, a.seed, a.timeout)
        same = ours if nr == a.n else _run(m, "ours", nr, a.dim, a.seed, a.timeout)
        rows.append((m, nr, ours, ref, same))
        print(f"{m}: ours {ours} | reference (N = {nr}) {ref}", file=sys.stderr, flush=True)
    head = (f"Support and memorisation metrics against their references: N = {a.n:,}, D = {a.dim:,} random "
            f"Gaussian features (seed {a.seed}), CPU, {os.cpu_count()} cores, torch threads "
            f"{os.environ.get('OMP_NUM_THREADS', 'default')}.\n\n"
            "| metric | ours s | reference s | ratio | max abs diff | ours peak MB | reference peak MB | note |\n"
            "|---|---:|---:|---:|---:|---:|---:|---|")
    lines = [head]
    for m, nr, ours, ref, same in rows:
        def cell(r, key, fmt):
            return format(r[key], fmt) if key in r else "-"
        note = ""
        if nr != a.n:
            note = f"reference at N = {nr:,} (loops in Python); diff against ours at that N, ours {cell(same, 'seconds', '.1f')} s there"
        if "error" in ref:
            note = (note + "; " if note else "") + f"reference: {ref['error']}"
        if "error" in ours:
            note = (note + "; " if note else "") + f"ours: {ours['error']}"
        ratio = "-"
        diff = "-"
        if "seconds" in ref and "seconds" in same:
            ratio = f"{ref['seconds'] / same['seconds']:.1f}x"
            diff = f"{max(abs(x - y) for x, y in zip(same['out'], ref['out'])):.2e}"
        lines.append(f"| {m} | {cell(ours, 'seconds', '.2f')} | {cell(ref, 'seconds', '.2f')} | {ratio} | {diff} | "
                     f"{cell(ours, 'peak_mb', '.0f')} | {cell(ref, 'peak_mb', '.0f')} | {note} |")
    lines.append("\nratio: reference seconds over ours at the reference's N. max abs diff: over the metric's "
                 "numbers (TopP&R: precision, recall, F1; P-precision/P-recall; alpha-precision, beta-recall, "
                 "authenticity; AuthPct in percent; C_T; FLD). Peak MB: growth of the process's peak RSS "
                 "during the call.")
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
