"""A small style-based generator (StyleGAN2's design, sized for a CPU).

Mapping network: z (pixel-normalised) -> MLP with leaky ReLU -> w, with a
running average ``w_avg`` for the truncation trick. Synthesis network: a
learned constant, modulated-demodulated 3 x 3 convolutions (one style per
layer, all from the same w), nearest-neighbour upsampling x2, and a
modulated 1 x 1 "toRGB" layer; ``tanh`` keeps the output in [-1, 1]. No
noise inputs, so an image is a deterministic function of w.

Its interface follows NVIDIA's StyleGAN2-ADA / StyleGAN3 networks
(``G.mapping(z, c, truncation_psi=...)`` returning ``[N, num_ws, w_dim]``,
``G.synthesis(ws)``, ``G.z_dim``, ``G.w_dim``, ``G.num_ws``,
``G.img_resolution``, ``G.img_channels``, ``G.c_dim``, ``G.mapping.w_avg``),
so :class:`~genmetrics_nb.generators.adapters.StyleGANGenerator` wraps both.

References
----------
T. Karras, S. Laine, M. Aittala, J. Hellsten, J. Lehtinen, T. Aila, "Analyzing
and Improving the Image Quality of StyleGAN", CVPR 2020;
https://github.com/NVlabs/stylegan2-ada-pytorch (``training/networks.py``:
``modulated_conv2d`` non-fused path, ``MappingNetwork``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SmallStyleGAN", "Discriminator", "ARCH_DEFAULTS"]

#: The architecture of the shipped Fashion-MNIST generator.
ARCH_DEFAULTS = {
    "z_dim": 64,
    "w_dim": 64,
    "mapping_layers": 3,
    "mapping_hidden": 128,
    "channels": (64, 32, 16),  # at 7 x 7, 14 x 14, 28 x 28
    "img_channels": 1,
    "img_resolution": 28,
}


class _FC(nn.Module):
    """Fully connected layer with StyleGAN's equalised learning rate."""

    def __init__(self, cin, cout, *, bias_init=0.0, lr_mul=1.0, act=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(cin)
        self.lr_mul = lr_mul
        self.act = act

    def forward(self, x):
        x = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.act else x


class MappingNetwork(nn.Module):
    def __init__(self, z_dim, w_dim, num_ws, *, layers=3, hidden=128, lr_mul=0.01, w_avg_beta=0.995):
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws = z_dim, w_dim, num_ws
        dims = [z_dim] + [hidden] * (layers - 1) + [w_dim]
        self.net = nn.Sequential(*[_FC(a, b, lr_mul=lr_mul) for a, b in zip(dims[:-1], dims[1:])])
        self.w_avg_beta = w_avg_beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z, c=None, truncation_psi=1.0, *, update_w_avg=False):
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)  # pixel norm
        w = self.net(z)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().mean(0).lerp(self.w_avg, self.w_avg_beta))
        if truncation_psi != 1:
            w = self.w_avg.lerp(w, truncation_psi)
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)


class _ModConv(nn.Module):
    """Modulated convolution (StyleGAN2), with optional demodulation."""

    def __init__(self, cin, cout, w_dim, kernel, *, demodulate=True, up=False, act=True):
        super().__init__()
        self.affine = _FC(w_dim, cin, bias_init=1.0, act=False)
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.demodulate, self.up, self.act = demodulate, up, act
        self.scale = 1.0 / math.sqrt(cin * kernel * kernel)
        self.pad = kernel // 2

    def forward(self, x, w):
        styles = self.affine(w)  # N x cin
        weight = self.weight * self.scale
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        # Non-fused modulation: scale the input channels, convolve with the
        # shared weight, then demodulate the output channels. Mathematically
        # equal to convolving with the per-sample modulated weight.
        x = F.conv2d(x * styles[:, :, None, None], weight, padding=self.pad)
        if self.demodulate:
            d = torch.rsqrt((weight.square().sum(dim=(2, 3))[None] * styles[:, None, :].square()).sum(2) + 1e-8)
            x = x * d[:, :, None, None]
        x = x + self.bias[None, :, None, None]
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.act else x


class SynthesisNetwork(nn.Module):
    def __init__(self, w_dim, *, channels, img_channels, img_resolution):
        super().__init__()
        n_up = len(channels) - 1
        base = img_resolution // 2**n_up
        if base * 2**n_up != img_resolution:
            raise ValueError(f"img_resolution={img_resolution} is not divisible by 2**{n_up}")
        self.const = nn.Parameter(torch.randn(channels[0], base, base))
        layers = [_ModConv(channels[0], channels[0], w_dim, 3)]
        for cin, cout in zip(channels[:-1], channels[1:]):
            layers += [_ModConv(cin, cout, w_dim, 3, up=True), _ModConv(cout, cout, w_dim, 3)]
        self.layers = nn.ModuleList(layers)
        self.to_rgb = _ModConv(channels[-1], img_channels, w_dim, 1, demodulate=False, act=False)
        self.num_ws = len(layers) + 1

    def forward(self, ws, **_ignored):
        x = self.const[None].expand(ws.shape[0], -1, -1, -1)
        for i, layer in enumerate(self.layers):
            x = layer(x, ws[:, i])
        return torch.tanh(self.to_rgb(x, ws[:, -1]))


class SmallStyleGAN(nn.Module):
    """Mapping + synthesis, with the StyleGAN2-ADA attribute names.

    Parameters
    ----------
    z_dim, w_dim : int
        Latent sizes.
    mapping_layers, mapping_hidden : int
        Depth and width of the mapping MLP.
    channels : tuple of int
        Feature channels at each resolution, from the constant upwards.
    img_channels, img_resolution : int
        Output images: ``img_channels x img_resolution x img_resolution`` in [-1, 1].
    """

    def __init__(self, *, z_dim=ARCH_DEFAULTS["z_dim"], w_dim=ARCH_DEFAULTS["w_dim"],
                 mapping_layers=ARCH_DEFAULTS["mapping_layers"], mapping_hidden=ARCH_DEFAULTS["mapping_hidden"],
                 channels=ARCH_DEFAULTS["channels"], img_channels=ARCH_DEFAULTS["img_channels"],
                 img_resolution=ARCH_DEFAULTS["img_resolution"]):
        super().__init__()
        self.synthesis = SynthesisNetwork(
            w_dim, channels=tuple(channels), img_channels=img_channels, img_resolution=img_resolution
        )
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            z_dim, w_dim, self.num_ws, layers=mapping_layers, hidden=mapping_hidden
        )
        self.z_dim, self.w_dim, self.c_dim = z_dim, w_dim, 0
        self.img_channels, self.img_resolution = img_channels, img_resolution
        self.init_kwargs = dict(
            z_dim=z_dim, w_dim=w_dim, mapping_layers=mapping_layers, mapping_hidden=mapping_hidden,
            channels=list(channels), img_channels=img_channels, img_resolution=img_resolution,
        )

    def forward(self, z, c=None, truncation_psi=1.0, **kwargs):
        return self.synthesis(self.mapping(z, c, truncation_psi=truncation_psi), **kwargs)


class Discriminator(nn.Module):
    """A small convolutional discriminator for 28 x 28 images (training only)."""

    def __init__(self, *, img_channels=1, img_resolution=28, channels=(32, 64, 128)):
        super().__init__()
        layers, cin, side = [], img_channels, img_resolution
        for cout in channels:
            layers += [nn.Conv2d(cin, cout, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            cin, side = cout, side // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin * side * side, 1)

    def forward(self, x):
        return self.head(self.features(x).flatten(1)).squeeze(1)
