"""CMMD: the Gaussian-kernel MMD of google-research's ``cmmd/distance.py``.

Outside references:

- google-research ``cmmd/distance.py`` ``mmd`` transcribed line by line from
  ``jax.numpy`` to NumPy (``genmetrics_nb.testing.cmmd_reference``), in float64 and in the
  reference's float32;
- the unbiased U-statistic written out as double sums over ``i != j`` with
  SciPy's ``cdist`` (Gretton et al. 2012, eq. 3);
- closed forms for one sample per side and for identical sets;
- end to end on images: open_clip's embeddings of the same random-weight
  OpenAI-format checkpoint, fed to the transcribed reference.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

import genmetrics_nb as gm
from genmetrics_nb.metrics.distribution.cmmd import CMMDResult, mmd_rbf
from genmetrics_nb.testing.cmmd_reference import reference_mmd as _reference_mmd


def _unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def emb():
    # CLIP-like: unit vectors in 768-d, two slightly different distributions
    rng = np.random.default_rng(0)
    centre = rng.normal(size=768)
    x = _unit(rng.normal(size=(230, 768)) + 0.8 * centre)
    y = _unit(rng.normal(size=(170, 768)) + 0.8 * centre + 0.3 * rng.normal(size=768))
    return x, y


@pytest.mark.reference
@pytest.mark.parametrize("block_size", [2048, 64, 7])
def test_biased_is_google_research_mmd(emb, block_size):
    x, y = emb
    ref = _reference_mmd(x, y)
    got = gm.cmmd(x, y, block_size=block_size, progress=False)
    assert isinstance(got, CMMDResult)
    assert got.value == pytest.approx(ref, rel=1e-10)
    assert got.value > 0.1  # clearly different sets (published CMMDs: about 0.1 to 5)
    assert (got.n_real, got.n_fake, got.estimator, got.sigma, got.scale) == (230, 170, "biased", 10.0, 1000.0)


@pytest.mark.reference
def test_float32_reference_agrees_to_its_round_off(emb):
    # the reference runs in float32; its value differs from the exact one by round-off only
    x, y = emb
    ref32 = _reference_mmd(x.astype(np.float32), y.astype(np.float32), dtype=np.float32)
    got = gm.cmmd(x.astype(np.float32), y.astype(np.float32), progress=False).value
    assert abs(got - float(ref32)) < 1e-3 * max(1.0, abs(got))


@pytest.mark.reference
@pytest.mark.parametrize("block_size", [2048, 9])
def test_unbiased_is_the_u_statistic(emb, block_size):
    x, y = emb[0][:60], emb[1][:45]
    k = lambda a, b: np.exp(-cdist(a, b, "sqeuclidean") / (2 * 10.0**2))  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    u = ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
         - 2 * kxy.mean())
    got = gm.cmmd(x, y, estimator="unbiased", block_size=block_size, progress=False)
    assert got.value == pytest.approx(1000 * u, rel=1e-9)
    # the biased one differs by the diagonal terms
    assert gm.cmmd(x, y, progress=False).value != pytest.approx(got.value, rel=1e-3)


@pytest.mark.reference
def test_closed_forms():
    a, b = np.array([[0.6, 0.8, 0.0]]), np.array([[0.0, 0.6, 0.8]])
    d2 = float(((a - b) ** 2).sum())
    # one sample each: 1000 (k(a,a) + k(b,b) - 2 k(a,b))
    assert gm.cmmd(a, b, progress=False).value == pytest.approx(1000 * (2 - 2 * np.exp(-d2 / 200)), rel=1e-12)
    # the bandwidth enters as exp(-d^2 / (2 sigma^2))
    r = gm.cmmd(a, b, sigma=0.5, scale=1.0, progress=False)
    assert r.value == pytest.approx(2 - 2 * np.exp(-d2 / 0.5), rel=1e-12) and r.sigma == 0.5
    # identical sets: the biased estimate is exactly 0
    x = _unit(np.random.default_rng(3).normal(size=(40, 16)))
    assert gm.cmmd(x, x, progress=False).value == pytest.approx(0.0, abs=1e-12)


def test_mmd_rbf_on_tensors_matches_reference(emb):
    x, y = (torch.from_numpy(a) for a in emb)
    assert 1000 * mmd_rbf(x, y, block_size=50) == pytest.approx(_reference_mmd(*emb), rel=1e-10)


@pytest.mark.reference
def test_end_to_end_on_images(tmp_path):
    """Images through the CLIP extractor (reduced random ViT in OpenAI's format) vs open_clip + reference."""
    import warnings

    open_clip = pytest.importorskip("open_clip")
    from PIL import Image

    from genmetrics_nb.extractors.clip import build_extractor
    from genmetrics_nb.testing.clip_checkpoint import write_openai_clip

    path = write_openai_clip(tmp_path / "ViT-small.pt", seed=1)
    ext = build_extractor(device="cpu", weights=path, config=None)
    rng = np.random.default_rng(5)
    real = rng.integers(0, 256, size=(6, 3, 48, 48), dtype=np.uint8)
    fake = np.clip(real[:5].astype(int) + rng.integers(-60, 61, size=(5, 3, 48, 48)), 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = open_clip.load_openai_model(str(path), precision="fp32", device="cpu").eval()
    transform = open_clip.image_transform(336, is_train=False, mean=open_clip.OPENAI_DATASET_MEAN,
                                          std=open_clip.OPENAI_DATASET_STD)

    def peer_embed(images):
        with torch.no_grad():
            x = torch.stack([transform(Image.fromarray(im.transpose(1, 2, 0))) for im in images])
            return model.encode_image(x, normalize=True).double().numpy()

    ref = _reference_mmd(peer_embed(real), peer_embed(fake))
    got = gm.cmmd(real, fake, extractor=ext, device="cpu", batch_size=4, progress=False)
    assert got.value == pytest.approx(ref, rel=1e-5)
    assert got.extractor == "clip-vit-l14-336" and got.output == "embedding"
    assert got.weights_digest == gm.weights.sha256_file(path)
    assert "Pillow BICUBIC" in got.preprocessing["resize"]
    # the unnormalised projection is another (wrong) number, and says so
    with pytest.warns(UserWarning, match="not L2-normalised"):
        wrong = gm.cmmd(real, fake, extractor=ext, output="projection", device="cpu", progress=False)
    assert wrong.value != pytest.approx(got.value, rel=1e-2)


@pytest.mark.reference
def test_folders_of_mixed_sizes_follow_the_reference_pipeline(tmp_path):
    """PNG folders (non-square, mixed sizes) vs cmmd's io_util reading + open_clip's network + mmd."""
    import warnings

    open_clip = pytest.importorskip("open_clip")
    from PIL import Image

    from genmetrics_nb.extractors.clip import build_extractor
    from genmetrics_nb.testing.clip_checkpoint import write_openai_clip

    path = write_openai_clip(tmp_path / "ViT-small.pt", seed=2)
    ext = build_extractor(device="cpu", weights=path, config=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = open_clip.load_openai_model(str(path), precision="fp32", device="cpu").eval()
    rng = np.random.default_rng(9)
    folders = {}
    for side, shapes in (("real", [(60, 90), (90, 60), (50, 50)]), ("fake", [(70, 41), (64, 64), (33, 80)])):
        folder = tmp_path / side
        folder.mkdir()
        for i, (h, w) in enumerate(shapes):
            Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)).save(folder / f"{i}.png")
        folders[side] = folder

    def reference_embed(folder):
        # google-research cmmd/io_util.py: sorted files, centre square crop, PIL bicubic to 336,
        # float32 / 255; scenic normalize_image; CLIP encode_image(normalize=True)
        embs = []
        for f in sorted(folder.glob("*.png")):
            im = Image.open(f)
            im.load()
            w, h = im.size
            side = min(w, h)
            box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
            x = np.asarray(im.crop(box).resize((336, 336), resample=Image.BICUBIC)).astype(np.float32) / 255.0
            x = (x - np.float32([0.48145466, 0.4578275, 0.40821073])) / np.float32([0.26862954, 0.26130258, 0.27577711])
            with torch.no_grad():
                embs.append(model.encode_image(torch.from_numpy(x).permute(2, 0, 1)[None], normalize=True))
        return torch.cat(embs).double().numpy()

    ref = _reference_mmd(reference_embed(folders["real"]), reference_embed(folders["fake"]))
    got = gm.cmmd(str(folders["real"]), str(folders["fake"]), extractor=ext, device="cpu", progress=False)
    assert got.value == pytest.approx(ref, rel=1e-5)
    assert (got.n_real, got.n_fake) == (3, 3)


def test_result_protocol(emb):
    r = gm.cmmd(*emb, progress=False)
    d = r.to_dict()
    assert list(d)[0] == "value" and d["value"] == r.value == float(r)
    assert {"n_real", "n_fake", "estimator", "sigma", "scale", "extractor", "weights_digest"} <= set(d)
    assert str(r).startswith("CMMD = ") and "biased" in str(r) and "given embeddings" in str(r)
    assert "CMMD" in r._repr_html_()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 0.0
    assert gm.cmmd is gm.metrics.distribution.cmmd.cmmd


def test_warns_on_unnormalised_embeddings():
    rng = np.random.default_rng(2)
    with pytest.warns(UserWarning, match="fake embeddings are not L2-normalised"):
        gm.cmmd(_unit(rng.normal(size=(10, 8))), rng.normal(size=(10, 8)) * 3, progress=False)


def test_bad_input(emb):
    x, y = emb
    with pytest.raises(ValueError, match="estimator must be one of 'biased', 'unbiased'"):
        gm.cmmd(x, y, estimator="minimum-variance", progress=False)
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
        gm.cmmd(x, y, sigma=0, progress=False)
    with pytest.raises(TypeError, match="sigma must be a positive number"):
        gm.cmmd(x, y, sigma="10", progress=False)
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        gm.cmmd(x, y, scale=float("nan"), progress=False)
    with pytest.raises(ValueError, match="block_size must be >= 1"):
        gm.cmmd(x, y, block_size=0, progress=False)
    with pytest.raises(ValueError, match="real has 768 features per sample but fake has 767"):
        gm.cmmd(x, y[:, :-1], progress=False)
    with pytest.raises(ValueError, match="fake has 1 samples; this metric needs at least 2"):
        gm.cmmd(x, y[:1], estimator="unbiased", progress=False)
    with pytest.raises(TypeError, match="per-sample features"):
        gm.cmmd(gm.FeatureStats.from_features(torch.from_numpy(x)), y, progress=False)
