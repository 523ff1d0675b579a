"""DINOv2 ViT feature extractors: the network of FD_DINOv2 (Stein et al. 2023).

``dinov2-vit-s14``, ``dinov2-vit-b14``, ``dinov2-vit-l14``, ``dinov2-vit-g14``
    Meta's self-supervised DINOv2 backbones (``dinov2_vit{s,b,l,g}14_pretrain.pth``,
    trained at 518 x 518, no register tokens), run as dgm-eval's ``DINOv2Encoder``
    runs them. One output, ``cls`` (384 / 768 / 1024 / 1536): the class token of
    the final LayerNorm (``x_norm_clstoken``, what the hub model's ``forward``
    returns). ``dinov2-vit-l14`` is the network of the published FD_DINOv2
    leaderboard; dgm-eval recommends ``vitb14`` only for cheap tracking.

What changes the number, all reproduced here and recorded in ``Extractor.spec``:

* **Resize** (dgm-eval's default, ``clean_resize=False``): the whole image
  (no centre crop, aspect ratio not kept) to 224 x 224 with
  ``torchvision.transforms.Resize((224, 224), BICUBIC)`` on a PIL image, i.e.
  Pillow's ``Image.resize(BICUBIC)`` on ``uint8``: Keys cubic with ``a = -0.5``,
  support widened by the downscale factor (always antialiased), 22-bit
  fixed-point coefficients, a horizontal pass then a vertical pass, each
  rounded and clipped to ``uint8``, reproduced bit-exactly on any device by
  :mod:`genmetrics_nb.extractors.pil_resize`. 224 x 224 inputs are passed
  through untouched, as Pillow does. Pillow 13 runs the vertical pass first
  on images that lose more than twice as many rows as columns (e.g.
  568 x 64), which moves some pixels by one grey level; the extractor keeps
  the order of Pillow <= 12, under which dgm-eval's published numbers were
  computed (:data:`RESIZE_ORDER`). dgm-eval's ``--clean_resize`` variant
  (Pillow on float32 channels, no rounding) is not reproduced.
* **Normalisation**: ``ToTensor`` (``x / 255``) then
  ``Normalize(ImageNet mean, std)`` in float32, in that order.
* **Position embedding**: the checkpoints hold 1 + 37 x 37 positions; a
  224 x 224 input has a 16 x 16 patch grid. The official
  ``interpolate_pos_encoding`` resamples with
  ``F.interpolate(mode="bicubic", align_corners=False, antialias=False)``
  and ``scale_factor=(16 + 0.1) / 37`` (``interpolate_offset=0.1``, a DINO
  v1 work-around kept for backward compatibility): the output has 16 x 16
  positions but the sampling grid is that of a 16.1-wide output, so it is
  *not* the same as ``size=(16, 16)`` (what timm's ``vit_*_patch14_dinov2``
  does, with ``antialias=True`` as well). :func:`interpolate_pos_embed`.
* **Network**: patch 14 conv, class token, 12 / 12 / 24 / 40 pre-norm blocks
  (LayerNorm eps 1e-6, qkv bias, LayerScale on both residual branches, GELU
  MLP of ratio 4; SwiGLU FFN with hidden ``(int(4 D * 2 / 3) + 7) // 8 * 8``
  = 4096 for g/14), final LayerNorm. ``mask_token`` is in the checkpoints
  but unused at inference.

Written here rather than taken from ``torch.hub`` (which downloads the
repository at run time and prefers xFormers kernels when present) or timm
(``vit_*_patch14_dinov2`` resamples the position embedding with
``size=(16, 16)`` and ``antialias=True``, a different embedding at 224 px,
and drops ``mask_token``): the module tree uses the official key names, so
the published files load with ``strict=True``, and its forward pass equals
the official one operation for operation.

References
----------
.. [1] M. Oquab et al., "DINOv2: Learning Robust Visual Features without
   Supervision", TMLR 2024. https://github.com/facebookresearch/dinov2
   (``dinov2/models/vision_transformer.py``, ``dinov2/layers/``,
   ``dinov2/hub/backbones.py``).
.. [2] G. Stein et al., "Exposing flaws of generative model evaluation
   metrics and their unfair treatment of diffusion models", NeurIPS 2023.
   https://github.com/layer6ai-labs/dgm-eval (``dgm_eval/models/dinov2.py``:
   ``DINOv2Encoder.transform``; ``dgm_eval/representations.py``).
.. [3] Pillow ``src/libImaging/Resample.c`` (``precompute_coeffs``,
   ``normalize_coeffs_8bpc``, ``ImagingResampleHorizontal_8bpc``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ARCHITECTURES",
    "DinoV2Arch",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "INPUT_SIZE",
    "POS_EMBED_OFFSET",
    "RESIZE_ORDER",
    "build_dinov2",
    "build_extractor",
    "dinov2_forward",
    "dinov2_preprocess",
    "interpolate_pos_embed",
    "load_dinov2",
]

#: Input side after the resize (dgm-eval's ``TF.Resize((224, 224))``).
INPUT_SIZE = 224
#: Patch side of every DINOv2 ``*14`` model.
PATCH_SIZE = 14
#: Side the checkpoints were trained at: 37 x 37 patches, ``pos_embed`` 1 x 1370 x D.
PRETRAIN_SIZE = 518
#: ``interpolate_offset`` of the official hub models without registers.
POS_EMBED_OFFSET = 0.1
#: ImageNet statistics of dgm-eval's ``TF.Normalize`` (float64 there, float32 when applied).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_LN_EPS = 1e-6


@dataclass(frozen=True)
class DinoV2Arch:
    """One DINOv2 backbone as ``dinov2/hub/backbones.py`` builds it."""

    hub_name: str
    weights: str
    embed_dim: int
    depth: int
    num_heads: int
    ffn: str  # "mlp" or "swiglu"

    @property
    def ffn_hidden(self) -> int:
        """Hidden width of the FFN (SwiGLUFFNFused rounds 2/3 of 4 D up to a multiple of 8)."""
        hidden = 4 * self.embed_dim
        if self.ffn == "swiglu":
            hidden = (int(hidden * 2 / 3) + 7) // 8 * 8
        return hidden


#: Registry name -> architecture (official hub constructors ``dinov2_vit*14``).
ARCHITECTURES = {
    "dinov2-vit-s14": DinoV2Arch("dinov2_vits14", "dinov2_vits14_pretrain", 384, 12, 6, "mlp"),
    "dinov2-vit-b14": DinoV2Arch("dinov2_vitb14", "dinov2_vitb14_pretrain", 768, 12, 12, "mlp"),
    "dinov2-vit-l14": DinoV2Arch("dinov2_vitl14", "dinov2_vitl14_pretrain", 1024, 24, 16, "mlp"),
    "dinov2-vit-g14": DinoV2Arch("dinov2_vitg14", "dinov2_vitg14_pretrain", 1536, 40, 24, "swiglu"),
}


#: Pass order of the resize: Pillow <= 12's (horizontal first), under which
#: dgm-eval's published numbers were computed; :mod:`genmetrics_nb.extractors.pil_resize`.
RESIZE_ORDER = "horizontal-first"


def dinov2_preprocess(x, *, size: int = INPUT_SIZE):
    """dgm-eval's DINOv2 transform on float 0..255 RGB: PIL bicubic to 224, ``/255``, ImageNet mean/std.

    The resize is Pillow's uint8 bicubic, bit-exact
    (:func:`genmetrics_nb.extractors.pil_resize.pil_bicubic_resize`, pass
    order of Pillow <= 12); a 224 x 224 input is not resampled.
    """
    import torch

    from genmetrics_nb.extractors.pil_resize import pil_bicubic_resize

    x = pil_bicubic_resize(x, (size, size), order=RESIZE_ORDER) / 255.0
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


# ----------------------------------------------------------------------------
# the network
# ----------------------------------------------------------------------------
def interpolate_pos_embed(pos_embed, grid_h: int, grid_w: int, *, offset: float = POS_EMBED_OFFSET,
                          antialias: bool = False):
    """The official ``DinoVisionTransformer.interpolate_pos_encoding``.

    Parameters
    ----------
    pos_embed : torch.Tensor
        ``1 x (1 + M*M) x D`` (class position first).
    grid_h, grid_w : int
        Patch grid of the input (16, 16 at 224 px).
    offset : float
        ``interpolate_offset``: with ``offset > 0`` the resampling is asked
        for ``scale_factor = (grid + offset) / M`` (PyTorch then samples at
        ``(i + 0.5) * M / (grid + offset) - 0.5``); with 0, for ``size=grid``.
    antialias : bool
        ``interpolate_antialias`` (False for the ``*_pretrain`` checkpoints).

    Returns
    -------
    torch.Tensor
        ``1 x (1 + grid_h * grid_w) x D`` in ``pos_embed``'s dtype, resampled in float32.
    """
    import torch
    import torch.nn.functional as F

    n = pos_embed.shape[1] - 1
    if n == grid_h * grid_w and grid_h == grid_w:
        return pos_embed
    m = math.isqrt(n)
    if m * m != n:
        raise ValueError(f"pos_embed must hold 1 + M*M positions, got {pos_embed.shape[1]}")
    dim = pos_embed.shape[-1]
    pe = pos_embed.float()
    grid = pe[:, 1:].reshape(1, m, m, dim).permute(0, 3, 1, 2)
    if offset:
        kwargs = {"scale_factor": (float(grid_h + offset) / m, float(grid_w + offset) / m)}
    else:
        kwargs = {"size": (grid_h, grid_w)}
    grid = F.interpolate(grid, mode="bicubic", antialias=antialias, **kwargs)
    if tuple(grid.shape[-2:]) != (grid_h, grid_w):  # pragma: no cover - the official assert
        raise RuntimeError(f"position grid came out {tuple(grid.shape[-2:])}, expected {(grid_h, grid_w)}")
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat((pe[:, :1], grid), dim=1).to(pos_embed.dtype)


def build_dinov2(arch: DinoV2Arch, *, depth: int | None = None, device="meta"):
    """The module tree of an official DINOv2 backbone, parameters uninitialised.

    The names are those of ``DinoVisionTransformer`` with ``block_chunks=0``
    (``patch_embed.proj``, ``cls_token``, ``pos_embed``, ``mask_token``,
    ``blocks.{i}.{norm1,attn.qkv,attn.proj,ls1.gamma,norm2,mlp.*,ls2.gamma}``,
    ``norm``), so the published state dicts load with ``strict=True``.
    ``mlp.*`` is ``fc1``/``fc2`` (GELU MLP) or ``w12``/``w3`` (SwiGLU).

    Parameters
    ----------
    arch : DinoV2Arch
    depth : int, optional
        Fewer blocks than ``arch.depth`` (for tests of the same code path).
    device : str or torch.device
        ``"meta"`` (default) allocates nothing; load with ``assign=True``.
    """
    import torch
    from torch import nn

    d = arch.embed_dim
    depth = arch.depth if depth is None else int(depth)
    grid = PRETRAIN_SIZE // PATCH_SIZE
    with torch.device(device):
        m = nn.Module()
        m.patch_embed = nn.Module()
        m.patch_embed.proj = nn.Conv2d(3, d, kernel_size=PATCH_SIZE, stride=PATCH_SIZE)
        m.cls_token = nn.Parameter(torch.empty(1, 1, d))
        m.pos_embed = nn.Parameter(torch.empty(1, 1 + grid * grid, d))
        m.mask_token = nn.Parameter(torch.empty(1, d))
        m.blocks = nn.ModuleList()
        for _ in range(depth):
            b = nn.Module()
            b.norm1 = nn.LayerNorm(d, eps=_LN_EPS)
            b.attn = nn.Module()
            b.attn.qkv = nn.Linear(d, 3 * d, bias=True)
            b.attn.proj = nn.Linear(d, d, bias=True)
            b.ls1 = nn.Module()
            b.ls1.gamma = nn.Parameter(torch.empty(d))
            b.norm2 = nn.LayerNorm(d, eps=_LN_EPS)
            b.mlp = nn.Module()
            if arch.ffn == "swiglu":
                b.mlp.w12 = nn.Linear(d, 2 * arch.ffn_hidden, bias=True)
                b.mlp.w3 = nn.Linear(arch.ffn_hidden, d, bias=True)
            else:
                b.mlp.fc1 = nn.Linear(d, arch.ffn_hidden, bias=True)
                b.mlp.fc2 = nn.Linear(arch.ffn_hidden, d, bias=True)
            b.ls2 = nn.Module()
            b.ls2.gamma = nn.Parameter(torch.empty(d))
            m.blocks.append(b)
        m.norm = nn.LayerNorm(d, eps=_LN_EPS)
    m.num_heads = arch.num_heads
    m.ffn = arch.ffn
    return m.eval().requires_grad_(False)


def _attention(attn, x, num_heads: int):
    import torch.nn.functional as F

    b, n, c = x.shape
    qkv = attn.qkv(x).reshape(b, n, 3, num_heads, c // num_heads)
    q, k, v = (t.transpose(1, 2) for t in qkv.unbind(2))
    x = F.scaled_dot_product_attention(q, k, v)
    return attn.proj(x.transpose(1, 2).reshape(b, n, c))


def _ffn(mlp, x, kind: str):
    import torch.nn.functional as F

    if kind == "swiglu":
        x1, x2 = mlp.w12(x).chunk(2, dim=-1)
        return mlp.w3(F.silu(x1) * x2)
    return mlp.fc2(F.gelu(mlp.fc1(x)))


def dinov2_forward(model, x, names=("cls",)):
    """Normalised 224 x 224 input -> ``{"cls": N x D}``, the final-norm class token."""
    import torch

    b, _, h, w = x.shape
    t = model.patch_embed.proj(x).flatten(2).transpose(1, 2)
    t = torch.cat((model.cls_token.expand(b, -1, -1), t), dim=1)
    t = t + interpolate_pos_embed(model.pos_embed, h // PATCH_SIZE, w // PATCH_SIZE).to(t.dtype)
    for blk in model.blocks:
        t = t + _attention(blk.attn, blk.norm1(t), model.num_heads) * blk.ls1.gamma
        t = t + _ffn(blk.mlp, blk.norm2(t), model.ffn) * blk.ls2.gamma
    return {"cls": model.norm(t)[:, 0]}


def load_dinov2(arch: DinoV2Arch, *, weights=None, device="cpu", depth: int | None = None):
    """An official DINOv2 backbone with its published (or the given) weights.

    Parameters
    ----------
    arch : DinoV2Arch
    weights : path-like, optional
        A state dict in the publisher's format (``torch.save`` of
        ``DinoVisionTransformer.state_dict()``); default: resolved by the
        weight manager (``gm.weights.path(arch.weights)``).
    device : str or torch.device
    depth : int, optional
        Blocks to build (default: the architecture's); for reduced test files.

    Returns
    -------
    (torch.nn.Module, pathlib.Path or str)
        The network in eval mode and the file it was loaded from.

    Raises
    ------
    ValueError
        The file is not a state dict of this architecture (the message names
        the missing / unexpected keys).
    """
    import torch

    from genmetrics_nb.device import resolve
    from genmetrics_nb.weights import manager

    path = manager.path(arch.weights) if weights is None else weights
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:  # legacy (non-zip) serialisation cannot be memory-mapped
        state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"weights={str(path)!r} does not hold a state dict (got {type(state).__name__})")
    model = build_dinov2(arch, depth=depth, device="meta")
    state = {k: v.float() for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        raise ValueError(
            f"weights={str(path)!r} is not a {arch.hub_name} checkpoint in the official format "
            f"(dinov2/hub/backbones.py, {arch.weights}.pth): {exc}"
        ) from None
    return model.requires_grad_(False).to(resolve(device)), path


def build_extractor(name: str, *, device, weights=None):
    """Build the registered extractor ``name`` (one of :data:`ARCHITECTURES`)."""
    from genmetrics_nb.extractors.base import Extractor
    from genmetrics_nb.weights.manager import sha256_file

    if name not in ARCHITECTURES:
        raise ValueError(f"unknown DINOv2 extractor {name!r}; choose from {sorted(ARCHITECTURES)}")
    arch = ARCHITECTURES[name]
    model, path = load_dinov2(arch, weights=weights, device=device)
    spec = {
        "architecture": (
            f"DINOv2 {arch.hub_name} (facebookresearch/dinov2 DinoVisionTransformer: patch 14, "
            f"dim {arch.embed_dim}, depth {arch.depth}, heads {arch.num_heads}, "
            f"{'SwiGLU' if arch.ffn == 'swiglu' else 'GELU MLP'} FFN {arch.ffn_hidden}, LayerScale, "
            "LayerNorm eps 1e-6, no register tokens)"
        ),
        "input_size": [INPUT_SIZE, INPUT_SIZE],
        "resize": (
            "PIL Image.resize BICUBIC on uint8 (dgm-eval TF.Resize((224, 224), BICUBIC) on PIL): "
            "whole image, no crop, a=-0.5, support scaled by the downscale factor, 22-bit fixed point, "
            "Pillow <= 12 pass order (horizontal then vertical, each rounded to uint8); "
            "identity at 224x224"
        ),
        "normalize": "x / 255, then (x - ImageNet mean) / ImageNet std in float32",
        "feature": "cls: class token of the final LayerNorm (x_norm_clstoken)",
        "pos_embed": (
            f"37x37 -> {INPUT_SIZE // PATCH_SIZE}x{INPUT_SIZE // PATCH_SIZE} F.interpolate bicubic, "
            f"align_corners=False, antialias=False, scale_factor=(grid + {POS_EMBED_OFFSET}) / 37 "
            "(interpolate_offset=0.1), in float32"
        ),
        "attention": "softmax(q k^T / sqrt(head_dim)) v (scaled_dot_product_attention)",
        "channels": "RGB; grayscale repeated",
        "weights": arch.weights if weights is None else "user file",
        "version": 1,
    }
    return Extractor(
        name,
        model,
        preprocess=dinov2_preprocess,
        forward=dinov2_forward,
        outputs={"cls": arch.embed_dim},
        spec=spec,
        weights_digest=sha256_file(path),
        device=model.norm.weight.device,
    )


def build_vits14(*, device, weights=None):
    """Factory registered as ``"dinov2-vit-s14"``."""
    return build_extractor("dinov2-vit-s14", device=device, weights=weights)


def build_vitb14(*, device, weights=None):
    """Factory registered as ``"dinov2-vit-b14"``."""
    return build_extractor("dinov2-vit-b14", device=device, weights=weights)


def build_vitl14(*, device, weights=None):
    """Factory registered as ``"dinov2-vit-l14"``."""
    return build_extractor("dinov2-vit-l14", device=device, weights=weights)


def build_vitg14(*, device, weights=None):
    """Factory registered as ``"dinov2-vit-g14"``."""
    return build_extractor("dinov2-vit-g14", device=device, weights=weights)
