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

__all__ = ["HPS_SMALL_CFG", "install_fake_clip", "openai_clip_state_dict", "small_config", "write_hps_checkpoint",
           "write_openai_clip"]


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


def text_ready_state_dict(config=None, *, seed: int = 0, **text) -> dict:
    """:func:`openai_clip_state_dict` with CLIP's full vocabulary (49,408 ids), so that
    real tokenizer ids can be embedded; the other text sizes stay reduced."""
    text.setdefault("vocab_size", 49408)
    return openai_clip_state_dict(config, seed=seed, **text)


def write_open_clip(path, config=None, *, seed: int = 0, safetensors: bool = True, **text) -> Path:
    """A random checkpoint in open_clip's format: the state dict of ``open_clip.model.CLIP``
    (OpenAI's key names, ``float32``, no ``input_resolution``/``context_length``/
    ``vocab_size`` scalars), as ``.safetensors`` or a ``torch.save``'d ``.bin``.
    Which activation it is meant for is not in the file (open_clip's configs say it)."""
    import torch

    state = {k: v.to(torch.float32) for k, v in text_ready_state_dict(config, seed=seed, **text).items()
             if k not in ("input_resolution", "context_length", "vocab_size")}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if safetensors:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        with atomic_write(path, suffix=".part") as fh:
            torch.save(state, fh)
    return path


def hf_clip_config(*, text_width: int = 64, text_layers: int = 1, vision_width: int = 128, vision_layers: int = 2,
                   patch_size: int = 32, image_size: int = 224, embed_dim: int = 64, hidden_act: str = "quick_gelu",
                   text_heads: int | None = None, vision_heads: int | None = None, eos_token_id: int = 2):
    """A reduced transformers ``CLIPConfig`` shaped like the ``openai/clip-vit-*`` hub configs
    (full 49,408-token vocabulary, context 77, 64-wide heads unless ``*_heads`` say otherwise,
    ``eos_token_id = 2``: the legacy argmax pooling of those configs; 49407 pools at the first
    end token, as newer configs do)."""
    from transformers import CLIPConfig

    text_cfg = dict(vocab_size=49408, hidden_size=text_width, intermediate_size=4 * text_width,
                    num_hidden_layers=text_layers, num_attention_heads=text_heads or text_width // 64,
                    max_position_embeddings=77, hidden_act=hidden_act, layer_norm_eps=1e-5,
                    bos_token_id=0, eos_token_id=eos_token_id, pad_token_id=1, projection_dim=embed_dim)
    vision_cfg = dict(hidden_size=vision_width, intermediate_size=4 * vision_width,
                      num_hidden_layers=vision_layers, num_attention_heads=vision_heads or vision_width // 64,
                      image_size=image_size, patch_size=patch_size, hidden_act=hidden_act,
                      layer_norm_eps=1e-5, projection_dim=embed_dim)
    return CLIPConfig(text_config=text_cfg, vision_config=vision_cfg, projection_dim=embed_dim,
                      logit_scale_init_value=math.log(1 / 0.07))


def write_hf_clip(folder, *, seed: int = 0, processor: bool = True, **config) -> Path:
    """A random transformers ``CLIPModel`` saved with ``save_pretrained`` (``config.json`` +
    ``model.safetensors``), its own initialisation with every LayerNorm and bias perturbed
    (so that each tensor changes the outputs); with ``processor``, also the tokenizer files
    (:func:`hf_clip_tokenizer`) and the PIL ``CLIPImageProcessor`` settings."""
    import torch
    from transformers import CLIPModel

    torch.manual_seed(int(seed))  # transformers initialises from the global generator
    model = CLIPModel(hf_clip_config(**config)).eval()
    g = torch.Generator().manual_seed(int(seed) + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm" in name:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
            if "embedding" in name and p.ndim == 2:
                p.add_(torch.randn(p.shape, generator=g) * 0.02)
    folder = Path(folder)
    model.save_pretrained(folder)
    if processor:
        hf_clip_processor(image_size=model.config.vision_config.image_size).save_pretrained(folder)
    return folder


def hf_clip_processor(*, image_size: int = 224):
    """transformers' ``CLIPProcessor`` with the PIL image backend (``CLIPImageProcessorPil``:
    Pillow bicubic resize of the short side, centre crop with floor offsets, /255, CLIP
    mean/std) and :func:`hf_clip_tokenizer`, as the ``openai/clip-vit-*`` repositories
    configure it."""
    from transformers import CLIPProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    images = CLIPImageProcessorPil(size={"shortest_edge": image_size},
                                   crop_size={"height": image_size, "width": image_size})
    return CLIPProcessor(image_processor=images, tokenizer=hf_clip_tokenizer())


def write_open_clip_folder(folder, model_cfg: dict, *, seed: int = 0) -> Path:
    """An open_clip hub-style folder: ``open_clip_config.json`` (``{"model_cfg": model_cfg}``) and
    ``open_clip_model.safetensors`` holding a randomly initialised ``open_clip.model.CLIP(**model_cfg)``
    (open_clip's own initialisation, every LayerNorm and bias then perturbed). Needs open_clip."""
    import json

    import torch
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    torch.manual_seed(int(seed))
    model = CLIP(**model_cfg)
    g = torch.Generator().manual_seed(int(seed) + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "ln_" in name:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": model_cfg}, indent=2))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "open_clip_model.safetensors"))
    return folder


#: A reduced open_clip CLIP with ViT-H-14's attention-head widths (image 80, text 64) and patch
#: size, for HPS-format stand-ins (HPS files hold open_clip's ViT-H-14).
HPS_SMALL_CFG = {"embed_dim": 64, "quick_gelu": False,
                 "vision_cfg": {"image_size": 224, "layers": 1, "width": 160, "head_width": 80, "patch_size": 14},
                 "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 128, "heads": 2, "layers": 1}}


def write_hps_checkpoint(path, *, seed: int = 0, model_cfg: dict | None = None) -> Path:
    """A random checkpoint in HPSv2's format: ``torch.save({"state_dict": open_clip CLIP state dict})``
    (``HPS_v2*_compressed.pt``), of a reduced CLIP with ViT-H-14's head widths
    (:data:`HPS_SMALL_CFG`); open_clip's initialisation with every LayerNorm and bias perturbed.
    Needs open_clip."""
    import torch
    from open_clip.model import CLIP

    torch.manual_seed(int(seed))
    model = CLIP(**(model_cfg or HPS_SMALL_CFG))
    g = torch.Generator().manual_seed(int(seed) + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "ln_" in name:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, suffix=".part") as fh:
        torch.save({"state_dict": model.state_dict()}, fh)
    return path
