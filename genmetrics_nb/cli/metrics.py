"""``genmetrics-nb fid | kid | isc | prc``: distribution metrics from the shell.

A SOURCE is a folder of images, a dataset name (``fashion-mnist:test``,
``cifar10:train``), an ``.npz`` of statistics (FID only: ``FeatureStats.save``,
pytorch-fid or clean-fid files), an ``.npy`` array (``N x C x H x W``
uint8 images or ``N x D`` features), or a generator (a shipped checkpoint
name, a StyleGAN ``.pkl`` or ``package.module:callable``) with
``--num-images`` and ``--gen-seed``. Each SOURCE is resolved once by
:func:`genmetrics_nb.sources.resolve` (``--num-images`` caps a set of images
to a seeded subset of that size, stated in the result's source). Defaults come from the Python
functions' signatures, so the two cannot drift apart.
"""
from __future__ import annotations

import inspect
import json

__all__ = ["register"]


def _defaults(fn) -> dict:
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _common_args(p, *, n_sources: int) -> None:
    if n_sources == 2:
        p.add_argument("source_a", metavar="SOURCE_A", help="real images: folder, dataset name, .npy or .npz")
        p.add_argument("source_b", metavar="SOURCE_B", help="generated images: folder, dataset name, .npy or .npz")
    else:
        p.add_argument("source_a", metavar="SOURCE", help="images: folder, dataset name or .npy")
    p.add_argument("--extractor", default=None,
                   help="registered extractor (default: the published network, inception-v3-fid, or vgg16-fc2 "
                        "for prc; offline: efficientnet-lite0, reported as FD_efficientnet-lite0)")
    p.add_argument("--output", default=None, help="extractor output (default: pool, fc2_relu for vgg16-fc2; logits_unbiased or logits for isc)")
    p.add_argument("--num-images", type=int, default=None,
                   help="images per SOURCE: a generator (checkpoint name, .pkl or module:callable) draws this "
                        "many (required for those); a larger set of images is cut to a seeded subset of this many")
    p.add_argument("--gen-seed", type=int, default=0,
                   help="seed of a generator SOURCE's latents and of a capped set's subset (default 0)")
    p.add_argument("--batch-size", type=int, default=64, help="images per forward pass (default 64)")
    if n_sources == 2:
        p.add_argument("--resize", default=None, choices=("legacy_tensorflow", "clean", "legacy_pytorch"),
                       help="clean-fid's resize mode (inception-v3-fid only): legacy_tensorflow (default; TTUR, "
                            "torch-fidelity, StyleGAN2-ADA), clean (clean-fid) or legacy_pytorch (pytorch-fid)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--cache", action="store_true", help="read and write the feature cache ($GENMETRICS_HOME)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def register(subparsers) -> None:
    """Add the ``fid``, ``kid``, ``isc`` and ``prc`` commands."""
    from genmetrics_nb.metrics.distribution.inception_score import inception_score
    from genmetrics_nb.metrics.distribution.kid import kid
    from genmetrics_nb.metrics.distribution.knn import precision_recall

    p = subparsers.add_parser("fid", help="Frechet distance between two image sets",
                              description="FID between SOURCE_A (real) and SOURCE_B (generated).")
    _common_args(p, n_sources=2)
    p.set_defaults(func=_run_fid)

    d = _defaults(kid)
    p = subparsers.add_parser("kid", help="Kernel Inception Distance between two image sets",
                              description="KID (unbiased MMD^2, cubic kernel) between SOURCE_A (real) and SOURCE_B (generated).")
    _common_args(p, n_sources=2)
    p.add_argument("--subsets", type=int, default=d["subsets"], help=f"random subsets (default {d['subsets']})")
    p.add_argument("--subset-size", type=int, default=d["subset_size"],
                   help=f"samples per subset and side (default {d['subset_size']})")
    p.add_argument("--degree", type=int, default=d["degree"], help=f"polynomial degree (default {d['degree']})")
    p.add_argument("--seed", type=int, default=d["seed"], help=f"subset seed (default {d['seed']})")
    p.set_defaults(func=_run_kid)

    d = _defaults(inception_score)
    p = subparsers.add_parser("isc", help="Inception Score of an image set",
                              description="Inception Score of SOURCE from the extractor's logits.")
    _common_args(p, n_sources=1)
    p.add_argument("--splits", type=int, default=d["splits"], help=f"splits (default {d['splits']})")
    p.set_defaults(func=_run_isc)

    d = _defaults(precision_recall)
    p = subparsers.add_parser("prc", help="precision and recall (Kynkaanniemi et al.) of generated images",
                              description="Improved precision/recall of SOURCE_B (generated) against SOURCE_A (real).")
    _common_args(p, n_sources=2)
    p.add_argument("--k", type=int, default=d["k"], help=f"neighbourhood size (default {d['k']})")
    p.add_argument("--block-size", type=int, default=d["block_size"],
                   help=f"tile edge of the blocked distance computation (default {d['block_size']})")
    p.add_argument("--density-coverage", action="store_true", help="also report density and coverage (k = --k)")
    p.set_defaults(func=_run_prc)


# ----------------------------------------------------------------------------
# sources
# ----------------------------------------------------------------------------
def _generated_sources(args) -> None:
    """Resolve each SOURCE once, with ``--num-images`` and ``--gen-seed`` (:func:`genmetrics_nb.resolve`)."""
    from genmetrics_nb.sources import resolve

    for n in ("source_a", "source_b"):
        if hasattr(args, n):
            setattr(args, n, resolve(getattr(args, n), name=n.replace("source_a", "SOURCE_A").replace(
                "source_b", "SOURCE_B"), num_images=args.num_images, seed=args.gen_seed, device=args.device))


def _source_options(args, *, published: str = "inception-v3-fid") -> dict:
    """The extraction options every metric command shares (see genmetrics_nb.sources)."""
    return dict(extractor=args.extractor or published, output=args.output, batch_size=args.batch_size,
                device=args.device, cache=args.cache, progress=not args.no_progress)


def _emit(result, args) -> int:
    if args.json:
        from genmetrics_nb.report.record import to_jsonable

        print(json.dumps(to_jsonable(result), indent=2, sort_keys=True))
    else:
        print(result)
    return 0


# ----------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------
def _run_fid(args) -> int:
    from genmetrics_nb.metrics.distribution.fid import fid

    _generated_sources(args)
    res = fid(args.source_a, args.source_b, resize=args.resize, **_source_options(args))
    return _emit(res, args)


def _run_kid(args) -> int:
    from genmetrics_nb.metrics.distribution.kid import kid

    _generated_sources(args)
    res = kid(args.source_a, args.source_b, subsets=args.subsets, subset_size=args.subset_size,
              degree=args.degree, seed=args.seed, resize=args.resize, **_source_options(args))
    return _emit(res, args)


def _run_isc(args) -> int:
    from genmetrics_nb.metrics.distribution.inception_score import inception_score

    _generated_sources(args)
    return _emit(inception_score(args.source_a, splits=args.splits, **_source_options(args)), args)


def _run_prc(args) -> int:
    from genmetrics_nb.features.inputs import features_pair
    from genmetrics_nb.metrics.distribution.knn import density_coverage, precision_recall

    # one extraction serves both metrics
    _generated_sources(args)
    metric = "precision/recall" + (" and density/coverage" if args.density_coverage else "")
    a, b, _ = features_pair(args.source_a, args.source_b, metric=metric, resize=args.resize,
                            **_source_options(args, published="vgg16-fc2"))
    kw = dict(k=args.k, block_size=args.block_size, device=args.device, progress=not args.no_progress)
    pr = precision_recall(a, b, **kw)
    if not args.density_coverage:
        return _emit(pr, args)
    dc = density_coverage(a, b, **kw)
    if args.json:
        return _emit({"precision_recall": pr, "density_coverage": dc}, args)
    print(pr)
    print(dc)
    return 0
