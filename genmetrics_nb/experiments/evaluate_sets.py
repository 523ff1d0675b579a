"""The evaluate notebook's data: a seeded sample of each set, its features, labels and previews.

:func:`sample_source` draws ``num_images`` images from any image source
(a seeded random subset, so that a class-sorted folder is not read as its
first class only); :func:`load_sets` extracts every output the evaluation
needs from the real set (split into a reference part and a held-out part)
and from each generated set, once.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from genmetrics_nb import sources
from genmetrics_nb.features.inputs import default_output
from genmetrics_nb.util.checks import check_int

__all__ = ["SampledSource", "EvaluationSet", "Evaluation", "sample_source", "load_sets"]


@dataclasses.dataclass(frozen=True)
class SampledSource:
    """A sample of an image source, ready for feature extraction.

    Attributes
    ----------
    source
        What goes to :func:`genmetrics_nb.extract_features`: a uint8
        ``N x C x H x W`` array, a list of image files, or a generator source.
    labels : numpy.ndarray or None
        Class labels of the sampled images, when the source has them.
    class_names : list of str or None
    description : str
        What was sampled, for the protocol block.
    fingerprint : str or None
        The source's fingerprint (files' paths/sizes/mtimes, array bytes, or
        generator weights + seed), where one is known.
    """

    source: object
    labels: np.ndarray | None
    class_names: list | None
    description: str
    fingerprint: str | None

    def __len__(self) -> int:
        return len(self.source)

    def images(self, rows) -> np.ndarray:
        """The sampled images at ``rows`` (feature order) as uint8 ``N x 3 x H x W``."""
        from genmetrics_nb.sources import load_images

        rows = [int(r) for r in np.atleast_1d(rows)]
        src = self.source
        if not rows:
            x = np.zeros((0, 3, 1, 1), np.uint8)
        elif hasattr(src, "read_batch"):
            x = np.concatenate([src.read_batch(r, r + 1) for r in rows])
        elif isinstance(src, list):
            files = [src[r] for r in rows]
            x = load_images(files, channels=3, size=_common_size(files))
        else:
            x = src[rows]
        x = np.asarray(x)
        return np.repeat(x, 3, axis=1) if x.shape[1] == 1 else x

    def preview(self, n: int = 32) -> np.ndarray:
        """The first ``n`` sampled images as uint8 ``N x 3 x H x W``."""
        return self.images(range(min(int(n), len(self))))


def _common_size(files):
    """The first file's size when files differ in size (previews only), else None."""
    from PIL import Image

    sizes = set()
    for f in files:
        with Image.open(f) as im:
            sizes.add(im.size[::-1])
    return next(iter(sizes)) if len(sizes) > 1 else None


def _take(n_total: int, num_images, seed: int, *, name: str, minimum: int) -> np.ndarray:
    """Sorted indices of a seeded sample of ``num_images`` out of ``n_total``."""
    if num_images is None or num_images >= n_total:
        if n_total < minimum:
            raise ValueError(f"{name} holds {n_total} images; the evaluation needs at least {minimum}")
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, num_images, replace=False))


def sample_source(source, *, num_images: int | None, seed: int = 0, name: str = "source",
                  minimum: int = 2, device="auto") -> SampledSource:
    """A seeded sample of ``num_images`` images of ``source``.

    Parameters
    ----------
    source
        A folder (class subfolders give labels), a list of files, an archive,
        an ``.npy``/``.npz`` of images (``arr_1`` gives labels), a dataset
        name, ``LabeledImages``, a uint8 array, a generator source
        (:func:`genmetrics_nb.sources.generated`), or a generator spec
        (a shipped checkpoint name, a ``.pkl``, ``"module:callable"``), of
        which ``num_images`` are drawn with ``seed``.
    num_images : int or None
        How many images (None: all; required for generators).
    seed : int
    name : str
        The argument's name, for messages.
    minimum : int
        Fewer images raise a ValueError.
    device : str
        Where a generator runs.

    Returns
    -------
    SampledSource
    """
    from genmetrics_nb.datasets.common import LabeledImages
    from genmetrics_nb.generators.source import GeneratorSource

    if num_images is not None:
        num_images = check_int(num_images, name="num_images", minimum=minimum)
    if isinstance(source, (str, os.PathLike)) and sources.is_generator_spec(os.fspath(source)):
        if num_images is None:
            raise ValueError(f"{name}={source!r} is a generator: pass num_images= to say how many images to draw")
        source = sources.generated(os.fspath(source), num_images=num_images, seed=seed, device=device)
    if isinstance(source, GeneratorSource):
        return SampledSource(source, None, None, source.description,
                             source.fingerprint)
    if isinstance(source, str) and sources.is_dataset_spec(source):
        from genmetrics_nb.datasets.registry import load_dataset

        ds = load_dataset(source)
        idx = _take(len(ds.images), num_images, seed, name=name, minimum=minimum)
        return SampledSource(ds.images[idx], ds.labels[idx], list(ds.class_names),
                             f"{source}: {len(idx)} of {len(ds.images)} images (seed {seed})", None)
    if isinstance(source, LabeledImages):
        idx = _take(len(source.images), num_images, seed, name=name, minimum=minimum)
        return SampledSource(source.images[idx], source.labels[idx], list(source.class_names),
                             f"labelled images: {len(idx)} of {len(source.images)} (seed {seed})", None)
    resolved = sources.resolve(source, name=name)
    if not isinstance(resolved, sources.ImageSource):
        what = "statistics" if isinstance(resolved, sources.StatsInput) else "features"
        raise (ValueError if getattr(resolved, "origin", "") == "file" else TypeError)(
            f"{name} is {what}, but the evaluation shows images (samples, galleries, nearest "
            "neighbours): pass the images themselves (a folder, files, an archive, an array)"
        )
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        return _sample_folder(os.fspath(source), num_images, seed, name=name, minimum=minimum)
    if isinstance(source, (list, tuple)):
        files = [os.fspath(f) for f in source]
        idx = _take(len(files), num_images, seed, name=name, minimum=minimum)
        return SampledSource([files[i] for i in idx], None, None, f"{len(idx)} of {len(files)} files (seed {seed})",
                             None)
    if isinstance(source, (str, os.PathLike)):
        return _sample_file(os.fspath(source), num_images, seed, name=name, minimum=minimum)
    x = source.detach().cpu().numpy() if hasattr(source, "detach") else np.asarray(source)
    if x.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 N x C x H x W images for the evaluation, got dtype {x.dtype}; "
                        "convert them with gm.load_images(x, value_range=...)")
    idx = _take(len(x), num_images, seed, name=name, minimum=minimum)
    return SampledSource(x[idx], None, None, f"array: {len(idx)} of {len(x)} images (seed {seed})", None)


def _sample_folder(folder: str, num_images, seed, *, name, minimum) -> SampledSource:
    from genmetrics_nb.image_sets import image_folder
    from genmetrics_nb.images import list_image_files

    try:  # class subfolders give labels
        labelled = image_folder(folder)
        files, labels, classes = list(labelled.files), np.asarray(labelled.labels), list(labelled.class_names)
    except ValueError:
        files, labels, classes = list_image_files(folder), None, None
    idx = _take(len(files), num_images, seed, name=name, minimum=minimum)
    what = f"folder {folder}: {len(idx)} of {len(files)} images (seed {seed})"
    if classes is not None:
        what += f", {len(classes)} class folders"
    return SampledSource([files[i] for i in idx], None if labels is None else labels[idx], classes, what, None)


def _sample_file(path: str, num_images, seed, *, name, minimum) -> SampledSource:
    from genmetrics_nb.image_sets import ArchiveImages, ArrayFileImages, is_archive

    if is_archive(path):
        arch = ArchiveImages(path, name=name)
        idx = _take(len(arch), num_images, seed, name=name, minimum=minimum)
        x = np.stack([arch[int(i)] for i in idx])
        arch.close()
        return SampledSource(x, None, None, f"archive {path}: {len(idx)} of {len(arch)} images (seed {seed})",
                             arch.fingerprint)
    arr = ArrayFileImages(path, name=name)
    idx = _take(len(arr), num_images, seed, name=name, minimum=minimum)
    x = np.concatenate([arr.read_batch(int(i), int(i) + 1) for i in idx])
    labels = getattr(arr, "labels", None)
    arr.close()
    return SampledSource(x, None if labels is None else np.asarray(labels)[idx], None,
                         f"array file {path}: {len(idx)} of {len(arr)} images (seed {seed})", arr.fingerprint)


@dataclasses.dataclass(frozen=True)
class EvaluationSet:
    """Features, labels and previews of one set of images.

    Attributes
    ----------
    name : str
    fd : numpy.ndarray
        ``N x D`` features of ``extractor`` (Frechet distance, KID, nearest neighbours).
    pr : numpy.ndarray
        ``N x D'`` features of ``pr_extractor`` (precision/recall, density/coverage, realism).
    logits : numpy.ndarray or None
        Logits of ``extractor`` for the Inception Score, when it has them.
    labels : numpy.ndarray or None
    sample : SampledSource
        Where the images come from; :meth:`images` reads them by row.
    rows : numpy.ndarray
        Row ``i`` of the features is image ``rows[i]`` of ``sample``.
    description : str
    fingerprint : str or None
    """

    name: str
    fd: np.ndarray
    pr: np.ndarray
    logits: np.ndarray | None
    labels: np.ndarray | None
    sample: SampledSource = dataclasses.field(repr=False)
    rows: np.ndarray = dataclasses.field(repr=False)
    description: str = ""
    fingerprint: str | None = None

    @property
    def n(self) -> int:
        return int(self.fd.shape[0])

    def images(self, index) -> np.ndarray:
        """Images of feature rows ``index`` (uint8 ``N x 3 x H x W``)."""
        return self.sample.images(self.rows[np.atleast_1d(np.asarray(index, dtype=np.int64))])

    def preview(self, n: int = 32) -> np.ndarray:
        """The set's first ``n`` images."""
        return self.images(np.arange(min(int(n), self.n)))


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """The sets of an evaluation, extracted once.

    Attributes
    ----------
    real : EvaluationSet
        The reference part of the real set: every generated set is compared with it.
    heldout : EvaluationSet
        Real images kept out of ``real``: what new, non-copied samples look like
        to the nearest-neighbour and same-distribution checks.
    generated : tuple of EvaluationSet
    class_names : list of str or None
    protocol : dict
        Extractors with weights sha256 and preprocessing, outputs, n, seeds,
        package versions and source fingerprints: what reproduces the numbers.
    """

    real: EvaluationSet
    heldout: EvaluationSet
    generated: tuple
    class_names: list | None
    protocol: dict

    @property
    def names(self) -> list[str]:
        return [g.name for g in self.generated]

    def get(self, name: str) -> EvaluationSet:
        for g in self.generated:
            if g.name == name:
                return g
        raise KeyError(f"no generated set {name!r}; the sets are {self.names}")

    def to_dict(self) -> dict:
        return {"sets": {s.name: {"n": s.n, "source": s.description} for s in (self.real, self.heldout,
                                                                               *self.generated)},
                "protocol": self.protocol}

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{html.escape(s.name)}</td><td>{s.n}</td><td>{html.escape(s.description)}</td></tr>"
            for s in (self.real, self.heldout, *self.generated)
        )
        return f"<table><tr><th>set</th><th>n</th><th>source</th></tr>{rows}</table>"


def _set_names(generated, names) -> list[str]:
    if names is None:
        out = []
        for i, g in enumerate(generated):
            s = os.fspath(g) if isinstance(g, (str, os.PathLike)) else f"generated {i + 1}"
            out.append(os.path.basename(s.rstrip("/")) or s)
        names = out
    names = [str(n) for n in names]
    if len(names) != len(generated):
        raise ValueError(f"names has {len(names)} entries for {len(generated)} generated sets; give one name each")
    if len(set(names)) != len(names):
        raise ValueError(f"names must be distinct, got {names}")
    return names


def load_sets(real, generated, *, names=None, extractor: str = "inception-v3-fid", pr_extractor: str | None = None,
              num_images: int | None = 1000, heldout: float = 0.2, seed: int = 0, batch_size: int = 64,
              device="auto", progress: bool = True) -> Evaluation:
    """Sample every set, extract its features once, and record the protocol.

    Parameters
    ----------
    real : source
        The reference images (see :func:`sample_source`). ``num_images`` of
        them are compared with the generated sets; ``heldout`` times as many
        more are kept apart as new real samples for the nearest-neighbour
        check.
    generated : list of sources
        One or more generated sets (or a single source).
    names : list of str, optional
        Display names (default: the folder or file names).
    extractor : str
        Features of the Frechet distance, KID, IS and nearest neighbours
        (the published FID network ``inception-v3-fid`` by default; offline:
        ``efficientnet-lite0``).
    pr_extractor : str, optional
        Features of precision/recall, density/coverage and the realism score
        (published: ``vgg16-fc2``; default: ``extractor``).
    num_images : int or None
        Images per generated set and in the real reference part.
    heldout : float
        Held-out real images, as a fraction of ``num_images``.
    seed : int
        Seeds the samples and the generators.
    batch_size, device, progress
        As in :func:`genmetrics_nb.extract_features`.

    Returns
    -------
    Evaluation
    """
    import platform

    import torch

    from genmetrics_nb import __version__
    from genmetrics_nb.extractors.registry import get_extractor
    from genmetrics_nb.features.engine import extract_features

    if not isinstance(generated, (list, tuple)):
        generated = [generated]
    if not generated:
        raise ValueError("generated must name at least one set of generated images")
    names = _set_names(generated, names)
    if isinstance(heldout, bool) or not isinstance(heldout, (int, float)) or not 0 < heldout < 1:
        raise ValueError(f"heldout must be a fraction between 0 and 1 (e.g. 0.2), got {heldout!r}")
    n_held = None if num_images is None else max(2, int(round(num_images * heldout)))
    n_real = None if num_images is None else num_images + n_held
    real_s = sample_source(real, num_images=n_real, seed=seed, name="real", minimum=8, device=device)
    gens_s = [sample_source(g, num_images=num_images, seed=seed, name=f"generated[{i}]", device=device)
              for i, g in enumerate(generated)]
    ext = get_extractor(extractor, device=device)
    pr_ext = get_extractor(pr_extractor, device=device) if pr_extractor and pr_extractor != extractor else ext
    fd_out = default_output(ext.name, ext.outputs)
    pr_out = default_output(pr_ext.name, pr_ext.outputs)
    lg_out = next((o for o in ("logits_unbiased", "logits") if o in ext.outputs), None)

    def features(s: SampledSource):
        src = s.source
        outs = [o for o in (fd_out, lg_out) if o]
        f = extract_features(src, ext, outputs=outs, batch_size=batch_size, device=device, cache=True,
                             progress=progress)
        fp = pr_ext is not ext and extract_features(src, pr_ext, outputs=[pr_out], batch_size=batch_size,
                                                    device=device, cache=True, progress=progress)
        pr = fp[pr_out] if fp is not False else f[pr_out]
        return (np.asarray(f[fd_out]), np.asarray(pr), None if lg_out is None else np.asarray(f[lg_out]), f.meta)

    fd, pr, lg, meta = features(real_s)
    n_all = fd.shape[0]
    # held-out share of what was actually drawn (a real set smaller than asked gives all it has)
    n_h = n_held if n_real is not None and n_all >= n_real else max(2, int(round(n_all * heldout / (1 + heldout))))
    perm = np.random.default_rng([seed, 1]).permutation(n_all)
    ref_rows, held_rows = np.sort(perm[n_h:]), np.sort(perm[:n_h])
    labels = real_s.labels

    def part(rows, name):
        return EvaluationSet(name, fd[rows], pr[rows], None if lg is None else lg[rows],
                             None if labels is None else labels[rows], real_s, rows, real_s.description,
                             real_s.fingerprint)

    real_set, held_set = part(ref_rows, "real"), part(held_rows, "real (held out)")
    gen_sets = []
    for s, name in zip(gens_s, names):
        g_fd, g_pr, g_lg, g_meta = features(s)
        gen_sets.append(EvaluationSet(name, g_fd, g_pr, g_lg, s.labels, s, np.arange(g_fd.shape[0]), s.description,
                                      s.fingerprint or g_meta.get("source", {}).get("fingerprint")))
    protocol = {
        "extractor": {"name": ext.name, "weights_sha256": ext.weights_digest, "preprocessing": ext.spec,
                      "output": fd_out, "logits": lg_out},
        "pr_extractor": {"name": pr_ext.name, "weights_sha256": pr_ext.weights_digest,
                         "preprocessing": pr_ext.spec, "output": pr_out},
        "n": {"real": real_set.n, "real (held out)": held_set.n, **{g.name: g.n for g in gen_sets}},
        "seed": seed,
        "sources": {s.name: {"source": s.description, "fingerprint": s.fingerprint or meta.get("source", {}).get("fingerprint")}
                    for s in (real_set, *gen_sets)},
        "versions": {"genmetrics-nb": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "precision": meta.get("precision"),
    }
    return Evaluation(real_set, held_set, tuple(gen_sets), real_s.class_names, protocol)
