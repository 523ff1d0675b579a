"""The evaluate suite: one or more generated sets judged against one reference.

The machinery of ``notebooks/evaluate.ipynb`` and ``genmetrics-nb evaluate``,
one concept per module:

- :mod:`.sets`: reading each set (all its images, or a stated seeded cap),
  extracting its features once, and splitting the reference when no
  held-out real images are given (:func:`load_sets`, :func:`reference_split`);
- :mod:`.summary`: FD, KID, IS, precision, recall, density, coverage and
  FD-infinity of each set against the whole reference, computed by the
  public metric functions on the extracted features (:func:`summary_table`);
- :mod:`.galleries`: the realism score of every sample, copies shown as such;
- :mod:`.copy_detection`: each generated sample's nearest image in the whole
  reference, against held-out real images;
- :mod:`.class_breakdown`: class histograms and FD per class;
- :mod:`.sample_size`: FD against the number of generated samples;
- :mod:`.protocol`: every detail that reproduces the numbers, with each
  set's full and used size;
- :mod:`.display`: the number format and tables the results share.

The notebook's verdict is :func:`genmetrics_nb.experiments.evaluate.evaluate_verdict`.
Nothing heavy is imported until a function is called. No module is named
like a function exported here: importing a module binds its name on the
package, which would hide the function of the same name.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "Evaluation": "sets", "EvaluationSet": "sets", "ReferenceSplit": "sets", "read_set": "sets",
    "draw_rows": "sets", "load_sets": "sets", "reference_split": "sets",
    "SummaryTable": "summary", "summary_table": "summary",
    "RealismGalleries": "galleries", "realism": "galleries",
    "Memorisation": "copy_detection", "memorisation": "copy_detection",
    "PerClass": "class_breakdown", "per_class": "class_breakdown",
    "sample_size_curve": "sample_size",
    "ProtocolTable": "protocol", "protocol_table": "protocol",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
