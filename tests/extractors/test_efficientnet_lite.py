"""efficientnet-lite0's CPU fast path (oneDNN fused plan) and the engine's heap reuse.

Outside reference: the network's own package, ``efficientnet_lite_pytorch``
(``EfficientNet.forward`` for the logits, ``extract_features`` + global mean
for ``pool``), run layer by layer with batch norms separate, in NCHW. The
fused plan must agree within 1e-5 relative on photographs and on upsampled
small images; a plan with the stride-2 layers padded symmetrically (what
PyTorch's ``padding=1`` would do instead of TF's "same") must not.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.extractors import efficientnet_lite as el
from genmetrics_nb.features.heap import reuse_freed_memory

pytestmark = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="needs oneDNN (mkldnn)")


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.fixture(scope="module")
def images():
    import skimage.data
    from PIL import Image

    photos = [skimage.data.chelsea(), skimage.data.astronaut(), skimage.data.coffee()]
    x224 = np.stack([np.asarray(Image.fromarray(p).resize((224, 224), Image.BICUBIC)) for p in photos])
    x32 = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    return torch.from_numpy(x224).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(x32).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="module")
def package_model():
    return el.load_efficientnet_lite0()  # efficientnet_lite_pytorch.EfficientNet, eval mode


def _package_outputs(model, x_uint8):
    with torch.inference_mode():
        xin = el.efficientnet_lite0_preprocess(x_uint8.float())
        logits = model(xin)  # the package's own forward
        pool = model.extract_features(xin).mean(dim=(2, 3))
    return {"pool": pool, "logits": logits}


def test_the_cpu_extractor_runs_the_fused_plan_and_matches_the_package(images, package_model):
    ext = el.build_extractor(device=torch.device("cpu"))
    plan = el.onednn_plan(el.fuse_efficientnet_lite0(package_model))
    assert plan is not None, "oneDNN fused convolutions are available in this torch build"
    for x in images:  # 224 px photos (no resize) and 32 px images (resized inside)
        want = _package_outputs(package_model, x)
        with torch.inference_mode():
            got = ext(x)
            direct = plan(el.efficientnet_lite0_preprocess(x.float()))
        for k in ("pool", "logits"):
            assert _rel(got[k], want[k]) <= 1e-5, k
            np.testing.assert_array_equal(got[k].numpy(), direct[k].numpy())  # the extractor runs the plan
    # The photos are still recognised: chelsea is an Egyptian cat (285).
    assert int(ext(images[0][:1])["logits"].argmax()) == 285


def test_symmetric_padding_of_the_stride_2_layers_would_be_caught(images, package_model):
    plan = el.onednn_plan(el.fuse_efficientnet_lite0(package_model), check=False)
    x = images[0]
    want = _package_outputs(package_model, x)["pool"]
    for expand, depthwise, project in plan.blocks:
        if depthwise.pad is not None:  # TF "same" at stride 2: (0, 1) or (1, 2) rows and columns
            left, right, top, bottom = depthwise.pad
            depthwise.pad, depthwise.padding = None, [top, left]
    with torch.inference_mode():
        wrong = plan(el.efficientnet_lite0_preprocess(x.float()))["pool"]
    assert _rel(wrong, want) > 1e-3


def test_plan_declines_what_it_cannot_run(package_model):
    meta = el.fuse_efficientnet_lite0(package_model).to("meta")
    assert el.onednn_plan(meta) is None  # not on the CPU: callers keep the eager path


def test_heap_reuse_changes_no_number(images):
    x = images[1]
    a = gm.extract_features(x, "efficientnet-lite0", device="cpu", cache=False, progress=False, batch_size=1)
    with reuse_freed_memory(), reuse_freed_memory():  # nested blocks are fine
        ext = gm.get_extractor("efficientnet-lite0", device="cpu")
        with torch.inference_mode():
            b = torch.cat([ext(x[i:i + 1])["pool"] for i in range(len(x))]).numpy()
    np.testing.assert_array_equal(a["pool"], b)
