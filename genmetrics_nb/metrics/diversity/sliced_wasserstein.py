"""Sliced Wasserstein distance between two feature sets.

The p-sliced Wasserstein distance averages the one-dimensional p-Wasserstein
distances of the two sets projected on random directions ``theta`` drawn
uniformly on the unit sphere::

    SW_p(X, Y) = ( 1/L sum_l W_p^p(theta_l . X, theta_l . Y) )^(1/p)

The directions are those of POT's ``ot.sliced_wasserstein_distance`` for the
same ``seed``: ``numpy.random.RandomState(seed).randn(D, L)``, each column
divided by its norm. One-dimensional distances use the quantile functions of
the two empirical measures (uniform weights), so the sets may differ in
size; for equal sizes this is the mean of ``|x_(i) - y_(i)|^p`` over sorted
projections.

``method="approx"`` is dgm-eval's ``sw_approx`` instead: the deterministic
Gaussian approximation of SW_2 of Nadjahi et al. 2021, computed from the
means and the mean squared norms of the centred sets.

Memory: the projections are computed ``projection_block`` directions at a time
(``N x projection_block`` float64 values per set) from row blocks: no ``N x N``
matrix, and no float64 copy of the features.
"""
from __future__ import annotations

import dataclasses
import numbers
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int, check_same_dim

__all__ = [
    "SlicedWassersteinResult",
    "random_directions",
    "sliced_wasserstein",
    "sliced_wasserstein_approx",
    "sliced_wasserstein_from_features",
]

METHODS = ("monte-carlo", "approx")


@dataclasses.dataclass(frozen=True)
class SlicedWassersteinResult(Result):
    """Sliced Wasserstein distance between the real and generated features.

    Attributes
    ----------
    value : float
        SW_p (same units as the features; 0 for identical sets).
    p : float
    method : str
        ``"monte-carlo"`` (random directions) or ``"approx"`` (dgm-eval's
        Gaussian approximation of SW_2, Nadjahi et al. 2021).
    num_projections : int or None
        Number of directions (None for ``"approx"``).
    seed : int or None
        Seed of the directions' ``RandomState``.
    n_real, n_fake, d : int
    """

    value: float
    p: float
    method: str
    num_projections: int | None
    seed: int | None
    n_real: int
    n_fake: int
    d: int

    metric_name: ClassVar[str] = "sliced Wasserstein"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ("p", "num_projections")

    def __str__(self) -> str:
        how = (f"{self.num_projections} projections, seed {self.seed}" if self.method == "monte-carlo"
               else "dgm-eval's Gaussian approximation")
        return (f"sliced Wasserstein SW_{self.p:g} = {self.value:.6g} ({how}; "
                f"n = {self.n_real} real / {self.n_fake} fake)")


# ----------------------------------------------------------------------------
# maths
# ----------------------------------------------------------------------------
def random_directions(d: int, num_projections: int, *, seed=None) -> np.ndarray:
    """``d x num_projections`` unit columns, as POT's ``get_random_projections``."""
    state = seed if isinstance(seed, np.random.RandomState) else np.random.RandomState(seed)
    proj = state.randn(d, num_projections)
    return proj / np.sqrt(np.sum(proj**2, 0, keepdims=True))


def _quantile_plan(n: int, m: int):
    """Interval lengths and quantile indices of two uniform empirical measures.

    The quantile functions of ``n`` and ``m`` equally weighted sorted samples
    are both constant on the intervals between consecutive points of the
    merged grid ``{i/n} U {j/m}``; returns each interval's length and the
    sample index of each measure on it (as POT's ``wasserstein_1d``).
    """
    cws = np.arange(1, n + 1) / n
    cwt = np.arange(1, m + 1) / m
    qs = np.sort(np.concatenate([cws, cwt]))
    iu = np.clip(np.searchsorted(cws, qs), 0, n - 1)
    iv = np.clip(np.searchsorted(cwt, qs), 0, m - 1)
    delta = np.diff(np.concatenate([[0.0], qs]))
    return delta, iu, iv


def sliced_wasserstein_from_features(x, y, *, p: float = 2.0, num_projections: int = 50, seed=None,
                                     projection_block: int = 64, row_block: int = 8192,
                                     progress: bool = False) -> float:
    """Monte-Carlo SW_p of two ``N x D`` and ``M x D`` arrays (POT's estimator).

    Rows are converted to float64 ``row_block`` at a time and projected on
    ``projection_block`` directions at a time: the working memory is
    ``8 (N + M) projection_block`` bytes plus one block of rows, not a
    float64 copy of the features. NumPy does the products and sorts (on the
    CPU its float64 products are faster than torch's; the work is one pass
    over the features).
    """
    from tqdm.auto import tqdm

    xt = as_feature_tensor(x, name="real")
    yt = as_feature_tensor(y, name="fake")
    return _sliced_wasserstein(xt, yt, p=p, num_projections=num_projections, seed=seed,
                               projection_block=projection_block, row_block=row_block, progress=progress,
                               tqdm=tqdm)


def _sliced_wasserstein(xt, yt, *, p, num_projections, seed, projection_block, row_block, progress, tqdm):
    n, d = xt.shape
    m = yt.shape[0]
    theta = random_directions(d, num_projections, seed=seed)

    def project(t, th):
        out = np.empty((t.shape[0], th.shape[1]), dtype=np.float64)
        for s in range(0, t.shape[0], row_block):
            blk = t[s:s + row_block].detach().cpu().numpy().astype(np.float64, copy=False)
            out[s:s + row_block] = blk @ th
        return out

    if n != m:
        delta, iu, iv = _quantile_plan(n, m)
    total = 0.0
    starts = range(0, num_projections, projection_block)
    for s in tqdm(starts, desc="sliced Wasserstein", unit="block", disable=not progress, leave=False):
        th = np.ascontiguousarray(theta[:, s:s + projection_block])
        xs = np.sort(project(xt, th), axis=0)
        ys = np.sort(project(yt, th), axis=0)
        if n == m:
            total += float((np.abs(xs - ys) ** p).sum()) / n
        else:
            total += float(((np.abs(xs[iu] - ys[iv]) ** p) * delta[:, None]).sum())
    return (total / num_projections) ** (1.0 / p)


def sliced_wasserstein_approx(x, y, *, row_block: int = 8192) -> float:
    """dgm-eval's ``sw_approx``: Nadjahi et al.'s deterministic approximation of SW_2.

    ``sqrt(|mu_x - mu_y|^2 / d + (sqrt(m2_x) - sqrt(m2_y))^2)`` with ``m2`` the
    mean squared norm of the centred set divided by ``d``; two float64 passes
    over row blocks (mean, then centred second moment).
    """
    return _approx(as_feature_tensor(x, name="real"), as_feature_tensor(y, name="fake"), row_block=row_block)


def _approx(xt, yt, *, row_block: int = 8192) -> float:
    def moments(t):
        mean = np.zeros(t.shape[1], dtype=np.float64)
        for s in range(0, t.shape[0], row_block):
            mean += t[s:s + row_block].detach().cpu().numpy().astype(np.float64, copy=False).sum(0)
        mean /= t.shape[0]
        m2 = 0.0
        for s in range(0, t.shape[0], row_block):
            c = t[s:s + row_block].detach().cpu().numpy() - mean
            m2 += float(np.einsum("ij,ij->", c, c))
        return mean, m2 / t.shape[0]

    d = xt.shape[1]
    (mx, m2x), (my, m2y) = moments(xt), moments(yt)
    mean_term = float(((mx - my) ** 2).sum()) / d
    return (mean_term + ((m2x / d) ** 0.5 - (m2y / d) ** 0.5) ** 2) ** 0.5


# ----------------------------------------------------------------------------
# public function
# ----------------------------------------------------------------------------
def sliced_wasserstein(
    real,
    fake,
    *,
    p: float = 2.0,
    num_projections: int = 50,
    seed: int | None = 0,
    method: str = "monte-carlo",
    projection_block: int = 64,
    device="auto",
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> SlicedWassersteinResult:
    """Sliced Wasserstein distance SW_p between real and generated features.

    Parameters
    ----------
    real, fake : source
        Images (run through ``extractor``) or ``N x D`` / ``M x D`` features;
        the sizes may differ.
    p : float
        Order, ``p >= 1`` (2 in dgm-eval and POT's default).
    num_projections : int
        Random directions (POT's default 50; more lowers the Monte-Carlo error).
    seed : int or None
        Seed of the directions' ``numpy.random.RandomState`` (POT's ``seed=``);
        None draws fresh directions each call.
    method : {"monte-carlo", "approx"}
        ``"approx"``: dgm-eval's ``sw_approx``, deterministic, SW_2 only
        (``p``, ``num_projections`` and ``seed`` do not apply).
    projection_block : int
        Directions projected at a time.
    device : str or torch.device
        Only for extracting image features (projections and sorts run in
        NumPy, float64).
    extractor, output, batch_size, value_range, cache, progress
        As in :func:`genmetrics_nb.precision_recall`.

    Returns
    -------
    SlicedWassersteinResult

    Notes
    -----
    With the same ``seed``, ``p`` and ``num_projections`` the value equals
    ``ot.sliced_wasserstein_distance(real, fake, n_projections=L, p=p, seed=seed)``
    (POT); another seed draws other directions and gives another number, so
    the result records it. dgm-eval reports ``sw_approx`` on its feature
    sets.

    References
    ----------
    .. [1] N. Bonneel, J. Rabin, G. Peyre and H. Pfister, "Sliced and Radon
       Wasserstein Barycenters of Measures", JMIV 2015 (POT,
       ``ot.sliced_wasserstein_distance``).
    .. [2] K. Nadjahi, A. Durmus, P. E. Jacob, R. Badeau and U. Simsekli,
       "Fast Approximation of the Sliced-Wasserstein Distance Using
       Concentration of Random Projections", NeurIPS 2021 (dgm-eval,
       ``dgm_eval/metrics/sw.py``, ``sw_approx``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> sliced_wasserstein(x, x, progress=False).value
    0.0
    """
    real, fake, _ = inputs.features_pair(
        real, fake, metric="sliced Wasserstein", extractor=extractor, output=output, batch_size=batch_size,
        device=device, value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    x = as_feature_tensor(real, name="real", min_rows=1)
    y = as_feature_tensor(fake, name="fake", min_rows=1)
    d = check_same_dim(x, y, name_a="real", name_b="fake")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in METHODS)}, got {method!r}")
    if method == "approx":
        return SlicedWassersteinResult(value=_approx(x, y), p=2.0, method=method,
                                       num_projections=None, seed=None, n_real=int(x.shape[0]),
                                       n_fake=int(y.shape[0]), d=d)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p >= 1:
        raise ValueError(f"p must be a number >= 1 (the p-Wasserstein distance), got {p!r}")
    num_projections = check_int(num_projections, name="num_projections", minimum=1)
    projection_block = check_int(projection_block, name="projection_block", minimum=1)
    if seed is not None:
        seed = check_int(seed, name="seed", minimum=0, hint="pass an int, or None for fresh directions")
    from tqdm.auto import tqdm

    value = _sliced_wasserstein(
        x, y, p=float(p), num_projections=num_projections, seed=seed, projection_block=projection_block,
        row_block=8192, progress=progress, tqdm=tqdm,
    )  # fmt: skip
    return SlicedWassersteinResult(value=value, p=float(p), method=method, num_projections=num_projections,
                                   seed=seed, n_real=int(x.shape[0]), n_fake=int(y.shape[0]), d=d)
