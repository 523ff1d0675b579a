"""BLIP's image encoder and its image-grounded BERT text encoder, read from an ImageReward checkpoint.

Written here in plain torch from BLIP's architecture (Li et al. 2022;
salesforce/BLIP ``models/vit.py``, ``models/med.py``, as vendored by
THUDM/ImageReward ``ImageReward/models/BLIP``), so no transformers version is
involved:

- **image**: a ViT with BLIP's key names (``patch_embed.proj``, ``cls_token``,
  ``pos_embed``, ``blocks.i.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}``,
  ``norm``): pre-norm blocks, LayerNorm eps 1e-6, exact GELU, 64-wide heads
  (ViT-B 12, ViT-L 16); the output is every token after the final norm.
- **text**: BERT embeddings (word + absolute position, LayerNorm; no token
  types), then per layer self-attention, cross-attention to the image tokens
  and the feed-forward block, each post-norm with ``layer_norm_eps`` (BLIP's
  "multimodal" mode). Padding is masked with ``-10000`` added to the scores,
  as ``med.py``'s ``get_extended_attention_mask``.
"""
from __future__ import annotations

import math

__all__ = ["BlipTextEncoder", "BlipVisionEncoder", "blip_from_state"]


def _modules():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Attention(nn.Module):
        def __init__(self, dim, heads, kv_dim=None, fused=False):
            super().__init__()
            self.heads, self.fused = heads, fused
            if fused:
                self.qkv = nn.Linear(dim, 3 * dim)
                self.proj = nn.Linear(dim, dim)
            else:
                kv_dim = kv_dim or dim
                self.query = nn.Linear(dim, dim)
                self.key = nn.Linear(kv_dim, dim)
                self.value = nn.Linear(kv_dim, dim)

        def forward(self, x, context=None, mask=None):
            b, n, d = x.shape
            h = self.heads
            if self.fused:
                q, k, v = self.qkv(x).reshape(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
            else:
                c = x if context is None else context
                q = self.query(x).reshape(b, n, h, d // h).transpose(1, 2)
                k = self.key(c).reshape(b, c.shape[1], h, d // h).transpose(1, 2)
                v = self.value(c).reshape(b, c.shape[1], h, d // h).transpose(1, 2)
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(d // h)
            if mask is not None:
                scores = scores + mask
            out = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, d)
            return self.proj(out) if self.fused else out

    class ViTBlock(nn.Module):
        def __init__(self, dim, heads, hidden):
            super().__init__()
            self.norm1 = nn.LayerNorm(dim, eps=1e-6)
            self.attn = Attention(dim, heads, fused=True)
            self.norm2 = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = nn.Module()
            self.mlp.fc1 = nn.Linear(dim, hidden)
            self.mlp.fc2 = nn.Linear(hidden, dim)

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))

    class VisionEncoder(nn.Module):
        def __init__(self, dim, depth, patch, tokens, hidden):
            super().__init__()
            self.patch_embed = nn.Module()
            self.patch_embed.proj = nn.Conv2d(3, dim, patch, stride=patch)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
            self.blocks = nn.ModuleList([ViTBlock(dim, dim // 64, hidden) for _ in range(depth)])
            self.norm = nn.LayerNorm(dim, eps=1e-6)

        def forward(self, x):
            x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
            x = x + self.pos_embed[:, :x.shape[1]]
            for blk in self.blocks:
                x = blk(x)
            return self.norm(x)

    class PostNormAttention(nn.Module):
        def __init__(self, dim, heads, eps, kv_dim=None):
            super().__init__()
            self.self = Attention(dim, heads, kv_dim=kv_dim)
            self.output = nn.Module()
            self.output.dense = nn.Linear(dim, dim)
            self.output.LayerNorm = nn.LayerNorm(dim, eps=eps)

        def forward(self, x, context=None, mask=None):
            return self.output.LayerNorm(self.output.dense(self.self(x, context, mask)) + x)

    class TextLayer(nn.Module):
        def __init__(self, dim, heads, hidden, eps, image_dim, act):
            super().__init__()
            self.act = act
            self.attention = PostNormAttention(dim, heads, eps)
            self.crossattention = PostNormAttention(dim, heads, eps, kv_dim=image_dim)
            self.intermediate = nn.Module()
            self.intermediate.dense = nn.Linear(dim, hidden)
            self.output = nn.Module()
            self.output.dense = nn.Linear(hidden, dim)
            self.output.LayerNorm = nn.LayerNorm(dim, eps=eps)

        def forward(self, x, image, mask):
            x = self.attention(x, mask=mask)
            x = self.crossattention(x, context=image)  # every image token attended (mask of ones)
            return self.output.LayerNorm(self.output.dense(self.act(self.intermediate.dense(x))) + x)

    class TextEncoder(nn.Module):
        def __init__(self, vocab, dim, depth, heads, hidden, positions, eps, image_dim, act):
            super().__init__()
            self.embeddings = nn.Module()
            self.embeddings.word_embeddings = nn.Embedding(vocab, dim)
            self.embeddings.position_embeddings = nn.Embedding(positions, dim)
            self.embeddings.LayerNorm = nn.LayerNorm(dim, eps=eps)
            self.encoder = nn.Module()
            self.encoder.layer = nn.ModuleList([TextLayer(dim, heads, hidden, eps, image_dim, act)
                                                for _ in range(depth)])

        def forward(self, ids, attention_mask, image):
            e = self.embeddings
            pos = torch.arange(ids.shape[1], device=ids.device)
            x = e.LayerNorm(e.word_embeddings(ids) + e.position_embeddings(pos)[None])
            mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
            for layer in self.encoder.layer:
                x = layer(x, image, mask)
            return x

    return VisionEncoder, TextEncoder


def BlipVisionEncoder(*args, **kw):  # noqa: N802 (a class factory: torch is imported on first use)
    """BLIP's ViT image encoder (see the module docstring)."""
    return _modules()[0](*args, **kw)


def BlipTextEncoder(*args, **kw):  # noqa: N802
    """BLIP's image-grounded BERT text encoder (see the module docstring)."""
    return _modules()[1](*args, **kw)


_ACTS = {"gelu": "erf", "gelu_new": "tanh", "gelu_pytorch_tanh": "tanh"}


def blip_from_state(state: dict, med_config: dict, *, prefix: str = "blip."):
    """The image and text encoders of a BLIP state dict (ImageReward's keys under ``blip.``).

    Parameters
    ----------
    state : dict
        Tensors; ``{prefix}visual_encoder.*`` and ``{prefix}text_encoder.*`` are read.
    med_config : dict
        BLIP's ``med_config.json`` (``num_attention_heads``, ``layer_norm_eps``,
        ``hidden_act``; sizes are read from the tensors).

    Raises
    ------
    ValueError
        A missing or unexpected tensor, an unsupported activation.
    """
    import torch.nn.functional as F

    act = med_config.get("hidden_act", "gelu")
    if act not in _ACTS:
        raise ValueError(f"med_config hidden_act={act!r} is not supported (expected one of {sorted(_ACTS)})")
    approx = "none" if _ACTS[act] == "erf" else "tanh"

    def gelu(x):
        return F.gelu(x, approximate=approx)

    vis = {k[len(prefix) + 15:]: v for k, v in state.items() if k.startswith(prefix + "visual_encoder.")}
    txt = {k[len(prefix) + 13:]: v for k, v in state.items() if k.startswith(prefix + "text_encoder.")}
    if not vis or not txt:
        raise ValueError(f"the checkpoint has no {prefix}visual_encoder.* / {prefix}text_encoder.* tensors; is it "
                         "ImageReward.pt?")
    try:
        dim = vis["cls_token"].shape[-1]
        depth = len({k.split(".")[1] for k in vis if k.startswith("blocks.")})
        vision = BlipVisionEncoder(dim, depth, vis["patch_embed.proj.weight"].shape[-1], vis["pos_embed"].shape[1],
                                   vis["blocks.0.mlp.fc1.weight"].shape[0])
        tdim = txt["embeddings.word_embeddings.weight"].shape[1]
        text = BlipTextEncoder(
            txt["embeddings.word_embeddings.weight"].shape[0], tdim,
            len({k.split(".")[2] for k in txt if k.startswith("encoder.layer.")}),
            int(med_config["num_attention_heads"]), txt["encoder.layer.0.intermediate.dense.weight"].shape[0],
            txt["embeddings.position_embeddings.weight"].shape[0], float(med_config.get("layer_norm_eps", 1e-12)),
            txt["encoder.layer.0.crossattention.self.key.weight"].shape[1], gelu)
    except KeyError as exc:
        raise ValueError(f"the checkpoint lacks BLIP tensor {exc}; is it ImageReward.pt?") from None
    txt.pop("embeddings.position_ids", None)  # a buffer of med.py's BertEmbeddings
    for module, sd, name in ((vision, vis, "visual_encoder"), (text, txt, "text_encoder")):
        missing, unexpected = module.load_state_dict(sd, strict=False)
        if missing or unexpected:
            raise ValueError(f"{prefix}{name}: missing tensors {missing[:3]}, unexpected {unexpected[:3]}; the file "
                             "is not in ImageReward's BLIP layout")
    return vision.eval(), text.eval()
