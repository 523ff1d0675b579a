"""gm.clip_score against the reference code of each convention, on random weights in each publisher's format.

Outside references:

- Hessel et al.'s ``get_clip_score`` (jmhessel/clipscore ``clipscore.py`` at
  commit 1036465), transcribed in ``tests/reference/hessel_clipscore.py``,
  run with open_clip's ``load_openai_model`` on a random OpenAI-format
  TorchScript file (ViT-B/32's patch and input size, reduced width);
- open_clip's own model (``open_clip.model.CLIP`` loaded from an open_clip
  ``.safetensors`` file) and its ``image_transform`` / ``tokenize``, for both
  towers;
- torchmetrics' functional ``clip_score`` through its callable
  ``model_name_or_path`` hook, on a transformers ``CLIPModel`` saved with
  ``save_pretrained`` and transformers' PIL ``CLIPProcessor``.

Then the "wrong details" that must each change the score: no prefix, clip of
the mean, a dropped end token, transformers' tokenizer on curly quotes, a
tensor resize instead of Pillow's.
"""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.extractors.clip import CLIPVisionConfig
from genmetrics_nb.metrics.text.clip_score import CONVENTIONS, score_from_cosines
from genmetrics_nb.testing import clip_checkpoint as cc

open_clip = pytest.importorskip("open_clip")
Image = pytest.importorskip("PIL.Image")

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "hessel_clipscore.py"
# ViT-B/32's patch and input size (Hessel's code only supports 224), reduced width and depth
B32_SMALL = CLIPVisionConfig(width=128, layers=2, patch_size=32, image_size=224, embed_dim=64)
LONG = "a very long prompt about a red fox jumping over the lazy dog near the river bank " * 6
PROMPTS = ["a photo of a cat", "two dogs playing in the snow", "a red car", "", LONG,
           "\u201cCurly\u201d quotes and an \ufb01ne ligature", "a bowl of fruit", "the night sky"]
# sizes with a resize and odd crop offsets: 300 x 412 is resized to 224 x 307, where
# the torchvision (round(41.5) = 42) and transformers (floor: 41) crops differ by a pixel
SIZES = [(240, 320), (300, 412), (224, 224), (300, 227), (97, 150), (331, 500), (256, 256), (230, 229)]
TOL = 1e-5


def _hessel():
    spec = importlib.util.spec_from_file_location("hessel_clipscore", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _images(seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for h, w in SIZES:
        low = rng.integers(0, 256, size=(max(h // 16, 2), max(w // 16, 2), 3), dtype=np.uint8)
        base = np.asarray(Image.fromarray(low).resize((w, h), Image.BILINEAR), dtype=np.int16)
        out.append(np.clip(base + rng.integers(-25, 26, size=(h, w, 3)), 0, 255).astype(np.uint8))
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("clip_score")
    folder = d / "images"
    folder.mkdir()
    files = []
    for i, img in enumerate(_images()):
        files.append(folder / f"img{i:02d}.png")
        Image.fromarray(img).save(files[-1])
    return {
        "folder": folder, "files": [str(f) for f in files],
        "openai": cc.write_openai_clip(d / "ViT-small.pt", B32_SMALL, seed=11, vocab_size=49408),
        "open_clip": cc.write_open_clip(d / "oc.safetensors", B32_SMALL, seed=12),
        "hf": cc.write_hf_clip(d / "hf", seed=13),
    }


@pytest.fixture(scope="module")
def openai_model(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return open_clip.load_openai_model(str(data["openai"]), precision="fp32", device="cpu").eval()


@pytest.fixture(scope="module")
def hessel_ref(data, openai_model):
    ref = _hessel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the reference's numpy >= 1.21 notice
        mean, per, _ = ref.get_clip_score(openai_model, data["files"], PROMPTS, "cpu")
    return float(mean), np.asarray(per, dtype=np.float64)


@pytest.fixture(scope="module")
def ours(data):
    return gm.clip_score(data["folder"], PROMPTS, model=data["openai"], progress=False, device="cpu")


# ----------------------------------------------------------------------------
# parity
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_equals_hessel_get_clip_score(ours, hessel_ref):
    mean, per = hessel_ref
    assert ours.convention == "hessel2021" and ours.prefix == "A photo depicts "
    assert np.abs(ours.per_sample - per).max() <= TOL
    assert abs(ours.value - mean) <= TOL
    # random weights give cosines of both signs, so the per-sample clip is exercised
    assert (ours.cosine < 0).any() and (ours.cosine > 0).any()
    assert (per == 0).any() and (per > 0).any()


@pytest.mark.reference
def test_files_list_and_array_sources_agree(data, ours):
    # the same images as a list of files; one uint8 array of the square-ish 224 x 224 one
    r = gm.clip_score(data["files"], PROMPTS, model=data["openai"], progress=False, device="cpu", n_boot=0)
    assert np.array_equal(r.per_sample, ours.per_sample)
    img = np.asarray(Image.open(data["files"][2]))[None].transpose(0, 3, 1, 2)
    one = gm.clip_score(img, PROMPTS[2:3], model=data["openai"], progress=False, device="cpu", n_boot=0)
    assert abs(one.per_sample[0] - ours.per_sample[2]) <= 1e-6


@pytest.mark.reference
@pytest.mark.parametrize("convention", ["hessel2021", "cosine", "x100"])
def test_equals_open_clip_both_towers(data, convention):
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    model = CLIP(embed_dim=64, vision_cfg=CLIPVisionCfg(layers=2, width=128, head_width=64, patch_size=32,
                                                          image_size=224),
                 text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=64, heads=1, layers=1),
                 quick_gelu=False).eval()
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(data["open_clip"])), strict=True)
    transform = open_clip.image_transform(224, is_train=False)
    conv = CONVENTIONS[convention]
    with torch.no_grad():
        x = torch.stack([transform(Image.open(f)) for f in data["files"]])
        img = model.encode_image(x, normalize=True).double()
        txt = model.encode_text(open_clip.tokenize([conv.prefix + p for p in PROMPTS]), normalize=True).double()
    cos = (img * txt).sum(1).numpy()
    want = conv.scale * (np.maximum(cos, 0) if conv.clip == "per-sample" else cos)
    r = gm.clip_score(data["folder"], PROMPTS, model=data["open_clip"], activation="gelu", convention=convention,
                      progress=False, device="cpu", n_boot=0)
    assert r.model_format == "open_clip"
    assert np.abs(r.cosine - cos).max() <= TOL
    assert np.abs(r.per_sample - want).max() <= TOL * conv.scale
    assert abs(r.value - want.mean()) <= TOL * conv.scale


class _Unwrap(torch.nn.Module):
    """torchmetrics 1.9.0 expects tensors from get_*_features; transformers 5 returns a
    BaseModelOutputWithPooling. This adapter returns its ``pooler_output``: what
    torchmetrics' merged fix does (Lightning-AI/torchmetrics#3407, PR #3408)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.config = model.config

    def get_image_features(self, *a, **k):
        return self.model.get_image_features(*a, **k).pooler_output

    def get_text_features(self, *a, **k):
        return self.model.get_text_features(*a, **k).pooler_output


def _torchmetrics(data, prompts, images=None, processor=None, per_sample=False):
    """torchmetrics' functional clip_score (clipped mean) or, with ``per_sample``, the per-pair
    ``100 * cos`` its ``_clip_score_update`` computes before the mean and the clip."""
    from torchmetrics.functional.multimodal import clip_score as tm_clip_score
    from torchmetrics.functional.multimodal.clip_score import _clip_score_update
    from transformers import CLIPModel

    model = _Unwrap(CLIPModel.from_pretrained(data["hf"]).eval())
    # transformers 5's from_pretrained gives the torchvision (tensor-resize) image processor;
    # the PIL one is what the openai/clip-vit-* repositories were made with
    processor = processor or cc.hf_clip_processor()
    if images is None:
        images = [torch.from_numpy(np.array(Image.open(f))).permute(2, 0, 1).contiguous() for f in data["files"]]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torchmetrics' "longer than 77" notice
        if per_sample:
            return _clip_score_update(images, prompts, model, processor)[0].double().numpy()
        return float(tm_clip_score(images, prompts, model_name_or_path=lambda: (model, processor)))


@pytest.mark.reference
def test_equals_torchmetrics_within_its_convention(data):
    plain = [p for p in PROMPTS if "\u201c" not in p]  # transformers' tokenizer has no ftfy: see below
    keep = [i for i, p in enumerate(PROMPTS) if "\u201c" not in p]
    files = [data["files"][i] for i in keep]
    ref = _torchmetrics(dict(data, files=files), plain)
    r = gm.clip_score(files, plain, model=data["hf"], convention="torchmetrics", truncation="torchmetrics",
                      progress=False, device="cpu", n_boot=0)
    assert r.model_format == "hf" and r.truncation["n_truncated"] == 1
    assert abs(r.value - ref) <= TOL * 100
    # per pair, before torchmetrics' mean and clip
    per = _torchmetrics(dict(data, files=files), plain, per_sample=True)
    assert np.abs(r.per_sample - per).max() <= TOL * 100
    assert (per < 0).any() and (per > 0).any()


@pytest.mark.reference
def test_equals_torchmetrics_with_first_end_token_pooling(data, tmp_path):
    # a config with eos_token_id = 49407 (transformers pools at the first end token): read from
    # config.json, it matches too
    folder = cc.write_hf_clip(tmp_path / "hf49407", seed=14, eos_token_id=49407)
    sub = dict(data, hf=folder, files=data["files"][3:5])
    prompts = PROMPTS[3:5]  # the empty prompt and the long one
    per = _torchmetrics(sub, prompts, per_sample=True)
    r = gm.clip_score(sub["files"], prompts, model=folder, convention="torchmetrics", truncation="torchmetrics",
                      progress=False, device="cpu", n_boot=0)
    assert np.abs(r.per_sample - per).max() <= TOL * 100
    assert abs(r.value - max(per.mean(), 0.0)) <= TOL * 100


# ----------------------------------------------------------------------------
# wrong details differ
# ----------------------------------------------------------------------------
def test_no_prefix_changes_the_score(data, ours, hessel_ref):
    r = gm.clip_score(data["folder"], PROMPTS, model=data["openai"], prefix="", progress=False, device="cpu",
                      n_boot=0)
    assert abs(r.value - hessel_ref[0]) > 100 * TOL


def test_clip_of_the_mean_changes_the_score(ours, hessel_ref):
    # torchmetrics' max(mean, 0) with Hessel's w on the same cosines
    clipped_mean = 2.5 * max(float(ours.cosine.mean()), 0.0)
    assert abs(clipped_mean - hessel_ref[0]) > 100 * TOL
    assert abs(score_from_cosines(ours.cosine, "torchmetrics")[1] / 40 - clipped_mean) < 1e-12


def test_dropped_end_token_changes_the_score(data, ours, hessel_ref):
    r = gm.clip_score(data["folder"], PROMPTS, model=data["openai"], truncation="torchmetrics", progress=False,
                      device="cpu", n_boot=0)
    i = PROMPTS.index(LONG)
    assert r.truncation["truncated"] == [i] and r.truncation["truncation"] == "torchmetrics"
    assert abs(r.cosine[i] - ours.cosine[i]) > 100 * TOL
    others = [j for j in range(len(PROMPTS)) if j != i]
    assert np.abs(r.cosine[others] - ours.cosine[others]).max() <= 1e-12
    # and torchmetrics itself (which drops it) differs from the end-token-keeping score
    keep = gm.clip_score(data["files"][i:i + 1], [LONG], model=data["hf"], convention="torchmetrics",
                         progress=False, device="cpu", n_boot=0)
    cut = _torchmetrics(dict(data, files=data["files"][i:i + 1]), [LONG], per_sample=True)
    assert abs(keep.per_sample[0] - cut[0]) > 100 * TOL * 100


def test_hf_tokenizer_on_curly_quotes_changes_the_score(data):
    # torchmetrics tokenises with transformers' CLIPTokenizer (no ftfy, no html.unescape)
    i = 5
    assert "\u201c" in PROMPTS[i]
    ours = gm.clip_score(data["files"][i:i + 1], PROMPTS[i:i + 1], model=data["hf"], convention="torchmetrics",
                         progress=False, device="cpu", n_boot=0)
    ref = _torchmetrics(dict(data, files=data["files"][i:i + 1]), PROMPTS[i:i + 1], per_sample=True)
    assert abs(ours.per_sample[0] - ref[0]) > 100 * TOL * 100
    # transformers' normalisation reproduces it
    hf = gm.clip_score(data["files"][i:i + 1], PROMPTS[i:i + 1], model=data["hf"], convention="torchmetrics",
                       normalisation="hf", progress=False, device="cpu", n_boot=0)
    assert abs(hf.per_sample[0] - ref[0]) <= TOL * 100 and "no ftfy" in hf.tokenizer["normalisation"]
    # because the ids differ (the plain prompts above agree with torchmetrics)
    ours_ids, report = gm.clip_tokenize(PROMPTS[i:i + 1])
    hf_ids = cc.hf_clip_tokenizer()(PROMPTS[i])["input_ids"]
    assert hf_ids != ours_ids[0][: report.n_tokens[0]].tolist()


def test_tensor_resize_changes_the_score(data, ours, hessel_ref):
    # torchvision's tensor resize (antialiased bicubic in floats) instead of Pillow's 8-bit bicubic
    import torchvision.transforms.functional as TF

    from genmetrics_nb.extractors.clip import CLIP_MEAN, CLIP_STD
    from genmetrics_nb.extractors.clip_model import load_clip

    clip = load_clip(data["openai"], device="cpu")
    cos = []
    with torch.no_grad():
        for f, p in zip(data["files"], PROMPTS):
            x = torch.from_numpy(np.array(Image.open(f))).permute(2, 0, 1)[None].float() / 255.0
            x = TF.center_crop(TF.resize(x, 224, interpolation=TF.InterpolationMode.BICUBIC, antialias=True), 224)
            x = TF.normalize(x, CLIP_MEAN, CLIP_STD)
            img = clip.image.module(x) @ clip.image.module.proj
            txt = clip.text(gm.clip_tokenize(["A photo depicts " + p])[0])
            cos.append(float(torch.nn.functional.cosine_similarity(img, txt)))
    per, value = score_from_cosines(cos, "hessel2021")
    assert np.abs(np.asarray(cos) - ours.cosine).max() > 10 * TOL
    assert abs(value - hessel_ref[0]) > 10 * TOL


def test_torchvision_image_processor_changes_torchmetrics(data):
    # what CLIPProcessor.from_pretrained gives in transformers 5 (torchvision tensor resize)
    # is not what the PIL processor gives: torchmetrics' number then depends on it
    from transformers import CLIPProcessor

    fast = CLIPProcessor.from_pretrained(data["hf"])
    assert type(fast.image_processor).__name__ == "CLIPImageProcessor"
    keep = [0, 1, 5]  # resized images (240 x 320, 300 x 412, 331 x 500)
    prompts = [PROMPTS[i] for i in keep]
    files = [data["files"][i] for i in keep]
    a = _torchmetrics(dict(data, files=files), prompts, per_sample=True)
    b = _torchmetrics(dict(data, files=files), prompts, processor=fast, per_sample=True)
    assert np.abs(a - b).max() > TOL * 100  # more than the parity tolerance above


def test_crop_rounding_matters_on_some_sizes(data, ours):
    r = gm.clip_score(data["folder"], PROMPTS, model=data["openai"], crop="floor", progress=False, device="cpu",
                      n_boot=0)
    differs = np.abs(r.cosine - ours.cosine) > 1e-7
    assert differs[1] and not differs[2]  # 300 x 412 -> 224 x 307 (offset 41.5); 224 x 224 needs no crop


# ----------------------------------------------------------------------------
# the result and the arguments
# ----------------------------------------------------------------------------
def test_result_records_the_protocol(ours, data):
    d = ours.to_dict()
    assert list(d)[0] == "value" and float(ours) == ours.value
    assert d["convention"] == "hessel2021" and d["scale"] == 2.5 and d["clip"] == "per-sample"
    assert d["model"] == str(data["openai"]) and d["model_format"] == "openai"
    assert d["weights_sha256"] == gm.weights.sha256_file(data["openai"])
    assert d["tokenizer"]["vocab_sha256"].startswith("924691ac") and d["tokenizer"]["truncation"] == "keep-end"
    assert d["truncation"]["n_truncated"] == 1 and d["truncation"]["truncated"] == [PROMPTS.index(LONG)]
    assert d["truncation"]["max_tokens"] > 77
    assert "Pillow BICUBIC" in d["preprocessing"]["resize"] and "round" in d["preprocessing"]["crop"]
    assert "per_sample" not in d and ours.per_sample.shape == (len(PROMPTS),)
    iv = ours.interval
    assert iv.method == "percentile" and iv.low <= ours.value <= iv.high and iv.low < iv.high
    assert str(ours).startswith("CLIPScore = ") and "hessel2021" in str(ours) and "1 prompts truncated" in str(ours)
    assert "<table>" in ours._repr_html_() and "<th>ci_low</th><th>ci_high</th>" in ours._repr_html_()
    assert (ours.ci_low, ours.ci_high) == (iv.low, iv.high)
    with pytest.raises(Exception):
        ours.value = 0.0


def test_named_model_goes_through_the_manifest(tmp_path, monkeypatch, data):
    from genmetrics_nb.testing.weights import register_fake_file

    dest = cc.write_openai_clip(tmp_path / "weights" / "ViT-B-32.pt", B32_SMALL, seed=11, vocab_size=49408)
    for k, v in register_fake_file(tmp_path, "ViT-B-32", dest, seed=11, source="test").items():
        monkeypatch.setenv(k, v)
    r = gm.clip_score(data["folder"], PROMPTS, progress=False, device="cpu", n_boot=0)
    assert r.model == "ViT-B-32" and r.weights_sha256 == gm.weights.sha256_file(dest)
    with pytest.raises(ValueError, match="sha256"):
        gm.clip_score(data["folder"], PROMPTS, model=data["openai"], weights_sha256="0" * 64, progress=False)


def test_bad_input(data):
    kw = dict(model=data["openai"], progress=False, device="cpu", n_boot=0)
    with pytest.raises(ValueError, match="8 images but prompts has 2 prompts"):
        gm.clip_score(data["folder"], ["a", "b"], **kw)
    with pytest.raises(TypeError, match="wrap a single prompt in a list"):
        gm.clip_score(data["folder"], "a cat", **kw)
    with pytest.raises(TypeError, match="prompt 1 is int"):
        gm.clip_score(data["folder"], ["a", 3], **kw)
    with pytest.raises(ValueError, match="convention must be one of"):
        gm.clip_score(data["folder"], PROMPTS, convention="clipscore", **kw)
    with pytest.raises(ValueError, match="truncation must be one of"):
        gm.clip_score(data["folder"], PROMPTS, truncation="drop", **kw)
    with pytest.raises(ValueError, match="neither one of OpenAI's CLIPs"):
        gm.clip_score(data["folder"], PROMPTS, model="ViT-H-14", progress=False)
    with pytest.raises(ValueError, match="more than context_length=77"):
        gm.clip_score(data["folder"], PROMPTS, truncation="error", **kw)
