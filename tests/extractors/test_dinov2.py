"""DINOv2 extractors (FD_DINOv2): checkpoints, preprocessing and forward pass.

Outside references:

* Pillow itself (``Image.resize(BICUBIC)``) and dgm-eval's literal transform
  (``torchvision.transforms.Resize((224, 224), BICUBIC)`` on a PIL image,
  ``ToTensor``, ``Normalize``), run here on the same images;
* an independent float64 NumPy re-implementation of the official
  ``DinoVisionTransformer`` forward (``genmetrics_nb.testing.dinov2_reference``:
  patch unfolding, PyTorch's bicubic kernel with ``scale_factor = (16 + 0.1) / 37``
  written out by hand, manual LayerNorm / softmax attention / erf-GELU / SwiGLU / LayerScale), fed with
  random weights written in the publisher's file format (key names and
  shapes of ``dinov2_vit*14_pretrain.pth`` as ``dinov2/hub/backbones.py``
  builds them, generated here from that description, not from the package);
* the published byte sizes of the four official checkpoints.
"""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.extractors import dinov2 as dv2
from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.testing.dinov2_reference import (
    MEAN,
    OFFICIAL,
    STD,
    dgm_eval_transform,
    official_shapes,
    random_official_state,
    reference_forward,
)
from genmetrics_nb.weights.manifest import BUILTIN

TOL = 1e-5
# Published sizes in bytes of dl.fbaipublicfiles.com/dinov2/dinov2_vit{s,b,l,g}14/..._pretrain.pth.
PUBLISHED_BYTES = {"s": 88_283_115, "b": 346_378_731, "l": 1_217_586_395, "g": 4_546_108_579}


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


def _images():
    import skimage.data

    rng = np.random.default_rng(5)
    small = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)  # CIFAR-sized: upsampled
    return {
        "astronaut 512x512": skimage.data.astronaut(),
        "chelsea 300x451": skimage.data.chelsea(),
        "random 32x32": small,
        "exact 224x224": skimage.data.astronaut()[100:324, 150:374].copy(),
    }


def _chw(img):
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None]


# ----------------------------------------------------------------------------
# fixtures: a random ViT-S/14 file in the publisher's format
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def s14(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dinov2")
    state = random_official_state("s", seed=1)
    path = folder / "dinov2_vits14_pretrain.pth"
    torch.save(state, path)
    return state, path


@pytest.fixture(scope="module")
def s14_extractor(s14):
    return gm.get_extractor("dinov2-vit-s14", device="cpu", weights=s14[1])


# ----------------------------------------------------------------------------
# preprocessing
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_resize_uses_the_pass_order_of_pillow_12(s14_extractor):
    """Horizontal pass first, rounded to uint8, then vertical: as every Pillow up to 12.x.

    Pillow 13 runs the vertical pass first on images that lose more than twice
    as many rows as columns. The Pillow <= 12 result is rebuilt with the
    installed Pillow as two single-axis resizes (Pillow skips a pass whose size
    does not change, and stores each pass as uint8).
    """
    import torchvision.transforms as TF
    from PIL import Image

    rng = np.random.default_rng(0)
    for h, w in [(568, 64), (400, 300), (300, 451)]:
        img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        two_step = Image.fromarray(img).resize((224, h), Image.BICUBIC).resize((224, 224), Image.BICUBIC)
        ref = TF.Normalize(MEAN, STD)(TF.ToTensor()(two_step)).numpy()
        got = s14_extractor.preprocess(_chw(img))[0].numpy()
        assert np.array_equal(got, ref), (h, w)
    # The order matters on a tall image (the check above can fail):
    tall = rng.integers(0, 256, size=(568, 64, 3), dtype=np.uint8)
    v_first = Image.fromarray(tall).resize((64, 224), Image.BICUBIC).resize((224, 224), Image.BICUBIC)
    assert not np.array_equal(TF.Normalize(MEAN, STD)(TF.ToTensor()(v_first)).numpy(),
                              s14_extractor.preprocess(_chw(tall))[0].numpy())


@pytest.mark.reference
def test_preprocessing_equals_dgm_eval_transform(s14_extractor):
    for name, img in _images().items():
        ref = dgm_eval_transform(img)
        got = s14_extractor.preprocess(_chw(img))[0].numpy()
        assert got.shape == ref.shape == (3, 224, 224)
        assert np.array_equal(got, ref), name  # same float32 operations, same order


# ----------------------------------------------------------------------------
# architecture and checkpoint format
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", sorted(OFFICIAL))
def test_full_size_module_has_the_official_keys_and_matches_published_size(size):
    arch = dv2.ARCHITECTURES[f"dinov2-vit-{size}14"]
    model = dv2.build_dinov2(arch)  # meta device: nothing allocated
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == official_shapes(size)
    # The published file is torch.save of these float32 tensors: 4 bytes per
    # parameter plus a few hundred bytes of zip/pickle records per tensor.
    overhead = PUBLISHED_BYTES[size] - 4 * sum(math.prod(s) for s in got.values())
    assert 0 < overhead < 400 * len(got)
    entry = BUILTIN[arch.weights]
    assert entry.size == PUBLISHED_BYTES[size] and entry.sha256 and len(entry.sha256) == 64
    assert entry.url == (f"https://dl.fbaipublicfiles.com/dinov2/dinov2_vit{size}14/"
                         f"dinov2_vit{size}14_pretrain.pth")
    assert entry.filename == f"dinov2_vit{size}14_pretrain.pth" and entry.license.startswith("Apache-2.0")


def test_wrong_checkpoint_is_refused(tmp_path):
    path = tmp_path / "b.pth"
    torch.save(random_official_state("b", depth=1), path)
    with pytest.raises(ValueError, match="not a dinov2_vits14 checkpoint"):
        dv2.load_dinov2(dv2.ARCHITECTURES["dinov2-vit-s14"], weights=path, depth=1)


# ----------------------------------------------------------------------------
# the forward pass against the independent reference
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_s14_features_match_the_official_forward(s14, s14_extractor):
    state, _ = s14
    for name, img in _images().items():
        got = s14_extractor(_chw(img))["cls"][0].numpy()
        ref = reference_forward(state, dgm_eval_transform(img).astype(np.float64), heads=6)
        assert got.shape == (384,)
        assert _rel(got, ref) <= TOL, name


@pytest.mark.reference
def test_wrong_protocol_details_would_be_caught(s14, s14_extractor):
    """Position-embedding resampling without the 0.1 offset, or a float resize, move the features."""
    state, _ = s14
    img = _images()["astronaut 512x512"]
    got = s14_extractor(_chw(img))["cls"][0].numpy()
    x = dgm_eval_transform(img).astype(np.float64)
    no_offset = reference_forward(state, x, heads=6, pos="size")
    assert _rel(no_offset, got) > 100 * TOL
    # torch's antialiased bicubic on floats instead of Pillow's uint8 resize
    f = torch.nn.functional.interpolate(_chw(img).double() / 255, size=(224, 224), mode="bicubic",
                                        antialias=True, align_corners=False)[0].numpy()
    f = (f - MEAN[:, None, None]) / STD[:, None, None]
    assert _rel(reference_forward(state, f, heads=6), got) > 10 * TOL
    # and the tolerance itself is far above float32 noise: the reference agrees
    assert _rel(reference_forward(state, x, heads=6), got) <= TOL


@pytest.mark.reference
@pytest.mark.parametrize("size", ["b", "l", "g"])
def test_reduced_depth_b_l_g_match_the_official_forward(size, tmp_path):
    """Same code path as the full models (dims, heads, SwiGLU for g/14), one block."""
    state = random_official_state(size, depth=1, seed=2)
    path = tmp_path / f"dinov2_vit{size}14_pretrain.pth"
    torch.save(state, path)
    model, _ = dv2.load_dinov2(dv2.ARCHITECTURES[f"dinov2-vit-{size}14"], weights=path, depth=1)
    img = _images()["chelsea 300x451"]
    x = dv2.dinov2_preprocess(_chw(img).float())
    with torch.inference_mode():
        got = dv2.dinov2_forward(model, x)["cls"][0].numpy()
    ref = reference_forward(state, dgm_eval_transform(img).astype(np.float64), heads=OFFICIAL[size][2])
    assert _rel(got, ref) <= TOL


# ----------------------------------------------------------------------------
# registry, weight manager, FD_DINOv2
# ----------------------------------------------------------------------------
def test_registered_with_cls_output_and_manifest_weights():
    details = {d["name"]: d for d in gm.list_extractors(details=True)}
    for size, (d, *_) in OFFICIAL.items():
        name = f"dinov2-vit-{size}14"
        assert details[name]["outputs"] == ["cls"]
        assert details[name]["weights"] == f"dinov2_vit{size}14_pretrain"
        assert f"cls {d}" in details[name]["description"]


def test_fd_label():
    for size in OFFICIAL:
        assert fd_label(f"dinov2-vit-{size}14") == "FD_DINOv2"
    assert fd_label("inception-v3-fid") == "FID"
    assert fd_label("efficientnet-lite0") == "FD_efficientnet-lite0"
    assert fd_label(None) == "FD"


def test_spec_records_the_protocol(s14, s14_extractor):
    spec = s14_extractor.spec
    assert spec["extractor"] == "dinov2-vit-s14" and spec["outputs"] == {"cls": 384}
    assert spec["input_size"] == [224, 224]
    assert "BICUBIC" in spec["resize"] and "uint8" in spec["resize"] and "no crop" in spec["resize"]
    assert "Pillow <= 12" in spec["resize"]
    assert "scale_factor=(grid + 0.1) / 37" in spec["pos_embed"] and "antialias=False" in spec["pos_embed"]
    assert "x_norm_clstoken" in spec["feature"] and "ImageNet" in spec["normalize"]
    assert spec["weights"] == "user file"
    assert s14_extractor.weights_digest == gm.weights.sha256_file(s14[1])


def test_fid_through_the_weight_manager_is_fd_dinov2(s14, tmp_path, monkeypatch):
    """The default weights resolve through the manifest; gm.fid labels the result FD_DINOv2."""
    import os

    _, path = s14
    home = tmp_path / "home"
    (home / "weights").mkdir(parents=True)
    os.link(path, home / "weights" / "dinov2_vits14_pretrain.pth")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"dinov2_vits14_pretrain": {
        "sha256": gm.weights.sha256_file(path), "size": path.stat().st_size}}))
    monkeypatch.setenv("GENMETRICS_HOME", str(home))
    monkeypatch.setenv("GENMETRICS_MANIFEST", str(manifest))
    monkeypatch.setenv("GENMETRICS_OFFLINE", "1")
    rng = np.random.default_rng(3)
    real = rng.integers(0, 256, size=(5, 3, 32, 32), dtype=np.uint8)
    fake = np.clip(real.astype(int) + rng.integers(-40, 40, size=real.shape), 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 5 samples in 384 dimensions: singular covariances
        res = gm.fid(real, fake, extractor="dinov2-vit-s14", device="cpu", progress=False)
    assert res.name == "FD_DINOv2" and str(res).startswith("FD_DINOv2 = ")
    assert res.extractor == "dinov2-vit-s14" and res.output == "cls"
    assert res.weights_digest == gm.weights.sha256_file(path)
    assert res.preprocessing["pos_embed"].startswith("37x37 -> 16x16")
    # The same number from the extractor's features directly.
    ext = gm.get_extractor("dinov2-vit-s14", device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fr = gm.fid(ext(real)["cls"].numpy(), ext(fake)["cls"].numpy())
    assert res.value == pytest.approx(fr.value, rel=1e-6)


@pytest.mark.gpu
def test_gpu_matches_the_reference(s14):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    state, path = s14
    rng = np.random.default_rng(4)
    x = _chw(rng.integers(0, 256, size=(333, 517, 3), dtype=np.uint8))
    ext = gm.get_extractor("dinov2-vit-s14", device="cuda", weights=path)
    assert torch.equal(ext.preprocess(x).cpu(), dv2.dinov2_preprocess(x.float()))
    img = _images()["astronaut 512x512"]
    got = ext(_chw(img))["cls"][0].cpu().numpy()
    ref = reference_forward(state, dgm_eval_transform(img).astype(np.float64), heads=6)
    assert _rel(got, ref) <= TOL
