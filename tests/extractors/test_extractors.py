"""Feature extractors: registry, real EfficientNet-Lite0 weights, and equality with peers.

Peer references: pytorch-fid's InceptionV3 and torch-fidelity's
FeatureExtractorInceptionV3 / FeatureExtractorVGG16 / TF1 resize, and
torchvision's own models, all given the same (random, format-exact) weights.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.extractors import efficientnet_lite as eff
from genmetrics_nb.extractors.inception_fid import tf1_bilinear_resize
from genmetrics_nb.testing.weights import install_fake_weights


def _rel(a, b):
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return float((a - b).abs().max() / b.abs().max())


@pytest.fixture(scope="module")
def fake_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("fake-weights")
    return install_fake_weights(["pt_inception-2015-12-05", "inception_v3_google", "vgg16"], home)


@pytest.fixture
def fake(fake_env, monkeypatch):
    for k, v in fake_env.items():
        monkeypatch.setenv(k, v)
    return fake_env


def _photo(name):
    import skimage.data

    return torch.from_numpy(getattr(skimage.data, name)()).permute(2, 0, 1)[None].contiguous()


# ----------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------
def test_registry_lists_builtins():
    names = gm.list_extractors()
    for n in ("efficientnet-lite0", "inception-v3-fid", "inception-v3-torchvision", "vgg16-fc2"):
        assert n in names
    details = {d["name"]: d for d in gm.list_extractors(details=True)}
    assert details["inception-v3-fid"]["weights"] == "pt_inception-2015-12-05"


def test_registry_validates():
    with pytest.raises(ValueError, match="unknown extractor 'nope'.*efficientnet-lite0"):
        gm.get_extractor("nope")
    with pytest.raises(ValueError, match="already registered"):
        gm.register_extractor("efficientnet-lite0", lambda **k: None, outputs=("pool",))
    with pytest.raises(TypeError, match="factory must be callable"):
        gm.register_extractor("my-net-x", 3, outputs=("pool",))
    with pytest.raises(ValueError, match="lower-case"):
        gm.register_extractor("My Net", lambda **k: None, outputs=("pool",))
    with pytest.raises(ValueError, match="outputs must be"):
        gm.register_extractor("my-net-y", lambda **k: None, outputs=())


def test_import_is_light():
    code = (
        "import sys, genmetrics_nb as gm; gm.list_extractors(); import genmetrics_nb.weights;"
        "import genmetrics_nb.features; "
        "assert 'torch' not in sys.modules, 'torch imported at import time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_weights_offline_message(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path))
    monkeypatch.delenv("GENMETRICS_MANIFEST", raising=False)
    monkeypatch.setenv("GENMETRICS_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="weights import pt_inception-2015-12-05"):
        gm.get_extractor("inception-v3-fid", device="cpu")


# ----------------------------------------------------------------------------
# EfficientNet-Lite0 (real weights)
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_efficientnet_lite0_weights_are_real():
    # ImageNet class indices: 285 "Egyptian cat", 967 "espresso" (the
    # standard ILSVRC-2012 index order of the 1000 classes).
    ext = gm.get_extractor("efficientnet-lite0", device="cpu")
    assert int(ext(_photo("chelsea"))["logits"].argmax()) == 285
    assert int(ext(_photo("coffee"))["logits"].argmax()) == 967
    assert ext.outputs == ("pool", "logits")
    assert ext.dims == {"pool": 1280, "logits": 1000}
    assert len(ext.weights_digest) == 64 and ext.spec["input_size"] == [224, 224]


def test_efficientnet_lite0_preprocess_matches_official_normalisation():
    # tensorflow/tpu efficientnet_lite_builder.py: MEAN_RGB = 127, STDDEV_RGB = 128.
    x = torch.tensor([0, 127, 255], dtype=torch.uint8).view(1, 3, 1, 1).expand(1, 3, 224, 224)
    y = eff.efficientnet_lite0_preprocess(x)
    assert y.shape == (1, 3, 224, 224)
    np.testing.assert_allclose(y[0, :, 0, 0].numpy(), [-127 / 128, 0.0, 128 / 128], rtol=1e-7)


def test_efficientnet_lite0_stages_agree_with_package_forward():
    model = eff.load_efficientnet_lite0()
    x = eff.efficientnet_lite0_preprocess(_photo("astronaut"))
    with torch.inference_mode():
        st = eff.efficientnet_lite0_stages(model, x)
        ref_logits = model(x)  # the efficientnet-lite-pytorch package's own forward
        ref_head = model.extract_features(x)
    shapes = {k: tuple(v.shape[1:]) for k, v in st.items()}
    assert shapes == {"s2": (16, 112, 112), "s4": (24, 56, 56), "s8": (40, 28, 28),
                      "s16": (112, 14, 14), "s32": (320, 7, 7), "pool": (1280,), "logits": (1000,)}
    torch.testing.assert_close(st["logits"], ref_logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(st["pool"], ref_head.mean((2, 3)), rtol=1e-5, atol=1e-6)
    only = eff.efficientnet_lite0_stages(model, x, names=["s8"])
    assert list(only) == ["s8"]
    with pytest.raises(ValueError, match="unknown stage"):
        eff.efficientnet_lite0_stages(model, x, names=["s64"])


def test_efficientnet_lite0_extractor_equals_package_model():
    # The extractor runs a batch-norm-folded channels_last copy; the reference
    # is the efficientnet-lite-pytorch model's own forward on the same input.
    ext = gm.get_extractor("efficientnet-lite0", device="cpu")
    model = eff.load_efficientnet_lite0()
    x = _photo("rocket")
    with torch.inference_mode():
        ref = model(eff.efficientnet_lite0_preprocess(x))
    assert _rel(ext(x)["logits"], ref) <= 1e-4


def test_extractor_input_checks():
    ext = gm.get_extractor("efficientnet-lite0", device="cpu")
    with pytest.raises(TypeError, match="uint8"):
        ext(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="N x C x H x W.*channels-last"):
        ext(torch.zeros(1, 32, 32, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="outputs=.*choose from"):
        ext(torch.zeros(1, 3, 32, 32, dtype=torch.uint8), outputs=["pool3"])
    with pytest.raises(ValueError, match="precision='fp16' needs a GPU"):
        ext(torch.zeros(1, 3, 32, 32, dtype=torch.uint8), precision="fp16")


def test_grayscale_is_repeated_to_rgb():
    ext = gm.get_extractor("efficientnet-lite0", device="cpu")
    g = torch.randint(0, 256, (2, 1, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    a = ext(g, outputs="pool")["pool"]
    b = ext(g.expand(-1, 3, -1, -1).contiguous(), outputs="pool")["pool"]
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_bf16_mode_runs_close_to_fp32():
    ext = gm.get_extractor("efficientnet-lite0", device="cpu")
    x = _photo("chelsea")
    a = ext(x)["logits"]
    b = ext(x, precision="bf16")["logits"]
    assert b.dtype == torch.float32 and int(b.argmax()) == int(a.argmax())


# ----------------------------------------------------------------------------
# TF FID Inception vs pytorch-fid and torch-fidelity
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_tf1_resize_matches_torch_fidelity():
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    g = torch.Generator().manual_seed(1)
    for shape, out in [((32, 32), (299, 299)), ((256, 256), (299, 299)), ((17, 45), (299, 299)),
                       ((400, 300), (299, 299)), ((64, 64), (224, 224))]:
        x = torch.rand(2, 3, *shape, generator=g) * 255
        ours = tf1_bilinear_resize(x, out)
        ref = interpolate_bilinear_2d_like_tensorflow1x(x, size=out, align_corners=False)
        assert _rel(ours, ref) <= 1e-5, shape


@pytest.mark.reference
@pytest.mark.slow
def test_inception_fid_matches_pytorch_fid(fake, monkeypatch):
    import pytorch_fid.inception as pfi

    state = gm.weights.load_state_dict("pt_inception-2015-12-05")
    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: state)
    ref_model = pfi.InceptionV3([3], resize_input=False, normalize_input=True).eval()
    ext = gm.get_extractor("inception-v3-fid", device="cpu")
    u = torch.randint(0, 256, (2, 3, 299, 299), generator=torch.Generator().manual_seed(2), dtype=torch.uint8)
    # pytorch-fid expects [0, 1] and applies 2x - 1; feed it the value whose
    # 2x - 1 is the TF graph's (u - 128) / 128.
    with torch.no_grad():
        ref = ref_model(((u.float() - 128) / 128 + 1) / 2)[0].flatten(1)
    ours = ext(u, outputs="pool")["pool"]
    assert ref.abs().max() > 0
    assert _rel(ours, ref) <= 1e-4
    # Same key names as pytorch-fid's fid_inception_v3 (the published format).
    from genmetrics_nb.extractors.inception_fid import build_fid_inception

    assert set(build_fid_inception().state_dict()) == set(pfi.fid_inception_v3().state_dict())


@pytest.mark.reference
@pytest.mark.slow
def test_inception_fid_matches_torch_fidelity_with_resize(fake):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    path = str(gm.weights.path("pt_inception-2015-12-05"))
    ref_model = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048", "logits_unbiased", "logits"], feature_extractor_weights_path=path)
    ext = gm.get_extractor("inception-v3-fid", device="cpu")
    x = torch.randint(0, 256, (3, 3, 32, 32), generator=torch.Generator().manual_seed(3), dtype=torch.uint8)
    with torch.no_grad():
        ref = dict(zip(["pool", "logits_unbiased", "logits"], ref_model(x)))
    ours = ext(x)
    for k in ref:
        assert _rel(ours[k], ref[k]) <= 1e-4, k
    assert ext.spec["input_size"] == [299, 299] and ext.dims["logits"] == 1008


@pytest.mark.reference
@pytest.mark.slow
def test_inception_torchvision_matches_torchvision(fake):
    import torch.nn.functional as F
    import torchvision

    ext = gm.get_extractor("inception-v3-torchvision", device="cpu")
    ref = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False,
                                          transform_input=True)
    ref.load_state_dict(gm.weights.load_state_dict("inception_v3_google"))
    ref.eval()
    pooled = {}
    ref.avgpool.register_forward_hook(lambda m, i, o: pooled.setdefault("pool", o.flatten(1)))
    x = torch.randint(0, 256, (2, 3, 64, 64), generator=torch.Generator().manual_seed(4), dtype=torch.uint8)
    # torchvision's documented input: ImageNet mean/std on [0, 1] images (resized to 299).
    xin = F.interpolate(x.float(), size=(299, 299), mode="bilinear", align_corners=False, antialias=True) / 255
    xin = torchvision.transforms.functional.normalize(xin, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    with torch.no_grad():
        logits = ref(xin)
    ours = ext(x)
    assert _rel(ours["pool"], pooled["pool"]) <= 1e-4
    assert _rel(ours["logits"], logits) <= 1e-4


@pytest.mark.reference
@pytest.mark.slow
def test_vgg16_fc2_matches_torch_fidelity(fake):
    from torch_fidelity.feature_extractor_vgg16 import FeatureExtractorVGG16

    path = str(gm.weights.path("vgg16"))
    ref_model = FeatureExtractorVGG16("vgg16", ["fc2", "fc2_relu"], feature_extractor_weights_path=path)
    ext = gm.get_extractor("vgg16-fc2", device="cpu")
    x = torch.randint(0, 256, (2, 3, 48, 48), generator=torch.Generator().manual_seed(5), dtype=torch.uint8)
    with torch.no_grad():
        fc2, fc2_relu = ref_model(x)
    ours = ext(x)
    assert _rel(ours["fc2"], fc2) <= 1e-4 and _rel(ours["fc2_relu"], fc2_relu) <= 1e-4
    assert ours["fc2_relu"].shape == (2, 4096)


def test_extractor_weights_argument_overrides_default(fake, tmp_path):
    # An explicit file loads without the manager and its digest is reported.
    from genmetrics_nb.weights.manager import sha256_file

    src = gm.weights.path("pt_inception-2015-12-05")
    ext = gm.get_extractor("inception-v3-fid", device="cpu", weights=src)
    assert ext.weights_digest == sha256_file(src)
    assert ext.spec["weights"] == "user file"
