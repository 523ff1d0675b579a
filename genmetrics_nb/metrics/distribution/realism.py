"""Per-sample scores against a real set: the realism score and nearest real neighbours.

- :func:`realism_score` (Kynkaanniemi et al. 2019, section 5): how far inside
  the real manifold each generated sample lies. Computed as the authors'
  code does it: squared Euclidean distances, the radius of a real sample is
  the squared distance to its k-th nearest other real sample, radii above
  the 50th percentile are set to 0 (those real samples are pruned), and the
  score of a generated sample ``g`` is ``max_r radius_r / (d2(g, r) + eps)``
  with ``eps = 1e-5``. Scores above 1 lie inside some real ball.
- :func:`nearest_neighbours`: each query sample's nearest reference sample
  and its Euclidean distance, the basis of a memorisation check (a
  generated sample much closer to a training image than held-out real
  images are to it is likely a copy).

Both work in ``block_size x block_size`` tiles in float64, never holding an
``N x M`` matrix.

References
----------
.. [1] T. Kynkaanniemi, T. Karras, S. Laine, J. Lehtinen and T. Aila,
   "Improved Precision and Recall Metric for Assessing Generative Models",
   NeurIPS 2019, eq. 3 and section 5; ``kynkaat/improved-precision-and-recall-metric``,
   ``precision_recall.py`` (``ManifoldEstimator(clamp_to_percentile=50)``,
   ``evaluate(return_realism=True)``), which computes in float32 where this
   module computes in float64.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int, check_same_dim

__all__ = ["RealismResult", "NeighboursResult", "realism_score", "nearest_neighbours"]


@dataclasses.dataclass(frozen=True)
class RealismResult(Result):
    """Realism score of each generated sample.

    Attributes
    ----------
    values : numpy.ndarray
        One score per generated sample (same order as ``fake``).
    value : float
        The median score (robust to the unbounded scores of near-copies).
    k : int
    clamp_to_percentile : float
    n_real, n_fake : int
    """

    values: np.ndarray
    value: float
    k: int
    clamp_to_percentile: float
    n_real: int
    n_fake: int

    metric_name: ClassVar[str] = "realism score (median)"
    display_fields: ClassVar[tuple[str, ...]] = ("k",)
    dict_exclude: ClassVar[tuple[str, ...]] = ("values",)

    def __str__(self) -> str:
        return (f"realism score: median {self.value:.4f} over {self.n_fake} generated samples "
                f"(k={self.k}, real balls above the {self.clamp_to_percentile:g}th percentile pruned)")


@dataclasses.dataclass(frozen=True)
class NeighboursResult(Result):
    """Each query sample's nearest reference sample.

    Attributes
    ----------
    index : numpy.ndarray
        ``index[i]``: row of the nearest reference sample to query ``i``.
    distance : numpy.ndarray
        Its Euclidean distance (float64).
    value : float
        The median distance.
    n_query, n_reference : int
    """

    index: np.ndarray
    distance: np.ndarray
    value: float
    n_query: int
    n_reference: int

    metric_name: ClassVar[str] = "nearest-neighbour distance (median)"
    n_fields: ClassVar[tuple[str, ...]] = ("n_query", "n_reference")
    dict_exclude: ClassVar[tuple[str, ...]] = ("index", "distance")

    def __str__(self) -> str:
        return (f"nearest-neighbour distance: median {self.value:.4f} over {self.n_query} samples "
                f"against {self.n_reference}")


def _sq_dist(a, b):
    """Squared Euclidean distances of two float64 tiles, clamped at 0 as the reference does."""
    import torch

    d = (a * a).sum(1)[:, None] - 2.0 * (a @ b.T) + (b * b).sum(1)[None, :]
    return torch.clamp_min(d, 0.0)


def _kth_radii2(x, k: int, block_size: int, exclude_self: bool = True):
    """Squared distance of every row of ``x`` to its k-th nearest other row (blocked)."""
    import torch

    n = x.shape[0]
    out = torch.empty(n, dtype=torch.float64, device=x.device)
    for i in range(0, n, block_size):
        rows = x[i:i + block_size]
        best = None
        for j in range(0, n, block_size):
            d = _sq_dist(rows, x[j:j + block_size])
            cand = d if best is None else torch.cat([best, d], dim=1)
            best = torch.topk(cand, min(k + 1, cand.shape[1]), dim=1, largest=False).values
        # index 0 is the row itself (distance 0), as np.partition(...)[:, k] in the reference
        out[i:i + block_size] = best[:, k]
    return out


def realism_score(real, fake, *, k: int = 3, clamp_to_percentile: float = 50.0, eps: float = 1e-5,
                  block_size: int = 2048, device="auto", extractor="vgg16-fc2",
                  output: str | None = None, batch_size: int = 64, value_range=None, cache=False,
                  progress: bool = True) -> RealismResult:
    """Realism score of each generated sample against the real set (Kynkaanniemi et al. 2019).

    Parameters
    ----------
    real, fake : source
        Images run through ``extractor``, or ``N x D`` features (see
        :mod:`genmetrics_nb.sources`).
    k : int
        Neighbourhood size of the real radii (3 in the paper).
    clamp_to_percentile : float
        Real samples whose radius exceeds this percentile of all radii are
        pruned (their radius is set to 0), as the authors' code does with 50.
    eps : float
        Added to every squared distance (1e-5 in the reference).
    block_size : int
        Tile edge of the blocked distance computation.
    device : str or torch.device
    extractor, output, batch_size, value_range, cache, progress
        How image sources become features (:func:`genmetrics_nb.features.inputs.features_of`).

    Returns
    -------
    RealismResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(200, 4))
    >>> r = realism_score(real, real[:5] + 100, progress=False)  # far from every real sample
    >>> bool(r.values.max() < 1)
    True
    """
    import torch

    from genmetrics_nb.device import resolve

    a, b, _ = inputs.features_pair(real, fake, metric="the realism score", extractor=extractor, output=output,
                                    batch_size=batch_size, device=device, value_range=value_range, cache=cache,
                                    progress=progress)
    x = as_feature_tensor(a, name="real", min_rows=2)
    y = as_feature_tensor(b, name="fake", min_rows=1)
    check_same_dim(x, y, name_a="real", name_b="fake")
    k = check_int(k, name="k", minimum=1)
    block_size = check_int(block_size, name="block_size", minimum=1)
    if k >= x.shape[0]:
        raise ValueError(f"k={k} needs more than k real samples (real has {x.shape[0]}); pass a smaller k")
    if isinstance(clamp_to_percentile, bool) or not isinstance(clamp_to_percentile, (int, float)):
        raise TypeError(f"clamp_to_percentile must be a number in [0, 100], got {clamp_to_percentile!r}")
    if not 0 <= clamp_to_percentile <= 100:
        raise ValueError(f"clamp_to_percentile must lie in [0, 100], got {clamp_to_percentile!r}")
    dev = resolve(device)
    x = x.to(device=dev, dtype=torch.float64)
    y = y.to(device=dev, dtype=torch.float64)
    radii = _kth_radii2(x, k, block_size)
    limit = np.percentile(radii.cpu().numpy(), clamp_to_percentile)
    radii = torch.where(radii > float(limit), torch.zeros_like(radii), radii)
    scores = torch.empty(y.shape[0], dtype=torch.float64, device=dev)
    for i in range(0, y.shape[0], block_size):
        best = None
        for j in range(0, x.shape[0], block_size):
            r = (radii[j:j + block_size][None, :] / (_sq_dist(y[i:i + block_size], x[j:j + block_size]) + eps))
            m = r.max(dim=1).values
            best = m if best is None else torch.maximum(best, m)
        scores[i:i + block_size] = best
    values = scores.cpu().numpy()
    return RealismResult(values=values, value=float(np.median(values)), k=k,
                         clamp_to_percentile=float(clamp_to_percentile), n_real=int(x.shape[0]),
                         n_fake=int(y.shape[0]))


def nearest_neighbours(query, reference, *, block_size: int = 2048, device="auto",
                       extractor="inception-v3-fid", output: str | None = None, batch_size: int = 64,
                       value_range=None, cache=False, progress: bool = True) -> NeighboursResult:
    """Each query sample's nearest reference sample and their Euclidean distance.

    Parameters
    ----------
    query, reference : source
        Images run through ``extractor``, or ``N x D`` features. For a
        memorisation check, ``query`` is the generated set and ``reference``
        the training images; held-out real images against the same reference
        give the distances to expect from new samples.
    block_size : int
    device : str or torch.device
    extractor, output, batch_size, value_range, cache, progress
        How image sources become features.

    Returns
    -------
    NeighboursResult
        Ties go to the lowest reference index. Distances are float64.
    """
    import torch

    from genmetrics_nb.device import resolve

    a, b, _ = inputs.features_pair(query, reference, metric="the nearest-neighbour search", names=("query", "reference"), extractor=extractor,
                                    output=output, batch_size=batch_size, device=device,
                                    value_range=value_range, cache=cache, progress=progress)
    q = as_feature_tensor(a, name="query", min_rows=1)
    r = as_feature_tensor(b, name="reference", min_rows=1)
    check_same_dim(q, r, name_a="query", name_b="reference")
    block_size = check_int(block_size, name="block_size", minimum=1)
    dev = resolve(device)
    q = q.to(device=dev, dtype=torch.float64)
    r = r.to(device=dev, dtype=torch.float64)
    index = torch.empty(q.shape[0], dtype=torch.int64, device=dev)
    dist = torch.empty(q.shape[0], dtype=torch.float64, device=dev)
    for i in range(0, q.shape[0], block_size):
        best_d = best_i = None
        for j in range(0, r.shape[0], block_size):
            # exact differences, not the |a|^2 + |b|^2 - 2ab expansion: near-copies have
            # distances far below the expansion's rounding error
            d = torch.cdist(q[i:i + block_size], r[j:j + block_size], compute_mode="donot_use_mm_for_euclid_dist")
            m, idx = d.min(dim=1)
            idx = idx + j
            if best_d is None:
                best_d, best_i = m, idx
            else:
                better = m < best_d
                best_d = torch.where(better, m, best_d)
                best_i = torch.where(better, idx, best_i)
        index[i:i + block_size] = best_i
        dist[i:i + block_size] = best_d
    distance = dist.cpu().numpy()
    return NeighboursResult(index=index.cpu().numpy(), distance=distance, value=float(np.median(distance)),
                            n_query=int(q.shape[0]), n_reference=int(r.shape[0]))
