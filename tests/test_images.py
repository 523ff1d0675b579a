"""The image contract: load_images, value ranges, rounding, bad files."""
from __future__ import annotations

import pickle
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import genmetrics_nb as gm
from genmetrics_nb.images import ImageBatch, as_uint8


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
        (np.full((1, 3, 4, 4), 100.5), (0, 255), None),
        (np.full((1, 3, 4, 4), -0.5), (0, 1), r"value_range=\(-1, 1\)"),
    ],
)
def test_out_of_range_names_the_fix(value, declared, match):
    if match is None:  # 100.5 is inside [0, 255]: fine, no error
        gm.load_images(value, value_range=declared)
        return
    with pytest.raises(ValueError, match=match):
        gm.load_images(value, value_range=declared)


# Data far narrower than their declared range ("Never a plausible wrong number", class 2).
@pytest.mark.parametrize("as_torch", [False, True])
def test_unit_data_declared_as_0_255_are_refused(rng, as_torch):
    x = rng.random((2, 3, 8, 8))
    x = torch.from_numpy(x) if as_torch else x
    with pytest.raises(ValueError, match=r"(?s)source lie in \[0\.0\d*, 0\.9\d*\].*value_range=\(0, 255\)"
                                         r".*\[0, 1\] data.*value_range=\(0, 1\).*allow_narrow=True"):
        gm.load_images(x, value_range=(0, 255))
    with pytest.raises(ValueError, match="allow_narrow=True"):
        as_uint8(x, value_range=(0, 255))


@pytest.mark.parametrize("as_torch", [False, True])
def test_unit_data_declared_as_minus1_1_are_refused(rng, as_torch):
    x = rng.random((2, 3, 8, 8))
    x = torch.from_numpy(x) if as_torch else x
    with pytest.raises(ValueError, match=r"(?s)no value below 0.*value_range=\(-1, 1\).*\[0, 1\] data"
                                         r".*value_range=\(0, 1\).*allow_narrow=True"):
        gm.load_images(x, value_range=(-1, 1))


def test_dark_bright_and_blank_images_pass_the_range_guard(rng):
    dark = rng.uniform(0, 40, (2, 3, 8, 8))  # a dark image at 0..40 of 255 is legitimate
    assert np.array_equal(gm.load_images(dark, value_range=(0, 255)), np.rint(dark).astype(np.uint8))
    signed = rng.uniform(-0.2, 1, (2, 3, 8, 8))  # a bright [-1, 1] image with some shadow
    gm.load_images(signed, value_range=(-1, 1))
    black = np.zeros((1, 3, 8, 8))  # all at the low end: both readings give the same image
    assert not gm.load_images(black, value_range=(0, 255)).any()
    assert not gm.load_images(black, value_range=(0, 1)).any()
    # the exact thresholds: 1.5 levels of 255 above the low end; half a level below zero
    gm.load_images(np.full((1, 1, 4, 4), 1.51), value_range=(0, 255))
    with pytest.raises(ValueError, match="allow_narrow"):
        gm.load_images(np.full((1, 1, 4, 4), 1.49), value_range=(0, 255))
    gm.load_images(np.full((1, 1, 4, 4), -0.5 * 2 / 255 - 1e-4), value_range=(-1, 1))
    with pytest.raises(ValueError, match="allow_narrow"):
        gm.load_images(np.full((1, 1, 4, 4), -0.5 * 2 / 255 + 1e-4), value_range=(-1, 1))


def test_allow_narrow_asserts_that_narrow_data_are_meant(rng):
    x = rng.random((2, 3, 8, 8))
    got = gm.load_images(x, value_range=(0, 255), allow_narrow=True)
    assert np.array_equal(got, np.rint(x).astype(np.uint8))
    got = gm.load_images(torch.from_numpy(x), value_range=(-1, 1), allow_narrow=True)
    assert torch.equal(got, torch.from_numpy(np.rint((x + 1) * 127.5).astype(np.uint8)))
    assert np.array_equal(as_uint8(x, value_range=(0, 255), allow_narrow=True), np.rint(x).astype(np.uint8))
    with pytest.raises(TypeError, match="allow_narrow must be True or False"):
        gm.load_images(x, value_range=(0, 1), allow_narrow="yes")


def test_zero_sized_images_are_refused():
    with pytest.raises(ValueError, match=r"source.*0 x 5.*at least 1 x 1"):
        gm.load_images(np.zeros((1, 3, 0, 5)), value_range=(0, 1))


def test_float_without_range_and_bad_dtypes():
    with pytest.raises(TypeError, match="value_range"):
        gm.load_images(np.zeros((1, 3, 4, 4), np.float32))
    with pytest.raises(TypeError, match="uint8"):
        gm.load_images(np.zeros((1, 3, 4, 4), np.int32))
    with pytest.raises(TypeError, match="uint8"):
        gm.load_images(np.zeros((1, 3, 4, 4), np.uint16))
    with pytest.raises(TypeError, match="is not a source"):
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
    with pytest.raises(ValueError, match="folder with no image files"):
        gm.load_images(tmp_path)
    with pytest.raises(ValueError, match="neither an existing folder or file"):
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


# ----------------------------------------------------------------------------
# ImageBatch: .paths follows the rows
# ----------------------------------------------------------------------------
@pytest.fixture
def abcd(tmp_path, rng):
    """A batch read from a.png, b.png, c.png, d.png (in that order)."""
    for name in "abcd":
        _save(tmp_path / f"{name}.png", rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))
    return gm.load_images(tmp_path)


def _names(paths):
    return "".join(Path(p).stem for p in paths)


@pytest.mark.parametrize(
    "select, names",
    [
        (lambda x: x[:2], "ab"),
        (lambda x: x[1:], "bcd"),
        (lambda x: x[::-1], "dcba"),
        (lambda x: x[-1:], "d"),
        (lambda x: x[[3, 0]], "da"),
        (lambda x: x[np.array([2, -1])], "cd"),
        (lambda x: x[np.array([True, False, True, False])], "ac"),
        (lambda x: x[[]], ""),
        (lambda x: x[1:3, :, :2, ::2], "bc"),  # crops keep their rows
        (lambda x: x[1:3, 0], "bc"),  # one channel of each row
        (lambda x: x[[1, 2], 0], "bc"),
        (lambda x: x[..., :2], "abcd"),
        (lambda x: x[...], "abcd"),
        (lambda x: np.flip(x, 0), "dcba"),
        (lambda x: x.copy()[2:], "cd"),
        (lambda x: pickle.loads(pickle.dumps(x))[:1], "a"),
    ],
)
def test_row_selection_keeps_the_matching_paths(abcd, select, names):
    out = select(abcd)
    assert isinstance(out, ImageBatch)
    assert np.array_equal(out, select(np.asarray(abcd)))
    assert _names(out.paths) == names and len(out.paths) == out.shape[0]
    assert out.skipped == []


def _sorted_in_place(x):
    x.sort(axis=0)
    return x


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x[0],  # one image: its first axis is channels
        lambda x: x[None],
        lambda x: x[:, [0, 2]],
        lambda x: x + 1,
        lambda x: x.astype(np.float32) / 255,
        lambda x: x.transpose(1, 0, 2, 3),
        lambda x: np.sort(x, axis=0),
        lambda x: _sorted_in_place(x.copy()),
        lambda x: np.roll(x, 1, axis=0),
        lambda x: np.concatenate([x, x]),
        lambda x: x.reshape(2, -1),
    ],
)
def test_paths_become_none_when_rows_cannot_be_followed(abcd, op):
    out = op(abcd)
    assert getattr(out, "paths", None) is None


def test_skipped_travels_with_row_selections(tmp_path, rng):
    for name in "ab":
        _save(tmp_path / f"{name}.png", rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))
    (tmp_path / "c.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="skipped 1"):
        x = gm.load_images(tmp_path, on_error="skip")
    assert _names(x[1:].paths) == "b"
    assert [Path(p).name for p, _ in x[1:].skipped] == ["c.png"]


def test_image_batch_checks_paths_length():
    with pytest.raises(ValueError, match="paths"):
        ImageBatch(np.zeros((2, 3, 4, 4), np.uint8), paths=["a.png"])


# ----------------------------------------------------------------------------
# decoding files: each kind converts as documented or raises naming the file
# ----------------------------------------------------------------------------
def _png(path, samples):
    """Write ``samples`` (``H x W x C`` uint16, C = 1..4) as a 16-bit PNG.

    Pillow cannot write 16-bit colour PNGs, so the file is assembled from the
    PNG specification (filter 0 rows, one zlib IDAT); Pillow's own decoding of
    it is checked against the high bytes in the tests.
    """
    h, w, c = samples.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + samples[i].astype(">u2").tobytes() for i in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    Path(path).write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


def _rgb(hw_or_hwc):
    """``H x W`` (gray) or ``H x W x C`` -> the ``3 x H x W`` that files decode to."""
    a = np.asarray(hw_or_hwc)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return a[..., :3].transpose(2, 0, 1)


def _load_both(path, **kw):
    """``path`` through a folder (it is alone in one) and as a list of files."""
    path = Path(path)
    one = gm.load_images([str(path)], **kw)
    folder = gm.load_images(path.parent, **kw)
    assert folder.paths == [str(path)] and np.array_equal(folder, one)
    return one[0]


def _round16(v):
    return np.rint(v.astype(np.float64) / 257).astype(np.uint8)


def test_float_tiff_in_unit_range_is_rounded(tmp_path, rng):
    v = rng.random((6, 5)).astype(np.float32)
    v[0, :4] = [0.0, 1.0, 0.5 / 255, 254.4 / 255]
    f = tmp_path / "gray" / "f32.tif"
    f.parent.mkdir()
    Image.fromarray(v).save(f)  # Pillow's mode "F"
    ref = np.asarray(Image.open(f))  # Pillow's decoding: float32
    assert ref.dtype == np.float32
    expected = np.rint(ref.astype(np.float64) * 255).astype(np.uint8)
    assert expected.max() > 200  # (the bug read these as black)
    assert np.array_equal(_load_both(f), _rgb(expected))
    assert np.array_equal(_load_both(f, channels=1)[0], expected)


def test_float_rgb_and_float64_tiffs(tmp_path, rng):
    import imageio.v3 as iio

    for name, v in [("rgb32.tif", rng.random((6, 5, 3)).astype(np.float32)),
                    ("gray64.tif", rng.random((6, 5)))]:
        f = tmp_path / name.split(".")[0] / name
        f.parent.mkdir()
        iio.imwrite(f, v, plugin="tifffile")  # Pillow cannot write (or read) these
        ref = iio.imread(f, plugin="tifffile")
        assert ref.dtype == v.dtype
        expected = np.rint(ref.astype(np.float64) * 255).astype(np.uint8)
        assert np.array_equal(_load_both(f), _rgb(expected)), name


def test_float_tiff_outside_unit_range_raises_with_name_and_range(tmp_path):
    f = tmp_path / "f255.tif"
    Image.fromarray(np.linspace(0, 255, 30, dtype=np.float32).reshape(6, 5)).save(f)
    for source in (tmp_path, [str(f)]):
        with pytest.raises(ValueError, match=r"f255\.tif.*\[0, 255\].*\[0, 1\]"):
            gm.load_images(source)
    with pytest.raises(ValueError, match=r"f255\.tif.*\[0, 255\]"):
        gm.images.read_image(f)
    nan = np.zeros((6, 5), np.float32)
    nan[1, 1] = np.nan
    Image.fromarray(nan).save(g := tmp_path / "nan.tif")
    with pytest.raises(ValueError, match=r"nan\.tif.*NaN"):
        gm.load_images([str(g)])
    with pytest.warns(UserWarning, match="skipped 2"):  # on_error="skip" lists them
        with pytest.raises(ValueError, match="none of the 2 files"):
            gm.load_images(tmp_path, on_error="skip")


def test_32_bit_integer_tiffs_raise_with_name(tmp_path, rng):
    import imageio.v3 as iio

    Image.fromarray(rng.integers(0, 2**31, (6, 5), dtype=np.int32)).save(tmp_path / "i32.tif")
    iio.imwrite(tmp_path / "u32.tif", rng.integers(0, 2**32, (6, 5), dtype=np.uint32), plugin="tifffile")
    for name in ("i32.tif", "u32.tif"):
        with pytest.raises(ValueError, match=rf"{name}.*32-bit integer.*convert"):
            gm.load_images([str(tmp_path / name)])
    with pytest.raises(ValueError, match=r"i32\.tif.*32-bit integer"):
        gm.load_images(tmp_path)


@pytest.mark.parametrize("c", [3, 4, 2, 1])
def test_16_bit_pngs_are_rounded_not_truncated(tmp_path, rng, c):
    v = rng.integers(0, 65536, (7, 5, c), dtype=np.uint16)
    v.flat[:6] = [0, 128, 129, 385, 65407, 65535]  # round(v / 257) ties nearby
    (tmp_path / "deep").mkdir()
    f = _png(tmp_path / "deep" / "deep.png", v)
    # Pillow decodes gray 16-bit PNGs exactly and colour ones to their high
    # bytes (what pytorch-fid and clean-fid then see): either way, the file holds v.
    pil = np.asarray(Image.open(f)).reshape(7, 5, -1)[..., 0]
    assert np.array_equal(pil, v[..., 0] if c == 1 else v[..., 0] >> 8)
    gray = v[..., 0] if c in (1, 2) else None  # LA: alpha dropped, gray repeated
    expected = _rgb(_round16(gray if gray is not None else v))
    assert np.array_equal(_load_both(f), expected)
    assert not np.array_equal(expected, _rgb((v >> 8).astype(np.uint8)))


def test_16_bit_tiffs_are_rounded(tmp_path, rng):
    import imageio.v3 as iio

    (tmp_path / "gray").mkdir()
    (tmp_path / "rgb").mkdir()
    g = tmp_path / "gray" / "g.tif"
    Image.fromarray(rng.integers(0, 65536, (6, 5), dtype=np.uint16)).save(g)
    ref = np.asarray(Image.open(g))
    assert ref.dtype == np.uint16
    assert np.array_equal(_load_both(g), _rgb(_round16(ref)))
    iio.imwrite(f := tmp_path / "rgb" / "rgb16.tif", rng.integers(0, 65536, (6, 5, 3), dtype=np.uint16),
                plugin="tifffile")
    ref = iio.imread(f, plugin="tifffile")
    assert ref.dtype == np.uint16
    assert np.array_equal(_load_both(f), _rgb(_round16(ref)))


def test_palette_and_gray_alpha_pngs(tmp_path, rng):
    (tmp_path / "p").mkdir()
    (tmp_path / "la").mkdir()
    p = Image.fromarray(rng.integers(0, 4, (6, 5), dtype=np.uint8), mode="P")
    p.putpalette([0, 0, 0, 250, 10, 20, 30, 240, 40, 5, 6, 255])
    p.save(f := tmp_path / "p" / "pal.png", transparency=bytes([0, 255, 128, 255]))
    with Image.open(f) as im:
        assert im.mode == "P"
        idx, pal = np.asarray(im), np.asarray(im.getpalette(), np.uint8).reshape(-1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and without Pillow's warning about palette alpha
        assert np.array_equal(_load_both(f), _rgb(pal[idx]))  # palette expanded, alpha dropped
        gray = np.asarray(Image.fromarray(pal[idx]).convert("L"))
        assert np.array_equal(_load_both(f, channels=1)[0], gray)
    Image.fromarray(rng.integers(0, 256, (6, 5, 2), dtype=np.uint8), mode="LA").save(
        g := tmp_path / "la" / "la.png")
    ref = np.asarray(Image.open(g))
    assert np.array_equal(_load_both(g), _rgb(ref[..., 0]))
    assert np.array_equal(_load_both(g, channels=1)[0], ref[..., 0])
    assert gm.images.read_image(g, channels=None).shape == (1, 6, 5)  # stays grayscale


def test_cmyk_jpeg_uses_pillows_cmyk_to_rgb(tmp_path, rng):
    cmyk = rng.integers(0, 256, (16, 16, 4), dtype=np.uint8)
    Image.fromarray(cmyk, mode="CMYK").save(f := tmp_path / "cmyk.jpg", quality=95)
    with Image.open(f) as im:
        assert im.mode == "CMYK"
        c, m, y, k = np.moveaxis(np.asarray(im).astype(np.float64), 2, 0)
    # Pillow's documented conversion: R = 255 * (1 - C/255) * (1 - K/255), no colour profile.
    expected = np.rint(np.stack([(255 - ch) * (255 - k) / 255 for ch in (c, m, y)])).astype(np.uint8)
    assert np.array_equal(_load_both(f), expected)


def test_multi_frame_files_use_the_first_frame_and_say_so(tmp_path, rng):
    frames = [rng.integers(0, 256, (6, 5, 3), dtype=np.uint8) for _ in range(3)]
    ims = [Image.fromarray(a) for a in frames]
    (tmp_path / "apng").mkdir()
    (tmp_path / "webp").mkdir()
    ims[0].save(a := tmp_path / "apng" / "anim.png", save_all=True, append_images=ims[1:])
    w = tmp_path / "webp" / "anim.webp"
    ims[0].save(w, save_all=True, append_images=ims[1:], lossless=True)
    ims[0].save(g := tmp_path / "anim.gif", save_all=True, append_images=ims[1:])
    for f in (a, w):  # lossless: the first frame is exactly frames[0]
        with pytest.warns(UserWarning, match=rf"{f.name}.*3 frames.*first") as rec:
            out = _load_both(f)
        assert np.array_equal(out, _rgb(frames[0]))
        assert sum(f.name in str(r.message) for r in rec) == 2  # once per load
    with Image.open(g) as im:  # GIF frames are quantised: the reference is Pillow's first frame
        assert im.n_frames == 3
        idx, pal = np.asarray(im), np.asarray(im.getpalette(), np.uint8).reshape(-1, 3)
    with pytest.warns(UserWarning, match=r"anim\.gif.*3 frames.*first"):
        out = gm.load_images([str(g)])
    assert np.array_equal(out[0], _rgb(pal[idx]))
    # A JPEG with an MPF extra picture (as phones write depth and gain maps):
    # Pillow opens it as a 2-frame "MPO"; its primary picture is read silently.
    m = tmp_path / "mpf.jpg"
    ims[0].save(m, format="MPO", save_all=True, append_images=ims[1:2], quality=95)
    with Image.open(m) as im:
        assert (im.format, im.n_frames) == ("MPO", 2)
        primary = np.asarray(im)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(gm.load_images([str(m)])[0], _rgb(primary))


def test_exif_orientation_is_not_applied(tmp_path, rng):
    from PIL import ImageOps

    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)).save(
        f := tmp_path / "rot.jpg", exif=exif, quality=95)
    with Image.open(f) as im:
        stored = np.asarray(im)
        assert ImageOps.exif_transpose(im).size == (6, 10)  # a viewer would show it 10 x 6
    assert np.array_equal(_load_both(f), _rgb(stored))  # as stored, like pytorch-fid and clean-fid


def test_extract_features_sees_the_documented_pixels(tmp_path, rng):
    from genmetrics_nb.testing.extractors import register_tiny_extractor

    register_tiny_extractor("test-tiny-images")
    v = rng.random((12, 12)).astype(np.float32)
    Image.fromarray(v).save(tmp_path / "a.tif")
    _png(tmp_path / "b.png", w16 := rng.integers(0, 65536, (12, 12, 3), dtype=np.uint16))
    ref_a = np.asarray(Image.open(tmp_path / "a.tif")).astype(np.float64)  # Pillow's decoding
    expected = np.stack([_rgb(np.rint(ref_a * 255).astype(np.uint8)), _rgb(_round16(w16))])
    kw = dict(device="cpu", progress=False, cache=False)
    got = gm.extract_features(tmp_path, "test-tiny-images", num_workers=0, **kw)
    ref = gm.extract_features(expected, "test-tiny-images", **kw)
    np.testing.assert_array_equal(got["mean"], ref["mean"])
    np.testing.assert_array_equal(got["feat"], ref["feat"])
