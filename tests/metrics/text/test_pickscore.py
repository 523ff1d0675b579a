"""gm.pickscore against PickScore's README ``calc_probs`` on a random CLIP-H/14-shaped transformers file.

Outside reference: ``tests/reference/pickscore_calc_probs.py`` (yuvalkirstain/PickScore
README at commit f79607f), run with transformers' ``CLIPModel`` loaded from a random
``save_pretrained`` folder shaped like PickScore_v1 (GELU, 80-wide image heads, reduced
width and depth) and transformers' PIL ``CLIPProcessor`` with the CLIP vocabulary.
"""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.metrics.text.pickscore import prompt_groups, softmax_within
from genmetrics_nb.testing import clip_checkpoint as cc

pytest.importorskip("transformers")
Image = pytest.importorskip("PIL.Image")

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "pickscore_calc_probs.py"
PROMPTS = ["a cat on a \u201cred\u201d sofa", "a cat on a \u201cred\u201d sofa", "a cat on a \u201cred\u201d sofa",
           "\ufb01reworks over a city", "\ufb01reworks over a city"]
SIZES = [(240, 320), (300, 412), (224, 224), (331, 500), (256, 200)]
TOL = 1e-5


def _reference():
    spec = importlib.util.spec_from_file_location("pickscore_calc_probs", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("pickscore")
    rng = np.random.default_rng(3)
    files = []
    for i, (h, w) in enumerate(SIZES):
        low = rng.integers(0, 256, size=(h // 16, w // 16, 3), dtype=np.uint8)
        img = np.clip(np.asarray(Image.fromarray(low).resize((w, h), Image.BILINEAR), dtype=np.int16)
                      + rng.integers(-25, 26, size=(h, w, 3)), 0, 255).astype(np.uint8)
        files.append(d / f"{i:02d}.png")
        Image.fromarray(img).save(files[-1])
    model = cc.write_hf_clip(d / "pickscore", seed=21, processor=False, hidden_act="gelu", vision_width=160,
                             vision_heads=2, text_width=128, patch_size=14, vision_layers=1)
    return {"files": [str(f) for f in files], "model": model}


@pytest.fixture(scope="module")
def ours(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the unpinned-digest notice, tested below
        return gm.pickscore(data["files"], PROMPTS, model=data["model"], device="cpu", progress=False)


@pytest.mark.reference
def test_equals_calc_probs(data, ours):
    from transformers import CLIPModel

    ref = _reference()
    model = CLIPModel.from_pretrained(data["model"]).eval()
    processor = cc.hf_clip_processor()
    for prompt in dict.fromkeys(PROMPTS):
        idx = [i for i, p in enumerate(PROMPTS) if p == prompt]
        images = [Image.open(data["files"][i]) for i in idx]
        probs, scores = ref.calc_probs(prompt, images, processor=processor, model=model)
        assert np.abs(ours.per_sample[idx] - np.asarray(scores)).max() <= TOL * ours.logit_scale
        assert np.abs(ours.probabilities[idx] - np.asarray(probs)).max() <= 1e-5
    assert abs(ours.logit_scale - float(model.logit_scale.detach().exp())) <= 1e-6 * ours.logit_scale  # float32 exp there
    # the scores spread enough for the probabilities to mean something
    assert ours.probabilities.min() < 0.45


def test_openai_normalisation_would_differ(data, ours):
    # PickScore tokenises with transformers' tokenizer: ftfy would rewrite the curly quotes and the ligature
    ids_hf = gm.clip_tokenize(PROMPTS[:1], normalisation="hf")[0]
    ids_openai = gm.clip_tokenize(PROMPTS[:1])[0]
    assert not torch.equal(ids_hf, ids_openai)
    assert "no ftfy" in ours.tokenizer["normalisation"]


def test_result_and_groups(ours, data):
    assert ours.n == 5 and ours.n_prompts == 2 and ours.groups.tolist() == [0, 0, 0, 1, 1]
    for g in (0, 1):
        assert abs(ours.probabilities[ours.groups == g].sum() - 1.0) <= 1e-12
    assert ours.version == "PickScore_v1" and not ours.sha256_verified and ours.model_format == "hf"
    assert ours.weights_sha256 == gm.weights.sha256_file(Path(data["model"]) / "model.safetensors")
    assert "floor" in ours.preprocessing["crop"]
    assert "same prompt" in str(ours) and "same prompt" in ours.to_dict()["note"]
    assert ours.interval.low <= ours.value <= ours.interval.high
    assert softmax_within([0.0, 0.0, 5.0], prompt_groups(["a", "a", "b"])).tolist() == [0.5, 0.5, 1.0]


def test_sha256_is_checked_when_given(data):
    with pytest.warns(UserWarning, match="is not checked: no digest of PickScore_v1 is pinned"):
        gm.pickscore(data["files"][:1], PROMPTS[:1], model=data["model"], device="cpu", progress=False, n_boot=0)
    digest = gm.weights.sha256_file(Path(data["model"]) / "model.safetensors")
    r = gm.pickscore(data["files"][:1], PROMPTS[:1], model=data["model"], expected_sha256=digest, device="cpu",
                     progress=False, n_boot=0)
    assert r.sha256_verified
    with pytest.raises(ValueError, match="has sha256"):
        gm.pickscore(data["files"][:1], PROMPTS[:1], model=data["model"], expected_sha256="0" * 64,
                     progress=False)
    with pytest.raises(ValueError, match="version must be one of"):
        gm.pickscore(data["files"][:1], PROMPTS[:1], model=data["model"], version="PickScore_v2")
    with pytest.raises(ValueError, match="groups has 2 entries"):
        gm.pickscore(data["files"][:1], PROMPTS[:1], model=data["model"], groups=[0, 1], expected_sha256=digest)
