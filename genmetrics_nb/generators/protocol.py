"""What the generator metrics need from a generator.

PPL, linear separability and the StyleGAN2 metric table only need four
things: draw latents z, map them to intermediate latents w (style-based
generators), know the average w (truncation trick), and synthesise images
from w with a declared value range. :class:`Generator` is that contract;
:mod:`genmetrics_nb.generators.adapters` fits it to a plain ``nn.Module``
(z -> image) and to NVIDIA's StyleGAN2-ADA / StyleGAN3 networks.
"""
from __future__ import annotations

import numpy as np

from genmetrics_nb.util.checks import check_int

__all__ = ["Generator", "check_psi", "check_value_range", "images_to_uint8"]


class Generator:
    """Base class of generator adapters.

    Subclasses set the attributes and implement :meth:`synthesis`, and
    :meth:`mapping` when ``has_mapping``.

    Attributes
    ----------
    name : str
        Shown in reports.
    z_dim : int
        Size of the input latent z (standard normal).
    w_dim : int or None
        Size of the intermediate latent w; None without a mapping network.
    has_mapping : bool
        Whether :meth:`mapping` exists (needed for ``space="w"`` and truncation).
    value_range : tuple of float
        Range of the images :meth:`synthesis` returns, e.g. ``(-1, 1)``.
        Images may overshoot it slightly (StyleGAN has no output
        non-linearity); :meth:`generate` clips before rounding to uint8.
    channels, resolution : int
        Image channels and side.
    device : torch.device
    """

    name: str = "generator"
    z_dim: int
    w_dim: int | None = None
    has_mapping: bool = False
    value_range: tuple = (-1.0, 1.0)
    channels: int = 3
    resolution: int = 0

    # -- latents --------------------------------------------------------------------
    def sample_z(self, n: int, *, rng):
        """``n`` standard-normal latents from a ``numpy.random.Generator``, as a float32 tensor.

        NumPy's streams are split-invariant (two draws of 3 and 5 rows equal
        one draw of 8), so every metric is independent of the batch size, and
        the latents are the same on every device for a given seed.
        """
        import torch

        z = rng.standard_normal((int(n), self.z_dim), dtype=np.float32)
        return torch.from_numpy(z).to(self.device)

    def mapping(self, z, *, psi: float = 1.0):
        """Intermediate latents w for z, truncated towards :attr:`w_avg` by ``psi``."""
        raise ValueError(
            f"generator {self.name!r} has no mapping network; use space='z' and psi=1.0"
        )

    @property
    def w_avg(self):
        """The average w (centre of the truncation trick)."""
        raise ValueError(f"generator {self.name!r} has no mapping network, so no w_avg")

    def w_features(self, w):
        """w as one vector per sample (``N x w_dim``), for classifiers such as the SVM."""
        return w[:, -1] if w.ndim == 3 else w

    # -- images ---------------------------------------------------------------------
    def synthesis(self, w):
        """Images from w (or from z when there is no mapping), float, in :attr:`value_range`."""
        raise NotImplementedError

    def randomize_noise(self, *, rng) -> None:
        """Redraw per-layer noise inputs (StyleGAN's ``noise_const``); default: none."""

    def __call__(self, z, *, psi: float = 1.0):
        """Images for latents z: ``synthesis(mapping(z, psi))``."""
        if self.has_mapping:
            return self.synthesis(self.mapping(z, psi=psi))
        if psi != 1.0:
            self.mapping(z, psi=psi)  # raises the explanatory error
        return self.synthesis(z)

    def generate(self, n: int, *, seed: int = 0, psi: float = 1.0, batch_size: int = 64,
                 progress: bool = True):
        """``n`` images as uint8 ``N x C x H x W`` numpy array (clipped, rounded).

        Parameters
        ----------
        n : int
            Number of images.
        seed : int
            Seed of the latents (``numpy.random.default_rng(seed)``); the
            images do not depend on ``batch_size`` (unless the network has
            noise inputs, redrawn per batch).
        psi : float
            Truncation: 1 = none, 0 = every image is the average w's.
        batch_size : int
        progress : bool
            Show a progress bar.
        """
        import torch
        from tqdm.auto import tqdm

        n = check_int(n, name="n", minimum=1)
        batch_size = check_int(batch_size, name="batch_size", minimum=1)
        check_psi(psi, self)
        rng = np.random.default_rng(int(seed))
        lo, hi = (float(v) for v in self.value_range)
        out = np.empty((n, self.channels, self.resolution, self.resolution), np.uint8)
        with torch.no_grad():
            for start in tqdm(range(0, n, batch_size), disable=not progress, desc="generate", unit="batch"):
                stop = min(start + batch_size, n)
                z = self.sample_z(stop - start, rng=rng)
                self.randomize_noise(rng=rng)
                out[start:stop] = images_to_uint8(self(z, psi=psi), (lo, hi))
        return out

    def __repr__(self):
        return (
            f"{type(self).__name__}(name={self.name!r}, z_dim={self.z_dim}, w_dim={self.w_dim}, "
            f"{self.channels}x{self.resolution}x{self.resolution}, value_range={self.value_range})"
        )


def check_psi(psi, gen) -> float:
    """Validate a truncation psi for ``gen``."""
    if isinstance(psi, bool) or not isinstance(psi, (int, float, np.integer, np.floating)):
        raise TypeError(f"psi must be a finite number (1.0 = no truncation), got {psi!r}")
    if not np.isfinite(psi):
        raise ValueError(f"psi must be a finite number (1.0 = no truncation), got {psi!r}")
    if psi != 1.0 and not gen.has_mapping:
        raise ValueError(
            f"psi={psi} needs a mapping network with an average w, and generator {gen.name!r} "
            "has none; use psi=1.0"
        )
    return float(psi)


def images_to_uint8(img, value_range) -> np.ndarray:
    """A generator's float images as uint8 ``N x C x H x W`` numpy: clipped to ``value_range``, rounded.

    The one conversion of :meth:`Generator.generate` and of streamed
    generator sources, so that both give the same bytes.
    """
    import torch

    lo, hi = (float(v) for v in value_range)
    img = img.float().clamp(lo, hi)
    return torch.round((img - lo) * (255.0 / (hi - lo))).to(torch.uint8).cpu().numpy()


def check_value_range(value_range) -> tuple[float, float]:
    """``(low, high)`` floats of a declared value range, ``low < high``."""
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"value_range must be the pair of numbers the generator's images span, e.g. (-1, 1), "
            f"got {value_range!r}"
        ) from None
    if not hi > lo:
        raise ValueError(f"value_range must satisfy low < high, got {value_range!r}")
    return lo, hi
