"""Experiments of the distribution-metric notebooks (FID, KID, IS, precision/recall).

The notebooks call one function per step; the loops live here. Features are
extracted once per class, in chunks of a seeded per-class permutation, and
the chunks go through the feature cache: asking for more images of a class
later (or from another notebook) extracts only the chunks not seen before.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

__all__ = [
    "ClassFeatures",
    "FIDMatrix",
    "ISExperiment",
    "PRScenarios",
    "RangePitfall",
    "SameVsDifferent",
    "SampleSizeSweep",
    "class_features",
    "class_pair_fid",
    "gaussian_blur",
    "inception_score_experiment",
    "pr_scenarios",
    "range_pitfall",
    "same_vs_different",
    "sample_size_sweep",
]


def _load_data(data):
    from genmetrics_nb.datasets.common import LabeledImages, load_dataset

    if isinstance(data, str):
        return load_dataset(data), data
    if isinstance(data, LabeledImages):
        return data, None
    raise TypeError(
        f"data must be a dataset name such as 'fashion-mnist:test' or LabeledImages, got {type(data).__name__}"
    )


def _check_classes(classes, n_classes: int, *, name="classes") -> list[int]:
    if classes is None:
        return list(range(n_classes))
    out = []
    for c in classes:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c < n_classes:
            raise ValueError(f"{name} must hold class indices in 0..{n_classes - 1}, got {c!r}")
        out.append(int(c))
    if len(set(out)) != len(out):
        raise ValueError(f"{name} lists a class twice: {out}")
    return out


def _frame(rows):
    import pandas as pd

    return pd.DataFrame(rows)


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
        from genmetrics_nb.metrics._sources import default_output

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
        classes = self.classes if classes is None else _check_classes(classes, len(self.class_names))
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
    chunk: int = 100,
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
    chunk : int
        Images per cached extraction; keep it fixed so that later calls reuse
        the cached chunks.
    batch_size, device, cache, progress
        Passed to :func:`genmetrics_nb.extract_features`.
    transform : callable, optional
        Applied to every uint8 ``N x 3 x H x W`` chunk before extraction
        (e.g. :func:`gaussian_blur`); part of the cache key through the pixels.

    Notes
    -----
    Grayscale images are expanded to 3 channels explicitly
    (``load_images(..., channels=3)``) before they reach the extractor.
    """
    from tqdm.auto import tqdm

    from genmetrics_nb.extractors.registry import get_extractor
    from genmetrics_nb.features import extract_features
    from genmetrics_nb.images import load_images

    ds, spec = _load_data(data)
    classes = _check_classes(classes, len(ds.class_names))
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive int, got {n_per_class!r}")
    want = {c: int(n_per_class) for c in classes}
    for c, n in (more or {}).items():
        _check_classes([c], len(ds.class_names), name="more")
        want[int(c)] = max(want.get(int(c), 0), int(n))
    orders = {}
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 0:
        raise ValueError(f"offset must be a non-negative int, got {offset!r}")
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
            parts = []
            for s in range(0, n, chunk):
                idx = orders[c][s:min(s + chunk, n)]
                imgs = load_images(ds.images[idx], channels=3)
                if transform is not None:
                    imgs = np.ascontiguousarray(transform(np.asarray(imgs)))
                parts.append(extract_features(np.asarray(imgs), ext, batch_size=batch_size, device=device,
                                              cache=cache, progress=False))
                bar.update(len(idx))
            feats[c] = {o: np.concatenate([p[o] for p in parts]) for o in parts[0]}
            indices[c] = orders[c][:n]
    meta = {"weights_digest": ext.weights_digest, "spec": ext.spec, "dataset": spec, "seed": seed,
            "offset": int(offset),
            "transform": getattr(transform, "__name__", None) if transform is not None else None}
    return ClassFeatures(feats, indices, list(ds.class_names), ext.name, meta, data=ds)


# ----------------------------------------------------------------------------
# FID: class pairs
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FIDMatrix:
    """FID between a draw of class i (rows) and an independent draw of class j (columns).

    Attributes
    ----------
    values, low, high : numpy.ndarray
        ``C x C`` FIDs and their bootstrap interval (NaN without bootstrap).
    class_names : list of str
    n : int
        Images per draw.
    n_boot : int
    extractor : str
    """

    values: np.ndarray
    low: np.ndarray
    high: np.ndarray
    class_names: list
    n: int
    n_boot: int
    extractor: str

    @property
    def same_class_mean(self) -> float:
        return float(np.mean(np.diag(self.values)))

    @property
    def different_class_mean(self) -> float:
        off = ~np.eye(len(self.values), dtype=bool)
        return float(self.values[off].mean())

    @property
    def table(self):
        """Long table: one row per cell."""
        rows = []
        for i, a in enumerate(self.class_names):
            for j, b in enumerate(self.class_names):
                rows.append({"class_a": a, "class_b": b, "fid": self.values[i, j],
                             "low": self.low[i, j], "high": self.high[i, j]})
        return _frame(rows)

    def to_dict(self) -> dict:
        return {"n": self.n, "n_boot": self.n_boot, "extractor": self.extractor,
                "class_names": list(self.class_names), "values": self.values.tolist(),
                "low": self.low.tolist(), "high": self.high.tolist(),
                "same_class_mean": self.same_class_mean, "different_class_mean": self.different_class_mean}


def _fid_with_interval(a, b, *, n_boot, ci, seed, device):
    """FID of two float arrays, with a basic bootstrap interval when n_boot >= 2."""
    import torch

    from genmetrics_nb.metrics.bootstrap import bootstrap
    from genmetrics_nb.metrics.frechet import frechet_from_samples

    if n_boot >= 2:
        b_ = bootstrap("fid", a, b, n_boot=n_boot, ci=ci, seed=seed, device=device, progress=False)
        return b_.estimate, b_.low, b_.high
    from genmetrics_nb.device import resolve

    dev = resolve(device)
    v = frechet_from_samples(torch.as_tensor(a, dtype=torch.float64, device=dev),
                             torch.as_tensor(b, dtype=torch.float64, device=dev))
    return v, math.nan, math.nan


def class_pair_fid(
    feats: ClassFeatures,
    *,
    n: int = 100,
    n_boot: int = 30,
    ci: float = 0.95,
    classes=None,
    output: str | None = None,
    seed: int = 0,
    device="auto",
    progress: bool = True,
) -> FIDMatrix:
    """The C x C class-pair FID matrix, with bootstrap intervals.

    Cell ``(i, j)`` is the FID between rows ``0:n`` of class ``i`` and rows
    ``n:2n`` of class ``j``: two independent draws, so the diagonal is the
    FID between two draws of the same class (not zero: the small-sample bias
    plus sampling noise) and the off-diagonal cells compare classes.
    Intervals are basic bootstrap intervals (:func:`genmetrics_nb.bootstrap`).
    """
    from tqdm.auto import tqdm

    classes = feats.classes if classes is None else _check_classes(classes, len(feats.class_names))
    k = len(classes)
    vals, lo, hi = (np.full((k, k), np.nan) for _ in range(3))
    with warnings.catch_warnings(record=True) as caught:  # one n <= D warning, not C^2 of them
        warnings.simplefilter("always")
        with tqdm(total=k * k, desc="class-pair FID", unit="pair", disable=not progress) as bar:
            for i, ci_ in enumerate(classes):
                a = feats.rows(ci_, 0, n, output=output)
                for j, cj in enumerate(classes):
                    b = feats.rows(cj, n, 2 * n, output=output)
                    vals[i, j], lo[i, j], hi[i, j] = _fid_with_interval(
                        a, b, n_boot=n_boot, ci=ci, seed=seed + 1000 * i + j, device=device)
                    bar.update(1)
    _reemit_once(caught)
    names = [feats.class_names[c] for c in classes]
    return FIDMatrix(vals, lo, hi, names, int(n), int(n_boot), feats.extractor)


def _reemit_once(caught) -> None:
    seen = set()
    for w in caught:
        key = (str(w.message), w.category)
        if key not in seen:
            seen.add(key)
            warnings.warn(w.message, w.category, stacklevel=3)


@dataclasses.dataclass(frozen=True)
class SameVsDifferent:
    """FID of two draws of one class against FID of two classes, at several n."""

    rows: tuple
    classes: tuple

    @property
    def table(self):
        return _frame(list(self.rows))

    def value(self, extractor: str, n: int, comparison: str) -> float:
        for r in self.rows:
            if (r["extractor"], r["n"], r["comparison"]) == (extractor, n, comparison):
                return r["fid"]
        raise KeyError((extractor, n, comparison))

    def to_dict(self) -> dict:
        return {"classes": list(self.classes), "rows": list(self.rows)}


def same_vs_different(
    feats: ClassFeatures,
    *,
    pair=(0, 1),
    sizes=(100, 500),
    n_boot: int = 30,
    ci: float = 0.95,
    compare_extractors=(),
    seed: int = 0,
    batch_size: int = 64,
    device="auto",
    progress: bool = True,
) -> SameVsDifferent:
    """FID(class a draw 1, class a draw 2) against FID(class a, class b) at each size.

    ``feats`` must hold ``2 * max(sizes)`` images of class ``a`` and
    ``max(sizes)`` of class ``b``. Each extractor in ``compare_extractors``
    is run on the same images (same permutation, seed and chunks).
    """
    if len(pair) != 2 or pair[0] == pair[1]:
        raise ValueError(f"pair must name two different classes, got {pair!r}")
    a, b = _check_classes(pair, len(feats.class_names), name="pair")
    sizes = [int(s) for s in sizes]
    sets = [feats]
    for name in compare_extractors:
        sets.append(class_features(feats.data, extractor=name, n_per_class=max(sizes), more={a: 2 * max(sizes)},
                                   classes=[a, b], seed=feats.meta["seed"], batch_size=batch_size,
                                   device=device, progress=progress))
    rows = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fs in sets:
            for n in sizes:
                for comparison, x, y in (
                    ("same class", fs.rows(a, 0, n), fs.rows(a, n, 2 * n)),
                    ("different classes", fs.rows(a, 0, n), fs.rows(b, 0, n)),
                ):
                    v, lo, hi = _fid_with_interval(x, y, n_boot=n_boot, ci=ci, seed=seed + n, device=device)
                    rows.append({"extractor": fs.extractor, "n": n, "comparison": comparison,
                                 "fid": v, "low": lo, "high": hi})
    _reemit_once(caught)
    return SameVsDifferent(tuple(rows), (feats.class_names[a], feats.class_names[b]))


@dataclasses.dataclass(frozen=True)
class RangePitfall:
    """FID between two classes computed right, and with [0, 1] floats fed as [0, 255]."""

    fid_correct: float
    fid_misscaled: float
    n: int
    error: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return (f"FID with correctly scaled images: {self.fid_correct:.2f}\n"
                f"FID with [0, 1] floats read as [0, 255]: {self.fid_misscaled:.2f}\n"
                f"what gm.fid says when asked to do that:\n  ValueError: {self.error}")


def range_pitfall(feats: ClassFeatures, *, pair=(0, 1), n: int = 100, batch_size: int = 64,
                  device="auto", progress: bool = True) -> RangePitfall:
    """The document's pitfall: images in [0, 1] given to a pipeline that expects [0, 255].

    Such a pipeline turns every pixel into 0 or 1 (almost black images), and
    FID between two very different classes collapses to a small, plausible
    number. ``gm.fid`` refuses float images declared as ``(0, 255)`` whose
    values all lie in [0, 1]; the message it raises is returned here.
    """
    from genmetrics_nb.images import load_images
    from genmetrics_nb.metrics.fid import fid

    a, b = _check_classes(pair, len(feats.class_names), name="pair")
    ds = feats.data
    imgs = [load_images(ds.images[feats.indices[c][:n]], channels=3) for c in (a, b)]
    floats = [np.asarray(x, dtype=np.float32) / 255.0 for x in imgs]
    # what a [0, 255] pipeline does with [0, 1] data: round every pixel to 0 or 1
    wrong = [np.rint(f).astype(np.uint8) for f in floats]
    with warnings.catch_warnings(record=True) as caught:  # report n <= D once
        warnings.simplefilter("always")
        correct = fid(feats.rows(a, 0, n), feats.rows(b, 0, n)).value
        try:
            fid(floats[0], floats[1], extractor=feats.extractor, value_range=(0, 255), device=device,
                progress=False)
            error = "(no error: the check did not fire)"
        except ValueError as exc:
            error = str(exc)
        misscaled = fid(wrong[0], wrong[1], extractor=feats.extractor, batch_size=batch_size,
                        device=device, progress=progress).value
    _reemit_once(caught)
    return RangePitfall(float(correct), float(misscaled), int(n), error)


# ----------------------------------------------------------------------------
# KID against FID as n shrinks
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SampleSizeSweep:
    """FID and KID of random subsets of size n, repeated, plus FID-infinity."""

    label: str
    rows: tuple
    fid_infinity: object  # FIDInfinityResult
    n_real: int
    n_fake: int

    @property
    def table(self):
        return _frame(list(self.rows))

    @property
    def summary(self):
        t = self.table
        return t.groupby("n").agg(fid_mean=("fid", "mean"), fid_std=("fid", "std"),
                                  kid_mean=("kid", "mean"), kid_std=("kid", "std")).reset_index()

    def to_dict(self) -> dict:
        s = self.summary
        return {"label": self.label, "sizes": s["n"].tolist(), "fid_mean": s["fid_mean"].tolist(),
                "kid_mean": s["kid_mean"].tolist(), "kid_std": s["kid_std"].tolist(),
                "fid_infinity": self.fid_infinity.value}


def sample_size_sweep(real, fake, *, sizes, repeats: int = 3, label: str = "", seed: int = 0,
                      device="auto", progress: bool = True) -> SampleSizeSweep:
    """FID and KID between random subsets of ``n`` real and ``n`` fake samples.

    For each size and repeat, ``n`` rows are drawn without replacement from
    each side; FID is computed from them, and KID as the unbiased MMD^2 of
    that one pair of subsets (``subsets=1, subset_size=n``). FID-infinity
    is fitted on the real set against fake subsets of the same sizes.
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve
    from genmetrics_nb.metrics.fid import fid_infinity
    from genmetrics_nb.metrics.frechet import frechet_from_samples
    from genmetrics_nb.metrics.kid import mmd2_unbiased

    dev = resolve(device)
    x = torch.as_tensor(np.asarray(real), dtype=torch.float64, device=dev)
    y = torch.as_tensor(np.asarray(fake), dtype=torch.float64, device=dev)
    sizes = sorted(int(s) for s in sizes)
    if sizes[-1] > min(len(x), len(y)):
        raise ValueError(f"sizes go up to {sizes[-1]} but the sets hold {len(x)} real and {len(y)} fake samples")
    rng = np.random.default_rng(seed)
    rows = []
    with tqdm(total=len(sizes) * repeats, desc=f"sample sizes {label}".strip(), unit="fit",
              disable=not progress) as bar:
        for n in sizes:
            for r in range(repeats):
                ix = torch.as_tensor(rng.choice(len(x), n, replace=False), device=dev)
                iy = torch.as_tensor(rng.choice(len(y), n, replace=False), device=dev)
                xs, ys = x[ix], y[iy]
                rows.append({"n": n, "repeat": r, "fid": frechet_from_samples(xs, ys),
                             "kid": mmd2_unbiased(xs, ys)})
                bar.update(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inf = fid_infinity(np.asarray(real), np.asarray(fake), sizes=sizes, seed=seed, device=dev,
                           progress=False)
    _reemit_once(caught)
    return SampleSizeSweep(label, tuple(rows), inf, int(len(x)), int(len(y)))


# ----------------------------------------------------------------------------
# Inception Score
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ISExperiment:
    """Inception Score per class, against the number of classes mixed, and against splits."""

    per_class: tuple  # rows {class, is}
    mixtures: tuple  # rows {classes, repeat, is}
    splits: tuple  # rows {splits, is_mean, is_std}
    n: int

    @property
    def per_class_table(self):
        return _frame(list(self.per_class))

    @property
    def mixture_table(self):
        return _frame(list(self.mixtures))

    @property
    def mixture_summary(self):
        return self.mixture_table.groupby("classes").agg(is_mean=("is", "mean"), is_std=("is", "std")).reset_index()

    @property
    def splits_table(self):
        return _frame(list(self.splits))

    def to_dict(self) -> dict:
        m = self.mixture_summary
        return {"n": self.n, "per_class": {r["class"]: r["is"] for r in self.per_class},
                "mixture_classes": m["classes"].tolist(), "mixture_is": m["is_mean"].tolist(),
                "splits": {int(r["splits"]): r["is_mean"] for r in self.splits}}


def inception_score_experiment(
    feats: ClassFeatures,
    *,
    n: int = 200,
    split_counts=(1, 2, 5, 10, 20),
    repeats: int = 5,
    output: str = "logits",
    seed: int = 0,
    device="auto",
) -> ISExperiment:
    """IS of each class alone, of mixtures of 1..C classes, and of all classes at several splits.

    A mixture of ``m`` classes holds ``n`` samples, ``n // m`` (plus the
    remainder spread over the first classes) from each of ``m`` classes
    chosen at random (``repeats`` times). Every set has the same size, so
    only the number of classes changes. One split is used for these; the
    last part scores the ``n``-per-class union of all classes with
    ``split_counts`` splits.
    """
    from genmetrics_nb.metrics.inception_score import inception_score

    classes = feats.classes
    per_class = tuple({"class": feats.class_names[c],
                       "is": inception_score(feats.rows(c, 0, n, output=output), splits=1, device=device).mean}
                      for c in classes)
    rng = np.random.default_rng(seed)
    mixtures = []
    for m in range(1, len(classes) + 1):
        for r in range(repeats if m < len(classes) else 1):
            chosen = rng.choice(classes, m, replace=False)
            counts = [n // m + (1 if i < n % m else 0) for i in range(m)]
            x = np.concatenate([feats.rows(int(c), 0, k, output=output) for c, k in zip(chosen, counts)])
            mixtures.append({"classes": m, "repeat": r,
                             "is": inception_score(x, splits=1, device=device).mean})
    union = feats.stack(start=0, stop=n, output=output)
    union = union[np.random.default_rng(seed).permutation(len(union))]  # mix the classes over splits
    splits = tuple({"splits": int(s), "is_mean": r.mean, "is_std": r.std}
                   for s in split_counts
                   for r in [inception_score(union, splits=int(s), device=device)])
    return ISExperiment(per_class, tuple(mixtures), splits, int(n))


# ----------------------------------------------------------------------------
# precision / recall scenarios
# ----------------------------------------------------------------------------
def gaussian_blur(images, sigma: float) -> np.ndarray:
    """Gaussian blur of uint8 ``N x C x H x W`` images (``cv2.GaussianBlur``, sigma in pixels)."""
    import cv2

    x = np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4:
        raise TypeError(f"images must be uint8 N x C x H x W, got {x.dtype} {x.shape}")
    if not sigma > 0:
        return x.copy()
    out = np.empty_like(x)
    for i in range(len(x)):
        img = np.ascontiguousarray(x[i].transpose(1, 2, 0))
        b = cv2.GaussianBlur(img, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REFLECT)
        out[i] = b.reshape(img.shape).transpose(2, 0, 1)
    return out


@dataclasses.dataclass(frozen=True)
class PRScenarios:
    """Precision, recall, density and coverage of several generated-set stand-ins."""

    rows: tuple
    k_pr: int
    k_dc: int
    examples: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def table(self):
        return _frame(list(self.rows))

    def get(self, scenario: str) -> dict:
        for r in self.rows:
            if r["scenario"] == scenario:
                return r
        raise KeyError(f"no scenario {scenario!r}; have {[r['scenario'] for r in self.rows]}")

    def to_dict(self) -> dict:
        return {r["scenario"]: {k: v for k, v in r.items() if k != "scenario"} for r in self.rows}


def pr_scenarios(
    feats: ClassFeatures,
    *,
    n_per_class: int = 100,
    keep_classes=(0, 1, 2, 3, 4),
    blur_sigmas=(1.0, 2.0),
    k_pr: int = 3,
    k_dc: int = 5,
    batch_size: int = 64,
    device="auto",
    progress: bool = True,
) -> PRScenarios:
    """Kynkaanniemi et al.'s sanity checks on real images.

    The real set is rows ``0:n`` of every class. "Generated" stand-ins:
    ``real vs real`` (rows ``n:2n`` of every class), ``classes dropped``
    (the same total number of images, from ``keep_classes`` only: recall
    and coverage fall) and ``blur sigma=s`` (rows ``n:2n`` blurred with a
    Gaussian of ``s`` pixels: precision and density fall).
    """
    from genmetrics_nb.metrics.knn import density_coverage, precision_recall

    n = int(n_per_class)
    classes = feats.classes
    keep = _check_classes(keep_classes, len(feats.class_names), name="keep_classes")
    real = feats.stack(start=0, stop=n)
    per_kept = math.ceil(n * len(classes) / len(keep))
    sets = {"real vs real": feats.stack(start=n, stop=2 * n),
            "classes dropped": feats.stack(start=n, stop=n + per_kept, classes=keep)[: n * len(classes)]}
    examples = {}
    for s in blur_sigmas:
        blurred = class_features(feats.data, extractor=feats.extractor, n_per_class=n, classes=classes,
                                 seed=feats.meta["seed"], offset=feats.meta["offset"] + n,
                                 batch_size=batch_size, device=device,
                                 transform=lambda x, s=s: gaussian_blur(x, s), progress=progress)
        sets[f"blur sigma={s:g}"] = blurred.stack(start=0, stop=n)
        ds = feats.data
        examples[f"blur sigma={s:g}"] = gaussian_blur(ds.images[[feats.indices[c][n] for c in classes]], s)
    examples["real"] = feats.data.images[[feats.indices[c][n] for c in classes]]
    rows = []
    for name, fake in sets.items():
        pr = precision_recall(real, fake, k=k_pr, device=device, progress=False)
        dc = density_coverage(real, fake, k=k_dc, device=device, progress=False)
        rows.append({"scenario": name, "precision": pr.precision, "recall": pr.recall,
                     "density": dc.density, "coverage": dc.coverage, "n_real": pr.n_real, "n_fake": pr.n_fake})
    return PRScenarios(tuple(rows), int(k_pr), int(k_dc), examples)
