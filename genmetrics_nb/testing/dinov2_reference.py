"""An independent DINOv2 reference: the official checkpoint layout, dgm-eval's transform, a NumPy forward.

Outside references for the DINOv2 extractors (:mod:`genmetrics_nb.extractors.dinov2`),
written from the publisher's description and not from the package:

* :func:`official_shapes` / :func:`random_official_state`: key names and
  shapes of ``dinov2_vit{s,b,l,g}14_pretrain.pth`` as ``dinov2/hub/backbones.py``
  builds them (``DinoVisionTransformer``, patch 14, img_size 518,
  LayerScale ``init_values=1.0``; SwiGLU FFN for g/14), with seeded random
  float32 weights of sane activation scale;
* :func:`dgm_eval_transform`: dgm-eval's ``DINOv2Encoder.transform``
  (``Resize((224, 224), BICUBIC)`` on a PIL image, ``ToTensor``,
  ImageNet ``Normalize``), literally;
* :func:`reference_forward`: the official forward (``x_norm_clstoken``) in
  float64 NumPy: patch unfolding, PyTorch's bicubic kernel with
  ``scale_factor = (grid + 0.1) / 37`` written out by hand
  (:func:`torch_bicubic_matrix`), LayerNorm, softmax attention, erf-GELU,
  SwiGLU and LayerScale;
* :func:`install_fake_dinov2`: a random checkpoint installed as the
  manifest's ``dinov2_vit{size}14_pretrain``, as
  :func:`genmetrics_nb.testing.weights.install_fake_weights` does.

References
----------
.. [1] M. Oquab et al., "DINOv2: Learning Robust Visual Features without
   Supervision", TMLR 2024. https://github.com/facebookresearch/dinov2
.. [2] G. Stein et al., "Exposing flaws of generative model evaluation
   metrics and their unfair treatment of diffusion models", NeurIPS 2023
   (FD_DINOv2). https://github.com/layer6ai-labs/dgm-eval
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from genmetrics_nb.util.io import atomic_write

__all__ = [
    "MEAN",
    "OFFICIAL",
    "STD",
    "dgm_eval_transform",
    "install_fake_dinov2",
    "official_shapes",
    "random_official_state",
    "reference_forward",
    "reference_pos_embed",
    "torch_bicubic_matrix",
]

#: ImageNet normalisation of dgm-eval's transform.
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])

#: The official hub constructors (dinov2/hub/backbones.py, models/vision_transformer.py):
#: embed dim, depth, heads, FFN kind; patch 14, img_size 518, init_values=1.0 (LayerScale).
OFFICIAL = {
    "s": (384, 12, 6, "mlp"),
    "b": (768, 12, 12, "mlp"),
    "l": (1024, 24, 16, "mlp"),
    "g": (1536, 40, 24, "swiglufused"),
}


def official_shapes(size: str, depth: int | None = None) -> dict:
    """Key -> shape of ``DinoVisionTransformer(...).state_dict()`` for ``dinov2_vit{size}14``."""
    d, full_depth, _, ffn = OFFICIAL[size]
    depth = full_depth if depth is None else depth
    shapes = {
        "cls_token": (1, 1, d),
        "pos_embed": (1, 1 + 37 * 37, d),  # img_size 518 / patch 14
        "mask_token": (1, d),
        "patch_embed.proj.weight": (d, 3, 14, 14),
        "patch_embed.proj.bias": (d,),
    }
    for i in range(depth):
        p = f"blocks.{i}."
        shapes.update({
            p + "norm1.weight": (d,), p + "norm1.bias": (d,),
            p + "attn.qkv.weight": (3 * d, d), p + "attn.qkv.bias": (3 * d,),
            p + "attn.proj.weight": (d, d), p + "attn.proj.bias": (d,),
            p + "ls1.gamma": (d,),
            p + "norm2.weight": (d,), p + "norm2.bias": (d,),
            p + "ls2.gamma": (d,),
        })
        if ffn == "mlp":
            shapes.update({p + "mlp.fc1.weight": (4 * d, d), p + "mlp.fc1.bias": (4 * d,),
                           p + "mlp.fc2.weight": (d, 4 * d), p + "mlp.fc2.bias": (d,)})
        else:  # SwiGLUFFNFused: hidden = (int(4d * 2/3) + 7) // 8 * 8, packed w12
            h = (int(4 * d * 2 / 3) + 7) // 8 * 8
            shapes.update({p + "mlp.w12.weight": (2 * h, d), p + "mlp.w12.bias": (2 * h,),
                           p + "mlp.w3.weight": (d, h), p + "mlp.w3.bias": (d,)})
    shapes.update({"norm.weight": (d,), "norm.bias": (d,)})
    return shapes


def random_official_state(size: str, *, depth: int | None = None, seed: int = 0) -> dict:
    """Seeded random float32 weights with sane activation scales, in the official format."""
    import torch

    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, shape in official_shapes(size, depth).items():
        if k.endswith(("norm1.weight", "norm2.weight", "norm.weight")):
            v = 1 + 0.2 * torch.randn(shape, generator=g)
        elif k.endswith("gamma"):
            v = 0.1 + 0.9 * torch.rand(shape, generator=g)
        elif k.endswith("bias"):
            v = 0.05 * torch.randn(shape, generator=g)
        elif k in ("cls_token", "pos_embed", "mask_token"):
            v = torch.randn(shape, generator=g)
        else:  # weights: fan-in scaling
            fan_in = math.prod(shape[1:])
            v = torch.randn(shape, generator=g) / math.sqrt(fan_in)
        state[k] = v.float().contiguous()
    return state


def dgm_eval_transform(img_hwc: np.ndarray) -> np.ndarray:
    """dgm-eval ``DINOv2Encoder.transform`` (clean_resize=False), literally: H x W x 3 uint8 -> 3 x 224 x 224."""
    import torchvision.transforms as TF
    from PIL import Image

    pil = Image.fromarray(img_hwc).convert("RGB")
    x = TF.Compose([TF.Resize((224, 224), TF.InterpolationMode.BICUBIC), TF.ToTensor()])(pil)
    return TF.Normalize(MEAN, STD)(x).numpy()


def torch_bicubic_matrix(n_in: int, n_out: int, scale: float) -> np.ndarray:
    """PyTorch's ``upsample_bicubic2d`` (align_corners=False, no antialias) along one axis.

    Source coordinate ``scale * (i + 0.5) - 0.5``, Keys cubic with A = -0.75,
    taps clamped to the border. ``scale`` is ``1 / scale_factor`` when a scale
    factor is given, else ``n_in / n_out``.
    """
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    w = np.zeros((n_out, n_in))
    for i in range(n_out):
        real = scale * (i + 0.5) - 0.5
        j = math.floor(real)
        t = real - j
        for tap, coef in zip((j - 1, j, j + 1, j + 2), (far(t + 1), near(t), near(1 - t), far(2 - t))):
            w[i, min(max(tap, 0), n_in - 1)] += coef
    return w


def reference_pos_embed(pos_embed: np.ndarray, grid: int, mode: str = "official") -> np.ndarray:
    """1 x (1 + 37^2) x D -> 1 x (1 + grid^2) x D.

    ``mode="official"``: ``scale_factor = (grid + 0.1) / 37`` as the official
    ``interpolate_pos_encoding``; ``"size"``: a plain resize to ``grid`` (a wrong variant).
    """
    d = pos_embed.shape[-1]
    m = 37
    patch = pos_embed[0, 1:].reshape(m, m, d)
    if mode == "official":  # scale_factor = (grid + 0.1) / 37, used as given by the kernel
        w = torch_bicubic_matrix(m, grid, 1.0 / ((grid + 0.1) / m))
    elif mode == "size":  # size=(grid, grid): what a plain resize (no offset) does
        w = torch_bicubic_matrix(m, grid, m / grid)
    else:
        raise ValueError(f"mode must be 'official' or 'size', got {mode!r}")
    out = np.einsum("ia,jb,abd->ijd", w, w, patch).reshape(grid * grid, d)
    return np.concatenate([pos_embed[0, :1], out])[None]


def reference_forward(state: dict, x_chw: np.ndarray, *, heads: int, pos: str = "official") -> np.ndarray:
    """Official ``DinoVisionTransformer.forward`` (``x_norm_clstoken``) of one image, float64 NumPy.

    Parameters
    ----------
    state : dict of str to torch.Tensor
        A checkpoint in the official layout.
    x_chw : numpy.ndarray
        3 x H x W preprocessed image (H, W multiples of 14).
    heads : int
        Attention heads (:data:`OFFICIAL`).
    pos : {"official", "size"}
        Position-embedding resampling (:func:`reference_pos_embed`).
    """
    from scipy.special import erf

    s = {k: v.double().numpy() for k, v in state.items()}
    d = s["cls_token"].shape[-1]
    g = x_chw.shape[-1] // 14

    def ln(t, p):
        mu = t.mean(-1, keepdims=True)
        var = ((t - mu) ** 2).mean(-1, keepdims=True)
        return (t - mu) / np.sqrt(var + 1e-6) * s[p + ".weight"] + s[p + ".bias"]

    def lin(t, p):
        return t @ s[p + ".weight"].T + s[p + ".bias"]

    patches = x_chw.reshape(3, g, 14, g, 14).transpose(1, 3, 0, 2, 4).reshape(g * g, 3 * 14 * 14)
    t = patches @ s["patch_embed.proj.weight"].reshape(d, -1).T + s["patch_embed.proj.bias"]
    t = np.concatenate([s["cls_token"][0], t]) + reference_pos_embed(s["pos_embed"], g, pos)[0]
    n, hd = t.shape[0], d // heads
    i = 0
    while f"blocks.{i}.norm1.weight" in s:
        p = f"blocks.{i}."
        qkv = lin(ln(t, p + "norm1"), p + "attn.qkv").reshape(n, 3, heads, hd).transpose(1, 2, 0, 3)
        q, k, v = qkv
        logits = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        att = np.exp(logits - logits.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        a = (att @ v).transpose(1, 0, 2).reshape(n, d)
        t = t + lin(a, p + "attn.proj") * s[p + "ls1.gamma"]
        h = ln(t, p + "norm2")
        if p + "mlp.fc1.weight" in s:
            h = lin(h, p + "mlp.fc1")
            h = lin(0.5 * h * (1 + erf(h / math.sqrt(2))), p + "mlp.fc2")
        else:
            x12 = lin(h, p + "mlp.w12")
            x1, x2 = np.split(x12, 2, axis=-1)
            h = lin(x1 / (1 + np.exp(-x1)) * x2, p + "mlp.w3")
        t = t + h * s[p + "ls2.gamma"]
        i += 1
    return ln(t, "norm")[0]


def install_fake_dinov2(home, size: str = "s", *, seed: int = 0) -> dict:
    """Install :func:`random_official_state` as the manifest's ``dinov2_vit{size}14_pretrain`` in ``home``.

    Returns the environment (``GENMETRICS_HOME``, ``GENMETRICS_MANIFEST``,
    ``GENMETRICS_OFFLINE``) that points the weight manager at it, as
    :func:`genmetrics_nb.testing.weights.install_fake_weights` does; an
    existing manifest file in ``home`` keeps its other entries.
    """
    import torch

    from genmetrics_nb.testing.weights import register_fake_file
    from genmetrics_nb.weights.manifest import BUILTIN

    if size not in OFFICIAL:
        raise ValueError(f"size must be one of {', '.join(OFFICIAL)}, got {size!r}")
    name = f"dinov2_vit{size}14_pretrain"
    entry = BUILTIN[name]
    home = Path(home)
    dest = home / "weights" / entry.filename
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(dest, suffix=".part") as fh:
        torch.save(random_official_state(size, seed=seed), fh)
    return register_fake_file(home, name, dest, seed=seed,
                              source="genmetrics_nb.testing.dinov2_reference.install_fake_dinov2")
