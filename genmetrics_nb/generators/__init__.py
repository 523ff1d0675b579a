"""Generators for the generator metrics (PPL, linear separability, the StyleGAN2 table).

- :class:`Generator`: the protocol (``sample_z``, ``mapping``, ``w_avg``,
  ``synthesis`` with a declared ``value_range``, ``generate``).
- :class:`ModuleGenerator`: a plain ``nn.Module`` z -> image (optionally with a mapping).
- :class:`StyleGANGenerator` and :func:`load_stylegan_pickle`: NVIDIA's
  StyleGAN2-ADA / StyleGAN3 networks.
- :class:`SmallStyleGAN`: the small style-based architecture of the shipped
  Fashion-MNIST generator (see :mod:`genmetrics_nb.zoo`).
- :mod:`~genmetrics_nb.generators.suite`: sweeps over checkpoints and
  truncation run by the generator notebooks.
"""
from __future__ import annotations

import importlib

from genmetrics_nb.generators.adapters import ModuleGenerator, StyleGANGenerator, load_stylegan_pickle
from genmetrics_nb.generators.protocol import Generator, check_generator

__all__ = [
    "Generator",
    "ModuleGenerator",
    "StyleGANGenerator",
    "SmallStyleGAN",
    "check_generator",
    "load_stylegan_pickle",
]


def __getattr__(name):
    if name == "SmallStyleGAN":  # imports torch; loaded on first use
        return importlib.import_module("genmetrics_nb.generators.small_stylegan").SmallStyleGAN
    if name == "suite":  # the notebooks' sweeps (pandas, sklearn); loaded on first use
        return importlib.import_module("genmetrics_nb.generators.suite")
    raise AttributeError(f"genmetrics_nb.generators has no attribute {name!r}")
