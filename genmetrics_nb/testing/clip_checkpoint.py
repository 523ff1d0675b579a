"""Random-weight CLIP checkpoints in OpenAI's file format, for tests without the real file.

OpenAI publishes CLIP as a TorchScript archive whose ``state_dict()`` holds
the ``visual.*`` image tower, the text tower (``token_embedding.weight``,
``positional_embedding``, ``transformer.resblocks.*``, ``ln_final.*``,
``text_projection``), ``logit_scale`` and three scalar tensors
``input_resolution``, ``context_length``, ``vocab_size``; convolution,
linear, attention and projection weights are ``float16``, the rest
``float32``. :func:`write_openai_clip` writes a file with that layout (as a
TorchScript archive or a plain state dict) from seeded random tensors, for
any :class:`~genmetrics_nb.extractors.clip.CLIPVisionConfig`: a reduced
one keeps tests fast and goes through the same loading code as the real
ViT-L/14@336px. Both ``clip.load(jit=False)`` / open_clip's
``load_openai_model`` and :mod:`genmetrics_nb.extractors.clip` read it.

Random weights are drawn with fan-in scaling and LayerNorm gains near 1,
so every tensor of the file changes the embeddings.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

from genmetrics_nb.util.io import atomic_write

__all__ = ["install_fake_clip", "openai_clip_state_dict", "small_config", "write_openai_clip"]


def small_config():
    """A reduced CLIP ViT for tests: ViT-L/14@336px's patch (14) and input size
    (336), width 128 (2 heads of 64), 2 blocks, 64-d embedding."""
    from genmetrics_nb.extractors.clip import CLIPVisionConfig

    return CLIPVisionConfig(width=128, layers=2, patch_size=14, image_size=336, embed_dim=64)


def openai_clip_state_dict(config=None, *, seed: int = 0, text_width: int = 64, text_layers: int = 1,
                           vocab_size: int = 512, context_length: int = 77) -> dict:
    """Seeded random tensors with the names, shapes and dtypes of OpenAI's CLIP files.

    Parameters
    ----------
    config : CLIPVisionConfig, optional
        Image tower (default: :func:`small_config`).
    seed : int
    text_width, text_layers, vocab_size, context_length : int
        Text tower (unused by the image extractor, but part of the format).
    """
    import torch

    config = config or small_config()
    g = torch.Generator().manual_seed(int(seed))
    half = torch.float16

    def rand(*shape, std, dtype=torch.float32):
        return (torch.randn(*shape, generator=g) * std).to(dtype)

    def gain(n):
        return 1.0 + rand(n, std=0.1)

    sd = {}

    def blocks(prefix, w, n):
        for i in range(n):
            b = f"{prefix}.resblocks.{i}."
            sd[b + "attn.in_proj_weight"] = rand(3 * w, w, std=w ** -0.5, dtype=half)
            sd[b + "attn.in_proj_bias"] = rand(3 * w, std=0.02, dtype=half)
            sd[b + "attn.out_proj.weight"] = rand(w, w, std=w ** -0.5, dtype=half)
            sd[b + "attn.out_proj.bias"] = rand(w, std=0.02, dtype=half)
            sd[b + "ln_1.weight"], sd[b + "ln_1.bias"] = gain(w), rand(w, std=0.1)
            sd[b + "mlp.c_fc.weight"] = rand(4 * w, w, std=w ** -0.5, dtype=half)
            sd[b + "mlp.c_fc.bias"] = rand(4 * w, std=0.02, dtype=half)
            sd[b + "mlp.c_proj.weight"] = rand(w, 4 * w, std=(4 * w) ** -0.5, dtype=half)
            sd[b + "mlp.c_proj.bias"] = rand(w, std=0.02, dtype=half)
            sd[b + "ln_2.weight"], sd[b + "ln_2.bias"] = gain(w), rand(w, std=0.1)

    w, p = config.width, config.patch_size
    sd["visual.class_embedding"] = rand(w, std=w ** -0.5)
    sd["visual.positional_embedding"] = rand(config.grid ** 2 + 1, w, std=w ** -0.5)
    sd["visual.proj"] = rand(w, config.embed_dim, std=w ** -0.5, dtype=half)
    sd["visual.conv1.weight"] = rand(w, 3, p, p, std=(3 * p * p) ** -0.5, dtype=half)
    for name in ("ln_pre", "ln_post"):
        sd[f"visual.{name}.weight"], sd[f"visual.{name}.bias"] = gain(w), rand(w, std=0.1)
    blocks("visual.transformer", w, config.layers)
    sd["positional_embedding"] = rand(context_length, text_width, std=0.01)
    sd["text_projection"] = rand(text_width, config.embed_dim, std=text_width ** -0.5, dtype=half)
    sd["logit_scale"] = torch.tensor(math.log(1 / 0.07))
    sd["token_embedding.weight"] = rand(vocab_size, text_width, std=0.02, dtype=half)
    sd["ln_final.weight"], sd["ln_final.bias"] = gain(text_width), rand(text_width, std=0.1)
    blocks("transformer", text_width, text_layers)
    sd["input_resolution"] = torch.tensor(config.image_size)
    sd["context_length"] = torch.tensor(context_length)
    sd["vocab_size"] = torch.tensor(vocab_size)
    return sd


def _torchscript_holder(state: dict):
    """A scripted module whose ``state_dict()`` is ``state`` (tensors as buffers)."""
    import torch
    from torch import nn

    class Holder(nn.Module):
        pass

    root = Holder()
    for key, value in state.items():
        *parts, leaf = key.split(".")
        m = root
        for part in parts:
            if not hasattr(m, part):
                m.add_module(part, Holder())
            m = getattr(m, part)
        m.register_buffer(leaf, value)
    return torch.jit.script(root)


def write_openai_clip(path, config=None, *, seed: int = 0, torchscript: bool = True, **text) -> Path:
    """Write a random CLIP checkpoint in OpenAI's format.

    Parameters
    ----------
    path : path-like
    config : CLIPVisionConfig, optional
        Image tower (default: :func:`small_config`).
    seed : int
    torchscript : bool
        A TorchScript archive like the published file (default) or a plain
        ``torch.save``'d state dict (what ``clip.load`` also accepts).
    **text
        Text-tower sizes for :func:`openai_clip_state_dict`.
    """
    import torch

    state = openai_clip_state_dict(config, seed=seed, **text)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, suffix=".part") as fh, warnings.catch_warnings():
        if torchscript:  # torch.jit is deprecated, but it is OpenAI's format
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.\w+` is deprecated", category=FutureWarning)
            torch.jit.save(_torchscript_holder(state), fh)
        else:
            torch.save(state, fh)
    return path


def install_fake_clip(home, config=None, *, seed: int = 0) -> dict:
    """Install a random checkpoint as the manifest's ``ViT-L-14-336px`` in ``home``.

    Returns the environment (``GENMETRICS_HOME``, ``GENMETRICS_MANIFEST``,
    ``GENMETRICS_OFFLINE``) that points the weight manager at it, as
    :func:`genmetrics_nb.testing.weights.install_fake_weights` does; an
    existing manifest file in ``home`` keeps its other entries.
    """
    from genmetrics_nb.extractors.clip import WEIGHTS_NAME
    from genmetrics_nb.testing.weights import register_fake_file
    from genmetrics_nb.weights.manifest import BUILTIN

    dest = write_openai_clip(Path(home) / "weights" / BUILTIN[WEIGHTS_NAME].filename, config, seed=seed)
    return register_fake_file(home, WEIGHTS_NAME, dest, seed=seed,
                              source="genmetrics_nb.testing.clip_checkpoint.install_fake_clip")


def hf_clip_tokenizer():
    """transformers' ``CLIPTokenizer`` (tokenizers backend) built offline from CLIP's vocabulary.

    The vocabulary and merges are those of ``bpe_simple_vocab_16e6.txt.gz``
    (read and sha256-checked by :mod:`genmetrics_nb.extractors.clip_tokenizer`),
    with OpenAI's spelling of the special tokens (``<|startoftext|>`` = 49406,
    ``<|endoftext|>`` = 49407, also the padding token), as in the
    ``vocab.json``/``merges.txt`` of the ``openai/clip-vit-*`` hub repositories.
    """
    from transformers import CLIPTokenizer as HFCLIPTokenizer

    from genmetrics_nb.extractors.clip_tokenizer import get_tokenizer

    ours = get_tokenizer()
    vocab = {t: i for t, i in ours.encoder.items() if i < ours.sot_id}
    vocab.update({"<|startoftext|>": ours.sot_id, "<|endoftext|>": ours.eot_id})
    merges = [tuple(m) for m, _ in sorted(ours.ranks.items(), key=lambda kv: kv[1])]
    return HFCLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
