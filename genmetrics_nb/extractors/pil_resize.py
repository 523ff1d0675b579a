"""Pillow's 8-bit bicubic resize, reproduced bit-exactly in torch (any device).

``PIL.Image.resize(size, Image.BICUBIC)`` on an 8-bit image is what the CMMD
reference (google-research ``cmmd/io_util.py``), clean-fid and many data
pipelines use. Pillow computes it as two separable passes (horizontal, then
vertical) with

- the Keys cubic kernel, ``a = -0.5``, support 2;
- anti-aliasing: when shrinking by a factor ``s > 1`` the kernel is
  stretched by ``s`` (support ``2 s``);
- each output pixel's weights normalised to sum 1 in double precision, then
  rounded (half away from zero) to 22-bit fixed point integers;
- integer accumulation started at ``2**21`` (rounding), an arithmetic shift
  by 22 bits and clipping to ``0..255`` after *each* pass: the first pass's
  result is stored as ``uint8`` before the second;
- a pass whose size does not change is skipped;
- the horizontal pass first, except (Pillow >= 13 only) when the height
  shrinks by more than twice as many pixels as the width, where the
  vertical pass goes first. Pillow <= 12 always starts horizontally. The
  two orders round differently, but they agree whenever the height does not
  shrink more than that: in particular for every square-to-square resize
  (CMMD's crop-then-resize).

:func:`pil_bicubic_resize` does the same arithmetic in float64, where every
product and partial sum is an integer far below ``2**53`` and therefore
exact whatever the summation order: the output equals Pillow's, byte for
byte, on the CPU and on a GPU. The weights are computed once per
``(input size, output size)`` in NumPy with the same double-precision
operations as Pillow's ``precompute_coeffs``. On the CPU, where Pillow's
integer C code is much faster than this port, Pillow itself is called
(``backend="auto"``); the port serves tensors on a GPU.

References
----------
.. [1] Pillow, ``src/libImaging/Resample.c`` (``precompute_coeffs``,
   ``normalize_coeffs_8bpc``, ``ImagingResampleHorizontal_8bpc``,
   ``ImagingResampleVertical_8bpc``, ``ImagingResampleInner``; the pass
   order rule since Pillow 13.0): https://github.com/python-pillow/Pillow
"""
from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["BACKENDS", "ORDERS", "PRECISION_BITS", "pil_bicubic_coefficients", "pil_bicubic_resize"]

#: Fractional bits of Pillow's fixed-point weights for 8-bit images (``32 - 8 - 2``).
PRECISION_BITS = 22

_SUPPORT = 2.0  # Pillow's BICUBIC filter support


def _bicubic(x: float) -> float:
    """Pillow's ``bicubic_filter`` with ``a = -0.5``, in the same operation order."""
    a = -0.5
    if x < 0.0:
        x = -x
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


@functools.lru_cache(maxsize=64)
def pil_bicubic_coefficients(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pillow's fixed-point bicubic weights for one axis.

    Parameters
    ----------
    in_size, out_size : int
        Length of the axis before and after resizing (the whole axis: box
        ``(0, in_size)``).

    Returns
    -------
    index : numpy.ndarray
        ``out_size x K`` int64 source positions (padded entries point at 0).
    weight : numpy.ndarray
        ``out_size x K`` int64 weights in units of ``2**-22`` (padded entries 0).
    """
    in_size, out_size = int(in_size), int(out_size)
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be >= 1, got in_size={in_size}, out_size={out_size}")
    scale = float(in_size) / out_size
    filterscale = max(scale, 1.0)
    support = _SUPPORT * filterscale
    ksize = int(math.ceil(support)) * 2 + 1
    ss = 1.0 / filterscale
    index = np.zeros((out_size, ksize), dtype=np.int64)
    weight = np.zeros((out_size, ksize), dtype=np.int64)
    one = float(1 << PRECISION_BITS)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)  # C's (int) truncates toward zero
        xmax = min(int(center + support + 0.5), in_size) - xmin
        k = [_bicubic((x + xmin - center + 0.5) * ss) for x in range(xmax)]
        ww = 0.0
        for w in k:  # sequential double sum, as the C loop
            ww += w
        if ww != 0.0:
            k = [w / ww for w in k]
        for x, w in enumerate(k):
            index[xx, x] = xmin + x
            weight[xx, x] = math.trunc(w * one - 0.5) if w < 0 else math.trunc(w * one + 0.5)
    return index, weight


def _pass(x, in_size: int, out_size: int, dim: int):
    """One fixed-point pass along ``dim`` of a float64 tensor of integers 0..255."""
    import torch

    index, weight = pil_bicubic_coefficients(in_size, out_size)
    idx = torch.as_tensor(index, device=x.device)
    wts = torch.as_tensor(weight, device=x.device, dtype=torch.float64)
    shape = [1] * x.ndim
    shape[dim] = out_size
    acc = torch.full((), float(1 << (PRECISION_BITS - 1)), dtype=torch.float64, device=x.device)
    for t in range(index.shape[1]):
        if not bool(wts[:, t].any()):
            continue
        acc = acc + x.index_select(dim, idx[:, t]) * wts[:, t].view(shape)
    return torch.floor(acc / float(1 << PRECISION_BITS)).clamp_(0.0, 255.0)


#: Accepted values of ``order=``.
ORDERS = ("pillow13", "horizontal-first", "vertical-first")


def _vertical_first(ih: int, iw: int, oh: int, ow: int, order: str) -> bool:
    if order == "pillow13":
        return (ih - oh) > 0 and (ih - oh) > (iw - ow) * 2
    return order == "vertical-first"


#: Accepted values of ``backend=``.
BACKENDS = ("auto", "torch", "pillow")


def _installed_pillow_order() -> str:
    import PIL

    return "pillow13" if int(PIL.__version__.split(".")[0]) >= 13 else "horizontal-first"


def _pillow_resize(x, oh: int, ow: int):
    """Pillow itself, one 8-bit ``L`` band at a time (Pillow resizes every band alike)."""
    import torch
    from PIL import Image

    arr = x.detach().to("cpu", torch.uint8).numpy()
    out = np.empty(arr.shape[:2] + (oh, ow), dtype=np.uint8)
    for i in range(arr.shape[0]):
        for c in range(arr.shape[1]):
            band = Image.fromarray(np.ascontiguousarray(arr[i, c]))  # 2-D uint8: mode "L"
            out[i, c] = np.asarray(band.resize((ow, oh), resample=Image.BICUBIC))
    return torch.from_numpy(out).to(device=x.device, dtype=torch.float32)


def pil_bicubic_resize(x, size, *, order: str = "pillow13", backend: str = "auto"):
    """Resize like ``PIL.Image.resize((w, h), Image.BICUBIC)`` on 8-bit images.

    Parameters
    ----------
    x : torch.Tensor
        ``N x C x H x W`` holding integers ``0..255`` (``uint8`` or a float
        dtype, e.g. the ``float32`` 0..255 an extractor receives), on any device.
    size : (int, int)
        Output ``(height, width)``.
    order : {"pillow13", "horizontal-first", "vertical-first"}
        Which pass runs first: Pillow >= 13's rule (vertical first when the
        height loses more than twice as many pixels as the width), or always
        horizontal first as Pillow <= 12. Irrelevant for square-to-square
        resizes.
    backend : {"auto", "torch", "pillow"}
        ``"torch"``: the port above, on ``x``'s device. ``"pillow"``: Pillow
        itself, image by image and band by band on the CPU (its pass order is
        the installed version's, whatever ``order`` says). ``"auto"``: Pillow
        for CPU tensors when the installed Pillow takes the requested pass
        order (it is about 100 times faster there), the port otherwise (GPUs).
        Both give the same bytes.

    Returns
    -------
    torch.Tensor
        ``N x C x height x width`` ``float32`` holding integers ``0..255``,
        equal to Pillow's ``uint8`` result for every channel.

    Raises
    ------
    ValueError
        If ``x`` is not 4-D or holds values that are not integers in ``0..255``.
    """
    import torch

    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(map(repr, ORDERS))}, got {order!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    if x.ndim != 4:
        raise ValueError(f"x must be N x C x H x W, got shape {tuple(x.shape)}")
    oh, ow = int(size[0]), int(size[1])
    ih, iw = int(x.shape[-2]), int(x.shape[-1])
    if x.dtype != torch.uint8 and x.numel():
        if bool((x != x.round()).any()) or float(x.min()) < 0 or float(x.max()) > 255:
            raise ValueError(
                "pil_bicubic_resize reproduces Pillow's 8-bit resize and needs integer values 0..255 "
                "(uint8 images); convert with gm.load_images(x, value_range=...) first"
            )
    if backend == "auto":
        same_order = (_vertical_first(ih, iw, oh, ow, order)
                      == _vertical_first(ih, iw, oh, ow, _installed_pillow_order()))
        backend = "pillow" if x.device.type == "cpu" and same_order else "torch"
    if backend == "pillow":
        return _pillow_resize(x, oh, ow)
    y = x.to(torch.float64)
    passes = [(iw, ow, 3), (ih, oh, 2)]  # each pass's result is rounded to uint8
    if _vertical_first(ih, iw, oh, ow, order):
        passes.reverse()
    for n_in, n_out, dim in passes:
        if n_in != n_out:
            y = _pass(y, n_in, n_out, dim=dim)
    return y.to(torch.float32)
