"""clean-fid's three resize modes for ``inception-v3-fid`` (``resize=``).

Outside references:

* clean-fid's own resizers (``cleanfid.resize.build_resizer`` /
  ``make_resizer``: PIL on float32 ``'F'`` channels for ``"clean"``, torch
  bilinear for ``"legacy_pytorch"``) and its normalisations
  (``InceptionV3W.forward``: ``(x - 128) / 128``; ``model_fn(x / 255)`` into
  pytorch-fid's ``2x - 1``);
* pytorch-fid's own ``InceptionV3.forward`` resize + normalisation;
* for ``"legacy_tensorflow"``, whose resize clean-fid leaves to NVIDIA's
  torchscript ``inception-2015-12-05.pt`` (not downloadable here), that
  torchscript's published ``affine_grid``/``grid_sample`` TF1 emulation,
  written out in this file (a different algorithm from ours, which follows
  torch-fidelity; torch-fidelity itself is compared in test_extractors.py);
* clean-fid's ``kernel_distance`` for KID;
* clean-fid's whole feature path (``build_feature_extractor`` +
  ``get_files_features`` on PNG files) in each mode, with the network file
  replaced by random weights in pytorch-fid's format (``"legacy_pytorch"``)
  or by a stand-in for the torchscript built on the same random weights
  (``"clean"``, ``"legacy_tensorflow"``). Features decide the FID, so equal
  features mean equal FIDs.

Each protocol check is paired with the wrong variant (other filter, no clip,
requantised, other normalisation, half-pixel grid), which must differ.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import genmetrics_nb as gm
from genmetrics_nb.extractors.inception_fid import fid_inception_preprocess, tf1_bilinear_resize
from genmetrics_nb.extractors.resize import RESIZE_MODES, pil_bicubic_resize, torch_bilinear_resize
from genmetrics_nb.testing.weights import install_fake_weights

cleanfid_resize = pytest.importorskip("cleanfid.resize")

SHAPES = [(32, 32), (64, 64), (256, 256), (37, 45), (400, 320), (299, 299)]


def _uint8(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


def _nchw(img_hwc):
    return torch.from_numpy(img_hwc).permute(2, 0, 1)[None].contiguous()


def _hwc(x):
    return x[0].permute(1, 2, 0).double().numpy()


def _torchscript_tf1_resize(img, size=(299, 299)):
    """The resize of NVIDIA's ``inception-2015-12-05.pt`` (StyleGAN2-ADA metrics), as published:
    "Emulate tf.image.resize_bilinear(x, [299, 299]), including the funky alignment"."""
    batch_size, channels, height, width = img.shape
    new_height, new_width = size
    x = img
    theta = torch.eye(2, 3, device=x.device)
    theta[0, 2] += theta[0, 0] / width - theta[0, 0] / new_width
    theta[1, 2] += theta[1, 1] / height - theta[1, 1] / new_height
    theta = theta.to(x.dtype).unsqueeze(0).repeat([batch_size, 1, 1])
    grid = F.affine_grid(theta, [batch_size, channels, new_height, new_width], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


# ----------------------------------------------------------------------------
# the resizes against clean-fid's
# ----------------------------------------------------------------------------
@pytest.mark.reference
@pytest.mark.parametrize("shape", SHAPES)
def test_clean_mode_matches_clean_fid(shape):
    img = _uint8(shape, 1)
    ref = cleanfid_resize.build_resizer("clean")(img).astype(np.float64)  # HWC float32, 0..255
    assert ref.shape == (299, 299, 3)
    ours = pil_bicubic_resize(_nchw(img).float(), (299, 299))
    assert ours.dtype == torch.float32
    assert np.abs(_hwc(ours) - ref).max() <= 3e-5  # one float32 rounding at 255
    # the network input: clean-fid's InceptionV3W.forward does x - 128, then / 128
    net_in = fid_inception_preprocess(_nchw(img), resize="clean")
    assert np.abs(_hwc(net_in) - (ref - 128) / 128).max() <= 3e-7
    if shape == (299, 299):
        return  # PIL returns a copy: no variant to tell apart
    # wrong variants: another PIL filter, requantised to uint8, no clipping
    bilinear = cleanfid_resize.make_resizer("PIL", False, "bilinear", (299, 299))(img)
    assert np.abs(_hwc(ours) - bilinear).max() > 1.0
    quantised = cleanfid_resize.make_resizer("PIL", True, "bicubic", (299, 299))(img).astype(np.float64)
    assert np.abs(ref - quantised).max() > 0.4
    unclipped = F.interpolate(_nchw(img).double(), size=(299, 299), mode="bicubic", antialias=True)
    assert unclipped.min() < -1 and unclipped.max() > 256  # random pixels overshoot: the clip acts


@pytest.mark.reference
@pytest.mark.parametrize("shape", SHAPES)
def test_legacy_pytorch_mode_matches_clean_fid_and_pytorch_fid(shape):
    import pytorch_fid.inception as pfi

    img = _uint8(shape, 2)
    ref = cleanfid_resize.build_resizer("legacy_pytorch")(img).astype(np.float64)
    ours = torch_bilinear_resize(_nchw(img).float(), (299, 299))
    assert np.abs(_hwc(ours) - ref).max() <= 1e-4
    # clean-fid feeds x / 255 to pytorch-fid's InceptionV3, which applies 2x - 1
    net_in = fid_inception_preprocess(_nchw(img), resize="legacy_pytorch")
    assert np.abs(_hwc(net_in) - (2 * (ref / 255) - 1)).max() <= 1e-6
    # pytorch-fid's own forward (resize_input, normalize_input) on ToTensor's [0, 1] input,
    # its Inception blocks replaced by the identity so that it returns the network input
    pf = pfi.InceptionV3.__new__(pfi.InceptionV3)
    torch.nn.Module.__init__(pf)
    pf.resize_input, pf.normalize_input = True, True
    pf.output_blocks, pf.last_needed_block = [0], 0
    pf.blocks = torch.nn.ModuleList([torch.nn.Identity()])
    pf_in = pf(_nchw(img).float() / 255)[0]
    assert pf_in.shape == (1, 3, 299, 299)
    assert (net_in - pf_in).abs().max() <= 1e-5  # resize before or after / 255: float rounding
    # wrong variant: the TF graph's normalisation (x - 128) / 128
    assert (net_in - (ours - 128) / 128).abs().max() > 1e-3


@pytest.mark.reference
@pytest.mark.parametrize("shape", SHAPES)
def test_legacy_tensorflow_mode_is_the_torchscript_resize(shape):
    img = _uint8(shape, 3)
    # clean-fid resizes nothing itself in this mode: the torchscript does it inside
    assert cleanfid_resize.build_resizer("legacy_tensorflow")(img) is img
    x = _nchw(img).float()
    ref = _torchscript_tf1_resize(x.double())
    ours = fid_inception_preprocess(_nchw(img), resize="legacy_tensorflow")
    # same sample points (dst * in / out, edge repeated) and weights; ours computes the
    # coordinates in float32 as TF does, hence differences of a few 1e-3 grey levels
    assert (ours.double() * 128 + 128 - ref).abs().max() <= 0.02  # 255 x 2 float32 ulps of a coordinate < 512
    assert torch.equal(fid_inception_preprocess(_nchw(img)), ours)  # the default mode
    if shape == (299, 299):
        return
    # wrong variant: half-pixel centres (torch's align_corners=False)
    half_pixel = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    assert (half_pixel.double() - ref).abs().max() > 1.0


def test_modes_give_different_network_inputs():
    x = _nchw(_uint8((32, 32), 4))
    ins = {m: fid_inception_preprocess(x, resize=m) for m in RESIZE_MODES}
    for a in RESIZE_MODES:
        for b in RESIZE_MODES:
            if a < b:
                assert (ins[a] - ins[b]).abs().max() > 0.05, (a, b)


def test_resize_functions_check_input():
    with pytest.raises(ValueError, match="float N x C x H x W"):
        pil_bicubic_resize(torch.zeros(3, 8, 8), (4, 4))
    with pytest.raises(ValueError, match="float N x C x H x W"):
        torch_bilinear_resize(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), (4, 4))
    with pytest.raises(ValueError, match="'clean'"):
        fid_inception_preprocess(torch.zeros(1, 3, 8, 8), resize="bicubic")
    with pytest.raises(TypeError, match="resize must be one of"):
        fid_inception_preprocess(torch.zeros(1, 3, 8, 8), resize=None)
    # 299 in, 299 out: every mode is the identity resize (PIL and torch both return a copy)
    x = torch.rand(1, 3, 299, 299) * 255
    for f in (pil_bicubic_resize, torch_bilinear_resize, tf1_bilinear_resize):
        assert torch.equal(f(x, (299, 299)), x)


# ----------------------------------------------------------------------------
# KID against clean-fid's
# ----------------------------------------------------------------------------
@pytest.mark.reference
def test_kid_matches_clean_fid_kernel_distance():
    from cleanfid.fid import kernel_distance

    rng = np.random.default_rng(5)
    real = np.maximum(rng.normal(size=(260, 32)), 0)
    fake = np.maximum(rng.normal(size=(230, 32)) * 1.1 + 0.05, 0)
    state = np.random.get_state()
    try:
        # clean-fid draws from the global RandomState, the second argument's subset
        # first: called as (fake, real) its subsets are ours (real, then fake, per round)
        np.random.seed(7)
        ref = kernel_distance(fake, real, num_subsets=25, max_subset_size=100)
    finally:
        np.random.set_state(state)
    got = gm.kid(real, fake, subsets=25, subset_size=100, seed=7, progress=False)
    assert got.value == pytest.approx(ref, rel=1e-9)
    assert gm.kid(real, fake, subsets=25, subset_size=100, seed=8, progress=False).value != pytest.approx(ref, rel=1e-6)


# ----------------------------------------------------------------------------
# plumbing: registry, spec, cache key, results
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake_env(tmp_path_factory):
    return install_fake_weights(["pt_inception-2015-12-05"], tmp_path_factory.mktemp("fake-weights"))


@pytest.fixture
def fake(fake_env, monkeypatch):
    for k, v in fake_env.items():
        monkeypatch.setenv(k, v)
    return fake_env


def test_get_extractor_resize_option(fake):
    exts = {m: gm.get_extractor("inception-v3-fid", device="cpu", resize=m) for m in RESIZE_MODES}
    for m, ext in exts.items():
        assert ext.spec["resize_mode"] == m
        assert gm.get_extractor("inception-v3-fid", device="cpu", resize=m) is ext  # built once
        assert gm.get_extractor(ext, resize=m) is ext
    specs = [exts[m].spec for m in RESIZE_MODES]
    assert all(a != b for i, a in enumerate(specs) for b in specs[i + 1:])
    default = gm.get_extractor("inception-v3-fid", device="cpu")
    assert default.spec == exts["legacy_tensorflow"].spec
    with pytest.raises(ValueError, match="'clean', 'legacy_pytorch'"):
        gm.get_extractor("inception-v3-fid", device="cpu", resize="bicubic")
    with pytest.raises(ValueError, match="was built with resize='clean'"):
        gm.get_extractor(exts["clean"], resize="legacy_pytorch")
    with pytest.raises(ValueError, match="has no resize option"):
        gm.get_extractor("efficientnet-lite0", device="cpu", resize="clean")
    with pytest.raises(TypeError, match="resize must be a mode name"):
        gm.get_extractor("inception-v3-fid", device="cpu", resize=["clean"])


def test_feature_cache_key_includes_the_mode(fake, tmp_path):
    x = np.random.default_rng(6).integers(0, 256, (2, 3, 24, 24), dtype=np.uint8)
    opts = dict(cache=tmp_path, progress=False, device="cpu", outputs="pool")
    keys = {}
    for m in RESIZE_MODES:
        ext = gm.get_extractor("inception-v3-fid", device="cpu", resize=m)
        f = gm.extract_features(x, ext, **opts)
        assert f.meta["cache"] == "miss" and f.meta["spec"]["resize_mode"] == m
        keys[m] = f.meta["cache_key"]
        assert gm.extract_features(x, ext, **opts).meta["cache"] == "hit"
    assert len(set(keys.values())) == 3


@pytest.mark.filterwarnings("ignore::genmetrics_nb.metrics.distribution.frechet.SingularCovarianceWarning")
def test_fid_and_kid_record_and_check_the_mode(fake):
    rng = np.random.default_rng(7)
    real = rng.integers(0, 256, (3, 3, 20, 20), dtype=np.uint8)
    fake_imgs = rng.integers(0, 256, (3, 3, 20, 20), dtype=np.uint8)
    opts = dict(device="cpu", progress=False, output="logits")
    r = gm.fid(real, fake_imgs, resize="clean", **opts)
    assert r.preprocessing["resize_mode"] == "clean" and r.name == "FID"
    assert gm.fid(real, fake_imgs, **opts).preprocessing["resize_mode"] == "legacy_tensorflow"
    k = gm.kid(real, fake_imgs, resize="legacy_pytorch", subsets=2, subset_size=3, **opts)
    assert k.preprocessing["resize_mode"] == "legacy_pytorch" and k.to_dict()["extractor"] == "inception-v3-fid"
    # statistics made in one mode are refused under another, and sides of two modes are refused
    st = gm.feature_stats(real, gm.get_extractor("inception-v3-fid", device="cpu", resize="clean"),
                          output="logits", cache=False, progress=False, device="cpu")
    with pytest.raises(ValueError, match="real was computed with resize='clean'"):
        gm.fid(st, fake_imgs, resize="legacy_pytorch", **opts)
    with pytest.raises(ValueError, match="computed differently"):
        gm.fid(st, fake_imgs, **opts)
    assert gm.fid(st, fake_imgs, resize="clean", **opts).value == pytest.approx(r.value, rel=1e-6)
    with pytest.raises(ValueError, match="resize must be one of"):
        gm.fid(st, st, resize="Clean")
    with pytest.raises(ValueError, match="has no resize option"):
        gm.kid(real, fake_imgs, extractor="efficientnet-lite0", resize="clean", subsets=2, subset_size=3,
               device="cpu", progress=False)


@pytest.mark.filterwarnings("ignore::genmetrics_nb.metrics.distribution.frechet.SingularCovarianceWarning")
def test_fid_command_resize_option(fake, tmp_path, capsys):
    """``genmetrics-nb fid --resize MODE`` gives ``gm.fid(..., resize=MODE)``; bad modes are usage errors."""
    from genmetrics_nb.cli import main

    rng = np.random.default_rng(9)
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, rng.integers(0, 256, (4, 3, 20, 20), dtype=np.uint8))
    np.save(b, rng.integers(0, 256, (4, 3, 20, 20), dtype=np.uint8))
    opts = ["--device", "cpu", "--no-progress", "--json", "--output", "logits"]
    import json

    values = {}
    for mode in ("legacy_pytorch", "clean"):
        assert main(["fid", str(a), str(b), "--resize", mode, *opts]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["preprocessing"]["resize_mode"] == mode
        ref = gm.fid(np.load(a), np.load(b), resize=mode, device="cpu", progress=False, output="logits")
        assert out["value"] == pytest.approx(ref.value, rel=1e-9)
        values[mode] = out["value"]
    assert values["clean"] != values["legacy_pytorch"]
    with pytest.raises(SystemExit):
        main(["fid", str(a), str(b), "--resize", "bicubic", *opts])
    assert "invalid choice: 'bicubic'" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# clean-fid's whole feature path, per mode
# ----------------------------------------------------------------------------
class _Pool3(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        from genmetrics_nb.extractors.inception_fid import fid_inception_forward

        return fid_inception_forward(self.net, x, names=("pool",))["pool"][:, :, None, None]


class _TorchscriptStandIn(torch.nn.Module):
    """What clean-fid uses of ``inception-2015-12-05.pt``: ``layers`` (a [-1, 1] 299 x 299
    input -> pool3) and ``forward(img, return_features=True)``, which resizes as published."""

    def __init__(self, net):
        super().__init__()
        self.layers = _Pool3(net)

    def forward(self, img, return_features=False):
        assert return_features
        x = _torchscript_tf1_resize(img.to(torch.float32))
        return self.layers((x - 128) / 128).reshape(-1, 2048)


@pytest.fixture
def png_files(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(8)
    files = []
    for i in range(3):
        p = tmp_path / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).save(p)
        files.append(str(p))
    return files


@pytest.mark.reference
@pytest.mark.filterwarnings("ignore:.*(pretrained|weight enum).*:UserWarning")  # clean-fid's torchvision call
def test_clean_fid_feature_path_in_each_mode(fake, monkeypatch, png_files):
    import cleanfid.inception_pytorch
    import cleanfid.inception_torchscript
    from cleanfid.features import build_feature_extractor
    from cleanfid.fid import get_files_features

    from genmetrics_nb.extractors.inception_fid import load_fid_inception

    path = gm.weights.path("pt_inception-2015-12-05")
    state = torch.load(path, map_location="cpu", weights_only=True)
    # legacy_pytorch: clean-fid's copy of pytorch-fid's InceptionV3 loads this checkpoint
    monkeypatch.setattr(cleanfid.inception_pytorch, "load_state_dict_from_url", lambda *a, **k: state)
    # clean / legacy_tensorflow: the torchscript, replaced by a stand-in on the same weights
    stand_in = _TorchscriptStandIn(load_fid_inception(weights=path)[0])
    monkeypatch.setattr(cleanfid.inception_torchscript, "check_download_inception", lambda **k: None)
    monkeypatch.setattr(cleanfid.inception_torchscript.torch.jit, "load", lambda *a, **k: stand_in)
    cpu = torch.device("cpu")
    ours, ref = {}, {}
    for m in RESIZE_MODES:
        model = build_feature_extractor(m, device=cpu, use_dataparallel=False)
        ref[m] = get_files_features(png_files, model=model, num_workers=0, batch_size=8, device=cpu,
                                    mode=m, verbose=False).astype(np.float64)
        ext = gm.get_extractor("inception-v3-fid", device="cpu", resize=m)
        ours[m] = gm.extract_features(png_files, ext, outputs="pool", cache=False, progress=False,
                                      num_workers=0, device="cpu")["pool"].astype(np.float64)
    for m in RESIZE_MODES:
        assert ref[m].shape == (3, 2048) and np.abs(ref[m]).max() > 0
        scale = np.abs(ref[m]).max()
        assert np.abs(ours[m] - ref[m]).max() / scale <= 1e-5, m  # measured: under 1e-6
        for other in RESIZE_MODES:
            if other != m:  # the test tells the modes apart
                assert np.abs(ours[m] - ref[other]).max() / scale > 1e-2, (m, other)  # measured: 3.6 to 11%
