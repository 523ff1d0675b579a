"""``genmetrics-nb evaluate REAL GENERATED [GENERATED ...]``: a full report on your own samples.

Runs ``notebooks/evaluate.ipynb`` through the report runner into ``--out``
(HTML, executed notebook, results.json, figures), then prints the summary
table and the path of the HTML report. A source is anything
:mod:`genmetrics_nb.sources` reads (folder, files, archive, ``.npy``/``.npz``,
dataset name, generator name or pickle with ``--num-images``).
"""
from __future__ import annotations

import json
import os
import sys

__all__ = ["register", "PUBLISHED_PR_EXTRACTOR"]

#: The precision/recall network published numbers pair with the TF-FID Inception
#: (Kynkaanniemi et al. 2019; torch-fidelity; StyleGAN2-ADA).
PUBLISHED_PR_EXTRACTOR = {"inception-v3-fid": "vgg16-fc2"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="evaluate generated sets against a reference: HTML report and summary table",
        description="Evaluate one or more generated sets (GENERATED) against REAL with notebooks/evaluate.ipynb: "
                    "Frechet distance, KID, IS, precision/recall, density/coverage, FD-infinity, realism, "
                    "memorisation, per-class breakdown, sample size and the protocol.",
    )
    p.add_argument("real", metavar="REAL", help="reference images: folder, archive, .npy/.npz or dataset name")
    p.add_argument("generated", nargs="+", metavar="GENERATED",
                   help="generated images: folders, archives, .npy/.npz, or generator names / .pkl / module:callable")
    p.add_argument("--names", nargs="+", default=None, help="display names of the generated sets")
    p.add_argument("--extractor", default="inception-v3-fid",
                   help="features of FD/KID/IS (default inception-v3-fid, the published FID network; offline: "
                        "efficientnet-lite0)")
    p.add_argument("--pr-extractor", default=None,
                   help="features of precision/recall (default: vgg16-fc2 with inception-v3-fid, as published; "
                        "otherwise the --extractor)")
    p.add_argument("--heldout", default=None, metavar="SOURCE",
                   help="real images apart from REAL (e.g. the test split beside a training split) for the "
                        "baseline and the memorisation check; without it those two sections hold out part of "
                        "REAL for their own use (the summary always uses all of REAL)")
    p.add_argument("--num-images", type=int, default=None,
                   help="cap on every set's images: a larger set is cut to a seeded random subset (stated in "
                        "the report); what a generator draws (required for generators). Default: every image")
    p.add_argument("--out", default="reports-evaluate", help="report folder (default: reports-evaluate)")
    p.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                   help="any other notebook parameter (VALUE is YAML), e.g. -p n_boot=50 -p classifier=shipped")
    p.add_argument("--timeout", type=float, default=None, help="seconds before the run is stopped")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_main)


def _source_arg(s: str) -> str:
    """Paths made absolute (the notebook runs in notebooks/); other specs unchanged."""
    return os.path.abspath(s) if os.path.exists(s) else s


def _print_summary(summary: dict, html_path: str) -> None:
    rows = summary.get("rows", {})
    fd = summary.get("fd_name", "FD")
    cols = [("fd", fd), ("kid", "KID"), ("is", "IS"), ("precision", "precision"), ("recall", "recall"),
            ("density", "density"), ("coverage", "coverage"), ("fd_inf", f"{fd}-inf")]
    cols = [(k, lab) for k, lab in cols if any(r.get(k) is not None for r in rows.values())]
    width = max([len("set")] + [len(n) for n in rows])
    print(f"{'set':<{width}}  {'n':>7}  " + "  ".join(f"{lab:>12}" for _, lab in cols))
    for name, r in rows.items():
        cells = []
        for k, _ in cols:
            v = r.get(k)
            mark = "*" if summary.get("best", {}).get(k) == name and len(rows) > 1 else " "
            cells.append(f"{'-' if v is None else f'{v:.6g}'}{mark}".rjust(12))
        print(f"{name:<{width}}  {r.get('n', '-'):>7}  " + "  ".join(cells))
    print(f"(each set against the whole reference, n = {summary.get('n_reference', '-')}; k = {summary.get('k', '-')}; "
          f"* best in its column; intervals in the report)\nreport: {html_path}")


def _main(args) -> int:
    from genmetrics_nb.report.params import parse_cli_value, read_parameters
    from genmetrics_nb.report.runner import NotebookInterrupted, resolve_notebook, run_notebook

    path = resolve_notebook("evaluate")
    spec = read_parameters(path)
    params = {
        "real": _source_arg(args.real),
        "generated": [_source_arg(g) for g in args.generated],
        "extractor": args.extractor,
        "pr_extractor": args.pr_extractor or PUBLISHED_PR_EXTRACTOR.get(args.extractor, args.extractor),
        "classifier": None,  # the shipped classifier knows Fashion-MNIST only: opt in with -p classifier=shipped
        "heldout": None if args.heldout is None else _source_arg(args.heldout),
        "num_images": args.num_images,  # None: every image of every set
    }
    if args.names is not None:
        params["names"] = args.names
    for item in args.parameter:
        key, eq, raw = item.partition("=")
        if not eq or not key:
            raise ValueError(f"-p expects NAME=VALUE, got {item!r}")
        params[key] = parse_cli_value(raw, spec.get(key))
    try:
        run = run_notebook(path, profile="offline", parameters=params, out_dir=args.out, timeout=args.timeout)
    except NotebookInterrupted as exc:  # Ctrl-C: the partial report is written and marked interrupted
        run = exc.run
    html_path = os.path.join(args.out, "evaluate", "evaluate.html")
    results = os.path.join(args.out, "evaluate", "results.json")
    summary = {}
    if os.path.isfile(results):
        with open(results) as fh:
            summary = json.load(fh).get("metrics", {}).get("summary", {})
    if args.json:
        print(json.dumps({"status": run.status, "report": html_path, "summary": summary}, indent=2))
    elif summary:
        _print_summary(summary, html_path)
    if not run.ok:
        print(f"genmetrics-nb evaluate: the report {run.status}: {run.error}\nreport: {html_path}", file=sys.stderr)
        return 1
    return 0
