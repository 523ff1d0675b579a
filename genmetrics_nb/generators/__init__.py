"""Generators for the generator metrics (PPL, linear separability, the StyleGAN2 table).

- :class:`Generator`: the protocol (``sample_z``, ``mapping``, ``w_avg``,
  ``synthesis`` with a declared ``value_range``, ``generate``).
- :class:`ModuleGenerator`: a plain ``nn.Module`` z -> image (optionally with a mapping).
- :class:`StyleGANGenerator` and :func:`load_stylegan_pickle`: NVIDIA's
  StyleGAN2-ADA / StyleGAN3 networks.
- :class:`SmallStyleGAN`: the small style-based architecture of the shipped
  Fashion-MNIST generator (see :mod:`genmetrics_nb.zoo`).
- :class:`GeneratorSource`: a generator's images as a source for the distribution
  metrics, drawn batch by batch with a fingerprint for the feature cache.
- :class:`AttributeClassifier`: a classifier of attributes on generated
  images (linear separability's labeller).
"""
from __future__ import annotations

import importlib

from genmetrics_nb.generators.adapters import (
    ModuleGenerator,
    StyleGANGenerator,
    check_generator,
    load_stylegan_pickle,
)
from genmetrics_nb.generators.attributes import AttributeClassifier
from genmetrics_nb.generators.protocol import Generator
from genmetrics_nb.generators.source import GeneratorSource

__all__ = [
    "AttributeClassifier",
    "Generator",
    "GeneratorSource",
    "ModuleGenerator",
    "StyleGANGenerator",
    "SmallStyleGAN",
    "check_generator",
    "load_stylegan_pickle",
]


def __getattr__(name):
    if name == "SmallStyleGAN":  # imports torch; loaded on first use
        return importlib.import_module("genmetrics_nb.generators.small_stylegan").SmallStyleGAN
    raise AttributeError(f"genmetrics_nb.generators has no attribute {name!r}")
