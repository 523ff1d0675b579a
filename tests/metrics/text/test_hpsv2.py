"""gm.hpsv2 against a transcription of HPSv2's ``score`` on a random ViT-H-shaped checkpoint.

Outside reference: ``tests/reference/hpsv2_score.py`` (tgxs002/HPSv2 at 866735e: its
open_clip fork's validation transform -- ToTensor, then torchvision's tensor Resize --
and ``img_score.score``), run with open_clip's ``CLIP`` of a reduced ViT-H-14 layout
(GELU, 80-wide image heads, 64-wide text heads) loaded from a ``torch.save``'d
``{"state_dict": ...}`` file, HPSv2's checkpoint format, and open_clip's tokenizer.
"""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import genmetrics_nb as gm

open_clip = pytest.importorskip("open_clip")
Image = pytest.importorskip("PIL.Image")

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "hpsv2_score.py"
# ViT-H-14's layout (model_configs/ViT-H-14.json) with reduced widths: 2 image heads of 80, 2 text heads of 64
SMALL_H = {"embed_dim": 64, "quick_gelu": False,
           "vision_cfg": {"image_size": 224, "layers": 1, "width": 160, "head_width": 80, "patch_size": 14},
           "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 128, "heads": 2, "layers": 1}}
PROMPTS = ["A cat with two horns on its head", "a \u201cvintage\u201d car", "an oil painting of a harbour"]
SIZES = [(240, 320), (300, 412), (331, 500)]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from open_clip.model import CLIP

    d = tmp_path_factory.mktemp("hps")
    torch.manual_seed(5)
    model = CLIP(**SMALL_H)
    g = torch.Generator().manual_seed(6)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "ln_" in name:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
    path = d / "HPS_v2.1_compressed.pt"
    torch.save({"state_dict": model.state_dict()}, path)
    rng = np.random.default_rng(8)
    files = []
    for i, (h, w) in enumerate(SIZES):
        low = rng.integers(0, 256, size=(h // 16, w // 16, 3), dtype=np.uint8)
        img = np.clip(np.asarray(Image.fromarray(low).resize((w, h), Image.BILINEAR), dtype=np.int16)
                      + rng.integers(-25, 26, size=(h, w, 3)), 0, 255).astype(np.uint8)
        files.append(str(d / f"{i}.png"))
        Image.fromarray(img).save(files[-1])
    return {"model": path, "files": files}


@pytest.fixture(scope="module")
def ours(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the unpinned-digest notice, tested below
        return gm.hpsv2(data["files"], PROMPTS, model=data["model"], device="cpu", progress=False)


@pytest.mark.reference
def test_equals_hpsv2_score(data, ours):
    from open_clip.model import CLIP

    spec = importlib.util.spec_from_file_location("hpsv2_score", REFERENCE)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    model = CLIP(**SMALL_H, output_dict=True).eval()
    model.load_state_dict(torch.load(data["model"], map_location="cpu")["state_dict"])
    tokenizer = open_clip.get_tokenizer("ViT-H-14")
    preprocess = ref.image_transform_val(224)
    want = np.array([ref.score(model, preprocess, tokenizer, f, p)[0] for f, p in zip(data["files"], PROMPTS)])
    assert np.abs(ours.per_sample - want).max() <= 1e-5
    assert abs(ours.value - 100 * want.mean()) <= 1e-3
    assert ours.model_format == "open_clip" and "antialias=True" in ours.preprocessing["resize"]


def test_pil_resize_would_differ(data, ours):
    # HPSv2 resizes the float tensor after ToTensor; OpenAI's Pillow path on the same file differs
    from genmetrics_nb.extractors.clip_model import load_clip
    from genmetrics_nb.metrics.text.pairs import pair_cosines

    clip = load_clip(data["model"], activation="gelu", resize="pil", vision_head_width=80, text_head_width=64,
                     device="cpu")
    cos, _, _ = pair_cosines(data["files"], PROMPTS, clip=clip, metric="test", device="cpu", progress=False)
    assert np.abs(cos - ours.per_sample).max() > 1e-5


def test_result_and_sha256(data, ours):
    assert ours.version == "v2.1" and ours.n == 3 and not ours.sha256_verified
    assert "v2.0 and v2.1" in ours.note and "same prompt" in str(ours)
    assert ours.interval.low <= ours.value <= ours.interval.high
    assert "ftfy" in ours.tokenizer["normalisation"]
    with pytest.warns(UserWarning, match="no digest of HPS v2.1"):
        gm.hpsv2(data["files"][:1], PROMPTS[:1], model=data["model"], device="cpu", progress=False, n_boot=0)
    digest = gm.weights.sha256_file(data["model"])
    r = gm.hpsv2(data["files"][:1], PROMPTS[:1], model=data["model"], expected_sha256=digest, device="cpu",
                 progress=False, n_boot=0)
    assert r.sha256_verified
    with pytest.raises(ValueError, match="has sha256"):
        gm.hpsv2(data["files"][:1], PROMPTS[:1], model=data["model"], expected_sha256="0" * 64, progress=False)
    with pytest.raises(ValueError, match="version must be one of"):
        gm.hpsv2(data["files"][:1], PROMPTS[:1], model=data["model"], version="v3")
