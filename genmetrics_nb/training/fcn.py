"""Training and evaluating FCNs: cached encoder features, the loop, checkpoints.

With a frozen encoder (the default) the encoder features of a data set are
computed once by :func:`encode_scenes` and the three FCN variants train on
the same cache, which is what makes training FCN-32s, -16s and -8s on two
CPU cores take minutes instead of hours. With ``freeze_encoder=False``
:func:`train_fcn` takes the scenes themselves and fine-tunes end to end.
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genmetrics_nb.datasets.scenes import SegmentationScenes
from genmetrics_nb.device import resolve
from genmetrics_nb.metrics.segmentation.confusion import ConfusionMatrix, SegmentationResult
from genmetrics_nb.segmentation.checkpoint import CHECKPOINT_FORMAT, atomic_torch_save
from genmetrics_nb.segmentation.fcn import FCN
from genmetrics_nb.training.defaults import FCN_DEFAULTS, FCN_SCHEDULES
from genmetrics_nb.util.checks import check_choice, check_int, check_uint8_images

__all__ = [
    "TRAIN_DEFAULTS",
    "EncodedScenes",
    "TrainingHistory",
    "TrainedFCN",
    "encode_scenes",
    "train_fcn",
    "evaluate_fcn",
    "predict_fcn",
    "fcn_variant_models",
    "fcn_variant_runs",
]

#: One table of training defaults, shared by :func:`train_fcn`, the
#: ``train-fcn`` command and the notebooks.
TRAIN_DEFAULTS = FCN_DEFAULTS


@dataclasses.dataclass(frozen=True)
class EncodedScenes:
    """Frozen-encoder features of a set of scenes, with their label maps.

    Attributes
    ----------
    features : dict of str to torch.Tensor
        ``"s8"``, ``"s16"``, ``"s32"``: float32 ``N x C x h x w`` on the CPU, of
        the images padded to a multiple of 32.
    labels : numpy.ndarray
        ``N x H x W`` label maps (unpadded).
    encoder : str
        :func:`genmetrics_nb.segmentation.fcn.encoder_id` of the encoder used.
    class_names : list of str
    """

    features: dict
    labels: np.ndarray
    encoder: str
    class_names: list

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(v.shape[1:])}" for k, v in self.features.items())
        return f"EncodedScenes({len(self)} scenes, encoder={self.encoder!r}, {shapes})"

    @property
    def nbytes(self) -> int:
        return sum(v.numel() * v.element_size() for v in self.features.values())


@dataclasses.dataclass(frozen=True)
class TrainingHistory:
    """Per-epoch curves of one training run (val entries are NaN without a val set)."""

    epoch: tuple
    train_loss: tuple
    train_mean_iou: tuple
    val_loss: tuple
    val_mean_iou: tuple
    step_loss: tuple
    seconds: tuple

    def to_dict(self) -> dict:
        return {k: list(v) for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass(frozen=True)
class TrainedFCN:
    """The result of :func:`train_fcn`.

    Attributes
    ----------
    model : FCN
        The trained network (eval mode).
    history : TrainingHistory
    val_scores : SegmentationResult or None
        Scores on the validation set after the last epoch (background = 0).
    seconds : float
        Wall-clock training time, without the feature caching.
    """

    model: FCN = dataclasses.field(repr=False, compare=False)
    history: TrainingHistory
    val_scores: SegmentationResult | None
    seconds: float

    def to_dict(self) -> dict:
        return {
            "config": dict(self.model.config),
            "history": self.history.to_dict(),
            "val_scores": None if self.val_scores is None else self.val_scores.to_dict(),
            "seconds": self.seconds,
        }


# ----------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------
def _check_model(model) -> FCN:
    if not isinstance(model, FCN):
        raise TypeError(f"model must be a genmetrics_nb.segmentation.FCN, got {type(model).__name__}")
    return model


def _check_data(data, name: str, model: FCN):
    if isinstance(data, EncodedScenes):
        if data.encoder != model.encoder_id:
            raise ValueError(
                f"{name} was encoded with {data.encoder!r} but the model's encoder is "
                f"{model.encoder_id!r}; encode it again with encode_scenes(model, ...)"
            )
        if not model.freeze_encoder:
            raise ValueError(
                f"{name} holds cached encoder features, which cannot train an encoder; pass the "
                "scenes themselves, or build the FCN with freeze_encoder=True"
            )
        return data
    if isinstance(data, SegmentationScenes):
        check_uint8_images(data.images, name=f"{name}.images", channels=3)
        if data.labels.shape != (data.images.shape[0],) + data.images.shape[2:]:
            raise ValueError(f"{name}.labels must be N x H x W matching the images, got {data.labels.shape}")
        return data
    raise TypeError(
        f"{name} must be SegmentationScenes (gm.datasets.fashion_mnist_scenes) or EncodedScenes "
        f"(encode_scenes), got {type(data).__name__}"
    )


def _check_labels_fit(labels: np.ndarray, num_classes: int, name: str):
    top = int(labels.max()) if labels.size else 0
    if top >= num_classes:
        raise ValueError(
            f"{name} has label {top} but the model has num_classes={num_classes}; build the FCN with "
            f"num_classes={top + 1} or more"
        )


# ----------------------------------------------------------------------------
# batches
# ----------------------------------------------------------------------------
def _batch(data, idx, model: FCN, device, *, flip: bool = False):
    """(features dict on device, labels int64 on device) of the scenes at ``idx``, mirrored if ``flip``."""
    labels = torch.from_numpy(np.ascontiguousarray(data.labels[idx])).to(device=device, dtype=torch.long)
    if isinstance(data, EncodedScenes):
        feats = {k: v[idx].to(device) for k, v in data.features.items()}
        return feats, labels
    images = torch.from_numpy(np.ascontiguousarray(data.images[idx]))
    if flip:
        images, labels = images.flip(-1), labels.flip(-1)
    x = model.pad32(model.preprocess(images))
    return model.encode(x), labels


#: Learning-rate schedules of :func:`train_fcn`.
SCHEDULES = FCN_SCHEDULES


def lr_at(step: int, total: int, lr: float, schedule: str) -> float:
    """Learning rate of optimiser step ``step`` (0-based) of ``total``.

    ``"constant"``: ``lr``. ``"cosine"``: a linear warm-up over the first 5% of
    the steps from ``lr / 10``, then cosine decay to 0 (Loshchilov & Hutter,
    "SGDR", ICLR 2017). A function of the step alone, so a resumed run follows
    the same schedule.
    """
    if schedule == "constant":
        return lr
    warm = max(1, int(0.05 * total))
    if step < warm:
        return lr * (0.1 + 0.9 * step / warm)
    return 0.5 * lr * (1.0 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def _logits(model: FCN, feats, size):
    h, w = size
    return model.decode(feats)[..., :h, :w]


def encode_scenes(model: FCN, scenes: SegmentationScenes, *, batch_size: int = 64, progress: bool = True) -> EncodedScenes:
    """Run the frozen encoder of ``model`` over ``scenes`` once and keep the features.

    Parameters
    ----------
    model : FCN
        Any FCN with ``freeze_encoder=True``; FCNs with the same encoder (and
        encoder weights) can share the result, whatever their variant.
    scenes : SegmentationScenes
    batch_size : int
    progress : bool

    Returns
    -------
    EncodedScenes
        Features on the CPU. Memory: about 150 kB per 128 x 128 scene for
        EfficientNet-Lite0, 420 kB for VGG-16.
    """
    model = _check_model(model)
    if not model.freeze_encoder:
        raise ValueError("encode_scenes needs an FCN built with freeze_encoder=True (its encoder must not train)")
    if not isinstance(scenes, SegmentationScenes):
        raise TypeError(f"scenes must be SegmentationScenes, got {type(scenes).__name__}")
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    from tqdm.auto import tqdm

    n = len(scenes)
    out: dict = {}
    model.eval()
    with torch.no_grad():
        for start in tqdm(range(0, n, batch_size), desc="encoding", disable=not progress, leave=False):
            sl = slice(start, min(n, start + batch_size))
            x = model.pad32(model.preprocess(scenes.images[sl]))
            for k, v in model.encode(x).items():
                if k not in out:
                    out[k] = torch.empty((n,) + tuple(v.shape[1:]), dtype=torch.float32)
                out[k][sl] = v.float().cpu()
    return EncodedScenes(out, scenes.labels, model.encoder_id, list(scenes.class_names))


# ----------------------------------------------------------------------------
# evaluation
# ----------------------------------------------------------------------------
def _evaluate(model: FCN, data, *, batch_size, device, progress, desc="evaluating"):
    from tqdm.auto import tqdm

    n = len(data)
    cm = ConfusionMatrix(model.num_classes)
    loss_sum = 0.0
    size = data.labels.shape[1:]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for start in tqdm(range(0, n, batch_size), desc=desc, disable=not progress, leave=False):
            idx = np.arange(start, min(n, start + batch_size))
            feats, labels = _batch(data, idx, model, device)
            logits = _logits(model, feats, size)
            loss_sum += float(F.cross_entropy(logits, labels, reduction="sum"))
            cm.update(labels, logits.argmax(1))
    model.train(was_training)
    return cm, loss_sum / (n * size[0] * size[1])


def evaluate_fcn(
    model: FCN, data, *, background: int | None = 0, convention: str = "exclude-absent",
    batch_size: int = 64, device="auto", progress: bool = True,
) -> SegmentationResult:
    """Score ``model`` on scenes (or their cached features) against their label maps.

    Parameters
    ----------
    model : FCN
    data : SegmentationScenes or EncodedScenes
    background : int or None
        Label of the background (0 in Fashion-MNIST scenes), for
        ``foreground_pixel_accuracy``.
    convention : {"exclude-absent", "pix2pix"}
        See :func:`genmetrics_nb.metrics.segmentation.confusion.fcn_score`.
    batch_size : int
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``; the model is moved there.
    progress : bool

    Returns
    -------
    SegmentationResult
    """
    model = _check_model(model)
    data = _check_data(data, "data", model)
    _check_labels_fit(data.labels, model.num_classes, "data.labels")
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    dev = resolve(device)
    model.to(dev)
    cm, _ = _evaluate(model, data, batch_size=batch_size, device=dev, progress=progress)
    return cm.compute(background=background, convention=convention)


def predict_fcn(model: FCN, images, *, batch_size: int = 32, device="auto", progress: bool = True) -> np.ndarray:
    """Label maps (``int64`` ``N x H x W``) of ``uint8`` ``N x 3 x H x W`` images."""
    model = _check_model(model)
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    from tqdm.auto import tqdm

    dev = resolve(device)
    model.to(dev).eval()
    images = images.cpu().numpy() if torch.is_tensor(images) else np.asarray(images)
    outs = []
    with torch.no_grad():
        for start in tqdm(range(0, len(images), batch_size), desc="segmenting", disable=not progress, leave=False):
            x = model.preprocess(images[start : start + batch_size])
            outs.append(model(x).argmax(1).cpu().numpy())
    if not outs:
        raise ValueError("images is empty; pass at least one image")
    return np.concatenate(outs).astype(np.int64)


# ----------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------
def train_fcn(
    model: FCN,
    train,
    *,
    val=None,
    epochs: int = TRAIN_DEFAULTS["epochs"],
    batch_size: int = TRAIN_DEFAULTS["batch_size"],
    lr: float = TRAIN_DEFAULTS["lr"],
    weight_decay: float = TRAIN_DEFAULTS["weight_decay"],
    max_steps: int | None = None,
    pixel_stride: int | None = None,
    flip: bool = False,
    schedule: str = "constant",
    val_every: int = 1,
    seed: int = TRAIN_DEFAULTS["seed"],
    device="auto",
    checkpoint=None,
    resume: bool = False,
    progress: bool = True,
) -> TrainedFCN:
    """Train an FCN with per-pixel cross-entropy and Adam.

    Parameters
    ----------
    model : FCN
        Trained in place.
    train : SegmentationScenes or EncodedScenes
        Training scenes, or their cached frozen-encoder features (faster).
    val : SegmentationScenes or EncodedScenes, optional
        Scored after every epoch (loss and mean IoU curves).
    epochs : int
    batch_size : int
    lr, weight_decay : float
        Adam learning rate and (L2) weight decay.
    max_steps : int, optional
        Stop after this many optimiser steps in total (smoke runs).
    pixel_stride : int, optional
        Compute each step's loss on ``H/s`` random rows times ``W/s`` random
        columns of the output only (drawn anew every step), ``1/s**2`` of the
        pixels: an unbiased estimate of the full loss, as FCN's "patch
        sampling" (section 4.3), at a fraction of the cost of the full-size
        logits. Needs ``learn_final_upsampling=False`` (the fixed bilinear
        final upsampling can be evaluated at any rows and columns).
        Validation always scores every pixel.
    flip : bool
        Mirror each batch left-right with probability 1/2 (drawn from the seeded
        generator). Needs the scenes themselves (an encoder that trains), not
        cached features.
    schedule : {"constant", "cosine"}
        Learning rate over the steps (:func:`lr_at`).
    val_every : int
        Score ``val`` after every ``val_every``-th epoch and after the last
        (NaN in the history in between); scoring full-size logits can cost
        more than an epoch of training on cached features.
    seed : int
        Seeds the shuffling and dropout inside a forked RNG (the global torch
        RNG is restored afterwards).
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    checkpoint : path, optional
        After every epoch write the trainable state, optimiser state and
        history here (atomically).
    resume : bool
        Continue from ``checkpoint`` if it exists (same model configuration).
    progress : bool
        Show a progress bar with the running loss.

    Returns
    -------
    TrainedFCN

    Notes
    -----
    The document trains with cross-entropy; FCN [1] used SGD with momentum
    and a fixed learning rate of 1e-4 (VGG, unnormalised loss). Adam with
    1e-3 trains the small heads used here in fewer epochs. Training on
    :class:`EncodedScenes` and on the scenes themselves gives the same updates
    for a frozen encoder (the features are the same), apart from float
    rounding.

    References
    ----------
    .. [1] Long, Shelhamer, Darrell, CVPR 2015, section 4.3.
    """
    model = _check_model(model)
    train = _check_data(train, "train", model)
    if val is not None:
        val = _check_data(val, "val", model)
        _check_labels_fit(val.labels, model.num_classes, "val.labels")
    _check_labels_fit(train.labels, model.num_classes, "train.labels")
    epochs = check_int(epochs, name="epochs", minimum=1)
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if max_steps is not None:
        max_steps = check_int(max_steps, name="max_steps", minimum=1)
    val_every = check_int(val_every, name="val_every", minimum=1)
    if pixel_stride is not None:
        pixel_stride = check_int(pixel_stride, name="pixel_stride", minimum=1)
        if model.config["learn_final_upsampling"]:
            raise ValueError(
                "pixel_stride needs an FCN built with learn_final_upsampling=False (a fixed bilinear final "
                "upsampling); pass pixel_stride=None to train on every pixel"
            )
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise TypeError(f"lr must be a positive number, got {lr!r}")
    if not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint= (the file to resume from)")
    check_choice(schedule, name="schedule", choices=SCHEDULES)
    if flip and isinstance(train, EncodedScenes):
        raise ValueError("flip=True needs the scenes themselves (cached features cannot be mirrored); "
                         "pass SegmentationScenes or flip=False")
    from tqdm.auto import tqdm

    dev = resolve(device)
    model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    hist = {k: [] for k in ("epoch", "train_loss", "train_mean_iou", "val_loss", "val_mean_iou", "step_loss", "seconds")}
    start_epoch = 0
    if resume and Path(checkpoint).is_file():
        ck = torch.load(checkpoint, map_location=dev, weights_only=False)
        if ck.get("config") != model.config:
            raise ValueError(
                f"checkpoint {checkpoint} was made by an FCN with config {ck.get('config')}, not "
                f"{model.config}; build the same model or use another checkpoint path"
            )
        model.load_state_dict(ck["state"], strict=False)
        opt.load_state_dict(ck["optimizer"])
        hist = {k: list(v) for k, v in ck["history"].items()}
        start_epoch = int(ck["epoch"])
    n = len(train)
    steps_per_epoch = math.ceil(n / batch_size)
    total = steps_per_epoch * (epochs - start_epoch)
    if max_steps is not None:
        total = min(total, max_steps)
    schedule_steps = steps_per_epoch * epochs if max_steps is None else min(steps_per_epoch * epochs, max_steps)
    size = train.labels.shape[1:]
    t0 = time.perf_counter()
    step = 0
    devices = [dev.index or 0] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        pix_gen = torch.Generator().manual_seed(seed + 1_000_003)  # pixel sampling, apart from the shuffling
        flip_gen = torch.Generator().manual_seed(seed + 2_000_003)  # mirroring, apart from both
        bar = tqdm(total=total, desc=f"FCN-{model.variant}", disable=not progress)
        for epoch in range(epochs):
            # Draw every epoch's order, so that a resumed run shuffles as an uninterrupted one.
            order = torch.randperm(n, generator=gen).numpy()
            if epoch < start_epoch:
                continue
            model.train()
            cm = ConfusionMatrix(model.num_classes)
            loss_sum, seen = 0.0, 0
            for b in range(steps_per_epoch):
                if max_steps is not None and step >= max_steps:
                    break
                idx = np.sort(order[b * batch_size : (b + 1) * batch_size])
                mirror = bool(torch.rand((), generator=flip_gen) < 0.5) if flip else False
                feats, labels = _batch(train, idx, model, dev, flip=mirror)
                for group in opt.param_groups:
                    group["lr"] = lr_at(epoch * steps_per_epoch + b, schedule_steps, lr, schedule)
                if pixel_stride is None:
                    logits = _logits(model, feats, size)
                else:
                    rows = torch.randperm(size[0], generator=pix_gen)[: max(1, size[0] // pixel_stride)].sort().values
                    cols = torch.randperm(size[1], generator=pix_gen)[: max(1, size[1] // pixel_stride)].sort().values
                    logits = model.decode(feats, rows=rows.to(dev), cols=cols.to(dev))
                    labels = labels[:, rows.to(dev)][:, :, cols.to(dev)]
                loss = F.cross_entropy(logits, labels)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                cm.update(labels, logits.detach().argmax(1))
                loss_sum += float(loss.detach()) * len(idx)
                seen += len(idx)
                hist["step_loss"].append(float(loss.detach()))
                step += 1
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{float(loss.detach()):.3f}")
            if seen == 0:
                break
            hist["epoch"].append(epoch + 1)
            hist["train_loss"].append(loss_sum / seen)
            hist["train_mean_iou"].append(cm.compute().mean_iou)
            if val is not None and ((epoch + 1) % val_every == 0 or epoch + 1 == epochs):
                vcm, vloss = _evaluate(model, val, batch_size=max(batch_size, 64), device=dev, progress=False)
                hist["val_loss"].append(vloss)
                hist["val_mean_iou"].append(vcm.compute().mean_iou)
            else:
                hist["val_loss"].append(math.nan)
                hist["val_mean_iou"].append(math.nan)
            hist["seconds"].append(time.perf_counter() - t0)
            if checkpoint is not None:
                atomic_torch_save(
                    {
                        "format": CHECKPOINT_FORMAT + "-training",
                        "config": model.config,
                        "state": model.trainable_state_dict(),
                        "optimizer": opt.state_dict(),
                        "epoch": epoch + 1,
                        "history": hist,
                    },
                    Path(checkpoint),
                )
            if max_steps is not None and step >= max_steps:
                break
        bar.close()
    seconds = time.perf_counter() - t0
    model.eval()
    val_scores = None
    if val is not None:
        vcm, _ = _evaluate(model, val, batch_size=max(batch_size, 64), device=dev, progress=False)
        val_scores = vcm.compute(background=0)
    history = TrainingHistory(**{k: tuple(v) for k, v in hist.items()})
    return TrainedFCN(model, history, val_scores, seconds)


# ----------------------------------------------------------------------------
# the shipped 224-pixel FCNs, or fresh ones, for the iou_dice notebook
# ----------------------------------------------------------------------------
def fcn_variant_models(variants, *, shipped: bool = True, encoder: str = "efficientnet-lite0", num_classes: int = 11,
                       head_channels=None, dropout: float = 0.5, learn_final_upsampling: bool = False, seed: int = 0,
                       device="cpu") -> dict:  # fmt: skip
    """One FCN per variant: the shipped ``fcn{v}-scenes224`` checkpoints, or fresh models to train.

    Parameters
    ----------
    variants : sequence of {"32s", "16s", "8s"}
    shipped : bool
        True: load ``fcn{v}-scenes224`` from ``data/models`` (sha256 checked;
        trained by the command in their manifest entry). False: build
        untrained FCNs with the options below (all variants share one encoder).
    encoder, num_classes, head_channels, dropout, learn_final_upsampling, seed
        Options of :class:`genmetrics_nb.segmentation.FCN` (``shipped=False`` only); the
        default fixed final upsampling is the paper's and that of the shipped checkpoints.
    device : str

    Returns
    -------
    dict of variant to FCN
    """
    from genmetrics_nb.segmentation.segmenters import SCENES224_FCNS, load_shipped_fcn

    variants = list(variants)
    bad = [v for v in variants if v not in SCENES224_FCNS]
    if not variants or bad:
        raise ValueError(f"variants must be among {list(SCENES224_FCNS)}, got {variants!r}")
    if shipped:
        models = {v: load_shipped_fcn(SCENES224_FCNS[v], device=device)[0] for v in variants}
    else:
        models = {v: FCN(encoder, variant=v, num_classes=num_classes, head_channels=head_channels,
                         dropout=dropout, learn_final_upsampling=learn_final_upsampling, seed=seed)
                  for v in variants}  # fmt: skip
    first = models[variants[0]].encoder
    for m in models.values():  # one frozen encoder in memory, shared
        if m.encoder_id == models[variants[0]].encoder_id:
            m.encoder = first
    return models


def fcn_variant_runs(models: dict, train_features, test_features, *, shipped: bool = True, names=None,
                     **train_options) -> dict:  # fmt: skip
    """Train each model on ``train_features`` (``shipped=False``), or score the shipped ones.

    Returns ``{name: TrainedFCN}``: for shipped checkpoints the history is the
    one recorded in their manifest entry (test mean IoU and training loss per
    epoch), ``val_scores`` are computed here on ``test_features`` and
    ``seconds`` is the recorded training time.

    Parameters
    ----------
    models : dict of variant to FCN
        From :func:`fcn_variant_models`.
    train_features, test_features : EncodedScenes
        ``train_features`` may be None for shipped models.
    shipped : bool
    names : dict of variant to display name, optional
        Default ``"FCN-<variant>"``.
    **train_options
        Passed to :func:`genmetrics_nb.training.fcn.train_fcn` (epochs, lr, ...).
    """
    from genmetrics_nb.segmentation.segmenters import SCENES224_FCNS
    from genmetrics_nb.weights.shipped import shipped_file

    names = names or {v: f"FCN-{v}" for v in models}
    runs = {}
    for v, model in models.items():
        if not shipped:
            if train_features is None:
                raise ValueError("train_features is None; encode the training scenes, or pass shipped=True")
            runs[names[v]] = train_fcn(model, train_features, val=test_features, **train_options)
            continue
        _, entry = shipped_file(SCENES224_FCNS[v])
        rec = entry.get("history", {})
        loss = [math.nan if x is None else float(x) for x in rec.get("train_loss", [])]
        val = [math.nan if x is None else float(x) for x in rec.get("val_mean_iou", [])]
        nan = [math.nan] * len(loss)
        hist = TrainingHistory(epoch=tuple(range(1, len(loss) + 1)), train_loss=tuple(loss), train_mean_iou=tuple(nan),
                               val_loss=tuple(nan), val_mean_iou=tuple(val or nan), step_loss=(),
                               seconds=tuple(nan))  # fmt: skip
        scores = evaluate_fcn(model, test_features, background=0, progress=False)
        runs[names[v]] = TrainedFCN(model, hist, scores, float(entry.get("training_seconds", math.nan)))
    return runs
