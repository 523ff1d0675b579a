"""Fashion-MNIST scenes: a small, offline, deterministic semantic-segmentation set.

The FCN documents this package reproduces train on street scenes that cannot
be fetched offline. This module builds a stand-in from Fashion-MNIST: each
scene is a colour image with a few clothing items pasted at random positions
and scales on a textured background, and a label map with ``class + 1`` on
each item's pixels and 0 (background) elsewhere, so there are 11 classes.
Training scenes draw their items from the Fashion-MNIST training split and
test scenes from its test split, so no item image is shared between them.

Scenes are generated on the fly (about 2,000 per second on one core) and
are a pure function of ``(split, seed, index, size, items, scale, texture)``: scene
``i`` is the same whatever ``n`` is.

References
----------
.. [1] H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
   Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from genmetrics_nb.util.checks import check_int

__all__ = ["fashion_mnist_scenes", "SegmentationScenes", "SCENE_CLASSES", "SCENE_DEFAULTS", "SCENES_224"]

SCENE_CLASSES = [
    "background", "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip

#: Defaults shared by :func:`fashion_mnist_scenes`, the training CLI and the notebooks.
SCENE_DEFAULTS = {"size": 128, "items": (2, 4), "scale": (0.25, 0.5), "texture": (1.0, 1.0)}

#: The scenes of the FCN notebooks since issue 13: the document's 224-pixel size, items of
#: 67-123 pixels (2-4 cells of an FCN-32s's 7 x 7 grid) and background texture of random
#: strength, down to none (with texture always present, "smooth = item" is a shortcut a
#: segmenter learns, and then paints blurred backgrounds as clothing).
SCENES_224 = {"size": 224, "items": (1, 3), "scale": (0.3, 0.55), "texture": (0.0, 1.0)}

# An item pixel is opaque where the Fashion-MNIST intensity is at least half of
# this value, and it is labelled as the item where alpha >= _LABEL_ALPHA.
_ALPHA_GAIN = 2.0
_LABEL_ALPHA = 0.5
_SPLIT_CODE = {"train": 0, "test": 1}


class SegmentationScenes(NamedTuple):
    """Images with per-pixel labels.

    Attributes
    ----------
    images : numpy.ndarray
        ``uint8`` ``N x 3 x H x W``.
    labels : numpy.ndarray or None
        ``uint8`` ``N x H x W``; ``0`` is background, ``k + 1`` is Fashion-MNIST class ``k``.
        None for images without ground truth (a photograph in the FCN-score notebook).
    class_names : list of str or None
        ``class_names[label]``; 11 names starting with ``"background"``.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list

    def __repr__(self) -> str:
        n, c, h, w = self.images.shape
        if self.labels is None:
            return f"SegmentationScenes({n} images of {c} x {h} x {w} uint8, no label maps)"
        return f"SegmentationScenes({n} scenes of {c} x {h} x {w} uint8, {len(self.class_names)} classes)"

    def __len__(self) -> int:  # NamedTuple's len would be 3
        return int(self.images.shape[0])

    def subset(self, index) -> "SegmentationScenes":
        """The scenes at ``index`` (a slice, an int array or a boolean mask)."""
        return SegmentationScenes(self.images[index], self.labels[index], self.class_names)


def _check_pair(value, name, kind, kind_name, low, high):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a (min, max) pair, got {value!r}")
    a, b = value
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, kind):
            raise TypeError(f"{name} must hold {kind_name}, got {value!r}")
    if not low <= a <= b <= high:
        raise ValueError(f"{name} must satisfy {low} <= min <= max <= {high}, got {value!r}")
    return a, b


def _background(rng: np.random.Generator, size: int, texture=(1.0, 1.0)) -> np.ndarray:
    """A smooth colour field plus oriented stripes and grain, float32 H x W x 3 in 0..255.

    Stripes and grain are scaled by a strength drawn from ``texture`` after
    everything else of the background; the default ``(1, 1)`` draws nothing,
    so default scenes (those of ``fcn8s-scenes``) keep their random stream.
    Any other range shifts the stream of the items that follow.
    """
    import cv2

    base = rng.uniform(40, 180, 3)
    coarse = rng.normal(0, 35, (4, 4, 3)).astype(np.float32)
    field = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    theta = rng.uniform(0, np.pi)
    period = rng.uniform(4, 16)
    stripes = np.sin(2 * np.pi * (xx * np.cos(theta) + yy * np.sin(theta)) / period + rng.uniform(0, 2 * np.pi))
    stripes = stripes[..., None] * rng.uniform(5, 25) * rng.uniform(0.5, 1, 3).astype(np.float32)
    grain = rng.normal(0, 8, (size, size, 3)).astype(np.float32)
    if tuple(texture) != (1.0, 1.0):
        strength = np.float32(rng.uniform(*texture))
        stripes, grain = stripes * strength, grain * strength
    return base.astype(np.float32) + field + stripes + grain


def _paste(canvas, labels, item, label, rng, size, scale):
    import cv2

    side = int(round(rng.uniform(*scale) * size))
    side = max(side, 8)
    aspect = rng.uniform(0.8, 1.25)
    h = min(size, max(8, int(round(side * aspect))))
    w = min(size, max(8, int(round(side / aspect))))
    glyph = cv2.resize(item.astype(np.float32) / 255.0, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        glyph = glyph[:, ::-1]
    y = int(rng.integers(0, size - h + 1))
    x = int(rng.integers(0, size - w + 1))
    alpha = np.clip(_ALPHA_GAIN * glyph, 0.0, 1.0)[..., None]
    colour = rng.uniform(60, 255, 3).astype(np.float32)
    shade = colour * (0.45 + 0.55 * glyph[..., None])
    region = canvas[y : y + h, x : x + w]
    canvas[y : y + h, x : x + w] = region * (1 - alpha) + shade * alpha
    mask = alpha[..., 0] >= _LABEL_ALPHA
    labels[y : y + h, x : x + w][mask] = label


def fashion_mnist_scenes(
    split: str = "test",
    *,
    n: int = 1000,
    size: int = SCENE_DEFAULTS["size"],
    items: tuple = SCENE_DEFAULTS["items"],
    scale: tuple = SCENE_DEFAULTS["scale"],
    texture: tuple = SCENE_DEFAULTS["texture"],
    seed: int = 0,
    root=None,
    progress: bool = True,
) -> SegmentationScenes:
    """Generate ``n`` Fashion-MNIST scenes with their label maps.

    Parameters
    ----------
    split : {"test", "train"}
        Which Fashion-MNIST split the pasted items come from.
    n : int
        Number of scenes.
    size : int
        Scenes are ``size x size`` pixels (at least 32).
    items : (int, int)
        Each scene holds between ``items[0]`` and ``items[1]`` items (inclusive).
    scale : (float, float)
        An item's side is drawn uniformly from ``scale * size`` (then its
        aspect ratio is jittered by up to 25 %).
    texture : (float, float)
        Strength of the background's stripes and grain, drawn uniformly per
        scene from this range (1: full, 0: none, only the smooth colour
        field). The default ``(1, 1)`` draws nothing and gives the scenes of
        ``fcn8s-scenes``; :data:`SCENES_224` uses ``(0, 1)``.
    seed : int
        Scene ``i`` of a split is drawn from ``numpy.random.default_rng([seed, split, i])``.
    root : path, optional
        Folder holding the Fashion-MNIST ``.gz`` files (see :func:`fashion_mnist`).
    progress : bool
        Show a progress bar.

    Returns
    -------
    SegmentationScenes
        ``images`` uint8 ``N x 3 x size x size``, ``labels`` uint8 ``N x size x size``
        and the 11 ``class_names``.

    Notes
    -----
    How a scene is made: a background of a random base colour plus a smooth
    random colour field (4 x 4 noise, bicubic), sinusoidal stripes of random
    orientation and period, and Gaussian grain. Then each item, a random
    Fashion-MNIST image of the split, is resized (bilinear), randomly mirrored,
    tinted a random colour (its own intensities kept as shading) and
    alpha-composited with ``alpha = clip(2 * intensity, 0, 1)``; its pixels with
    ``alpha >= 0.5`` get its label. Later items occlude earlier ones.

    Examples
    --------
    >>> scenes = fashion_mnist_scenes("test", n=2, size=64, progress=False)  # doctest: +SKIP
    >>> scenes.images.shape, scenes.labels.shape  # doctest: +SKIP
    ((2, 3, 64, 64), (2, 64, 64))
    """
    from genmetrics_nb.datasets.fashionmnist import fashion_mnist

    if split not in _SPLIT_CODE:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    n = check_int(n, name="n", minimum=1)
    size = check_int(size, name="size", minimum=32)
    seed = check_int(seed, name="seed", minimum=0)
    lo, hi = _check_pair(items, "items", (int, np.integer), "integers", 1, 64)
    s_lo, s_hi = _check_pair(scale, "scale", (int, float, np.integer, np.floating), "numbers", 0.0, 1.0)
    t_lo, t_hi = _check_pair(texture, "texture", (int, float, np.integer, np.floating), "numbers", 0.0, 1.0)
    if s_lo * size < 8:
        raise ValueError(f"scale[0] * size must be at least 8 pixels, got {s_lo * size:g}; raise scale or size")

    data = fashion_mnist(split, root=root)
    n_items = data.images.shape[0]
    images = np.empty((n, 3, size, size), dtype=np.uint8)
    labels = np.zeros((n, size, size), dtype=np.uint8)
    from tqdm.auto import tqdm

    for i in tqdm(range(n), desc=f"scenes ({split})", disable=not progress, leave=False):
        rng = np.random.default_rng([int(seed), _SPLIT_CODE[split], i])
        canvas = _background(rng, size, (float(t_lo), float(t_hi)))
        for _ in range(int(rng.integers(lo, hi + 1))):
            k = int(rng.integers(0, n_items))
            _paste(canvas, labels[i], data.images[k, 0], int(data.labels[k]) + 1, rng, size, (s_lo, s_hi))
        images[i] = np.clip(np.rint(canvas), 0, 255).astype(np.uint8).transpose(2, 0, 1)
    return SegmentationScenes(images, labels, list(SCENE_CLASSES))
