"""Command line: ``genmetrics-nb SUBCOMMAND ...``.

Each area of the package contributes its subcommands through a
``register(subparsers)`` function in its own module, so the options of a
command live next to the code they drive.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Modules that contribute subcommands, in the order they are listed in --help.
_COMMAND_MODULES = (
    "genmetrics_nb.cli.report",  # report
    "genmetrics_nb.cli.weights",  # weights list|fetch|import|verify
    "genmetrics_nb.cli.features",  # stats
    "genmetrics_nb.cli.metrics",  # fid, kid, isc, prc
    "genmetrics_nb.cli.evaluate",  # evaluate
    "genmetrics_nb.cli.t2i",  # evaluate-t2i
    "genmetrics_nb.cli.adm",  # adm (guided-diffusion's evaluator)
    "genmetrics_nb.cli.train_fcn",  # train-fcn
    "genmetrics_nb.cli.train",  # train-generator, train-classifier
)


def build_parser() -> argparse.ArgumentParser:
    from genmetrics_nb import __version__

    parser = argparse.ArgumentParser(
        prog="genmetrics-nb",
        description="Exact metrics for generated images, and the notebooks that report them.",
    )
    parser.add_argument("--version", action="version", version=f"genmetrics-nb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):  # that area is not in this build
                continue
            raise
        module.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"genmetrics-nb {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"genmetrics-nb {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
