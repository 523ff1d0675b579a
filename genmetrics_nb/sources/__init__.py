"""Sources: anything a user passes, resolved once into what the rest of the package reads.

:func:`resolve` decides what an input is (images, statistics or features)
and returns an :class:`ImageSource`, :class:`StatsInput` or
:class:`FeaturesInput`; :func:`generated` makes a generator a source;
:func:`load_images` reads any image source into memory. The layer sits
below ``features``: the feature engine, the metrics, the suites and the
command line all take their inputs from here.
"""
from __future__ import annotations

from genmetrics_nb.sources.generated import GeneratorSource, generated, is_generator_spec, load_generator_spec
from genmetrics_nb.sources.datasets import is_dataset_spec
from genmetrics_nb.sources.load import load_images
from genmetrics_nb.sources.resolver import SOURCE_KINDS, resolve, resolve_images
from genmetrics_nb.sources.source import FeaturesInput, ImageSource, StatsInput

__all__ = [
    "FeaturesInput",
    "GeneratorSource",
    "ImageSource",
    "SOURCE_KINDS",
    "StatsInput",
    "generated",
    "is_dataset_spec",
    "is_generator_spec",
    "load_generator_spec",
    "load_images",
    "resolve",
    "resolve_images",
]
