"""``genmetrics-nb train-fcn``: train an FCN on Fashion-MNIST scenes, reproducibly.

The command prints (and with ``--manifest`` records) everything needed to
reproduce the checkpoint: the full command with every option spelled out,
the seed, the sha256 of the file, the training time and the test scores.
"""
from __future__ import annotations

import json
import os
import platform
import shlex
import time
from pathlib import Path

from genmetrics_nb.datasets.scenes import SCENE_DEFAULTS

__all__ = ["register", "FCN_CLI_DEFAULTS", "run_train_fcn"]

#: Defaults of the train-fcn command (the scene and training defaults come
#: from their own tables, so the API, the CLI and the notebooks agree).
FCN_CLI_DEFAULTS = {
    "encoder": "efficientnet-lite0",
    "variant": "8s",
    "n_train": 2000,
    "n_test": 500,
    "size": SCENE_DEFAULTS["size"],
    "head_channels": None,
    "dropout": 0.5,
}


def register(subparsers) -> None:
    from genmetrics_nb.segmentation.fcn import ENCODERS, VARIANTS
    from genmetrics_nb.training.fcn import TRAIN_DEFAULTS

    d = FCN_CLI_DEFAULTS
    p = subparsers.add_parser(
        "train-fcn",
        help="train an FCN-32s/16s/8s on Fashion-MNIST scenes and save a small checkpoint",
        description="Train an FCN (frozen ImageNet encoder, learned head and decoder) on "
        "gm.datasets.fashion_mnist_scenes, score it on test scenes, save the trainable weights.",
    )
    p.add_argument("--encoder", choices=ENCODERS, default=d["encoder"])
    p.add_argument("--variant", choices=VARIANTS, default=d["variant"])
    p.add_argument("--n-train", type=int, default=d["n_train"], help="training scenes (train split)")
    p.add_argument("--n-test", type=int, default=d["n_test"], help="test scenes (test split)")
    p.add_argument("--size", type=int, default=d["size"], help="scene side in pixels")
    p.add_argument("--head-channels", type=int, default=d["head_channels"], help="width of the fc6/fc7 head")
    p.add_argument("--dropout", type=float, default=d["dropout"])
    p.add_argument("--epochs", type=int, default=TRAIN_DEFAULTS["epochs"])
    p.add_argument("--batch-size", type=int, default=TRAIN_DEFAULTS["batch_size"])
    p.add_argument("--lr", type=float, default=TRAIN_DEFAULTS["lr"])
    p.add_argument("--weight-decay", type=float, default=TRAIN_DEFAULTS["weight_decay"])
    p.add_argument("--seed", type=int, default=TRAIN_DEFAULTS["seed"], help="seeds scenes, initialisation and shuffling")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", required=True, help="checkpoint file to write (.pt)")
    p.add_argument("--manifest", default=None, help="JSON manifest to add/replace the entry --name in")
    p.add_argument("--name", default="fcn8s-scenes", help="manifest entry name")
    p.add_argument("--checkpoint", default=None, help="per-epoch training checkpoint (for --resume)")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_train_fcn)


def _canonical_command(args) -> str:
    """The command with every option that changes the result written out."""
    parts = ["genmetrics-nb", "train-fcn"]
    for opt in ("encoder", "variant", "n_train", "n_test", "size", "head_channels", "dropout", "epochs",
                "batch_size", "lr", "weight_decay", "seed", "out"):  # fmt: skip
        value = getattr(args, opt)
        if value is None:
            continue
        parts += ["--" + opt.replace("_", "-"), str(value)]
    if args.manifest:
        parts += ["--manifest", args.manifest, "--name", args.name]
    return shlex.join(parts)


def run_train_fcn(args) -> int:
    import torch

    from genmetrics_nb.datasets.scenes import fashion_mnist_scenes
    from genmetrics_nb.segmentation.fcn import FCN
    from genmetrics_nb.segmentation.checkpoint import save_fcn
    from genmetrics_nb.training.fcn import encode_scenes, evaluate_fcn, train_fcn
    from genmetrics_nb.weights.manager import sha256_file

    progress = not args.no_progress
    t0 = time.perf_counter()
    train = fashion_mnist_scenes("train", n=args.n_train, size=args.size, seed=args.seed, progress=progress)
    test = fashion_mnist_scenes("test", n=args.n_test, size=args.size, seed=args.seed, progress=progress)
    model = FCN(args.encoder, variant=args.variant, num_classes=len(train.class_names),
                head_channels=args.head_channels, dropout=args.dropout, seed=args.seed)  # fmt: skip
    ftrain = encode_scenes(model, train, progress=progress)
    ftest = encode_scenes(model, test, progress=progress)
    t_enc = time.perf_counter() - t0
    run = train_fcn(
        model, ftrain, val=ftest, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, seed=args.seed, device=args.device, checkpoint=args.checkpoint,
        resume=args.resume, progress=progress,
    )  # fmt: skip
    scores = evaluate_fcn(model, ftest, background=0, device=args.device, progress=False)
    out = Path(args.out)
    meta = {"command": _canonical_command(args), "seed": args.seed}
    save_fcn(model, out, class_names=train.class_names, meta=meta)
    entry = {
        "file": out.name,
        "sha256": sha256_file(out),
        "size_bytes": out.stat().st_size,
        "format": "genmetrics_nb.segmentation.checkpoint.save_fcn (head + decoder; encoder weights from their package)",
        "config": dict(model.config),
        "encoder_weights": model.encoder_id,
        "command": meta["command"],
        "seed": args.seed,
        "data": {
            "train": f"fashion_mnist_scenes('train', n={args.n_train}, size={args.size}, seed={args.seed})",
            "test": f"fashion_mnist_scenes('test', n={args.n_test}, size={args.size}, seed={args.seed})",
        },
        "training_seconds": round(run.seconds, 1),
        "encoding_seconds": round(t_enc, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {args.device}",
        "test_scores": {
            "pixel_accuracy": scores.pixel_accuracy,
            "foreground_pixel_accuracy": scores.foreground_pixel_accuracy,
            "mean_class_accuracy": scores.mean_class_accuracy,
            "mean_iou": scores.mean_iou,
            "mean_dice": scores.mean_dice,
            "per_class_iou": dict(zip(train.class_names, scores.per_class_iou)),
        },
        "history": {"val_mean_iou": list(run.history.val_mean_iou), "train_loss": list(run.history.train_loss)},
    }
    if args.manifest:
        from genmetrics_nb.weights.shipped import update_manifest

        update_manifest({args.name: entry}, root=Path(args.manifest))
    print(json.dumps(entry, indent=2))
    print(f"\n{scores}")
    return 0
