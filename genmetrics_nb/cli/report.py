"""``genmetrics-nb report``: run notebooks into HTML reports."""
from __future__ import annotations

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="execute notebooks into reports/ (HTML, executed notebook, results.json)",
        description="Execute notebooks with papermill into HTML reports and results.json.",
    )
    p.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="names or paths (default: all)")
    p.add_argument("--profile", default="offline", help="offline (default), paper, smoke, or a YAML file")
    p.add_argument(
        "-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
        help="override a parameter (VALUE is YAML: 3, 0.5, [1, 3], true); NOTEBOOK.NAME=VALUE targets one",
    )  # fmt: skip
    p.add_argument("--out", default="reports", help="reports folder (default: reports)")
    p.add_argument("--timeout", type=float, default=None, help="seconds per notebook before it is stopped")
    p.add_argument("--list-parameters", action="store_true", help="print each notebook's parameters and exit")
    p.set_defaults(func=_main)


def _main(args) -> int:
    from genmetrics_nb.report.params import describe, parse_cli_value, read_parameters
    from genmetrics_nb.report.runner import NOTEBOOK_DIR, resolve_notebook, run_notebooks

    paths = [resolve_notebook(n) for n in args.notebooks] or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    if args.list_parameters:
        for path in paths:
            print(f"{path.stem}:\n{describe(read_parameters(path))}")
        return 0
    specs = {p.stem: read_parameters(p) for p in paths}
    params = {}
    for item in args.parameter:
        key, eq, raw = item.partition("=")
        if not eq or not key:
            raise ValueError(f"-p expects NAME=VALUE, got {item!r}")
        stem, _, pname = key.rpartition(".")
        spec = specs.get(stem, {}).get(pname) if stem else next(
            (s[key] for s in specs.values() if key in s), None
        )  # fmt: skip
        params[key] = parse_cli_value(raw, spec)
    runs = run_notebooks(paths, profile=args.profile, parameters=params, out_dir=args.out, timeout=args.timeout)
    failed = [r.name for r in runs if not r.ok]
    print(f"index: {args.out}/index.html; {len(runs) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0
