"""The evaluate suite's sets: every image of each set (or a stated seeded cap), its features, once.

:func:`read_set` reads any image source whole, or a seeded random
subset of ``num_images`` when a cap is given; :func:`load_sets` extracts
every output the evaluation needs from the reference, the optional held-out
real images and each generated set, once. The summary compares every
generated set with the whole reference, so its numbers are those of
``gm.fid``, ``gm.kid``, ``gm.precision_recall`` and ``gm.density_coverage``
on the same inputs. :func:`reference_split` gives the held-out real images
that the baseline and memorisation sections compare with: the given
``heldout`` set, or else a seeded split of the reference made for those
sections only. :func:`draw_rows` picks the images a sample grid shows.

Sources are read by the project's one resolver, :func:`genmetrics_nb.sources.resolve`;
a capped set is the resolved source's ``subset``.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from genmetrics_nb import sources
from genmetrics_nb.util.checks import check_int

__all__ = ["EvaluationSet", "Evaluation", "ReferenceSplit", "read_set", "load_sets", "reference_split", "draw_rows"]


# ----------------------------------------------------------------------------
# reading a source
# ----------------------------------------------------------------------------
def read_set(source, *, num_images: int | None = None, seed: int = 0, name: str = "source", minimum: int = 2,
             device="auto") -> tuple:
    """The images of ``source`` the evaluation uses: all of them, or a seeded random subset.

    Parameters
    ----------
    source
        Any image source :func:`genmetrics_nb.sources.resolve` reads (a folder,
        whose class subfolders give labels, files, an archive, an
        ``.npy``/``.npz``, a dataset name, ``LabeledImages``, an array, a
        generator source), or a generator spec (a shipped checkpoint name, a
        ``.pkl``, ``"module:callable"``).
    num_images : int or None
        None: every image. Otherwise a cap: a set larger than this is cut to
        a seeded random subset of ``num_images`` (stated in its description).
        A generator draws exactly ``num_images`` (required).
    seed : int
    name : str
        The argument's name, for messages.
    minimum : int
        Fewer images raise a ValueError.
    device : str
        Where a generator runs.

    Returns
    -------
    used : ImageSource
        The images used: the resolved source, or its seeded subset
        (:func:`genmetrics_nb.sources.resolver.cap`, the rule ``resolve(num_images=)`` applies).
    n_total : int
        How many images the source holds.
    """
    from genmetrics_nb.sources.resolver import cap

    if num_images is not None:
        num_images = check_int(num_images, name="num_images", minimum=minimum)
    draws = isinstance(source, (str, os.PathLike)) and sources.is_generator_spec(os.fspath(source))
    if draws and num_images is None:
        raise ValueError(f"{name}={source!r} is a generator: pass num_images= to say how many images to draw")
    # a generator draws num_images here; any other set is resolved whole, then capped (so its full size is known)
    src = sources.resolve(source, name=name, num_images=num_images if draws else None, seed=seed, device=device)
    if not isinstance(src, sources.ImageSource):
        what = "statistics" if isinstance(src, sources.StatsInput) else "features"
        raise (ValueError if getattr(src, "origin", "") == "file" else TypeError)(
            f"{name} is {what}, but the evaluation shows images (samples, galleries, nearest "
            "neighbours): pass the images themselves (a folder, files, an archive, an array)"
        )
    n_total = len(src)
    if n_total < minimum:
        raise ValueError(f"{name} holds {n_total} images; the evaluation needs at least {minimum}")
    return (src if num_images is None else cap(src, num_images, seed=seed)), n_total


def _set_images(src, rows) -> np.ndarray:
    """Rows of an image source as uint8 ``N x 3 x H x W``; images of different sizes take the first's size."""
    rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
    try:
        x = src.images(rows)
    except ValueError:  # a folder of differently sized images: previews only, resized to the first
        from PIL import Image

        parts = [np.asarray(src.images([r])) for r in rows]
        h, w = parts[0].shape[-2:]
        x = np.stack([p[0] if p.shape[-2:] == (h, w) else np.asarray(
            Image.fromarray(p[0].transpose(1, 2, 0).squeeze()).resize((w, h), Image.BICUBIC)
        ).reshape(h, w, -1).transpose(2, 0, 1) for p in parts])
    x = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    if len(x) == 0:
        return np.zeros((0, 3, 1, 1), np.uint8)
    return np.repeat(x, 3, axis=1) if x.shape[1] == 1 else x


# ----------------------------------------------------------------------------
# the sets
# ----------------------------------------------------------------------------
def draw_rows(n_rows: int, n: int, *, labels=None, seed: int = 0) -> np.ndarray:
    """The rows a sample grid shows: a seeded random sample, stratified by class when there are labels.

    With labels, classes take turns (each class's rows in a seeded random
    order) until ``n`` rows are drawn, so every class shows as long as ``n``
    is at least the number of classes; the rows come back grouped by class.
    Without labels, ``n`` rows drawn at random, in the set's order.

    Examples
    --------
    >>> labels = np.repeat([0, 1, 2], 10)  # class-sorted, as class folders are read
    >>> rows = draw_rows(30, 6, labels=labels, seed=0)
    >>> labels[rows].tolist()
    [0, 0, 1, 1, 2, 2]
    """
    n = min(int(n), int(n_rows))
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(rng.choice(n_rows, n, replace=False))
    labels = np.asarray(labels)
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    out, depth = [], 0
    while len(out) < n:
        out += [p[depth] for p in pools if depth < len(p)][: n - len(out)]
        depth += 1
    out = np.asarray(out, dtype=np.int64)
    return out[np.argsort(labels[out], kind="stable")]


@dataclasses.dataclass(frozen=True)
class EvaluationSet:
    """Features, labels and images of one set.

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
    sample : ImageSource
        The images used; :meth:`images` reads them by row.
    rows : numpy.ndarray
        Row ``i`` of the features is image ``rows[i]`` of ``sample``.
    description : str
    fingerprint : str or None
    n_total : int
        How many images the source holds (``n`` of them are used).
    """

    name: str
    fd: np.ndarray
    pr: np.ndarray
    logits: np.ndarray | None
    labels: np.ndarray | None
    sample: object = dataclasses.field(repr=False)
    rows: np.ndarray = dataclasses.field(repr=False)
    description: str = ""
    fingerprint: str | None = None
    n_total: int = 0

    @property
    def n(self) -> int:
        """How many images (feature rows) the evaluation uses."""
        return int(self.fd.shape[0])

    def images(self, index) -> np.ndarray:
        """Images of feature rows ``index`` (uint8 ``N x 3 x H x W``)."""
        return _set_images(self.sample, self.rows[np.atleast_1d(np.asarray(index, dtype=np.int64))])

    def draw(self, n: int, *, seed: int = 0) -> np.ndarray:
        """Feature rows of a seeded random sample of ``n``, stratified by class when labelled (:func:`draw_rows`)."""
        return draw_rows(self.n, n, labels=self.labels, seed=seed)

    def subset(self, rows, name: str) -> "EvaluationSet":
        """The set restricted to feature rows ``rows``, under another name."""
        rows = np.asarray(rows, dtype=np.int64)
        return dataclasses.replace(
            self, name=name, fd=self.fd[rows], pr=self.pr[rows],
            logits=None if self.logits is None else self.logits[rows],
            labels=None if self.labels is None else self.labels[rows], rows=self.rows[rows])


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """The sets of an evaluation, extracted once.

    Attributes
    ----------
    real : EvaluationSet
        The whole reference: every generated set is compared with all of it.
    heldout : EvaluationSet or None
        Real images from ``heldout=``, apart from the reference: what new,
        non-copied samples look like. None: the baseline and memorisation
        sections split the reference for their own use (:func:`reference_split`).
    generated : tuple of EvaluationSet
    class_names : list of str or None
    protocol : dict
        Extractors with weights sha256 and preprocessing, outputs, each set's
        full and used size, seeds, package versions and source fingerprints.
    heldout_share : float
        The share of the reference held out when ``heldout`` is None.
    seed : int
    """

    real: EvaluationSet
    heldout: EvaluationSet | None
    generated: tuple
    class_names: list | None
    protocol: dict
    heldout_share: float = 0.2
    seed: int = 0

    @property
    def names(self) -> list[str]:
        return [g.name for g in self.generated]

    @property
    def sets(self) -> tuple:
        """The reference, the held-out real images (when given) and the generated sets."""
        return tuple(s for s in (self.real, self.heldout, *self.generated) if s is not None)

    def get(self, name: str) -> EvaluationSet:
        for g in self.generated:
            if g.name == name:
                return g
        raise KeyError(f"no generated set {name!r}; the sets are {self.names}")

    def to_dict(self) -> dict:
        return {"sets": {s.name: {"n": s.n, "n_total": s.n_total, "source": s.description} for s in self.sets},
                "protocol": self.protocol}

    def __str__(self) -> str:
        return "; ".join(f"{s.name}: n = {s.n} of {s.n_total}" for s in self.sets)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{html.escape(s.name)}</td><td>{s.n}</td><td>{s.n_total}</td>"
            f"<td>{html.escape(s.description)}</td></tr>" for s in self.sets
        )
        note = ("" if self.heldout is not None else
                f"<p><small>No held-out real images given (heldout=): the baseline and the memorisation check "
                f"hold out {self.heldout_share:.0%} of the reference for their own use; every other number "
                f"uses the whole reference.</small></p>")
        return (f"<table><tr><th>set</th><th>n used</th><th>n in the source</th><th>source</th></tr>{rows}</table>"
                + note)


@dataclasses.dataclass(frozen=True)
class ReferenceSplit:
    """Reference and held-out real images, as the baseline and memorisation sections use them.

    Attributes
    ----------
    reference : EvaluationSet
    heldout : EvaluationSet
    split : bool
        True when ``heldout`` was cut from the reference (no ``heldout=`` given).
    note : str
        What the section says about where its held-out images come from.
    """

    reference: EvaluationSet
    heldout: EvaluationSet
    split: bool
    note: str


def reference_split(ev: Evaluation) -> ReferenceSplit:
    """The given held-out real images, or a seeded split of the reference for one section's own use.

    Without ``heldout=``, a seeded ``heldout_share`` of the reference rows
    (at least 2) plays the held-out real images and the rest the reference;
    the summary numbers are untouched (they use the whole reference).
    """
    if ev.heldout is not None:
        return ReferenceSplit(ev.real, ev.heldout, False,
                              f"held-out real images: {ev.heldout.name}, n = {ev.heldout.n} ({ev.heldout.description})")
    n = ev.real.n
    n_h = min(n - 2, max(2, int(round(n * ev.heldout_share))))
    perm = np.random.default_rng([ev.seed, 1]).permutation(n)
    ref, held = np.sort(perm[n_h:]), np.sort(perm[:n_h])
    note = (f"no held-out real images were given (heldout=): for this section only, {n_h} of the reference's "
            f"{n} images (seeded, seed {ev.seed}) play new real images against the other {n - n_h}; "
            "the summary uses the whole reference")
    return ReferenceSplit(ev.real.subset(ref, "reference (split)"), ev.real.subset(held, "held out of the reference"),
                          True, note)


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


def load_sets(real, generated, *, names=None, heldout=None, extractor: str = "inception-v3-fid",
              pr_extractor: str | None = None, num_images: int | None = None, heldout_share: float = 0.2,
              seed: int = 0, batch_size: int = 64, device="auto", progress: bool = True) -> Evaluation:
    """Read every set, extract its features once, and record the protocol.

    Parameters
    ----------
    real : source
        The reference images (see :func:`read_set`), used whole.
    generated : list of sources
        One or more generated sets (or a single source).
    names : list of str, optional
        Display names (default: the folder or file names).
    heldout : source, optional
        Real images apart from the reference (for instance the test split
        beside a training split): what new, non-copied samples look like to
        the baseline and the memorisation check. Without it those two
        sections split the reference for their own use
        (:func:`reference_split`).
    extractor : str
        Features of the Frechet distance, KID, IS and nearest neighbours
        (the published FID network ``inception-v3-fid`` by default; offline:
        ``efficientnet-lite0``).
    pr_extractor : str, optional
        Features of precision/recall, density/coverage and the realism score
        (published: ``vgg16-fc2``; default: ``extractor``).
    num_images : int or None
        None (default): every image of every set. Otherwise a cap on each
        set (a larger set is cut to a seeded random subset, stated in its
        description and the protocol), and what a generator draws.
    heldout_share : float
        Share of the reference the baseline and memorisation sections hold
        out when ``heldout`` is None.
    seed : int
        Seeds the capped subsets, the generators and the reference split.
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
    from genmetrics_nb.features.inputs import default_output

    if not isinstance(generated, (list, tuple)):
        generated = [generated]
    if not generated:
        raise ValueError("generated must name at least one set of generated images")
    names = _set_names(generated, names)
    if isinstance(heldout_share, bool) or not isinstance(heldout_share, (int, float)) or not 0 < heldout_share < 1:
        raise ValueError(f"heldout_share must be a fraction between 0 and 1 (e.g. 0.2), got {heldout_share!r}")
    real_s = read_set(real, num_images=num_images, seed=seed, name="real", minimum=8, device=device)
    held_s = None if heldout is None else read_set(heldout, num_images=num_images, seed=seed, name="heldout",
                                                   device=device)
    gens_s = [read_set(g, num_images=num_images, seed=seed, name=f"generated[{i}]", device=device)
              for i, g in enumerate(generated)]
    ext = get_extractor(extractor, device=device)
    pr_ext = get_extractor(pr_extractor, device=device) if pr_extractor and pr_extractor != extractor else ext
    fd_out = default_output(ext.name, ext.outputs)
    pr_out = default_output(pr_ext.name, pr_ext.outputs)
    try:  # the Inception Score's logits, as gm.inception_score picks them
        lg_out = default_output(ext.name, ext.outputs, purpose="logits")
    except ValueError:
        lg_out = None
    precision = []

    def features(read, name: str) -> EvaluationSet:
        s, n_total = read
        outs = [o for o in (fd_out, lg_out) if o]
        f = extract_features(s, ext, outputs=outs, batch_size=batch_size, device=device, cache=True,
                             progress=progress)
        precision.append(f.meta.get("precision"))
        fp = pr_ext is not ext and extract_features(s, pr_ext, outputs=[pr_out], batch_size=batch_size,
                                                    device=device, cache=True, progress=progress)
        pr = fp[pr_out] if fp is not False else f[pr_out]
        fd = np.asarray(f[fd_out])
        return EvaluationSet(name, fd, np.asarray(pr), None if lg_out is None else np.asarray(f[lg_out]), s.labels,
                             s, np.arange(fd.shape[0]), s.description, s.fingerprint, n_total)

    real_set = features(real_s, "real")
    held_set = None if held_s is None else features(held_s, "real (held out)")
    gen_sets = tuple(features(s, name) for s, name in zip(gens_s, names))
    every = tuple(s for s in (real_set, held_set, *gen_sets) if s is not None)
    protocol = {
        "extractor": {"name": ext.name, "weights_sha256": ext.weights_digest, "preprocessing": ext.spec,
                      "output": fd_out, "logits": lg_out},
        "pr_extractor": {"name": pr_ext.name, "weights_sha256": pr_ext.weights_digest,
                         "preprocessing": pr_ext.spec, "output": pr_out},
        "n": {s.name: {"used": s.n, "total": s.n_total} for s in every},
        "num_images": num_images,
        "heldout": (f"given: {held_set.description}" if held_set is not None else
                    f"none given: the baseline and memorisation sections hold out {heldout_share:.0%} of the "
                    f"reference (seed {seed}); the summary uses the whole reference"),
        "seed": seed,
        "sources": {s.name: {"source": s.description, "fingerprint": s.fingerprint} for s in every},
        "versions": {"genmetrics-nb": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "precision": precision[0],
    }
    return Evaluation(real_set, held_set, gen_sets, real_s[0].class_names, protocol, float(heldout_share), int(seed))
