"""gm.imagereward against ImageReward's own scoring path on random weights in its file layout.

Reference: the transcription of THUDM/ImageReward ``ImageReward.py`` ``score`` /
``inference_rank`` (``tests/reference/imagereward_score.py``), run with the
slow BERT tokenizer of transformers on the same ``vocab.txt`` and with
transformers' BLIP classes (``BlipVisionModel``, ``BlipTextModel``) holding the
tensors of the same ``ImageReward.pt``. Those classes are BLIP's ``vit.py`` /
``med.py`` ported (same layer order, pre-norm ViT with LayerNorm eps 1e-6,
post-norm BERT with cross-attention); the one difference is the padding mask,
``torch.finfo.min`` there and ``-10000`` in ``med.py``, which both give
exactly zero attention weight in float32. Our BLIP is written separately
(``genmetrics_nb/extractors/blip.py``), as is our tokenizer.
"""
from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.metrics.text.imagereward import imagereward
from genmetrics_nb.testing.imagereward_checkpoint import write_imagereward

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
Image = pytest.importorskip("PIL.Image")

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "imagereward_score.py"
LONG = "a painting of an ocean with clouds and birds, day time, low depth field effect " * 3  # > 35 tokens
PROMPTS = ["a painting of an ocean with clouds and birds, day time, low depth field effect", "a red car",
           LONG, "Café, \u201cblue\u201d sky!"]
SIZES = [(240, 320), (300, 227), (224, 224), (331, 500)]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("imagereward")
    files = write_imagereward(d / "model", seed=7)
    rng = np.random.default_rng(2)
    images = []
    for i, (h, w) in enumerate(SIZES):
        low = rng.integers(0, 256, size=(h // 16, w // 16, 3), dtype=np.uint8)
        img = np.clip(np.asarray(Image.fromarray(low).resize((w, h), Image.BILINEAR), dtype=np.int16)
                      + rng.integers(-25, 26, size=(h, w, 3)), 0, 255).astype(np.uint8)
        images.append(str(d / f"{i}.png"))
        Image.fromarray(img).save(images[-1])
    return {**files, "images": images}


class _Vision(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(pixel_values=x).last_hidden_state


class _Text(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, attention_mask, encoder_hidden_states, encoder_attention_mask, return_dict=True):
        return self.model(input_ids=ids, attention_mask=attention_mask, encoder_hidden_states=encoder_hidden_states,
                          encoder_attention_mask=encoder_attention_mask, is_decoder=False)


def _reference_model(data):
    from types import SimpleNamespace

    from transformers import BlipTextConfig, BlipVisionConfig, BlipVisionModel
    from transformers.models.blip.modeling_blip_text import BlipTextModel

    spec = importlib.util.spec_from_file_location("imagereward_score", REFERENCE)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    state = torch.load(data["model"], map_location="cpu")
    med = json.loads(Path(data["med_config"]).read_text())
    vw = state["blip.visual_encoder.cls_token"].shape[-1]
    depth = len({k.split(".")[3] for k in state if k.startswith("blip.visual_encoder.blocks.")})
    vcfg = BlipVisionConfig(hidden_size=vw, intermediate_size=4 * vw, num_hidden_layers=depth,
                            num_attention_heads=vw // 64, image_size=224, patch_size=16, hidden_act="gelu",
                            layer_norm_eps=1e-6)
    vision = BlipVisionModel(vcfg).eval()
    names = {"cls_token": "embeddings.class_embedding", "pos_embed": "embeddings.position_embedding",
             "patch_embed.proj.weight": "embeddings.patch_embedding.weight",
             "patch_embed.proj.bias": "embeddings.patch_embedding.bias",
             "norm.weight": "post_layernorm.weight", "norm.bias": "post_layernorm.bias"}
    parts = {"norm1": "layer_norm1", "attn.qkv": "self_attn.qkv", "attn.proj": "self_attn.projection",
             "norm2": "layer_norm2", "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}
    vsd = {}
    for k, v in state.items():
        if not k.startswith("blip.visual_encoder."):
            continue
        k = k[len("blip.visual_encoder."):]
        if k in names:
            vsd[names[k]] = v
        else:
            _, i, rest = k.split(".", 2)
            mod, leaf = rest.rsplit(".", 1)
            vsd[f"encoder.layers.{i}.{parts[mod]}.{leaf}"] = v
    missing, unexpected = vision.load_state_dict(vsd, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    tcfg = BlipTextConfig(vocab_size=med["vocab_size"], hidden_size=med["hidden_size"],
                          encoder_hidden_size=med["encoder_width"], intermediate_size=med["intermediate_size"],
                          num_attention_heads=med["num_attention_heads"], num_hidden_layers=med["num_hidden_layers"],
                          max_position_embeddings=med["max_position_embeddings"], hidden_act=med["hidden_act"],
                          layer_norm_eps=med["layer_norm_eps"], is_decoder=True, bos_token_id=None,
                          sep_token_id=None, pad_token_id=0)  # is_decoder builds crossattention
    text = BlipTextModel(tcfg, add_pooling_layer=False).eval()
    tsd = {k[len("blip.text_encoder."):]: v for k, v in state.items()
           if k.startswith("blip.text_encoder.") and not k.endswith("position_ids")}
    missing, unexpected = text.load_state_dict(tsd, strict=False)
    assert not [m for m in missing if "position_ids" not in m] and not unexpected, (missing, unexpected)
    blip = SimpleNamespace(tokenizer=ref.init_tokenizer(str(data["vocab"])), visual_encoder=_Vision(vision),
                           text_encoder=_Text(text))
    model = ref.ImageReward(blip, med["hidden_size"]).eval()
    model.mlp.load_state_dict({k[len("mlp."):]: v for k, v in state.items() if k.startswith("mlp.")})
    return model


@pytest.fixture(scope="module")
def reference(data):
    model = _reference_model(data)
    with torch.no_grad():
        per_image = [model.score(p, f) for p, f in zip(PROMPTS, data["images"])]
        _, ranked = model.inference_rank(PROMPTS[1], data["images"])
    return {"score": np.asarray(per_image), "rank_rewards": np.asarray(ranked)}


@pytest.fixture(scope="module")
def ours(data):
    kw = {k: data[k] for k in ("model", "med_config", "vocab")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the unpinned-digest notice, tested below
        a = imagereward(data["images"], PROMPTS, **kw, device="cpu", progress=False, n_boot=0)
        b = imagereward(data["images"], [PROMPTS[1]] * 4, **kw, device="cpu", progress=False, n_boot=0)
    return a, b


@pytest.mark.reference
def test_equals_imagereward_score(ours, reference):
    a, _ = ours
    assert np.abs(a.per_sample - reference["score"]).max() <= 1e-5
    assert np.ptp(reference["score"]) > 1e-3  # the rewards differ, so the comparison has teeth


@pytest.mark.reference
def test_equals_imagereward_inference_rank(ours, reference):
    _, b = ours
    assert np.abs(b.per_sample - reference["rank_rewards"]).max() <= 1e-5
    assert np.ptp(b.per_sample) > 1e-4  # one prompt, different images: the images matter


def test_truncates_at_35_tokens_keeping_the_end(data, ours):
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    a, _ = ours
    ref = BertTokenizerLegacy(str(data["vocab"]))
    n_tokens = [len(ref(p)["input_ids"]) for p in PROMPTS]
    assert a.truncation["truncated"] == tuple(i for i, n in enumerate(n_tokens) if n > 35) == (2,)
    assert a.tokenizer["context_length"] == 35


def test_tokenizer_equals_bert_slow_tokenizer(data):
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    from genmetrics_nb.extractors.bert_tokenizer import BertWordPiece

    prompts = PROMPTS + ["", "  ", "x" * 120, "e\u0301 \ufb00 \u4e00\u4e8c", "a\u00a0b\u200bc", "[DEC] a cat [ENC]",
                         "tabs\tand\nnewlines\r", "\x00nul \ufffd"]
    ref = BertTokenizerLegacy(str(data["vocab"]))
    ref.add_special_tokens({"bos_token": "[DEC]"})
    ref.add_special_tokens({"additional_special_tokens": ["[ENC]"]})
    want = ref(prompts, padding="max_length", truncation=True, max_length=35, return_tensors="pt")
    ids, mask, _ = BertWordPiece(data["vocab"])(prompts, max_length=35)
    assert torch.equal(ids, want.input_ids) and torch.equal(mask, want.attention_mask)


def test_sha256_is_refused_or_warned(data):
    kw = {k: data[k] for k in ("model", "med_config", "vocab")}
    with pytest.raises(ValueError, match="has sha256"):
        imagereward(data["images"][:1], PROMPTS[:1], **kw, expected_sha256="0" * 64, device="cpu", progress=False)
    with pytest.warns(UserWarning, match="is not checked"):
        r = imagereward(data["images"][:1], PROMPTS[:1], **kw, device="cpu", progress=False, n_boot=0)
    assert r.version == "ImageReward-v1.0" and not r.sha256_verified and "same prompt" in r.note
    import hashlib

    digest = hashlib.sha256(Path(data["model"]).read_bytes()).hexdigest()
    r = imagereward(data["images"][:1], PROMPTS[:1], **kw, expected_sha256=digest, device="cpu", progress=False,
                    n_boot=0)
    assert r.sha256_verified and r.weights_sha256 == digest


@pytest.mark.filterwarnings("ignore:the sha256")
def test_incomplete_file_is_refused(data, tmp_path):
    state = torch.load(data["model"], map_location="cpu")
    state.pop("blip.text_encoder.encoder.layer.0.crossattention.self.key.weight")
    bad = tmp_path / "ImageReward.pt"
    torch.save(state, bad)
    with pytest.raises(ValueError, match="lacks BLIP tensor|missing tensors"):
        imagereward(data["images"][:1], PROMPTS[:1], model=bad, med_config=data["med_config"], vocab=data["vocab"],
                    expected_sha256=None, device="cpu", progress=False)


@pytest.mark.filterwarnings("ignore:the sha256")
def test_bad_input(data):
    kw = {k: data[k] for k in ("model", "med_config", "vocab")}
    with pytest.raises(ValueError, match="one prompt per image"):
        imagereward(data["images"][:2], PROMPTS[:1], **kw, device="cpu", progress=False)
    with pytest.raises(ValueError, match="is not a file"):
        imagereward(data["images"][:1], PROMPTS[:1], **dict(kw, model="nope.pt"), device="cpu", progress=False)
    assert hasattr(gm, "imagereward")
