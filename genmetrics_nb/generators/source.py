"""A generator's images as a source: drawn batch by batch as they are consumed, never all held.

:class:`GeneratorSource` stands for the images ``generator.generate(num_images,
seed=seed, psi=psi, batch_size=batch_size)`` would return, and produces them
a batch at a time for the feature engine (:mod:`genmetrics_nb.features`), so
memory holds one batch whatever ``num_images`` is. Its ``fingerprint``
(the generator's weights digest, ``num_images``, ``seed``, ``psi``, the
batch size) keys the feature cache. :func:`genmetrics_nb.sources.generated`
builds one from a checkpoint name, a network pickle or a
``"package.module:callable"`` string.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from genmetrics_nb.generators.adapters import check_generator
from genmetrics_nb.generators.protocol import Generator, check_psi, images_to_uint8
from genmetrics_nb.util.checks import check_int

__all__ = ["GeneratorSource", "generator_digest"]

#: How far images may overshoot their declared range (a fraction of its width)
#: before the first batch is refused: StyleGAN has no output non-linearity and
#: overshoots [-1, 1] a little; a wrong declaration misses by the whole range.
RANGE_SLACK = 0.5


def generator_digest(gen) -> str | None:
    """sha256 of a generator's class, settings and weights; None when it has no torch state.

    Covers every ``torch.nn.Module`` and tensor attribute of ``gen`` (all of
    their parameters and buffers) and its plain settings (``z_dim``,
    ``value_range``, ``noise_mode``, ...), not its ``name`` or device. The
    per-layer noise buffers that :meth:`Generator.randomize_noise` redraws
    from the seed before every batch are left out: they change with use, not
    with the model. Code is not covered: after editing a generator's code
    without changing its weights, pass ``cache=False``.
    """
    import torch

    redraws_noise = type(gen).randomize_noise is not Generator.randomize_noise
    h = hashlib.sha256(f"{type(gen).__module__}.{type(gen).__qualname__}\0".encode())
    settings, found = {}, False
    for key, value in sorted(vars(gen).items()):
        if key in ("name", "device"):
            continue
        if isinstance(value, torch.nn.Module):
            found = True
            h.update(f"module {key} {type(value).__qualname__}\0".encode())
            for k, t in value.state_dict().items():
                if redraws_noise and k.endswith("noise_const"):
                    continue
                _update_tensor(h, k, t)
        elif isinstance(value, torch.Tensor):
            found = True
            _update_tensor(h, key, value)
        elif value is None or isinstance(value, (bool, int, float, str, tuple)):
            settings[key] = value
    if not found:
        return None
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _update_tensor(h, key, t):
    import torch

    t = t.detach().to("cpu").contiguous()
    h.update(f"{key}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
    h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())


class GeneratorSource:
    """``num_images`` images of a generator, drawn from ``seed`` batch by batch as they are read.

    Pass it wherever images go (``gm.fid(real, GeneratorSource(...))``,
    :func:`genmetrics_nb.extract_features`): the engine asks for rows in
    order and only one generator batch is in memory at a time.

    Parameters
    ----------
    generator : Generator or StyleGAN network
        A :class:`~genmetrics_nb.generators.Generator` (for a plain
        ``nn.Module`` z -> image, wrap it: ``ModuleGenerator(net, z_dim=...,
        value_range=...)``) or a StyleGAN2-ADA / StyleGAN3 network (``G_ema``).
    num_images : int
        How many images the source holds.
    seed : int
        Seed of the latents, as in :meth:`Generator.generate`.
    psi : float
        Truncation (1 = none).
    batch_size : int
        Images per generator call. The images equal
        ``generator.generate(num_images, seed=seed, psi=psi, batch_size=batch_size)``
        (per-layer noise is redrawn per batch, so the batch size is part of
        the fingerprint).
    name : str, optional
        What descriptions and messages call the generator (default: its ``name``).
    allow_narrow : bool
        Lift the range guard on the first batch
        (:func:`genmetrics_nb.images.narrow_range_problem`): by default images
        that look mis-declared are refused, such as sigmoid images in [0, 1]
        declared ``(-1, 1)``.

    Attributes
    ----------
    fingerprint : str or None
        sha256 of :func:`generator_digest` and the arguments above, computed
        on first use; None (the cache is then off) for a generator with no
        torch weights to digest.

    Raises
    ------
    ValueError
        From :meth:`read_batch`, when the first batch lies outside the
        generator's declared ``value_range`` (by more than half its width),
        is refused by the range guard, or holds NaN or Inf.

    Examples
    --------
    >>> import torch
    >>> from genmetrics_nb.generators import ModuleGenerator
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 3 * 4 * 4), torch.nn.Tanh(), torch.nn.Unflatten(1, (3, 4, 4)))
    >>> gen = ModuleGenerator(net, z_dim=8, value_range=(-1, 1), device="cpu")
    >>> src = GeneratorSource(gen, num_images=10, seed=1)
    >>> bool((src.read_batch(4, 7) == gen.generate(10, seed=1, progress=False)[4:7]).all())
    True
    """

    def __init__(self, generator, *, num_images: int, seed: int = 0, psi: float = 1.0,
                 batch_size: int = 64, name: str | None = None, allow_narrow: bool = False):
        from genmetrics_nb.images import check_allow_narrow

        self.allow_narrow = check_allow_narrow(allow_narrow)
        self.generator = check_generator(generator)
        self.num_images = check_int(num_images, name="num_images", minimum=1,
                                    hint="num_images is how many images to draw from the generator")
        self.seed = check_int(seed, name="seed", minimum=0)
        self.psi = check_psi(psi, self.generator)
        self.batch_size = check_int(batch_size, name="batch_size", minimum=1)
        self.name = name or self.generator.name
        self._fingerprint = ...
        self._checked = False
        self._reset()

    # -- identity -----------------------------------------------------------------------
    @property
    def fingerprint(self) -> str | None:
        if self._fingerprint is ...:
            digest = generator_digest(self.generator)
            self._fingerprint = None if digest is None else hashlib.sha256(json.dumps({
                "generator": digest, "num_images": self.num_images, "seed": self.seed,
                "psi": self.psi, "batch_size": self.batch_size,
                # changes no pixel, only what is refused: keyed so cached features
                # drawn under it are not served to a source without it
                **({"allow_narrow": True} if self.allow_narrow else {}),
            }, sort_keys=True).encode()).hexdigest()
        return self._fingerprint

    @property
    def description(self) -> str:
        return (f"{self.num_images} images of generator {self.name!r} "
                f"(seed {self.seed}, psi {self.psi:g}, batch {self.batch_size})")

    def __len__(self):
        return self.num_images

    def __repr__(self):
        return (f"GeneratorSource({self.name!r}, num_images={self.num_images}, seed={self.seed}, "
                f"psi={self.psi:g}, batch_size={self.batch_size})")

    # -- images -------------------------------------------------------------------------
    def _reset(self):
        self._rng = np.random.default_rng(self.seed)
        self._next = 0  # first row of the next generator batch to draw
        self._buf, self._buf_start = None, 0

    def read_batch(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` as ``uint8`` ``N x C x H x W`` numpy.

        Reading forwards costs one generator call per batch; rows skipped
        over cost only their latent draws; reading backwards starts over
        from the seed.
        """
        import torch

        start, stop = max(0, int(start)), min(self.num_images, int(stop))
        if start >= stop:
            g = self.generator
            return np.zeros((0, g.channels, g.resolution, g.resolution), np.uint8)
        if start < self._buf_start:
            self._reset()
        parts, row = [], start
        gen = self.generator
        with torch.no_grad():
            while row < stop:
                if self._buf is not None and self._buf_start <= row < self._next:
                    end = min(stop, self._next)
                    parts.append(self._buf[row - self._buf_start:end - self._buf_start])
                    row = end
                    continue
                m = min(self.batch_size, self.num_images - self._next)
                z = gen.sample_z(m, rng=self._rng)
                gen.randomize_noise(rng=self._rng)
                first = self._next
                self._next += m
                if self._next <= row:  # a batch wholly before the rows asked for: draws only
                    self._buf, self._buf_start = None, self._next
                    continue
                img = gen(z, psi=self.psi)
                if not self._checked:
                    self._check_range(img)
                self._buf, self._buf_start = images_to_uint8(img, gen.value_range), first
        return np.concatenate(parts) if len(parts) > 1 else np.ascontiguousarray(parts[0])

    def _check_range(self, img):
        import torch

        lo, hi = (float(v) for v in self.generator.value_range)
        x = img.detach().float()
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"generator {self.name!r} returned NaN or Inf in its first batch; "
                             "check the network and its weights")
        xmin, xmax = float(x.min()), float(x.max())
        slack = RANGE_SLACK * (hi - lo)
        hint = ""
        if xmin < lo - slack or xmax > hi + slack:
            if xmin >= -1.5 and xmax <= 1.5:
                hint = " They look like [-1, 1] images (tanh): declare value_range=(-1, 1)."
            elif xmin >= -slack and xmax <= 255 + slack:
                hint = " They look like [0, 255] images: declare value_range=(0, 255)."
        else:
            from genmetrics_nb.images import check_narrow_range

            check_narrow_range(
                xmin, xmax, (lo, hi), allow_narrow=self.allow_narrow,
                what=f"generator {self.name!r} declares value_range=({lo:g}, {hi:g}) but its first batch "
                     f"of images lies in [{xmin:.4g}, {xmax:.4g}]",
                hint="pass allow_narrow=True to sources.generated (or GeneratorSource)")
            self._checked = True
            return
        raise ValueError(
            f"generator {self.name!r} declares value_range=({lo:g}, {hi:g}) but its first batch of "
            f"images lies in [{xmin:.4g}, {xmax:.4g}].{hint} Declare the range its images have "
            "(ModuleGenerator(..., value_range=...), or sources.generated(..., value_range=...))"
        )
