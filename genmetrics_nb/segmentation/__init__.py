"""FCN segmentation: models, training, and the segmenters behind the FCN-score.

- :class:`FCN` — FCN-32s / 16s / 8s on a VGG-16 or EfficientNet-Lite0 encoder
  (:mod:`genmetrics_nb.segmentation.fcn`);
- :func:`encode_scenes`, :func:`train_fcn`, :func:`evaluate_fcn`,
  :func:`predict_fcn`, :func:`save_fcn`, :func:`load_fcn`
  (:mod:`genmetrics_nb.segmentation.train`);
- :func:`get_segmenter`, :func:`list_segmenters`, :func:`register_segmenter`
  (:mod:`genmetrics_nb.segmentation.segmenters`): ``"fcn-resnet50"`` and the
  shipped ``"fcn8s-scenes"``;
- :func:`class_score_table`, :func:`compare_variants` (:mod:`genmetrics_nb.segmentation.tables`);
- :func:`fcn_score_inputs` (scenes or a photograph for the FCN-score notebook) and,
  re-exported from :mod:`genmetrics_nb.metrics.fcn_score`, :func:`fcn_score_blur_sweep`
  and :func:`box_blur`.

Everything loads lazily: importing this package does not import torch.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "FCN": "genmetrics_nb.segmentation.fcn:FCN",
    "ENCODERS": "genmetrics_nb.segmentation.fcn:ENCODERS",
    "VARIANTS": "genmetrics_nb.segmentation.fcn:VARIANTS",
    "TRAIN_DEFAULTS": "genmetrics_nb.segmentation.train:TRAIN_DEFAULTS",
    "EncodedScenes": "genmetrics_nb.segmentation.train:EncodedScenes",
    "TrainedFCN": "genmetrics_nb.segmentation.train:TrainedFCN",
    "TrainingHistory": "genmetrics_nb.segmentation.train:TrainingHistory",
    "encode_scenes": "genmetrics_nb.segmentation.train:encode_scenes",
    "train_fcn": "genmetrics_nb.segmentation.train:train_fcn",
    "evaluate_fcn": "genmetrics_nb.segmentation.train:evaluate_fcn",
    "predict_fcn": "genmetrics_nb.segmentation.train:predict_fcn",
    "save_fcn": "genmetrics_nb.segmentation.train:save_fcn",
    "load_fcn": "genmetrics_nb.segmentation.train:load_fcn",
    "Segmenter": "genmetrics_nb.segmentation.segmenters:Segmenter",
    "get_segmenter": "genmetrics_nb.segmentation.segmenters:get_segmenter",
    "list_segmenters": "genmetrics_nb.segmentation.segmenters:list_segmenters",
    "register_segmenter": "genmetrics_nb.segmentation.segmenters:register_segmenter",
    "class_score_table": "genmetrics_nb.segmentation.tables:class_score_table",
    "ClassScoreTable": "genmetrics_nb.segmentation.tables:ClassScoreTable",
    "compare_variants": "genmetrics_nb.segmentation.tables:compare_variants",
    "VariantOrdering": "genmetrics_nb.segmentation.tables:VariantOrdering",
    "fcn_score_inputs": "genmetrics_nb.segmentation.data:fcn_score_inputs",
    "fcn_score_blur_sweep": "genmetrics_nb.metrics.fcn_score:fcn_score_blur_sweep",
    "box_blur": "genmetrics_nb.metrics.fcn_score:box_blur",
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
