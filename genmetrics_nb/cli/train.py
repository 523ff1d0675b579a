"""``genmetrics-nb train-generator`` and ``genmetrics-nb train-classifier``."""
from __future__ import annotations

import shlex
import sys

from genmetrics_nb.training.defaults import CLASSIFIER_DEFAULTS, GENERATOR_DEFAULTS

__all__ = ["register", "main"]


def _int_list(text):
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--snapshots must be comma-separated iterations such as 250,500,1000, got {text!r}") from None


def _command(subcommand, args, options):
    """The full command line that reproduces a run: every training option spelled out."""
    parts = ["genmetrics-nb", subcommand]
    for opt in options:
        parts += [f"--{opt.replace('_', '-')}", str(getattr(args, opt))]
    return " ".join(shlex.quote(p) for p in parts)


_GEN_OPTS = ("out", "iterations", "snapshots", "batch_size", "lr", "r1_gamma", "r1_interval", "ema_beta", "seed",
             "threads", "fid_samples", "fid_seed")
_CLF_OPTS = ("out", "epochs", "batch_size", "lr", "seed", "threads")


def _default_out(args) -> None:
    if args.out is None:
        from genmetrics_nb.weights.shipped import models_dir

        args.out = str(models_dir())


def _train_generator(args) -> int:
    _default_out(args)
    from genmetrics_nb.training.generator import evaluate_checkpoints, train_generator

    entries = train_generator(
        args.out, iterations=args.iterations, snapshots=_int_list(args.snapshots), batch_size=args.batch_size,
        lr=args.lr, r1_gamma=args.r1_gamma, r1_interval=args.r1_interval, ema_beta=args.ema_beta,
        seed=args.seed, threads=args.threads, command=_command("train-generator", args, _GEN_OPTS),
        progress=not args.quiet,
    )
    for name, e in entries.items():
        print(f"{name}: {e['file']} sha256={e['sha256'][:16]}... after {e['train_seconds']} s")
    if args.fid_samples > 0:
        fids = evaluate_checkpoints(args.out, names=list(entries), n=args.fid_samples, seed=args.fid_seed,
                                    device=args.device, progress=not args.quiet)
        for name, v in fids.items():
            print(f"{name}: FID(efficientnet-lite0, n={args.fid_samples}) = {v:.3f}")
    return 0


def _train_classifier(args) -> int:
    _default_out(args)
    from genmetrics_nb.training.classifier import train_classifier

    e = train_classifier(args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         threads=args.threads, command=_command("train-classifier", args, _CLF_OPTS),
                         progress=not args.quiet)
    print(f"fmnist-classifier: {e['file']} sha256={e['sha256'][:16]}... test accuracy {e['test_accuracy']:.4f} "
          f"after {e['train_seconds']} s")
    return 0


def register(subparsers) -> None:
    """Add ``train-generator`` and ``train-classifier`` to the ``genmetrics-nb`` command."""
    d = GENERATOR_DEFAULTS
    p = subparsers.add_parser(
        "train-generator",
        help="train the small style-based Fashion-MNIST generator (CPU, minutes)",
        description="Train SmallStyleGAN on Fashion-MNIST, save G_ema snapshots and their manifest entries "
                    "(sha256, command, seed, time, FID vs the test set with efficientnet-lite0).",
    )
    p.add_argument("--out", default=None, help="models folder (default: $GENMETRICS_MODELS or data/models)")
    p.add_argument("--iterations", type=int, default=d["iterations"], help="generator steps")
    p.add_argument("--snapshots", default=",".join(map(str, d["snapshots"])), help="iterations to save, comma-separated")
    p.add_argument("--batch-size", type=int, default=d["batch_size"])
    p.add_argument("--lr", type=float, default=d["lr"])
    p.add_argument("--r1-gamma", type=float, default=d["r1_gamma"])
    p.add_argument("--r1-interval", type=int, default=d["r1_interval"])
    p.add_argument("--ema-beta", type=float, default=d["ema_beta"])
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--threads", type=int, default=d["threads"], help="torch CPU threads (part of bit-reproducibility)")
    p.add_argument("--fid-samples", type=int, default=d["fid_samples"], help="images per side for the manifest FID; 0 skips")
    p.add_argument("--fid-seed", type=int, default=d["fid_seed"])
    p.add_argument("--device", default="cpu", help="device for the FID evaluation")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_train_generator)

    c = CLASSIFIER_DEFAULTS
    q = subparsers.add_parser(
        "train-classifier",
        help="train the Fashion-MNIST classifier (offline attribute classifier and IS network)",
    )
    q.add_argument("--out", default=None, help="models folder (default: $GENMETRICS_MODELS or data/models)")
    q.add_argument("--epochs", type=int, default=c["epochs"])
    q.add_argument("--batch-size", type=int, default=c["batch_size"])
    q.add_argument("--lr", type=float, default=c["lr"])
    q.add_argument("--seed", type=int, default=c["seed"])
    q.add_argument("--threads", type=int, default=c["threads"])
    q.add_argument("--quiet", action="store_true", help="no progress bars")
    q.set_defaults(func=_train_classifier)


def main(argv=None) -> int:
    """``python -m genmetrics_nb.cli.train train-generator ...``"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m genmetrics_nb.cli.train")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
