"""Perceptual path length (Karras et al. 2019; StyleGAN2-ADA's protocol).

For many random pairs of latents, take two points a small step ``epsilon``
apart on the path between them -- spherical interpolation (slerp) in z,
linear (lerp) in w -- synthesise both, measure their perceptual distance,
and divide by ``epsilon ** 2``. Discard the values below the 1st and above
the 99th percentile and report the mean of the rest.

The module is split into pure steps: :func:`slerp` / :func:`lerp`,
:func:`path_distances` (one batch of given latents -> distances) and
:func:`trimmed_mean`, composed by :func:`ppl`.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import check_int

__all__ = ["PPLResult", "ppl", "path_distances", "trimmed_mean", "slerp", "lerp", "resolve_distance"]

_SPACES = ("w", "z")
_SAMPLINGS = ("end", "full")


@dataclasses.dataclass(frozen=True, eq=False)
class PPLResult(Result):
    """Perceptual path length and how it was measured.

    Attributes
    ----------
    value : float
        Mean of the kept ``distance / epsilon**2`` values (the PPL).
        ``to_dict()`` also writes it under its former key ``"ppl"``.
    std : float
        Their standard deviation (population, as torch-fidelity).
    space, sampling : str
        ``"w"`` / ``"z"`` and ``"end"`` / ``"full"``.
    epsilon : float
    psi : float
        Truncation of w (1 = none).
    distance : str
        Name of the distance (``"lpips-vgg-v0.1"`` is the paper's).
    num_samples, num_kept : int
        Pairs measured, and kept after the percentile cut.
    percentiles : tuple or None
        The cut, ``(1, 99)`` in the paper.
    crop : bool
        StyleGAN's FFHQ face crop.
    round_to_uint8 : bool
        Whether images were rounded to 8 bits before the distance.
    distances : numpy.ndarray
        All ``num_samples`` values before the cut (float64).
    """

    value: float
    std: float
    space: str
    sampling: str
    epsilon: float
    psi: float
    distance: str
    num_samples: int
    num_kept: int
    percentiles: tuple | None
    crop: bool
    round_to_uint8: bool
    distances: np.ndarray = dataclasses.field(repr=False)

    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ("std", "distance", "psi")
    n_fields: ClassVar[tuple[str, ...]] = ("num_kept", "num_samples")
    dict_aliases: ClassVar[dict] = {"value": "ppl"}
    dict_exclude: ClassVar[tuple[str, ...]] = ("distances",)

    def _label(self) -> str:
        return f"PPL ({self.space}, {self.sampling})"

    def __str__(self):
        return (
            f"PPL ({self.space}, {self.sampling}) = {self.value:.4g}  [{self.distance}, psi={self.psi:g}, "
            f"{self.num_kept}/{self.num_samples} pairs kept, epsilon={self.epsilon:g}]"
        )


# -- interpolation -------------------------------------------------------------------
def lerp(a, b, t):
    """Linear interpolation ``a + (b - a) * t`` with ``t`` of shape ``N`` (broadcast)."""
    t = t.reshape(-1, *([1] * (a.ndim - 1)))
    return a + (b - a) * t


def slerp(a, b, t):
    """Spherical interpolation between the directions of ``a`` and ``b``.

    As StyleGAN (``metrics/perceptual_path_length.py``): both endpoints are
    normalised to unit length and the result is a unit vector, at angle
    ``t * angle(a, b)`` from ``a`` along the great circle towards ``b``.
    """
    import torch

    t = t.reshape(-1, 1)
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    d = (a * b).sum(dim=-1, keepdim=True)
    p = t * torch.acos(d.clamp(-1.0, 1.0))
    c = b - d * a
    c = c / c.norm(dim=-1, keepdim=True)
    out = a * torch.cos(p) + c * torch.sin(p)
    return out / out.norm(dim=-1, keepdim=True)


# -- distances -------------------------------------------------------------------------
def resolve_distance(distance, *, resize=None, device="auto"):
    """Turn ``distance`` into ``(callable(x, y) -> N distances, name)``.

    ``distance`` is a name (``"lpips-vgg"``, ``"lpips-alex"``,
    ``"lpips-squeeze"``, ``"efficientnet-lite0"``), an
    :class:`~genmetrics_nb.metrics.pixel.lpips.LPIPS` object, or any callable
    taking two float ``N x C x H x W`` tensors in [-1, 1] and returning ``N``
    distances (its ``name`` attribute, if any, is reported).
    """
    from genmetrics_nb.metrics.pixel.lpips import LPIPS

    names = {"lpips-vgg": "vgg", "lpips-alex": "alex", "lpips-squeeze": "squeeze",
             "efficientnet-lite0": "efficientnet-lite0"}
    if isinstance(distance, str):
        if distance not in names:
            raise ValueError(
                f"distance must be one of {sorted(names)}, an LPIPS object or a callable, got {distance!r}"
            )
        distance = LPIPS(names[distance], resize=resize, device=device)
    elif resize is not None:
        raise ValueError("resize= applies to a distance given by name; build the LPIPS object with resize= instead")
    if isinstance(distance, LPIPS):
        obj = distance

        def fn(x, y):
            return obj.distance(x.to(obj.device), y.to(obj.device))

        return fn, obj.name
    if callable(distance):
        return distance, str(getattr(distance, "name", getattr(distance, "__name__", "custom")))
    raise TypeError(
        f"distance must be a name such as 'lpips-vgg', an LPIPS object or a callable, got {type(distance).__name__}"
    )


def _prepare_images(img, gen, *, crop, round_to_uint8):
    """Crop, downsample to <= 256, and map to [-1, 1] as StyleGAN2-ADA's PPLSampler."""
    import torch

    if crop:
        if img.shape[2] != img.shape[3]:
            raise ValueError("crop=True needs square images")
        c = img.shape[2] // 8
        img = img[:, :, c * 3: c * 7, c * 2: c * 6]
    factor = gen.resolution // 256
    if factor > 1:
        n, ch, h, w = img.shape
        img = img.reshape(n, ch, h // factor, factor, w // factor, factor).mean(dim=(3, 5))
    lo, hi = gen.value_range
    img = (img.float() - lo) * (2.0 / (hi - lo)) - 1.0
    if round_to_uint8:
        # What a uint8 pipeline does (torch-fidelity's default dtype): clip and round to 8 bits.
        img = torch.round((img.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1
    return img


def path_distances(generator, z0, z1, t, *, space="w", epsilon=1e-4, distance, psi=1.0, crop=False,
                   round_to_uint8=False):
    """``distance(G(p(t)), G(p(t + epsilon))) / epsilon**2`` for given latents.

    Parameters
    ----------
    generator : Generator
        See :func:`ppl`.
    z0, z1 : torch.Tensor
        ``N x z_dim`` endpoints (on the generator's device).
    t : torch.Tensor
        ``N`` positions on the path, in [0, 1].
    space : {"w", "z"}
    epsilon : float
    distance : callable
        ``distance(x, y)`` on float images in [-1, 1] -> ``N`` distances.
    psi : float
        Truncation applied by the mapping.
    crop, round_to_uint8 : bool
        See :func:`ppl`.

    Returns
    -------
    torch.Tensor
        ``N`` float values.
    """
    import torch

    with torch.no_grad():
        if space == "w":
            w0, w1 = generator.mapping(torch.cat([z0, z1]), psi=psi).chunk(2)
            wt0, wt1 = lerp(w0, w1, t), lerp(w0, w1, t + epsilon)
        else:
            zt0, zt1 = slerp(z0, z1, t), slerp(z0, z1, t + epsilon)
            zz = torch.cat([zt0, zt1])
            wt0, wt1 = (generator.mapping(zz, psi=psi) if generator.has_mapping else zz).chunk(2)
        img = generator.synthesis(torch.cat([wt0, wt1]))
        img = _prepare_images(img, generator, crop=crop, round_to_uint8=round_to_uint8)
        img0, img1 = img.chunk(2)
        d = distance(img0, img1)
    return d.reshape(-1).double() / epsilon**2


def trimmed_mean(values, percentiles=(1, 99)):
    """Mean (and std, count) of the values between two percentiles.

    As StyleGAN: the low cut uses ``numpy.percentile(..., method="lower")``
    and the high cut ``method="higher"``, and both ends are inclusive.

    Returns
    -------
    (mean, std, kept) : float, float, int
    """
    d = np.asarray(values, dtype=np.float64)
    if percentiles is not None:
        lo = np.percentile(d, percentiles[0], method="lower")
        hi = np.percentile(d, percentiles[1], method="higher")
        d = d[(d >= lo) & (d <= hi)]
    return float(d.mean()), float(d.std()), int(d.size)


def _check_args(space, sampling, epsilon, num_samples, percentiles, crop, batch_size, round_to_uint8):
    if space not in _SPACES:
        raise ValueError(f"space must be 'w' (intermediate latents) or 'z' (input latents), got {space!r}")
    if sampling not in _SAMPLINGS:
        raise ValueError(f"sampling must be 'end' (t = 0, the paper's default) or 'full' (t ~ U(0, 1)), got {sampling!r}")
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.integer, np.floating)):
        raise TypeError(f"epsilon must be a small positive number such as 1e-4, got {epsilon!r}")
    if not 0 < epsilon < 0.5:
        raise ValueError(f"epsilon must be a small positive number such as 1e-4, got {epsilon!r}")
    check_int(num_samples, name="num_samples", minimum=2, hint="the paper uses 100_000")
    check_int(batch_size, name="batch_size", minimum=1)
    if percentiles is not None:
        try:
            lo, hi = (float(p) for p in percentiles)
        except (TypeError, ValueError):
            raise ValueError(f"percentiles must be (low, high) such as (1, 99), or None, got {percentiles!r}") from None
        if not 0 <= lo < hi <= 100:
            raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got {percentiles!r}")
        percentiles = (lo, hi)
    if not isinstance(crop, bool):
        raise TypeError(f"crop must be True or False, got {crop!r}")
    if not isinstance(round_to_uint8, bool):
        raise TypeError(f"round_to_uint8 must be True or False, got {round_to_uint8!r}")
    return percentiles


def ppl(generator, *, space: str = "w", sampling: str = "end", epsilon: float = 1e-4,
        num_samples: int = 100_000, distance="lpips-vgg", resize: int | None = None, crop: bool = False,
        psi: float = 1.0, percentiles=(1, 99), round_to_uint8: bool = False, batch_size: int = 64,
        seed: int = 0, device="auto", progress: bool = True) -> PPLResult:
    """Perceptual path length of a generator.

    Parameters
    ----------
    generator : Generator or StyleGAN network
        A :class:`~genmetrics_nb.generators.Generator`, or a network with the
        StyleGAN2-ADA interface (wrapped by
        :func:`~genmetrics_nb.generators.check_generator`).
    space : {"w", "z"}
        Interpolate intermediate latents linearly (``"w"``) or input latents
        spherically (``"z"``).
    sampling : {"end", "full"}
        ``"end"``: t = 0, the path's endpoint (the StyleGAN2 default);
        ``"full"``: t uniform in [0, 1].
    epsilon : float
        Step along the path.
    num_samples : int
        Pairs of latents; 100 000 in the papers.
    distance : str, LPIPS or callable
        ``"lpips-vgg"`` (the papers'), ``"lpips-alex"``, ``"lpips-squeeze"``,
        ``"efficientnet-lite0"`` (the un-learned baseline, offline), an
        :class:`~genmetrics_nb.metrics.pixel.lpips.LPIPS`, or a callable on float
        images in [-1, 1].
    resize : int, optional
        Image side for a distance given by name (efficientnet-lite0 needs a
        multiple of 32, e.g. 64 for 28 x 28 images).
    crop : bool
        Crop to the central face region as for FFHQ in the paper.
    psi : float
        Truncation of w (1 = none).
    percentiles : (float, float) or None
        Values outside are discarded; ``(1, 99)`` in the papers.
    round_to_uint8 : bool
        Round images to 8 bits before the distance, as a uint8 pipeline does.
        Off in the papers; with ``epsilon=1e-4`` rounding swamps the signal.
    batch_size : int
        Pairs per batch.
    seed : int
        Seed of t, the latent pairs and noise buffers (independent NumPy
        streams from ``numpy.random.SeedSequence(seed)``); the result does not
        depend on ``batch_size``.
    device : str
        For the distance when given by name; the generator stays where it is.
    progress : bool

    Returns
    -------
    PPLResult
        ``.value`` is the PPL; ``.distances`` every measured value before the cut.

    Notes
    -----
    To match StyleGAN2 (Table 1, FFHQ): ``space="w"``, ``sampling="end"``,
    ``epsilon=1e-4``, ``num_samples=100_000``, ``distance="lpips-vgg"`` (the
    LPIPS v0.1 VGG16 with torchvision weights; StyleGAN's own ``vgg16.pt`` is a
    TorchScript export of the same network), ``crop=True`` for FFHQ, images
    above 256 px box-downsampled to 256 (done here automatically).
    StyleGAN1 reported ``"full"`` and ``"end"`` in both z and w.

    Peers: torchmetrics' ``perceptual_path_length`` interpolates whatever the
    generator's ``forward`` takes, always at t = 0, and cuts the top at the
    99th percentile with ``"lower"`` interpolation; torch-fidelity's
    ``calculate_ppl`` does the same in z (``lerp`` by default, ``slerp_unit``
    normalises only the second point), resizes to 64 px and rounds the
    images to uint8 before LPIPS by default. With matching latents, space and
    cut, both agree with :func:`path_distances` (``tests/metrics/generator/test_ppl.py``).

    References
    ----------
    T. Karras, S. Laine, T. Aila, "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019 (Sec. 4.1).
    T. Karras et al., "Analyzing and Improving the Image Quality of StyleGAN",
    CVPR 2020. Reference code: https://github.com/NVlabs/stylegan2-ada-pytorch
    (``metrics/perceptual_path_length.py``).
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.generators.adapters import check_generator
    from genmetrics_nb.generators.protocol import check_psi

    gen = check_generator(generator)
    percentiles = _check_args(space, sampling, epsilon, num_samples, percentiles, crop, batch_size, round_to_uint8)
    psi = check_psi(psi, gen)
    if space == "w" and not gen.has_mapping:
        raise ValueError(f"space='w' needs a mapping network and generator {gen.name!r} has none; use space='z'")
    dist_fn, dist_name = resolve_distance(distance, resize=resize, device=device)
    # Independent, split-invariant streams for t, the latent pairs and noise buffers:
    # the result does not depend on batch_size (except through noise buffers).
    rng_t, rng_z, rng_noise = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(3))
    out = []
    with tqdm(total=int(num_samples), disable=not progress, desc=f"PPL {space}/{sampling}", unit="pair") as bar:
        for start in range(0, int(num_samples), int(batch_size)):
            b = min(int(batch_size), int(num_samples) - start)
            t = rng_t.random(b) * (1.0 if sampling == "full" else 0.0)
            zz = torch.from_numpy(rng_z.standard_normal((b, 2, gen.z_dim), dtype=np.float32))
            gen.randomize_noise(rng=rng_noise)
            dev = gen.device
            d = path_distances(gen, zz[:, 0].to(dev), zz[:, 1].to(dev), torch.from_numpy(t).float().to(dev),
                               space=space, epsilon=float(epsilon), distance=dist_fn, psi=psi, crop=crop,
                               round_to_uint8=round_to_uint8)
            out.append(d.cpu().numpy())
            bar.update(b)
    values = np.concatenate(out)
    if not np.all(np.isfinite(values)):
        raise ValueError("the distance returned NaN or Inf for some pairs; check the generator's outputs")
    mean, std, kept = trimmed_mean(values, percentiles)
    return PPLResult(
        value=mean, std=std, space=space, sampling=sampling, epsilon=float(epsilon), psi=psi,
        distance=dist_name, num_samples=int(num_samples), num_kept=kept, percentiles=percentiles,
        crop=crop, round_to_uint8=round_to_uint8, distances=values,
    )
