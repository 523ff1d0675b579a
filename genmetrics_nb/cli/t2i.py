"""``genmetrics-nb evaluate-t2i IMAGES --prompts SET_OR_FILE [--real REFERENCE]``: a text-to-image report.

Runs ``notebooks/t2i.ipynb`` through the report runner into ``--out`` (HTML,
executed notebook, results.json, figures) on your images and model files,
then prints the summary table and the path of the HTML report.
``--stand-ins`` runs it offline on random-weight checkpoints in each
publisher's format instead (the numbers then mean nothing).
"""
from __future__ import annotations

import json
import os
import sys

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate-t2i",
        help="evaluate text-to-image samples against their prompts: HTML report and summary table",
        description="Score generated images against their prompts with notebooks/t2i.ipynb: CLIPScore under a "
                    "named convention, PickScore, HPS and ImageReward where their files are given, CMMD and FD-DINOv2 against "
                    "--real; per-category breakdown, worst-aligned prompts, truncation report and protocol.",
    )
    p.add_argument("images", metavar="IMAGES", nargs="?", default=None,
                   help="folder of generated images (with a prompts.jsonl unless --prompts says otherwise); "
                        "optional with --stand-ins")
    p.add_argument("--prompts", default=None, metavar="SET_OR_FILE",
                   help="a prompts.jsonl (file_name, prompt, optional category per line) or a prompt set with an "
                        "image layout (geneval, t2i-compbench, hpdv2); default IMAGES/prompts.jsonl")
    p.add_argument("--real", default=None, metavar="REFERENCE",
                   help="reference images for CMMD and FD-DINOv2 (folder, archive, .npy/.npz, dataset name)")
    p.add_argument("--convention", default="hessel2021",
                   help="CLIPScore convention: hessel2021 (default), torchmetrics, cosine, x100")
    p.add_argument("--clip", default="ViT-B-32", help="CLIPScore's CLIP: manifest name or checkpoint (default ViT-B-32)")
    p.add_argument("--pickscore", default=None, metavar="FOLDER", help="PickScore_v1 folder (transformers CLIPModel)")
    p.add_argument("--hps", default=None, metavar="FILE", help="HPS_v2*_compressed.pt")
    p.add_argument("--hps-version", default="v2.1", help="version of --hps: v2.0 or v2.1 (default)")
    p.add_argument("--imagereward", default=None, metavar="FILE", help="ImageReward.pt")
    p.add_argument("--imagereward-med-config", default=None, metavar="FILE", help="ImageReward's med_config.json")
    p.add_argument("--imagereward-vocab", default=None, metavar="FILE", help="bert-base-uncased vocab.txt")
    p.add_argument("--stand-ins", action="store_true",
                   help="offline: random-weight checkpoints in each publisher's format for every model, and "
                        "Fashion-MNIST stand-ins for missing images/reference (numbers mean nothing)")
    p.add_argument("--out", default="reports-t2i", help="report folder (default: reports-t2i)")
    p.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                   help="any other notebook parameter (VALUE is YAML), e.g. -p n_boot=100 -p fd_extractor=null")
    p.add_argument("--timeout", type=float, default=None, help="seconds before the run is stopped")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_main)


def _path_arg(s):
    """Paths made absolute (the notebook runs in notebooks/); other specs unchanged."""
    return None if s is None else (os.path.abspath(s) if os.path.exists(s) else s)


def _print_summary(summary: dict, html_path: str) -> None:
    rows = summary.get("rows", [])
    if summary.get("stand_ins"):
        print("(random-weight stand-ins: these numbers test the code path and mean nothing)")
    width = max([len("metric")] + [len(r["metric"]) for r in rows])
    print(f"{'metric':<{width}}  {'value':>10}  interval")
    for r in rows:
        v = r.get("value")
        cell = "-" if v is None else f"{v:.4g}"
        print(f"{r['metric']:<{width}}  {cell:>10}  {r.get('95% interval') or r.get('meaning', '')}")
    print(f"report: {html_path}")


def _main(args) -> int:
    from genmetrics_nb.report.params import parse_cli_value, read_parameters
    from genmetrics_nb.report.runner import NotebookInterrupted, resolve_notebook, run_notebook

    if args.images is None and not args.stand_ins:
        raise ValueError("IMAGES is missing: pass the folder of generated images, or --stand-ins for an offline run")
    if args.images is not None and not os.path.isdir(args.images):
        raise ValueError(f"IMAGES={args.images!r} is not a folder; pass the folder of generated images")
    path = resolve_notebook("t2i")
    spec = read_parameters(path)
    prompts = args.prompts
    if prompts is not None and os.path.exists(prompts):
        prompts = os.path.abspath(prompts)
    params = {
        "images": _path_arg(args.images), "prompts": prompts, "real": _path_arg(args.real),
        "stand_ins": bool(args.stand_ins), "convention": args.convention, "clip_model": _path_arg(args.clip),
        "pickscore_model": _path_arg(args.pickscore), "hps_model": _path_arg(args.hps),
        "hps_version": args.hps_version, "imagereward_model": _path_arg(args.imagereward),
        "imagereward_med_config": _path_arg(args.imagereward_med_config),
        "imagereward_vocab": _path_arg(args.imagereward_vocab),
    }
    for item in args.parameter:
        key, eq, raw = item.partition("=")
        if not eq or not key:
            raise ValueError(f"-p expects NAME=VALUE, got {item!r}")
        params[key] = parse_cli_value(raw, spec.get(key))
    try:
        run = run_notebook(path, profile="offline", parameters=params, out_dir=args.out, timeout=args.timeout)
    except NotebookInterrupted as exc:  # Ctrl-C: the partial report is written and marked interrupted
        run = exc.run
    html_path = os.path.join(args.out, "t2i", "t2i.html")
    results = os.path.join(args.out, "t2i", "results.json")
    summary = {}
    if os.path.isfile(results):
        with open(results) as fh:
            summary = json.load(fh).get("metrics", {}).get("summary", {})
    if args.json:
        print(json.dumps({"status": run.status, "report": html_path, "summary": summary}, indent=2))
    elif summary:
        _print_summary(summary, html_path)
    if not run.ok:
        print(f"genmetrics-nb evaluate-t2i: the report {run.status}: {run.error}\nreport: {html_path}",
              file=sys.stderr)
        return 1
    return 0
