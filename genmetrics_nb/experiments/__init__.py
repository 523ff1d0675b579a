"""The notebooks' stories: one module per notebook, each ending in that notebook's verdict.

A notebook writes ``gm.experiments.distortion_sweep(...)`` without knowing
the module: :data:`_EXPORTS` names every public name and where it lives
(the story modules here, and the machinery several stories share, which
sits lower: :mod:`genmetrics_nb.suites.class_draws`,
:mod:`genmetrics_nb.suites.generator_sweeps`). Nothing is imported until a
name is used, and only its module is.
"""
from __future__ import annotations

import importlib

_STORIES = {
    "fid": ("FIDMatrix", "class_pair_fid", "SameVsDifferent", "same_vs_different", "RangePitfall",
            "range_pitfall", "fid_verdict"),
    "inception_score": ("ISExperiment", "inception_score_experiment", "inception_score_verdict"),
    "precision_recall": ("PRScenarios", "pr_scenarios", "precision_recall_verdict"),
    "kid": ("SampleSizeSweep", "sample_size_sweep", "kid_verdict"),
    "lpips": ("TwoAFC", "find_disagreement", "rank_agreement", "lpips_verdict"),
    "psnr_ssim": ("DistortionSweep", "distortion_sweep", "default_metrics", "psnr_ssim_verdict"),
    "iou_dice": ("ClassScoreTable", "class_score_table", "VariantOrdering", "compare_variants", "iou_dice_verdict",
                 "MIN_FOREGROUND", "MIN_CLASS_SHARE", "SeedSpread", "seed_spread"),
    "fcn_score": ("fcn_score_inputs", "fcn_score_blur_sweep", "BlurSweep", "DEFAULT_KERNELS", "fcn_score_records",
                  "fcn_score_verdict", "NOISE_TOLERANCE", "MIN_SEGMENTER_IOU"),
    "linear_separability": ("separability_sweep", "linear_separability_verdict"),
    "ppl": ("ppl_sweep", "ppl_verdict"),
    "stylegan2_metrics": ("metric_table", "stylegan2_metrics_verdict"),
    "parity": ("ParityTable", "parity_table", "parity_verdict", "PARITY_ROWS"),
    "evaluate": ("evaluate_verdict",),
    "t2i": ("T2IInputs", "t2i_categories", "t2i_inputs", "t2i_protocol", "t2i_summary", "t2i_truncation",
            "t2i_verdict", "t2i_worst"),
    "metric_papers": ("PaperSection", "expected_coverage", "naeem_lemmas", "prdc_example", "prd_reference_cases",
                      "prd_modes", "vendi_readme", "pixel_vendi_table", "top_pr_example", "ct_moons",
                      "metric_papers_verdict", "SPREAD_SDS"),
}

#: Public name -> ``"module:attribute"``.
_EXPORTS = {name: f"{__name__}.{module}:{name}" for module, names in _STORIES.items() for name in names}
_EXPORTS.update({
    # machinery the stories share, one layer down
    "ClassFeatures": "genmetrics_nb.suites.class_draws:ClassFeatures",
    "class_features": "genmetrics_nb.suites.class_draws:class_features",
    "SweepResult": "genmetrics_nb.suites.generator_sweeps:SweepResult",
    "load_generators": "genmetrics_nb.suites.generator_sweeps:load_generators",
    "ParityRow": "genmetrics_nb.testing.peers:ParityRow",
    "INTERVAL_METHOD": "genmetrics_nb.metrics.distribution.bootstrap:INTERVAL_METHOD",
    "Verdict": "genmetrics_nb.util.findings:Verdict",
})

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        module, attr = _EXPORTS[name].split(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _STORIES:  # gm.experiments.fid: the story module itself
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"genmetrics_nb.experiments has no experiment {name!r}")


def __dir__():
    return __all__ + list(_STORIES)
