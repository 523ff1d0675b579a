"""CLIP's text tower (OpenAI's ``encode_text``), read from OpenAI, open_clip or transformers files.

Network
-------
OpenAI's ``clip.model.CLIP`` text side, with its parameter names:
``token_embedding`` (``vocab_size x width``) plus the learned
``positional_embedding`` (``context_length x width``); pre-norm residual
blocks (``nn.MultiheadAttention`` with 64-dimensional heads and a **causal
mask**: ``-inf`` above the diagonal, added to the attention logits; MLP
``4 x width`` with QuickGELU ``x * sigmoid(1.702 x)``, or GELU for open_clip's
non-OpenAI models; LayerNorm eps ``1e-5``); ``ln_final``; the token at the
**end-token position** -- OpenAI pools at ``text.argmax(dim=-1)``, the first
position holding the largest id, which is the end token 49407 whenever the
prompt keeps it -- times ``text_projection`` (no bias). The output is
``encode_text``: not normalised (:func:`encode_text` with ``normalize=True``
divides by the L2 norm, as open_clip's ``encode_text(normalize=True)``).

transformers' ``CLIPTextModel`` pools at ``argmax(input_ids)`` too when its
config has ``eos_token_id == 2`` (every ``openai/clip-vit-*`` hub config),
and at the first ``eos_token_id`` otherwise: the same position whenever the
end token is present.

Weights are cast to ``float32`` and the network runs in ``float32`` (OpenAI's
files store ``float16``; ``clip.load(jit=False)`` on the CPU does the same).

References
----------
.. [1] A. Radford et al., "Learning Transferable Visual Models From Natural
   Language Supervision", ICML 2021. https://github.com/openai/CLIP
   (``clip/model.py``: ``CLIP.encode_text``, ``build_attention_mask``,
   ``build_model``).
.. [2] open_clip ``src/open_clip/model.py`` (``CLIP.encode_text``,
   ``text_global_pool``), ``src/open_clip/transformer.py``.
"""
from __future__ import annotations

import dataclasses

__all__ = [
    "CLIPTextConfig",
    "build_text_transformer",
    "encode_text",
    "load_text_transformer",
    "text_transformer_from_state",
]

_HEAD_WIDTH = 64  # OpenAI's build_model: transformer_heads = transformer_width // 64


@dataclasses.dataclass(frozen=True)
class CLIPTextConfig:
    """Shape of a CLIP text transformer (OpenAI ViT-B: width 512, 12 layers; ViT-L: 768, 12).

    ``heads`` defaults to OpenAI's ``width // 64``.
    """

    width: int
    layers: int
    context_length: int
    vocab_size: int
    embed_dim: int
    heads: int = 0

    def __post_init__(self):
        if not self.heads:
            object.__setattr__(self, "heads", self.width // _HEAD_WIDTH)
        if self.width % self.heads:
            raise ValueError(f"text width {self.width} is not a multiple of heads={self.heads}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def state_dict_shapes(self) -> dict:
        """OpenAI's text keys and their shapes."""
        w = self.width
        shapes = {
            "token_embedding.weight": (self.vocab_size, w),
            "positional_embedding": (self.context_length, w),
            "ln_final.weight": (w,),
            "ln_final.bias": (w,),
            "text_projection": (w, self.embed_dim),
        }
        for i in range(self.layers):
            b = f"transformer.resblocks.{i}."
            shapes.update({
                b + "attn.in_proj_weight": (3 * w, w), b + "attn.in_proj_bias": (3 * w,),
                b + "attn.out_proj.weight": (w, w), b + "attn.out_proj.bias": (w,),
                b + "ln_1.weight": (w,), b + "ln_1.bias": (w,),
                b + "mlp.c_fc.weight": (4 * w, w), b + "mlp.c_fc.bias": (4 * w,),
                b + "mlp.c_proj.weight": (w, 4 * w), b + "mlp.c_proj.bias": (w,),
                b + "ln_2.weight": (w,), b + "ln_2.bias": (w,),
            })
        return shapes

    @classmethod
    def from_state_dict(cls, state, *, name: str = "weights", heads: int | None = None) -> "CLIPTextConfig":
        """The configuration, as ``clip.model.build_model`` reads it from the keys (heads: ``width // 64``
        unless given)."""
        needed = ("token_embedding.weight", "positional_embedding", "text_projection", "ln_final.weight")
        missing = [k for k in needed if k not in state]
        if missing:
            raise ValueError(
                f"{name} holds no CLIP text tower: keys {missing} are missing. Pass a whole CLIP checkpoint "
                "(OpenAI's .pt, an open_clip state dict or a transformers CLIPModel), not an image tower alone"
            )
        layers = len({k.split(".")[2] for k in state
                      if k.startswith("transformer.resblocks.") and k.endswith(".attn.in_proj_weight")})
        vocab, width = (int(s) for s in state["token_embedding.weight"].shape)
        return cls(width=width, layers=layers, context_length=int(state["positional_embedding"].shape[0]),
                   vocab_size=vocab, embed_dim=int(state["text_projection"].shape[1]), heads=heads or 0)


def build_text_transformer(config: CLIPTextConfig, *, activation: str = "quickgelu", eos_id: int | None = None):
    """An untrained CLIP text tower; its ``state_dict()`` keys are OpenAI's text keys.

    ``module(ids)`` returns ``encode_text(ids)``: ``N x embed_dim``, not normalised.
    It pools at ``ids.argmax(-1)`` (OpenAI, open_clip, transformers configs with
    ``eos_token_id == 2``), or, with ``eos_id``, at the first position holding
    ``eos_id`` (position 0 when none does), as transformers' ``CLIPTextTransformer``
    does for other ``eos_token_id`` values. The two agree whenever the end token is there.
    """
    from collections import OrderedDict

    import torch
    from torch import nn

    if activation not in ("quickgelu", "gelu"):
        raise ValueError(f"activation must be 'quickgelu' or 'gelu', got {activation!r}")

    class QuickGELU(nn.Module):
        def forward(self, x):
            return x * torch.sigmoid(1.702 * x)

    class Block(nn.Module):
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

        def forward(self, x, mask):
            h = self.ln_1(x)
            x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
            return x + self.mlp(self.ln_2(x))

    class Transformer(nn.Module):
        def __init__(self, width, layers, heads):
            super().__init__()
            self.resblocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])

    class TextTransformer(nn.Module):
        def __init__(self, cfg: CLIPTextConfig):
            super().__init__()
            self.config = cfg
            self.activation = activation
            self.eos_id = eos_id
            self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.width)
            self.positional_embedding = nn.Parameter(torch.empty(cfg.context_length, cfg.width))
            self.transformer = Transformer(cfg.width, cfg.layers, cfg.heads)
            self.ln_final = nn.LayerNorm(cfg.width, eps=1e-5)
            self.text_projection = nn.Parameter(torch.empty(cfg.width, cfg.embed_dim))
            # OpenAI's build_attention_mask: -inf strictly above the diagonal (a token sees itself
            # and the tokens before it), added to the attention logits
            mask = torch.full((cfg.context_length, cfg.context_length), float("-inf")).triu_(1)
            self.register_buffer("attn_mask", mask, persistent=False)

        def forward(self, ids):
            n = ids.shape[1]
            if n > self.config.context_length:
                raise ValueError(f"token ids have {n} positions, more than the context {self.config.context_length}")
            x = self.token_embedding(ids) + self.positional_embedding[:n]
            mask = self.attn_mask[:n, :n].to(x.dtype)
            for block in self.transformer.resblocks:
                x = block(x, mask)
            x = self.ln_final(x)
            if self.eos_id is None:
                where = ids.argmax(dim=-1)  # the end token is the largest id
            else:
                where = (ids == self.eos_id).int().argmax(dim=-1)
            pooled = x[torch.arange(x.shape[0], device=x.device), where]
            return pooled @ self.text_projection

    return TextTransformer(config)


def text_transformer_from_state(state: dict, *, activation: str = "quickgelu", name: str = "weights",
                                heads: int | None = None, eos_id: int | None = None):
    """The text tower of a state dict with OpenAI's keys, in ``float32`` and eval mode.

    ``heads``: attention heads (default ``width // 64``, OpenAI's rule);
    ``eos_id``: pool at the first ``eos_id`` instead of the largest id
    (:func:`build_text_transformer`).

    Raises
    ------
    ValueError
        No text tower, or missing / misshapen keys.
    """
    import torch

    cfg = CLIPTextConfig.from_state_dict(state, name=name, heads=heads)
    expected = cfg.state_dict_shapes()
    missing = sorted(set(expected) - set(state))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(state[k].shape) != expected[k])
    if missing or wrong:
        raise ValueError(f"{name} is not a CLIP text tower in OpenAI's layout: missing {missing[:5]}, "
                         f"wrong shapes {wrong[:5]}")
    model = build_text_transformer(cfg, activation=activation, eos_id=eos_id)
    model.load_state_dict({k: state[k].to(torch.float32) for k in expected}, strict=True)
    return model.eval().requires_grad_(False)


def load_text_transformer(path, *, activation: str | None = None):
    """CLIP's text tower from a checkpoint of OpenAI, open_clip or transformers.

    Parameters
    ----------
    path : path-like
        File or folder (see
        :func:`genmetrics_nb.extractors.clip_formats.read_clip_checkpoint`).
    activation : {"quickgelu", "gelu"}, optional
        Default: the format's.

    Returns
    -------
    module : torch.nn.Module
        ``module(ids)`` is ``encode_text(ids)``; ``module.config`` its
        :class:`CLIPTextConfig`, ``module.activation`` its activation.
    """
    from genmetrics_nb.extractors.clip_formats import read_clip_checkpoint

    ckpt = read_clip_checkpoint(path, activation=activation)
    return text_transformer_from_state(ckpt.state, activation=ckpt.activation, name=f"weights={ckpt.path!r}",
                                       heads=ckpt.text_heads, eos_id=ckpt.text_eos_id)


def encode_text(model, ids, *, normalize: bool = False, batch_size: int = 256):
    """``model(ids)`` in blocks of ``batch_size`` prompts, optionally L2-normalised (no epsilon)."""
    import torch

    outs = []
    with torch.no_grad():
        dev = next(model.parameters()).device
        for s in range(0, ids.shape[0], batch_size):
            outs.append(model(ids[s:s + batch_size].to(dev)))
    x = torch.cat(outs) if outs else torch.zeros(0, model.config.embed_dim)
    return x / x.norm(dim=-1, keepdim=True) if normalize else x
