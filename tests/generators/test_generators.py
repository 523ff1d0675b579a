"""The generator protocol, its adapters, and the shipped Fashion-MNIST models."""
from __future__ import annotations

import pickle
import shutil
import sys
import textwrap

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.generators import ModuleGenerator, SmallStyleGAN, StyleGANGenerator, load_stylegan_pickle


def _linear_module():
    g = torch.Generator().manual_seed(0)
    weight = torch.randn(3 * 4 * 4, 8, generator=g)
    return lambda z: torch.tanh(z @ weight.T).view(-1, 3, 4, 4)


def test_module_generator_generate():
    gen = ModuleGenerator(_linear_module(), z_dim=8, value_range=(-1, 1), device="cpu")
    assert (gen.channels, gen.resolution, gen.has_mapping, gen.w_dim) == (3, 4, False, None)
    a = gen.generate(10, seed=3, batch_size=4, progress=False)
    b = gen.generate(10, seed=3, batch_size=10, progress=False)
    assert a.dtype == np.uint8 and a.shape == (10, 3, 4, 4)
    np.testing.assert_array_equal(a, b)  # independent of the batch size
    assert not np.array_equal(a, gen.generate(10, seed=4, progress=False))
    # Rounding as StyleGAN's (x * 127.5 + 128).clamp(0, 255).to(uint8), i.e. round half up.
    z = torch.from_numpy(np.random.default_rng(3).standard_normal((10, 8), dtype=np.float32))
    ref = (gen(z) * 127.5 + 128).clamp(0, 255).to(torch.uint8).numpy()
    assert np.abs(a.astype(int) - ref.astype(int)).max() <= 1


def test_module_generator_errors():
    with pytest.raises(ValueError, match="value_range must be"):
        ModuleGenerator(_linear_module(), z_dim=8, value_range=None)
    with pytest.raises(ValueError, match="z_dim must be"):
        ModuleGenerator(_linear_module(), z_dim=0, value_range=(-1, 1))
    with pytest.raises(ValueError, match="square images"):
        ModuleGenerator(lambda z: z.view(-1, 1, 2, 4), z_dim=8, value_range=(-1, 1), device="cpu")
    gen = ModuleGenerator(_linear_module(), z_dim=8, value_range=(-1, 1), device="cpu")
    with pytest.raises(ValueError, match="psi=1.0"):
        gen.generate(2, psi=0.5)
    with pytest.raises(ValueError, match="n must be"):
        gen.generate(0)


def test_style_generator_truncation_and_w():
    torch.manual_seed(0)  # weights of this throwaway network only
    G = SmallStyleGAN(channels=(8, 8, 8))
    with torch.no_grad():
        G.mapping.w_avg.normal_()
    gen = StyleGANGenerator(G, device="cpu")
    assert (gen.z_dim, gen.w_dim, gen.channels, gen.resolution) == (64, 64, 1, 28)
    z = gen.sample_z(5, rng=np.random.default_rng(0))
    w = gen.mapping(z)
    assert w.shape == (5, G.num_ws, 64)
    assert torch.equal(gen.w_features(w), w[:, -1])
    # psi = 0 maps every latent to the average w: identical images.
    imgs = gen.generate(4, psi=0.0, progress=False)
    assert all(np.array_equal(imgs[0], im) for im in imgs[1:])
    torch.testing.assert_close(gen.mapping(z, psi=0.0)[:, 0], G.mapping.w_avg.expand(5, -1))
    assert gen.G is not G  # a copy: redrawing noise never touches the caller's network


_FAKE_NET = """
import torch


class Mapping(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("w_avg", torch.zeros(4))

    def forward(self, z, c, truncation_psi=1, truncation_cutoff=None, update_emas=False):
        w = self.w_avg.lerp(z * 2, truncation_psi)
        return w.unsqueeze(1).repeat(1, 2, 1)


class Synthesis(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("noise_const", torch.zeros(1, 1, 2, 2))

    def forward(self, ws, noise_mode="random", force_fp32=False):
        assert noise_mode == "const" and force_fp32
        return torch.tanh(ws[:, -1].view(-1, 1, 2, 2) + self.noise_const)


class G(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.z_dim, self.w_dim, self.c_dim, self.img_resolution, self.img_channels = 4, 4, 0, 2, 1
        self.mapping, self.synthesis = Mapping(), Synthesis()
"""


@pytest.fixture
def stylegan_pickle(tmp_path):
    """A network pickle whose classes live in a package, as NVIDIA's live in torch_utils/training."""
    code = tmp_path / "code"
    (code / "fake_training").mkdir(parents=True)
    (code / "fake_training" / "__init__.py").write_text("")
    (code / "fake_training" / "networks.py").write_text(textwrap.dedent(_FAKE_NET))
    sys.path.insert(0, str(code))
    try:
        from fake_training.networks import G

        path = tmp_path / "net.pkl"
        with open(path, "wb") as fh:
            pickle.dump({"G_ema": G(), "D": None}, fh)
    finally:
        sys.path.remove(str(code))
        for name in [m for m in sys.modules if m.startswith("fake_training")]:
            del sys.modules[name]
    yield path, code
    if str(code) in sys.path:
        sys.path.remove(str(code))
    for name in [m for m in sys.modules if m.startswith("fake_training")]:
        del sys.modules[name]


def test_load_stylegan_pickle(stylegan_pickle):
    path, code = stylegan_pickle
    with pytest.raises(ModuleNotFoundError, match="code_dir"):
        load_stylegan_pickle(path, device="cpu")
    gen = load_stylegan_pickle(path, code_dir=code, device="cpu")
    assert gen.name == "net" and (gen.z_dim, gen.resolution, gen.channels) == (4, 2, 1)
    z = torch.ones(3, 4)
    torch.testing.assert_close(gen(z), torch.tanh(2 * z).view(-1, 1, 2, 2))
    torch.testing.assert_close(gen(z, psi=0.5), torch.tanh(z).view(-1, 1, 2, 2))  # w_avg = 0
    gen.randomize_noise(rng=np.random.default_rng(0))
    assert not torch.allclose(gen(z), torch.tanh(2 * z).view(-1, 1, 2, 2))
    with pytest.raises(ValueError, match="key='G'"):
        load_stylegan_pickle(path, code_dir=code, key="G_missing")


def test_check_generator_refuses_plain_modules():
    with pytest.raises(TypeError, match="ModuleGenerator"):
        gm.generators.check_generator(torch.nn.Linear(2, 2))


# -- the shipped models ------------------------------------------------------------------


def test_shipped_checkpoints_are_listed_in_training_order():
    entries = gm.zoo.list_checkpoints("generator")
    iters = [e["iteration"] for e in entries]
    assert len(entries) >= 3 and iters == sorted(iters)
    for e in entries:
        assert e["command"].startswith("genmetrics-nb train-generator") and "--seed" in e["command"]
        assert {"sha256", "train_seconds", "seed"} <= set(e)
        assert (gm.zoo.models_dir() / e["file"]).stat().st_size < 2_000_000
    fids = [e["fid_efficientnet_lite0"]["value"] for e in entries]
    assert fids[-1] < fids[0]  # training improved the generator


def test_recorded_command_reproduces_the_recipe():
    # The manifest's command, parsed by the real CLI, gives the options the checkpoint records.
    from genmetrics_nb.cli import build_parser

    e = gm.zoo.list_checkpoints("generator")[-1]
    args = build_parser().parse_args(e["command"].split()[1:])
    assert args.func.__name__ == "_train_generator"
    assert (args.iterations, args.batch_size, args.lr, args.seed) == (
        e["recipe"]["iterations"], e["recipe"]["batch_size"], e["recipe"]["lr"], e["seed"])
    c = gm.zoo.list_checkpoints("classifier")[-1]
    args = build_parser().parse_args(c["command"].split()[1:])
    assert args.func.__name__ == "_train_classifier" and args.epochs == c["epochs"]


@pytest.mark.slow
def test_training_is_bit_reproducible(tmp_path):
    # Two short runs with the same seed write identical files (the property the manifest relies on).
    a = gm.training.train_generator(tmp_path / "a", iterations=8, snapshots=(8,), progress=False)
    b = gm.training.train_generator(tmp_path / "b", iterations=8, snapshots=(8,), progress=False)
    c = gm.training.train_generator(tmp_path / "c", iterations=8, snapshots=(8,), seed=1, progress=False)
    name = "fmnist-stylegan-it00008"
    assert a[name]["sha256"] == b[name]["sha256"] != c[name]["sha256"]
    gen = gm.zoo.load_generator(name, root=tmp_path / "a", device="cpu")
    assert gen.generate(2, progress=False).shape == (2, 1, 28, 28)


def test_shipped_classifier_accuracy():
    # Outside reference: the Fashion-MNIST test labels.
    x, y, names = gm.datasets.fashion_mnist("test")
    logits = gm.zoo.classifier_logits(x[:1000], device="cpu")
    assert logits.shape == (1000, 10)
    assert (logits.argmax(1) == y[:1000]).mean() > 0.85
    clf = gm.zoo.load_classifier(device="cpu")
    assert clf.attributes == list(names) and clf.kind == "multiclass"


def test_last_checkpoint_makes_recognisable_clothing():
    # The shipped classifier is confident on most samples, and they span most classes.
    gen = gm.zoo.load_generator(device="cpu")
    imgs = gen.generate(200, seed=0, progress=False)
    p = torch.softmax(torch.from_numpy(gm.zoo.classifier_logits(imgs, device="cpu")), 1).numpy()
    assert np.median(p.max(1)) > 0.8
    assert len(np.unique(p.argmax(1))) >= 8


def test_corrupt_checkpoint_is_refused(tmp_path):
    root = tmp_path / "models"
    shutil.copytree(gm.zoo.models_dir(), root)
    e = gm.zoo.list_checkpoints("generator", root=root)[-1]
    raw = bytearray((root / e["file"]).read_bytes())
    raw[-100] ^= 0xFF
    (root / e["file"]).write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupt or stale"):
        gm.zoo.load_generator(e["name"], root=root)
    with pytest.raises(ValueError, match="unknown generator checkpoint"):
        gm.zoo.load_generator("nope", root=root)
    with pytest.raises(FileNotFoundError, match="train-generator"):
        gm.zoo.load_generator(root=tmp_path / "empty")
