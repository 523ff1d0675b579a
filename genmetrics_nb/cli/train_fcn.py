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
    from genmetrics_nb.segmentation.names import ENCODERS, VARIANTS
    from genmetrics_nb.training.defaults import FCN_DEFAULTS as TRAIN_DEFAULTS
    from genmetrics_nb.training.defaults import FCN_SCHEDULES as SCHEDULES

    d = FCN_CLI_DEFAULTS
    p = subparsers.add_parser(
        "train-fcn",
        help="train an FCN-32s/16s/8s on Fashion-MNIST scenes and save a small checkpoint",
        description="Train an FCN (frozen ImageNet encoder, learned head and decoder) on "
        "gm.datasets.fashion_mnist_scenes, score it on test scenes, save the trainable weights.",
    )
    p.add_argument("--encoder", choices=ENCODERS, default=d["encoder"])
    p.add_argument(
        "--variant", type=_variants(VARIANTS), default=d["variant"],
        help="FCN variant, or several separated by commas (e.g. 32s,16s,8s): they share one encoding of the "
        "scenes; then --out and --name must contain {variant}",
    )  # fmt: skip
    p.add_argument("--n-train", type=int, default=d["n_train"], help="training scenes (train split)")
    p.add_argument("--n-test", type=int, default=d["n_test"], help="test scenes (test split)")
    p.add_argument("--size", type=int, default=d["size"], help="scene side in pixels")
    p.add_argument("--items", type=int, nargs=2, default=list(SCENE_DEFAULTS["items"]), metavar=("MIN", "MAX"),
                   help="items per scene")
    p.add_argument("--scale", type=float, nargs=2, default=list(SCENE_DEFAULTS["scale"]), metavar=("MIN", "MAX"),
                   help="item side as a fraction of the scene side")
    p.add_argument("--texture", type=float, nargs=2, default=list(SCENE_DEFAULTS["texture"]), metavar=("MIN", "MAX"),
                   help="strength of the background's stripes and grain, drawn per scene (1 1: always full)")
    p.add_argument("--scene-seed", type=int, default=None, help="seeds the scenes (default: --seed)")
    p.add_argument("--fixed-final-upsampling", action="store_true",
                   help="keep the final upsampling fixed at bilinear (FCN paper); intermediate ones learn")
    p.add_argument("--pixel-stride", type=int, default=None,
                   help="loss on a random 1/s^2 of the output rows x columns per step (needs --fixed-final-upsampling)")
    p.add_argument("--train-encoder", action="store_true",
                   help="train the encoder too (required for vgg-small, which has no pretrained weights); the "
                   "checkpoint then holds the whole network")
    p.add_argument("--flip", action="store_true", help="mirror half of the batches left-right (needs --train-encoder)")
    p.add_argument("--schedule", choices=SCHEDULES, default="constant",
                   help="learning rate over the steps: constant, or cosine decay after a 5%% warm-up")
    p.add_argument("--head-channels", type=int, default=d["head_channels"], help="width of the fc6/fc7 head")
    p.add_argument("--dropout", type=float, default=d["dropout"])
    p.add_argument("--epochs", type=int, default=TRAIN_DEFAULTS["epochs"])
    p.add_argument("--batch-size", type=int, default=TRAIN_DEFAULTS["batch_size"])
    p.add_argument("--lr", type=float, default=TRAIN_DEFAULTS["lr"])
    p.add_argument("--weight-decay", type=float, default=TRAIN_DEFAULTS["weight_decay"])
    p.add_argument("--seed", type=int, default=TRAIN_DEFAULTS["seed"], help="seeds scenes, initialisation and shuffling")
    p.add_argument("--spread-seeds", default="",
                   help="comma-separated further seeds (initialisation and shuffling; same scenes) whose test scores "
                   "are recorded in the entry's seed_runs table; only --seed's weights are saved")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", required=True, help="checkpoint file to write (.pt)")
    p.add_argument("--manifest", default=None, help="JSON manifest to add/replace the entry --name in")
    p.add_argument("--name", default="fcn8s-scenes", help="manifest entry name")
    p.add_argument("--val-every", type=int, default=1,
                   help="score the test scenes after every N-th epoch (and the last) for the history")
    p.add_argument("--feature-cache", default=None,
                   help="file to keep the encoded scenes in: written after encoding, read instead of encoding when "
                   "it holds the same scenes and encoder (lets several variants train in parallel processes)")
    p.add_argument("--checkpoint", default=None, help="per-epoch training checkpoint (for --resume)")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_train_fcn)


def _variants(choices):
    def parse(text: str) -> str:
        parts = [v.strip() for v in str(text).split(",") if v.strip()]
        bad = [v for v in parts if v not in choices]
        if not parts or bad:
            import argparse

            raise argparse.ArgumentTypeError(f"variants must be among {', '.join(choices)} (comma-separated), got {text!r}")
        return ",".join(parts)

    return parse


def _seed_list(text: str) -> list:
    try:
        return [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--spread-seeds must be comma-separated integers, got {text!r}") from None


def _canonical_command(args) -> str:
    """The command with every option that changes the result written out.

    Options added after ``fcn8s-scenes`` was trained appear only when they
    differ from their defaults, so that entry's recorded command still reads
    as it was run.
    """
    parts = ["genmetrics-nb", "train-fcn"]
    for opt in ("encoder", "variant", "n_train", "n_test", "size", "head_channels", "dropout", "epochs",
                "batch_size", "lr", "weight_decay", "seed", "out"):  # fmt: skip
        value = getattr(args, opt)
        if value is None:
            continue
        parts += ["--" + opt.replace("_", "-"), str(value)]
    if list(args.items) != list(SCENE_DEFAULTS["items"]):
        parts += ["--items"] + [str(v) for v in args.items]
    if list(args.scale) != list(SCENE_DEFAULTS["scale"]):
        parts += ["--scale"] + [str(v) for v in args.scale]
    if list(args.texture) != list(SCENE_DEFAULTS["texture"]):
        parts += ["--texture"] + [str(v) for v in args.texture]
    if args.scene_seed is not None:
        parts += ["--scene-seed", str(args.scene_seed)]
    if args.fixed_final_upsampling:
        parts += ["--fixed-final-upsampling"]
    if args.pixel_stride is not None:
        parts += ["--pixel-stride", str(args.pixel_stride)]
    if args.train_encoder:
        parts += ["--train-encoder"]
    if args.flip:
        parts += ["--flip"]
    if args.schedule != "constant":
        parts += ["--schedule", args.schedule]
    if args.val_every != 1:
        parts += ["--val-every", str(args.val_every)]
    if args.spread_seeds:
        parts += ["--spread-seeds", ",".join(str(v) for v in _seed_list(args.spread_seeds))]
    if args.manifest:
        parts += ["--manifest", args.manifest, "--name", args.name]
    return shlex.join(parts)


def _json_floats(values) -> list:
    """Floats for a strict-JSON manifest: NaN (an epoch without a test score) becomes null."""
    return [None if v != v else float(v) for v in values]


def _scores_dict(scores, class_names) -> dict:
    return {
        "pixel_accuracy": scores.pixel_accuracy,
        "foreground_pixel_accuracy": scores.foreground_pixel_accuracy,
        "mean_class_accuracy": scores.mean_class_accuracy,
        "mean_iou": scores.mean_iou,
        "mean_dice": scores.mean_dice,
        "per_class_iou": dict(zip(class_names, scores.per_class_iou)),
    }


def _read_feature_cache(path, key):
    """(train features, test features, encoding seconds) from ``path`` if it was made for ``key``."""
    if not path or not Path(path).is_file():
        return None
    import torch

    obj = torch.load(path, map_location="cpu", weights_only=False)
    if obj.get("key") != key:
        raise ValueError(f"--feature-cache {path} holds other scenes or another encoder ({obj.get('key')}); "
                         "pass another file")
    return obj["train"], obj["test"], float(obj.get("seconds", float("nan")))


def _record(name: str, entry: dict, manifest: Path) -> None:
    """Add ``entry`` to the manifest; re-read and retry, since parallel runs may rewrite it at the same time."""
    from genmetrics_nb.weights.shipped import update_manifest

    for _ in range(5):
        update_manifest({name: entry}, root=manifest)
        time.sleep(1.0)
        if json.loads(manifest.read_text()).get(name) == json.loads(json.dumps(entry)):
            return
    raise RuntimeError(f"could not record {name!r} in {manifest}: it keeps being overwritten")


def run_train_fcn(args) -> int:
    import torch

    from genmetrics_nb.datasets.scenes import SCENE_CLASSES, fashion_mnist_scenes
    from genmetrics_nb.segmentation.fcn import FCN
    from genmetrics_nb.segmentation.checkpoint import save_fcn
    from genmetrics_nb.training.fcn import encode_scenes, evaluate_fcn, train_fcn
    from genmetrics_nb.weights.manager import sha256_file

    variants = args.variant.split(",")
    spread = [s for s in _seed_list(args.spread_seeds) if s != args.seed]
    if len(variants) > 1 and not ("{variant}" in args.out and (not args.manifest or "{variant}" in args.name)):
        raise ValueError("with several --variant values, --out and --name must contain {variant}")
    if args.pixel_stride is not None and not args.fixed_final_upsampling:
        raise ValueError("--pixel-stride needs --fixed-final-upsampling")
    if args.flip and not args.train_encoder:
        raise ValueError("--flip needs --train-encoder (cached encoder features cannot be mirrored)")
    scene_seed = args.seed if args.scene_seed is None else args.scene_seed
    scene_kw = dict(size=args.size, items=tuple(args.items), scale=tuple(args.scale), texture=tuple(args.texture),
                    seed=scene_seed)
    progress = not args.no_progress
    t0 = time.perf_counter()
    class_names = list(SCENE_CLASSES)

    def build(variant, seed):
        return FCN(args.encoder, variant=variant, num_classes=len(class_names),
                   head_channels=args.head_channels, dropout=args.dropout, seed=seed,
                   freeze_encoder=not args.train_encoder,
                   learn_final_upsampling=not args.fixed_final_upsampling)  # fmt: skip

    def spec(split, n):
        items, scale, texture = tuple(args.items), tuple(args.scale), tuple(args.texture)
        return (f"fashion_mnist_scenes({split!r}, n={n}, size={args.size}, items={items}, scale={scale}, "
                f"texture={texture}, seed={scene_seed})")

    encoder_model = build(variants[0], args.seed)
    key = {"encoder": encoder_model.encoder_id, "train": spec("train", args.n_train), "test": spec("test", args.n_test)}
    cached = None if args.train_encoder else _read_feature_cache(args.feature_cache, key)
    if cached is not None:
        ftrain, ftest, t_enc = cached
    else:
        train = fashion_mnist_scenes("train", n=args.n_train, progress=progress, **scene_kw)
        test = fashion_mnist_scenes("test", n=args.n_test, progress=progress, **scene_kw)
        if args.train_encoder:  # the encoder learns: train on the scenes themselves
            ftrain, ftest = train, test
        else:
            ftrain = encode_scenes(encoder_model, train, progress=progress)
            ftest = encode_scenes(encoder_model, test, progress=progress)
        t_enc = time.perf_counter() - t0
        if args.feature_cache and not args.train_encoder:
            from genmetrics_nb.segmentation.checkpoint import atomic_torch_save

            atomic_torch_save({"key": key, "train": ftrain, "test": ftest, "seconds": t_enc}, Path(args.feature_cache))

    train_kw = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                    pixel_stride=args.pixel_stride, flip=args.flip, schedule=args.schedule, device=args.device,
                    progress=progress)  # fmt: skip
    val_every = args.val_every
    for variant in variants:
        model = build(variant, args.seed)
        if not args.train_encoder:
            model.encoder = encoder_model.encoder  # one frozen encoder, shared
        run = train_fcn(model, ftrain, val=ftest, seed=args.seed, checkpoint=args.checkpoint, resume=args.resume,
                        val_every=val_every, **train_kw)  # fmt: skip
        scores = evaluate_fcn(model, ftest, background=0, device=args.device, progress=False)
        seed_runs = [{"seed": args.seed, "training_seconds": round(run.seconds, 1), **_scores_dict(scores, class_names)}]
        for s in spread:
            other = build(variant, s)
            if not args.train_encoder:
                other.encoder = encoder_model.encoder
            r = train_fcn(other, ftrain, seed=s, **train_kw)
            sc = evaluate_fcn(other, ftest, background=0, device=args.device, progress=False)
            seed_runs.append({"seed": s, "training_seconds": round(r.seconds, 1), **_scores_dict(sc, class_names)})
        out = Path(args.out.format(variant=variant))
        name = args.name.format(variant=variant)
        meta = {"command": _canonical_command(args), "seed": args.seed}
        save_fcn(model, out, class_names=class_names, meta=meta)
        entry = {
            "file": out.name,
            "sha256": sha256_file(out),
            "size_bytes": out.stat().st_size,
            "format": "genmetrics_nb.segmentation.checkpoint.save_fcn ("
            + ("encoder, head and decoder" if args.train_encoder else
               "head + decoder; encoder weights from their package") + ")",
            "config": dict(model.config),
            "encoder_weights": model.encoder_id,
            "command": meta["command"],
            "seed": args.seed,
            "data": {"train": spec("train", args.n_train), "test": spec("test", args.n_test)},
            "training_seconds": round(run.seconds, 1),
            ("scene_seconds" if args.train_encoder else "encoding_seconds"): round(t_enc, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, device {args.device}",
            "test_scores": _scores_dict(scores, class_names),
            "history": {"val_mean_iou": _json_floats(run.history.val_mean_iou),
                    "train_loss": _json_floats(run.history.train_loss)},
        }
        if spread:
            entry["seed_runs"] = seed_runs
        if args.manifest:
            _record(name, entry, Path(args.manifest))
        print(json.dumps(entry, indent=2))
        print(f"\n{scores}")
    return 0
