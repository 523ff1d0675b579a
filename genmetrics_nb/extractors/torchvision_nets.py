"""Extractors on torchvision ImageNet networks: Inception-v3 and VGG-16.

``inception-v3-torchvision``
    torchvision's ImageNet Inception-v3 (``inception_v3_google-0cc3c7bd.pth``),
    the PyTorch analogue of the Keras ``InceptionV3`` that some FID tutorials
    use. The whole image is resized to 299 x 299 (bilinear, antialiased),
    normalised with the ImageNet mean/std and passed through the network's
    own ``transform_input`` step, exactly the pipeline torchvision documents
    for these weights minus the centre crop. Outputs ``pool`` (2048, the
    global average pool) and ``logits`` (1000).
``vgg16-fc2``
    torchvision VGG-16 (``vgg16-397923af.pth``) as torch-fidelity uses it
    for precision/recall: TF1 bilinear resize to 224, ImageNet mean/std,
    outputs ``fc2_relu`` (4096, the embedding of the Kynkäänniemi et al.
    precision/recall protocol), ``fc2`` (the same before its ReLU) and
    ``logits`` (1000).

References
----------
.. [1] C. Szegedy et al., "Rethinking the Inception Architecture for Computer
   Vision", CVPR 2016.
.. [2] K. Simonyan and A. Zisserman, "Very Deep Convolutional Networks for
   Large-Scale Image Recognition", ICLR 2015.
.. [3] T. Kynkäänniemi et al., "Improved Precision and Recall Metric for
   Assessing Generative Models", NeurIPS 2019 (VGG-16 fc2 features).
.. [4] torch-fidelity ``feature_extractor_vgg16.py``:
   https://github.com/toshas/torch-fidelity
"""
from __future__ import annotations

__all__ = ["build_inception_v3", "build_vgg16_fc2", "imagenet_normalize"]

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_normalize(x):
    """``(x - 255 * mean) / (255 * std)`` on float 0..255 RGB (torch-fidelity's form)."""
    import torch

    mean = torch.tensor([255 * m for m in _IMAGENET_MEAN], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor([255 * s for s in _IMAGENET_STD], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


def _load(name, weights, device, builder):
    import torch

    from genmetrics_nb.device import resolve
    from genmetrics_nb.weights import manager
    from genmetrics_nb.weights.manager import sha256_file

    path = manager.path(name) if weights is None else weights
    model = builder()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval().requires_grad_(False)
    return model.to(resolve(device)), sha256_file(path)


# ----------------------------------------------------------------------------
# Inception-v3 (torchvision)
# ----------------------------------------------------------------------------
def _inception_preprocess(x):
    import torch.nn.functional as F

    if x.shape[-2:] != (299, 299):
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False, antialias=True)
    return imagenet_normalize(x)


def _inception_forward(m, x, names):
    import torch.nn.functional as F

    x = m._transform_input(x)
    for layer in (m.Conv2d_1a_3x3, m.Conv2d_2a_3x3, m.Conv2d_2b_3x3, m.maxpool1,
                  m.Conv2d_3b_1x1, m.Conv2d_4a_3x3, m.maxpool2,
                  m.Mixed_5b, m.Mixed_5c, m.Mixed_5d, m.Mixed_6a, m.Mixed_6b, m.Mixed_6c,
                  m.Mixed_6d, m.Mixed_6e, m.Mixed_7a, m.Mixed_7b, m.Mixed_7c):
        x = layer(x)
    pool = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
    out = {"pool": pool}
    if "logits" in names:
        out["logits"] = m.fc(pool)
    return out


def build_inception_v3(*, device, weights=None):
    """Factory registered as ``"inception-v3-torchvision"``."""
    from genmetrics_nb.extractors.base import Extractor

    def builder():
        from torchvision.models import inception_v3

        # The published checkpoint holds the auxiliary classifier too, and
        # torchvision uses transform_input=True with these weights.
        return inception_v3(weights=None, aux_logits=True, transform_input=True, init_weights=False)

    model, digest = _load("inception_v3_google", weights, device, builder)
    spec = {
        "architecture": "torchvision inception_v3 (IMAGENET1K_V1), transform_input=True",
        "input_size": [299, 299],
        "resize": "bilinear, antialias, align_corners=False (torch.nn.functional.interpolate)",
        "normalize": "ImageNet mean/std, then the network's transform_input",
        "channels": "RGB; grayscale repeated",
        "weights": "inception_v3_google" if weights is None else "user file",
        "version": 1,
    }
    return Extractor("inception-v3-torchvision", model, preprocess=_inception_preprocess,
                     forward=_inception_forward, outputs={"pool": 2048, "logits": 1000},
                     spec=spec, weights_digest=digest, device=model.fc.weight.device)


# ----------------------------------------------------------------------------
# VGG-16 fc2
# ----------------------------------------------------------------------------
def _vgg_preprocess(x):
    from genmetrics_nb.extractors.inception_fid import tf1_bilinear_resize

    return imagenet_normalize(tf1_bilinear_resize(x, (224, 224)))


def _vgg_forward(m, x, names):
    import torch.nn.functional as F

    x = m.avgpool(m.features(x)).flatten(1)
    c = m.classifier  # fc1, relu, dropout, fc2, relu, dropout, fc3
    fc2 = c[3](c[1](c[0](x)))
    out = {"fc2": fc2, "fc2_relu": F.relu(fc2)}
    if "logits" in names:
        out["logits"] = c[6](out["fc2_relu"])
    return out


def build_vgg16_fc2(*, device, weights=None):
    """Factory registered as ``"vgg16-fc2"``."""
    from genmetrics_nb.extractors.base import Extractor

    def builder():
        from torchvision.models import vgg16

        return vgg16(weights=None, init_weights=False)

    model, digest = _load("vgg16", weights, device, builder)
    spec = {
        "architecture": "torchvision vgg16 (IMAGENET1K_V1)",
        "input_size": [224, 224],
        "resize": "TF1 bilinear, align_corners=False (as torch-fidelity's VGG16)",
        "normalize": "ImageNet mean/std",
        "channels": "RGB; grayscale repeated",
        "weights": "vgg16" if weights is None else "user file",
        "version": 1,
    }
    return Extractor("vgg16-fc2", model, preprocess=_vgg_preprocess, forward=_vgg_forward,
                     outputs={"fc2_relu": 4096, "fc2": 4096, "logits": 1000}, spec=spec,
                     weights_digest=digest, device=next(model.parameters()).device)
