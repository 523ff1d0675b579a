"""LPIPS: equality with the reference ``lpips`` package, the offline baseline, and input checks."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from genmetrics_nb.metrics.pixel import lpips as lp
from genmetrics_nb.metrics.pixel.lpips import LPIPS, lpips, lpips_heads_path


@pytest.fixture
def fake_weights(monkeypatch, tmp_path):
    """Install format-exact random torchvision checkpoints for the weight manager."""
    from genmetrics_nb.testing.weights import install_fake_weights

    def install(names):
        env = install_fake_weights(names, tmp_path / "home")
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        return env

    lp._CACHE.clear()
    yield install
    lp._CACHE.clear()


def _reference(net, version, *, spatial=False, learned=True):
    """``lpips.LPIPS`` with the same (fake) backbone checkpoint our weight manager serves.

    ``pnet_rand=True`` stops the package from downloading ImageNet weights;
    we then copy the torchvision checkpoint into its slices (``sliceK.i`` is
    ``features.i``). With ``pretrained=True`` it loads its own shipped heads.
    """
    import lpips as ref

    from genmetrics_nb import weights

    tv_name = lp.BACKBONES[net]["weights"]
    state = torch.load(weights.path(tv_name), map_location="cpu", weights_only=True)
    model = ref.LPIPS(net=net, version=version, lpips=learned, spatial=spatial, pnet_rand=True, verbose=False)
    mapped = {k: state["features." + k.split(".", 1)[1]] for k in model.net.state_dict()}
    model.net.load_state_dict(mapped)
    return model.eval()


def _pairs(seed=0, n=3, size=64):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    y = (x + 0.3 * torch.randn(n, 3, size, size, generator=g)).clamp(-1, 1)
    return x, y


@pytest.mark.reference
@pytest.mark.parametrize(
    "net, version",
    [("squeeze", "0.1"), ("squeeze", "0.0"), pytest.param("alex", "0.1", marks=pytest.mark.slow)],
)
def test_matches_lpips_package(fake_weights, net, version):
    # Reference: the lpips package (richzhang/PerceptualSimilarity) on the same backbone weights.
    fake_weights([lp.BACKBONES[net]["weights"]])
    x, y = _pairs()
    ours = LPIPS(net, version, device="cpu")(x, y, value_range=(-1, 1))
    with torch.no_grad():
        ref = _reference(net, version)(x, y).reshape(-1).numpy()
    assert ours.metric == f"lpips-{net}-v{version}"
    np.testing.assert_allclose(ours.values, ref, atol=1e-5, rtol=0)


@pytest.mark.reference
@pytest.mark.slow
def test_matches_lpips_package_vgg(fake_weights):
    fake_weights(["vgg16"])
    x, y = _pairs(size=48)
    ours = LPIPS("vgg", device="cpu")(x, y, value_range=(-1, 1))
    with torch.no_grad():
        ref = _reference("vgg", "0.1")(x, y).reshape(-1).numpy()
    np.testing.assert_allclose(ours.values, ref, atol=1e-5, rtol=0)


@pytest.mark.reference
def test_spatial_and_baseline_match_lpips_package(fake_weights):
    # Spatial maps (upsampled per layer) and the un-learned baseline (lpips=False).
    fake_weights(["squeezenet1_1"])
    x, y = _pairs(n=2, size=48)
    ours = LPIPS("squeeze", device="cpu")(x, y, value_range=(-1, 1), spatial=True)
    base = LPIPS("squeeze", learned=False, device="cpu")
    with torch.no_grad():
        ref_sp = _reference("squeeze", "0.1", spatial=True)(x, y)[:, 0].numpy()
        ref_base = _reference("squeeze", "0.1", learned=False)(x, y).reshape(-1).numpy()
    assert ours.shape == (2, 48, 48)
    np.testing.assert_allclose(ours, ref_sp, atol=1e-5, rtol=0)
    np.testing.assert_allclose(base(x, y, value_range=(-1, 1)).values, ref_base, atol=1e-5, rtol=1e-6)
    assert base.name == "baseline-squeeze-v0.1"


def test_value_ranges_are_equivalent(fake_weights):
    # The same images as uint8, [0, 1] and [-1, 1] floats give the same distances.
    fake_weights(["squeezenet1_1"])
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (2, 3, 40, 40), dtype=np.uint8)
    b = rng.integers(0, 256, (2, 3, 40, 40), dtype=np.uint8)
    d = LPIPS("squeeze", device="cpu")
    u8 = d(a, b).values
    unit = d(a / 255.0, b / 255.0, value_range=(0, 1)).values
    sym = d(a / 127.5 - 1, b / 127.5 - 1, value_range=(-1, 1)).values
    np.testing.assert_allclose(unit, u8, rtol=1e-5)
    np.testing.assert_allclose(sym, u8, rtol=1e-5)


def test_float_images_need_a_declared_range(fake_weights):
    fake_weights(["squeezenet1_1"])
    d = LPIPS("squeeze", device="cpu")
    x = np.random.default_rng(0).random((1, 3, 32, 32))
    with pytest.raises(TypeError, match="value_range"):
        d(x, x)
    # [-1, 1] data declared as [0, 1] are caught by the range check; the opposite
    # confusion by the range guard (test_unit_data_declared_as_minus1_1_are_refused).
    with pytest.raises(ValueError, match=r"value_range=\(-1, 1\)"):
        d(x * 2 - 1, x, value_range=(0, 1))
    with pytest.raises(ValueError, match="drop value_range"):
        d(np.zeros((1, 3, 32, 32), np.uint8), np.zeros((1, 3, 32, 32), np.uint8), value_range=(0, 1))


def test_unit_data_declared_as_minus1_1_are_refused(fake_weights):
    # "Never a plausible wrong number", class 2: [0, 1] images with value_range=(-1, 1).
    fake_weights(["squeezenet1_1"])
    d = LPIPS("squeeze", device="cpu")
    rng = np.random.default_rng(0)
    x, y = rng.random((2, 3, 32, 32)), rng.random((2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"(?s)x lie in \[0\.0\d*, 0\.9\d*\] with no value below 0.*"
                                         r"value_range=\(-1, 1\).*value_range=\(0, 1\).*allow_narrow=True"):
        d(x, y, value_range=(-1, 1))
    with pytest.raises(ValueError, match="allow_narrow=True"):
        lpips(torch.from_numpy(x), torch.from_numpy(y), net="squeeze", value_range=(-1, 1), device="cpu")
    with pytest.raises(ValueError, match=r"value_range=\(0, 255\).*value_range=\(0, 1\)"):
        d(x, y, value_range=(0, 255))
    # Asserted with allow_narrow=True: the data are read as declared.
    got = d(x, y, value_range=(-1, 1), allow_narrow=True).values
    ref = d.distance(torch.from_numpy(x).float(), torch.from_numpy(y).float()).double().numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5)  # float32 sums in another order (thread count): noise
    # Read the right way, the same data give a different number.
    assert not np.allclose(d(x, y, value_range=(0, 1)).values, got, rtol=1e-2)


def test_minimum_sizes_follow_the_architectures():
    # The smallest side each backbone's tapped layers accept, found by running the
    # torchvision architectures (on the meta device: shapes only, no weights).
    import torchvision

    for net, spec in lp.BACKBONES.items():
        with torch.device("meta"):
            feats = getattr(torchvision.models, spec["builder"])(weights=None).features
        tapped = torch.nn.Sequential(*[feats[i] for i in range(spec["slices"][-1][1])])
        need = lp.MIN_SIZE[net]
        tapped(torch.zeros(1, 3, need, need, device="meta"))
        with pytest.raises(RuntimeError):
            tapped(torch.zeros(1, 3, need, need - 1, device="meta"))
    assert lp.MIN_SIZE == {"alex": 31, "vgg": 16, "squeeze": 17, "efficientnet-lite0": 32}


@pytest.mark.parametrize("hw", [(1, 1), (8, 8), (16, 16), (17, 16)])
def test_images_too_small_for_the_network_are_refused(fake_weights, hw):
    # "Never a plausible wrong number", class 6: a ValueError naming the minimum, not torch's RuntimeError.
    fake_weights(["squeezenet1_1"])
    d = LPIPS("squeeze", device="cpu")
    a = np.zeros((1, 3, *hw), np.uint8)
    with pytest.raises(ValueError, match=rf"x are {hw[0]} x {hw[1]} pixels.*at least 17 x 17.*resize=17"):
        d(a, a)
    ok = np.zeros((1, 3, 17, 17), np.uint8)
    assert d(ok, ok).values[0] == pytest.approx(0.0, abs=1e-7)
    assert LPIPS("squeeze", resize=32, device="cpu")(a, a).values[0] == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("net, need", [("alex", 31), ("squeeze", 17), ("efficientnet-lite0", 32)])
def test_resize_below_the_minimum_is_refused(net, need, monkeypatch):
    # Refused before any weights are looked for (none are installed here, nothing is downloaded).
    monkeypatch.setenv("GENMETRICS_OFFLINE", "1")
    with pytest.raises(ValueError, match=rf"resize={need - 1} is too small for net='{net}'.*at least {need}"):
        LPIPS(net, resize=need - 1)


@pytest.mark.slow
def test_efficientnet_baseline_properties():
    # Offline: the un-learned baseline on the real ImageNet EfficientNet-Lite0.
    d = LPIPS("efficientnet-lite0", device="cpu")
    assert d.name == "baseline-efficientnet-lite0" and not d.learned
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (1, 3, 64, 64), dtype=np.uint8)
    noise = [np.clip(x + rng.normal(0, s, x.shape), 0, 255).astype(np.uint8) for s in (5, 20, 60)]
    same = d(x, x).values
    dists = [d(x, n).values[0] for n in noise]
    assert same[0] == pytest.approx(0.0, abs=1e-7)
    assert dists[0] < dists[1] < dists[2]  # more noise, larger distance
    np.testing.assert_allclose(d(noise[1], x).values, d(x, noise[1]).values, rtol=1e-5)  # symmetric
    # One reference against several images broadcasts.
    many = d(x, np.concatenate(noise))
    np.testing.assert_allclose(many.values, dists, rtol=1e-5)
    # Grey images are repeated to three channels.
    g = d(x[:, :1], noise[1][:, :1]).values
    g3 = d(np.repeat(x[:, :1], 3, 1), np.repeat(noise[1][:, :1], 3, 1)).values
    np.testing.assert_allclose(g, g3, rtol=1e-6)
    with pytest.raises(ValueError, match="resize=64"):
        d(x[..., :28, :28], x[..., :28, :28])


def test_lpips_function_caches_the_network(fake_weights):
    fake_weights(["squeezenet1_1"])
    a = np.zeros((1, 3, 32, 32), np.uint8)
    r = lpips(a, a, net="squeeze", device="cpu")
    assert r.metric == "lpips-squeeze-v0.1" and r.values[0] == pytest.approx(0.0, abs=1e-7)
    assert len(lp._CACHE) == 1
    lpips(a, a, net="squeeze", device="cpu")
    assert len(lp._CACHE) == 1


def test_heads_come_from_the_lpips_package():
    # The files the lpips package ships, read without importing it.
    path = lpips_heads_path("alex", "0.1")
    assert path.is_file() and path.parent.name == "v0.1"
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert set(state) == {f"lin{i}.model.1.weight" for i in range(5)}


def test_missing_lpips_package_says_how_to_fix(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "lpips" else real(name, *a))
    with pytest.raises(FileNotFoundError, match="pip install lpips"):
        lpips_heads_path("alex")


def test_missing_backbone_offline_names_the_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path))
    monkeypatch.setenv("GENMETRICS_OFFLINE", "1")
    monkeypatch.delenv("GENMETRICS_MANIFEST", raising=False)
    with pytest.raises(FileNotFoundError, match="alexnet"):
        LPIPS("alex", device="cpu")


def test_bad_arguments(fake_weights, tmp_path):
    with pytest.raises(ValueError, match="net must be one of"):
        LPIPS("resnet")
    with pytest.raises(ValueError, match="version must be"):
        LPIPS("alex", "0.2")
    with pytest.raises(ValueError, match="leave version='0.1'"):
        LPIPS("efficientnet-lite0", "0.0")
    with pytest.raises(ValueError, match="no learned LPIPS heads"):
        LPIPS("efficientnet-lite0", learned=True)
    with pytest.raises(ValueError, match="resize must be"):
        LPIPS("efficientnet-lite0", resize=8)
    fake_weights(["squeezenet1_1"])
    bad = tmp_path / "heads.pth"
    torch.save({"lin0.model.1.weight": torch.zeros(1, 3, 1, 1)}, bad)
    with pytest.raises(ValueError, match="not an LPIPS head file"):
        LPIPS("squeeze", heads=bad, device="cpu")
    d = LPIPS("squeeze", device="cpu")
    a = np.zeros((2, 3, 32, 32), np.uint8)
    with pytest.raises(ValueError, match="same channels and size"):
        d(a, a[..., :16])
    with pytest.raises(ValueError, match="3 images and y has 2"):
        d(np.zeros((3, 3, 32, 32), np.uint8), a)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        d(np.zeros((2, 4, 32, 32), np.uint8), np.zeros((2, 4, 32, 32), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        d(a.astype(np.int32), a.astype(np.int32))


class _FakeDistance:
    """A stand-in perceptual distance: ``sign * PSNR`` of each pair (no network)."""

    def __init__(self, sign):
        self.sign, self.name = sign, f"fake{sign:+d}"

    def __call__(self, x, y):
        from genmetrics_nb.metrics.pixel.psnr import psnr

        v = self.sign * psnr(np.repeat(x, len(y), 0), y, data_range=255).values
        return type("Score", (), {"values": v})()


def test_find_disagreement():
    from genmetrics_nb.experiments.lpips import find_disagreement

    img = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    # A "distance" that grows with PSNR disagrees with PSNR on every pair.
    afc = find_disagreement(img, distance=_FakeDistance(+1))
    assert afc.prefers["psnr"] != afc.prefers["fake+1"]
    assert afc.scores["psnr"][afc.prefers["psnr"]] >= afc.scores["psnr"][1 - afc.prefers["psnr"]] + 1.0
    assert afc.x0.shape == img.shape and afc.labels[0].split()[0] != afc.labels[1].split()[0]
    # One that falls with PSNR always agrees: no triplet exists.
    with pytest.raises(ValueError, match="agree on every candidate pair"):
        find_disagreement(img, distance=_FakeDistance(-1))


def test_rank_agreement():
    # Reference: scipy.stats.spearmanr on hand-made columns.
    import pandas as pd
    from scipy.stats import spearmanr

    from genmetrics_nb.experiments.lpips import rank_agreement

    t = pd.DataFrame({"distortion": ["blur"] * 4 + ["noise"] * 4, "image": ["a"] * 8,
                      "strength": [1, 3, 5, 7, 0, 5, 10, 20],
                      "psnr": [np.inf, 30.0, 25.0, 20.0, np.inf, 35.0, 28.0, 22.0],
                      "ssim": [1.0, 0.9, 0.7, 0.5, 1.0, 0.8, 0.85, 0.6],
                      "d": [0.0, 0.1, 0.2, 0.3, 0.0, 0.2, 0.1, 0.4]})
    sweep = type("Sweep", (), {"table": t})()
    r = rank_agreement(sweep, metric="d")
    assert r["blur"]["psnr"] == pytest.approx(-1.0)
    assert r["noise"]["ssim"] == pytest.approx(spearmanr(t["d"][4:], t["ssim"][4:]).statistic)
    with pytest.raises(ValueError, match="not a column"):
        rank_agreement(sweep, metric="lpips")


@pytest.mark.gpu
def test_cuda_matches_cpu():
    x = np.random.default_rng(0).integers(0, 256, (2, 3, 64, 64), dtype=np.uint8)
    y = np.random.default_rng(1).integers(0, 256, (2, 3, 64, 64), dtype=np.uint8)
    cpu = LPIPS("efficientnet-lite0", device="cpu")(x, y).values
    gpu = LPIPS("efficientnet-lite0", device="cuda")(x, y).values
    np.testing.assert_allclose(gpu, cpu, rtol=1e-3)
