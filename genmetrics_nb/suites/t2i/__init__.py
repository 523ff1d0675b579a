"""Text-to-image evaluation as one protocol: images with prompts in; alignment, preference and distance out.

- :mod:`.inputs`: the prompted images (a folder with ``prompts.jsonl``, a
  benchmark layout, or a ``prompts.jsonl`` elsewhere) and a labelled
  stand-in folder built from Fashion-MNIST for runs without generated images;
- :mod:`.scores`: CLIPScore under a named convention, PickScore, HPS, CMMD
  and FD-DINOv2 from the files the caller names, as one :class:`T2IScores`;
- :mod:`.breakdown`: per prompt category, the worst-aligned prompts, the
  tokenizer truncation report and the protocol block.

The notebook ``notebooks/t2i.ipynb`` (``genmetrics_nb.experiments.t2i``) and
``genmetrics-nb evaluate-t2i`` use it.
"""
from __future__ import annotations

from genmetrics_nb.suites.t2i.breakdown import (
    CategoryTable,
    TruncationReport,
    WorstAligned,
    category_table,
    protocol_block,
    truncation_table,
    worst_aligned,
)
from genmetrics_nb.suites.t2i.inputs import load_prompted, write_class_prompt_folder
from genmetrics_nb.suites.t2i.scores import T2IModels, T2IScores, score_t2i

__all__ = ["CategoryTable", "TruncationReport", "T2IModels", "T2IScores", "WorstAligned", "category_table", "load_prompted",
           "protocol_block", "score_t2i", "truncation_table", "worst_aligned", "write_class_prompt_folder"]
