"""OpenAI guided-diffusion (ADM) evaluation batches: ``.npz`` files of images and, for references, statistics.

A sample batch holds ``arr_0``: ``N x H x W x 3`` ``uint8`` images (and
optionally ``arr_1``, class labels). A reference batch (``VIRTUAL_*.npz``)
holds ``arr_0`` (10,000 images, for precision/recall) **and** the
statistics of the whole reference set: ``mu``, ``sigma`` (pool3, 2048) and
``mu_s``, ``sigma_s`` (sFID's ``mixed_6/conv`` features, 2023). The
evaluator (``Evaluator.read_statistics``) uses the four stored arrays when
``mu`` is present, for either batch, and otherwise computes the statistics
from ``arr_0``; it always reads ``arr_0`` (precision/recall and the Inception
Score need per-image features).

Only the header of ``arr_0`` and the statistics members are read here; the
images are streamed a batch at a time
(:class:`~genmetrics_nb.image_sets.ArrayFileImages`).

References
----------
.. [1] guided-diffusion ``evaluations/README.md`` and ``evaluator.py``
   (``read_statistics``, ``open_npz_array``):
   https://github.com/openai/guided-diffusion/tree/main/evaluations
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from genmetrics_nb.extractors.inception_fid import SPATIAL_DIM
from genmetrics_nb.features import FeatureStats
from genmetrics_nb.image_sets import ArrayFileImages, npz_members

__all__ = ["ADMBatch", "POOL_DIM", "STATISTICS_KEYS", "open_batch"]

#: The members of a reference batch's stored statistics, as the evaluator reads them.
STATISTICS_KEYS = ("mu", "sigma", "mu_s", "sigma_s")
#: pool3 features of the TF FID Inception.
POOL_DIM = 2048


@dataclasses.dataclass(frozen=True)
class ADMBatch:
    """One opened ``.npz`` batch.

    Attributes
    ----------
    path : str
    images : ArrayFileImages
        ``arr_0``, streamed.
    pool_stats, spatial_stats : FeatureStats or None
        The stored ``(mu, sigma)`` and ``(mu_s, sigma_s)``, moment-only
        (None when the file has no ``mu``).
    """

    path: str
    images: ArrayFileImages
    pool_stats: FeatureStats | None
    spatial_stats: FeatureStats | None

    @property
    def has_statistics(self) -> bool:
        return self.pool_stats is not None

    def __len__(self) -> int:
        return len(self.images)


def _stored(z, path: str, name: str, keys: tuple[str, str], dim: int, what: str) -> FeatureStats:
    mu_key, sigma_key = keys
    mu, sigma = np.asarray(z[mu_key]), np.asarray(z[sigma_key])
    if mu.shape != (dim,) or sigma.shape != (dim, dim):
        raise ValueError(
            f"{name}={path!r}: {mu_key} has shape {mu.shape} and {sigma_key} {sigma.shape}, but the ADM "
            f"evaluator's {what} statistics are {dim} and {dim} x {dim}; this is not an ADM reference batch "
            "(recompute its statistics from arr_0 with use_stored_statistics=False)"
        )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError(f"{name}={path!r}: {mu_key} or {sigma_key} holds NaN or Inf; the file is damaged")
    return FeatureStats.from_moments(mu, sigma, meta={"source": f"{path} ({mu_key}, {sigma_key})",
                                                       "output": "pool" if mu_key == "mu" else "spatial"})


def open_batch(path, *, name: str = "batch", use_stored_statistics: bool = True) -> ADMBatch:
    """Open an ADM ``.npz`` batch: its images and its stored statistics, if any.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` with ``arr_0`` (``N x H x W x 3`` ``uint8``), and for a
        reference batch ``mu``, ``sigma``, ``mu_s``, ``sigma_s``.
    name : str
        The argument's name, for messages.
    use_stored_statistics : bool
        Read ``mu``/``sigma``/``mu_s``/``sigma_s`` when present (the
        evaluator's behaviour); False ignores them.

    Returns
    -------
    ADMBatch

    Raises
    ------
    TypeError
        ``path`` is not a path.
    ValueError
        Not an ``.npz`` file, no ``arr_0``, a file with some but not all of
        the four statistics (the evaluator reads them together and would fail
        on it), statistics of the wrong size, or images that are not
        ``N x H x W x C`` / ``N x C x H x W``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be the path of an .npz batch, got {type(path).__name__}")
    path = os.fspath(path)
    if not path.lower().endswith(".npz"):
        raise ValueError(f"{name}={path!r} is not an .npz file; ADM batches are .npz files with the images in arr_0")
    if not os.path.isfile(path):
        raise ValueError(f"{name}={path!r}: no such file")
    members = set(npz_members(path))
    if "arr_0" not in members:
        raise ValueError(
            f"{name}={path!r} holds {sorted(members)} but no arr_0; ADM batches keep their images in arr_0 "
            "(np.savez(path, images), images N x H x W x 3 uint8). Precision/recall and the Inception Score "
            "need the images even where statistics are stored"
        )
    present = [k for k in STATISTICS_KEYS if k in members]
    pool = spatial = None
    if use_stored_statistics and present:
        if len(present) != len(STATISTICS_KEYS):
            missing = [k for k in STATISTICS_KEYS if k not in members]
            raise ValueError(
                f"{name}={path!r} holds {', '.join(present)} but not {', '.join(missing)}; the ADM evaluator "
                "reads the four statistics together (and fails on this file). Add the missing ones, or pass "
                "use_stored_statistics=False (CLI: --recompute-statistics) to compute all from arr_0"
            )
        with np.load(path, allow_pickle=False) as z:  # members are read one by one, arr_0 is not
            pool = _stored(z, path, name, ("mu", "sigma"), POOL_DIM, "pool3 (FID)")
            spatial = _stored(z, path, name, ("mu_s", "sigma_s"), SPATIAL_DIM, "mixed_6/conv (sFID)")
    images = ArrayFileImages(path, key="arr_0", name=name)
    return ADMBatch(path=path, images=images, pool_stats=pool, spatial_stats=spatial)
