"""genmetrics-nb: exact, fast, notebook-friendly metrics for generated images.

Everything is imported lazily: ``import genmetrics_nb`` loads neither torch
weights nor touches the network, and heavy sub-modules load on first use.

Examples
--------
>>> import genmetrics_nb as gm
>>> gm.__version__
'0.1.0'
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public name -> "module:attribute".  One table, so the public surface is
# visible in one place and nothing heavy is imported before it is used.
_EXPORTS = {
    # images and devices
    "load_images": "genmetrics_nb.sources.load:load_images",
    "resolve": "genmetrics_nb.sources.resolver:resolve",
    "generated": "genmetrics_nb.sources.generated:generated",
    "ImageBatch": "genmetrics_nb.images:ImageBatch",
    "image_folder": "genmetrics_nb.image_sets:image_folder",
    "prompted_images": "genmetrics_nb.sources.prompted:prompted_images",
    # reporting
    "record": "genmetrics_nb.report.record:record",
    "recorded": "genmetrics_nb.report.record:recorded",
    # full-reference metrics
    "psnr": "genmetrics_nb.metrics.pixel.psnr:psnr",
    "ssim": "genmetrics_nb.metrics.pixel.ssim:ssim",
    "ms_ssim": "genmetrics_nb.metrics.pixel.ssim:ms_ssim",
    "lpips": "genmetrics_nb.metrics.pixel.lpips:lpips",
    "LPIPS": "genmetrics_nb.metrics.pixel.lpips:LPIPS",
    # distribution metrics
    "frechet_distance": "genmetrics_nb.metrics.distribution.frechet:frechet_distance",
    "fid": "genmetrics_nb.metrics.distribution.fid:fid",
    "fid_infinity": "genmetrics_nb.metrics.distribution.fid:fid_infinity",
    "kid": "genmetrics_nb.metrics.distribution.kid:kid",
    "inception_score": "genmetrics_nb.metrics.distribution.inception_score:inception_score",
    "precision_recall": "genmetrics_nb.metrics.distribution.knn:precision_recall",
    "density_coverage": "genmetrics_nb.metrics.distribution.knn:density_coverage",
    "bootstrap": "genmetrics_nb.metrics.distribution.bootstrap:bootstrap",
    "sfid": "genmetrics_nb.metrics.distribution.sfid:sfid",
    "cmmd": "genmetrics_nb.metrics.distribution.cmmd:cmmd",
    # text-to-image metrics
    "clip_tokenize": "genmetrics_nb.extractors.clip_tokenizer:clip_tokenize",
    "clip_score": "genmetrics_nb.metrics.text.clip_score:clip_score",
    "pickscore": "genmetrics_nb.metrics.text.pickscore:pickscore",
    "hpsv2": "genmetrics_nb.metrics.text.hpsv2:hpsv2",
    "clip_class_accuracy": "genmetrics_nb.metrics.text.class_accuracy:clip_class_accuracy",
    "imagereward": "genmetrics_nb.metrics.text.imagereward:imagereward",
    # text-image alignment from answers or detections the user brings
    "dsg_score": "genmetrics_nb.metrics.alignment.dsg:dsg_score",
    "tifa_score": "genmetrics_nb.metrics.alignment.tifa:tifa_score",
    "geneval_score": "genmetrics_nb.metrics.alignment.geneval:geneval_score",
    "clipped_density_coverage": "genmetrics_nb.metrics.distribution.clipped_density_coverage:clipped_density_coverage",
    # diversity metrics
    "vendi_score": "genmetrics_nb.metrics.diversity.vendi:vendi_score",
    "prd": "genmetrics_nb.metrics.diversity.prd:prd",
    "sliced_wasserstein": "genmetrics_nb.metrics.diversity.sliced_wasserstein:sliced_wasserstein",
    "rarity_score": "genmetrics_nb.metrics.distribution.rarity:rarity_score",
    # support (fidelity / diversity) metrics
    "top_pr": "genmetrics_nb.metrics.support.top_pr:top_pr",
    "pp_pr": "genmetrics_nb.metrics.support.pp_pr:pp_pr",
    "alpha_precision": "genmetrics_nb.metrics.support.alpha_precision:alpha_precision",
    # memorisation metrics
    "authpct": "genmetrics_nb.metrics.memorisation.authpct:authpct",
    "ct_test": "genmetrics_nb.metrics.memorisation.ct_test:ct_test",
    "fld": "genmetrics_nb.metrics.memorisation.fld:fld",
    # segmentation scores
    "ConfusionMatrix": "genmetrics_nb.metrics.segmentation.confusion:ConfusionMatrix",
    "fcn_score": "genmetrics_nb.metrics.segmentation.fcn_score:fcn_score",
    "fcn_score_images": "genmetrics_nb.metrics.segmentation.fcn_score:fcn_score_images",
    # generator metrics
    "ppl": "genmetrics_nb.metrics.generator.ppl:ppl",
    "linear_separability": "genmetrics_nb.metrics.generator.separability:linear_separability",
    # features
    "list_extractors": "genmetrics_nb.extractors.registry:list_extractors",
    "get_extractor": "genmetrics_nb.extractors.registry:get_extractor",
    "register_extractor": "genmetrics_nb.extractors.registry:register_extractor",
    "extract_features": "genmetrics_nb.features.engine:extract_features",
    "Features": "genmetrics_nb.features.engine:Features",
    "feature_stats": "genmetrics_nb.features.engine:feature_stats",
    "FeatureStats": "genmetrics_nb.features.stats:FeatureStats",
}

# Sub-packages reachable as attributes (``gm.datasets.fashion_mnist``).
_SUBMODULES = {
    "datasets",
    "device",
    "images",
    "image_sets",
    "metrics",
    "weights",
    "extractors",
    "features",
    "segmentation",
    "generators",
    "report",
    "plots",
    "experiments",
    "distortions",
    "zoo",
    "training",
    "sources",
    "suites",
    "prompts",
}

__all__ = sorted(_EXPORTS) + sorted(_SUBMODULES) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        module, attr = _EXPORTS[name].split(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        value = importlib.import_module(f"genmetrics_nb.{name}")
        globals()[name] = value
        return value
    raise AttributeError(f"module 'genmetrics_nb' has no attribute {name!r}")


def __dir__():
    return __all__
