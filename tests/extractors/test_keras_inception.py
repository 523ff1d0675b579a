"""``keras-inception-v3`` against Keras itself, on random weights in Keras' HDF5 layout.

Outside references:

* Keras 3 (``keras`` on PyPI, run with ``KERAS_BACKEND=torch``, no
  TensorFlow): its own ``keras.applications.InceptionV3(weights=None,
  include_top=False, pooling="avg")`` gets seeded random weights (batch-norm
  moving statistics calibrated on a random batch, so every layer's numbers
  matter), which this test writes in the Keras 2 ``save_weights`` layout of
  the release file (``layer_names``; one group per layer, weightless ones
  included, with ``weight_names`` ``conv2d_N/kernel:0`` ...). Keras' own
  legacy loader must read the file back into the same weights, then the
  PyTorch port loads it through the extractor registry and its ``pool`` must
  equal Keras' output on the document's preprocessing (``cv2.resize`` of the
  float image, ``preprocess_input``) to 1e-5 relative, at 224 x 224 and at
  other sizes.
* OpenCV (``cv2.resize``, ``INTER_LINEAR``) for the resize.
* Keras' source for the weights URL and the md5 it records.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.extractors import keras_inception as ki
from genmetrics_nb.weights.manifest import BUILTIN

NAME = ki.WEIGHTS_NAME
REL_TOL = 1e-5
# Keras 3 with numpy 2 warns on every variable read (its __array__ lacks copy=); not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")


# ----------------------------------------------------------------------------
# the resize: OpenCV's INTER_LINEAR on float images
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(32, 32), (28, 28), (299, 299), (448, 448), (672, 672), (300, 250),
                                   (57, 91), (500, 333), (1000, 999), (225, 223), (224, 224), (1, 1)])
def test_resize_matches_cv2(shape):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(sum(shape))
    img = rng.random((*shape, 3), dtype=np.float32)
    ref = cv2.resize(img, (224, 224))  # the document's call: default INTER_LINEAR
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    out = ki.cv2_linear_resize(x, (224, 224))[0].permute(1, 2, 0).numpy()
    assert np.abs(out - ref).max() <= 1e-6


def test_resize_is_not_antialiased_nor_tf1():
    # A protocol test that can fail: the neighbours of cv2's INTER_LINEAR give other numbers.
    from genmetrics_nb.extractors.inception_fid import tf1_bilinear_resize

    rng = np.random.default_rng(1)
    for size in (32, 299):
        x = torch.from_numpy(rng.random((1, 3, size, size), dtype=np.float32))
        ours = ki.cv2_linear_resize(x, (224, 224))
        tf1 = tf1_bilinear_resize(x, (224, 224))
        assert (ours - tf1).abs().max() > 1e-2
        if size > 224:  # antialiasing only acts when shrinking
            aa = torch.nn.functional.interpolate(x, size=(224, 224), mode="bilinear", antialias=True)
            assert (ours - aa).abs().max() > 1e-2


def test_resize_rounding_of_opencv_without_ipp_is_documented():
    # The opencv-python wheels resize float32 with Intel IPP (weights from the exact coordinate);
    # OpenCV's own code rounds the coordinate to float32 first. The docstring states the bound.
    cv2 = pytest.importorskip("cv2")
    img = np.random.default_rng(2).random((1000, 999, 3), dtype=np.float32)
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    ours = ki.cv2_linear_resize(x, (224, 224))[0].permute(1, 2, 0).numpy()
    was = cv2.ipp.useIPP()
    try:
        cv2.ipp.setUseIPP(False)
        plain = cv2.resize(img, (224, 224))
    finally:
        cv2.ipp.setUseIPP(was)
    assert np.abs(ours - plain).max() <= 1e-7 * 1000 * 2


def test_resize_rejects_bad_input():
    with pytest.raises(ValueError, match="float N x C x H x W"):
        ki.cv2_linear_resize(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), (4, 4))
    with pytest.raises(ValueError, match="positive"):
        ki.cv2_linear_resize(torch.zeros(1, 3, 8, 8), (0, 4))


# ----------------------------------------------------------------------------
# the manifest entry and md5 checks
# ----------------------------------------------------------------------------
def test_manifest_entry_is_what_keras_downloads():
    keras = _keras()
    from keras.src.applications import inception_v3 as kiv3

    src = inspect.getsource(kiv3)
    entry = BUILTIN[NAME]
    assert entry.url == kiv3.WEIGHTS_PATH_NO_TOP
    assert entry.filename == entry.url.rsplit("/", 1)[-1]
    hashes = re.findall(r'"%s",\s*WEIGHTS_PATH_NO_TOP,.*?file_hash="([0-9a-f]+)"' % re.escape(entry.filename),
                        src, flags=re.S)
    assert hashes == [entry.md5], (hashes, keras.__version__)
    assert entry.sha256 is None and entry.sha256_prefix is None
    assert entry.license and entry.description and entry.format and entry.size


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GENMETRICS_OFFLINE", "1")
    monkeypatch.delenv("GENMETRICS_MANIFEST", raising=False)
    return tmp_path / "home"


def _md5_entry(tmp_path, monkeypatch, payload, md5):
    src = tmp_path / "server" / "net.h5"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(payload)
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"md5-net": {"filename": "net.h5", "url": src.as_uri(), "sha256": None,
                                                "md5": md5, "size": len(payload)}}))
    monkeypatch.setenv("GENMETRICS_MANIFEST", str(manifest))
    return src


def test_md5_only_entry_checks_md5_then_records_sha256(home, tmp_path, monkeypatch):
    payload = b"keras weights " * 5000
    src = _md5_entry(tmp_path, monkeypatch, payload, hashlib.md5(payload).hexdigest())
    bad = tmp_path / "bad.h5"
    bad.write_bytes(payload[:-1] + b"X")
    with pytest.raises(gm.weights.WeightsError, match="md5"):
        gm.weights.import_file("md5-net", bad)
    p = gm.weights.import_file("md5-net", src)
    recorded = json.loads((home / "weights" / "recorded-digests.json").read_text())
    assert recorded == {"net.h5": hashlib.sha256(payload).hexdigest()}
    p.write_bytes(payload + b"x")  # later changes are caught against the recorded sha256
    with pytest.raises(gm.weights.WeightsError, match="sha256"):
        gm.weights.path("md5-net")


def test_md5_checked_on_download(home, tmp_path, monkeypatch):
    payload = b"keras weights " * 5000
    _md5_entry(tmp_path, monkeypatch, payload, "0" * 32)
    with pytest.raises(gm.weights.WeightsError, match="md5 .* discarded"):
        gm.weights.path("md5-net", download=True)
    assert not (home / "weights" / "net.h5").exists()
    _md5_entry(tmp_path, monkeypatch, payload, hashlib.md5(payload).hexdigest())
    assert gm.weights.path("md5-net", download=True).read_bytes() == payload


def test_missing_keras_weights_error_gives_url_and_md5(home):
    with pytest.raises(gm.weights.WeightsNotFoundError) as info:
        gm.get_extractor("keras-inception-v3", device="cpu")
    msg = str(info.value)
    assert BUILTIN[NAME].url in msg and BUILTIN[NAME].md5 in msg and f"weights import {NAME}" in msg


def test_manifest_rejects_bad_md5():
    with pytest.raises(ValueError, match="32 hex digits"):
        gm.weights.WeightsEntry(name="x", filename="x.h5", url="file:///x", sha256=None, md5="abc")


# ----------------------------------------------------------------------------
# parity with Keras
# ----------------------------------------------------------------------------
def _keras():
    if "keras" not in sys.modules:  # the backend is chosen when keras is first imported
        os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("the Keras reference runs with KERAS_BACKEND=torch")
    return keras


def _creation_index(name: str) -> int:
    """Keras names the i-th Conv2D of a fresh session ``conv2d`` (i = 0), then ``conv2d_i``."""
    m = re.fullmatch(r"(conv2d|batch_normalization)(?:_(\d+))?", name)
    assert m, name
    return int(m.group(2) or 0)


def _write_keras2_h5(model, path):
    """Keras 2 ``save_weights`` layout, written here from Keras' model (not by the code under test).

    Every layer of ``model.layers`` in order, Keras 2 names (``conv2d_1`` for the first
    convolution), weightless layers with an empty ``weight_names``, weights in Keras'
    legacy order (trainable, then non-trainable) as ``<layer>/<weight>:0``.
    """
    import h5py
    import keras

    def keras2_name(layer):
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.BatchNormalization)):
            stem = "conv2d" if isinstance(layer, keras.layers.Conv2D) else "batch_normalization"
            return f"{stem}_{_creation_index(layer.name) + 1}"
        return layer.name

    with h5py.File(path, "w") as fh:
        names = [keras2_name(layer) for layer in model.layers]
        fh.attrs["layer_names"] = np.array([n.encode() for n in names])
        fh.attrs["backend"] = b"tensorflow"
        fh.attrs["keras_version"] = b"2.1.6"
        for layer, name in zip(model.layers, names):
            g = fh.create_group(name)
            weights = layer.trainable_weights + layer.non_trainable_weights
            wnames = [f"{name}/{w.name}:0" for w in weights]
            g.attrs["weight_names"] = np.array([w.encode() for w in wnames])
            for w, wn in zip(weights, wnames):
                g.create_dataset(wn, data=keras.ops.convert_to_numpy(w))


def _keras_pool(keras, model, images_uint8):
    """The document's pipeline: float [0, 1] -> cv2.resize to 224 -> preprocess_input -> model."""
    import cv2
    from keras.applications.inception_v3 import preprocess_input

    batch = []
    for img in images_uint8.transpose(0, 2, 3, 1):  # NCHW uint8 -> HWC
        f = img.astype(np.float32) / 255.0
        f = cv2.resize(f, (224, 224))
        batch.append(preprocess_input(f * 255.0))
    out = model(np.stack(batch), training=False)
    return keras.ops.convert_to_numpy(out)


def _images(seed, n, h, w):
    """Smooth random colour fields plus noise, uint8 N x 3 x H x W."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    imgs = []
    for _ in range(n):
        base = np.stack([np.sin(6 * rng.random() * xx + 6 * rng.random() * yy + rng.random() * 6)
                         for _ in range(3)])
        imgs.append(np.clip(127.5 + 90 * base + rng.normal(0, 20, (3, h, w)), 0, 255))
    return np.stack(imgs).astype(np.uint8)


@pytest.fixture(scope="module")
def keras_ref(tmp_path_factory):
    """Keras' InceptionV3 with seeded random, calibrated weights, and those weights in a Keras 2 file."""
    keras = _keras()
    keras.backend.clear_session()  # layer names restart at conv2d, conv2d_1, ...
    keras.utils.set_random_seed(0)
    model = keras.applications.InceptionV3(weights=None, include_top=False, pooling="avg",
                                           input_shape=(224, 224, 3))
    rng = np.random.default_rng(0)
    bns = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            (kernel,) = layer.get_weights()
            fan_in = np.prod(kernel.shape[:3])
            layer.set_weights([rng.normal(0, np.sqrt(2.0 / fan_in), kernel.shape).astype(np.float32)])
        elif isinstance(layer, keras.layers.BatchNormalization):
            beta, _, _ = layer.get_weights()
            layer.set_weights([rng.normal(0, 0.2, beta.shape).astype(np.float32),
                               np.zeros_like(beta), np.ones_like(beta)])
            bns.append(layer)
    # Calibrate the moving statistics: with momentum 0 a training-mode pass sets each one to its
    # batch statistics, layer after layer. Then perturb them, so that no layer is an identity, and
    # add 0.3 x the layer's median to the variances: the network is then slightly contractive, so the
    # float32 rounding both sides make stays near 1e-6 of the features (uncalibrated or exactly
    # calibrated random networks amplify it to ~1e-5, the tolerance) while every layer still counts.
    for layer in bns:
        layer.momentum = 0.0
    with torch.no_grad():
        model(_images(99, 4, 224, 224).transpose(0, 2, 3, 1).astype(np.float32) / 127.5 - 1, training=True)
    for layer in bns:
        layer.momentum = 0.99
        beta, mean, var = layer.get_weights()
        var = var * rng.uniform(0.7, 1.4, var.shape) + 0.3 * np.median(var)
        layer.set_weights([beta, mean + rng.normal(0, 0.05, mean.shape).astype(np.float32),
                           var.astype(np.float32)])
    path = tmp_path_factory.mktemp("keras") / f"{NAME}.h5"
    _write_keras2_h5(model, path)
    return keras, model, path


def test_layer_order_is_keras_model_layers_order(keras_ref):
    keras, model, _ = keras_ref
    order = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            order.append(("c", _creation_index(layer.name)))
        elif isinstance(layer, keras.layers.BatchNormalization):
            order.append(("b", _creation_index(layer.name)))
        else:
            assert not layer.weights, layer.name
    assert tuple(order) == ki.KERAS_LAYER_ORDER


def test_keras_reads_the_test_file_back(keras_ref):
    """The file written here is one Keras' own legacy HDF5 loader accepts, with the same weights."""
    keras, model, path = keras_ref
    saved = [w.copy() for w in model.get_weights()]
    try:
        model.set_weights([np.zeros_like(w) for w in saved])
        model.load_weights(str(path))
        loaded = model.get_weights()
    finally:
        model.set_weights(saved)
    assert all(np.array_equal(a, b) for a, b in zip(loaded, saved))


@pytest.mark.reference
@pytest.mark.parametrize("h, w, n", [(224, 224, 3), (32, 32, 2), (299, 260, 2)])
def test_pool_matches_keras(keras_ref, h, w, n):
    keras, model, path = keras_ref
    ext = gm.get_extractor("keras-inception-v3", device="cpu", weights=path)
    images = _images(h * w, n, h, w)
    ref = _keras_pool(keras, model, images)
    ours = ext(torch.from_numpy(images))["pool"].numpy()
    assert ours.shape == (n, 2048) and ref.shape == (n, 2048)
    assert np.abs(ref).max() > 1e-3 and np.abs(ref).min(axis=1).max() >= 0  # not a dead network
    rel = np.abs(ours - ref).max() / np.abs(ref).max()
    assert rel <= REL_TOL, rel
    print(f"{h} x {w}: max |ours - keras| / max |keras| = {rel:.2e}")


def test_keras_details_matter(keras_ref):
    """The Keras-specific batch norm (eps 1e-3, no gamma) and the cv2 resize move the features far
    more than the parity tolerance: the parity test would catch a wrong choice."""
    from genmetrics_nb.extractors.inception_fid import tf1_bilinear_resize

    keras, model, path = keras_ref
    ext = gm.get_extractor("keras-inception-v3", device="cpu", weights=path)
    images = _images(7, 2, 64, 64)
    ref = _keras_pool(keras, model, images)
    scale = np.abs(ref).max()
    module = ki.load_keras_h5(ki.build_keras_inception(), path)
    for unit in module.convs:
        unit.bn.eps = 1e-5  # PyTorch's default
    x = ext.preprocess(torch.from_numpy(images))
    with torch.no_grad():
        assert np.abs(module(x).numpy() - ref).max() / scale > 100 * REL_TOL
        tf1 = tf1_bilinear_resize(torch.from_numpy(images).float() / 255, (224, 224)) * 2 - 1
        assert np.abs(ext.module(tf1).numpy() - ref).max() / scale > 100 * REL_TOL


def test_extractor_spec_and_label(keras_ref):
    _, _, path = keras_ref
    ext = gm.get_extractor("keras-inception-v3", device="cpu", weights=path)
    assert ext.outputs == ("pool",) and ext.dims == {"pool": 2048}
    assert ext.spec["input_size"] == [224, 224] and "INTER_LINEAR" in ext.spec["resize"]
    assert ext.weights_digest == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    from genmetrics_nb.metrics.distribution.fid import fd_label

    assert fd_label(ext.name) == "FD_keras-inception-v3"


def test_stand_in_weights_load_into_keras(keras_ref, tmp_path, monkeypatch):
    """``install_fake_weights`` writes the Keras file with :func:`save_keras_h5`; Keras reads it and
    gives the same features as the PyTorch network loaded through the weight manager."""
    from genmetrics_nb.testing.weights import install_fake_weights

    keras, model, _ = keras_ref
    for k, v in install_fake_weights([NAME], tmp_path / "h").items():
        monkeypatch.setenv(k, v)
    path = gm.weights.path(NAME)
    assert path.name == BUILTIN[NAME].filename
    ext = gm.get_extractor("keras-inception-v3", device="cpu")
    assert ext.weights_digest == hashlib.sha256(path.read_bytes()).hexdigest()
    images = _images(11, 1, 224, 224)
    saved = model.get_weights()
    try:
        model.load_weights(str(path))
        ref = _keras_pool(keras, model, images)
    finally:
        model.set_weights(saved)
    ours = ext(torch.from_numpy(images))["pool"].numpy()
    assert np.abs(ref).max() > 1e-3
    assert np.abs(ours - ref).max() / np.abs(ref).max() <= REL_TOL


def test_loader_rejects_wrong_files(tmp_path, keras_ref):
    import h5py

    _, _, path = keras_ref
    not_h5 = tmp_path / "x.h5"
    not_h5.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="not a Keras HDF5 weights file"):
        ki.load_keras_h5(ki.build_keras_inception(), not_h5)
    # Drop the last layer with weights: the count no longer fits InceptionV3 without top.
    short = tmp_path / "short.h5"
    short.write_bytes(Path(path).read_bytes())
    with h5py.File(short, "r+") as fh:
        names = [n for n in fh.attrs["layer_names"] if len(fh[n].attrs["weight_names"])]
        fh[names[-1]].attrs["weight_names"] = np.array([], dtype="S1")
    with pytest.raises(ValueError, match="187 layers with weights"):
        ki.load_keras_h5(ki.build_keras_inception(), short)
