"""A whole CLIP (both towers) from a named OpenAI model or a user file, with OpenAI's image preprocessing.

:func:`load_clip` reads OpenAI's four ViT checkpoints by manifest name
(``"ViT-B-32"``, ``"ViT-B-16"``, ``"ViT-L-14"``, ``"ViT-L-14-336px"``,
sha256-checked by the weight manager) or any file/folder in OpenAI's,
open_clip's or transformers' format
(:mod:`genmetrics_nb.extractors.clip_formats`), and returns

- ``image``: an :class:`~genmetrics_nb.extractors.base.Extractor` whose
  preprocessing is OpenAI's ``clip.load`` transform (below), with outputs
  ``embedding`` (``encode_image`` / its L2 norm) and ``projection``;
- ``text``: the text tower (:mod:`genmetrics_nb.extractors.clip_text`);
- the protocol: the weights' sha256, format, activation and architecture.

Image preprocessing (OpenAI ``clip/clip.py`` ``_transform``; Hessel et al.'s ``CLIPImageDataset``)
-------------------------------------------------------------------------------------------------
On ``uint8`` ``N x 3 x H x W`` (grayscale repeated to RGB):

1. **Resize the short side** to the input size ``S`` (224, or 336 for
   ViT-L/14@336px) with **Pillow's bicubic** on the 8-bit image, the long
   side to ``int(S * long / short)`` (torchvision ``Resize(S)`` on a PIL
   image; transformers' ``CLIPImageProcessor`` computes the same size).
   Skipped when the short side already is ``S``.
2. **Centre crop** ``S x S`` at ``top = round((h - S) / 2)``,
   ``left = round((w - S) / 2)`` with Python's ``round`` (ties to even:
   torchvision ``CenterCrop``), or with floor offsets ``(h - S) // 2``
   (``crop="floor"``: transformers' ``CLIPImageProcessor``, which torchmetrics
   uses). The two differ by one pixel when ``h - S`` or ``w - S`` is 3 modulo 4.
3. ``/ 255`` in ``float32``, then CLIP's mean/std.

Not torch's (or torchvision's tensor) bicubic: a tensor resize changes the
numbers (``tests/metrics/text/test_clip_score.py`` shows it).

References
----------
.. [1] openai/CLIP ``clip/clip.py`` (``_transform``, ``load``).
.. [2] J. Hessel et al., "CLIPScore: A Reference-free Evaluation Metric for
   Image Captioning", EMNLP 2021. https://github.com/jmhessel/clipscore
   (``clipscore.py``: ``CLIPImageDataset._transform_test``).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

__all__ = ["CLIP_MODELS", "CROPS", "RESIZES", "LoadedCLIP", "build_vit_b16", "build_vit_b32", "build_vit_l14",
           "load_clip", "openai_clip_preprocess"]

#: OpenAI's CLIP ViTs in the weights manifest (name -> OpenAI's ``clip.load`` name).
CLIP_MODELS = {"ViT-B-32": "ViT-B/32", "ViT-B-16": "ViT-B/16", "ViT-L-14": "ViT-L/14",
               "ViT-L-14-336px": "ViT-L/14@336px"}
#: ``resize=`` rules of :func:`openai_clip_preprocess`.
RESIZES = {
    "pil": "Pillow BICUBIC on uint8 (OpenAI clip.load, Hessel et al., transformers' PIL CLIPImageProcessor)",
    "tensor": "x / 255 first, then torchvision resize of the float tensor, BICUBIC, antialias=True "
              "(HPSv2's ToTensor-then-Resize, as torchvision >= 0.17 runs it); no uint8 rounding",
}
#: ``crop=`` rules of the centre crop.
CROPS = {"round": "torchvision CenterCrop: offsets round((h - S) / 2), ties to even (OpenAI, Hessel et al.)",
         "floor": "transformers CLIPImageProcessor: floor offsets (h - S) // 2 (torchmetrics, PickScore)"}


def _pillow_order() -> str:
    """The pass order of the installed Pillow (>= 13 may run the vertical pass first)."""
    import PIL

    return "pillow13" if int(PIL.__version__.split(".")[0]) >= 13 else "horizontal-first"


def openai_clip_preprocess(x, *, size: int, crop: str = "round", resize: str = "pil"):
    """OpenAI's CLIP preprocessing of ``float32`` 0..255 RGB ``N x 3 x H x W`` (integer values).

    See the module docstring. ``resize="tensor"`` is HPSv2's variant (:data:`RESIZES`).
    Returns the normalised ``N x 3 x size x size`` ``float32`` input.
    """
    import torch

    from genmetrics_nb.extractors.clip import CLIP_MEAN, CLIP_STD
    from genmetrics_nb.extractors.pil_resize import pil_bicubic_resize

    if crop not in CROPS:
        raise ValueError(f"crop must be one of {tuple(CROPS)}, got {crop!r}")
    if resize not in RESIZES:
        raise ValueError(f"resize must be one of {tuple(RESIZES)}, got {resize!r}")
    h, w = int(x.shape[-2]), int(x.shape[-1])
    scale = 255.0
    if resize == "tensor":
        x, scale = x.to(torch.float32) / 255.0, 1.0
    if min(h, w) != size:
        if h <= w:
            new = (size, int(size * w / h))
        else:
            new = (int(size * h / w), size)
        if resize == "pil":
            x = pil_bicubic_resize(x, new, order=_pillow_order())
        else:
            import torchvision.transforms.functional as TF

            x = TF.resize(x, list(new), interpolation=TF.InterpolationMode.BICUBIC, antialias=True)
        h, w = new
    if crop == "round":
        top, left = int(round((h - size) / 2.0)), int(round((w - size) / 2.0))
    else:
        top, left = (h - size) // 2, (w - size) // 2
    x = x[..., top:top + size, left:left + size].to(torch.float32) / scale
    mean = torch.tensor(CLIP_MEAN, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


@dataclasses.dataclass(frozen=True)
class LoadedCLIP:
    """Both towers of one CLIP checkpoint and where they came from.

    Attributes
    ----------
    image : Extractor
        Outputs ``embedding`` (L2-normalised ``encode_image``) and ``projection``.
    text : torch.nn.Module or None
        ``text(ids)`` is ``encode_text(ids)`` (None when not asked for).
    name : str
        The manifest name, or the path given.
    weights_sha256 : str
        sha256 of the weights file.
    format, activation : str
        See :func:`~genmetrics_nb.extractors.clip_formats.read_clip_checkpoint`.
    logit_scale : float
        ``exp(logit_scale)`` stored in the file (100 in OpenAI's files).
    architecture : dict
        Image and text configurations.
    """

    image: object
    text: object
    name: str
    weights_sha256: str
    format: str
    activation: str
    logit_scale: float
    architecture: dict

    def protocol(self) -> dict:
        """JSON-ready description of the model (what a result records)."""
        return {"model": self.name, "weights_sha256": self.weights_sha256, "format": self.format,
                "activation": self.activation, "architecture": self.architecture,
                "image_preprocessing": self.image.spec}


def load_clip(model="ViT-B-32", *, activation: str | None = None, crop: str = "round", device="auto",
              weights_sha256: str | None = None, text: bool = True,
              extractor_name: str | None = None, resize: str = "pil", vision_head_width: int | None = None,
              text_head_width: int | None = None) -> LoadedCLIP:
    """Both CLIP towers from a manifest name or a checkpoint in any publisher's format.

    Parameters
    ----------
    model : str or path-like
        ``"ViT-B-32"``, ``"ViT-B-16"``, ``"ViT-L-14"``, ``"ViT-L-14-336px"``
        (OpenAI's files through the weight manager: ``genmetrics-nb weights
        fetch/import``), or a file / folder of OpenAI, open_clip or
        transformers (see :func:`~genmetrics_nb.extractors.clip_formats.read_clip_checkpoint`).
    activation : {"quickgelu", "gelu"}, optional
        The MLP activation when the format does not say (open_clip state dicts).
    crop : {"round", "floor"}
        Centre-crop offsets (:data:`CROPS`).
    device : str or torch.device
    weights_sha256 : str, optional
        Refuse a file whose sha256 differs (manifest names are always checked).
    text : bool
        Build the text tower too (default).
    extractor_name : str, optional
        The image extractor's name (default ``"clip-image:<file name>"``).
    resize : {"pil", "tensor"}
        :data:`RESIZES`.
    vision_head_width, text_head_width : int, optional
        Attention-head widths of an architecture the caller knows (see
        :func:`~genmetrics_nb.extractors.clip_formats.read_clip_checkpoint`).

    Raises
    ------
    ValueError
        An unknown name that is no file either, a sha256 mismatch, a file without both towers.
    """
    import math

    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.base import Extractor
    from genmetrics_nb.extractors.clip import vision_transformer_from_state
    from genmetrics_nb.extractors.clip_formats import read_clip_checkpoint
    from genmetrics_nb.extractors.clip_text import text_transformer_from_state
    from genmetrics_nb.util.io import sha256_file

    if crop not in CROPS:
        raise ValueError(f"crop must be one of {tuple(CROPS)}, got {crop!r}")
    if isinstance(model, str) and model in CLIP_MODELS:
        from genmetrics_nb.weights import manager

        path, name = manager.path(model), model
    elif isinstance(model, (str, os.PathLike)) and os.path.exists(model):
        path, name = Path(os.fspath(model)), os.fspath(model)
    else:
        raise ValueError(
            f"model={model!r} is neither one of OpenAI's CLIPs {list(CLIP_MODELS)} nor an existing file or "
            "folder; pass a name or the path of a CLIP checkpoint (OpenAI .pt, open_clip .safetensors/.bin, "
            "or a transformers CLIPModel folder)"
        )
    if resize not in RESIZES:
        raise ValueError(f"resize must be one of {tuple(RESIZES)}, got {resize!r}")
    ckpt = read_clip_checkpoint(path, activation=activation, vision_head_width=vision_head_width,
                                text_head_width=text_head_width)
    digest = sha256_file(ckpt.path)
    if weights_sha256 is not None and digest != weights_sha256:
        raise ValueError(f"model={name!r} has sha256 {digest}, not weights_sha256={weights_sha256!r}; pass the "
                         "expected file or drop weights_sha256=")
    label = f"weights={ckpt.path!r}"
    vision = vision_transformer_from_state(ckpt.state, name=ckpt.path, activation=ckpt.activation,
                                           heads=ckpt.vision_heads)
    tower = None
    if text:
        tower = text_transformer_from_state(ckpt.state, activation=ckpt.activation, name=label,
                                            heads=ckpt.text_heads, eos_id=ckpt.text_eos_id)
        if vision.config.embed_dim != tower.config.embed_dim:
            raise ValueError(f"model={name!r}: the image embedding has {vision.config.embed_dim} dimensions and "
                             f"the text embedding {tower.config.embed_dim}; the file is not one CLIP")
    dev = resolve(device)
    vision = vision.to(dev)
    if tower is not None:
        tower = tower.to(dev)
    cfg = vision.config
    spec = {
        "architecture": f"CLIP VisionTransformer {cfg.to_dict()}, heads {vision.heads}, {ckpt.activation}, float32",
        "input_size": [cfg.image_size, cfg.image_size],
        "resize": f"short side to the input size (long side int(S * long / short)) with {RESIZES[resize]}; "
                  "skipped when the short side is the input size",
        "crop": f"centre {cfg.image_size} x {cfg.image_size} after resizing; {CROPS[crop]}",
        "normalize": "float32 x / 255, then CLIP mean/std",
        "embedding": "encode_image (ln_post(class token) @ proj), then divided by its L2 norm",
        "channels": "RGB; grayscale repeated",
        "weights": name,
        "version": 1,
    }

    def preprocess(x):
        return openai_clip_preprocess(x, size=cfg.image_size, crop=crop, resize=resize)

    def forward(module, x, names):
        proj = module(x) @ module.proj.to(x.dtype)
        return {"embedding": proj / proj.norm(dim=-1, keepdim=True), "projection": proj}

    image = Extractor(extractor_name or f"clip-image:{Path(name).name}", vision, preprocess=preprocess, forward=forward,
                      outputs={"embedding": cfg.embed_dim, "projection": cfg.embed_dim}, spec=spec,
                      weights_digest=digest, device=dev)
    scale = ckpt.state.get("logit_scale")
    return LoadedCLIP(
        image=image, text=tower, name=name, weights_sha256=digest, format=ckpt.format, activation=ckpt.activation,
        logit_scale=math.exp(float(scale)) if scale is not None else float("nan"),
        architecture={"image": dict(cfg.to_dict(), heads=vision.heads),
                      "text": None if tower is None else tower.config.to_dict()},
    )


def _registered(model: str, extractor: str, *, device, weights=None):
    clip = load_clip(model if weights is None else weights, device=device, text=False, extractor_name=extractor)
    return clip.image


def build_vit_b32(*, device, weights=None):
    """Factory registered as ``"clip-vit-b32"``: OpenAI's CLIP ViT-B/32 image tower, OpenAI's preprocessing."""
    return _registered("ViT-B-32", "clip-vit-b32", device=device, weights=weights)


def build_vit_b16(*, device, weights=None):
    """Factory registered as ``"clip-vit-b16"``: OpenAI's CLIP ViT-B/16 image tower, OpenAI's preprocessing."""
    return _registered("ViT-B-16", "clip-vit-b16", device=device, weights=weights)


def build_vit_l14(*, device, weights=None):
    """Factory registered as ``"clip-vit-l14"``: OpenAI's CLIP ViT-L/14 image tower, OpenAI's preprocessing."""
    return _registered("ViT-L-14", "clip-vit-l14", device=device, weights=weights)
