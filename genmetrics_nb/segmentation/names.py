"""Names of the FCN encoders and variants (no torch import: the CLI lists them in ``--help``)."""
from __future__ import annotations

__all__ = ["ENCODERS", "PRETRAINED_ENCODERS", "VARIANTS"]

ENCODERS = ("efficientnet-lite0", "vgg16", "vgg-small")
#: Encoders with published (ImageNet) weights; the others always start from random weights.
PRETRAINED_ENCODERS = ("efficientnet-lite0", "vgg16")
VARIANTS = ("32s", "16s", "8s")
