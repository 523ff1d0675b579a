"""Image grids: generated samples, and samples across checkpoints."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure
from genmetrics_nb.util.checks import check_int, check_uint8_images, is_torch

__all__ = ["sample_grid", "checkpoint_samples", "show_images"]


def _grid(images, nrow):
    """uint8 N x C x H x W -> one H' x W' (x 3) mosaic with 1-px gaps."""
    x = check_uint8_images(images if is_torch(images) else np.asarray(images), name="images")
    n, c, h, w = x.shape
    ncol = check_int(nrow, name="nrow", minimum=1)
    rows = -(-n // ncol)
    canvas = np.full((rows * (h + 1) + 1, ncol * (w + 1) + 1, c), 255, np.uint8)
    for i in range(n):
        r, q = divmod(i, ncol)
        canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + q * (w + 1): 1 + q * (w + 1) + w] = x[i].transpose(1, 2, 0)
    return canvas[..., 0] if c == 1 else canvas


def show_images(ax, images, nrow):
    """Draw uint8 ``N x C x H x W`` images on ``ax`` as a grid of ``nrow`` per row, without ticks."""
    g = _grid(images, nrow)
    ax.imshow(g, cmap="gray" if g.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def sample_grid(images, *, nrow: int = 8, title: str = "Generated samples", name: str = "samples"):
    """A grid of uint8 ``N x C x H x W`` images (row-major, in latent-seed order)."""
    n = len(images)
    rows = -(-n // nrow)
    fig, axes = new_figure(1, 1, width=0.75 * nrow + 0.8, height=0.75 * rows + 0.9)
    ax = axes[0][0]
    show_images(ax, images, nrow)
    ax.set_xlabel(f"{n} samples, {nrow} per row (pixels: 0 = black, 255 = white)")
    ax.set_title(title)
    return finish(fig, name)


def checkpoint_samples(samples: dict, *, nrow: int = 4, title: str = "Samples across training",
                       name: str = "checkpoint-samples"):
    """One panel of samples per entry of ``samples`` (label -> uint8 images), same latents in each."""
    labels = list(samples)
    fig, axes = new_figure(1, len(labels), width=2.6, height=2.9)
    for ax, label in zip(axes[0], labels):
        imgs = np.asarray(samples[label])[: nrow * nrow]
        show_images(ax, imgs, nrow)
        ax.set_title(label, fontsize=8)
        ax.set_xlabel("same latents in every panel", fontsize=7)
    fig.suptitle(title)
    return finish(fig, name)
