"""The one source resolver: anything a user passes, turned into what a metric needs.

A *source* is one of:

- **statistics**: ``FeatureStats``, an ``.npz`` file of them (genmetrics-nb,
  pytorch-fid, clean-fid or EDM ``mu``/``sigma``, an ADM reference batch,
  dgm-eval ``reps``), an EDM2 ``.pkl`` of statistics
  (:meth:`FeatureStats.load <genmetrics_nb.FeatureStats.load>`), or a
  ``(mu, sigma)`` pair;
- **features**: an ``N x D`` array or tensor, an ``.npy`` file of one, or a
  ``Features`` result (:func:`genmetrics_nb.extract_features`);
- **images**: a folder (searched recursively) or a list of image files; a
  ``.zip``, ``.tar``, ``.tar.gz`` or ``.tgz`` archive of image files (read
  member by member, never unpacked); an ``.npy`` file of ``N x C x H x W``
  or ``N x H x W x C`` images, or an ``.npz`` whose ``arr_0`` holds them
  (OpenAI guided-diffusion's sample batches; ``arr_1`` labels); an
  ``N x C x H x W`` array or tensor (floats with a declared ``value_range``);
- **labelled images**: a class-per-subfolder folder opened with
  :func:`genmetrics_nb.image_sets.image_folder` (``gm.image_folder``),
  ``LabeledImages``, or a registered dataset name such as
  ``"fashion-mnist:test"`` or ``"cifar10:train"``;
- **generated images**: :func:`generated` (a :class:`GeneratorSource`):
  ``num_images`` images drawn with ``seed`` from a shipped checkpoint
  (``"fmnist-stylegan-it02000"``), a StyleGAN2-ADA / StyleGAN3 ``.pkl``, a
  ``"package.module:callable"`` string, or a generator object, generated
  batch by batch as they are consumed. Such a string alone is refused: it
  does not say how many images to draw.

Images of every kind are streamed a batch at a time by the feature engine
(:func:`genmetrics_nb.extract_features`), whose cache knows each kind's
fingerprint. Anything else, and a string that names none of the above,
raises an error that lists what a source can be (:data:`SOURCE_KINDS`).

:func:`stats_of` gives the Frechet distances their statistics;
:func:`features_of` gives every other distribution metric its per-sample
features (KID, precision/recall, density/coverage) or logits (Inception
Score). Both run images through ``extractor`` and return the protocol that
produced the numbers (extractor, weights digest, preprocessing, output), so
that two sides computed differently are refused (:func:`check_compatible`).
The Python API and the CLI go through this module alone.
"""
from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping

import numpy as np

from genmetrics_nb.generators.source import GeneratorSource
from genmetrics_nb.util.checks import check_int, is_torch

__all__ = [
    "GeneratorSource",
    "PROVENANCE",
    "SOURCE_KINDS",
    "check_compatible",
    "classify",
    "default_output",
    "features_of",
    "features_pair",
    "generated",
    "is_dataset_spec",
    "is_generator_spec",
    "load_dataset_images",
    "load_generator_spec",
    "provenance",
    "stats_of",
]

#: Keys of a source's protocol that must agree between two compared sides.
PROVENANCE = ("extractor", "weights_digest", "spec", "output")

#: The output each extractor uses for FID/KID/PR unless told otherwise.
_DISTRIBUTION_OUTPUT = {"vgg16-fc2": "fc2_relu"}
#: The logits Inception Score uses: the 1008 bias-free TF logits where the network has them.
_LOGITS_OUTPUTS = ("logits_unbiased", "logits")

#: What a source can be, one example each: the list an unknown source's message shows.
SOURCE_KINDS = (
    "a folder of images (searched recursively) or a list of image files",
    "a .zip, .tar, .tar.gz or .tgz archive of image files",
    "an .npy file of images (N x C x H x W or N x H x W x C) or of N x D features",
    "an .npz of images in 'arr_0' (guided-diffusion samples) or of statistics ('mu', 'sigma')",
    "a dataset name such as 'fashion-mnist:test' or 'cifar10:train'",
    "gm.image_folder('path/with/one/folder/per/class')",
    "sources.generated('fmnist-stylegan-it02000' or 'G.pkl' or 'package.module:callable', "
    "num_images=10000, seed=0)",
    "an N x C x H x W image array or tensor, N x D features, FeatureStats or a Features result",
)

#: ``"package.module:callable"``: a function (no arguments) that returns a generator.
_CALLABLE_SPEC = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def default_output(extractor_name: str, outputs, *, purpose: str = "features") -> str:
    """The extractor output a metric uses unless told otherwise.

    Parameters
    ----------
    extractor_name : str
    outputs : iterable of str
        The outputs available.
    purpose : {"features", "logits"}
        ``"features"``: ``pool`` (``fc2_relu`` for ``vgg16-fc2``, as
        torch-fidelity's precision/recall); ``"logits"``: ``logits_unbiased``
        (the TF Inception's, as published IS values) or ``logits``.
    """
    outputs = list(outputs)
    if purpose == "logits":
        for name in _LOGITS_OUTPUTS:
            if name in outputs:
                return name
        raise ValueError(
            f"extractor {extractor_name!r} has no logits output (it has {outputs}); the Inception "
            "Score needs class logits: use an extractor with 'logits', e.g. 'inception-v3-fid'"
        )
    name = _DISTRIBUTION_OUTPUT.get(extractor_name)
    if name in outputs:
        return name
    if "pool" in outputs:
        return "pool"
    return outputs[0]


def is_dataset_spec(s) -> bool:
    """``"fashion-mnist:test"`` or ``"cifar10"``, and not an existing path."""
    if not isinstance(s, str) or os.path.exists(s):
        return False
    from genmetrics_nb.datasets.registry import DATASET_NAMES

    return s.partition(":")[0] in DATASET_NAMES


def load_dataset_images(spec: str):
    """uint8 images of a registered dataset spec (``"name:split"``)."""
    from genmetrics_nb.datasets.registry import load_dataset

    return load_dataset(spec).images


def _kinds_listing() -> str:
    return "; ".join(SOURCE_KINDS)


def _shipped_generator_names() -> list:
    from genmetrics_nb.zoo.checkpoints import list_checkpoints

    try:
        return [e["name"] for e in list_checkpoints("generator")]
    except (OSError, ValueError):  # no models folder, or a damaged manifest
        return []


def _importable(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _generator_spec_kind(s):
    """``"pickle"``, ``"checkpoint"``, ``"callable"`` or None for a string."""
    if not isinstance(s, (str, os.PathLike)):
        return None
    s = os.fspath(s)
    if s.lower().endswith(".pkl"):
        return "pickle"
    if os.path.exists(s) or is_dataset_spec(s):
        return None
    if s in _shipped_generator_names():
        return "checkpoint"
    if _CALLABLE_SPEC.match(s) and _importable(s.partition(":")[0]):
        return "callable"
    return None


def is_generator_spec(s) -> bool:
    """A string naming a generator: a shipped checkpoint (``"fmnist-stylegan-it02000"``),
    a network pickle (``"G.pkl"``) or an importable ``"package.module:callable"``."""
    return _generator_spec_kind(s) is not None


def _needs_num_images(name: str, what: str) -> ValueError:
    return ValueError(
        f"{name}={what} is a generator, and a generator is a source only with a number of images "
        f"to draw: pass {name}=sources.generated({what}, num_images=10000, seed=0) "
        "(genmetrics_nb.sources.generated)"
    )


def _call_spec(spec: str, *, name: str):
    """Import ``"package.module:callable"`` and call the callable with no arguments."""
    module_name, _, attr = spec.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(
            f"{name}={spec!r}: cannot import {module_name!r} ({exc}); put the folder that holds "
            "it on sys.path (or install it)"
        ) from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{name}={spec!r}: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(
            f"{name}={spec!r} is a {type(obj).__name__}, not a callable; name a function (or class) "
            "that takes no arguments and returns the generator"
        )
    return obj()


def load_generator_spec(spec, *, z_dim=None, value_range=None, device="auto", name: str = "spec"):
    """A :class:`~genmetrics_nb.generators.Generator` from what a user names.

    Parameters
    ----------
    spec : str, Generator, StyleGAN network or torch.nn.Module
        - a shipped checkpoint name, e.g. ``"fmnist-stylegan-it02000"``
          (:func:`genmetrics_nb.zoo.list_checkpoints`);
        - a StyleGAN2-ADA / StyleGAN3 network pickle, ``"path/G.pkl"``
          (:func:`~genmetrics_nb.generators.load_stylegan_pickle`; NVIDIA's
          code must be importable);
        - ``"package.module:callable"``: the callable is imported and called
          with no arguments, and its return value is used as below;
        - a :class:`~genmetrics_nb.generators.Generator` (e.g.
          ``ModuleGenerator(net, z_dim=512, value_range=(-1, 1))``) or a
          StyleGAN network (``G_ema``): used as it is;
        - a plain z -> image ``torch.nn.Module`` (or callable): wrapped in
          :class:`~genmetrics_nb.generators.ModuleGenerator`, which needs
          ``z_dim`` and ``value_range``.
    z_dim : int, optional
        Latent size of a plain module (only then).
    value_range : tuple, optional
        Range of a plain module's images, e.g. ``(-1, 1)`` (only then).
    device : str
    name : str
        The argument name used in messages.

    Raises
    ------
    ValueError
        For a string that names no generator, a module that cannot be
        imported, a plain module without ``z_dim``/``value_range``, or those
        given for a generator that declares its own.
    TypeError
        For a callable's return value that is no generator.
    """
    from genmetrics_nb.generators import (
        Generator,
        ModuleGenerator,
        StyleGANGenerator,
        load_stylegan_pickle,
    )

    what = repr(spec) if isinstance(spec, (str, os.PathLike)) else f"a {type(spec).__name__}"
    if isinstance(spec, (str, os.PathLike)):
        s = os.fspath(spec)
        kind = _generator_spec_kind(s)
        if kind == "pickle":
            if not os.path.isfile(s):
                raise ValueError(f"{name}={s!r}: no such network pickle")
            obj = load_stylegan_pickle(s, device=device)
        elif kind == "checkpoint":
            from genmetrics_nb.zoo.checkpoints import load_generator

            obj = load_generator(s, device=device)
        elif _CALLABLE_SPEC.match(s) and not is_dataset_spec(s):
            obj = _call_spec(s, name=name)
            what = f"the value {s!r} returned ({type(obj).__name__})"
        else:
            shipped = ", ".join(_shipped_generator_names()) or "none installed"
            raise ValueError(
                f"{name}={s!r} names no generator; pass a shipped checkpoint name ({shipped}), a "
                "StyleGAN2-ADA / StyleGAN3 network pickle ('path/G.pkl'), or 'package.module:callable' "
                "(a function of no arguments that returns a gm.generators.Generator)"
            )
    else:
        obj = spec
    stylegan = all(hasattr(obj, a) for a in ("mapping", "synthesis", "z_dim", "img_resolution"))
    if isinstance(obj, Generator) or stylegan:
        if z_dim is not None or value_range is not None:
            raise ValueError(
                f"z_dim and value_range describe a plain z -> image module, but {name} gives a "
                f"generator that declares its own ({type(obj).__name__}); drop them"
            )
        return obj if isinstance(obj, Generator) else StyleGANGenerator(obj, device=device)
    if callable(obj) and not isinstance(obj, type):
        if z_dim is None or value_range is None:
            raise ValueError(
                f"{name}: {what} is a plain z -> image module, whose latent size and output range "
                "cannot be read from it: pass z_dim= and value_range= (e.g. "
                "sources.generated(..., z_dim=512, value_range=(-1, 1))), or return "
                "gm.generators.ModuleGenerator(net, z_dim=512, value_range=(-1, 1)) instead"
            )
        return ModuleGenerator(obj, z_dim=z_dim, value_range=value_range, device=device)
    raise TypeError(
        f"{name}: {what} is no generator; it must be a gm.generators.Generator (e.g. "
        "ModuleGenerator(net, z_dim=..., value_range=...)), a StyleGAN2-ADA / StyleGAN3 network, "
        "or a z -> image torch.nn.Module (with z_dim= and value_range=)"
    )


def generated(spec, *, num_images: int, seed: int = 0, psi: float = 1.0, batch_size: int = 64,
              z_dim=None, value_range=None, device="auto", allow_narrow: bool = False) -> GeneratorSource:
    """Images drawn from a generator, as a source for every metric and for feature extraction.

    Parameters
    ----------
    spec : str, Generator, StyleGAN network or torch.nn.Module
        What to draw from (see :func:`load_generator_spec`): a shipped
        checkpoint name, a ``.pkl`` network pickle, ``"package.module:callable"``
        (a function of no arguments that returns a
        :class:`~genmetrics_nb.generators.Generator`, e.g. a
        ``ModuleGenerator(net, z_dim=512, value_range=(-1, 1))``, or a StyleGAN
        network; or a plain z -> image module, given ``z_dim`` and
        ``value_range`` here), or such an object itself.
    num_images : int
        How many images to draw; 50,000 is the usual FID protocol.
    seed : int
        Seed of the latents (:meth:`Generator.generate`).
    psi : float
        Truncation (1 = none).
    batch_size : int
        Images per generator call; the images equal
        ``generator.generate(num_images, seed=seed, psi=psi, batch_size=batch_size)``.
    z_dim, value_range
        Only for a plain z -> image module.
    device : str
        Where the generator runs (a loaded checkpoint or pickle is put there).
    allow_narrow : bool
        Lift the range guard on the first batch: by default images that look
        mis-declared (no value below 0 under ``(-1, 1)``: sigmoid images
        declared as tanh ones; or all within 1.5/255 of the range's low end)
        are refused (:func:`genmetrics_nb.images.narrow_range_problem`).

    Returns
    -------
    GeneratorSource
        Streamed batch by batch (never all images in memory), with a
        fingerprint (weights digest, ``num_images``, ``seed``, ``psi``,
        ``batch_size``) for the feature cache.

    Raises
    ------
    ValueError, TypeError
        As :func:`load_generator_spec`; a bad ``num_images``, ``seed`` or ``psi``.

    Notes
    -----
    To compare with a paper's FID, draw as many images as it did (usually
    50,000) with truncation off (``psi=1``), as StyleGAN2-ADA's ``fid50k_full``.

    References
    ----------
    .. [1] Karras et al., "Training Generative Adversarial Networks with Limited Data",
       NeurIPS 2020; metrics code https://github.com/NVlabs/stylegan2-ada-pytorch

    Examples
    --------
    >>> import genmetrics_nb as gm
    >>> fake = gm.sources.generated("fmnist-stylegan-it02000", num_images=100, seed=0, device="cpu")
    >>> len(fake), fake.read_batch(0, 2).shape
    (100, (2, 1, 28, 28))
    """
    num_images = check_int(num_images, name="num_images", minimum=1,
                           hint="num_images is how many images to draw from the generator")
    gen = load_generator_spec(spec, z_dim=z_dim, value_range=value_range, device=device, name="spec")
    label = os.fspath(spec) if isinstance(spec, (str, os.PathLike)) else None
    return GeneratorSource(gen, num_images=num_images, seed=seed, psi=psi, batch_size=batch_size, name=label,
                           allow_narrow=allow_narrow)


def _check_folder_has_images(folder: str, *, name: str) -> None:
    """Refuse a folder with no image file below it (stops at the first one found)."""
    from genmetrics_nb.images import IMAGE_EXTENSIONS

    for _, _, files in os.walk(folder):
        if any(f.lower().endswith(IMAGE_EXTENSIONS) for f in files):
            return
    raise ValueError(
        f"{name}={folder!r} is a folder with no image files ({', '.join(IMAGE_EXTENSIONS)}) "
        "in it or below it; pass the folder that holds the images (or an archive of them)"
    )


def classify(x, *, name: str) -> str:
    """One of ``"stats"``, ``"stats-file"``, ``"array-file"``, ``"features"``,
    ``"features-mapping"``, ``"dataset"``, ``"images"``, ``"generator"``.

    Raises
    ------
    ValueError
        For a path that does not exist, an empty folder, a string that names
        no source (the message lists what a source can be), a generator
        without a number of images, or an array of the wrong rank.
    TypeError
        For an object that is no source.
    """
    if hasattr(x, "mu") and hasattr(x, "sigma"):
        return "stats"
    if isinstance(x, tuple) and len(x) == 2 and all(
        isinstance(v, np.ndarray) or is_torch(v) for v in x
    ) and getattr(x[0], "ndim", 0) == 1:
        return "stats"
    if isinstance(x, (str, os.PathLike)):
        s = os.fspath(x)
        if s.endswith(".npy"):
            if not os.path.isfile(s):
                raise ValueError(f"{name}={s!r}: no such .npy file")
            return "array-file"
        if s.endswith(".npz"):
            if not os.path.isfile(s):
                raise ValueError(f"{name}={s!r}: no such statistics file (nor .npz of images)")
            from genmetrics_nb.image_sets import npz_members

            keys = set(npz_members(s))
            images = "arr_0" in keys and not ({"mu", "sigma"} <= keys or "sum" in keys)
            return "array-file" if images else "stats-file"
        if is_dataset_spec(s):
            return "dataset"
        if s.lower().endswith(".pkl") and os.path.isfile(s):
            from genmetrics_nb.features.stats_formats import is_stats_pickle

            if is_stats_pickle(s):  # EDM2 reference statistics, read without running any code
                return "stats-file"
        generator = _generator_spec_kind(s)
        if generator == "pickle" and not os.path.isfile(s):
            raise ValueError(f"{name}={s!r}: no such network pickle")
        if generator is not None:
            raise _needs_num_images(name, repr(s))
        if os.path.isdir(s):
            _check_folder_has_images(s, name=name)
            return "images"
        if os.path.isfile(s):
            from genmetrics_nb.image_sets import is_archive

            if is_archive(s):
                return "images"
            raise ValueError(
                f"{name}={s!r} is a single file, not a set of images; pass a folder, a list of "
                f"files ([{s!r}, ...]), or an archive. A source can be: {_kinds_listing()}"
            )
        from genmetrics_nb.datasets.registry import DATASET_NAMES

        raise ValueError(
            f"{name}={s!r} is neither an existing folder or file, nor a dataset name "
            f"({', '.join(n + ':test' for n in DATASET_NAMES)}), nor a shipped checkpoint or "
            f"'package.module:callable'. A source can be: {_kinds_listing()}"
        )
    if isinstance(x, GeneratorSource):
        return "generator"
    from genmetrics_nb.image_sets import ArchiveImages, ArrayFileImages
    from genmetrics_nb.images import ImageFolder

    if isinstance(x, (ArchiveImages, ArrayFileImages, ImageFolder)):
        return "images"
    from genmetrics_nb.generators import Generator

    if isinstance(x, Generator) or _is_module(x):
        raise _needs_num_images(name, f"<{type(x).__name__}>")
    if isinstance(x, Mapping) and hasattr(x, "meta"):
        return "features-mapping"
    if isinstance(x, Mapping):
        keys = ", ".join(repr(k) for k in list(x)[:4])
        raise TypeError(
            f"{name} is a mapping of several feature outputs ({keys}); pick one, "
            f"e.g. {name}[{next(iter(x), 'pool')!r}]"
        )
    if isinstance(x, tuple) and hasattr(x, "_fields") and hasattr(x, "images"):
        return "images"  # LabeledImages
    if isinstance(x, np.ndarray) or is_torch(x):
        if x.ndim == 2:
            return "features"
        if x.ndim == 4:
            return "images"
        raise ValueError(
            f"{name} has shape {tuple(x.shape)} but must be 2-D (N x D features) or 4-D "
            "(N x C x H x W images); for a single sample use x[None]"
        )
    if isinstance(x, (list, tuple)) and x and all(isinstance(p, (str, os.PathLike)) for p in x):
        return "images"
    raise TypeError(
        f"{name} of type {type(x).__name__} is not a source; pass images (folder, files, "
        "N x C x H x W array), features (N x D array), FeatureStats or an .npz of statistics. "
        f"A source can be: {_kinds_listing()}"
    )


def _is_module(x) -> bool:
    """A ``torch.nn.Module``, checked without importing torch."""
    return any(c.__module__ == "torch.nn.modules.module" and c.__name__ == "Module" for c in type(x).__mro__)


def _load_array_file(path, *, name: str, value_range=None):
    """An ``.npy`` file or an ``.npz`` ``arr_0``: ``N x D`` features (loaded), or
    ``N x C x H x W`` / ``N x H x W x C`` images (an ``ArrayFileImages``, streamed)."""
    from genmetrics_nb.image_sets import ArrayFileImages, array_file_shape

    shape = array_file_shape(path)
    if len(shape) == 4:
        return ArrayFileImages(path, value_range=value_range, name=name,
                               narrow_hint=_narrow_hint(value_range))
    if len(shape) != 2:
        raise ValueError(
            f"{name}={os.fspath(path)!r} holds shape {shape}; expected N x D features or "
            "N x C x H x W (or N x H x W x C) images"
        )
    if os.fspath(path).lower().endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            return z["arr_0"]
    return np.load(path, allow_pickle=False)


def _narrow_hint(value_range) -> str:
    """How a metric's user lifts the range guard: the metrics take no ``allow_narrow``, so
    the images are converted first (:func:`genmetrics_nb.images.narrow_range_problem`)."""
    declared = tuple(value_range) if isinstance(value_range, (tuple, list)) else value_range
    return (f"convert them first, saying so: gm.load_images(x, value_range={declared!r}, "
            "allow_narrow=True) (or gm.extract_features(..., allow_narrow=True)), and pass the result")


def provenance(meta) -> dict:
    """The :data:`PROVENANCE` part of a features' or statistics' metadata, plus whatever else of it
    the protocol fingerprint reads (precision, ``n``, source, versions, what an imported file's
    protocol was inferred to be: :data:`genmetrics_nb.features.protocol.META_KEYS`)."""
    from genmetrics_nb.features.protocol import META_KEYS

    meta = meta or {}
    out = {k: meta.get(k) for k in PROVENANCE}
    out.update({k: meta[k] for k in META_KEYS if k not in out and k in meta})
    return out


def check_compatible(a, b, *, names=("real", "fake"), metric: str = "this metric",
                     allow_mismatch: bool | None = None) -> dict:
    """Compare two sides' protocols; refuse a difference that changes the number.

    Every metric that compares two sides goes through here (the Frechet
    distances with both sides' statistics, KID / precision-recall / density-
    coverage / realism through :func:`features_pair`).

    Parameters
    ----------
    a, b : dict or FeatureStats
        Each side's metadata (or :func:`provenance`, or statistics/features
        carrying ``.meta``), read by
        :func:`genmetrics_nb.features.protocol.fingerprint`.
    names : tuple of str
        The sides' argument names, for the message.
    metric : str
        The metric's name, for the message.
    allow_mismatch : bool or None
        ``True``: do not raise; the differences are returned (the metric
        records them). ``False``: raise, saying ``allow_protocol_mismatch=True``
        overrides. ``None`` (a metric without that option): raise.

    Returns
    -------
    dict
        ``mismatch`` (field -> ``[value_a, value_b]``, fields known on both
        sides that differ: extractor, weights_sha256, output, precision, and
        each preprocessing key such as ``resize_mode``), ``unverified``
        (fields unknown or only inferred on a side, e.g. statistics imported
        from pytorch-fid: not refusable, so recorded), and
        ``mismatch_allowed`` (bool).

    Raises
    ------
    ValueError
        Listing every differing field with both values, unless
        ``allow_mismatch`` is true. ``n``, the source fingerprint and package
        versions never count: a reference and samples differ in those by nature.
    """
    from genmetrics_nb.features.protocol import compare_protocols

    record = compare_protocols(a or {}, b or {})
    mismatch = record["mismatch"]
    if mismatch and not allow_mismatch:
        listing = "; ".join(f"{key} is {va!r} for {names[0]} and {vb!r} for {names[1]}"
                            for key, (va, vb) in mismatch.items())
        override = ("" if allow_mismatch is None else
                    ", or pass allow_protocol_mismatch=True to compare them anyway (the result then "
                    "records the differences)")
        raise ValueError(
            f"{names[0]} and {names[1]} were computed differently: {listing}. {metric} is only "
            "meaningful between features of the same extractor, output and preprocessing; recompute "
            f"one side with the other's protocol{override}"
        )
    record["mismatch_allowed"] = bool(mismatch)
    return record


def _check_resize(resize, meta=None, *, name: str):
    """Validate ``resize`` and refuse a precomputed side made in another resize mode."""
    if resize is None:
        return
    from genmetrics_nb.extractors.resize import check_resize_mode

    check_resize_mode(resize)
    done = ((meta or {}).get("spec") or {}).get("resize_mode")
    if done is not None and done != resize:
        raise ValueError(
            f"{name} was computed with resize={done!r}, but resize={resize!r} was asked; recompute "
            f"{name} from its images with resize={resize!r}, or drop resize= to use it as it is"
        )


def _image_extractor(source, *, name, extractor, value_range, device, resize=None):
    from genmetrics_nb.extractors.registry import get_extractor

    if isinstance(source, str) and is_dataset_spec(source):
        source = load_dataset_images(source)
    elif isinstance(source, (str, os.PathLike)) and os.path.isfile(source):
        from genmetrics_nb.image_sets import ArchiveImages, is_archive

        if is_archive(source):
            source = ArchiveImages(source, name=name)  # its listing errors name the argument
    if isinstance(source, GeneratorSource):
        try:  # its first batch is checked (range, NaN) up front; it stays buffered for the extraction
            source.read_batch(0, 1)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    if isinstance(source, np.ndarray) or is_torch(source):
        floating = source.is_floating_point() if is_torch(source) else np.issubdtype(source.dtype, np.floating)
        if floating:  # checked here, so that the message names the argument and the metrics' fix
            from genmetrics_nb.images import check_value_range

            check_value_range(source, value_range, name=name, narrow_hint=_narrow_hint(value_range))
    return source, get_extractor(extractor, device=device, resize=resize)


def stats_of(source, *, name: str, extractor="inception-v3-fid", output=None, batch_size: int = 64,
             device="auto", value_range=None, cache=False, progress: bool = True, resize=None):
    """Any source as ``FeatureStats`` carrying its protocol in ``.meta``.

    Images are streamed through ``extractor`` into float64 statistics
    (:func:`genmetrics_nb.features.feature_stats`): no features are kept.
    Parameters as :func:`features_of`.
    """
    from genmetrics_nb.features import FeatureStats, feature_stats
    from genmetrics_nb.util.checks import as_feature_tensor

    _check_resize(resize, name=name)
    kind = classify(source, name=name)
    if kind == "array-file":
        source = _load_array_file(source, name=name, value_range=value_range)
        kind = classify(source, name=name)
    if kind == "stats":
        if isinstance(source, tuple):
            return FeatureStats.from_moments(np.asarray(source[0]), np.asarray(source[1]))
        _check_resize(resize, getattr(source, "meta", None), name=name)
        return source
    if kind == "stats-file":
        st = FeatureStats.load(source, output=output)  # output picks ADM's spatial / EDM2's metric
        _check_resize(resize, st.meta, name=name)
        return st
    if kind == "features-mapping":
        _check_resize(resize, source.meta, name=name)
        out = output or default_output(source.meta.get("extractor", ""), list(source))
        if out not in source:
            raise ValueError(f"{name} holds outputs {list(source)}; output={out!r} is not one of them")
        return source.stats(out)
    if kind == "features":
        x = as_feature_tensor(source, name=name, min_rows=2)
        return FeatureStats.from_features(x, meta={"source": "features"})
    source, ext = _image_extractor(source, name=name, extractor=extractor, value_range=value_range,
                                   device=device, resize=resize)
    out = output or default_output(ext.name, ext.outputs)
    return feature_stats(source, ext, output=out, batch_size=batch_size, device=device,
                         value_range=value_range, cache=cache, progress=progress)


def features_of(source, *, name: str, metric: str, extractor="inception-v3-fid", output=None,
                purpose: str = "features", batch_size: int = 64, device="auto", value_range=None,
                cache=False, progress: bool = True, resize=None):
    """Any source as per-sample features (or logits), with their protocol.

    Parameters
    ----------
    source
        Images, features or a ``Features`` result (see the module docstring).
        Statistics are refused: they hold no per-sample values.
    name : str
        The argument's name, for messages (``"real"``).
    metric : str
        The calling metric's name, for messages (``"kid"``).
    extractor : str
        Registered extractor run on image sources (``gm.list_extractors()``).
    output : str, optional
        Extractor output (default: :func:`default_output` for ``purpose``).
    purpose : {"features", "logits"}
    batch_size, device, value_range, cache, progress
        As in :func:`genmetrics_nb.extract_features`.
    resize : {"legacy_tensorflow", "clean", "legacy_pytorch"}, optional
        clean-fid's resize mode for ``extractor`` (see
        :func:`genmetrics_nb.get_extractor`); default: the extractor's own.
        A precomputed source (statistics, a ``Features`` result) made in
        another mode is refused.

    Returns
    -------
    values : numpy.ndarray or torch.Tensor
        ``N x D``; arrays given as features come back as they were.
    protocol : dict
        :data:`PROVENANCE` keys (``None`` where unknown, e.g. plain arrays).

    Raises
    ------
    ValueError
        For statistics (a file or ``FeatureStats``), a missing output, or bad images.
    """
    _check_resize(resize, name=name)
    kind = classify(source, name=name)
    if kind == "array-file":
        source = _load_array_file(source, name=name, value_range=value_range)
        kind = classify(source, name=name)
    if kind in ("stats", "stats-file"):
        what = f"the statistics file {os.fspath(source)!r}" if kind == "stats-file" else "statistics (mean and covariance)"
        error = ValueError if kind == "stats-file" else TypeError
        raise error(
            f"{name} is {what}, but {metric} needs the per-sample features, not only their mean "
            f"and covariance: pass the images (folder, files, array) or an N x D feature array; "
            "statistics serve the Frechet distances (gm.fid) only"
        )
    if kind == "features":
        return source, provenance(None)
    if kind == "features-mapping":
        _check_resize(resize, source.meta, name=name)
        out = output or default_output(source.meta.get("extractor", ""), list(source), purpose=purpose)
        if out not in source:
            raise ValueError(f"{name} holds outputs {list(source)}; output={out!r} is not one of them")
        return source[out], provenance(dict(source.meta, output=out))
    from genmetrics_nb.features.engine import extract_features

    source, ext = _image_extractor(source, name=name, extractor=extractor, value_range=value_range,
                                   device=device, resize=resize)
    out = output or default_output(ext.name, ext.outputs, purpose=purpose)
    if out not in ext.outputs:
        raise ValueError(f"output={out!r} is not an output of {ext.name!r}; it has {list(ext.outputs)}")
    feats = extract_features(source, ext, outputs=(out,), batch_size=batch_size, device=device,
                             value_range=value_range, cache=cache, progress=progress)
    return feats[out], provenance(dict(feats.meta, output=out))


def features_pair(real, fake, *, metric: str, names=("real", "fake"), allow_protocol_mismatch=None,
                  **options):
    """:func:`features_of` for both sides of a two-sample metric, checked to share one protocol.

    ``allow_protocol_mismatch`` is :func:`check_compatible`'s ``allow_mismatch``
    (None for metrics that offer no override).

    Returns
    -------
    real_values, fake_values : numpy.ndarray or torch.Tensor
    protocol : dict
        The shared :data:`PROVENANCE` (a side's known value where the other's is
        unknown), plus ``"protocol"``: what a result records
        (:func:`genmetrics_nb.features.protocol.protocol_record`: the shared
        fields, and :func:`check_compatible`'s ``mismatch``, ``unverified``,
        ``mismatch_allowed``).
    """
    x, p_real = features_of(real, name=names[0], metric=metric, **options)
    y, p_fake = features_of(fake, name=names[1], metric=metric, **options)
    record = check_compatible(p_real, p_fake, names=names, metric=metric, allow_mismatch=allow_protocol_mismatch)
    from genmetrics_nb.features.protocol import protocol_record

    shared = {k: p_real.get(k) or p_fake.get(k) for k in PROVENANCE}
    shared["protocol"] = protocol_record(p_real, p_fake, record, names=names)
    return x, y, shared
