"""Figures of the iou_dice notebook: training curves, per-class scores, segmentation triples."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure
from genmetrics_nb.plots.labels import class_legend, label_colours, label_image

__all__ = ["plot_training_curves", "plot_segmentation_triples", "plot_class_scores", "item_mean_scores"]


def item_mean_scores(result, *, background: int = 0) -> tuple:
    """Mean IoU and mean Dice over the item classes of one image, background left out.

    The classes averaged are those present in the true or the predicted
    mask (others are undefined, NaN, and skipped), without ``background``:
    an all-background prediction of an image with items scores 0, where the
    mean over all classes would still credit it with the background's IoU.
    NaN when neither mask holds an item.
    """
    keep = [c for c in range(len(result.per_class_iou)) if c != background]
    iou = np.array([result.per_class_iou[c] for c in keep], dtype=float)
    dice = np.array([result.per_class_dice[c] for c in keep], dtype=float)
    if np.isnan(iou).all():
        return float("nan"), float("nan")
    return float(np.nanmean(iou)), float(np.nanmean(dice))


def _history(run):
    return getattr(run, "history", run)


def plot_training_curves(runs: dict, *, name: str = "training-curves"):
    """Loss and mean IoU per epoch for several training runs.

    Parameters
    ----------
    runs : dict of str to TrainedFCN or TrainingHistory
        E.g. ``{"FCN-32s": run32, "FCN-16s": run16, "FCN-8s": run8}``.
    """
    fig, axes = new_figure(1, 2, width=5.2, height=3.6)
    ax_l, ax_i = axes[0]
    for i, (label, run) in enumerate(runs.items()):
        h = _history(run)
        colour = f"C{i}"
        ax_l.plot(h.epoch, h.train_loss, "-o", color=colour, ms=3, label=f"{label} train")
        ep = np.asarray(h.epoch, dtype=float)
        # test scores may exist after some epochs only (train_fcn(val_every=...)): join those
        for ax, values, style, what in ((ax_l, h.val_loss, "--s", "test"), (ax_i, h.train_mean_iou, "-o", "train"),
                                        (ax_i, h.val_mean_iou, "--s", "test")):  # fmt: skip
            v = np.asarray(values, dtype=float)
            keep = ~np.isnan(v) if v.size == ep.size else np.zeros(ep.size, bool)
            if keep.any():
                ax.plot(ep[keep], v[keep], style, color=colour, ms=3, label=f"{label} {what}")
    from matplotlib.ticker import MaxNLocator

    ax_l.set(xlabel="epoch", ylabel="cross-entropy per pixel (nats)", title="Loss (train: running mean; test: after the epoch)")
    ax_i.set(xlabel="epoch", ylabel="mean IoU over classes", title="Mean IoU", ylim=(0, 1))
    for ax in (ax_l, ax_i):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_l.legend(fontsize=7)
    ax_i.legend(fontsize=7)
    return finish(fig, name)


def plot_segmentation_triples(
    images, predictions: dict, labels, *, class_names, n: int = 4, background: int = 0,
    name: str = "segmentation-examples",
):
    """Image, predicted masks (one column per model) and true mask, with per-image item IoU and Dice.

    Each predicted mask's title gives its mean IoU and Dice over the *item*
    classes present in the true or predicted mask, background excluded
    (:func:`item_mean_scores`), so an all-background prediction scores 0.

    Parameters
    ----------
    images : uint8 N x 3 x H x W
    predictions : dict of str to int array N x H x W
        E.g. ``{"FCN-8s": pred8}``; a single array is shown as "predicted".
    labels : int array N x H x W
    class_names : list of str
    n : int
        Number of rows (images).
    background : int
        Label of the background, left out of the per-image means.
    """
    from genmetrics_nb.metrics.segmentation.fcn_score import fcn_score

    if not isinstance(predictions, dict):
        predictions = {"predicted": predictions}
    images = np.asarray(images)
    labels = np.asarray(labels)
    n = min(n, images.shape[0])
    k = len(class_names)
    colours = label_colours(k)
    cols = 2 + len(predictions)
    fig, axes = new_figure(n, cols, width=2.3, height=2.85)
    for r in range(n):
        axes[r, 0].imshow(images[r].transpose(1, 2, 0))
        axes[r, 0].set_title("image" if r == 0 else "", fontsize=9)
        for c, (label, pred) in enumerate(predictions.items(), start=1):
            p = np.asarray(pred[r])
            s = fcn_score(labels[r].astype(np.int64), p.astype(np.int64), num_classes=k)
            iou, dice = item_mean_scores(s, background=background)
            axes[r, c].imshow(label_image(p, colours), interpolation="nearest")
            axes[r, c].set_title(f"{label}\nitem IoU {iou:.2f}, Dice {dice:.2f}", fontsize=8)
        axes[r, -1].imshow(label_image(labels[r], colours), interpolation="nearest")
        axes[r, -1].set_title("true mask" if r == 0 else "", fontsize=9)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[-1, 0].set_xlabel("pixels (x)")
    axes[-1, 0].set_ylabel("pixels (y)")
    fig.suptitle("Images, predicted masks and true masks (per image: mean IoU / Dice over the item classes "
                 "in the true or predicted mask, background excluded)", fontsize=10)  # fmt: skip
    present = set(np.unique(labels[:n]).tolist())
    for pred in predictions.values():
        present |= set(np.unique(np.asarray(pred[:n])).tolist())
    class_legend(fig, class_names, colours, present)
    return finish(fig, name)


def plot_class_scores(scores: dict, *, class_names, name: str = "class-scores"):
    """Per-class IoU and Dice of several models as grouped bars.

    Parameters
    ----------
    scores : dict of str to SegmentationResult
    class_names : list of str
    """
    fig, axes = new_figure(2, 1, width=10, height=3.2)
    k = len(class_names)
    x = np.arange(k)
    width = 0.8 / max(1, len(scores))
    for ax, field, title in ((axes[0, 0], "per_class_iou", "IoU"), (axes[1, 0], "per_class_dice", "Dice")):
        for i, (label, s) in enumerate(scores.items()):
            vals = np.nan_to_num(np.array(getattr(s, field), dtype=float), nan=0.0)
            mean = s.mean_iou if field == "per_class_iou" else s.mean_dice
            ax.bar(x + (i - (len(scores) - 1) / 2) * width, vals, width, label=f"{label} (mean {mean:.3f})")
        ax.set_xticks(x)
        ax.set_xticklabels(class_names, rotation=30, ha="right", fontsize=8)
        ax.set(ylabel=title, ylim=(0, 1), title=f"Per-class {title} on the test set")
        ax.legend(fontsize=8, ncol=len(scores))
    axes[1, 0].set_xlabel("class")
    return finish(fig, name)
