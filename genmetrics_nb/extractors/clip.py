"""OpenAI CLIP ViT-L/14@336px image embeddings, with CMMD's preprocessing.

``clip-vit-l14-336``
    The image tower of OpenAI's CLIP ViT-L/14 at 336 x 336 pixels, loaded
    from the checkpoint OpenAI publishes (``ViT-L-14-336px.pt``, a TorchScript
    archive; a plain state dict with the same keys loads too). It is the
    embedding of CMMD (Jayasumana et al. 2024), and the preprocessing is that
    of the CMMD reference code. Outputs:

    ``embedding`` (768)
        ``encode_image`` followed by L2 normalisation: what CMMD compares.
    ``projection`` (768)
        ``encode_image`` itself (the class token after ``ln_post``, times
        ``proj``), not normalised: what ``clip.load(...)[0].encode_image``
        and open_clip's ``encode_image(normalize=False)`` return.
    ``cls`` (1024)
        The class token after ``ln_post``, before the projection.

Preprocessing (each step changes the numbers)
---------------------------------------------
The CMMD reference reads every file with Pillow, crops and resizes it as
8-bit, and only then goes to floats (``cmmd/io_util.py``); its JAX
``jax.image.resize`` to 336 in ``cmmd/embedding.py`` then has nothing left
to do (same shape: the identity). Here, on ``uint8`` ``N x 3 x H x W``:

1. **Centre crop to a square** of side ``l = min(H, W)``, at
   ``top = (H - l) // 2``, ``left = (W - l) // 2`` (floor offsets), on the
   8-bit image, *before* resizing (OpenAI's own ``clip.load`` preprocess
   resizes the short side first and crops after; the two agree only on
   square images).
2. **Resize** the ``l x l`` square to 336 x 336 with **Pillow's bicubic**
   (``Image.BICUBIC``: Keys kernel ``a = -0.5``, anti-aliased, i.e. the
   kernel is widened by the reduction factor when shrinking; 22-bit fixed
   point weights; result **rounded to uint8** after each pass, horizontal
   pass first: square to square, every Pillow version agrees), by
   :func:`~genmetrics_nb.extractors.pil_resize.pil_bicubic_resize`: Pillow
   itself for CPU tensors, its byte-exact torch port on GPUs. Skipped when
   ``l == 336``. Not torch's bicubic (``a = -0.75`` without antialiasing,
   or ``a = -0.5`` with it but in floats without the uint8 rounding).
3. **To [0, 1]**: ``float32`` division by 255.
4. **CLIP normalisation**: ``(x - mean) / std`` in ``float32`` with
   mean ``(0.48145466, 0.4578275, 0.40821073)`` and std
   ``(0.26862954, 0.26130258, 0.27577711)`` (scenic's ``normalize_image``,
   the same constants as OpenAI's).
5. Grayscale images are repeated to RGB (the reference tiles the channel
   after resizing, which gives the same pixels).

This is the path of the reference's command line (``cmmd/main.py`` on two
folders). Its ``ClipEmbeddingModel.embed`` called directly on in-memory
``[0, 1]`` arrays of another size would instead resize the whole image,
uncropped, with ``jax.image.resize(..., "bicubic")`` in floats (Keys
``a = -0.5``, antialiased, no uint8 rounding); that variant is not offered
here: every image reaches the network as the files do.

Network
-------
OpenAI's ``VisionTransformer``: patch convolution without bias, class
token and learned positional embedding, ``ln_pre``, pre-norm residual
blocks (``nn.MultiheadAttention`` with 64-dimensional heads, QuickGELU MLP
``x * sigmoid(1.702 x)``, LayerNorm eps ``1e-5``), ``ln_post`` on the class
token, the ``proj`` matrix (no bias). The published file stores the
convolution, linear, attention and projection weights in ``float16``; they
are cast to ``float32`` and the network runs in ``float32`` (as
``clip.load(..., jit=False)`` on the CPU and scenic's flax model, whose
``float32`` inputs promote the ``float16`` parameters). Written here, not
imported from ``open_clip``/``clip``, which are test-only references: the
module's state dict has exactly OpenAI's ``visual.*`` keys.

The reference computes in JAX ``float32`` with the backend's default matmul
precision (bfloat16 passes on TPUs, TF32 on recent NVIDIA GPUs); this
extractor's ``precision="fp32"`` disables TF32, so its embeddings are the
more exact ones and agree with the reference to that precision.

References
----------
.. [1] S. Jayasumana et al., "Rethinking FID: Towards a Better Evaluation
   Metric for Image Generation", CVPR 2024.
   https://github.com/google-research/google-research/tree/master/cmmd
   (``io_util.py``: ``_center_crop_and_resize``; ``embedding.py``:
   ``ClipEmbeddingModel``, model ``vit_l14_336px``).
.. [2] scenic ``projects/baselines/clip`` (``model.py``: ``normalize_image``,
   ``IMAGE_MEAN``/``IMAGE_STD``; ``layers.py``: ``CLIP.encode_image`` with
   ``normalize=True``): https://github.com/google-research/scenic
.. [3] A. Radford et al., "Learning Transferable Visual Models From Natural
   Language Supervision", ICML 2021. https://github.com/openai/CLIP
   (``clip/model.py``: ``VisionTransformer``, ``build_model``;
   ``clip/clip.py``: ``_MODELS["ViT-L/14@336px"]``, ``load``).
"""
from __future__ import annotations

import dataclasses
import os
import warnings
import zipfile

__all__ = [
    "CLIP_MEAN",
    "CLIP_STD",
    "CLIPVisionConfig",
    "VIT_L14_336",
    "WEIGHTS_NAME",
    "build_extractor",
    "build_vision_transformer",
    "center_crop_square",
    "clip_preprocess",
    "load_vision_transformer",
    "read_openai_checkpoint",
    "vision_transformer_from_state",
]

#: Manifest name of OpenAI's ViT-L/14@336px checkpoint.
WEIGHTS_NAME = "ViT-L-14-336px"
#: CLIP's per-channel mean and standard deviation of [0, 1] RGB.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_HEAD_WIDTH = 64  # OpenAI's build_model: heads = width // 64


@dataclasses.dataclass(frozen=True)
class CLIPVisionConfig:
    """Shape of an OpenAI CLIP vision transformer.

    Attributes
    ----------
    width : int
        Token width (1024 for ViT-L).
    layers : int
        Residual attention blocks (24 for ViT-L).
    patch_size : int
        Side of the square patches (14).
    image_size : int
        Input side, a multiple of ``patch_size`` (336).
    embed_dim : int
        Width of the projected embedding (768).
    """

    width: int
    layers: int
    patch_size: int
    image_size: int
    embed_dim: int

    @property
    def heads(self) -> int:
        """Attention heads, ``width // 64`` as in OpenAI's ``build_model``."""
        return self.width // _HEAD_WIDTH

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def state_dict_shapes(self) -> dict:
        """OpenAI's ``visual.*`` keys and tensor shapes for this configuration."""
        w, p = self.width, self.patch_size
        shapes = {
            "visual.class_embedding": (w,),
            "visual.positional_embedding": (self.grid ** 2 + 1, w),
            "visual.proj": (w, self.embed_dim),
            "visual.conv1.weight": (w, 3, p, p),
            "visual.ln_pre.weight": (w,),
            "visual.ln_pre.bias": (w,),
            "visual.ln_post.weight": (w,),
            "visual.ln_post.bias": (w,),
        }
        for i in range(self.layers):
            b = f"visual.transformer.resblocks.{i}."
            shapes.update({
                b + "attn.in_proj_weight": (3 * w, w),
                b + "attn.in_proj_bias": (3 * w,),
                b + "attn.out_proj.weight": (w, w),
                b + "attn.out_proj.bias": (w,),
                b + "ln_1.weight": (w,),
                b + "ln_1.bias": (w,),
                b + "mlp.c_fc.weight": (4 * w, w),
                b + "mlp.c_fc.bias": (4 * w,),
                b + "mlp.c_proj.weight": (w, 4 * w),
                b + "mlp.c_proj.bias": (w,),
                b + "ln_2.weight": (w,),
                b + "ln_2.bias": (w,),
            })
        return shapes

    @classmethod
    def from_state_dict(cls, state, *, name: str = "weights") -> "CLIPVisionConfig":
        """Read the configuration from OpenAI's keys, as ``clip.model.build_model`` does.

        Raises
        ------
        ValueError
            If the file holds no CLIP vision transformer (e.g. a CLIP ResNet,
            or another network altogether).
        """
        needed = ("visual.conv1.weight", "visual.positional_embedding", "visual.proj")
        missing = [k for k in needed if k not in state]
        if missing:
            what = "a CLIP ResNet (ModifiedResNet)" if "visual.layer1.0.conv1.weight" in state else "no CLIP ViT"
            raise ValueError(
                f"{name} holds {what}: keys {missing} are missing. Pass OpenAI's ViT checkpoint "
                f"({WEIGHTS_NAME}.pt from openai/CLIP) or a state dict with its 'visual.*' keys"
            )
        conv = state["visual.conv1.weight"]
        width, patch = int(conv.shape[0]), int(conv.shape[-1])
        layers = len({k.split(".")[3] for k in state
                      if k.startswith("visual.transformer.resblocks.") and k.endswith(".attn.in_proj_weight")})
        grid = round((int(state["visual.positional_embedding"].shape[0]) - 1) ** 0.5)
        return cls(width=width, layers=layers, patch_size=patch, image_size=patch * grid,
                   embed_dim=int(state["visual.proj"].shape[1]))


#: OpenAI's ViT-L/14@336px, the network of CMMD.
VIT_L14_336 = CLIPVisionConfig(width=1024, layers=24, patch_size=14, image_size=336, embed_dim=768)


# ----------------------------------------------------------------------------
# The network (OpenAI's clip/model.py VisionTransformer, same parameter names)
# ----------------------------------------------------------------------------
def build_vision_transformer(config: CLIPVisionConfig, *, activation: str = "quickgelu", heads: int | None = None):
    """An untrained OpenAI CLIP ``VisionTransformer`` of ``config``; its
    ``state_dict()`` keys are OpenAI's without the ``visual.`` prefix.

    ``activation`` is the MLP's: ``"quickgelu"`` (OpenAI's) or ``"gelu"``
    (open_clip's non-OpenAI models). ``heads``: attention heads, default
    ``config.heads`` (OpenAI's ``width // 64``; open_clip's ViT-H/14 has 80-wide heads)."""
    from collections import OrderedDict

    import torch
    from torch import nn

    if activation not in ("quickgelu", "gelu"):
        raise ValueError(f"activation must be 'quickgelu' or 'gelu', got {activation!r}")

    class QuickGELU(nn.Module):
        def forward(self, x):
            return x * torch.sigmoid(1.702 * x)

    class ResidualAttentionBlock(nn.Module):
        def __init__(self, width, heads):
            super().__init__()
            self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
            self.ln_1 = nn.LayerNorm(width, eps=1e-5)
            self.mlp = nn.Sequential(OrderedDict([
                ("c_fc", nn.Linear(width, width * 4)),
                ("gelu", QuickGELU() if activation == "quickgelu" else nn.GELU()),
                ("c_proj", nn.Linear(width * 4, width)),
            ]))
            self.ln_2 = nn.LayerNorm(width, eps=1e-5)

        def forward(self, x):
            h = self.ln_1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            return x + self.mlp(self.ln_2(x))

    class Transformer(nn.Module):
        def __init__(self, width, layers, heads):
            super().__init__()
            self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(layers)])

        def forward(self, x):
            return self.resblocks(x)

    class VisionTransformer(nn.Module):
        def __init__(self, cfg: CLIPVisionConfig):
            super().__init__()
            w = cfg.width
            self.config = cfg
            self.conv1 = nn.Conv2d(3, w, kernel_size=cfg.patch_size, stride=cfg.patch_size, bias=False)
            scale = w ** -0.5
            self.class_embedding = nn.Parameter(scale * torch.randn(w))
            self.positional_embedding = nn.Parameter(scale * torch.randn(cfg.grid ** 2 + 1, w))
            self.ln_pre = nn.LayerNorm(w, eps=1e-5)
            self.heads = cfg.heads if heads is None else int(heads)
            self.transformer = Transformer(w, cfg.layers, self.heads)
            self.ln_post = nn.LayerNorm(w, eps=1e-5)
            self.proj = nn.Parameter(scale * torch.randn(w, cfg.embed_dim))

        def forward(self, x):
            x = self.conv1(x).flatten(2).transpose(1, 2)  # N x grid^2 x width, row-major patches
            cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
            x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
            x = self.transformer(self.ln_pre(x))
            return self.ln_post(x[:, 0, :])

    return VisionTransformer(config)


# ----------------------------------------------------------------------------
# Reading OpenAI's checkpoint format
# ----------------------------------------------------------------------------
def _is_torchscript(path) -> bool:
    """A TorchScript archive: a zip whose top folder holds ``code/`` or ``constants.pkl``."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.split("/", 1)[-1].startswith(("code/", "constants.pkl")) for n in z.namelist())


def read_openai_checkpoint(path) -> dict:
    """All tensors of an OpenAI CLIP checkpoint, as a flat ``name -> Tensor`` dict.

    Accepts what ``clip.load`` accepts: the published TorchScript archive
    (read with ``torch.jit.load(...).state_dict()``, as ``clip.load(jit=False)``
    and scenic's converter do) or a plain ``torch.save``'d state dict (loaded
    with ``weights_only=True``), optionally wrapped as ``{"state_dict": ...}``
    with ``module.`` prefixes (open_clip's fallback). Tensors keep their
    stored dtype.

    Raises
    ------
    ValueError
        If the file holds no mapping of tensors.
    """
    import torch

    path = os.fspath(path)
    if _is_torchscript(path):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.jit.load.*deprecated", category=FutureWarning)
            state = torch.jit.load(path, map_location="cpu").state_dict()
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = {k.removeprefix("module."): v for k, v in state["state_dict"].items()}
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(
            f"weights={path!r} holds no state dict of tensors; pass OpenAI's {WEIGHTS_NAME}.pt "
            "(TorchScript archive) or a torch.save'd CLIP state dict"
        )
    return dict(state)


def load_vision_transformer(path, *, config: CLIPVisionConfig | None = VIT_L14_336):
    """OpenAI's CLIP image tower from its checkpoint, in ``float32`` and eval mode.

    Parameters
    ----------
    path : path-like
        ``ViT-L-14-336px.pt`` or another file in OpenAI's format.
    config : CLIPVisionConfig or None
        The architecture the file must hold (default ViT-L/14@336px); None
        accepts whichever ViT the file holds.

    Returns
    -------
    module : torch.nn.Module
        The vision transformer; ``module.config`` is its :class:`CLIPVisionConfig`.

    Raises
    ------
    ValueError
        A file of another architecture, or missing / unexpected / misshapen keys.
    """
    return vision_transformer_from_state(read_openai_checkpoint(path), config=config, name=os.fspath(path))


def vision_transformer_from_state(state: dict, *, config: CLIPVisionConfig | None = None, name: str = "weights",
                                  activation: str = "quickgelu", heads: int | None = None):
    """The image tower of a state dict with OpenAI's keys (see :func:`load_vision_transformer`).

    ``state`` may come from any publisher's format once renamed
    (:func:`genmetrics_nb.extractors.clip_formats.read_clip_checkpoint`);
    ``activation`` is its MLP activation and ``heads`` its number of
    attention heads (default ``width // 64``).
    """
    import torch

    path = name
    found = CLIPVisionConfig.from_state_dict(state, name=f"weights={os.fspath(path)!r}")
    if config is not None and found != config:
        raise ValueError(
            f"weights={os.fspath(path)!r} holds a CLIP ViT with {found.to_dict()}, but "
            f"{config.to_dict()} is required (ViT-L/14@336px: OpenAI's {WEIGHTS_NAME}.pt)"
        )
    visual = {k: v for k, v in state.items() if k.startswith("visual.")}
    expected = found.state_dict_shapes()
    missing = sorted(set(expected) - set(visual))
    unexpected = sorted(set(visual) - set(expected))
    wrong = sorted(k for k in set(expected) & set(visual) if tuple(visual[k].shape) != expected[k])
    if missing or unexpected or wrong:
        raise ValueError(
            f"weights={os.fspath(path)!r} is not in OpenAI's CLIP ViT format: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}, wrong shapes {wrong[:5]}"
        )
    if heads is not None and found.width % int(heads):
        raise ValueError(f"weights={os.fspath(path)!r}: width {found.width} is not a multiple of heads={heads}")
    model = build_vision_transformer(found, activation=activation, heads=heads)
    model.load_state_dict({k[len("visual."):]: v.to(torch.float32) for k, v in visual.items()}, strict=True)
    return model.eval().requires_grad_(False)


# ----------------------------------------------------------------------------
# Preprocessing (CMMD reference) and the extractor
# ----------------------------------------------------------------------------
def center_crop_square(x):
    """The centred ``l x l`` square, ``l = min(H, W)``, with floor offsets (CMMD's ``io_util``)."""
    h, w = int(x.shape[-2]), int(x.shape[-1])
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return x[..., top:top + side, left:left + side]


def clip_preprocess(x, *, size: int = 336, resize: str = "pil-bicubic"):
    """CMMD's preprocessing of ``float32`` 0..255 RGB ``N x 3 x H x W`` (integer values).

    Centre square crop, Pillow-exact 8-bit bicubic resize to ``size`` (see the
    module docstring), ``/ 255`` and CLIP's mean/std, all in ``float32``.

    Parameters
    ----------
    x : torch.Tensor
    size : int
        Network input side (336).
    resize : {"pil-bicubic"}
        Only Pillow's bicubic is the protocol; the argument exists so that
        the spec names it.
    """
    import torch

    from genmetrics_nb.extractors.pil_resize import pil_bicubic_resize

    if resize != "pil-bicubic":
        raise ValueError(f"resize must be 'pil-bicubic' (the CMMD protocol), got {resize!r}")
    x = center_crop_square(x)
    if x.shape[-1] != size:
        x = pil_bicubic_resize(x, (size, size))
    x = x.to(torch.float32) / 255.0
    mean = torch.tensor(CLIP_MEAN, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def _forward(model, x, names):
    cls = model(x)
    out = {"cls": cls}
    proj = cls @ model.proj.to(cls.dtype)
    out["projection"] = proj
    out["embedding"] = proj / proj.norm(dim=-1, keepdim=True)  # scenic encode_image(normalize=True): no epsilon
    return out


def build_extractor(*, device, weights=None, config: CLIPVisionConfig | None = VIT_L14_336,
                    name: str = "clip-vit-l14-336"):
    """Factory registered as ``"clip-vit-l14-336"``.

    Parameters
    ----------
    device : str or torch.device
    weights : path-like, optional
        A checkpoint in OpenAI's format; default: the weight manager's
        ``ViT-L-14-336px`` (sha256-verified).
    config : CLIPVisionConfig or None
        Required architecture (ViT-L/14@336px); None accepts the file's own
        (any OpenAI CLIP ViT, preprocessed to its own input size). The
        architecture is recorded in the spec either way.
    name : str
        Extractor name.

    Returns
    -------
    Extractor
        Outputs ``embedding`` (L2-normalised), ``projection`` and ``cls``.
    """
    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.base import Extractor
    from genmetrics_nb.weights import manager

    path = manager.path(WEIGHTS_NAME) if weights is None else weights
    model = load_vision_transformer(path, config=config)
    cfg = model.config
    dev = resolve(device)
    model = model.to(dev)
    spec = {
        "architecture": f"OpenAI CLIP VisionTransformer {cfg.to_dict()}, heads {cfg.heads}, QuickGELU, "
                        "float16 weights cast to float32",
        "input_size": [cfg.image_size, cfg.image_size],
        "crop": "centre square of side min(H, W), floor offsets, before resizing (CMMD io_util)",
        "resize": "Pillow BICUBIC on uint8 (Keys a=-0.5, antialiased, 22-bit fixed point, uint8 rounding "
                  "after each pass; Pillow on CPU, its byte-exact torch port on GPU); skipped at the input size",
        "normalize": f"float32 x / 255, then (x - {list(CLIP_MEAN)}) / {list(CLIP_STD)}",
        "embedding": "encode_image (ln_post(class token) @ proj), then divided by its L2 norm",
        "channels": "RGB; grayscale repeated",
        "weights": WEIGHTS_NAME if weights is None else "user file",
        "version": 1,
    }

    def preprocess(x):
        return clip_preprocess(x, size=cfg.image_size)

    return Extractor(name, model, preprocess=preprocess, forward=_forward,
                     outputs={"embedding": cfg.embed_dim, "projection": cfg.embed_dim, "cls": cfg.width},
                     spec=spec, weights_digest=manager.sha256_file(path), device=dev)
