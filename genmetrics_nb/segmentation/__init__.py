"""Segmentation networks: the FCN models and the segmenters behind the FCN-score.

- :class:`FCN`: FCN-32s / 16s / 8s on a VGG-16 or EfficientNet-Lite0 encoder
  (:mod:`~genmetrics_nb.segmentation.fcn`); :func:`save_fcn` and
  :func:`load_fcn` read and write its checkpoints
  (:mod:`~genmetrics_nb.segmentation.checkpoint`).
- :func:`get_segmenter`, :func:`list_segmenters`, :func:`register_segmenter`
  (:mod:`~genmetrics_nb.segmentation.segmenters`): ``"fcn-resnet50"`` and the
  shipped ``"fcn8s-scenes"``, ``"fcn{32s,16s,8s}-scenes224"`` and ``"mediapipe-selfie"``
  (MediaPipe's pretrained person segmenter, run by
  :class:`~genmetrics_nb.segmentation.tflite_graph.TFLiteGraph`);
  :func:`load_shipped_fcn` loads a shipped FCN with its manifest entry.

Training lives in :mod:`genmetrics_nb.training.fcn`, the scores in
:mod:`genmetrics_nb.metrics.segmentation`. Everything loads lazily:
importing this package does not import torch.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "FCN": "genmetrics_nb.segmentation.fcn:FCN",
    "ENCODERS": "genmetrics_nb.segmentation.fcn:ENCODERS",
    "VARIANTS": "genmetrics_nb.segmentation.fcn:VARIANTS",
    "save_fcn": "genmetrics_nb.segmentation.checkpoint:save_fcn",
    "load_fcn": "genmetrics_nb.segmentation.checkpoint:load_fcn",
    "Segmenter": "genmetrics_nb.segmentation.segmenters:Segmenter",
    "load_shipped_fcn": "genmetrics_nb.segmentation.segmenters:load_shipped_fcn",
    "SCENES224_FCNS": "genmetrics_nb.segmentation.segmenters:SCENES224_FCNS",
    "get_segmenter": "genmetrics_nb.segmentation.segmenters:get_segmenter",
    "list_segmenters": "genmetrics_nb.segmentation.segmenters:list_segmenters",
    "register_segmenter": "genmetrics_nb.segmentation.segmenters:register_segmenter",
    "TFLiteGraph": "genmetrics_nb.segmentation.tflite_graph:TFLiteGraph",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name].split(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"genmetrics_nb.segmentation has no attribute {name!r}")


def __dir__():
    return __all__
