"""CLIP checkpoints in their publishers' formats, read into OpenAI's key names.

Three publishers' files hold the same CLIP ViT networks under two naming schemes:

``openai``
    OpenAI's published TorchScript archive (``ViT-B-32.pt``, ...) or a plain
    ``torch.save``'d state dict of ``clip.model.CLIP`` (``visual.*``,
    ``token_embedding.weight``, ``positional_embedding``,
    ``transformer.resblocks.*``, ``ln_final.*``, ``text_projection``,
    ``logit_scale``; the archive also holds the scalars ``input_resolution``,
    ``context_length``, ``vocab_size``). Activation: QuickGELU.
``open_clip``
    open_clip's ``CLIP`` state dict (``.pt``/``.bin`` via ``torch.save``,
    optionally ``{"state_dict": ...}`` with ``module.`` prefixes, or
    ``.safetensors``): the same key names as OpenAI's. The activation is not
    in the file: QuickGELU for OpenAI's weights and the ``*-quickgelu``
    configurations, GELU for the other open_clip configurations (e.g.
    ``ViT-B-32`` trained on LAION). It is read from an
    ``open_clip_config.json`` beside the file (``model_cfg.quick_gelu``),
    else it must be given.
``hf``
    transformers' ``CLIPModel`` (``save_pretrained`` folder with
    ``config.json`` and ``model.safetensors``, or the weights file alone):
    ``text_model.*``, ``vision_model.*``, ``text_projection.weight``,
    ``visual_projection.weight`` (``nn.Linear``, i.e. OpenAI's projection
    transposed), separate ``q_proj``/``k_proj``/``v_proj``. Converted here to
    OpenAI's names (the inverse of transformers'
    ``convert_clip_original_pytorch_to_hf.py``). Activation from
    ``config.json`` (``hidden_act``; ``quick_gelu`` in every ``openai/clip-vit-*``
    repository), QuickGELU when the file comes alone.

References
----------
.. [1] openai/CLIP ``clip/model.py`` (``build_model``), ``clip/clip.py`` (``load``).
.. [2] mlfoundations/open_clip ``src/open_clip/model.py`` (``CLIP``),
   ``src/open_clip/factory.py`` (``load_checkpoint``).
.. [3] huggingface/transformers ``models/clip/modeling_clip.py``,
   ``models/clip/convert_clip_original_pytorch_to_hf.py``.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

__all__ = ["ACTIVATIONS", "CLIPCheckpoint", "hf_to_openai", "read_clip_checkpoint"]

#: ``activation=`` values: OpenAI's ``x * sigmoid(1.702 x)`` and the exact (erf) GELU.
ACTIVATIONS = ("quickgelu", "gelu")
_HF_ACT = {"quick_gelu": "quickgelu", "gelu": "gelu"}
_OPENAI_SCALARS = ("input_resolution", "context_length", "vocab_size")
# open_clip's image towers whose heads are not 64 wide (ViT-H/14: 80, ViT-g/14: 88, ViT-bigG/14: 104):
# without their config, width // 64 would silently build another network
_NOT_64_WIDE = (1280, 1408, 1664)


@dataclasses.dataclass(frozen=True)
class CLIPCheckpoint:
    """A CLIP checkpoint read into OpenAI's key names.

    Attributes
    ----------
    state : dict
        ``name -> Tensor`` with OpenAI's keys, stored dtypes kept.
    format : {"openai", "open_clip", "hf"}
    activation : {"quickgelu", "gelu"}
    path : str
        The file read (for an HF folder, its weights file).
    vision_heads, text_heads : int or None
        Attention heads from the file's config; None: OpenAI's ``width // 64``.
    text_eos_id : int or None
        transformers' pooling rule: with a config whose ``eos_token_id`` is not
        2, the text is pooled at the first token equal to it; None: at the
        largest id (OpenAI; transformers' legacy ``eos_token_id == 2`` configs of
        the ``openai/clip-vit-*`` repositories).
    """

    state: dict
    format: str
    activation: str
    path: str
    vision_heads: int | None = None
    text_heads: int | None = None
    text_eos_id: int | None = None


def _hf_layer(src: dict, out: dict, hf: str, oa: str):
    import torch

    a = hf + "self_attn."
    out[oa + "attn.in_proj_weight"] = torch.cat([src[a + f"{p}_proj.weight"] for p in "qkv"])
    out[oa + "attn.in_proj_bias"] = torch.cat([src[a + f"{p}_proj.bias"] for p in "qkv"])
    for h, o in (("self_attn.out_proj", "attn.out_proj"), ("layer_norm1", "ln_1"), ("layer_norm2", "ln_2"),
                 ("mlp.fc1", "mlp.c_fc"), ("mlp.fc2", "mlp.c_proj")):
        out[oa + o + ".weight"] = src[hf + h + ".weight"]
        out[oa + o + ".bias"] = src[hf + h + ".bias"]


def hf_to_openai(state: dict) -> dict:
    """transformers ``CLIPModel`` tensors renamed (and projections transposed) to OpenAI's keys.

    Buffers that OpenAI's format lacks (``position_ids``) are dropped.
    """
    out = {}
    for tower, prefix in (("text_model", ""), ("vision_model", "visual.")):
        layers = sorted({int(k.split(".")[3]) for k in state if k.startswith(f"{tower}.encoder.layers.")})
        for i in layers:
            _hf_layer(state, out, f"{tower}.encoder.layers.{i}.", f"{prefix}transformer.resblocks.{i}.")
    if "text_model.embeddings.token_embedding.weight" in state:
        out["token_embedding.weight"] = state["text_model.embeddings.token_embedding.weight"]
        out["positional_embedding"] = state["text_model.embeddings.position_embedding.weight"]
        out["ln_final.weight"] = state["text_model.final_layer_norm.weight"]
        out["ln_final.bias"] = state["text_model.final_layer_norm.bias"]
        out["text_projection"] = state["text_projection.weight"].t().contiguous()
    if "vision_model.embeddings.patch_embedding.weight" in state:
        v = "vision_model."
        out["visual.class_embedding"] = state[v + "embeddings.class_embedding"]
        out["visual.conv1.weight"] = state[v + "embeddings.patch_embedding.weight"]
        out["visual.positional_embedding"] = state[v + "embeddings.position_embedding.weight"]
        for hf, oa in (("pre_layrnorm", "ln_pre"), ("post_layernorm", "ln_post")):
            out[f"visual.{oa}.weight"] = state[f"{v}{hf}.weight"]
            out[f"visual.{oa}.bias"] = state[f"{v}{hf}.bias"]
        out["visual.proj"] = state["visual_projection.weight"].t().contiguous()
    if "logit_scale" in state:
        out["logit_scale"] = state["logit_scale"]
    return out


def _check_activation(activation):
    if activation is not None and activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS} or None, got {activation!r}")


def _load_file(path: str) -> dict:
    from genmetrics_nb.extractors.clip import read_openai_checkpoint

    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return dict(load_file(path, device="cpu"))
    return read_openai_checkpoint(path)  # TorchScript or torch.save'd (optionally {"state_dict": ...})


def read_clip_checkpoint(path, *, activation: str | None = None, vision_head_width: int | None = None,
                         text_head_width: int | None = None) -> CLIPCheckpoint:
    """Read a CLIP checkpoint of OpenAI, open_clip or transformers into OpenAI's key names.

    Parameters
    ----------
    path : path-like
        A file (``.pt``, ``.bin``, ``.safetensors``) or a folder: a
        transformers ``save_pretrained`` folder (``config.json`` +
        ``model.safetensors`` or ``pytorch_model.bin``) or an open_clip hub
        folder (``open_clip_config.json`` + ``open_clip_model.safetensors`` or
        ``open_clip_pytorch_model.bin``).
    activation : {"quickgelu", "gelu"}, optional
        The MLP activation; default: what the format says (see the module
        docstring). Required for an open_clip state dict without its config.
    vision_head_width, text_head_width : int, optional
        Width of each attention head when the caller knows the architecture
        (open_clip's ViT-H/14: 80 and 64); default: the file's config, else 64.

    Returns
    -------
    CLIPCheckpoint

    Raises
    ------
    ValueError
        Unknown layout, a missing weights file in a folder, an activation that
        cannot be decided, or one that contradicts the file's config.
    """
    _check_activation(activation)
    given = {"vision": vision_head_width, "text": text_head_width}
    path = Path(os.fspath(path))
    config = {}
    if path.is_dir():
        names = ["model.safetensors", "pytorch_model.bin", "open_clip_model.safetensors",
                 "open_clip_pytorch_model.bin"]
        found = [path / n for n in names if (path / n).is_file()]
        if not found:
            raise ValueError(f"weights folder {str(path)!r} holds none of {names}; pass the weights file itself")
        weights = found[0]
    elif path.is_file():
        weights = path
    else:
        raise ValueError(f"weights={str(path)!r} does not exist; pass a CLIP checkpoint file or folder")
    for cfg_name in ("config.json", "open_clip_config.json"):
        cfg = weights.parent / cfg_name
        if cfg.is_file():
            config[cfg_name] = json.loads(cfg.read_text())
    state = _load_file(str(weights))
    state = {k.removeprefix("module."): v for k, v in state.items()}
    declared = None
    if any(k.startswith(("text_model.", "vision_model.")) for k in state):
        fmt = "hf"
        state = hf_to_openai(state)
        hf_cfg = config.get("config.json", {})
        acts = {(hf_cfg.get(t) or {}).get("hidden_act") for t in ("text_config", "vision_config")} - {None}
        if len(acts) > 1:
            raise ValueError(f"{str(weights)!r}: the text and vision towers use different activations {acts}")
        declared = _HF_ACT.get(acts.pop(), "unknown") if acts else "quickgelu"
        if declared == "unknown":
            raise ValueError(f"{str(weights)!r}: config.json's hidden_act is neither 'quick_gelu' nor 'gelu'")
    elif any(k in state for k in _OPENAI_SCALARS):
        fmt, declared = "openai", "quickgelu"
    elif "token_embedding.weight" in state or "visual.conv1.weight" in state:
        fmt = "open_clip"
        oc = config.get("open_clip_config.json")
        if oc is not None:
            declared = "quickgelu" if (oc.get("model_cfg") or {}).get("quick_gelu") else "gelu"
        elif activation is None:
            raise ValueError(
                f"{str(weights)!r} is an open_clip-style state dict whose activation is not recorded: pass "
                "activation='quickgelu' (OpenAI's weights, open_clip's '*-quickgelu' models) or "
                "activation='gelu' (open_clip's other models, e.g. LAION-trained ViT-B-32)"
            )
    else:
        raise ValueError(
            f"{str(weights)!r} holds no CLIP: neither OpenAI/open_clip keys ('token_embedding.weight', "
            "'visual.conv1.weight') nor transformers CLIPModel keys ('text_model.*', 'vision_model.*')"
        )
    vision_heads = text_heads = text_eos_id = None
    if fmt == "hf" and "config.json" in config:
        hf_cfg = config["config.json"]
        vision_heads = (hf_cfg.get("vision_config") or {}).get("num_attention_heads")
        text_heads = (hf_cfg.get("text_config") or {}).get("num_attention_heads")
        # absent: CLIPTextConfig's default, 49407 since transformers PR #24773 (save_pretrained omits defaults)
        eos = (hf_cfg.get("text_config") or {}).get("eos_token_id", 49407)
        text_eos_id = None if eos == 2 else int(eos)
    elif fmt == "open_clip" and "open_clip_config.json" in config:
        mc = config["open_clip_config.json"].get("model_cfg") or {}
        vc, tc = mc.get("vision_cfg") or {}, mc.get("text_cfg") or {}
        if "visual.conv1.weight" in state:
            vision_heads = int(state["visual.conv1.weight"].shape[0]) // int(vc.get("head_width", 64))
        text_heads = int(tc.get("heads", 8))  # open_clip's CLIPTextCfg default
    elif fmt != "openai" and "visual.conv1.weight" in state and given["vision"] is None:
        width = int(state["visual.conv1.weight"].shape[0])
        if width in _NOT_64_WIDE or width % 64:
            raise ValueError(
                f"{str(weights)!r} holds an image tower of width {width}, whose attention heads are not "
                "OpenAI's width // 64 (e.g. open_clip's ViT-H/14); pass the folder holding the checkpoint "
                "with its config.json (transformers) or open_clip_config.json (open_clip)"
            )
    if activation is not None and declared is not None and activation != declared:
        raise ValueError(
            f"activation={activation!r}, but {str(weights)!r} ({fmt} format) declares {declared!r}; "
            "drop activation= to use the file's"
        )
    widths = {"vision": ("visual.conv1.weight", 0), "text": ("token_embedding.weight", 1)}
    heads = {"vision": vision_heads, "text": text_heads}
    for tower, head_width in given.items():
        key, axis = widths[tower]
        if head_width is not None and key in state:
            width = int(state[key].shape[axis])
            if width % int(head_width):
                raise ValueError(f"{str(weights)!r}: {tower} width {width} is not a multiple of "
                                 f"{tower}_head_width={head_width}")
            heads[tower] = width // int(head_width)
    return CLIPCheckpoint(state=state, format=fmt, activation=activation or declared, path=str(weights),
                          vision_heads=heads["vision"], text_heads=heads["text"], text_eos_id=text_eos_id)
