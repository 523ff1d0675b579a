"""FCN-32s, FCN-16s and FCN-8s on a VGG-16, EfficientNet-Lite0 or small VGG encoder.

The decoder is Long et al.'s: a 1x1 "score" convolution on the stride-32
features, upsampled by transposed convolutions; FCN-16s adds the scored
stride-16 features ("pool4") before its last upsampling, FCN-8s also the
stride-8 features ("pool3"). Transposed convolutions start as bilinear
interpolation and are learned; the skip score layers start at zero, so an
FCN-8s begins as an FCN-32s and only learns to use its skips.

References
----------
.. [1] J. Long, E. Shelhamer, T. Darrell, "Fully Convolutional Networks for Semantic
   Segmentation", CVPR 2015. Reference code (Caffe):
   https://github.com/shelhamer/fcn.berkeleyvision.org (``voc-fcn8s/net.py``,
   ``surgery.py`` for the bilinear kernels).
.. [2] K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
   Recognition", ICLR 2015 (VGG-16).
.. [3] M. Tan, Q. V. Le, "EfficientNet", ICML 2019; EfficientNet-Lite:
   https://github.com/tensorflow/tpu/tree/master/models/official/efficientnet/lite
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genmetrics_nb.segmentation.names import ENCODERS, PRETRAINED_ENCODERS, VARIANTS
from genmetrics_nb.util.checks import check_choice, check_int, check_uint8_images

__all__ = ["FCN", "ENCODERS", "VARIANTS", "bilinear_kernel", "bilinear_matrix", "encoder_id"]

_STRIDE = {"32s": 32, "16s": 16, "8s": 8}
#: Default width of the "fc6/fc7" head per encoder: VGG-16 keeps the
#: convolutionalised 4096-wide ImageNet classifier (as FCN does); the Lite0
#: head is a small trainable 1x1 pair on top of its own 1280-wide head.
_HEAD_DEFAULTS = {"vgg16": (4096, 7), "efficientnet-lite0": (256, 1), "vgg-small": (128, 1)}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def file_digest(path) -> str:
    """sha256 of a weights file, memoised by the weight manager: several FCNs share one encoder file."""
    from genmetrics_nb.weights.manager import sha256_file

    return sha256_file(path)


def _bilinear_1d(size: int) -> torch.Tensor:
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float64)
    return 1 - (og - center).abs() / factor


def bilinear_kernel(channels: int, size: int) -> torch.Tensor:
    """Weights of a transposed convolution that upsamples each channel bilinearly.

    Same as ``upsample_filt`` in FCN's ``surgery.py``: the outer product of
    ``1 - |x - center| / factor`` with itself on the diagonal channel pairs.
    """
    filt1d = _bilinear_1d(size)
    filt = (filt1d[:, None] * filt1d[None, :]).float()
    w = torch.zeros(channels, channels, size, size)
    w[range(channels), range(channels)] = filt
    return w


def bilinear_matrix(size_in: int, factor: int) -> torch.Tensor:
    """``(size_in * f) x size_in`` matrix of FCN's bilinear transposed convolution along one axis.

    A transposed convolution with kernel ``2f``, stride ``f``, padding ``f/2``
    and :func:`bilinear_kernel` weights on the diagonal is separable:
    ``out = U @ x @ U.T`` per channel with this ``U`` (zero padding at the
    borders included), so it can be evaluated with two small matrix products,
    or at a subset of output rows and columns only.
    """
    f = int(factor)
    filt1d = _bilinear_1d(2 * f)
    o = torch.arange(size_in * f)[:, None]
    i = torch.arange(size_in)[None, :]
    k = o + f // 2 - i * f
    valid = (k >= 0) & (k < 2 * f)
    return torch.where(valid, filt1d[k.clamp(0, 2 * f - 1)], torch.zeros((), dtype=torch.float64)).float()


class _LiteEncoder(nn.Module):
    """EfficientNet-Lite0 stages s8 (40 ch), s16 (112 ch) and its 1280-wide head at s32."""

    name = "efficientnet-lite0"
    channels = {"s8": 40, "s16": 112, "s32": 1280}

    def __init__(self, *, pretrained: bool, weights=None):
        super().__init__()
        if pretrained:
            from genmetrics_nb.extractors.efficientnet_lite import (
                efficientnet_lite0_weights_file,
                load_efficientnet_lite0,
            )

            net = load_efficientnet_lite0(device="cpu", weights=weights)
            self.weights_digest = file_digest(weights if weights is not None else efficientnet_lite0_weights_file())
        else:
            from efficientnet_lite_pytorch import EfficientNet

            net = EfficientNet.from_name("efficientnet-lite0")
            self.weights_digest = None
        del net._fc  # the ImageNet classifier is not used by a segmenter
        net.requires_grad_(True)
        self.net = net

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        from genmetrics_nb.extractors.efficientnet_lite import LITE0_MEAN, LITE0_STD

        return (x - LITE0_MEAN) / LITE0_STD

    def forward(self, x):
        from genmetrics_nb.extractors.efficientnet_lite import efficientnet_lite0_stages

        st = efficientnet_lite0_stages(self.net, x, names=("s8", "s16", "s32"))
        n = self.net
        top = n._swish(n._bn1(n._conv_head(st["s32"])))
        return {"s8": st["s8"], "s16": st["s16"], "s32": top}


class _VGGEncoder(nn.Module):
    """VGG-16 ``features`` cut after pool3 (256 ch), pool4 (512 ch) and pool5 (512 ch)."""

    name = "vgg16"
    channels = {"s8": 256, "s16": 512, "s32": 512}

    def __init__(self, *, pretrained: bool, weights=None):
        super().__init__()
        import torchvision

        if pretrained:
            from genmetrics_nb.weights.manager import path as weights_path

            file = weights_path("vgg16", path=weights)
            state = torch.load(file, map_location="cpu", weights_only=True)
            # Build on the meta device and assign the checkpoint's tensors:
            # avoids initialising 138 M parameters only to overwrite them.
            with torch.device("meta"):
                vgg = torchvision.models.vgg16()
            vgg.load_state_dict(state, strict=True, assign=True)
            self.weights_digest = file_digest(file)
            self.classifier_state = {k: v for k, v in state.items() if k.startswith("classifier.")}
        else:
            vgg = torchvision.models.vgg16()
            self.weights_digest = None
            self.classifier_state = None
        f = vgg.features
        self.block3, self.block4, self.block5 = f[:17], f[17:24], f[24:31]

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(_IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1) * 255.0
        std = torch.tensor(_IMAGENET_STD, device=x.device).view(1, 3, 1, 1) * 255.0
        return (x - mean) / std

    def forward(self, x):
        p3 = self.block3(x)
        p4 = self.block4(p3)
        p5 = self.block5(p4)
        return {"s8": p3, "s16": p4, "s32": p5}


class _SmallVGGEncoder(nn.Module):
    """A small VGG with batch normalisation, trained from scratch with the FCN.

    The input is first averaged over 2 x 2 pixels (half resolution; a Fashion-MNIST
    item needs no more), then five blocks of two 3 x 3 convolutions (widths 16, 32,
    64, 128, 128) with 2 x 2 max pooling between them: stride 8 (64 ch), 16 (128 ch)
    and 32 (128 ch) relative to the input, like VGG-16's pool3 / pool4 / pool5.
    """

    name = "vgg-small"
    widths = (16, 32, 64, 128, 128)
    channels = {"s8": 64, "s16": 128, "s32": 128}

    def __init__(self, *, pretrained: bool = False, weights=None):
        super().__init__()
        if weights is not None:
            raise ValueError("encoder 'vgg-small' has no separate weights file; its weights are in the FCN checkpoint")

        def block(cin, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            )  # fmt: skip

        ins = (3,) + self.widths[:-1]
        self.blocks = nn.ModuleList(block(i, o) for i, o in zip(ins, self.widths))
        self.weights_digest = None

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        return x / 127.5 - 1.0

    def forward(self, x):
        h = F.avg_pool2d(x, 2)
        out = []
        for i, blk in enumerate(self.blocks):
            h = blk(h if i == 0 else F.max_pool2d(h, 2))
            out.append(h)
        return {"s8": out[2], "s16": out[3], "s32": out[4]}


_ENCODER_CLASSES = {"efficientnet-lite0": _LiteEncoder, "vgg16": _VGGEncoder, "vgg-small": _SmallVGGEncoder}


def encoder_id(encoder: nn.Module) -> str:
    """``name:digest-prefix`` of an encoder's weights (``name:random`` without a checkpoint).

    An encoder without published weights (``vgg-small``) is ``name:trained-with-fcn``: its
    weights live in the FCN checkpoint.
    """
    if encoder.name not in PRETRAINED_ENCODERS:
        return f"{encoder.name}:trained-with-fcn"
    d = getattr(encoder, "weights_digest", None)
    return f"{encoder.name}:{d[:16] if d else 'random'}"


class FCN(nn.Module):
    """A fully convolutional network: encoder, "fc6/fc7" head, FCN decoder.

    Parameters
    ----------
    encoder : {"efficientnet-lite0", "vgg16", "vgg-small"}
        ``"vgg16"``: torchvision VGG-16, ImageNet weights through
        ``gm.weights.path("vgg16")`` (the FCN paper's and the document's encoder);
        skips from pool3 (stride 8) and pool4 (stride 16). ``"efficientnet-lite0"``:
        ImageNet weights that ship offline; skips from its stride-8 (40 ch) and
        stride-16 (112 ch) stages, top from its 1280-wide head convolution.
        ``"vgg-small"``: a small VGG with batch normalisation at half the input
        resolution, no pretrained weights (``pretrained`` is ignored); it must
        train with the FCN (``freeze_encoder=False``).
    variant : {"8s", "16s", "32s"}
        Output stride of the coarsest prediction that is not refined by a skip.
    num_classes : int
        Number of output classes (including background).
    head_channels : int, optional
        Width of the two head convolutions ("fc6", "fc7"). Default 4096 for
        VGG-16 (7x7 then 1x1, initialised from the ImageNet classifier as in
        FCN) and 256 for Lite0 (1x1 then 1x1, random).
    pretrained : bool
        Load the encoder's ImageNet weights (default). False: random encoder.
    freeze_encoder : bool
        Keep the encoder fixed (and in eval mode); only the head and decoder
        learn. Then encoder features can be computed once and cached
        (:func:`genmetrics_nb.training.fcn.encode_scenes`).
    dropout : float
        Dropout after each head convolution (FCN: 0.5).
    learn_upsampling : bool
        Learn the transposed convolutions (FCN paper, Keras-style FCNs) or keep
        them fixed at bilinear (FCN's released Caffe models).
    learn_final_upsampling : bool
        False keeps only the final (stride 32/16/8) upsampling fixed at
        bilinear while the intermediate 2x ones learn, as in the paper
        (section 4.1: "the final layer deconvolutional filters are fixed to
        bilinear interpolation, while intermediate upsampling layers are
        initialized to bilinear upsampling, and then learned"). The fixed map
        is separable, so :meth:`decode` can then evaluate it at a subset of
        output rows and columns (``rows=``, ``cols=``) for cheaper training.
    weights : path, optional
        Explicit encoder checkpoint in the publisher's format (otherwise the
        weight manager / the installed package supplies it).
    seed : int
        Seeds the random initialisation of the head (in a forked RNG; the global
        torch RNG is left untouched).

    Notes
    -----
    Inputs are padded (zeros after normalisation, i.e. the mean colour) at
    the bottom and right to a multiple of 32 and the logits are cropped back,
    so any size of at least 32 x 32 works and the upsampled maps align exactly
    with their skips; FCN's Caffe models pad by 100 pixels and crop instead.
    To follow Long et al. for VGG-16 use ``head_channels=4096``,
    ``learn_upsampling=False`` and train end to end (``freeze_encoder=False``).
    """

    def __init__(
        self,
        encoder: str = "efficientnet-lite0",
        *,
        variant: str = "8s",
        num_classes: int,
        head_channels: int | None = None,
        pretrained: bool = True,
        freeze_encoder: bool = True,
        dropout: float = 0.5,
        learn_upsampling: bool = True,
        learn_final_upsampling: bool = True,
        weights=None,
        seed: int = 0,
    ):
        super().__init__()
        check_choice(encoder, name="encoder", choices=ENCODERS)
        check_choice(variant, name="variant", choices=VARIANTS)
        num_classes = check_int(num_classes, name="num_classes", minimum=2)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        hc, hk = _HEAD_DEFAULTS[encoder]
        if head_channels is not None:
            hc = check_int(head_channels, name="head_channels", minimum=1, hint="pass None for the encoder's default")
        self.config = dict(
            encoder=encoder, variant=variant, num_classes=num_classes, head_channels=hc,
            freeze_encoder=bool(freeze_encoder), dropout=float(dropout),
            learn_upsampling=bool(learn_upsampling),
            learn_final_upsampling=bool(learn_upsampling) and bool(learn_final_upsampling),
        )  # fmt: skip
        self.variant = variant
        self.num_classes = num_classes
        self.freeze_encoder = bool(freeze_encoder)
        if encoder not in PRETRAINED_ENCODERS and freeze_encoder:
            raise ValueError(f"encoder {encoder!r} has no pretrained weights and must train: pass freeze_encoder=False")
        with torch.random.fork_rng(devices=[]):  # a random encoder ("vgg-small") starts from `seed` too
            torch.manual_seed(seed)
            self.encoder = _ENCODER_CLASSES[encoder](pretrained=pretrained, weights=weights)
        if self.freeze_encoder:
            self.encoder.requires_grad_(False).eval()
        ch = self.encoder.channels
        C = num_classes
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.head = nn.Sequential(
                nn.Conv2d(ch["s32"], hc, hk, padding=hk // 2), nn.ReLU(inplace=True), nn.Dropout(dropout),
                nn.Conv2d(hc, hc, 1), nn.ReLU(inplace=True), nn.Dropout(dropout),
            )  # fmt: skip
            self.score_fr = nn.Conv2d(hc, C, 1)
        cls = getattr(self.encoder, "classifier_state", None)
        if cls is not None and hc == 4096 and hk == 7:
            # FCN "convolutionalises" VGG's fully connected layers (section 3.1).
            with torch.no_grad():
                self.head[0].weight.copy_(cls["classifier.0.weight"].view(4096, 512, 7, 7))
                self.head[0].bias.copy_(cls["classifier.0.bias"])
                self.head[3].weight.copy_(cls["classifier.3.weight"].view(4096, 4096, 1, 1))
                self.head[3].bias.copy_(cls["classifier.3.bias"])
        if hasattr(self.encoder, "classifier_state"):
            del self.encoder.classifier_state
        nn.init.zeros_(self.score_fr.weight)  # FCN zero-initialises its score layers
        nn.init.zeros_(self.score_fr.bias)
        if variant in ("16s", "8s"):
            self.score_pool4 = nn.Conv2d(ch["s16"], C, 1)
            self.upscore2 = self._upsampler(C, 2)
            nn.init.zeros_(self.score_pool4.weight)
            nn.init.zeros_(self.score_pool4.bias)
        if variant == "8s":
            self.score_pool3 = nn.Conv2d(ch["s8"], C, 1)
            self.upscore_pool4 = self._upsampler(C, 2)
            nn.init.zeros_(self.score_pool3.weight)
            nn.init.zeros_(self.score_pool3.bias)
        self.upscore_final = self._upsampler(C, _STRIDE[variant], per_class=True)
        self.upscore_final.weight.requires_grad_(self.config["learn_final_upsampling"])

    def _upsampler(self, channels: int, factor: int, *, per_class: bool = False) -> nn.ConvTranspose2d:
        # The final (large) upsampling is per class (groups=channels): with
        # FCN's diagonal bilinear weights this is the same map as FCN's full
        # C x C kernel, at 1/C of the cost; learned, it upsamples each class
        # score map with its own kernel.
        groups = channels if per_class else 1
        up = nn.ConvTranspose2d(
            channels, channels, 2 * factor, stride=factor, padding=factor // 2, bias=False, groups=groups
        )
        with torch.no_grad():
            w = bilinear_kernel(channels, 2 * factor)
            up.weight.copy_(w[range(channels), range(channels)][:, None] if per_class else w)
        up.weight.requires_grad_(self.config["learn_upsampling"])
        return up

    # -- pieces ----------------------------------------------------------------
    @property
    def encoder_name(self) -> str:
        return self.config["encoder"]

    @property
    def encoder_id(self) -> str:
        return encoder_id(self.encoder)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()  # frozen BatchNorm statistics stay the ImageNet ones
        return self

    def preprocess(self, images) -> torch.Tensor:
        """``uint8`` ``N x 3 x H x W`` images (NumPy or torch) -> normalised float32, same size."""
        images = check_uint8_images(images, name="images", channels=3, keep_torch=True)
        if not torch.is_tensor(images):
            images = torch.from_numpy(np.ascontiguousarray(images))
        dev = next(self.parameters()).device
        return self.encoder.normalise(images.to(dev).float())

    @staticmethod
    def pad32(x: torch.Tensor) -> torch.Tensor:
        """Pad a normalised batch at the bottom/right to a multiple of 32."""
        h, w = x.shape[-2:]
        if h < 32 or w < 32:
            raise ValueError(f"images must be at least 32 x 32 pixels, got {h} x {w}")
        ph, pw = (-h) % 32, (-w) % 32
        return F.pad(x, (0, pw, 0, ph)) if ph or pw else x

    def encode(self, x: torch.Tensor) -> dict:
        """Encoder features (``"s8"``, ``"s16"``, ``"s32"``) of a padded normalised batch."""
        if self.freeze_encoder:
            with torch.no_grad():
                return self.encoder(x)
        return self.encoder(x)

    def decode(self, feats: dict, *, rows=None, cols=None) -> torch.Tensor:
        """Logits at ``8 x`` the stride-8 size (the padded input size).

        ``rows``/``cols`` (int index tensors into the padded output) return the
        logits at those rows and columns only; they need a fixed final
        upsampling (``learn_final_upsampling=False``), which is evaluated as
        two bilinear matrix products (:func:`bilinear_matrix`).
        """
        score = self.score_fr(self.head(feats["s32"]))
        if self.variant in ("16s", "8s"):
            score = self.upscore2(score) + self.score_pool4(feats["s16"])
        if self.variant == "8s":
            score = self.upscore_pool4(score) + self.score_pool3(feats["s8"])
        if self.config["learn_final_upsampling"]:
            if rows is not None or cols is not None:
                raise ValueError("rows/cols need an FCN built with learn_final_upsampling=False")
            return self.upscore_final(score)
        f = _STRIDE[self.variant]
        uh = bilinear_matrix(score.shape[-2], f).to(score)
        uw = bilinear_matrix(score.shape[-1], f).to(score)
        if rows is not None:
            uh = uh[rows]
        if cols is not None:
            uw = uw[cols]
        return torch.einsum("ri,ncij,sj->ncrs", uh, score, uw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``N x num_classes x H x W`` of a normalised batch (see :meth:`preprocess`)."""
        h, w = x.shape[-2:]
        return self.decode(self.encode(self.pad32(x)))[..., :h, :w]

    # -- state -------------------------------------------------------------------
    def trainable_state_dict(self) -> dict:
        """The state that training changes: without the encoder when it is frozen."""
        state = self.state_dict()
        if self.freeze_encoder:
            state = {k: v for k, v in state.items() if not k.startswith("encoder.")}
        return state
