"""The image contract: load_images, value ranges, rounding, bad files."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import genmetrics_nb as gm
from genmetrics_nb.images import as_uint8


def _save(path, arr, mode=None):
    Image.fromarray(arr, mode=mode).save(path)
    return path


def test_float_conversion_rounds_not_truncates(rng):
    u8 = rng.integers(0, 256, (4, 3, 5, 5), dtype=np.uint8)
    # u8 / 255 is not exactly representable; truncation would turn many
    # values into v - 1. Rounding gives back the original exactly.
    assert np.array_equal(gm.load_images(u8 / 255.0, value_range=(0, 1)), u8)
    assert np.array_equal(gm.load_images(u8 / 127.5 - 1, value_range=(-1, 1)), u8)
    t = torch.from_numpy(u8).float() / 255
    assert torch.equal(gm.load_images(t, value_range=(0, 1)), torch.from_numpy(u8))


def test_channels_last_and_grayscale_expansion(rng):
    hwc = rng.integers(0, 256, (2, 6, 7, 3), dtype=np.uint8)
    out = gm.load_images(hwc)
    assert out.shape == (2, 3, 6, 7)
    assert np.array_equal(out, hwc.transpose(0, 3, 1, 2))
    gray = rng.integers(0, 256, (2, 1, 6, 7), dtype=np.uint8)
    assert gm.load_images(gray).shape == (2, 1, 6, 7)
    rgb = gm.load_images(gray, channels=3)
    assert rgb.shape == (2, 3, 6, 7) and np.array_equal(rgb[:, 2], gray[:, 0])


@pytest.mark.parametrize(
    "value, declared, match",
    [
        (np.full((1, 3, 4, 4), 200.0), (0, 1), r"value_range=\(0, 255\)"),
        (np.full((1, 3, 4, 4), 0.5), (0, 255), None),
        (np.full((1, 3, 4, 4), -0.5), (0, 1), r"value_range=\(-1, 1\)"),
    ],
)
def test_out_of_range_names_the_fix(value, declared, match):
    if match is None:  # 0.5 is inside [0, 255]: fine, no error
        gm.load_images(value, value_range=declared)
        return
    with pytest.raises(ValueError, match=match):
        gm.load_images(value, value_range=declared)


def test_float_without_range_and_bad_dtypes():
    with pytest.raises(TypeError, match="value_range"):
        gm.load_images(np.zeros((1, 3, 4, 4), np.float32))
    with pytest.raises(TypeError, match="uint8"):
        gm.load_images(np.zeros((1, 3, 4, 4), np.int32))
    with pytest.raises(TypeError, match="uint8"):
        gm.load_images(np.zeros((1, 3, 4, 4), np.uint16))
    with pytest.raises(TypeError, match="not supported"):
        gm.load_images(42)


def test_nan_and_inf_rejected():
    x = np.zeros((1, 3, 4, 4))
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        gm.load_images(x, value_range=(0, 1))
    x[0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        as_uint8(torch.from_numpy(x), value_range=(0, 1))


def test_wrong_rank_and_rgba():
    with pytest.raises(ValueError, match="4-D"):
        gm.load_images(np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="alpha"):
        gm.load_images(np.zeros((1, 4, 5, 5), np.uint8))
    with pytest.raises(ValueError, match="N = 0"):
        gm.load_images(np.zeros((0, 3, 5, 5), np.uint8))


def test_folder_recursive_sorted(tmp_path, rng):
    (tmp_path / "sub").mkdir()
    a = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    _save(tmp_path / "sub" / "b.png", b)
    _save(tmp_path / "a.bmp", a)
    (tmp_path / "notes.txt").write_text("not an image")
    out = gm.load_images(tmp_path)
    assert out.shape == (2, 3, 6, 5)
    assert np.array_equal(out[0], a.transpose(2, 0, 1))  # a.bmp sorts before sub/b.png
    assert [p.split("/")[-1] for p in out.paths] == ["a.bmp", "b.png"]


def test_folder_errors(tmp_path, rng):
    with pytest.raises(ValueError, match="holds no image files"):
        gm.load_images(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        gm.load_images(tmp_path / "missing")
    _save(tmp_path / "a.png", rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))
    _save(tmp_path / "b.png", rng.integers(0, 256, (8, 5, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="pass size="):
        gm.load_images(tmp_path)
    assert gm.load_images(tmp_path, size=(4, 4)).shape == (2, 3, 4, 4)


def test_bad_files_raise_or_skip_with_report(tmp_path, rng):
    good = _save(tmp_path / "good.png", rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))
    (tmp_path / "empty.jpg").write_bytes(b"")
    full = good.read_bytes()
    (tmp_path / "truncated.png").write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError, match="empty.jpg"):
        gm.load_images(tmp_path)
    with pytest.warns(UserWarning, match="skipped 2 unreadable"):
        out = gm.load_images(tmp_path, on_error="skip")
    assert out.shape[0] == 1
    assert sorted(p.split("/")[-1] for p, _ in out.skipped) == ["empty.jpg", "truncated.png"]
    with pytest.raises(ValueError, match="on_error"):
        gm.load_images(tmp_path, on_error="ignore")


def test_alpha_and_16_bit_files(tmp_path, rng):
    rgba = rng.integers(0, 256, (6, 5, 4), dtype=np.uint8)
    _save(tmp_path / "a.png", rgba, mode="RGBA")
    out = gm.load_images([str(tmp_path / "a.png")])
    assert np.array_equal(out[0], rgba[..., :3].transpose(2, 0, 1))  # alpha dropped
    v16 = rng.integers(0, 65536, (6, 5), dtype=np.uint16)
    Image.fromarray(v16).save(tmp_path / "b.png")
    out16 = gm.load_images([str(tmp_path / "b.png")], channels=1)
    assert np.array_equal(out16[0, 0], np.clip(np.rint(v16 / 257.0), 0, 255).astype(np.uint8))


def test_device_resolve():
    assert gm.device.resolve("cpu").type == "cpu"
    assert gm.device.resolve("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="device="):
        gm.device.resolve("gpu0")
    with pytest.raises(TypeError, match="device"):
        gm.device.resolve(3)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no GPU"):
            gm.device.resolve("cuda")


def test_no_warning_for_clean_folder(tmp_path, rng):
    _save(tmp_path / "a.png", rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gm.load_images(tmp_path, on_error="skip").skipped == []
