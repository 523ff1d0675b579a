"""Features per class, extracted once and shared by the distribution notebooks (``gm.experiments.class_features``).

The fid, inception_score and precision_recall notebooks draw disjoint sets
of one class or of several from a labelled dataset; this module extracts
each class's images in a seeded order once (the feature engine caches them)
and hands out rows. It serves several stories, so it sits below
``experiments``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from genmetrics_nb.util.checks import check_classes, check_int

__all__ = ["ClassFeatures", "class_features", "load_labeled"]


def load_labeled(data):
    """Labelled images and a description of where they came from.

    ``data`` is anything :func:`genmetrics_nb.sources.resolve` reads as
    labelled images: a registered dataset name (``"fashion-mnist:test"``,
    ``"cifar10:train"``), a folder with one subfolder per class (e.g. CIFAR-10
    written as PNGs; its images must share one size), ``gm.image_folder(...)``,
    or ``LabeledImages``.
    """
    import os

    from genmetrics_nb.datasets.common import LabeledImages
    from genmetrics_nb.sources import ImageSource, resolve

    src = resolve(data, name="dataset")
    if not isinstance(src, ImageSource) or src.labels is None:
        raise ValueError(
            f"dataset={data!r} holds no class labels; pass a dataset name such as 'fashion-mnist:test', a folder "
            "with one subfolder per class, or LabeledImages"
        )
    where = os.path.abspath(data) if isinstance(data, (str, os.PathLike)) and os.path.isdir(data) else (
        data if isinstance(data, str) else None)
    return LabeledImages(src.read_all(), src.labels, list(src.class_names)), where


# ----------------------------------------------------------------------------
# features per class, extracted once
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ClassFeatures:
    """Features of the first images of a seeded permutation of each class.

    Attributes
    ----------
    features : dict
        ``features[c][output]`` is a float32 ``n_c x D`` array whose rows
        follow the permutation of class ``c``: rows ``0:n`` are one draw,
        rows ``n:2n`` a second, disjoint draw, and so on.
    indices : dict
        ``indices[c]``: positions of those rows in the dataset.
    class_names : list of str
    extractor : str
    meta : dict
        Weights digest, preprocessing spec, dataset, seed.
    """

    features: dict
    indices: dict
    class_names: list
    extractor: str
    meta: dict
    data: object = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def classes(self) -> list[int]:
        return sorted(self.features)

    def count(self, c: int) -> int:
        return int(self.indices[c].shape[0])

    def default_output(self) -> str:
        """The output distribution metrics use for this extractor (``pool`` mostly)."""
        from genmetrics_nb.features.inputs import default_output

        return default_output(self.extractor, list(next(iter(self.features.values()))))

    def rows(self, c: int, start: int, stop: int, *, output: str | None = None) -> np.ndarray:
        """Rows ``start:stop`` of class ``c`` (checked to exist)."""
        output = output or self.default_output()
        if c not in self.features:
            raise ValueError(f"class {c} was not extracted; extracted classes: {self.classes}")
        if stop > self.count(c):
            raise ValueError(
                f"class {c} ({self.class_names[c]}) has {self.count(c)} extracted images, rows "
                f"{start}:{stop} were asked; extract more with n_per_class= or more="
            )
        if output not in self.features[c]:
            raise ValueError(f"no output {output!r}; extracted outputs: {list(self.features[c])}")
        return self.features[c][output][start:stop]

    def stack(self, *, start: int, stop: int, classes=None, output: str | None = None) -> np.ndarray:
        """Rows ``start:stop`` of each class in ``classes`` (default: all), stacked."""
        classes = self.classes if classes is None else check_classes(classes, len(self.class_names))
        return np.concatenate([self.rows(c, start, stop, output=output) for c in classes])

    def to_dict(self) -> dict:
        return {"extractor": self.extractor, "counts": {self.class_names[c]: self.count(c) for c in self.classes},
                "meta": self.meta}

    def __repr__(self) -> str:
        counts = ", ".join(f"{c}: {self.count(c)}" for c in self.classes)
        return f"ClassFeatures({self.extractor!r}, images per class {{{counts}}})"


def _class_order(labels, c: int, seed: int) -> np.ndarray:
    idx = np.flatnonzero(labels == c)
    return idx[np.random.default_rng([seed, c]).permutation(idx.size)]


def class_features(
    data,
    *,
    extractor: str = "efficientnet-lite0",
    n_per_class: int = 200,
    more: dict | None = None,
    classes=None,
    seed: int = 0,
    offset: int = 0,
    batch_size: int = 64,
    device="auto",
    cache=True,
    transform=None,
    progress: bool = True,
) -> ClassFeatures:
    """Extract every output of ``extractor`` for the first images of each class.

    Parameters
    ----------
    data : str or LabeledImages
        ``"fashion-mnist:test"`` or the result of ``gm.datasets.fashion_mnist()``.
    extractor : str
    n_per_class : int
        Images per class (the first of a permutation seeded by ``(seed, class)``).
    more : dict, optional
        ``{class: n}`` for classes that need more images than ``n_per_class``.
    classes : list of int, optional
        Which classes (default all).
    seed : int
    offset : int
        Skip the first ``offset`` images of each class's permutation: row 0 of
        the result is image ``offset`` of the permutation.
    batch_size, device, cache, progress
        Passed to :func:`genmetrics_nb.extract_features`, which caches the
        features of each class's images (``cache=True``: the feature cache
        folder; a rerun with the same images reads them back).
    transform : callable, optional
        Applied to every uint8 ``N x 3 x H x W`` class set before extraction
        (e.g. :func:`genmetrics_nb.distortions.gaussian_blur`); part of the cache key through the pixels.

    Notes
    -----
    Grayscale images are expanded to 3 channels explicitly
    (``load_images(..., channels=3)``) before they reach the extractor. Each
    class is one :func:`~genmetrics_nb.extract_features` call on its ``n``
    images, so the engine's cache (keyed by the pixels) is the only cache.
    """
    from tqdm.auto import tqdm

    from genmetrics_nb.extractors.registry import get_extractor
    from genmetrics_nb.features import extract_features
    from genmetrics_nb.sources import load_images

    ds, spec = load_labeled(data)
    classes = check_classes(classes, len(ds.class_names))
    n_per_class = check_int(n_per_class, name="n_per_class", minimum=1)
    want = {c: n_per_class for c in classes}
    for c, n in (more or {}).items():
        check_classes([c], len(ds.class_names), name="more")
        want[int(c)] = max(want.get(int(c), 0), check_int(n, name=f"more[{c!r}]", minimum=1))
    orders = {}
    offset = check_int(offset, name="offset", minimum=0)
    for c, n in want.items():
        orders[c] = _class_order(ds.labels, c, seed)[offset:]
        if n > orders[c].size:
            raise ValueError(
                f"class {c} ({ds.class_names[c]}) has {orders[c].size + offset} images in this split, "
                f"{n + offset} were asked; use a smaller size or a larger split (e.g. train)"
            )
    ext = get_extractor(extractor, device=device)
    total = sum(want.values())
    feats, indices = {}, {}
    with tqdm(total=total, desc=f"{ext.name} features", unit="img", disable=not progress) as bar:
        for c, n in sorted(want.items()):
            idx = orders[c][:n]
            imgs = np.asarray(load_images(ds.images[idx], channels=3))
            if transform is not None:
                imgs = np.ascontiguousarray(transform(imgs))
            out = extract_features(imgs, ext, batch_size=batch_size, device=device, cache=cache, progress=False)
            feats[c] = {o: np.asarray(out[o]) for o in out}
            indices[c] = idx
            bar.update(n)
    meta = {"weights_digest": ext.weights_digest, "spec": ext.spec, "dataset": spec, "seed": seed,
            "offset": int(offset),
            "transform": getattr(transform, "__name__", None) if transform is not None else None}
    return ClassFeatures(feats, indices, list(ds.class_names), ext.name, meta, data=ds)
