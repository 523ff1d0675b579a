"""Adapters from common generator forms to :class:`~genmetrics_nb.generators.protocol.Generator`."""
from __future__ import annotations

import copy
import os
import pickle
import sys
from pathlib import Path

import numpy as np

from genmetrics_nb.generators.protocol import Generator, check_value_range
from genmetrics_nb.util.checks import check_choice, check_int

__all__ = ["ModuleGenerator", "StyleGANGenerator", "load_stylegan_pickle", "check_generator"]


class ModuleGenerator(Generator):
    """A plain ``nn.Module`` (or callable) z -> image, optionally with a mapping.

    Parameters
    ----------
    module : callable
        ``module(z)`` -> float images ``N x C x H x W`` (or, with ``mapping``,
        ``module(w)``).
    z_dim : int
        Size of z; latents are standard normal.
    value_range : tuple
        Range of the images, e.g. ``(-1, 1)`` or ``(0, 1)``. Required: a
        generator's output range cannot be told from its images.
    mapping : callable, optional
        ``mapping(z)`` -> w, making the generator style-based (``space="w"``).
    w_avg : torch.Tensor, optional
        Average w for truncation (``psi != 1``).
    name : str, optional
    device : str
        Where to run; the module is moved there if it is an ``nn.Module``.

    Examples
    --------
    >>> import torch
    >>> lin = torch.nn.Linear(8, 3 * 4 * 4)
    >>> gen = ModuleGenerator(lambda z: torch.tanh(lin(z)).view(-1, 3, 4, 4), z_dim=8,
    ...                       value_range=(-1, 1), device="cpu")
    >>> gen.generate(2, progress=False).shape
    (2, 3, 4, 4)
    """

    def __init__(self, module, *, z_dim: int, value_range, mapping=None, w_avg=None, name=None,
                 device="auto"):
        import torch

        from genmetrics_nb.device import resolve

        if not callable(module):
            raise TypeError(f"module must be callable (z -> images), got {type(module).__name__}")
        z_dim = check_int(z_dim, name="z_dim", minimum=1, hint="z_dim is the latent size")
        if mapping is not None and not callable(mapping):
            raise TypeError(f"mapping must be callable (z -> w) or None, got {type(mapping).__name__}")
        self.value_range = check_value_range(value_range)
        self.device = resolve(device)
        self.module = module.to(self.device) if isinstance(module, torch.nn.Module) else module
        self._mapping = mapping.to(self.device) if isinstance(mapping, torch.nn.Module) else mapping
        self.z_dim = int(z_dim)
        self.has_mapping = mapping is not None
        self._w_avg = None if w_avg is None else torch.as_tensor(w_avg).to(self.device)
        self.name = name or type(module).__name__
        with torch.no_grad():
            z = torch.zeros(1, self.z_dim, device=self.device)
            w = self._mapping(z) if self.has_mapping else z
            img = self.module(w)
        if not isinstance(img, torch.Tensor) or img.ndim != 4 or img.shape[-1] != img.shape[-2]:
            raise ValueError(
                "module must return square images as a N x C x H x W tensor, got "
                f"{getattr(img, 'shape', type(img).__name__)}"
            )
        self.w_dim = int(w.shape[-1]) if self.has_mapping else None
        self.channels, self.resolution = int(img.shape[1]), int(img.shape[-1])

    def mapping(self, z, *, psi: float = 1.0):
        if not self.has_mapping:
            return super().mapping(z, psi=psi)
        w = self._mapping(z)
        if psi != 1.0:
            w = self.w_avg.to(w.dtype).lerp(w, psi)
        return w

    @property
    def w_avg(self):
        if not self.has_mapping:
            return super().w_avg
        if self._w_avg is None:
            raise ValueError(
                f"generator {self.name!r} was built without w_avg; pass w_avg= to use truncation psi != 1"
            )
        return self._w_avg

    def synthesis(self, w):
        return self.module(w)


class StyleGANGenerator(Generator):
    """NVIDIA StyleGAN2-ADA / StyleGAN3 networks (and :class:`SmallStyleGAN`).

    Parameters
    ----------
    G : torch.nn.Module
        A network with ``G.mapping(z, c, truncation_psi=...)``,
        ``G.synthesis(ws, noise_mode=..., force_fp32=...)``, ``G.z_dim``,
        ``G.w_dim``, ``G.c_dim``, ``G.img_resolution``, ``G.img_channels``
        and ``G.mapping.w_avg`` -- e.g. ``G_ema`` from a network pickle
        (:func:`load_stylegan_pickle`).
    name : str, optional
    noise_mode : {"const", "random", "none"}
        Noise inputs of the synthesis network. The metrics use ``"const"``
        buffers redrawn per batch (:meth:`randomize_noise`), as StyleGAN2-ADA's PPL.
    device : str

    Notes
    -----
    The network is deep-copied, so redrawing its noise buffers never changes
    the caller's object. Images are in [-1, 1] (with small overshoot).
    Conditional networks (``c_dim > 0``) are not supported.
    """

    def __init__(self, G, *, name=None, noise_mode: str = "const", device="auto"):
        from genmetrics_nb.device import resolve

        missing = [a for a in ("mapping", "synthesis", "z_dim", "img_resolution") if not hasattr(G, a)]
        if missing:
            raise TypeError(f"G lacks the StyleGAN attributes {missing}; is it G_ema from a network pickle?")
        if getattr(G, "c_dim", 0):
            raise ValueError(
                f"G is class-conditional (c_dim={G.c_dim}); the generator metrics support unconditional "
                "networks only"
            )
        check_choice(noise_mode, name="noise_mode", choices=("const", "random", "none"))
        self.device = resolve(device)
        self.G = copy.deepcopy(G).eval().requires_grad_(False).to(self.device)
        self.noise_mode = noise_mode
        self.name = name or type(G).__name__
        self.z_dim = int(G.z_dim)
        self.w_dim = int(G.w_dim)
        self.has_mapping = True
        self.value_range = (-1.0, 1.0)
        self.channels = int(G.img_channels)
        self.resolution = int(G.img_resolution)

    def mapping(self, z, *, psi: float = 1.0):
        return self.G.mapping(z, None, truncation_psi=psi)

    @property
    def w_avg(self):
        return self.G.mapping.w_avg

    def synthesis(self, w):
        return self.G.synthesis(w, noise_mode=self.noise_mode, force_fp32=True)

    def randomize_noise(self, *, rng) -> None:
        import torch

        for name, buf in self.G.named_buffers():
            if name.endswith(".noise_const"):
                noise = rng.standard_normal(tuple(buf.shape), dtype=np.float32)
                buf.copy_(torch.from_numpy(noise).to(buf.device, buf.dtype))


def load_stylegan_pickle(path, *, code_dir=None, key: str = "G_ema", device="auto") -> StyleGANGenerator:
    """Load a StyleGAN2-ADA / StyleGAN3 network pickle (``*.pkl``) as a generator.

    Parameters
    ----------
    path : str or Path
        The network pickle, e.g. ``stylegan2-ffhq-1024x1024.pkl``.
    code_dir : str or Path, optional
        A checkout of https://github.com/NVlabs/stylegan2-ada-pytorch or
        https://github.com/NVlabs/stylegan3 (the pickles reference its
        ``dnnlib`` and ``torch_utils`` packages); added to ``sys.path``.
        Not needed when that code is importable already.
    key : str
        Which network of the pickle: ``"G_ema"`` (the one metrics use) or ``"G"``.
    device : str

    Notes
    -----
    Unpickling runs code from the file: load only pickles you trust.
    TensorFlow-era StyleGAN2 pickles need the repository's ``legacy.py``,
    which is used when importable.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no network pickle at {str(path)!r}")
    if code_dir is not None:
        code_dir = str(Path(code_dir).resolve())
        if not os.path.isdir(code_dir):
            raise FileNotFoundError(f"code_dir={code_dir!r} is not a folder")
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
    try:
        try:
            import legacy  # the StyleGAN repositories' converter for older pickles

            with open(path, "rb") as fh:
                data = legacy.load_network_pkl(fh)
        except ImportError:
            with open(path, "rb") as fh:
                data = pickle.load(fh)
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"unpickling {path.name} needs NVIDIA's StyleGAN code (missing module {exc.name!r}): clone "
            "https://github.com/NVlabs/stylegan3 (or stylegan2-ada-pytorch) and pass code_dir=<checkout>"
        ) from exc
    if not isinstance(data, dict) or key not in data:
        raise ValueError(
            f"{path.name} holds no {key!r} network (keys: {sorted(data) if isinstance(data, dict) else '?'}); "
            "pass key='G' or a StyleGAN2-ADA / StyleGAN3 network pickle"
        )
    return StyleGANGenerator(data[key], name=path.stem, device=device)


def check_generator(gen) -> Generator:
    """Return ``gen`` as a :class:`Generator`, wrapping known network types.

    Accepts a :class:`Generator`, a StyleGAN2-ADA / StyleGAN3 network (an
    object with ``mapping``, ``synthesis``, ``z_dim`` and ``img_resolution``,
    including :class:`~genmetrics_nb.generators.small_stylegan.SmallStyleGAN`).
    A plain ``nn.Module`` z -> image needs its z size and value range: wrap it
    with :class:`ModuleGenerator`.
    """
    if isinstance(gen, Generator):
        return gen
    if all(hasattr(gen, a) for a in ("mapping", "synthesis", "z_dim", "img_resolution")):
        return StyleGANGenerator(gen)
    raise TypeError(
        f"generator must be a genmetrics_nb.generators.Generator or a StyleGAN-style network, got "
        f"{type(gen).__name__}; wrap a plain z -> image module with "
        "genmetrics_nb.generators.ModuleGenerator(module, z_dim=..., value_range=(-1, 1))"
    )
