"""The streaming extraction engine: sources, batching, cache, resume after SIGKILL."""
from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.testing.extractors import register_tiny_extractor
from genmetrics_nb.features import feature_stats


# A tiny, deterministic extractor so engine mechanics are tested in milliseconds
# (the same one the fault tests use).
register_tiny_extractor("test-tiny")


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _images(n, size=24, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 3, size, size), dtype=np.uint8)


def _write_pngs(x, folder):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(x):
        Image.fromarray(img.transpose(1, 2, 0)).save(folder / f"{i:04d}.png")
    return folder


def _run(source, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("device", "cpu")
    return gm.extract_features(source, kw.pop("extractor", "test-tiny"), **kw)


# ----------------------------------------------------------------------------
# results and sources
# ----------------------------------------------------------------------------
def test_array_matches_direct_extractor_call():
    x = _images(6, 32)
    f = _run(x, extractor="efficientnet-lite0", batch_size=4, cache=False)
    ext = gm.get_extractor("efficientnet-lite0", device="cpu")
    direct = ext(torch.from_numpy(x))
    assert set(f) == {"pool", "logits"} and f.n == 6
    for k in f:
        assert f[k].dtype == np.float32 and f[k].shape == (6, ext.dims[k])
        np.testing.assert_allclose(f[k], direct[k].numpy(), rtol=1e-5, atol=1e-5)
    m = f.meta
    assert m["extractor"] == "efficientnet-lite0" and m["weights_digest"] == ext.weights_digest
    assert m["spec"] == ext.spec and m["precision"] == "fp32" and m["package"] == gm.__version__
    assert m["source"]["kind"] == "array" and len(m["source"]["fingerprint"]) == 64
    assert f.to_dict()["outputs"] == {"pool": 1280, "logits": 1000}


def test_batch_size_does_not_change_features():
    x = _images(7)
    a = _run(x, batch_size=2, cache=False)
    b = _run(x, batch_size=5, cache=False)
    np.testing.assert_allclose(a["feat"], b["feat"], rtol=1e-6, atol=1e-7)


def test_folder_list_and_array_sources_agree(tmp_path):
    x = _images(5)
    folder = _write_pngs(x, tmp_path / "imgs")
    fa = _run(x, batch_size=2, cache=False)
    ff = _run(folder, batch_size=2, cache=False, num_workers=0)
    fl = _run(sorted(str(p) for p in folder.iterdir()), batch_size=2, cache=False, num_workers=2)
    np.testing.assert_array_equal(fa["feat"], ff["feat"])
    np.testing.assert_array_equal(fa["feat"], fl["feat"])
    assert ff.meta["source"]["kind"] == "files"


def test_mixed_sizes_in_a_folder(tmp_path):
    from PIL import Image

    a, b = _images(1, 24, seed=1)[0], _images(1, 40, seed=2)[0]
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.fromarray(a.transpose(1, 2, 0)).save(folder / "a.png")
    Image.fromarray(b.transpose(1, 2, 0)).save(folder / "b.png")
    f = _run(folder, batch_size=2, cache=False, num_workers=0)
    ext = gm.get_extractor("test-tiny", device="cpu")
    np.testing.assert_array_equal(f["feat"][1], ext(b[None])["feat"][0].numpy())


def test_float_sources_need_value_range():
    x = _images(3)
    with pytest.raises(TypeError, match="value_range"):
        _run(x / 255.0, cache=False)
    f = _run(x / 255.0, value_range=(0, 1), cache=False)
    np.testing.assert_array_equal(f["feat"], _run(x, cache=False)["feat"])


def test_narrow_float_sources_are_refused_unless_asserted():
    # "Never a plausible wrong number", class 2: [0, 1] floats declared as (0, 255) or (-1, 1).
    x = _images(3) / 255.0
    with pytest.raises(ValueError, match=r"(?s)value_range=\(0, 255\).*\[0, 1\] data.*allow_narrow=True"):
        _run(x, value_range=(0, 255), cache=False)
    with pytest.raises(ValueError, match=r"(?s)no value below 0.*value_range=\(-1, 1\).*allow_narrow=True"):
        feature_stats(torch.from_numpy(x), "test-tiny", value_range=(-1, 1), device="cpu", progress=False)
    got = _run(x, value_range=(0, 255), allow_narrow=True, cache=False)
    np.testing.assert_array_equal(got["feat"], _run(np.rint(x).astype(np.uint8), cache=False)["feat"])
    with pytest.raises(TypeError, match="allow_narrow must be True or False"):
        _run(x, value_range=(0, 1), allow_narrow=None, cache=False)


def test_read_only_arrays_are_extracted_without_a_warning(monkeypatch):
    # Cached and memory-mapped datasets are read-only; torch.from_numpy warns on them ("The given
    # NumPy array is not writable", once per process, so the call itself is watched here). The
    # engine copies such a batch, never the whole source.
    given = []
    from_numpy = torch.from_numpy
    monkeypatch.setattr(torch, "from_numpy", lambda a: (given.append(a.flags.writeable), from_numpy(a))[1])
    x = _images(5)
    ro = x.copy()
    ro.flags.writeable = False
    got = _run(ro, batch_size=2, cache=False)
    assert given and all(given)
    np.testing.assert_array_equal(got["feat"], _run(x, batch_size=2, cache=False)["feat"])
    assert not ro.flags.writeable  # the caller's array is left as it was


def test_zero_sized_images_are_refused():
    with pytest.raises(ValueError, match=r"0 x 5.*at least 1 x 1"):
        _run(np.zeros((2, 3, 0, 5), np.uint8), cache=False)
    with pytest.raises(ValueError, match=r"images are 5 x 0 pixels.*at least 1 x 1"):
        gm.get_extractor("test-tiny", device="cpu")(np.zeros((1, 3, 5, 0), np.uint8))


def test_dataset_and_labeled_images_sources():
    x = _images(4)

    class DS:
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return torch.from_numpy(x[i]), i  # (image, label)

    f = _run(DS(), batch_size=3)
    assert f.meta["cache"].startswith("off") and "fingerprint" in f.meta["cache"]
    np.testing.assert_array_equal(f["feat"], _run(x, batch_size=3, cache=False)["feat"])
    DS.fingerprint = "my-dataset-v1"
    first = _run(DS(), batch_size=3)
    np.testing.assert_array_equal(first["feat"], f["feat"])  # (image, label) items: the images' features
    again = _run(DS(), batch_size=3)
    assert again.meta["cache"] == "hit"
    np.testing.assert_array_equal(again["feat"], f["feat"])
    Labeled = collections.namedtuple("LabeledImages", "images labels class_names")
    fl = _run(Labeled(x, np.zeros(4), ["a"]), batch_size=3, cache=False)
    np.testing.assert_array_equal(fl["feat"], f["feat"])


def test_bad_arguments_say_the_fix(tmp_path):
    x = _images(2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        _run(x, batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be an int, got 2.5"):
        _run(x, batch_size=2.5)
    with pytest.raises(ValueError, match="precision='fp64' is not supported"):
        _run(x, precision="fp64")
    with pytest.raises(ValueError, match="outputs=.*choose from"):
        _run(x, outputs="pool")
    with pytest.raises(TypeError, match="is not a source; pass images"):
        _run(42)
    with pytest.raises(TypeError, match="holds features, not images"):
        _run(np.zeros((4, 8), np.float32))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="folder with no image files"):
        _run(tmp_path / "empty")
    with pytest.raises(ValueError, match="neither an existing folder or file"):
        _run(tmp_path / "nope")

    class FloatDS:
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return np.zeros((3, 8, 8), np.float32)

    with pytest.raises(TypeError, match="datasets must yield uint8"):
        _run(FloatDS(), cache=False)


def test_unreadable_files(tmp_path):
    folder = _write_pngs(_images(3), tmp_path / "imgs")
    (folder / "0001.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot read image .*0001.png"):
        _run(folder, cache=False, num_workers=0)
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        f = _run(folder, cache=False, num_workers=0, on_error="skip")
    assert f.n == 2 and f.index.tolist() == [0, 2]
    assert f.meta["skipped"][0][0].endswith("0001.png")


def test_progress_bar_can_be_silenced(capsys):
    x = _images(3)
    _run(x, cache=False, progress=False)
    assert capsys.readouterr().err == ""
    _run(x, cache=False, progress=True)
    assert "img/s" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# cache
# ----------------------------------------------------------------------------
def test_cache_hits_and_key_covers_options(_home, tmp_path):
    x = _images(5)
    a = _run(x)
    assert a.meta["cache"] == "miss"
    b = _run(x)
    assert b.meta["cache"] == "hit" and b.meta["cache_key"] == a.meta["cache_key"]
    np.testing.assert_array_equal(a["feat"], b["feat"])
    y = x.copy()
    y[0, 0, 0, 0] ^= 1  # one pixel
    assert _run(y).meta["cache"] == "miss"
    assert _run(x, outputs="feat").meta["cache"] == "miss"
    assert _run(x, precision="bf16").meta["cache"] == "miss"
    # Files: touching one changes its mtime and therefore the key.
    folder = _write_pngs(x, tmp_path / "imgs")
    assert _run(folder, num_workers=0).meta["cache"] == "miss"
    assert _run(folder, num_workers=0).meta["cache"] == "hit"
    st = os.stat(folder / "0002.png")
    os.utime(folder / "0002.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    assert _run(folder, num_workers=0).meta["cache"] == "miss"
    # Atomic writes leave no temporary files, and finished runs no partial chunks.
    leftovers = [p for p in (_home / "features").rglob("*") if p.is_file() and ".tmp" in p.name]
    assert leftovers == []
    assert not any(p.is_file() for p in (_home / "features" / "partial").rglob("*"))


def test_cache_folder_argument(tmp_path):
    x = _images(2)
    _run(x, cache=tmp_path / "mycache")
    assert len(list((tmp_path / "mycache").glob("*.npz"))) == 1


# ----------------------------------------------------------------------------
# streaming statistics
# ----------------------------------------------------------------------------
def test_feature_stats_streams_the_same_numbers():
    x = _images(9)
    f = _run(x, batch_size=4, cache=False)
    s = feature_stats(x, "test-tiny", output="feat", batch_size=4, cache=False, progress=False, device="cpu")
    ref = np.cov(f["feat"].astype(np.float64), rowvar=False)
    np.testing.assert_allclose(s.sigma, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s.mu, f["feat"].astype(np.float64).mean(0), rtol=1e-12)
    assert s.n == 9 and s.meta["output"] == "feat" and s.meta["extractor"] == "test-tiny"


# ----------------------------------------------------------------------------
# kill -9 in the middle, then resume
# ----------------------------------------------------------------------------
_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np, torch
    import genmetrics_nb as gm

    class Slow:  # a cacheable dataset that takes its time
        fingerprint = "resume-test-v1"
        def __init__(self, x, delay):
            self.x, self.delay = x, delay
        def __len__(self):
            return len(self.x)
        def __getitem__(self, i):
            time.sleep(self.delay)
            return self.x[i]

    out, delay, cache = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "cache"
    x = np.random.default_rng(0).integers(0, 256, (32, 3, 32, 32), dtype=np.uint8)
    f = gm.extract_features(Slow(x, delay), "efficientnet-lite0", batch_size=4, chunk_size=8,
                            num_workers=0, device="cpu", cache=cache, progress=False)
    np.savez(out, pool=f["pool"], logits=f["logits"], resumed=f.meta.get("resumed_chunks", -1))
    """
)


@pytest.mark.slow
def test_killed_extraction_resumes_with_identical_features(tmp_path, _home):
    script = tmp_path / "extract.py"
    script.write_text(_SCRIPT)
    env = dict(os.environ, GENMETRICS_HOME=str(_home), OMP_NUM_THREADS="1")
    partial = _home / "features" / "partial"

    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "killed.npz"), "0.15", "cache"],
                            env=env)
    deadline = time.time() + 180
    try:
        while time.time() < deadline:
            if len(list(partial.glob("*/chunk-*.npz"))) >= 2:
                break
            assert proc.poll() is None, "the run finished before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("no chunks were persisted within 180 s")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = sorted(partial.glob("*/chunk-*.npz"))
    assert 2 <= len(done) < 4, done  # killed part way (4 chunks in all)
    assert not (tmp_path / "killed.npz").exists()
    assert not list((_home / "features").glob("*.npz"))  # no finished entry

    subprocess.run([sys.executable, str(script), str(tmp_path / "resumed.npz"), "0", "cache"],
                   env=env, check=True, timeout=300)
    subprocess.run([sys.executable, str(script), str(tmp_path / "fresh.npz"), "0", "nocache"],
                   env=env, check=True, timeout=300)
    resumed, fresh = np.load(tmp_path / "resumed.npz"), np.load(tmp_path / "fresh.npz")
    assert int(resumed["resumed"]) >= 2
    np.testing.assert_array_equal(resumed["pool"], fresh["pool"])
    np.testing.assert_array_equal(resumed["logits"], fresh["logits"])
