"""The one source resolver: anything a user passes, its kind decided once.

:func:`resolve` is the only place in the package that asks what an input
is. It returns

- an :class:`~genmetrics_nb.sources.ImageSource` for images: a folder
  (searched recursively; a folder whose images all sit in class subfolders
  gets labels), a list of image files, a ``.zip``/``.tar`` archive (read
  member by member), an ``.npy``/``.npz`` file of images (guided-diffusion's
  ``arr_0``, labels from ``arr_1``), an ``N x C x H x W`` (or channels-last)
  array or tensor (floats need ``value_range``), a dataset name such as
  ``"fashion-mnist:test"``, ``gm.image_folder(...)``, ``LabeledImages``,
  ``generated(...)``, an archive or array-file reader, or a map-style
  dataset of ``uint8`` ``C x H x W`` images;
- a :class:`~genmetrics_nb.sources.StatsInput` for statistics:
  ``FeatureStats`` (or anything with ``mu`` and ``sigma``), a ``(mu, sigma)``
  pair, an ``.npz`` of statistics (genmetrics-nb, pytorch-fid, clean-fid,
  ADM, dgm-eval) or an EDM2 ``.pkl`` of statistics;
- a :class:`~genmetrics_nb.sources.FeaturesInput` for per-sample features:
  an ``N x D`` array or tensor, an ``.npy`` / ``.npz`` file of one, or a
  ``Features`` result.

Anything else is refused with a message that names the argument and lists
what a source can be (:data:`SOURCE_KINDS`). The feature engine, every
metric, the suites and the command line take their inputs from here, so a
folder is walked once and its kind decided once per call.

This is the design of timm's ``create_reader``: one factory decides, and
everything downstream speaks the object it returns.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from genmetrics_nb.generators.source import GeneratorSource
from genmetrics_nb.sources.datasets import is_dataset_spec, load_dataset
from genmetrics_nb.sources.fingerprint import digest, fingerprint_array, fingerprint_files, fingerprint_object
from genmetrics_nb.sources.generated import _generator_spec_kind, _needs_num_images
from genmetrics_nb.sources.source import FeaturesInput, ImageSource, StatsInput
from genmetrics_nb.util.checks import is_torch

__all__ = ["SOURCE_KINDS", "cap", "narrow_hint", "resolve", "resolve_images"]

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


def _kinds_listing() -> str:
    return "; ".join(SOURCE_KINDS)


def narrow_hint(value_range) -> str:
    """How a metric's user lifts the range guard: the metrics take no ``allow_narrow``, so
    the images are converted first (:func:`genmetrics_nb.images.narrow_range_problem`)."""
    declared = tuple(value_range) if isinstance(value_range, (tuple, list)) else value_range
    return (f"convert them first, saying so: gm.load_images(x, value_range={declared!r}, "
            "allow_narrow=True) (or gm.extract_features(..., allow_narrow=True)), and pass the result")


def resolve(x, *, name: str = "source", value_range=None, allow_narrow: bool = False, on_error: str = "raise",
            hint: str | None = None, num_images: int | None = None, seed: int = 0, device="auto"):
    """Decide once what ``x`` is, and return the object the rest of the package reads.

    Parameters
    ----------
    x : object
        Any source (see the module docstring). An :class:`ImageSource`,
        :class:`StatsInput` or :class:`FeaturesInput` is returned as it is.
    name : str
        The argument's name, for messages (``"real"``).
    value_range : tuple, optional
        The declared range of float images (``(0, 1)``, ``(-1, 1)`` or
        ``(0, 255)``); needed for float arrays and float array files.
    allow_narrow : bool
        Lift the range guard for float images
        (:func:`genmetrics_nb.images.narrow_range_problem`).
    on_error : {"raise", "skip"}
        What the readers of files and archives do with an undecodable file.
    hint : str, optional
        How the range guard's message says to lift it (the metrics, which
        take no ``allow_narrow``, say to convert first: :func:`narrow_hint`).
    num_images : int, optional
        How many images of the source to use. A generator (a shipped
        checkpoint name, a ``.pkl``, ``"package.module:callable"``, a
        ``Generator`` or a plain module is refused without it) draws this many
        with ``seed`` (:func:`~genmetrics_nb.sources.generated`); a set of
        images with more is cut to a seeded random subset of this many, in
        their original order, and its description says so (a cap: a smaller
        set is used whole). Statistics and features ignore it.
    seed : int
        The generator's latent seed, and the subset's.
    device : str
        Where a generator named here runs.

    Returns
    -------
    ImageSource or StatsInput or FeaturesInput

    Raises
    ------
    ValueError
        A path that does not exist, a folder or archive with no images, a
        single image file, a string that names no source, a generator without
        a number of images, an array of the wrong rank, or float images
        outside ``value_range``.
    TypeError
        An object that is no source; float images without ``value_range``.

    Examples
    --------
    >>> import numpy as np
    >>> src = resolve(np.zeros((4, 8, 8, 3), np.uint8), name="real")
    >>> src.kind, len(src), src.read_batch(0, 2).shape
    ('array', 4, (2, 3, 8, 8))
    >>> resolve(np.zeros((10, 5)), name="real").origin
    'array'
    """
    from genmetrics_nb.images import check_allow_narrow
    from genmetrics_nb.util.checks import check_choice

    check_choice(on_error, name="on_error", choices=("raise", "skip"))
    check_allow_narrow(allow_narrow)
    if num_images is None:
        return _resolve(x, name=name, value_range=value_range, allow_narrow=allow_narrow, on_error=on_error,
                        hint=hint)
    from genmetrics_nb.sources.generated import generated
    from genmetrics_nb.util.checks import check_int

    num_images = check_int(num_images, name="num_images", minimum=1,
                           hint="num_images is how many images of the source to use")
    if _is_generator(x):
        x = generated(x, num_images=num_images, seed=seed, device=device)
    src = _resolve(x, name=name, value_range=value_range, allow_narrow=allow_narrow, on_error=on_error, hint=hint)
    return cap(src, num_images, seed=seed)


def cap(src, num_images: int, *, seed: int = 0):
    """At most ``num_images`` images of ``src``: a seeded random subset in the original order.

    Statistics, features and sources of at most ``num_images`` images come back as they are.
    """
    if not isinstance(src, ImageSource) or src.n <= num_images:
        return src
    rows = np.sort(np.random.default_rng(seed).choice(src.n, size=num_images, replace=False))
    return src.subset(rows, description=f"{num_images} of the {src.n} images of {src.description} "
                                        f"(seeded subset, seed {seed})")


def _is_generator(x) -> bool:
    from genmetrics_nb.generators import Generator

    if isinstance(x, (str, os.PathLike)):
        s = os.fspath(x)
        return not os.path.isdir(s) and _generator_spec_kind(s) is not None and (
            not s.lower().endswith(".pkl") or not _stats_pickle(s))
    return isinstance(x, Generator) or _is_module(x) or all(
        hasattr(x, a) for a in ("mapping", "synthesis", "z_dim", "img_resolution"))


def _stats_pickle(s: str) -> bool:
    from genmetrics_nb.sources.stats_files import is_stats_pickle

    return os.path.isfile(s) and is_stats_pickle(s)


def _resolve(x, *, name, value_range, allow_narrow, on_error, hint):
    """:func:`resolve` without ``num_images``: the one decision of what ``x`` is."""
    if isinstance(x, (ImageSource, StatsInput, FeaturesInput)):
        return x
    if hasattr(x, "mu") and hasattr(x, "sigma"):
        return StatsInput(x, "object")
    if isinstance(x, tuple) and len(x) == 2 and all(
        isinstance(v, np.ndarray) or is_torch(v) for v in x
    ) and getattr(x[0], "ndim", 0) == 1:
        return StatsInput(x, "moments")
    if isinstance(x, (str, os.PathLike)):
        return _resolve_path(os.fspath(x), name=name, value_range=value_range, allow_narrow=allow_narrow,
                             on_error=on_error, hint=hint)
    if isinstance(x, GeneratorSource):
        return _generator(x, name=name)
    from genmetrics_nb.image_sets import ArchiveImages, ArrayFileImages
    from genmetrics_nb.images import ImageFolder

    if isinstance(x, ArchiveImages):
        return ImageSource("archive", x, len(x), x.fingerprint, repr(x), "archive", files=list(x.files))
    if isinstance(x, ImageFolder):  # and image_sets.LabeledImageFolder
        return _folder_source(x, origin="class folder" if hasattr(x, "class_names") else "files")
    if isinstance(x, ArrayFileImages):
        return _array_file_source(x)
    from genmetrics_nb.generators import Generator

    if isinstance(x, Generator) or _is_module(x):
        raise _needs_num_images(name, f"<{type(x).__name__}>")
    if isinstance(x, Mapping) and hasattr(x, "meta"):
        return FeaturesInput(x, "features")
    if isinstance(x, Mapping):
        keys = ", ".join(repr(k) for k in list(x)[:4])
        raise TypeError(
            f"{name} is a mapping of several feature outputs ({keys}); pick one, "
            f"e.g. {name}[{next(iter(x), 'pool')!r}]"
        )
    if isinstance(x, tuple) and hasattr(x, "_fields") and hasattr(x, "images"):  # LabeledImages
        src = _array_source(x.images, name=name, value_range=value_range, allow_narrow=allow_narrow, hint=hint)
        labels = None if getattr(x, "labels", None) is None else np.asarray(x.labels, dtype=np.int64)
        return _with_labels(src, labels, getattr(x, "class_names", None), origin="labelled images")
    if isinstance(x, np.ndarray) or is_torch(x):
        if x.ndim == 2:
            return FeaturesInput(x, "array")
        if x.ndim == 4:
            return _array_source(x, name=name, value_range=value_range, allow_narrow=allow_narrow, hint=hint)
        raise ValueError(
            f"{name} has shape {tuple(x.shape)} but must be 2-D (N x D features) or 4-D "
            "(N x C x H x W images); for a single sample use x[None]"
        )
    if isinstance(x, (list, tuple)):
        if not x:
            raise ValueError(f"{name} is an empty list; pass a folder, files or an array of images")
        if all(isinstance(p, (str, os.PathLike)) for p in x):
            return _files_source([os.fspath(p) for p in x], name=name, on_error=on_error,
                                 description=f"{len(x)} files", origin="files")
    if callable(getattr(x, "read_batch", None)) and hasattr(x, "__len__"):
        return _stream_source(x, name=name)
    if hasattr(x, "__len__") and hasattr(x, "__getitem__") and not isinstance(x, (str, bytes, list, tuple)):
        n = len(x)
        if n == 0:
            raise ValueError(f"{name} is an empty dataset")
        return ImageSource("dataset", x, n, fingerprint_object(x), f"dataset {type(x).__name__} ({n} items)",
                           "dataset", labels=_int_labels(getattr(x, "labels", None), n),
                           class_names=getattr(x, "class_names", None))
    raise TypeError(
        f"{name} of type {type(x).__name__} is not a source; pass images (folder, files, "
        "N x C x H x W array), features (N x D array), FeatureStats or an .npz of statistics. "
        f"A source can be: {_kinds_listing()}"
    )


def resolve_images(x, *, name: str = "source", **options) -> ImageSource:
    """:func:`resolve` for a caller that needs images (the feature engine, pixel metrics).

    Raises
    ------
    TypeError
        For statistics or features, saying that images are needed.
    """
    src = resolve(x, name=name, **options)
    if not isinstance(src, ImageSource):
        what = "statistics" if isinstance(src, StatsInput) else "features"
        raise TypeError(
            f"{name} holds {what}, not images; this step needs the images themselves (a folder, files, "
            f"an archive or an N x C x H x W array). A source can be: {_kinds_listing()}"
        )
    return src


# ----------------------------------------------------------------------------
# paths
# ----------------------------------------------------------------------------
def _resolve_path(s: str, *, name, value_range, allow_narrow, on_error, hint):
    from genmetrics_nb import image_sets

    low = s.lower()
    if low.endswith(".npy"):
        if not os.path.isfile(s):
            raise ValueError(f"{name}={s!r}: no such .npy file")
        return _array_file(s, name=name, value_range=value_range, allow_narrow=allow_narrow, hint=hint)
    if low.endswith(".npz"):
        if not os.path.isfile(s):
            raise ValueError(f"{name}={s!r}: no such statistics file (nor .npz of images)")
        keys = set(image_sets.npz_members(s))
        if "arr_0" in keys and not ({"mu", "sigma"} <= keys or "sum" in keys):
            return _array_file(s, name=name, value_range=value_range, allow_narrow=allow_narrow, hint=hint)
        return StatsInput(s, "file")
    if is_dataset_spec(s):
        data = load_dataset(s)
        src = _array_source(data.images, name=name, value_range=None, allow_narrow=False, hint=hint)
        src = _with_labels(src, np.asarray(data.labels, dtype=np.int64), list(data.class_names), origin="dataset")
        return _described(src, f"dataset {s} ({src.n} images)")
    if low.endswith(".pkl") and os.path.isfile(s):
        if _stats_pickle(s):  # EDM2 reference statistics, read without running any code
            return StatsInput(s, "file")
    generator = _generator_spec_kind(s)
    if generator == "pickle" and not os.path.isfile(s):
        raise ValueError(f"{name}={s!r}: no such network pickle")
    if generator is not None:
        raise _needs_num_images(name, repr(s))
    if os.path.isdir(s):
        return _folder(s, name=name, on_error=on_error)
    if os.path.isfile(s):
        if image_sets.is_archive(s):
            archive = image_sets.ArchiveImages(s, on_error=on_error, name=name)
            return ImageSource("archive", archive, len(archive), archive.fingerprint,
                               f"archive {archive.path} ({len(archive)} images)", "archive",
                               files=list(archive.files))
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


def _folder(folder: str, *, name, on_error) -> ImageSource:
    """A folder, walked once. Images that all sit in first-level subfolders are labelled by them."""
    from genmetrics_nb.images import IMAGE_EXTENSIONS, list_image_files

    files = list_image_files(folder)
    if not files:
        raise ValueError(
            f"{name}={folder!r} is a folder with no image files ({', '.join(IMAGE_EXTENSIONS)}) "
            "in it or below it; pass the folder that holds the images (or an archive of them)"
        )
    root = os.path.abspath(folder)
    src = _files_source(files, name=name, on_error=on_error, origin="folder",
                        description=f"folder {root} ({len(files)} files)")
    tops = [os.path.relpath(f, root).split(os.sep) for f in files]
    if all(len(t) > 1 for t in tops):
        classes = sorted({t[0] for t in tops})
        if len(classes) > 1:
            index = {c: i for i, c in enumerate(classes)}
            labels = np.asarray([index[t[0]] for t in tops], dtype=np.int64)
            return _with_labels(src, labels, classes, origin="class folder")
    return src


def _files_source(files, *, name, on_error, description, origin) -> ImageSource:
    from genmetrics_nb.images import ImageFolder

    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise ValueError(f"{name} lists {len(missing)} missing file(s), e.g. {missing[0]!r}")
    folder = ImageFolder(files, channels=3, on_error=on_error)
    return ImageSource("files", folder, len(files), fingerprint_files(files), description, origin,
                       files=list(files))


def _folder_source(folder, *, origin) -> ImageSource:
    """An ``ImageFolder`` the user built (options such as ``size=`` change the fingerprint)."""
    fp = fingerprint_files(folder.files)
    if folder.size is not None or folder.channels != 3:  # options that change the pixels
        fp = digest({"files": fp, "size": folder.size, "channels": folder.channels})
    desc = getattr(folder, "root", None) or f"{len(folder.files)} files"
    src = ImageSource("files", folder, len(folder), fp, f"{type(folder).__name__} {desc}", origin,
                      files=list(folder.files))
    if hasattr(folder, "labels"):
        src = _with_labels(src, folder.labels, list(folder.class_names), origin=origin)
    return src


def _array_file(path, *, name, value_range, allow_narrow, hint):
    """An ``.npy`` file or an ``.npz`` ``arr_0``: ``N x D`` features (loaded), or images (streamed)."""
    from genmetrics_nb.image_sets import ArrayFileImages, array_file_shape

    shape = array_file_shape(path)
    if len(shape) == 4:
        return _array_file_source(ArrayFileImages(path, value_range=value_range, name=name,
                                                  allow_narrow=allow_narrow,
                                                  narrow_hint=hint or narrow_hint(value_range)))
    if len(shape) != 2:
        raise ValueError(
            f"{name}={os.fspath(path)!r} holds shape {shape}; expected N x D features or "
            "N x C x H x W (or N x H x W x C) images"
        )
    if os.fspath(path).lower().endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            return FeaturesInput(z["arr_0"], "array")
    return FeaturesInput(np.load(path, allow_pickle=False), "array")


def _array_file_source(x) -> ImageSource:
    n = len(x)
    if n == 0:
        raise ValueError(f"{x!r} holds no images")
    desc = getattr(x, "description", None) or repr(x)
    src = ImageSource("stream", x, n, fingerprint_object(x), desc, "array file")
    labels = getattr(x, "labels", None)
    return src if labels is None else _with_labels(src, labels, None, origin="array file")


# ----------------------------------------------------------------------------
# objects
# ----------------------------------------------------------------------------
def _array_source(x, *, name, value_range, allow_narrow, hint) -> ImageSource:
    """A 4-D array or tensor, checked and converted to uint8 here, so messages name the argument."""
    from genmetrics_nb.images import as_uint8, to_nchw

    if x.shape[0] == 0:
        raise ValueError(f"{name} holds no images (N = 0)")
    x = to_nchw(x, name=name)
    x = as_uint8(x, value_range=value_range, name=name, allow_narrow=allow_narrow,
                 narrow_hint=hint or narrow_hint(value_range))
    if not is_torch(x):
        x = np.ascontiguousarray(x)
    return ImageSource("array", x, int(x.shape[0]), fingerprint_array(x), f"array {tuple(x.shape)} uint8", "array")


def _generator(x: GeneratorSource, *, name) -> ImageSource:
    try:  # its first batch is checked (range, NaN) up front; it stays buffered for the extraction
        x.read_batch(0, 1)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    desc = getattr(x, "description", None) or repr(x)
    return ImageSource("stream", x, len(x), fingerprint_object(x), desc, "generator")


def _stream_source(x, *, name) -> ImageSource:
    n = len(x)
    if n == 0:
        raise ValueError(f"{name} is empty")
    desc = getattr(x, "description", None) or repr(x)
    return ImageSource("stream", x, n, fingerprint_object(x), desc, "stream",
                       labels=_int_labels(getattr(x, "labels", None), n))


def _with_labels(src: ImageSource, labels, class_names, *, origin) -> ImageSource:
    import dataclasses

    labels = _int_labels(labels, src.n)
    if class_names is None and labels is not None:
        class_names = [str(c) for c in range(int(labels.max()) + 1)]
    return dataclasses.replace(src, labels=labels, class_names=class_names, origin=origin)


def _described(src: ImageSource, description: str) -> ImageSource:
    import dataclasses

    return dataclasses.replace(src, description=description)


def _int_labels(labels, n):
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        return None
    return labels.astype(np.int64, copy=False)


def _is_module(x) -> bool:
    """A ``torch.nn.Module``, checked without importing torch."""
    return any(c.__module__ == "torch.nn.modules.module" and c.__name__ == "Module" for c in type(x).__mro__)
