"""Figures of the fcn_score notebook: the blurred images with their segmentations, and the score curves."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure
from genmetrics_nb.plots.labels import class_legend, label_colours, label_image

__all__ = ["plot_blur_grid", "plot_blur_sweep"]


def plot_blur_grid(sweep, *, kernels=None, name: str = "blur-grid"):
    """The first image blurred with several kernels (top) and its segmentations (bottom)."""
    ks = list(sweep.kernels)
    if kernels is None:
        pick = np.unique(np.linspace(0, len(ks) - 1, min(6, len(ks))).round().astype(int))
    else:
        missing = [k for k in kernels if k not in ks]
        if missing:
            raise ValueError(f"kernels {missing} are not in the sweep's kernels {ks}")
        pick = [ks.index(k) for k in kernels]
    names = sweep.class_names or [str(i) for i in range(int(sweep.example_labels.max()) + 1)]
    colours = label_colours(max(len(names), int(sweep.example_labels.max()) + 1))
    fig, axes = new_figure(2, len(pick), width=2.2, height=2.8)
    for c, i in enumerate(pick):
        axes[0, c].imshow(sweep.example_images[i].transpose(1, 2, 0))
        axes[0, c].set_title(f"box blur {ks[i]} x {ks[i]}", fontsize=9)
        axes[1, c].imshow(label_image(sweep.example_labels[i], colours), interpolation="nearest")
        r = sweep.vs_real[i]
        axes[1, c].set_title(f"segmentation\npix. acc. vs k=1: {r.pixel_accuracy:.2f}", fontsize=8)
        for ax in axes[:, c]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("blurred image")
    axes[1, 0].set_ylabel(f"{sweep.segmenter} labels")
    fig.suptitle("Box-blurred image and its segmentation (first image of the set)", fontsize=10)
    class_legend(fig, names, colours, np.unique(sweep.example_labels[pick]))
    return finish(fig, name)


def plot_blur_sweep(sweep, *, name: str = "blur-sweep"):
    """FCN-score (pixel accuracy, foreground accuracy, mean IoU) against box-blur kernel size."""
    fig, axes = new_figure(1, 1, width=7.5, height=5.0)
    ax = axes[0, 0]
    k = np.array(sweep.kernels)
    fields = (("pixel_accuracy", "pixel accuracy"), ("foreground_pixel_accuracy", "foreground pixel accuracy"),
              ("mean_iou", "mean IoU"))  # fmt: skip
    for i, (field, label) in enumerate(fields):
        y = sweep.series(field)
        if not np.all(np.isnan(y)):
            ax.plot(k, y, "-o", ms=3, color=f"C{i}", label=f"{label} vs. real image's segmentation")
        if sweep.vs_truth is not None:
            yt = sweep.series(field, against="truth")
            if not np.all(np.isnan(yt)):
                ax.plot(k, yt, "--s", ms=3, color=f"C{i}", label=f"{label} vs. ground truth")
    ax.set(xlabel="box-blur kernel size (pixels)", ylabel="score (fraction)", ylim=(0, 1.02),
           title=f"FCN-score of blurred images ({sweep.segmenter}, {sweep.n_images} "
                                 f"image{'s' if sweep.n_images != 1 else ''})")  # fmt: skip
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    ax.grid(alpha=0.3)
    return finish(fig, name)
