"""PSNR, SSIM and MS-SSIM against scikit-image and pytorch-msssim.

References: skimage.metrics.peak_signal_noise_ratio and
skimage.metrics.structural_similarity with gaussian_weights=True, sigma=1.5,
use_sample_covariance=False (scikit-image's documented way to match Wang et
al. 2004); pytorch_msssim.ms_ssim (valid filtering, Wang et al. 2003 weights).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.metrics import structural_similarity as sk_ssim

import genmetrics_nb as gm
from genmetrics_nb.distortions import apply_distortion as _apply_nchw


def apply_distortion(img, kind, strength, *, seed=0):
    """One H x W (x C) image through the N x C x H x W distortions, back in its own layout."""
    hwc = img[..., None] if img.ndim == 2 else img
    out = _apply_nchw(np.ascontiguousarray(hwc.transpose(2, 0, 1)[None]), kind, strength, seed=seed)[0]
    out = out.transpose(1, 2, 0)
    return out[..., 0] if img.ndim == 2 else out

PHOTOS = ("astronaut", "chelsea", "camera")
DISTORTIONS = [("blur", 7), ("noise", 15.0), ("jpeg", 20)]


@pytest.fixture(scope="module")
def photos():
    out = {}
    for name, img in gm.datasets.sample_images(PHOTOS).items():
        out[name] = img[:160, :200]  # keep the test fast; still larger than the window
    return out


def _sk_ssim(x, y, data_range, channel_axis):
    return sk_ssim(
        x, y, data_range=data_range, channel_axis=channel_axis,
        gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    )  # fmt: skip


@pytest.mark.reference
@pytest.mark.parametrize("kind, strength", DISTORTIONS)
@pytest.mark.parametrize("as_float", [False, True])
def test_psnr_ssim_match_skimage_rgb(photos, kind, strength, as_float):
    xs, ys = [], []
    for img in photos.values():
        xs.append(img)
        ys.append(apply_distortion(img, kind, strength, seed=3))
    x, y = np.stack(xs), np.stack(ys)  # N x H x W x 3
    rng = 255
    if as_float:
        x, y, rng = x / 255.0, y / 255.0, 1.0
    p = gm.psnr(x, y, data_range=rng)
    s = gm.ssim(x, y, data_range=rng)
    for i in range(len(xs)):
        assert p.values[i] == pytest.approx(sk_psnr(x[i], y[i], data_range=rng), abs=1e-4)
        assert s.values[i] == pytest.approx(_sk_ssim(x[i], y[i], rng, 2), abs=1e-4)
    assert p.value == pytest.approx(np.mean(p.values))


@pytest.mark.reference
@pytest.mark.parametrize("kind, strength", DISTORTIONS)
def test_psnr_ssim_match_skimage_single_channel(photos, kind, strength):
    img = photos["camera"][..., 0]
    dist = apply_distortion(img, kind, strength, seed=1)
    x, y = img[None, None], dist[None, None]
    assert gm.psnr(x, y, data_range=255).values[0] == pytest.approx(sk_psnr(img, dist, data_range=255), abs=1e-4)
    ref = sk_ssim(img, dist, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert gm.ssim(x, y, data_range=255).values[0] == pytest.approx(ref, abs=1e-4)


@pytest.mark.reference
def test_ms_ssim_matches_pytorch_msssim():
    from pytorch_msssim import ms_ssim as ref_ms_ssim

    img = gm.datasets.sample_images("camera")["camera"][:256, :256, 0]
    dists = [apply_distortion(img, k, s, seed=0) for k, s in DISTORTIONS]
    x = np.stack([img] * 3)[:, None]
    y = np.stack(dists)[:, None]
    ours = gm.ms_ssim(x, y, data_range=255).values
    # pytorch_msssim builds its window in float32; hand it the float64 window
    # so that both compute in float64 and only the algorithm is compared.
    c = torch.arange(11, dtype=torch.float64) - 5
    win = torch.exp(-(c**2) / (2 * 1.5**2))
    win = (win / win.sum()).view(1, 1, 1, 11)
    ref = ref_ms_ssim(
        torch.from_numpy(x).double(), torch.from_numpy(y).double(), data_range=255, size_average=False, win=win
    ).numpy()
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)


@pytest.mark.reference
def test_ms_ssim_single_scale_is_ssim(photos):
    # With one scale of weight 1, MS-SSIM is SSIM by definition.
    x = photos["astronaut"][None]
    y = apply_distortion(photos["astronaut"], "noise", 10.0)[None]
    assert gm.ms_ssim(x, y, data_range=255, weights=(1.0,)).value == pytest.approx(
        gm.ssim(x, y, data_range=255).value, abs=1e-12
    )


def test_identical_images():
    x = np.random.default_rng(0).integers(0, 256, (2, 3, 180, 180), dtype=np.uint8)
    assert np.all(np.isinf(gm.psnr(x, x, data_range=255).values))
    assert gm.ssim(x, x, data_range=255).values.tolist() == [1.0, 1.0]
    assert gm.ms_ssim(x, x, data_range=255).value == pytest.approx(1.0, abs=1e-12)


def test_batch_and_torch_inputs_agree(photos):
    x = np.stack([photos["chelsea"], photos["astronaut"]])
    y = np.stack([apply_distortion(im, "blur", 5) for im in x])
    batched = gm.ssim(x, y, data_range=255).values
    singles = [gm.ssim(x[i : i + 1], y[i : i + 1], data_range=255).values[0] for i in range(2)]
    np.testing.assert_allclose(batched, singles, rtol=0, atol=1e-14)
    t = gm.ssim(torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(y).permute(0, 3, 1, 2), data_range=255)
    np.testing.assert_allclose(t.values, batched, rtol=0, atol=1e-14)


@pytest.mark.parametrize("fn", [gm.psnr, gm.ssim, gm.ms_ssim])
def test_bad_input_names_the_fix(fn):
    x = np.zeros((1, 3, 200, 200), np.uint8)
    with pytest.raises(TypeError, match="data_range"):
        fn(x, x, data_range=None)
    with pytest.raises(ValueError, match="same shape"):
        fn(x, np.zeros((1, 3, 200, 190), np.uint8), data_range=255)
    with pytest.raises(ValueError, match="NaN or Inf"):
        bad = np.zeros((1, 3, 200, 200))
        bad[0, 0, 0, 0] = np.nan
        fn(bad, bad, data_range=1.0)
    with pytest.raises(ValueError, match="more than data_range"):
        fn(x.astype(float) * 0 + np.arange(200.0), x.astype(float), data_range=1.0)
    with pytest.raises(ValueError, match="positive"):
        fn(x, x, data_range=-1)
    with pytest.raises(TypeError, match="dtype"):
        fn(x.astype(np.int64), x.astype(np.int64), data_range=255)


def test_too_small_images_explain():
    x = np.zeros((1, 1, 8, 8), np.uint8)
    with pytest.raises(ValueError, match="at least 11 x 11"):
        gm.ssim(x, x, data_range=255)
    y = np.zeros((1, 1, 100, 100), np.uint8)
    with pytest.raises(ValueError, match="at least 176 x 176"):
        gm.ms_ssim(y, y, data_range=255)


def test_result_prints_and_converts():
    x = np.zeros((2, 1, 20, 20))
    y = np.full((2, 1, 20, 20), 0.1)
    r = gm.psnr(x, y, data_range=1.0)
    assert str(r) == "psnr = 20.0000 dB (mean of 2 image pairs)"  # 10 log10(1 / 0.01) = 20, by hand
    assert float(r) == pytest.approx(20.0) and r.to_dict()["values"] == pytest.approx([20.0, 20.0])


# Data far narrower than data_range ("Never a plausible wrong number", class 2).
@pytest.mark.parametrize("fn", [gm.psnr, gm.ssim, gm.ms_ssim])
def test_unit_data_with_data_range_255_are_refused(fn):
    img = gm.datasets.sample_images(["astronaut"])["astronaut"][:176, :176]
    x = img.transpose(2, 0, 1)[None]
    y = apply_distortion(img, "noise", 15.0).transpose(2, 0, 1)[None]
    x01, y01 = x / 255.0, y / 255.0
    with pytest.raises(ValueError, match=r"(?s)x and y span \[0, 1\], within 3/255 of data_range=255.*data_range=1"
                                         r".*allow_narrow=True"):
        fn(x01, y01, data_range=255)
    with pytest.raises(ValueError, match="allow_narrow"):
        fn(torch.from_numpy(x01), torch.from_numpy(y01), data_range=255)
    right = fn(x01, y01, data_range=1.0).value
    assert right == pytest.approx(fn(x, y, data_range=255).value, rel=1e-9)
    # asserted: computed as asked (scikit-image's number for that data_range)
    forced = fn(x01, y01, data_range=255, allow_narrow=True).value
    if fn is gm.psnr:
        assert right == pytest.approx(sk_psnr(x01, y01, data_range=1.0), rel=1e-9)
        assert forced == pytest.approx(sk_psnr(x01, y01, data_range=255), rel=1e-9)
        assert forced - right == pytest.approx(20 * np.log10(255), rel=1e-9)  # the 48 dB of the issue


def test_psnr_issue_example_and_legitimate_dark_images(photos):
    x = photos["camera"][None].astype(np.float64)
    y = apply_distortion(photos["camera"], "noise", 15.0)[None].astype(np.float64)
    with pytest.raises(ValueError, match="data_range=1"):
        gm.psnr(x / 255, y / 255, data_range=255)
    with pytest.raises(ValueError, match=r"\[-1, 1\] data: pass data_range=2"):
        gm.ssim(x / 127.5 - 1, y / 127.5 - 1, data_range=255)
    dark_x, dark_y = x * 40 / 255, y * 40 / 255  # a dark image at 0..40 of 255 is legitimate
    assert gm.psnr(dark_x, dark_y, data_range=255).value == pytest.approx(
        sk_psnr(dark_x, dark_y, data_range=255), rel=1e-9)
    flat = np.full_like(x, 0.5)  # identical constant images: nothing spans, nothing to refuse
    assert np.isinf(gm.psnr(flat, flat, data_range=255).value)
    with pytest.raises(TypeError, match="allow_narrow must be True or False"):
        gm.psnr(x, y, data_range=255, allow_narrow=1)
