"""The TensorFlow FID Inception-v3 (2015-12-05 graph) in PyTorch.

This is the network behind the FID of Heusel et al. (TTUR), pytorch-fid and
torch-fidelity: Inception-v3 as frozen in ``inception-2015-12-05.tgz``, whose
pool3 layer gives the 2048-d features of FID and whose 1008-way softmax gives
the Inception Score. It differs from torchvision's ImageNet Inception-v3 in
its weights and in three details of its blocks (average pools that exclude
padding, and a max pool in the last block), reproduced here exactly as
pytorch-fid does (``FIDInceptionA/C/E_1/E_2``).

Written here rather than imported from pytorch-fid or torch-fidelity because
those are test-only references of this package: this module depends on
torchvision's building blocks only, and its state dict has exactly the keys
of pytorch-fid's ``fid_inception_v3()``, so the published
``pt_inception-2015-12-05-6726825d.pth`` loads unchanged.

Preprocessing follows the TF graph (and torch-fidelity): ``uint8`` RGB is
resized to 299 x 299 with TensorFlow 1.x's bilinear resize
(``align_corners=False``, i.e. *no* half-pixel offset), then scaled by
``(x - 128) / 128``. That is clean-fid's ``"legacy_tensorflow"`` mode;
``resize="clean"`` (clean-fid's default) and ``"legacy_pytorch"``
(pytorch-fid's) are the alternatives (:mod:`genmetrics_nb.extractors.resize`).

Outputs: ``pool`` (pool3, 2048), ``logits`` and ``logits_unbiased`` (1008)
and ``spatial`` (2023), the features of sFID (Nash et al. 2021) as OpenAI's
guided-diffusion evaluator reads them: the TF tensor ``mixed_6/conv:0``,
channels ``[..., :7]`` of its ``N x 17 x 17 x 192`` NHWC map, flattened in
that order (index ``(h * 17 + w) * 7 + c``), so that ADM's published
``mu_s``/``sigma_s`` apply as they are. ``mixed_6`` is the third 17 x 17
block of the graph: ``mixed``, ``mixed_1``, ``mixed_2`` are ``Mixed_5b`` to
``Mixed_5d`` (35 x 35), ``mixed_3`` the reduction ``Mixed_6a`` (35 -> 17),
``mixed_4`` to ``mixed_7`` are ``Mixed_6b`` to ``Mixed_6e`` (torch-fidelity's
weight conversion maps ``mixed_6/conv/conv2d_params`` and
``mixed_6/conv/batchnorm`` to ``Mixed_6d.branch1x1``), and ``conv`` is the
block's 1 x 1 branch (192 channels, the first of its concatenation). In the
graph a convolution unit ``u`` is the ops ``u/Conv2D``, ``u/batchnorm``
(``BatchNormWithGlobalNormalization``) and ``u`` itself, the ReLU that ends
the unit's name scope (as ``pool_3`` is the pool op of its scope); so
``mixed_6/conv:0`` is ``Mixed_6d.branch1x1``'s output *after* batch norm and
ReLU, not the raw convolution. A PyTorch port hooking that module
(lavinal712/ADM-evaluation-suite-pytorch) gives the published sFID of
ADM-G + ADM-U on ImageNet 256 to 6.1405 against the evaluator's 6.1404.

References
----------
.. [1] M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler, S. Hochreiter,
   "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
   Equilibrium", NeurIPS 2017. https://github.com/bioinf-jku/TTUR
.. [2] C. Szegedy et al., "Rethinking the Inception Architecture for Computer
   Vision", CVPR 2016.
.. [3] pytorch-fid, ``inception.py``: https://github.com/mseitzer/pytorch-fid
.. [4] torch-fidelity, ``feature_extractor_inceptionv3.py`` and
   ``interpolate_compat_tensorflow.py``: https://github.com/toshas/torch-fidelity
"""
from __future__ import annotations

__all__ = [
    "FID_INPUT_SIZE",
    "SPATIAL_CHANNELS",
    "SPATIAL_DIM",
    "build_fid_inception",
    "fid_inception_forward",
    "fid_inception_preprocess",
    "load_fid_inception",
    "tf1_bilinear_resize",
]

FID_INPUT_SIZE = 299
WEIGHTS_NAME = "pt_inception-2015-12-05"
#: Channels of ``mixed_6/conv`` kept by the sFID features (guided-diffusion: ``spatial[..., :7]``).
SPATIAL_CHANNELS = 7
#: Length of the ``spatial`` output: 7 channels of the 17 x 17 map of a 299 x 299 input.
SPATIAL_DIM = SPATIAL_CHANNELS * 17 * 17
#: Outputs that need the whole network (pool3 and the logits computed from it).
_POOL_OUTPUTS = ("pool", "logits", "logits_unbiased")
#: Position of Mixed_6d (TF ``mixed_6``) among the Inception blocks Mixed_5b ... Mixed_7c.
_MIXED_6D = 6


def spatial_features(fmap):
    """sFID features from the ``Mixed_6d.branch1x1`` map (TF ``mixed_6/conv:0``).

    Parameters
    ----------
    fmap : torch.Tensor
        ``N x 192 x 17 x 17`` (NCHW, any memory format): the branch's output
        after batch norm and ReLU.

    Returns
    -------
    torch.Tensor
        ``N x 2023``: channels 0..6, flattened in TF's NHWC order
        (``fmap.permute(0, 2, 3, 1)[..., :7].reshape(N, -1)``), as
        guided-diffusion's ``evaluator.py`` flattens ``spatial[..., :7]``.
    """
    n = fmap.shape[0]
    return fmap[:, :SPATIAL_CHANNELS].permute(0, 2, 3, 1).reshape(n, -1)


def tf1_bilinear_resize(x, size):
    """Bilinear resize exactly as TensorFlow 1.x ``resize_bilinear(align_corners=False)``.

    Source coordinates are ``dst * in / out`` (no half-pixel centres, unlike
    ``torch.nn.functional.interpolate``), with the last row/column repeated at
    the border. The arithmetic is that of torch-fidelity's
    ``interpolate_bilinear_2d_like_tensorflow1x(method="slow")``, which is
    bit-exact to TF on the CPU; this version gathers rows before columns to
    touch less memory.

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
    import torch

    if not torch.is_floating_point(x) or x.ndim != 4:
        raise ValueError("tf1_bilinear_resize needs a float N x C x H x W tensor")
    oh, ow = int(size[0]), int(size[1])
    ih, iw = x.shape[-2:]
    if (ih, iw) == (oh, ow):
        return x  # scale 1: the TF formula is the identity

    def grid(n_in, n_out):
        g = torch.arange(0, n_out, 1, dtype=x.dtype, device=x.device)
        g = g * torch.tensor(n_in / n_out, dtype=torch.float32, device=x.device)
        lo = g.long()
        hi = (lo + 1).clamp_max(n_in - 1)
        return lo, hi, g - lo.to(g.dtype)

    ylo, yhi, dy = grid(ih, oh)
    xlo, xhi, dx = grid(iw, ow)
    top = x.index_select(2, ylo)
    bot = x.index_select(2, yhi)
    dx = dx.view(1, 1, 1, ow)
    t0, t1 = top.index_select(3, xlo), top.index_select(3, xhi)
    in_0 = t0 + (t1 - t0) * dx
    b0, b1 = bot.index_select(3, xlo), bot.index_select(3, xhi)
    in_1 = b0 + (b1 - b0) * dx
    return in_0 + (in_1 - in_0) * dy.view(1, 1, oh, 1)


def fid_inception_preprocess(x, *, size: int = FID_INPUT_SIZE, resize: str = "legacy_tensorflow"):
    """``uint8`` (or float 0..255) ``N x 3 x H x W`` -> the FID Inception input.

    ``resize`` is one of clean-fid's modes
    (:mod:`genmetrics_nb.extractors.resize`):

    * ``"legacy_tensorflow"`` (default): TF1 bilinear resize to ``size``
      then ``(x - 128) / 128``, as in the TF graph (``Sub 128``,
      ``Mul 1/128``), torch-fidelity and StyleGAN2-ADA;
    * ``"clean"``: PIL bicubic on float32 channels, clipped, not quantised
      (:func:`~genmetrics_nb.extractors.resize.pil_bicubic_resize`), then
      ``(x - 128) / 128`` (clean-fid's default);
    * ``"legacy_pytorch"``: torch bilinear (half-pixel centres, no
      antialias), then ``2 * (x / 255) - 1`` (pytorch-fid).
    """
    import torch

    from genmetrics_nb.extractors.resize import check_resize_mode, pil_bicubic_resize, torch_bilinear_resize

    mode = check_resize_mode(resize)
    x = x.float() if x.dtype == torch.uint8 else x
    if mode == "legacy_pytorch":
        return 2 * (torch_bilinear_resize(x, (size, size)) / 255) - 1
    x = pil_bicubic_resize(x, (size, size)) if mode == "clean" else tf1_bilinear_resize(x, (size, size))
    return (x - 128) / 128


def build_fid_inception():
    """The FID Inception architecture with uninitialised weights (eval mode).

    State-dict keys equal those of pytorch-fid's ``fid_inception_v3()``.
    """
    import torch.nn.functional as F
    from torch import nn
    from torchvision.models import inception as tvi

    class FIDInceptionA(tvi.InceptionA):
        def forward(self, x):
            b1 = self.branch1x1(x)
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            # TF's average pool excludes the padding from the mean.
            bp = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
            bp = self.branch_pool(bp)
            return torch_cat([b1, b5, b3, bp])

    class FIDInceptionC(tvi.InceptionC):
        def forward(self, x):
            b1 = self.branch1x1(x)
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            bd = self.branch7x7dbl_1(x)
            bd = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(self.branch7x7dbl_2(bd))))
            bp = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
            bp = self.branch_pool(bp)
            return torch_cat([b1, b7, bd, bp])

    class FIDInceptionE(tvi.InceptionE):
        def __init__(self, in_channels, pool):
            super().__init__(in_channels)
            self._pool = pool

        def forward(self, x):
            b1 = self.branch1x1(x)
            b3 = self.branch3x3_1(x)
            b3 = torch_cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)])
            bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            bd = torch_cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)])
            if self._pool == "avg":  # Mixed_7b
                bp = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
            else:  # Mixed_7c: the TF graph has a max pool here (a bug in the original graph)
                bp = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
            bp = self.branch_pool(bp)
            return torch_cat([b1, b3, bd, bp])

    def torch_cat(parts):
        import torch

        return torch.cat(parts, 1)

    class FIDInceptionV3(nn.Module):
        def __init__(self):
            super().__init__()
            conv = tvi.BasicConv2d
            self.Conv2d_1a_3x3 = conv(3, 32, kernel_size=3, stride=2)
            self.Conv2d_2a_3x3 = conv(32, 32, kernel_size=3)
            self.Conv2d_2b_3x3 = conv(32, 64, kernel_size=3, padding=1)
            self.Conv2d_3b_1x1 = conv(64, 80, kernel_size=1)
            self.Conv2d_4a_3x3 = conv(80, 192, kernel_size=3)
            self.Mixed_5b = FIDInceptionA(192, pool_features=32)
            self.Mixed_5c = FIDInceptionA(256, pool_features=64)
            self.Mixed_5d = FIDInceptionA(288, pool_features=64)
            self.Mixed_6a = tvi.InceptionB(288)
            self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
            self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
            self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
            self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
            self.Mixed_7a = tvi.InceptionD(768)
            self.Mixed_7b = FIDInceptionE(1280, "avg")
            self.Mixed_7c = FIDInceptionE(2048, "max")
            self.fc = nn.Linear(2048, 1008)

        def forward(self, x):
            """Preprocessed input -> dict of ``pool``, ``logits``, ``logits_unbiased``."""
            return fid_inception_forward(self, x)

    return FIDInceptionV3().eval().requires_grad_(False)


def fid_inception_forward(model, x, names=_POOL_OUTPUTS) -> dict:
    """Run the FID Inception on a preprocessed input.

    Returns a dict with the requested names among ``"pool"`` (2048-d pool3),
    ``"logits_unbiased"`` (``pool @ W^T``, 1008), ``"logits"``
    (``pool @ W^T + b``; computed in this order as torch-fidelity does) and
    ``"spatial"`` (2023, :func:`spatial_features` of ``Mixed_6d.branch1x1``).
    When only ``"spatial"`` is asked for, the network stops after ``Mixed_6d``.
    """
    import torch.nn.functional as F

    m = model
    x = m.Conv2d_1a_3x3(x)
    x = m.Conv2d_2a_3x3(x)
    x = m.Conv2d_2b_3x3(x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    x = m.Conv2d_3b_1x1(x)
    x = m.Conv2d_4a_3x3(x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    out = {}
    for block in (m.Mixed_5b, m.Mixed_5c, m.Mixed_5d, m.Mixed_6a, m.Mixed_6b, m.Mixed_6c,
                  m.Mixed_6d, m.Mixed_6e, m.Mixed_7a, m.Mixed_7b, m.Mixed_7c):
        if block is m.Mixed_6d and "spatial" in names:
            out["spatial"] = spatial_features(block.branch1x1(x))  # TF mixed_6/conv:0
            if not any(n in names for n in _POOL_OUTPUTS):
                return out
        x = block(x)
    pool = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
    out["pool"] = pool
    if "logits" in names or "logits_unbiased" in names:
        unbiased = pool.mm(m.fc.weight.T)
        out["logits_unbiased"] = unbiased
        out["logits"] = unbiased + m.fc.bias.unsqueeze(0)
    return out


def fuse_fid_inception(model):
    """A faster, numerically equivalent copy of the FID Inception for inference.

    Three rewrites, each changing results only by float rounding (relative
    differences of order 1e-6 on pool3, far inside the 1e-4 agreement with
    pytorch-fid that the tests require):

    * every batch norm (eval mode) is folded into the preceding convolution,
      and the ReLU runs in place;
    * the 1 x 1 convolutions that read the same input inside a block are
      concatenated into one convolution (one pass over the input instead of
      two or three), then split;
    * weights and activations use the ``channels_last`` memory format, which
      oneDNN (CPU) and cuDNN convolutions prefer.

    Parameters
    ----------
    model : torch.nn.Module
        From :func:`build_fid_inception` with weights loaded.

    Returns
    -------
    torch.nn.Module
        ``forward(x)`` takes the preprocessed input and returns the dict of
        :func:`fid_inception_forward`.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    def folded(*basics):
        convs = [b.conv for b in basics]
        c0 = convs[0]
        ws, bs = [], []
        for b in basics:
            scale = b.bn.weight / torch.sqrt(b.bn.running_var + b.bn.eps)
            ws.append(b.conv.weight * scale[:, None, None, None])
            bs.append(b.bn.bias - b.bn.running_mean * scale)
        out = sum(c.out_channels for c in convs)
        conv = nn.Conv2d(c0.in_channels, out, c0.kernel_size, c0.stride, c0.padding, bias=True)
        with torch.no_grad():
            conv.weight.copy_(torch.cat(ws))
            conv.bias.copy_(torch.cat(bs))
        return conv, [c.out_channels for c in convs]

    class ConvReLU(nn.Module):
        def __init__(self, *basics):
            super().__init__()
            self.conv, self.sizes = folded(*basics)

        def forward(self, x):
            y = F.relu(self.conv(x), inplace=True)
            return y if len(self.sizes) == 1 else torch.split(y, self.sizes, dim=1)

    def avg3(x):
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    class A(nn.Module):
        def __init__(self, b):
            super().__init__()
            self.heads = ConvReLU(b.branch1x1, b.branch5x5_1, b.branch3x3dbl_1)
            self.b5 = ConvReLU(b.branch5x5_2)
            self.b3a, self.b3b = ConvReLU(b.branch3x3dbl_2), ConvReLU(b.branch3x3dbl_3)
            self.pool = ConvReLU(b.branch_pool)

        def forward(self, x):
            b1, t5, t3 = self.heads(x)
            return torch.cat([b1, self.b5(t5), self.b3b(self.b3a(t3)), self.pool(avg3(x))], 1)

    class B(nn.Module):
        def __init__(self, b):
            super().__init__()
            self.b3 = ConvReLU(b.branch3x3)
            self.d1, self.d2, self.d3 = (ConvReLU(b.branch3x3dbl_1), ConvReLU(b.branch3x3dbl_2),
                                         ConvReLU(b.branch3x3dbl_3))

        def forward(self, x):
            bp = F.max_pool2d(x, kernel_size=3, stride=2)
            return torch.cat([self.b3(x), self.d3(self.d2(self.d1(x))), bp], 1)

    class C(nn.Module):
        def __init__(self, b):
            super().__init__()
            self.heads = ConvReLU(b.branch1x1, b.branch7x7_1, b.branch7x7dbl_1)
            self.s = nn.Sequential(ConvReLU(b.branch7x7_2), ConvReLU(b.branch7x7_3))
            self.d = nn.Sequential(*(ConvReLU(getattr(b, f"branch7x7dbl_{i}")) for i in range(2, 6)))
            self.pool = ConvReLU(b.branch_pool)

        def forward(self, x, keep=None):
            b1, t7, td = self.heads(x)
            if keep is not None:  # the 1 x 1 branch after batch norm and ReLU (TF mixed_N/conv)
                keep["branch1x1"] = b1
            return torch.cat([b1, self.s(t7), self.d(td), self.pool(avg3(x))], 1)

    class D(nn.Module):
        def __init__(self, b):
            super().__init__()
            self.heads = ConvReLU(b.branch3x3_1, b.branch7x7x3_1)
            self.b3 = ConvReLU(b.branch3x3_2)
            self.b7 = nn.Sequential(*(ConvReLU(getattr(b, f"branch7x7x3_{i}")) for i in range(2, 5)))

        def forward(self, x):
            t3, t7 = self.heads(x)
            bp = F.max_pool2d(x, kernel_size=3, stride=2)
            return torch.cat([self.b3(t3), self.b7(t7), bp], 1)

    class E(nn.Module):
        def __init__(self, b):
            super().__init__()
            self.heads = ConvReLU(b.branch1x1, b.branch3x3_1, b.branch3x3dbl_1)
            self.b2a, self.b2b = ConvReLU(b.branch3x3_2a), ConvReLU(b.branch3x3_2b)
            self.d2 = ConvReLU(b.branch3x3dbl_2)
            self.d3a, self.d3b = ConvReLU(b.branch3x3dbl_3a), ConvReLU(b.branch3x3dbl_3b)
            self.pool = ConvReLU(b.branch_pool)
            self.max_pool = b._pool == "max"

        def forward(self, x):
            b1, t3, td = self.heads(x)
            b3 = torch.cat([self.b2a(t3), self.b2b(t3)], 1)
            td = self.d2(td)
            bd = torch.cat([self.d3a(td), self.d3b(td)], 1)
            if self.max_pool:
                bp = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
            else:
                bp = avg3(x)
            return torch.cat([b1, b3, bd, self.pool(bp)], 1)

    class Fused(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.stem = nn.ModuleList([ConvReLU(m.Conv2d_1a_3x3), ConvReLU(m.Conv2d_2a_3x3),
                                       ConvReLU(m.Conv2d_2b_3x3)])
            self.stem2 = nn.ModuleList([ConvReLU(m.Conv2d_3b_1x1), ConvReLU(m.Conv2d_4a_3x3)])
            self.blocks = nn.Sequential(
                A(m.Mixed_5b), A(m.Mixed_5c), A(m.Mixed_5d), B(m.Mixed_6a),
                C(m.Mixed_6b), C(m.Mixed_6c), C(m.Mixed_6d), C(m.Mixed_6e),
                D(m.Mixed_7a), E(m.Mixed_7b), E(m.Mixed_7c),
            )
            self.fc = nn.Linear(2048, 1008)
            with torch.no_grad():
                self.fc.weight.copy_(m.fc.weight)
                self.fc.bias.copy_(m.fc.bias)

        def forward(self, x, names=_POOL_OUTPUTS):
            x = x.contiguous(memory_format=torch.channels_last)
            for layer in self.stem:
                x = layer(x)
            x = F.max_pool2d(x, kernel_size=3, stride=2)
            for layer in self.stem2:
                x = layer(x)
            x = F.max_pool2d(x, kernel_size=3, stride=2)
            out = {}
            if "spatial" in names:
                keep = {}
                x = self.blocks[: _MIXED_6D](x)
                x = self.blocks[_MIXED_6D](x, keep=keep)
                out["spatial"] = spatial_features(keep["branch1x1"])  # TF mixed_6/conv:0
                if not any(n in names for n in _POOL_OUTPUTS):
                    return out
                x = self.blocks[_MIXED_6D + 1:](x)
            else:
                x = self.blocks(x)
            pool = x.mean(dim=(2, 3))
            out["pool"] = pool
            if "logits" in names or "logits_unbiased" in names:
                unbiased = pool.mm(self.fc.weight.T)
                out["logits_unbiased"] = unbiased
                out["logits"] = unbiased + self.fc.bias.unsqueeze(0)
            return out

    fused = Fused(model).to(next(model.parameters()).device)
    fused = fused.to(memory_format=torch.channels_last)
    return fused.eval().requires_grad_(False)


def load_fid_inception(*, weights=None, device="cpu"):
    """The FID Inception with the ``pt_inception-2015-12-05`` weights, in eval mode.

    Parameters
    ----------
    weights : path-like, optional
        A state dict in pytorch-fid's format; default: resolved by the weight
        manager (``gm.weights.path("pt_inception-2015-12-05")``: cache, then
        download unless ``GENMETRICS_OFFLINE=1``).
    device : str or torch.device

    Returns
    -------
    (torch.nn.Module, str)
        The network and the path it was loaded from.
    """
    import torch

    from genmetrics_nb.device import resolve
    from genmetrics_nb.weights import manager

    path = manager.path(WEIGHTS_NAME) if weights is None else weights
    model = build_fid_inception()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.to(resolve(device)), str(path)


def build_extractor(*, device, weights=None, fused: bool = True, resize: str = "legacy_tensorflow"):
    """Factory registered as ``"inception-v3-fid"``.

    ``fused=True`` (default) runs :func:`fuse_fid_inception`'s rewrite of the
    network; ``fused=False`` the module with pytorch-fid's exact layer order.
    ``resize`` picks clean-fid's mode (``"legacy_tensorflow"``, the default
    and the protocol of published FIDs; ``"clean"``; ``"legacy_pytorch"``;
    see :mod:`genmetrics_nb.extractors.resize`); it is recorded in the spec
    as ``resize_mode``.
    """
    import functools

    from genmetrics_nb.extractors.base import Extractor
    from genmetrics_nb.extractors.resize import RESIZE_SPECS, check_resize_mode
    from genmetrics_nb.weights.manager import sha256_file

    mode = check_resize_mode(resize)
    model, path = load_fid_inception(weights=weights, device=device)
    if fused:
        model = fuse_fid_inception(model)
        forward = _fused_forward
    else:
        forward = fid_inception_forward
    spec = {
        "architecture": "TF FID Inception-v3 2015-12-05 (pytorch-fid FIDInception blocks)",
        "input_size": [FID_INPUT_SIZE, FID_INPUT_SIZE],
        "resize_mode": mode,
        "resize": RESIZE_SPECS[mode]["resize"],
        "normalize": RESIZE_SPECS[mode]["normalize"],
        "channels": "RGB; grayscale repeated",
        "weights": WEIGHTS_NAME if weights is None else "user file",
        "implementation": "fused (batch norm folded, 1x1 heads merged, channels_last)" if fused
        else "reference layer order",
        "spatial": "TF mixed_6/conv:0 = Mixed_6d.branch1x1 after batch norm and ReLU, channels 0..6, "
                   "flattened NHWC (guided-diffusion evaluator, sFID)",
        "version": 1,
    }
    return Extractor(
        "inception-v3-fid",
        model,
        preprocess=functools.partial(fid_inception_preprocess, resize=mode),
        forward=forward,
        outputs={"pool": 2048, "logits": 1008, "logits_unbiased": 1008, "spatial": SPATIAL_DIM},
        spec=spec,
        weights_digest=sha256_file(path),
        device=model.fc.weight.device,
    )


def _fused_forward(module, x, names):
    return module(x, names)
