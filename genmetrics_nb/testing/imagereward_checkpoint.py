"""Random-weight ImageReward files in the publisher's layout, for tests without the real ones.

THUDM/ImageReward publishes ``ImageReward.pt`` (a ``torch.save``'d state dict of
``ImageReward``: ``blip.visual_encoder.*`` -- BLIP's ViT --, ``blip.text_encoder.*`` --
BLIP's BERT with cross-attention, including the ``embeddings.position_ids``
buffer --, ``blip.vision_proj``/``blip.text_proj`` and the ``mlp.layers.{0,2,4,6,7}``
head) and ``med_config.json`` (a BERT config with ``add_cross_attention`` and
``encoder_width``); the tokenizer is bert-base-uncased's ``vocab.txt``.
:func:`write_imagereward` writes all three, reduced in size.
"""
from __future__ import annotations

import json
from pathlib import Path

from genmetrics_nb.util.io import atomic_write

__all__ = ["write_imagereward"]

_WORDS = ("a photo of the an and in on with painting ocean clouds birds day time depth field effect red car cat "
          "dog blue sky tree house , . ! ' \" -").split()


def write_imagereward(folder, *, seed: int = 0, vision_width: int = 128, vision_layers: int = 2,
                      text_width: int = 64, text_layers: int = 2, text_heads: int = 2,
                      max_positions: int = 40) -> dict:
    """Write ``ImageReward.pt``, ``med_config.json`` and ``vocab.txt`` into ``folder``.

    The vocabulary has BERT's special tokens, a few words and every letter and
    digit with its ``##`` continuation (so any ASCII prompt tokenises without
    ``[UNK]``). Weights: each module's default initialisation, then every
    LayerNorm, bias and embedding perturbed (seeded), so each tensor changes
    the reward.

    Returns
    -------
    dict
        ``model``, ``med_config``, ``vocab`` paths.
    """
    import string

    import torch
    from torch import nn

    from genmetrics_nb.extractors.blip import BlipTextEncoder, BlipVisionEncoder

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(string.ascii_lowercase + string.digits)
    vocab = ["[PAD]", *[f"[unused{i}]" for i in range(3)], "[UNK]", "[CLS]", "[SEP]", "[MASK]", *_WORDS,
             *[c for c in chars if c not in _WORDS], *[f"##{c}" for c in chars]]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    n_vocab = len(vocab) + 2  # [DEC] and [ENC], which BLIP's init_tokenizer adds
    med = {"architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
           "hidden_dropout_prob": 0.1, "hidden_size": text_width, "initializer_range": 0.02,
           "intermediate_size": 4 * text_width, "layer_norm_eps": 1e-12, "max_position_embeddings": max_positions,
           "model_type": "bert", "num_attention_heads": text_heads, "num_hidden_layers": text_layers,
           "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": n_vocab, "encoder_width": vision_width,
           "add_cross_attention": True}
    (folder / "med_config.json").write_text(json.dumps(med, indent=2))

    torch.manual_seed(int(seed))
    vision = BlipVisionEncoder(vision_width, vision_layers, 16, 197, 4 * vision_width)
    text = BlipTextEncoder(n_vocab, text_width, text_layers, text_heads, 4 * text_width, max_positions, 1e-12,
                           vision_width, torch.nn.functional.gelu)
    mlp = nn.Sequential(nn.Linear(text_width, 1024), nn.Dropout(0.2), nn.Linear(1024, 128), nn.Dropout(0.2),
                        nn.Linear(128, 64), nn.Dropout(0.1), nn.Linear(64, 16), nn.Linear(16, 1))
    g = torch.Generator().manual_seed(int(seed) + 1)
    with torch.no_grad():
        for module in (vision, text, mlp):
            for name, p in module.named_parameters():
                if name.endswith("bias") or "norm" in name.lower():
                    p.add_(torch.randn(p.shape, generator=g) * 0.1)
                elif name in ("cls_token", "pos_embed") or "embeddings" in name:
                    p.add_(torch.randn(p.shape, generator=g) * 0.5)
    state = {f"blip.visual_encoder.{k}": v for k, v in vision.state_dict().items()}
    state.update({f"blip.text_encoder.{k}": v for k, v in text.state_dict().items()})
    state["blip.text_encoder.embeddings.position_ids"] = torch.arange(max_positions).expand((1, -1))
    state["blip.vision_proj.weight"] = torch.randn(256, vision_width, generator=g) * 0.02
    state["blip.vision_proj.bias"] = torch.zeros(256)
    state["blip.text_proj.weight"] = torch.randn(256, text_width, generator=g) * 0.02
    state["blip.text_proj.bias"] = torch.zeros(256)
    state.update({f"mlp.layers.{k}": v for k, v in mlp.state_dict().items()})
    with atomic_write(folder / "ImageReward.pt", suffix=".part") as fh:
        torch.save(state, fh)
    return {"model": folder / "ImageReward.pt", "med_config": folder / "med_config.json",
            "vocab": folder / "vocab.txt"}
