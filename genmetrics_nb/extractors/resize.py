"""clean-fid's three resize modes for the FID Inception, and the resizes behind them.

The FID Inception sees 299 x 299 images, so every image is resized first,
and *how* changes the FID: Parmar et al. (clean-fid) show that the choice of
filter alone moves FID by several points at low resolution. clean-fid names
three protocols (its ``mode=``); this toolkit offers the same three under the
same names for the ``inception-v3-fid`` extractor
(``gm.get_extractor("inception-v3-fid", resize=...)``, ``gm.fid(..., resize=...)``):

``"legacy_tensorflow"`` (the toolkit's default)
    TensorFlow 1.x ``resize_bilinear(align_corners=False)`` on float 0..255
    (source pixel ``dst * in / out``, no half-pixel offset, edge repeated),
    then ``(x - 128) / 128``. The protocol of the original TF code (TTUR,
    whose graph resizes internally), torch-fidelity, StyleGAN2-ADA's
    ``inception-2015-12-05.pt`` and clean-fid ``mode="legacy_tensorflow"``
    (which feeds that torchscript the original-size images). Implemented by
    :func:`genmetrics_nb.extractors.inception_fid.tf1_bilinear_resize`
    (torch-fidelity's arithmetic, bit-exact to TF on the CPU); the
    torchscript's ``affine_grid``/``grid_sample`` emulation samples the same
    coordinates and agrees to float32 rounding of those coordinates.
``"clean"``
    PIL ``Image.resize(..., Image.BICUBIC)`` on each channel as a float32
    ``'F'`` image (antialiased when shrinking), clipped to [0, 255] and *not*
    quantised back to ``uint8``, then ``(x - 128) / 128``: clean-fid's
    default, ``mode="clean"`` (:func:`pil_bicubic_resize`).
``"legacy_pytorch"``
    ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``
    without antialiasing, then ``2 * (x / 255) - 1``: what pytorch-fid does
    inside its ``InceptionV3`` (``resize_input=True``, ``normalize_input=True``)
    and clean-fid ``mode="legacy_pytorch"`` (:func:`torch_bilinear_resize`).
    Note the normalisation: ``(x - 127.5) / 127.5``, not the TF graph's
    ``(x - 128) / 128``.

FID values computed in different modes are different numbers; compare only
values of the same mode (the mode is part of the extractor's ``spec``, hence
of every cache key and result).

References
----------
.. [1] G. Parmar, R. Zhang, J.-Y. Zhu, "On Aliased Resizing and Surprising
   Subtleties in GAN Evaluation", CVPR 2022.
   https://github.com/GaParmar/clean-fid (``resize.py``: ``build_resizer``,
   ``make_resizer``; ``features.py``: ``build_feature_extractor``;
   ``inception_torchscript.py``).
.. [2] pytorch-fid, ``inception.py`` (``InceptionV3.forward``):
   https://github.com/mseitzer/pytorch-fid
.. [3] torch-fidelity, ``interpolate_compat_tensorflow.py``:
   https://github.com/toshas/torch-fidelity
.. [4] Pillow, ``libImaging/Resample.c`` (``bicubic_filter`` with a = -0.5,
   ``precompute_coeffs``): https://github.com/python-pillow/Pillow
"""
from __future__ import annotations

from genmetrics_nb.util.checks import check_choice

__all__ = [
    "DEFAULT_RESIZE",
    "RESIZE_MODES",
    "RESIZE_SPECS",
    "check_resize_mode",
    "pil_bicubic_resize",
    "torch_bilinear_resize",
]

#: clean-fid's mode names, in the order the toolkit documents them.
RESIZE_MODES = ("legacy_tensorflow", "clean", "legacy_pytorch")

#: The mode ``inception-v3-fid`` uses unless told otherwise: the protocol of
#: published FIDs (TTUR, torch-fidelity, StyleGAN2-ADA).
DEFAULT_RESIZE = "legacy_tensorflow"

#: What each mode does, as recorded in the extractor's ``spec``.
RESIZE_SPECS = {
    "legacy_tensorflow": {
        "resize": "TF1 bilinear, align_corners=False (torch-fidelity interpolate_bilinear_2d_like_tensorflow1x)",
        "normalize": "(x - 128) / 128 on 0..255 RGB",
        "matches": "TTUR (TF), torch-fidelity, StyleGAN2-ADA torchscript, clean-fid mode='legacy_tensorflow'",
    },
    "clean": {
        "resize": "PIL bicubic per channel on float32 ('F'), antialiased, clipped to [0, 255], not requantised",
        "normalize": "(x - 128) / 128 on 0..255 RGB",
        "matches": "clean-fid mode='clean' (its default)",
    },
    "legacy_pytorch": {
        "resize": "torch interpolate bilinear, align_corners=False, no antialias",
        "normalize": "2 * (x / 255) - 1 on 0..255 RGB",
        "matches": "pytorch-fid, clean-fid mode='legacy_pytorch'",
    },
}


def check_resize_mode(resize, *, name: str = "resize") -> str:
    """``resize`` if it is one of :data:`RESIZE_MODES`, else a ValueError listing them."""
    if not isinstance(resize, str):
        raise TypeError(
            f"{name} must be one of {', '.join(repr(m) for m in RESIZE_MODES)} (clean-fid's modes), "
            f"got {type(resize).__name__}"
        )
    return check_choice(resize, name=name, choices=RESIZE_MODES)


def _check_input(x, size, what):
    import torch

    if not torch.is_tensor(x) or not torch.is_floating_point(x) or x.ndim != 4:
        raise ValueError(f"{what} needs a float N x C x H x W tensor")
    return int(size[0]), int(size[1])


def pil_bicubic_resize(x, size):
    """clean-fid's ``"clean"`` resize: PIL bicubic on float32 channels, clipped, not quantised.

    Equals, per image and channel, ``PIL.Image.fromarray(c, mode="F").resize(
    (w, h), Image.BICUBIC)`` followed by ``clip(0, 255)`` (clean-fid's
    ``make_resizer("PIL", False, "bicubic", (299, 299))``). PIL's algorithm is
    a separable cubic convolution (a = -0.5) whose support widens by the
    downscale factor (antialiasing), sampled at ``(dst + 0.5) * in / out``,
    with weights renormalised where the window leaves the image.
    ``torch.nn.functional.interpolate(mode="bicubic", antialias=True)``
    implements that same algorithm; it runs here in float64 (PIL computes its
    weights and sums in double), so the result agrees with PIL to one float32
    rounding. On Apple's MPS, which has no float64, it runs in float32
    (agreement about 0.01 grey levels).

    Parameters
    ----------
    x : torch.Tensor
        Float ``N x C x H x W`` with values 0..255.
    size : (int, int)
        Output ``(height, width)``.

    Returns
    -------
    torch.Tensor
        ``float32`` ``N x C x size[0] x size[1]`` in [0, 255].
    """
    import torch
    import torch.nn.functional as F

    oh, ow = _check_input(x, size, "pil_bicubic_resize")
    if tuple(x.shape[-2:]) == (oh, ow):
        return x.float()  # PIL returns a copy at the same size
    dtype = torch.float32 if x.device.type == "mps" else torch.float64
    y = F.interpolate(x.to(dtype), size=(oh, ow), mode="bicubic", align_corners=False, antialias=True)
    return y.clamp_(0, 255).float()


def torch_bilinear_resize(x, size):
    """pytorch-fid's resize: ``F.interpolate(mode="bilinear", align_corners=False)``, no antialias.

    Source pixel ``(dst + 0.5) * in / out - 0.5`` (half-pixel centres), two
    taps per axis whatever the scale (shrinking aliases). clean-fid
    ``mode="legacy_pytorch"`` runs it on 0..255 values
    (``make_resizer("PyTorch", False, "bilinear", (299, 299))``); pytorch-fid
    on 0..1 values, which differs by float rounding only.

    Parameters
    ----------
    x : torch.Tensor
        Float ``N x C x H x W``.
    size : (int, int)
        Output ``(height, width)``.

    Returns
    -------
    torch.Tensor
        ``N x C x size[0] x size[1]``, same dtype.
    """
    import torch.nn.functional as F

    oh, ow = _check_input(x, size, "torch_bilinear_resize")
    if tuple(x.shape[-2:]) == (oh, ow):
        return x  # scale 1: the identity
    return F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False, antialias=False)
