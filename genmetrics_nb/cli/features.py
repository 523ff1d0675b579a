"""``genmetrics-nb stats SOURCE --extractor NAME --out stats.npz``.

Streams a folder (or a ``.npy`` array of ``uint8`` images) through an
extractor into float64 mean/covariance statistics and saves them as an
``.npz`` that genmetrics-nb, pytorch-fid and clean-fid can read (``mu``,
``sigma``). Under ``torchrun --nproc_per_node=N`` every rank takes a shard
and rank 0 writes the merged file. The option defaults are read from
:func:`genmetrics_nb.features.engine.feature_stats`, so the CLI and the
Python API cannot drift apart.
"""
from __future__ import annotations

import inspect

__all__ = ["register"]


def _defaults():
    from genmetrics_nb.features.engine import feature_stats

    return {k: p.default for k, p in inspect.signature(feature_stats).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _run(args) -> int:
    import numpy as np

    from genmetrics_nb.features import distributed as dd
    from genmetrics_nb.features.engine import feature_stats

    source = args.source
    if str(source).endswith(".npy"):
        source = np.load(source, mmap_mode="r")
        if source.dtype != np.uint8:
            raise ValueError(
                f"{args.source} holds {source.dtype}; the stats command reads uint8 N x C x H x W "
                "arrays (save float images as uint8 first)"
            )
        source = np.asarray(source)
    if not str(args.out).endswith(".npz"):
        raise ValueError(f"--out must end in .npz, got {args.out!r}")
    stats = feature_stats(
        source,
        args.extractor,
        output=args.output,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        device=args.device,
        precision=args.precision,
        cache=not args.no_cache,
        progress=not args.no_progress,
        on_error=args.on_error,
    )
    if dd.rank() == 0:
        stats.save(args.out)
        print(
            f"{args.out}: n={stats.n}, dim={stats.dim}, extractor={args.extractor}, "
            f"output={stats.meta.get('output')}, processes={stats.meta.get('world_size', 1)}, "
            f"cache={stats.meta.get('cache')}"
        )
    return 0


def register(subparsers) -> None:
    """Add the ``stats`` command."""
    d = _defaults()
    p = subparsers.add_parser(
        "stats",
        help="feature mean/covariance of a folder of images (works under torchrun)",
        description="Extract features of SOURCE (a folder of images or a uint8 .npy array) and "
        "save their float64 mean and covariance (.npz with n, sum, outer, mu, sigma).",
    )
    p.add_argument("source", metavar="SOURCE", help="folder of images, or a .npy uint8 N x C x H x W array")
    p.add_argument("--extractor", required=True, help="registered extractor, e.g. efficientnet-lite0, inception-v3-fid")
    p.add_argument("--out", required=True, help="output .npz file")
    p.add_argument("--output", default=d["output"], help="extractor output to summarise (default: its first)")
    p.add_argument("--batch-size", type=int, default=d["batch_size"], help=f"images per batch (default {d['batch_size']})")
    p.add_argument("--num-workers", type=int, default=d["num_workers"], help="decoding worker processes (default: min(4, cpus - 1))")
    p.add_argument("--device", default=d["device"], help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--precision", default=d["precision"], choices=("fp32", "bf16", "fp16"), help="default fp32 (reference)")
    p.add_argument("--on-error", default=d["on_error"], choices=("raise", "skip"), help="unreadable files: stop or skip")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
