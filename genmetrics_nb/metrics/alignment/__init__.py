"""Text-image alignment scores aggregated from answers or detections the user brings.

The VQA models and detectors of DSG, TIFA and GenEval are large or not
public; their aggregation rules are small and decide the published numbers.
These functions take the answers (DSG, TIFA) or detections (GenEval) from
any model on any machine and apply each benchmark's rules exactly.
"""
from __future__ import annotations

from genmetrics_nb.metrics.alignment.dsg import (
    DSGResult,
    dsg_item_score,
    dsg_score,
    read_dsg_annotations,
    read_dsg_answers,
)
from genmetrics_nb.metrics.alignment.geneval import GenEvalResult, geneval_image, geneval_score
from genmetrics_nb.metrics.alignment.tifa import TIFAResult, read_tifa_result, tifa_score

__all__ = [
    "DSGResult",
    "GenEvalResult",
    "TIFAResult",
    "dsg_item_score",
    "dsg_score",
    "geneval_image",
    "geneval_score",
    "read_dsg_annotations",
    "read_dsg_answers",
    "read_tifa_result",
    "tifa_score",
]
