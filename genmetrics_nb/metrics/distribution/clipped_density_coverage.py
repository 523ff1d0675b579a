"""Clipped density and clipped coverage (Salvy et al. 2025), beside Naeem's density and coverage.

Density and coverage (:func:`genmetrics_nb.density_coverage`) count
generated samples in the k-NN balls of the real samples. Two failure modes
are fixed here:

Clipped density
    Real radii are clipped at their median, ``r_i' = min(r_i, median(r))``,
    so a few huge balls around real outliers cannot collect the generated
    samples; each generated sample's count of (clipped) balls holding it
    (``<=``) is divided by k and clipped at 1, so a sample cannot score more
    than a real one would; the mean is divided by the same mean for the real
    samples themselves (each real sample's count of *other* real balls
    holding it), and clipped at 1 (unless ``can_exceed_one``)::

        CD = min(1, mean_g min(1, #{i: ||g - r_i|| <= r_i'} / k) /
                    mean_j min(1, #{i != j: ||r_j - r_i|| <= r_i'} / k))

Clipped coverage
    Each real ball (unclipped radius) scores the share of its k nearest
    generated samples that lie strictly inside it, ``min(k, #{g: ||g - r_i|| < r_i}) / k``;
    the mean ``y`` is then calibrated: with ``f(m)`` the expected value of
    ``y`` when only ``m`` of the ``M`` generated samples follow the real
    distribution (and the others lie far away),
    ``CC = #{m in 0..M: f(m) < y} / (M + 1)``. ``f`` is a
    beta-binomial expectation; it is evaluated only where a binary search
    needs it (the reference evaluates all ``M + 1`` values).

The radii and the ball counts come from the exact blocked k-NN engine of
:mod:`.knn` (:mod:`.balls`): no ``N x N`` matrix is held.
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result

__all__ = [
    "ClippedDensityCoverageResult",
    "clipped_coverage_calibration",
    "clipped_density_coverage",
    "expected_clipped_coverage",
]


@dataclasses.dataclass(frozen=True)
class ClippedDensityCoverageResult(Result):
    """Clipped density and clipped coverage (Salvy et al. 2025).

    ``value`` is ``clipped_density`` (``float(result)`` too); read
    ``clipped_coverage`` by name.

    Attributes
    ----------
    clipped_density : float
        Fidelity in [0, 1] (1: the generated samples sit in the real balls as
        densely as the real samples do); may exceed 1 with ``can_exceed_one``.
    clipped_coverage : float
        Calibrated coverage in [0, 1]: about the share of generated samples
        that would be needed, drawn from the real distribution, to reach the
        observed raw coverage.
    raw_coverage : float
        The mean share ``y`` of each real ball's k nearest generated samples
        inside the ball, before calibration.
    k : int
    can_exceed_one : bool
    n_real, n_fake : int
    """

    clipped_density: float
    clipped_coverage: float
    raw_coverage: float
    k: int
    can_exceed_one: bool
    n_real: int
    n_fake: int

    metric_name: ClassVar[str] = "clipped density / coverage"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("clipped_density", "clipped_coverage")
    value_field: ClassVar[str] = "clipped_density"
    display_fields: ClassVar[tuple[str, ...]] = ("clipped_coverage", "k")

    @property
    def value(self) -> float:
        """The headline number: ``clipped_density``."""
        return self.clipped_density

    def __str__(self) -> str:
        return (f"clipped density = {self.clipped_density:.4f}, clipped coverage = "
                f"{self.clipped_coverage:.4f} (k = {self.k}; n = {self.n_real} real / {self.n_fake} fake)")


# ----------------------------------------------------------------------------
# calibration of the coverage
# ----------------------------------------------------------------------------
def expected_clipped_coverage(m: int, *, k: int, n_real: int) -> float:
    """Expected raw clipped coverage when ``m`` generated samples follow the real distribution.

    A real ball (k-th real neighbour) holds ``j`` of ``m`` exchangeable
    samples with the beta-binomial probability
    ``C(m, j) B(k + j, n_real - k + m - j) / B(k, n_real - k)``; the
    expectation of ``min(j, k) / k`` is returned (0 for ``m < k``, as the
    reference's ``_f_coverage``).
    """
    from scipy.special import betaln, gammaln, logsumexp

    if m < k:
        return 0.0
    j = np.arange(m + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_min = np.log(np.minimum(j, k))
    log_binom = gammaln(m + 1) - gammaln(j + 1) - gammaln(m - j + 1)
    log_terms = log_min + log_binom + betaln(k + j, n_real - k + m - j) - betaln(k, n_real - k)
    return float(np.exp(logsumexp(log_terms)) / k)


def clipped_coverage_calibration(y: float, *, k: int, n_real: int, n_fake: int) -> float:
    """``#{m in 0..n_fake: f(m) < y} / (n_fake + 1)``, with ``f`` :func:`expected_clipped_coverage`.

    ``f`` increases with ``m``, so the count is found by binary search
    (``O(n_fake log n_fake)`` work instead of the reference's ``O(n_fake^2)``).
    """
    lo, hi = 0, n_fake + 1  # first m with f(m) >= y lies in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        if expected_clipped_coverage(mid, k=k, n_real=n_real) < y:
            lo = mid + 1
        else:
            hi = mid
    return lo / (n_fake + 1)


# ----------------------------------------------------------------------------
# public function
# ----------------------------------------------------------------------------
def clipped_density_coverage(
    real,
    fake,
    *,
    k: int = 5,
    can_exceed_one: bool = False,
    block_size: int = 2048,
    device="auto",
    extractor="dinov2-vit-l14",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> ClippedDensityCoverageResult:
    """Clipped density and clipped coverage of generated samples (Salvy et al. 2025).

    Parameters
    ----------
    real : source
        The **real** set (images run through ``extractor``, or ``N x D``
        features); its k-NN balls are used.
    fake : source
        The **generated** set, the same way; at least ``k`` samples.
    k : int
        Neighbourhood size (5 in the paper and its code, as Naeem et al.).
    can_exceed_one : bool
        Leave the clipped density unclipped above 1 (the reference's option).
    block_size : int
        Tile edge of the blocked distance computation.
    device : str or torch.device
    extractor : str
        Registered extractor for image sources. The authors' code embeds
        images with dgm-eval's DINOv2 (ViT-L/14, ``dinov2-vit-l14`` here).
    output, batch_size, value_range, cache, progress
        As in :func:`genmetrics_nb.precision_recall`.

    Returns
    -------
    ClippedDensityCoverageResult
        ``.clipped_density``, ``.clipped_coverage`` (and ``.raw_coverage``).

    Notes
    -----
    Memberships are decided on exact float64 distances: ``<=`` for the
    clipped density and ``<`` for the coverage, as the reference code. The
    reference finds the real samples inside each clipped real ball among
    that sample's k nearest neighbours; with ties at the k-th distance
    (duplicated points) it may count fewer than the exact count used here.

    References
    ----------
    .. [1] N. Salvy, H. Talbot and B. Thirion, "Enhanced Generative Model
       Evaluation with Clipped Density and Coverage", ICLR 2026,
       arXiv:2507.01761 (``nicolassalvy/ClippedDensityCoverage``,
       ``ClippedDensityCoverage/metrics/Clipped_Density_Coverage.py``).
    .. [2] M. F. Naeem et al., "Reliable Fidelity and Diversity Metrics for
       Generative Models", ICML 2020 (:func:`genmetrics_nb.density_coverage`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = clipped_density_coverage(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 5,
    ...                              progress=False)
    >>> r.clipped_density, r.clipped_coverage
    (0.0, 0.0)
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.metrics.distribution.balls import ball_pass
    from genmetrics_nb.metrics.distribution.knn import _check_common, _check_k_vs_n, _Engine, _n_tiles

    real, fake, _ = inputs.features_pair(
        real, fake, metric="clipped density/coverage", extractor=extractor, output=output,
        batch_size=batch_size, device=device, value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    x, y, k, block_size = _check_common(real, fake, k, block_size)
    if not isinstance(can_exceed_one, bool):
        raise TypeError(f"can_exceed_one must be True or False, got {can_exceed_one!r}")
    _check_k_vs_n(k, x.shape[0], "real")
    if y.shape[0] < k:
        raise ValueError(f"fake has {y.shape[0]} samples; clipped coverage looks at each real sample's "
                         f"k={k} nearest generated samples: pass at least {k}, or a smaller k")
    eng = _Engine([x, y], device=device, block_size=block_size, progress=progress)
    rs, fs = eng.sets
    nb_r, nb_f = math.ceil(rs.n / block_size), math.ceil(fs.n / block_size)
    total = _n_tiles(rs.n, block_size) + nb_r * nb_r + 2 * nb_r * nb_f
    with tqdm(total=total, desc="clipped density/coverage", unit="tile", disable=not progress,
              leave=False) as bar:
        r2 = eng.radii2(rs, k, bar)
        med = float(np.median(torch.sqrt(r2).cpu().numpy()))
        r2c = torch.where(torch.sqrt(r2) <= med, r2, torch.full_like(r2, med * med))
        fake_in = ball_pass(eng, rs, r2c, fs, inclusive=True, want={"point_counts"}, bar=bar)["point_counts"]
        real_in = ball_pass(eng, rs, r2c, rs, inclusive=True, want={"point_counts"}, bar=bar)["point_counts"]
        cov = ball_pass(eng, rs, r2, fs, inclusive=False, want={"owner_counts"}, bar=bar)["owner_counts"]
    fake_ratio = float(torch.clamp(fake_in / k, 0, 1).mean())
    real_ratio = float(torch.clamp((real_in - 1) / k, 0, 1).mean())  # less the sample's own ball
    density = fake_ratio / real_ratio if real_ratio > 0 else float("nan")
    if not can_exceed_one:
        density = min(density, 1.0)
    raw = float((torch.clamp(cov, max=k) / k).mean())
    coverage = clipped_coverage_calibration(raw, k=k, n_real=rs.n, n_fake=fs.n)
    return ClippedDensityCoverageResult(clipped_density=density, clipped_coverage=coverage, raw_coverage=raw,
                                        k=k, can_exceed_one=can_exceed_one, n_real=rs.n, n_fake=fs.n)
