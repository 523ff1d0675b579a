"""CLIP's text tower (genmetrics_nb.extractors.clip_text) and the three checkpoint formats.

Outside references, each on a random-weight file in the publisher's own format:

- OpenAI's format (TorchScript archive and plain state dict, written by
  genmetrics_nb.testing.clip_checkpoint): open_clip's ``load_openai_model``
  and its ``encode_text`` / ``encode_image``;
- open_clip's format (``.safetensors`` and ``torch.save``'d ``.bin`` of
  ``open_clip.model.CLIP``'s state dict, GELU and QuickGELU): open_clip's own
  ``CLIP`` built with the same sizes and loaded from that file;
- transformers' ``CLIPModel`` saved with ``save_pretrained``: transformers'
  ``get_text_features`` / ``get_image_features`` on the same folder.
"""
from __future__ import annotations

import warnings

import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.extractors import clip, clip_formats, clip_text
from genmetrics_nb.extractors.clip_tokenizer import clip_tokenize
from genmetrics_nb.testing import clip_checkpoint as cc

open_clip = pytest.importorskip("open_clip")

PROMPTS = ["a photo of a cat", "Two dogs playing in the snow.", "",
           "a very long prompt about a red fox jumping over the lazy dog " * 10]


def _rel(a, b):
    return float((a.double() - b.double()).abs().max() / b.double().abs().max())


@pytest.fixture(scope="module")
def ids():
    return clip_tokenize(PROMPTS)[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("clip_text")
    return {
        "jit": cc.write_openai_clip(d / "oa.pt", seed=5, vocab_size=49408),
        "plain": cc.write_openai_clip(d / "oa-state.pt", seed=5, vocab_size=49408, torchscript=False),
        "oc-st": cc.write_open_clip(d / "oc.safetensors", seed=6),
        "oc-bin": cc.write_open_clip(d / "oc.bin", seed=6, safetensors=False),
        "hf": cc.write_hf_clip(d / "hf", seed=7, processor=False),
    }


def _open_clip_model(quick_gelu):
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    cfg = cc.small_config()
    return CLIP(embed_dim=cfg.embed_dim,
                vision_cfg=CLIPVisionCfg(layers=cfg.layers, width=cfg.width, head_width=64,
                                         patch_size=cfg.patch_size, image_size=cfg.image_size),
                text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=64, heads=1, layers=1),
                quick_gelu=quick_gelu).eval()


@pytest.mark.reference
@pytest.mark.parametrize("fmt", ["jit", "plain"])
def test_openai_format_equals_open_clip(files, ids, fmt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref = open_clip.load_openai_model(str(files[fmt]), precision="fp32", device="cpu").eval()
    ckpt = clip_formats.read_clip_checkpoint(files[fmt])
    assert (ckpt.format, ckpt.activation) == ("openai", "quickgelu")
    model = clip_text.load_text_transformer(files[fmt])
    assert model.config == clip_text.CLIPTextConfig(width=64, layers=1, context_length=77, vocab_size=49408,
                                                    embed_dim=64)
    with torch.no_grad():
        want = ref.encode_text(ids)
        want_n = ref.encode_text(ids, normalize=True)
    assert _rel(clip_text.encode_text(model, ids), want) <= 1e-5
    assert _rel(clip_text.encode_text(model, ids, normalize=True, batch_size=3), want_n) <= 1e-5
    # the prompts give different embeddings
    assert float((want_n[0] - want_n[1]).abs().max()) > 1e-3


@pytest.mark.reference
@pytest.mark.parametrize("fmt", ["oc-st", "oc-bin"])
@pytest.mark.parametrize("activation", ["gelu", "quickgelu"])
def test_open_clip_format_equals_open_clip(files, ids, fmt, activation):
    ref = _open_clip_model(quick_gelu=activation == "quickgelu")
    state = clip_formats.read_clip_checkpoint(files[fmt], activation=activation)
    assert state.format == "open_clip"
    ref.load_state_dict(state.state, strict=True)  # the file is open_clip's own state dict
    model = clip_text.load_text_transformer(files[fmt], activation=activation)
    x = torch.randn(2, 3, 336, 336, generator=torch.Generator().manual_seed(0))
    vis = clip.vision_transformer_from_state(state.state, activation=activation)
    with torch.no_grad():
        assert _rel(clip_text.encode_text(model, ids), ref.encode_text(ids)) <= 1e-5
        assert _rel(vis(x) @ vis.proj, ref.encode_image(x)) <= 1e-5


def test_activation_changes_the_output(files, ids):
    # the check above can fail: GELU vs QuickGELU on the same file differ
    a = clip_text.encode_text(clip_text.load_text_transformer(files["oc-st"], activation="gelu"), ids)
    b = clip_text.encode_text(clip_text.load_text_transformer(files["oc-st"], activation="quickgelu"), ids)
    assert _rel(a, b) > 1e-4


@pytest.mark.reference
def test_hf_format_equals_transformers(files, ids):
    from transformers import CLIPModel

    ref = CLIPModel.from_pretrained(files["hf"]).eval()
    ckpt = clip_formats.read_clip_checkpoint(files["hf"])
    assert (ckpt.format, ckpt.activation) == ("hf", "quickgelu")
    model = clip_text.load_text_transformer(files["hf"])
    vis = clip.vision_transformer_from_state(ckpt.state)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = ref.get_text_features(input_ids=ids, attention_mask=torch.ones_like(ids))  # causal: padding unseen
        want = getattr(want, "pooler_output", want)
        img = ref.get_image_features(pixel_values=x)
        img = getattr(img, "pooler_output", img)
        assert _rel(clip_text.encode_text(model, ids), want) <= 1e-5
        assert _rel(vis(x) @ vis.proj, img) <= 1e-5
    assert torch.equal(ckpt.state["logit_scale"], ref.logit_scale.detach())
    # the safetensors file alone reads the same (QuickGELU assumed without config.json)
    alone = clip_formats.read_clip_checkpoint(files["hf"] / "model.safetensors")
    assert alone.activation == "quickgelu" and alone.state.keys() == ckpt.state.keys()


def test_hf_config_activation_is_read(tmp_path):
    folder = cc.write_hf_clip(tmp_path / "hf", seed=1, processor=False, hidden_act="gelu")
    assert clip_formats.read_clip_checkpoint(folder).activation == "gelu"
    with pytest.raises(ValueError, match="declares 'gelu'"):
        clip_formats.read_clip_checkpoint(folder, activation="quickgelu")


def test_bad_files_and_arguments(files, tmp_path):
    with pytest.raises(ValueError, match="activation is not recorded.*activation='quickgelu'"):
        clip_formats.read_clip_checkpoint(files["oc-st"])
    with pytest.raises(ValueError, match="activation must be one of"):
        clip_formats.read_clip_checkpoint(files["jit"], activation="relu")
    with pytest.raises(ValueError, match="does not exist"):
        clip_formats.read_clip_checkpoint(tmp_path / "nothing.pt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds none of"):
        clip_formats.read_clip_checkpoint(tmp_path / "empty")
    torch.save({"weight": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="holds no CLIP"):
        clip_formats.read_clip_checkpoint(tmp_path / "other.pt")
    state = cc.text_ready_state_dict(seed=0)
    vis_only = {k: v for k, v in state.items() if k.startswith("visual.") or k in ("vocab_size",)}
    torch.save(vis_only, tmp_path / "vis.pt")
    with pytest.raises(ValueError, match="holds no CLIP text tower"):
        clip_text.load_text_transformer(tmp_path / "vis.pt")
    broken = dict(state)
    broken["ln_final.bias"] = torch.zeros(3)
    torch.save(broken, tmp_path / "broken.pt")
    with pytest.raises(ValueError, match=r"wrong shapes \['ln_final.bias'\]"):
        clip_text.load_text_transformer(tmp_path / "broken.pt")


@pytest.mark.reference
@pytest.mark.parametrize("name,model", [("ViT-B-32", "ViT-B-32"), ("ViT-B-16", "ViT-B-16"),
                                        ("ViT-L-14", "ViT-L-14"), ("ViT-L-14-336px", "ViT-L-14-336")])
def test_manifest_entries_and_full_text_shapes(name, model):
    # OpenAI puts the sha256 in the URL; open_clip's pretrained table carries the same URLs
    from open_clip.pretrained import get_pretrained_url

    entry = gm.weights.get_entry(name)
    assert entry.url == get_pretrained_url(model, "openai")
    assert entry.url.split("/")[-2] == entry.sha256 and entry.filename == f"{name}.pt"
    with torch.device("meta"):
        peer = open_clip.create_model(model, pretrained=None, device="meta")
    state = peer.state_dict()
    cfg = clip_text.CLIPTextConfig.from_state_dict(state)
    text_keys = {k: tuple(v.shape) for k, v in state.items()
                 if not k.startswith("visual.") and k not in ("logit_scale", "attn_mask")}
    assert {k: tuple(v) for k, v in cfg.state_dict_shapes().items()} == text_keys
    assert cfg.heads == peer.transformer.resblocks[0].attn.num_heads
    assert (cfg.context_length, cfg.vocab_size) == (77, 49408)


# a reduced ViT-H-like layout: 80-wide image heads and one 128-wide text head, which OpenAI's
# width // 64 rule would get wrong (5 image heads, 2 text heads)
ODD_HEADS = {"embed_dim": 64, "quick_gelu": False,
             "vision_cfg": {"width": 320, "layers": 1, "patch_size": 32, "image_size": 224, "head_width": 80},
             "text_cfg": {"width": 128, "heads": 1, "layers": 1, "context_length": 77, "vocab_size": 49408}}


@pytest.mark.reference
def test_open_clip_config_gives_the_heads(tmp_path, ids):
    from open_clip.model import CLIP
    from safetensors.torch import load_file

    from genmetrics_nb.extractors.clip_model import load_clip

    folder = cc.write_open_clip_folder(tmp_path / "oc", ODD_HEADS, seed=3)
    ref = CLIP(**ODD_HEADS).eval()
    ref.load_state_dict(load_file(str(folder / "open_clip_model.safetensors")), strict=True)
    ckpt = clip_formats.read_clip_checkpoint(folder)
    assert (ckpt.format, ckpt.activation, ckpt.vision_heads, ckpt.text_heads) == ("open_clip", "gelu", 4, 1)
    model = load_clip(folder, device="cpu")
    assert model.architecture["image"]["heads"] == 4 and model.architecture["text"]["heads"] == 1
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert _rel(model.text(ids), ref.encode_text(ids)) <= 1e-5
        assert _rel(model.image.module(x) @ model.image.module.proj, ref.encode_image(x)) <= 1e-5
        # OpenAI's rule on the same tensors builds another network
        wrong = clip_text.text_transformer_from_state(ckpt.state, activation="gelu")
        assert wrong.config.heads == 2 and _rel(wrong(ids), ref.encode_text(ids)) > 1e-3


@pytest.mark.reference
def test_hf_config_gives_the_heads(tmp_path, ids):
    from transformers import CLIPModel

    folder = cc.write_hf_clip(tmp_path / "hf", seed=4, processor=False, vision_heads=1, text_heads=1,
                              text_width=128)
    ckpt = clip_formats.read_clip_checkpoint(folder)
    assert (ckpt.vision_heads, ckpt.text_heads) == (1, 1)
    ref = CLIPModel.from_pretrained(folder).eval()
    text = clip_text.load_text_transformer(folder)
    vis = clip.vision_transformer_from_state(ckpt.state, heads=ckpt.vision_heads)
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert _rel(clip_text.encode_text(text, ids), ref.get_text_features(input_ids=ids).pooler_output) <= 1e-5
        assert _rel(vis(x) @ vis.proj, ref.get_image_features(pixel_values=x).pooler_output) <= 1e-5


def test_vit_h_widths_need_their_config(tmp_path):
    cfg = clip.CLIPVisionConfig(width=1280, layers=1, patch_size=14, image_size=28, embed_dim=64)
    path = cc.write_open_clip(tmp_path / "h.safetensors", cfg, seed=0)
    with pytest.raises(ValueError, match="width 1280.*open_clip_config.json"):
        clip_formats.read_clip_checkpoint(path, activation="gelu")


@pytest.mark.reference
def test_registered_image_extractors_equal_open_clip(tmp_path, monkeypatch):
    # clip-vit-b32 through the manifest and weight manager (a random file registered as
    # ViT-B-32), on non-square images: OpenAI's resize-then-crop, as open_clip's transform
    import numpy as np
    from PIL import Image

    from genmetrics_nb.testing.weights import register_fake_file

    cfg = clip.CLIPVisionConfig(width=128, layers=2, patch_size=32, image_size=224, embed_dim=64)
    dest = cc.write_openai_clip(tmp_path / "weights" / "ViT-B-32.pt", cfg, seed=9, vocab_size=49408)
    for k, v in register_fake_file(tmp_path, "ViT-B-32", dest, seed=9, source="test").items():
        monkeypatch.setenv(k, v)
    gm.extractors.clear_cache()
    try:
        ext = gm.get_extractor("clip-vit-b32", device="cpu")
    finally:
        gm.extractors.clear_cache()
    info = {d["name"]: d for d in gm.list_extractors(details=True)}
    assert info["clip-vit-b32"]["weights"] == "ViT-B-32" and info["clip-vit-l14"]["weights"] == "ViT-L-14"
    assert ext.name == "clip-vit-b32" and ext.weights_digest == gm.weights.sha256_file(dest)
    assert __import__("genmetrics_nb.features.inputs").features.inputs.default_output("clip-vit-b32", ext.outputs) == "embedding"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref = open_clip.load_openai_model(str(dest), precision="fp32", device="cpu").eval()
    transform = open_clip.image_transform(224, is_train=False)
    rng = np.random.default_rng(0)
    for h, w in [(300, 412), (500, 260), (224, 224)]:
        img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        with torch.no_grad():
            want = ref.encode_image(transform(Image.fromarray(img))[None], normalize=True)
        got = ext(torch.from_numpy(img).permute(2, 0, 1)[None].contiguous())["embedding"]
        assert _rel(got, want) <= 1e-5


@pytest.mark.reference
def test_hf_first_end_token_pooling(tmp_path):
    # eos_token_id = 49407 in config.json: transformers pools at the first end token (position 0
    # when there is none); OpenAI pools at the largest id. With real token ids the two agree: the
    # end token is the largest id, and when truncation cut it, the start token 49406 at position 0
    # is. They differ only on ids with neither, shown last.
    from transformers import CLIPModel

    folder = cc.write_hf_clip(tmp_path / "hf", seed=5, processor=False, eos_token_id=49407)
    ckpt = clip_formats.read_clip_checkpoint(folder)
    assert ckpt.text_eos_id == 49407
    ids = clip_tokenize(PROMPTS, truncation="torchmetrics")[0]
    assert 49407 not in ids[3].tolist()
    bare = torch.zeros(1, 77, dtype=torch.long)
    bare[0, :4] = torch.tensor([320, 1125, 539, 2368])  # "a photo of cat", no start or end token
    ref = CLIPModel.from_pretrained(folder).eval()
    text = clip_text.load_text_transformer(folder)
    argmax = clip_text.text_transformer_from_state(ckpt.state)
    with torch.no_grad():
        for x in (ids, bare):
            assert _rel(clip_text.encode_text(text, x), ref.get_text_features(input_ids=x).pooler_output) <= 1e-5
        assert _rel(argmax(ids), text(ids)) <= 1e-6
        assert _rel(argmax(bare), text(bare)) > 1e-3
        # a cut prompt's embedding is the start token's output, the same for any cut prompt
        cut = text(ids)
        other = text(clip_tokenize(["completely different words " * 30], truncation="torchmetrics")[0])
    assert _rel(cut[3:4], other) <= 1e-6
