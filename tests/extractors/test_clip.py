"""CLIP ViT-L/14@336px extractor (CMMD's embedding): format, preprocessing, network.

Outside references:

- Pillow itself for the 8-bit bicubic resize (byte for byte);
- the CMMD reference's preprocessing (google-research ``cmmd/io_util.py``
  ``_center_crop_and_resize`` with Pillow, ``/ 255``, scenic's
  ``normalize_image``) re-written here with Pillow and NumPy;
- open_clip (``open-clip-torch``), loading the same random-weight checkpoint
  written in OpenAI's format (TorchScript archive and plain state dict) with
  its ``load_openai_model`` and preprocessing with its own transforms.

The published ViT-L/14@336px (~300M parameters in the image tower) is too
heavy to run here with random weights, so the network is checked on a
reduced width/depth saved in the same key format through the same loading
code, and the full configuration's keys and shapes against open_clip's.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.extractors import clip
from genmetrics_nb.extractors.pil_resize import pil_bicubic_resize
from genmetrics_nb.testing.clip_checkpoint import (
    install_fake_clip,
    openai_clip_state_dict,
    small_config,
    write_openai_clip,
)

open_clip = pytest.importorskip("open_clip")
Image = pytest.importorskip("PIL.Image")

MEAN = np.array([0.48145466, 0.4578275, 0.40821073])  # scenic IMAGE_MEAN (float64 there)
STD = np.array([0.26862954, 0.26130258, 0.27577711])


def _rel(a, b):
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return float((a - b).abs().max() / b.abs().max())


def _images(shapes, seed=0):
    """Smooth random photos-like uint8 images (H x W x 3) of the given shapes."""
    rng = np.random.default_rng(seed)
    out = []
    for h, w in shapes:
        low = rng.integers(0, 256, size=(max(h // 8, 2), max(w // 8, 2), 3), dtype=np.uint8)
        base = np.asarray(Image.fromarray(low).resize((w, h), Image.BILINEAR), dtype=np.int16)
        noise = rng.integers(-20, 21, size=(h, w, 3))
        out.append(np.clip(base + noise, 0, 255).astype(np.uint8))
    return out


def _embed(module, x):
    """The L2-normalised projection of the class token, from an already preprocessed input."""
    proj = module(x) @ module.proj
    return proj / proj.norm(dim=1, keepdim=True)


def _chw(img):
    return torch.from_numpy(img).permute(2, 0, 1)[None].contiguous()


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip")
    jit = write_openai_clip(folder / "ViT-small.pt", seed=3)
    plain = write_openai_clip(folder / "ViT-small-state.pt", seed=3, torchscript=False)
    return {"jit": jit, "plain": plain}


@pytest.fixture(scope="module")
def ours(ckpt):
    return clip.build_extractor(device="cpu", weights=ckpt["jit"], config=None)


@pytest.fixture(scope="module")
def peer(ckpt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = open_clip.load_openai_model(str(ckpt["jit"]), precision="fp32", device="cpu")
    transform = open_clip.image_transform(336, is_train=False, mean=open_clip.OPENAI_DATASET_MEAN,
                                          std=open_clip.OPENAI_DATASET_STD)
    return model.eval(), transform


# ----------------------------------------------------------------------------
# Pillow's bicubic, byte for byte
# ----------------------------------------------------------------------------
def _pil_order():
    import PIL

    return "pillow13" if int(PIL.__version__.split(".")[0]) >= 13 else "horizontal-first"


@pytest.mark.reference
@pytest.mark.parametrize("backend", ["torch", "auto"])
@pytest.mark.parametrize("shape,size", [
    ((500, 500), (336, 336)), ((1024, 1024), (336, 336)), ((40, 40), (336, 336)),
    ((337, 337), (336, 336)), ((3, 5), (7, 2)), ((300, 200), (150, 250)), ((700, 500), (336, 336)),
])
def test_pil_bicubic_resize_is_pillow(shape, size, backend):
    # backend="torch" is the fixed-point port that runs on GPUs; "auto" calls Pillow on the CPU
    (img,) = _images([shape], seed=shape[0])
    ref = np.asarray(Image.fromarray(img).resize(size[::-1], resample=Image.BICUBIC))
    got = pil_bicubic_resize(_chw(img).float(), size, order=_pil_order(), backend=backend)
    assert got.dtype == torch.float32 and torch.equal(got, got.round())
    assert np.array_equal(got[0].permute(1, 2, 0).numpy().astype(np.uint8), ref)


def test_pillow_pass_order_matters():
    # Pillow 13 runs the vertical pass first when the height shrinks much more than
    # the width; the other order rounds differently (the port must follow Pillow)
    (img,) = _images([(700, 500)], seed=700)
    a = pil_bicubic_resize(_chw(img), (336, 336), order="vertical-first", backend="torch")
    b = pil_bicubic_resize(_chw(img), (336, 336), order="horizontal-first", backend="torch")
    assert float((a - b).abs().max()) >= 1


def test_torch_bicubic_is_not_pillow():
    # the check above can fail: torch's own antialiased bicubic (float, no uint8
    # rounding between passes) differs from Pillow's
    import torch.nn.functional as F

    (img,) = _images([(500, 500)], seed=1)
    ref = np.asarray(Image.fromarray(img).resize((336, 336), resample=Image.BICUBIC)).astype(float)
    alt = F.interpolate(_chw(img).float(), size=(336, 336), mode="bicubic", antialias=True, align_corners=False)
    alt = alt.round().clamp(0, 255)[0].permute(1, 2, 0).numpy()
    assert np.abs(alt - ref).max() >= 1


def test_pil_bicubic_resize_validates():
    with pytest.raises(ValueError, match="integer values 0..255"):
        pil_bicubic_resize(torch.full((1, 3, 4, 4), 0.5), (2, 2))
    with pytest.raises(ValueError, match="order must be one of"):
        pil_bicubic_resize(torch.zeros(1, 3, 4, 4), (2, 2), order="sideways")
    with pytest.raises(ValueError, match="backend must be one of"):
        pil_bicubic_resize(torch.zeros(1, 3, 4, 4), (2, 2), backend="cuda")
    with pytest.raises(ValueError, match="N x C x H x W"):
        pil_bicubic_resize(torch.zeros(3, 4, 4), (2, 2))


# ----------------------------------------------------------------------------
# CMMD's preprocessing
# ----------------------------------------------------------------------------
def _cmmd_reference_preprocess(img):
    """google-research cmmd io_util._read_image(reshape_to=336) / 255, then scenic normalize_image (float32)."""
    im = Image.fromarray(img)
    w, h = im.size
    side = min(w, h)
    top, left = (h - side) // 2, (w - side) // 2
    im = im.crop((left, top, left + side, top + side)).resize((336, 336), resample=Image.BICUBIC)
    x = np.asarray(im).astype(np.float32)[None] / 255.0
    # jax with x64 disabled keeps float32: the float64 constants become float32
    x = (x - MEAN.astype(np.float32)) / STD.astype(np.float32)
    return torch.from_numpy(x).permute(0, 3, 1, 2)


@pytest.mark.reference
@pytest.mark.parametrize("shape", [(400, 600), (601, 333), (336, 336), (32, 32), (337, 338), (336, 500)])
def test_preprocess_is_cmmd_reference(ours, shape):
    (img,) = _images([shape], seed=7)
    got = ours.preprocess(_chw(img))
    assert got.dtype == torch.float32 and got.shape == (1, 3, 336, 336)
    assert torch.equal(got, _cmmd_reference_preprocess(img))


@pytest.mark.reference
def test_preprocess_is_open_clip_on_square_images(ours, peer):
    # OpenAI's transform resizes the short side and crops afterwards; on square
    # images that is CMMD's crop-then-resize, so the two must agree exactly
    _, transform = peer
    for img in _images([(500, 500), (64, 64), (336, 336)], seed=2):
        ref = transform(Image.fromarray(img))[None]
        assert torch.allclose(ours.preprocess(_chw(img)), ref, rtol=0, atol=1e-6)


def test_crop_order_matters_on_non_square_images(ours, peer):
    # OpenAI's resize-then-crop differs from CMMD's crop-then-resize by rounding
    _, transform = peer
    (img,) = _images([(480, 701)], seed=4)
    diff = (ours.preprocess(_chw(img)) - transform(Image.fromarray(img))[None]).abs().max()
    assert float(diff) > 1e-3


def test_grayscale_is_repeated(ours):
    (img,) = _images([(120, 90)], seed=5)
    gray = torch.from_numpy(img[..., :1].copy()).permute(2, 0, 1)[None]
    a = ours(gray)["embedding"]
    b = ours(gray.expand(-1, 3, -1, -1).contiguous())["embedding"]
    assert torch.equal(a, b)


# ----------------------------------------------------------------------------
# the network against open_clip on the same file
# ----------------------------------------------------------------------------
@pytest.mark.reference
@pytest.mark.parametrize("fmt", ["jit", "plain"])
def test_embeddings_match_open_clip(ckpt, peer, fmt):
    model, transform = peer
    ext = clip.build_extractor(device="cpu", weights=ckpt[fmt], config=None)
    imgs = _images([(360, 360), (200, 200), (336, 336)], seed=11)
    with torch.no_grad():
        x = torch.stack([transform(Image.fromarray(i)) for i in imgs])
        ref_emb = model.encode_image(x, normalize=True)
        ref_proj = model.encode_image(x)
    outs = [ext(_chw(i)) for i in imgs]  # one batch per image size
    got = {k: torch.cat([o[k] for o in outs]) for k in outs[0]}
    assert got["embedding"].shape == (3, 64) and got["cls"].shape == (3, 128)
    assert _rel(got["embedding"], ref_emb) <= 1e-5
    assert _rel(got["projection"], ref_proj) <= 1e-5
    assert torch.allclose(got["embedding"].norm(dim=1), torch.ones(3, dtype=torch.float32), atol=1e-6)
    # the embeddings do depend on the image
    assert float((got["embedding"][0] - got["embedding"][1]).abs().max()) > 1e-3


def test_wrong_details_differ(ours, peer):
    import torch.nn.functional as F

    model, transform = peer
    imgs = _images([(500, 500), (500, 500)], seed=12)
    with torch.no_grad():
        ref = model.encode_image(torch.stack([transform(Image.fromarray(i)) for i in imgs]), normalize=True)
        u8 = torch.cat([_chw(i) for i in imgs])
        out = ours(u8)
        # no L2 normalisation
        assert _rel(out["projection"], ref) > 1e-2
        # bilinear (antialiased, float) instead of Pillow's bicubic
        x = F.interpolate(u8.float(), size=(336, 336), mode="bilinear", antialias=True) / 255.0
        x = (x - torch.tensor(clip.CLIP_MEAN).view(1, 3, 1, 1)) / torch.tensor(clip.CLIP_STD).view(1, 3, 1, 1)
        bilinear = _embed(ours.module, x.float())
        assert _rel(bilinear, ref) > 1e-4
        # torch's antialiased bicubic (a=-0.5 too, but in floats, rounded once at the end)
        x = F.interpolate(u8.float(), size=(336, 336), mode="bicubic", antialias=True).round().clamp(0, 255) / 255.0
        x = (x - torch.tensor(clip.CLIP_MEAN).view(1, 3, 1, 1)) / torch.tensor(clip.CLIP_STD).view(1, 3, 1, 1)
        torch_bicubic = _embed(ours.module, x)
        assert _rel(torch_bicubic, ref) > 1e-4
        # ImageNet mean/std instead of CLIP's
        x = ours.preprocess(u8) * torch.tensor(clip.CLIP_STD).view(1, 3, 1, 1)
        x = (x + torch.tensor(clip.CLIP_MEAN).view(1, 3, 1, 1) - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) \
            / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        imagenet = _embed(ours.module, x)
        assert _rel(imagenet, ref) > 1e-3
    assert _rel(out["embedding"], ref) <= 1e-5


# ----------------------------------------------------------------------------
# the full ViT-L/14@336px configuration and the format checks
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_full_config_keys_and_shapes_match_open_clip():
    with torch.device("meta"):
        peer_model = open_clip.create_model("ViT-L-14-336", pretrained=None, device="meta")
        ours_model = clip.build_vision_transformer(clip.VIT_L14_336)
    peer_visual = {f"visual.{k}": tuple(v.shape) for k, v in peer_model.visual.state_dict().items()}
    expected = {k: tuple(v) for k, v in clip.VIT_L14_336.state_dict_shapes().items()}
    assert expected == peer_visual
    assert {f"visual.{k}": tuple(v.shape) for k, v in ours_model.state_dict().items()} == expected
    assert clip.CLIPVisionConfig.from_state_dict(peer_model.state_dict()) == clip.VIT_L14_336
    assert clip.VIT_L14_336.heads == 16 and clip.VIT_L14_336.grid == 24
    assert len(expected) == 8 + 24 * 12


def test_small_file_has_openai_layout(ckpt):
    state = clip.read_openai_checkpoint(ckpt["jit"])
    assert {"input_resolution", "context_length", "vocab_size", "logit_scale", "text_projection"} <= set(state)
    assert state["visual.conv1.weight"].dtype == torch.float16
    assert state["visual.ln_post.weight"].dtype == torch.float32
    assert clip.CLIPVisionConfig.from_state_dict(state) == small_config()
    plain = clip.read_openai_checkpoint(ckpt["plain"])
    assert set(plain) == set(state) and all(torch.equal(plain[k], state[k]) for k in state)


def test_registered_extractor_needs_vit_l14_336(tmp_path, monkeypatch):
    # the registered name goes through the manifest and the weight manager, then
    # refuses a file of another architecture instead of computing something else
    for k, v in install_fake_clip(tmp_path).items():
        monkeypatch.setenv(k, v)
    gm.extractors.clear_cache()
    with pytest.raises(ValueError, match=r"ViT-L/14@336px.*ViT-L-14-336px\.pt"):
        gm.get_extractor("clip-vit-l14-336", device="cpu")
    gm.extractors.clear_cache()


def test_registry_and_manifest_entries():
    info = {d["name"]: d for d in gm.list_extractors(details=True)}["clip-vit-l14-336"]
    assert info["outputs"] == ["embedding", "projection", "cls"] and info["weights"] == "ViT-L-14-336px"
    entry = gm.weights.get_entry("ViT-L-14-336px")
    assert entry.filename == "ViT-L-14-336px.pt"
    # OpenAI puts the sha256 in the URL (clip._download checks it)
    assert entry.url.split("/")[-2] == entry.sha256 and entry.url.endswith("/" + entry.filename)
    assert __import__("genmetrics_nb.features.inputs").features.inputs.default_output("clip-vit-l14-336", info["outputs"]) == "embedding"


def test_spec_records_the_protocol(ours, ckpt):
    spec = ours.spec
    assert spec["input_size"] == [336, 336]
    assert "Pillow BICUBIC" in spec["resize"] and "centre square" in spec["crop"]
    assert "L2 norm" in spec["embedding"]
    assert ours.weights_digest == gm.weights.sha256_file(ckpt["jit"])
    assert ours.dims == {"embedding": 64, "projection": 64, "cls": 128}


def test_bad_files(tmp_path):
    state = openai_clip_state_dict(seed=0)
    resnet = {k: v for k, v in state.items() if not k.startswith("visual.")}
    resnet["visual.layer1.0.conv1.weight"] = torch.zeros(4, 4, 1, 1)
    torch.save(resnet, tmp_path / "rn.pt")
    with pytest.raises(ValueError, match="CLIP ResNet"):
        clip.load_vision_transformer(tmp_path / "rn.pt", config=None)
    broken = dict(state)
    del broken["visual.ln_pre.bias"]
    torch.save(broken, tmp_path / "broken.pt")
    with pytest.raises(ValueError, match=r"missing \['visual.ln_pre.bias'\]"):
        clip.load_vision_transformer(tmp_path / "broken.pt", config=None)
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="no state dict"):
        clip.read_openai_checkpoint(tmp_path / "list.pt")
    torch.save(state, tmp_path / "small.pt")
    with pytest.raises(ValueError, match="'width': 128.*'width': 1024"):
        clip.load_vision_transformer(tmp_path / "small.pt")
