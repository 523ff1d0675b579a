"""MediaPipe's Selfie Segmentation run by TFLiteGraph, against MediaPipe's own outputs.

Outside reference: ``tests/reference/mediapipe_selfie_astronaut.npz``, written by
MediaPipe 0.10.14 itself (``tests/reference/mediapipe_selfie.py`` says how; MediaPipe's
pins conflict with this project's, so it runs in its own environment). The network
outputs must agree to float noise (XNNPACK's float32 kernels against torch's), and the
whole pipeline (resize in, resize out, threshold) must agree with MediaPipe's legacy
solution on nearly every pixel.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from skimage import data as skdata

from genmetrics_nb.segmentation import tflite_graph
from genmetrics_nb.segmentation.segmenters import get_segmenter, list_segmenters
from genmetrics_nb.segmentation.tflite_graph import TFLiteGraph
from genmetrics_nb.weights.shipped import shipped_file

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "mediapipe_selfie_astronaut.npz"


@pytest.fixture(scope="module")
def reference():
    return dict(np.load(REFERENCE))


@pytest.fixture(scope="module")
def model_bytes():
    file, _ = shipped_file("mediapipe-selfie")
    return file.read_bytes()


def _inputs(kernels):
    """The reference script's inputs, rebuilt with this environment's cv2."""
    small = cv2.resize(skdata.astronaut(), (256, 256), interpolation=cv2.INTER_LINEAR)
    return [small if k == 1 else cv2.blur(small, (int(k), int(k))) for k in kernels]


@pytest.mark.reference
def test_graph_matches_mediapipe(reference, model_bytes):
    images = _inputs(reference["kernels"])
    for img, digest in zip(images, reference["image_sha256"]):
        assert hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest() == str(digest), "inputs differ"
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
    with torch.no_grad():
        (ours,) = TFLiteGraph(model_bytes)(x)
        (exact,) = TFLiteGraph(model_bytes).to(dtype=torch.float64)(x)
    ours, exact = ours[:, 0].double().numpy(), exact[:, 0].numpy()
    ref = reference["confidence"].astype(np.float64)
    assert ours.shape == ref.shape
    # Float noise measured, not assumed: the same graph in float64 is the yardstick. MediaPipe's
    # float32 kernels (XNNPACK) and ours must each sit within a few times our own float32 error
    # of it (about 1e-4 at most on these images); a wrong padding, layout or resize convention
    # moves confidences by 1e-2 or more.
    for i in range(len(ref)):
        noise = np.abs(ours[i] - exact[i]).max()
        assert 0 < noise < 1e-3
        assert np.abs(ref[i] - exact[i]).max() <= 3 * noise
        assert np.abs(ours[i] - ref[i]).max() <= 4 * noise
    assert np.abs(ours - ref).mean() < 1e-5
    assert ((ours > 0.5) == (ref > 0.5)).all()


@pytest.mark.reference
def test_segmenter_agrees_with_mediapipe_pipeline(reference):
    full = skdata.astronaut()
    assert hashlib.sha256(full.tobytes()).hexdigest() == str(reference["full_sha256"])
    want = np.unpackbits(reference["full_mask"])[: int(np.prod(reference["full_shape"]))]
    want = want.reshape(tuple(reference["full_shape"])).astype(bool)
    seg = get_segmenter("mediapipe-selfie", device="cpu")
    got = seg(full.transpose(2, 0, 1)[None])[0] == 1
    # MediaPipe resizes with an affine warp and upsamples its mask in its own calculator;
    # this segmenter uses cv2.resize and torch's bilinear upsampling: only edge pixels may differ
    assert (got == want).mean() > 0.995
    assert got.mean() == pytest.approx(want.mean(), abs=0.005)


def test_segmenter_registered_with_its_provenance():
    assert "mediapipe-selfie" in list_segmenters()
    seg = get_segmenter("mediapipe-selfie", device="cpu")
    assert seg.num_classes == 2 and seg.class_names == ["background", "person"] and seg.background == 0
    file, entry = shipped_file("mediapipe-selfie")
    assert seg.spec["sha256"] == entry["sha256"]
    assert entry["source"]["package"].startswith("mediapipe==0.10.14")
    assert (file.parent / "LICENSE-mediapipe.txt").is_file()


def test_explicit_weights_file(tmp_path, model_bytes):
    path = tmp_path / "selfie.tflite"
    path.write_bytes(model_bytes)
    seg = get_segmenter("mediapipe-selfie", device="cpu", weights=path)
    x = np.zeros((1, 3, 40, 60), np.uint8)
    labels = seg(x)
    assert labels.shape == (1, 40, 60) and labels.dtype == np.int64


def test_unsupported_operator_is_refused(monkeypatch, model_bytes):
    monkeypatch.setattr(tflite_graph, "SUPPORTED_OPS", tuple(o for o in tflite_graph.SUPPORTED_OPS if o != "HARD_SWISH"))
    with pytest.raises(NotImplementedError, match="HARD_SWISH"):
        TFLiteGraph(model_bytes)


def test_wrong_input_shape_is_refused(model_bytes):
    graph = TFLiteGraph(model_bytes)
    with pytest.raises(ValueError, match="N x 3 x 256 x 256"):
        graph(torch.zeros(1, 256, 256, 3))
    with pytest.raises(TypeError, match="NCHW torch tensor"):
        graph(np.zeros((1, 3, 256, 256), np.float32))


def test_same_padding_is_tensorflows():
    # TensorFlow's SAME: output ceil(in / stride), the extra pixel after (tf.nn.conv2d docs)
    assert tflite_graph._same_pad(256, 3, 2) == (0, 1)
    assert tflite_graph._same_pad(256, 3, 1) == (1, 1)
    assert tflite_graph._same_pad(64, 5, 2) == (1, 2)
    assert tflite_graph._same_pad(7, 1, 1) == (0, 0)


@pytest.mark.gpu
def test_graph_on_cuda_matches_cpu(model_bytes):
    x = torch.rand(2, 3, 256, 256)
    with torch.no_grad():
        (cpu,) = TFLiteGraph(model_bytes)(x)
        (gpu,) = TFLiteGraph(model_bytes, device="cuda")(x)
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=0, atol=1e-3)
