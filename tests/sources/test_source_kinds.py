"""Every kind of source people hand to an evaluator, each tested with real files of that kind.

The reference throughout is the same images given as an in-memory uint8
array (or, for generators, generated explicitly with generator.generate and
the same seed): a folder, a .zip, a .tar.gz, a guided-diffusion style .npz
(arr_0 N x H x W x 3, arr_1 labels) and an .npy must give exactly the
features of that array, and every metric must accept them.
"""
from __future__ import annotations

import io
import pickle
import tarfile
import textwrap
import zipfile

import numpy as np
import pytest
from PIL import Image

import genmetrics_nb as gm
from genmetrics_nb import sources
from genmetrics_nb.testing.extractors import register_tiny_extractor

register_tiny_extractor("test-tiny")

N = 30
OPTS = dict(extractor="test-tiny", device="cpu", progress=False)
CHECKPOINT = "fmnist-stylegan-it02000"


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))


def _png(img_chw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img_chw.transpose(1, 2, 0)).squeeze()).save(buf, "PNG")
    return buf.getvalue()


def _write_folder(path, x, names=None):
    path.mkdir(parents=True)
    for i, img in enumerate(x):
        (path / (names[i] if names else f"{i:03d}.png")).write_bytes(_png(img))
    return path


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (N, 3, 20, 20), dtype=np.uint8)


@pytest.fixture(scope="module")
def kinds(images, tmp_path_factory):
    """The same 30 images as a folder, a .zip, a .tar.gz, a guided-diffusion .npz and two .npy files."""
    root = tmp_path_factory.mktemp("kinds")
    folder = _write_folder(root / "folder" / "nested", images[:10]).parent
    _write_folder(root / "folder" / "top", images[10:], [f"{i:03d}.png" for i in range(10, N)])
    files = sorted(str(p) for p in folder.rglob("*.png"))
    with zipfile.ZipFile(root / "samples.zip", "w") as zf:
        for f in reversed(files):  # stored out of order: read in name order all the same
            zf.write(f, arcname=str(f)[len(str(folder)) + 1:])
        zf.writestr("README.txt", "not an image")
        zf.writestr("__MACOSX/nested/._000.png", b"resource fork")
    with tarfile.open(root / "samples.tar.gz", "w:gz") as tf:
        tf.add(folder, arcname="samples")
    labels = np.arange(N) % 3
    np.savez(root / "samples.npz", images.transpose(0, 2, 3, 1), labels)  # guided-diffusion layout
    np.save(root / "nhwc.npy", images.transpose(0, 2, 3, 1))
    np.save(root / "nchw.npy", images)
    return {
        "folder": folder, "files": files, "zip": root / "samples.zip", "tar.gz": root / "samples.tar.gz",
        "npz": root / "samples.npz", "npy-nhwc": root / "nhwc.npy", "npy-nchw": root / "nchw.npy",
    }


def _feats(src, **kw):
    return gm.extract_features(src, "test-tiny", device="cpu", progress=False, **{"cache": False, **kw})


# ----------------------------------------------------------------------------
# image files: folders, archives, array files
# ----------------------------------------------------------------------------
def test_every_file_kind_gives_the_features_of_the_array(images, kinds):
    ref = _feats(images, batch_size=8)["feat"]
    for kind, src in kinds.items():
        for workers in ((0, 2) if kind in ("zip", "tar.gz") else (None,)):
            got = _feats(src, batch_size=8, num_workers=workers)
            np.testing.assert_array_equal(got["feat"], ref, err_msg=f"{kind}, {workers} workers")
            assert got.n == N


def test_file_kinds_are_streamed_with_their_own_fingerprint(images, kinds):
    meta = {k: _feats(kinds[k]).meta["source"] for k in ("zip", "tar.gz", "npz", "npy-nhwc")}
    assert meta["zip"]["kind"] == meta["tar.gz"]["kind"] == "archive"
    assert meta["npz"]["kind"] == meta["npy-nhwc"]["kind"] == "stream"
    assert len({m["fingerprint"] for m in meta.values()}) == 4
    first = _feats(kinds["zip"], cache=True)
    again = _feats(kinds["zip"], cache=True)
    assert (first.meta["cache"], again.meta["cache"]) == ("miss", "hit")
    np.testing.assert_array_equal(first["feat"], again["feat"])


def test_archive_and_array_readers(images, kinds):
    from genmetrics_nb.image_sets import ArchiveImages, ArrayFileImages

    zipped = ArchiveImages(kinds["zip"])
    assert len(zipped) == N and zipped.members[0] == "nested/000.png"  # no README, no __MACOSX
    np.testing.assert_array_equal(zipped.load(), images)
    tarred = ArchiveImages(kinds["tar.gz"])
    np.testing.assert_array_equal(np.stack([tarred[i] for i in (29, 0, 5)]), images[[29, 0, 5]])
    arr = ArrayFileImages(kinds["npz"])
    assert arr.layout == "NHWC" and arr.shape == (N, 3, 20, 20) and arr.key == "arr_0"
    np.testing.assert_array_equal(arr.labels, np.arange(N) % 3)
    np.testing.assert_array_equal(arr.read_batch(25, 40), images[25:])  # clipped at the end
    np.testing.assert_array_equal(arr.read_batch(3, 5), images[3:5])  # backwards: seeks
    assert ArrayFileImages(kinds["npy-nchw"]).layout == "NCHW"


def test_tar_stored_out_of_name_order(images, kinds, tmp_path):
    with tarfile.open(tmp_path / "shuffled.tgz", "w:gz") as tf:
        for f in reversed(kinds["files"]):
            tf.add(f, arcname=f[len(str(kinds["folder"])) + 1:])
    with pytest.warns(UserWarning, match=r"out of name order.*tar --sort=name"):
        got = _feats(tmp_path / "shuffled.tgz", num_workers=0)
    np.testing.assert_array_equal(got["feat"], _feats(images)["feat"])  # read in name order all the same


def test_compressed_npz_and_float_npy(images, tmp_path):
    np.savez_compressed(tmp_path / "c.npz", images.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(_feats(tmp_path / "c.npz")["feat"], _feats(images)["feat"])
    np.save(tmp_path / "f.npy", images / 255.0)
    with pytest.raises(TypeError, match="value_range"):
        _feats(tmp_path / "f.npy")
    np.testing.assert_array_equal(_feats(tmp_path / "f.npy", value_range=(0, 1))["feat"], _feats(images)["feat"])


@pytest.mark.parametrize("kind", ["folder", "zip", "tar.gz", "npz", "npy-nhwc"])
def test_fid_and_kid_accept_each_kind(images, kinds, kind):
    other = np.random.default_rng(1).integers(0, 256, (N, 3, 20, 20), dtype=np.uint8)
    src = kinds[kind]
    fid_ref = gm.fid(images, other, output="mean", **OPTS).value
    assert gm.fid(src, other, output="mean", **OPTS).value == fid_ref
    assert gm.fid(str(src), other, output="mean", **OPTS).value == fid_ref
    kid_ref = gm.kid(images, other, subsets=4, subset_size=10, **OPTS).value
    assert gm.kid(src, other, subsets=4, subset_size=10, **OPTS).value == kid_ref


# ----------------------------------------------------------------------------
# labelled sets
# ----------------------------------------------------------------------------
def test_image_folder_labels_class_names_and_streaming(images, tmp_path):
    counts = {"owl": 4, "cat": 2, "dog": 3}
    start = 0
    for cls, n in counts.items():
        _write_folder(tmp_path / "pets" / cls, images[start:start + n])
        start += n
    folder = gm.image_folder(tmp_path / "pets")
    assert folder.class_names == ["cat", "dog", "owl"]
    assert folder.labels.tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2]
    # files class by class: cat (images 4, 5), dog (6..8), owl (0..3)
    order = [4, 5, 6, 7, 8, 0, 1, 2, 3]
    data = folder.load()
    assert isinstance(data, gm.datasets.LabeledImages)
    np.testing.assert_array_equal(data.images, images[order])
    np.testing.assert_array_equal(data.of_class("dog"), images[[6, 7, 8]])
    got = _feats(folder)  # streamed from the files, nothing loaded up front
    assert got.meta["source"]["kind"] == "files"
    np.testing.assert_array_equal(got["feat"], _feats(images[order])["feat"])
    assert gm.fid(folder, images[:9], output="mean", **OPTS).value == pytest.approx(
        gm.fid(images[order], images[:9], output="mean", **OPTS).value, abs=0)


def test_registered_dataset_names_are_sources():
    assert sources.is_dataset_spec("cifar10:train") and not sources.is_dataset_spec("no-such-set:train")
    try:
        data = gm.datasets.load_dataset("fashion-mnist:test")
    except (FileNotFoundError, OSError) as exc:
        pytest.skip(f"Fashion-MNIST not installed: {exc}")
    other = data.images[:500]
    assert gm.fid("fashion-mnist:test", other, output="mean", batch_size=500, **OPTS).value == \
        gm.fid(data.images, other, output="mean", batch_size=500, **OPTS).value


# ----------------------------------------------------------------------------
# generators
# ----------------------------------------------------------------------------
GEN_MODULE = """
import torch
from genmetrics_nb.generators import ModuleGenerator

def _net(scale=1.0, tanh=True):
    torch.manual_seed(0)
    layers = [torch.nn.Linear(8, 3 * 16 * 16)] + ([torch.nn.Tanh()] if tanh else [])
    net = torch.nn.Sequential(*layers, torch.nn.Unflatten(1, (3, 16, 16)))
    return net if scale == 1.0 else torch.nn.Sequential(net, Scale(scale))

class Scale(torch.nn.Module):
    def __init__(self, s):
        super().__init__()
        self.s = s
    def forward(self, x):
        return x * self.s

def make():
    return ModuleGenerator(_net(), z_dim=8, value_range=(-1, 1), device="cpu")

def make_module():
    return _net()

def make_wrong_range():
    # images in [-127.5, 127.5] declared as [0, 1]
    return ModuleGenerator(_net(127.5), z_dim=8, value_range=(0, 1), device="cpu")

def make_nothing():
    return 42

def make_unit_declared_signed():
    # sigmoid images in [0, 1] declared as [-1, 1]
    net = torch.nn.Sequential(_net(tanh=False), torch.nn.Sigmoid())
    return ModuleGenerator(net, z_dim=8, value_range=(-1, 1), device="cpu")
"""


@pytest.fixture
def gen_module(tmp_path, monkeypatch):
    (tmp_path / "mygens").mkdir()
    (tmp_path / "mygens" / "__init__.py").write_text("")
    (tmp_path / "mygens" / "tiny.py").write_text(textwrap.dedent(GEN_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "mygens.tiny"


def test_shipped_checkpoint_name_equals_explicit_generation():
    from genmetrics_nb.zoo.checkpoints import load_generator

    fake = sources.generated(CHECKPOINT, num_images=20, seed=3, batch_size=6, device="cpu")
    explicit = load_generator(CHECKPOINT, device="cpu").generate(20, seed=3, batch_size=6, progress=False)
    got = _feats(fake, batch_size=8)  # extraction batches straddle generation batches
    assert got.meta["source"]["kind"] == "stream" and got.n == 20
    np.testing.assert_array_equal(got["feat"], _feats(explicit, batch_size=8)["feat"])
    np.testing.assert_array_equal(fake.read_batch(13, 17), explicit[13:17])
    np.testing.assert_array_equal(fake.read_batch(0, 3), explicit[:3])  # backwards: from the seed again
    again = sources.generated(CHECKPOINT, num_images=20, seed=3, batch_size=6, device="cpu")
    assert again.fingerprint == fake.fingerprint
    assert sources.generated(CHECKPOINT, num_images=20, seed=4, device="cpu").fingerprint != fake.fingerprint
    assert _feats(again, cache=True).meta["cache"] == "miss"
    assert _feats(again, cache=True).meta["cache"] == "hit"
    assert gm.fid(fake, explicit, output="mean", **OPTS).value == pytest.approx(0, abs=1e-9)


def test_module_callable_equals_explicit_generation(gen_module):
    import importlib

    fake = sources.generated(f"{gen_module}:make", num_images=12, seed=1)
    explicit = importlib.import_module(gen_module).make().generate(12, seed=1, progress=False)
    np.testing.assert_array_equal(_feats(fake, batch_size=5)["feat"], _feats(explicit)["feat"])
    plain = sources.generated(f"{gen_module}:make_module", num_images=12, seed=1, z_dim=8,
                              value_range=(-1, 1), device="cpu")
    np.testing.assert_array_equal(plain.read_batch(0, 12), explicit)
    assert plain.fingerprint == fake.fingerprint  # the same weights, seed and count
    kid = gm.kid(explicit, fake, subsets=2, subset_size=6, **OPTS)
    assert kid.value == pytest.approx(
        gm.kid(explicit, explicit, subsets=2, subset_size=6, **OPTS).value, abs=0)


def test_stylegan_network_pickle(tmp_path):
    from genmetrics_nb.generators import StyleGANGenerator
    from genmetrics_nb.zoo.checkpoints import load_generator

    G = load_generator(CHECKPOINT, device="cpu").G
    with open(tmp_path / "network-snapshot.pkl", "wb") as fh:
        pickle.dump({"G_ema": G}, fh)  # the layout of StyleGAN2-ADA / StyleGAN3 pickles
    fake = sources.generated(str(tmp_path / "network-snapshot.pkl"), num_images=10, seed=2, device="cpu")
    explicit = StyleGANGenerator(G, device="cpu").generate(10, seed=2, progress=False)
    np.testing.assert_array_equal(_feats(fake)["feat"], _feats(explicit)["feat"])


# ----------------------------------------------------------------------------
# bad input: the error names the argument and says the fix
# ----------------------------------------------------------------------------
def test_empty_folder(tmp_path, images):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"real=.*empty.* is a folder with no image files"):
        gm.fid(tmp_path / "empty", images, **OPTS)
    with pytest.raises(ValueError, match=r"fake=.*no image files"):
        gm.kid(images, str(tmp_path / "empty"), **OPTS)


def test_archives_with_no_images(tmp_path, images):
    with zipfile.ZipFile(tmp_path / "docs.zip", "w") as zf:
        zf.writestr("a.txt", "text")
    with tarfile.open(tmp_path / "docs.tgz", "w:gz") as tf:
        info = tarfile.TarInfo("a.txt")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"text"))
    for bad in ("docs.zip", "docs.tgz"):
        with pytest.raises(ValueError, match=r"fake=.*is an archive with no image files .* among its 1 member"):
            gm.fid(images, tmp_path / bad, **OPTS)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(ValueError, match=r"real=.*not a readable .zip archive"):
        gm.kid(str(tmp_path / "broken.zip"), images, **OPTS)


def test_mixed_sizes_need_size(tmp_path, images):
    from genmetrics_nb.image_sets import ArchiveImages

    small = np.zeros((3, 12, 12), np.uint8)
    for cls in ("a", "b"):
        _write_folder(tmp_path / "mixed" / cls, images[:2])
    (tmp_path / "mixed" / "b" / "small.png").write_bytes(_png(small))
    with pytest.raises(ValueError, match=r"different sizes.*pass size=\(H, W\) to image_folder"):
        gm.image_folder(tmp_path / "mixed").load()
    assert gm.image_folder(tmp_path / "mixed", size=16).load().images.shape == (5, 3, 16, 16)
    with zipfile.ZipFile(tmp_path / "mixed.zip", "w") as zf:
        zf.writestr("a.png", _png(images[0]))
        zf.writestr("b.png", _png(small))
    with pytest.raises(ValueError, match=r"different sizes.*pass size="):
        ArchiveImages(tmp_path / "mixed.zip").load()
    # feature extraction resizes each image itself, so it takes mixed sizes as they are
    assert _feats(tmp_path / "mixed.zip").n == 2


def test_image_folder_layout_errors(tmp_path, images):
    _write_folder(tmp_path / "flat", images[:2])
    with pytest.raises(ValueError, match=r"path=.*has no class subfolders.*pass the folder itself"):
        gm.image_folder(tmp_path / "flat")
    (tmp_path / "flat" / "cls").mkdir()
    with pytest.raises(ValueError, match=r"outside the class subfolders"):
        gm.image_folder(tmp_path / "flat")
    (tmp_path / "classes" / "a").mkdir(parents=True)
    _write_folder(tmp_path / "classes" / "b", images[:1])
    with pytest.raises(ValueError, match=r"class folder\(s\) \['a'\] hold no image files"):
        gm.image_folder(tmp_path / "classes")


def test_generator_with_the_wrong_value_range(gen_module, images):
    fake = sources.generated(f"{gen_module}:make_wrong_range", num_images=8)
    with pytest.raises(ValueError, match=r"declares value_range=\(0, 1\) but its first batch of images "
                                         r"lies in \[-1\d\d.*, 1\d\d.*\]"):
        gm.fid(images, fake, **OPTS)


def test_unit_generator_declared_signed_is_refused_unless_asserted(gen_module, images):
    # "Never a plausible wrong number", class 2, for generated sources.
    spec = f"{gen_module}:make_unit_declared_signed"
    with pytest.raises(ValueError, match=r"(?s)declares value_range=\(-1, 1\).*no value below 0.*"
                                         r"value_range=\(0, 1\).*allow_narrow=True"):
        gm.fid(images, sources.generated(spec, num_images=8), **OPTS)
    fake = sources.generated(spec, num_images=8, allow_narrow=True)
    explicit = sources.load_generator_spec(spec).generate(8, seed=0, progress=False)
    np.testing.assert_array_equal(_feats(fake)["feat"], _feats(explicit)["feat"])


@pytest.mark.parametrize("name", ["u.npy", "u.npz"])
def test_narrow_float_array_files_are_refused_unless_asserted(images, tmp_path, name):
    x = images / 255.0
    if name.endswith(".npz"):
        np.savez(tmp_path / name, x.transpose(0, 2, 3, 1))
    else:
        np.save(tmp_path / name, x)
    with pytest.raises(ValueError, match=r"(?s)value_range=\(0, 255\).*\[0, 1\] data.*allow_narrow=True"):
        _feats(tmp_path / name, value_range=(0, 255))
    with pytest.raises(ValueError, match=r"(?s)no value below 0.*allow_narrow=True"):
        _feats(tmp_path / name, value_range=(-1, 1))
    got = _feats(tmp_path / name, value_range=(0, 255), allow_narrow=True)
    np.testing.assert_array_equal(got["feat"], _feats(np.rint(x).astype(np.uint8))["feat"])
    # Metrics that take sources say how to assert it: convert first.
    with pytest.raises(ValueError, match=r"(?s)real=.*\[0, 1\] data.*gm\.load_images\(.*allow_narrow=True"):
        gm.kid(tmp_path / name, images, value_range=(0, 255), subsets=2, subset_size=10, **OPTS)


def test_plain_module_needs_z_dim_and_value_range(gen_module):
    with pytest.raises(ValueError, match=r"plain z -> image module.*pass z_dim= and value_range="):
        sources.generated(f"{gen_module}:make_module", num_images=4)
    with pytest.raises(ValueError, match=r"declares its own .*drop them"):
        sources.generated(f"{gen_module}:make", num_images=4, z_dim=8)
    with pytest.raises(TypeError, match=r"returned \(int\) is no generator"):
        sources.generated(f"{gen_module}:make_nothing", num_images=4)
    with pytest.raises(ValueError, match=r"has no attribute 'missing'"):
        sources.generated(f"{gen_module}:missing", num_images=4)


def test_generator_specs_need_num_images(gen_module, tmp_path, images):
    (tmp_path / "G.pkl").write_bytes(b"")
    specs = [CHECKPOINT, f"{gen_module}:make", str(tmp_path / "G.pkl")]
    for spec in specs:
        assert sources.is_generator_spec(spec)
        with pytest.raises(ValueError, match=r"fake=.* is a generator.*pass "
                                             r"fake=sources\.generated\(.*, num_images=10000"):
            gm.fid(images, spec, **OPTS)
    from genmetrics_nb.zoo.checkpoints import load_generator

    with pytest.raises(ValueError, match=r"real=<StyleGANGenerator> is a generator.*sources\.generated"):
        gm.kid(load_generator(CHECKPOINT, device="cpu"), images, **OPTS)
    with pytest.raises(TypeError, match="num_images"):
        sources.generated(CHECKPOINT, num_images=None)
    with pytest.raises(ValueError, match=r"no such network pickle"):
        gm.fid(images, str(tmp_path / "missing.pkl"), **OPTS)


@pytest.mark.parametrize("spec", ["no-such-thing", "mnist:test", "no_such_module:make"])
def test_unknown_source_strings_list_what_a_source_can_be(spec, images):
    with pytest.raises(ValueError) as err:
        gm.fid(spec, images, **OPTS)
    msg = str(err.value)
    assert msg.startswith(f"real={spec!r} is neither an existing folder or file")
    for kind in (".zip", ".npz", "'arr_0'", "fashion-mnist:test", "image_folder", "sources.generated("):
        assert kind in msg, kind
    with pytest.raises(ValueError, match="names no generator|cannot import"):
        sources.generated(spec, num_images=4)
