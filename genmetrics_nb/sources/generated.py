"""Generated images as a source: generator specs, and :func:`generated`.

A generator is a source only with a number of images to draw:
``generated("fmnist-stylegan-it02000", num_images=10000, seed=0)`` returns a
:class:`~genmetrics_nb.generators.GeneratorSource`, streamed batch by batch.
A string naming a generator (a shipped checkpoint, a ``.pkl`` network pickle
or ``"package.module:callable"``) is recognised here, so the resolver can
refuse it with the fix rather than mistake it for a path.
"""
from __future__ import annotations

import importlib
import os
import re

from genmetrics_nb.generators.source import GeneratorSource
from genmetrics_nb.sources.datasets import is_dataset_spec
from genmetrics_nb.util.checks import check_int

__all__ = ["GeneratorSource", "generated", "is_generator_spec", "load_generator_spec"]

#: ``"package.module:callable"``: a function (no arguments) that returns a generator.
_CALLABLE_SPEC = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


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
        "(genmetrics_nb.sources.generated), or num_images= to gm.resolve (--num-images N on the "
        "command line)"
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
