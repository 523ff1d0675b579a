"""Segmenters for the FCN-score: a registry of pretrained networks that label pixels.

A segmenter maps ``uint8`` ``N x 3 x H x W`` images to ``int64`` ``N x H x W``
label maps at the input resolution. Built-in names:

``"fcn-resnet50"``
    torchvision's FCN-ResNet50 trained on COCO with the 20 PASCAL VOC classes
    plus background (21 classes), weights through the weight manager
    (``gm.weights.path("fcn_resnet50_coco")``). Preprocessing as the FCN-score
    document: albumentations ``Resize(256, 256)`` and ImageNet ``Normalize``.
``"fcn8s-scenes"``
    The FCN-8s (EfficientNet-Lite0 encoder) trained offline on 128-pixel
    Fashion-MNIST scenes by ``genmetrics-nb train-fcn``; its small checkpoint
    ships in ``data/models/`` with a manifest entry (sha256, command, seed, scores).
``"fcn32s-scenes224"``, ``"fcn16s-scenes224"``, ``"fcn8s-scenes224"``
    FCN-32s/16s/8s trained the same way on the 224-pixel scenes of
    :data:`genmetrics_nb.datasets.scenes.SCENES_224` (issue 13), shipped
    likewise; their manifest entries also hold the test scores of three
    training seeds (``seed_runs``).
``"fcn8s-small-scenes224"``
    The segmenter of the offline FCN-score sweep on scenes: an FCN-8s whose
    encoder is a small VGG (``"vgg-small"``) trained from scratch with it on
    8,000 224-pixel scenes, shipped likewise (its whole network is in the
    checkpoint). It segments the scenes better than the frozen-ImageNet FCNs
    (test mean IoU in its manifest entry).
``"mediapipe-selfie"``
    MediaPipe's Selfie Segmentation network (Google; person vs background,
    two classes), the pretrained segmenter of the offline FCN-score sweep.
    Its ``.tflite`` file is published inside the ``mediapipe`` 0.10.14 wheel
    (Apache-2.0) and ships in ``data/models/`` with the wheel's sha256 and the
    command that extracts it; :class:`~genmetrics_nb.segmentation.tflite_graph.TFLiteGraph`
    runs it with torch operators (equal to MediaPipe's own output within
    float noise, ``tests/segmentation/test_selfie_segmenter.py``).

Nothing is loaded at import; factories build on first use.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from genmetrics_nb.util.checks import check_int, check_uint8_images

__all__ = [
    "Segmenter",
    "load_shipped_fcn",
    "SCENES224_FCNS",
    "get_segmenter",
    "list_segmenters",
    "register_segmenter",
    "VOC_CLASSES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "SELFIE_CLASSES",
]

VOC_CLASSES = [
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
]  # fmt: skip
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SELFIE_CLASSES = ["background", "person"]
#: Name of the shipped Fashion-MNIST-scenes FCN-8s in ``data/models/manifest.json``.
SCENES_FCN8S = "fcn8s-scenes"
#: The shipped FCNs on 224-pixel scenes, by variant.
SCENES224_FCNS = {v: f"fcn{v}-scenes224" for v in ("32s", "16s", "8s")}
#: The shipped FCN-8s on a small VGG trained from scratch (the fcn_score notebook's scenes segmenter).
SCENES224_SMALL_FCN = "fcn8s-small-scenes224"
_PREPROCESS = {
    "efficientnet-lite0": "no resize; EfficientNet-Lite normalisation (x - 127) / 128",
    "vgg16": "no resize; ImageNet mean/std normalisation",
    "vgg-small": "no resize; x / 127.5 - 1 (the encoder averages 2 x 2 pixels first)",
}


class Segmenter:
    """A network that labels every pixel, with its preprocessing.

    Parameters
    ----------
    name : str
    model : torch.nn.Module
    preprocess : callable
        ``uint8`` ``N x 3 x H x W`` torch tensor (CPU) -> float batch on the model's device.
    logits : callable
        ``(model, x)`` -> ``N x num_classes x h x w`` scores.
    num_classes : int
    class_names : list of str
    background : int or None
        Label of the background class (for foreground accuracy).
    device : torch.device
    spec : dict
        What the preprocessing does, for reports.

    Notes
    -----
    Scores are resized (bilinear) to the input size before the argmax, so the
    label maps align with the input images and their ground truth.
    """

    def __init__(self, name, model, *, preprocess, logits, num_classes, class_names, background, device, spec):
        self.name = name
        self.model = model
        self._preprocess = preprocess
        self._logits = logits
        self.num_classes = int(num_classes)
        self.class_names = list(class_names)
        self.background = background
        self.device = device
        self.spec = dict(spec)

    def __repr__(self) -> str:
        return f"Segmenter({self.name!r}, {self.num_classes} classes, device={self.device})"

    def __call__(self, images, *, batch_size: int = 16, progress: bool = False):
        """Label maps of ``uint8`` ``N x 3 x H x W`` images (NumPy in, NumPy out; torch in, torch out)."""
        import torch
        import torch.nn.functional as F
        from tqdm.auto import tqdm

        as_torch = torch.is_tensor(images)
        x_all = check_uint8_images(images, name="images", channels=3, keep_torch=True)
        batch_size = check_int(batch_size, name="batch_size", minimum=1)
        h, w = x_all.shape[-2:]
        out = []
        with torch.no_grad():
            for s in tqdm(range(0, x_all.shape[0], batch_size), desc=self.name, disable=not progress, leave=False):
                xb = x_all[s : s + batch_size]
                xb = xb.cpu() if as_torch else torch.from_numpy(np.ascontiguousarray(xb))
                scores = self._logits(self.model, self._preprocess(xb))
                if scores.shape[-2:] != (h, w):
                    scores = F.interpolate(scores, size=(h, w), mode="bilinear", align_corners=False)
                out.append(scores.argmax(1).cpu())
        labels = torch.cat(out) if out else torch.zeros((0, h, w), dtype=torch.long)
        return labels if as_torch else labels.numpy()


# ----------------------------------------------------------------------------
# fcn-resnet50 (torchvision, COCO with VOC labels)
# ----------------------------------------------------------------------------
def albumentations_preprocess(size: int = 256):
    """The FCN-score document's transform: ``A.Resize(size, size)`` then ImageNet ``A.Normalize``."""
    import albumentations as A

    return A.Compose([A.Resize(size, size), A.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD, max_pixel_value=255.0)])


def _build_fcn_resnet50(*, device, weights=None, size: int = 256):
    import torch
    import torchvision

    from genmetrics_nb.weights.manager import path as weights_path
    from genmetrics_nb.util.io import sha256_file

    file = weights_path("fcn_resnet50_coco", path=weights)
    state = torch.load(file, map_location="cpu", weights_only=True)
    # The published checkpoint includes the auxiliary head (aux_loss=True).
    with torch.device("meta"):
        model = torchvision.models.segmentation.fcn_resnet50(
            weights=None, weights_backbone=None, num_classes=21, aux_loss=True
        )
    model.load_state_dict(state, strict=True, assign=True)
    model.aux_classifier = None  # not used at inference (torchvision skips it when None)
    model.eval().requires_grad_(False).to(device)
    transform = albumentations_preprocess(size)

    def preprocess(x_uint8):
        batch = [transform(image=img.permute(1, 2, 0).numpy())["image"] for img in x_uint8]
        return torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).contiguous().to(device)

    def logits(m, x):
        return m(x)["out"]

    spec = {
        "architecture": "torchvision.models.segmentation.fcn_resnet50 (COCO_WITH_VOC_LABELS_V1)",
        "preprocess": f"albumentations Resize({size}, {size}) (cv2 bilinear) + Normalize(ImageNet mean/std)",
        "output": "logits resized bilinearly to the input size, argmax",
        "weights_sha256": sha256_file(file),
    }
    return Segmenter(
        "fcn-resnet50", model, preprocess=preprocess, logits=logits, num_classes=21,
        class_names=VOC_CLASSES, background=0, device=device, spec=spec,
    )  # fmt: skip


def load_shipped_fcn(name: str, *, device="cpu", weights=None):
    """A shipped FCN checkpoint (``data/models/<name>.pt``, sha256 checked) and its manifest entry.

    Parameters
    ----------
    name : str
        Manifest name, e.g. ``"fcn8s-scenes224"``.
    device : str
    weights : path, optional
        Load this :func:`~genmetrics_nb.segmentation.checkpoint.save_fcn` file instead (entry ``{}``).

    Returns
    -------
    (FCN, dict)
    """
    from genmetrics_nb.device import resolve
    from genmetrics_nb.segmentation.checkpoint import load_fcn
    from genmetrics_nb.weights.shipped import shipped_file

    if weights is not None:
        file, entry = Path(weights), {}
    else:
        file, entry = shipped_file(name)
    model = load_fcn(file, device=resolve(device))
    model.checkpoint_file = file
    return model, entry


def _build_shipped_fcn(name: str, *, device, weights=None):
    from genmetrics_nb.datasets.scenes import SCENE_CLASSES

    model, entry = load_shipped_fcn(name, device=device, weights=weights)
    file = model.checkpoint_file
    spec = {
        "architecture": f"FCN-{model.variant} on {model.encoder_name} (genmetrics_nb.segmentation.FCN)",
        "preprocess": _PREPROCESS[model.encoder_name],
        "trained_on": (entry.get("data") or {}).get("train", "Fashion-MNIST scenes (gm.datasets.fashion_mnist_scenes)"),
        "checkpoint": file.name,
        "command": entry.get("command"),
        "sha256": entry.get("sha256"),
    }
    return Segmenter(
        name, model, preprocess=model.preprocess, logits=lambda m, x: m(x),
        num_classes=model.num_classes, class_names=getattr(model, "class_names", None) or SCENE_CLASSES,
        background=0, device=device, spec=spec,
    )  # fmt: skip


# ----------------------------------------------------------------------------
# mediapipe-selfie (MediaPipe Selfie Segmentation, a TFLite graph run with torch)
# ----------------------------------------------------------------------------
def _build_mediapipe_selfie(*, device, weights=None):
    import cv2
    import torch

    from genmetrics_nb.segmentation.tflite_graph import TFLiteGraph
    from genmetrics_nb.util.io import sha256_file
    from genmetrics_nb.weights.shipped import shipped_file

    file, entry = (Path(weights), {}) if weights is not None else shipped_file("mediapipe-selfie")
    graph = TFLiteGraph(file.read_bytes(), device=device)
    _, size_h, size_w, _ = graph.input_shape

    def preprocess(x_uint8):
        # MediaPipe's graph (ImageToTensorCalculator): the whole image stretched to 256 x 256 with
        # bilinear interpolation, values scaled to [0, 1]. cv2.resize INTER_LINEAR is that resize.
        batch = [
            img if img.shape[:2] == (size_h, size_w) else cv2.resize(img, (size_w, size_h), interpolation=cv2.INTER_LINEAR)
            for img in x_uint8.permute(0, 2, 3, 1).numpy()
        ]
        x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).to(device, torch.float32)
        return x / 255.0

    def logits(g, x):
        (p,) = g(x)  # N x 1 x 256 x 256 person confidence (sigmoid)
        return torch.cat([1.0 - p, p], dim=1)  # argmax = person where p > 0.5

    spec = {
        "architecture": "MediaPipe Selfie Segmentation (general, 256x256; TFLite graph run by TFLiteGraph)",
        "preprocess": f"cv2.resize to {size_w} x {size_h} (INTER_LINEAR), RGB / 255",
        "output": "person confidence [1 - p, p] resized bilinearly to the input size, argmax (p > 0.5)",
        "source": (entry.get("source") or {}).get("package", "explicit weights file"),
        "licence": entry.get("licence"),
        "sha256": sha256_file(file),
    }
    return Segmenter(
        "mediapipe-selfie", graph, preprocess=preprocess, logits=logits, num_classes=2,
        class_names=SELFIE_CLASSES, background=0, device=device, spec=spec,
    )  # fmt: skip


# ----------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------
def _shipped_factory(name: str):
    def factory(*, device, weights=None):
        return _build_shipped_fcn(name, device=device, weights=weights)

    return factory


_FACTORIES = {"fcn-resnet50": _build_fcn_resnet50, "mediapipe-selfie": _build_mediapipe_selfie}
for _name in (SCENES_FCN8S, *SCENES224_FCNS.values(), SCENES224_SMALL_FCN):
    _FACTORIES[_name] = _shipped_factory(_name)


def register_segmenter(name: str, factory, *, overwrite: bool = False) -> None:
    """Add a segmenter factory ``factory(*, device, weights=None) -> Segmenter``.

    Raises
    ------
    ValueError
        If ``name`` is taken and ``overwrite`` is False.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    if not callable(factory):
        raise TypeError(f"factory must be callable, got {type(factory).__name__}")
    if name in _FACTORIES and not overwrite:
        raise ValueError(f"a segmenter named {name!r} is already registered; pass overwrite=True to replace it")
    _FACTORIES[name] = factory


def list_segmenters() -> list[str]:
    """Registered segmenter names."""
    return sorted(_FACTORIES)


def get_segmenter(name: str, *, device="auto", weights=None) -> Segmenter:
    """Build a registered segmenter.

    Parameters
    ----------
    name : str
        ``"fcn-resnet50"``, ``"mediapipe-selfie"``, ``"fcn8s-scenes"``, ``"fcn{32s,16s,8s}-scenes224"``,
        ``"fcn8s-small-scenes224"`` or a name added
        with :func:`register_segmenter`.
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    weights : path, optional
        An explicit checkpoint (publisher's format for ``fcn-resnet50``, the ``.tflite`` file for
        ``mediapipe-selfie``, :func:`~genmetrics_nb.segmentation.checkpoint.save_fcn` format for the
        shipped FCNs).
    """
    from genmetrics_nb.device import resolve

    if name not in _FACTORIES:
        raise ValueError(f"unknown segmenter {name!r}; choose from {list_segmenters()}")
    return _FACTORIES[name](device=resolve(device), weights=weights)
