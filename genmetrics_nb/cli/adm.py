"""``genmetrics-nb adm REF.npz SAMPLE.npz``: OpenAI guided-diffusion's evaluator, with its output.

Prints the evaluator's five result lines exactly as ``evaluator.py`` does
(``Inception Score: ...``, ``FID: ...``, ``sFID: ...``, ``Precision: ...``,
``Recall: ...``), so scripts that read its output read this one; progress
bars go to stderr. ``--json`` prints the numbers and the protocol instead.
"""
from __future__ import annotations

import inspect
import json

__all__ = ["register"]


def _defaults() -> dict:
    from genmetrics_nb.suites.adm.evaluator import adm

    return {k: p.default for k, p in inspect.signature(adm).parameters.items()
            if p.default is not inspect.Parameter.empty}


def register(subparsers) -> None:
    d = _defaults()
    p = subparsers.add_parser(
        "adm",
        help="the ADM (guided-diffusion) evaluator: IS, FID, sFID, precision, recall of two .npz batches",
        description="Evaluate a sample batch against a reference batch exactly as OpenAI guided-diffusion's "
                    "evaluations/evaluator.py: Inception Score, FID, sFID, precision and recall (k = 3, float16 "
                    "distances), on the TF FID Inception (inception-v3-fid). Statistics stored in a batch "
                    "(mu, sigma, mu_s, sigma_s) are used as the evaluator uses them.",
    )
    p.add_argument("ref_batch", metavar="REF.npz",
                   help="reference batch: arr_0 images (N x H x W x 3 uint8), usually with mu, sigma, mu_s, sigma_s")
    p.add_argument("sample_batch", metavar="SAMPLE.npz", help="sample batch: arr_0 images (N x H x W x 3 uint8)")
    p.add_argument("--split-size", type=int, default=d["split_size"],
                   help=f"Inception Score split size (default {d['split_size']}, the evaluator's)")
    p.add_argument("--arithmetic", choices=("float16", "float32"), default=d["arithmetic"],
                   help=f"precision/recall distances (default {d['arithmetic']}, the evaluator's)")
    p.add_argument("--recompute-statistics", action="store_true",
                   help="ignore mu/sigma/mu_s/sigma_s stored in the batches and compute them from arr_0")
    p.add_argument("--weights", default=None,
                   help="TF FID Inception weights in pytorch-fid's format (default: pt_inception-2015-12-05)")
    p.add_argument("--batch-size", type=int, default=d["batch_size"],
                   help=f"images per forward pass (default {d['batch_size']})")
    p.add_argument("--device", default=d["device"], help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--cache", action="store_true", help="read and write the feature cache ($GENMETRICS_HOME)")
    p.add_argument("--json", action="store_true", help="print the numbers and the protocol as JSON")
    p.set_defaults(func=_main)


def _main(args) -> int:
    from genmetrics_nb.suites.adm.evaluator import adm

    res = adm(args.ref_batch, args.sample_batch, split_size=args.split_size, arithmetic=args.arithmetic,
              use_stored_statistics=not args.recompute_statistics, weights=args.weights, batch_size=args.batch_size,
              device=args.device, cache=args.cache, progress=True)
    if args.json:
        print(json.dumps(res.to_dict(), indent=2))
    else:
        print(res.evaluator_output(), end="")
    return 0
