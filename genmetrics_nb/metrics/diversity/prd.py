"""Precision and recall for distributions (PRD; Sajjadi et al. 2018).

Both feature sets are clustered together (k-means on their union); each set
becomes a histogram over the clusters, ``Q`` (generated) and ``P`` (real).
For a slope ``lambda = tan(theta)`` the PRD curve is

    alpha(lambda) = sum_i min(lambda P_i, Q_i)      (precision)
    beta(lambda)  = alpha(lambda) / lambda          (recall)

evaluated on ``num_angles`` angles equally spaced in ``[eps, pi/2 - eps]``,
and averaged over ``num_runs`` independent clusterings. The summary is the
pair (max F_beta, max F_1/beta) over the curve, beta = 8: F_8 weighs recall,
F_1/8 precision.

Protocol of the reference code (``prd_score.py``)
-------------------------------------------------
- ``sklearn.cluster.MiniBatchKMeans(n_clusters=20, n_init=10)`` on
  ``vstack([fake, real])`` in float64, refitted for each of 10 runs;
- histograms are the shares of each set's samples per cluster;
- 1,001 angles, ``eps = 1e-10``; values > 1.001 are an error, then clipped to [0, 1];
- ``F_beta = (1 + beta^2) p r / (beta^2 p + r + 1e-10)``;
- equal set sizes are required (``enforce_balance``): unequal sizes bias the
  clustering towards the larger set.

The reference draws its k-means from NumPy's global random state; here one
``numpy.random.RandomState(seed)`` is passed to every run in turn, which is
the same stream as ``np.random.seed(seed)`` followed by the reference call.
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
    "PRDResult",
    "cluster_histograms",
    "f_beta_scores",
    "max_f_beta_pair",
    "prd",
    "prd_from_features",
    "prd_from_histograms",
]


@dataclasses.dataclass(frozen=True, eq=False)
class PRDResult(Result):
    """A PRD curve and its (max F_beta, max F_1/beta) summary (Sajjadi et al. 2018).

    ``value`` is ``f_beta`` (max F_8, recall-like), the first number of the
    reference's ``prd_to_max_f_beta_pair``; read ``f_beta_inv`` (max F_1/8,
    precision-like) by name.

    Attributes
    ----------
    precision, recall : numpy.ndarray
        The curve, one point per angle (mean over runs); plot recall on x.
    f_beta : float
        max over the curve of F_beta (beta = 8 by default): recall-like.
    f_beta_inv : float
        max over the curve of F_1/beta: precision-like.
    beta : float
    num_clusters, num_angles, num_runs : int
    seed : int or None
        Seed of the k-means random state (None: NumPy's global state, unseeded).
    kmeans_batch_size : int
        MiniBatchKMeans' ``batch_size``.
    n_real, n_fake : int
    """

    precision: np.ndarray
    recall: np.ndarray
    f_beta: float
    f_beta_inv: float
    beta: float
    num_clusters: int
    num_angles: int
    num_runs: int
    seed: int | None
    kmeans_batch_size: int
    n_real: int
    n_fake: int

    metric_name: ClassVar[str] = "PRD"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("f_beta", "f_beta_inv")
    value_field: ClassVar[str] = "f_beta"
    display_fields: ClassVar[tuple[str, ...]] = ("f_beta_inv", "num_clusters")
    dict_exclude: ClassVar[tuple[str, ...]] = ("precision", "recall")

    @property
    def value(self) -> float:
        """The headline number: ``f_beta`` (max F_8)."""
        return self.f_beta

    def __str__(self) -> str:
        b = f"{self.beta:g}"
        return (f"PRD: F_{b} = {self.f_beta:.4f} (recall), F_1/{b} = {self.f_beta_inv:.4f} (precision) "
                f"({self.num_clusters} clusters, {self.num_runs} runs, {self.num_angles} angles; "
                f"n = {self.n_real} real / {self.n_fake} fake)")


# ----------------------------------------------------------------------------
# maths
# ----------------------------------------------------------------------------
def prd_from_histograms(eval_dist, ref_dist, *, num_angles: int = 1001, epsilon: float = 1e-10):
    """PRD curve of the histogram ``eval_dist`` (generated) against ``ref_dist`` (real).

    Returns
    -------
    precision, recall : numpy.ndarray, shape (num_angles,)

    Examples
    --------
    >>> p, r = prd_from_histograms([0.5, 0.5], [1, 0], num_angles=11)
    >>> round(float(p[5]), 12), round(float(r[5]), 12)
    (0.5, 0.5)
    """
    if not (0 < epsilon < 0.1):
        raise ValueError(f"epsilon must lie in (0, 0.1), got {epsilon!r}")
    if isinstance(num_angles, bool) or not isinstance(num_angles, numbers.Integral):
        raise TypeError(f"num_angles must be an int, got {num_angles!r}")
    if not 3 <= num_angles <= 10**6:
        raise ValueError(f"num_angles must lie in [3, 1e6], got {num_angles}; the reference uses 1001")
    eval_dist = np.asarray(eval_dist, dtype=np.float64)
    ref_dist = np.asarray(ref_dist, dtype=np.float64)
    slopes = np.tan(np.linspace(epsilon, np.pi / 2 - epsilon, num=num_angles))
    precision = np.minimum(ref_dist[None, :] * slopes[:, None], eval_dist[None, :]).sum(axis=1)
    recall = precision / slopes
    if max(precision.max(), recall.max()) > 1.001:
        raise ValueError("a PRD value exceeds 1.001: the histograms must each sum to 1")
    return np.clip(precision, 0, 1), np.clip(recall, 0, 1)


def f_beta_scores(precision, recall, *, beta: float = 1.0, epsilon: float = 1e-10):
    """``F_beta = (1 + beta^2) p r / (beta^2 p + r + epsilon)`` for each (p, r) pair."""
    precision = np.asarray(precision, dtype=np.float64)
    recall = np.asarray(recall, dtype=np.float64)
    if not ((precision >= 0).all() and (precision <= 1).all()):
        raise ValueError("precision values must lie in [0, 1]")
    if not ((recall >= 0).all() and (recall <= 1).all()):
        raise ValueError("recall values must lie in [0, 1]")
    if not beta > 0:
        raise ValueError(f"beta must be positive (8 in the paper), got {beta!r}")
    return (1 + beta**2) * (precision * recall) / (beta**2 * precision + recall + epsilon)


def max_f_beta_pair(precision, recall, *, beta: float = 8.0):
    """(max F_beta, max F_1/beta) over a PRD curve: (recall-like, precision-like) for beta > 1."""
    return (float(np.max(f_beta_scores(precision, recall, beta=beta))),
            float(np.max(f_beta_scores(precision, recall, beta=1.0 / beta))))


def cluster_histograms(union, n_eval: int, *, num_clusters: int, random_state,
                       kmeans_batch_size: int = 1024):
    """Shares of the first ``n_eval`` rows of ``union`` and of the others in each k-means cluster.

    One ``MiniBatchKMeans(n_clusters=num_clusters, n_init=10)`` fit on the
    union (evaluated rows first, then the reference rows), as the
    reference's ``_cluster_into_bins`` fits ``vstack([eval_data, ref_data])``.
    """
    from sklearn.cluster import MiniBatchKMeans

    km = MiniBatchKMeans(n_clusters=num_clusters, n_init=10, batch_size=kmeans_batch_size,
                         random_state=random_state)
    labels = km.fit(union).labels_
    eval_bins = np.bincount(labels[:n_eval], minlength=num_clusters) / n_eval
    ref_bins = np.bincount(labels[n_eval:], minlength=num_clusters) / (len(union) - n_eval)
    return eval_bins, ref_bins


def prd_from_features(fake, real, *, num_clusters: int = 20, num_angles: int = 1001,
                      num_runs: int = 10, seed=0, kmeans_batch_size: int = 1024,
                      progress: bool = False):
    """Mean PRD curve over ``num_runs`` clusterings of ``fake`` (evaluated) and ``real``.

    ``seed`` is an int (one ``RandomState`` shared by the runs in turn) or
    None (NumPy's global random state, as the reference). The float64
    union of the two sets is built once (the reference stacks a new copy
    for every run); it is the largest allocation, ``8 (N + M) D`` bytes.
    """
    from tqdm.auto import tqdm

    n_f, n_r = len(fake), len(real)
    union = np.empty((n_f + n_r, np.shape(fake)[1]), dtype=np.float64)
    union[:n_f] = np.asarray(fake)
    union[n_f:] = np.asarray(real)
    state = np.random.RandomState(seed) if seed is not None else None
    precisions, recalls = [], []
    for _ in tqdm(range(num_runs), desc="PRD k-means", unit="run", disable=not progress, leave=False):
        eval_dist, ref_dist = cluster_histograms(union, n_f, num_clusters=num_clusters, random_state=state,
                                                 kmeans_batch_size=kmeans_batch_size)
        p, r = prd_from_histograms(eval_dist, ref_dist, num_angles=num_angles)
        precisions.append(p)
        recalls.append(r)
    return np.mean(precisions, axis=0), np.mean(recalls, axis=0)


# ----------------------------------------------------------------------------
# public function
# ----------------------------------------------------------------------------
def prd(
    real,
    fake,
    *,
    num_clusters: int = 20,
    num_angles: int = 1001,
    num_runs: int = 10,
    beta: float = 8.0,
    seed: int | None = 0,
    kmeans_batch_size: int = 1024,
    enforce_balance: bool = True,
    device="auto",
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> PRDResult:
    """Precision and recall for distributions: the PRD curve and its F_8 / F_1/8 summary.

    Parameters
    ----------
    real : source
        The **real** (reference) set: images run through ``extractor``, or
        ``N x D`` features.
    fake : source
        The **generated** (evaluated) set, the same way.
    num_clusters : int
        k-means clusters on the union (20 in the paper).
    num_angles : int
        Points of the curve, angles in ``[1e-10, pi/2 - 1e-10]`` (1001).
    num_runs : int
        Independent clusterings averaged (10).
    beta : float
        The summary is (max F_beta, max F_1/beta); 8 in the paper.
    seed : int or None
        Seed of the k-means ``RandomState`` shared by the runs; None uses
        NumPy's global random state, unseeded, as the reference does.
    kmeans_batch_size : int
        ``MiniBatchKMeans(batch_size=...)``. 1024 is scikit-learn's default
        since 1.0, hence what the reference code computes today; the 2018
        runs used scikit-learn's former default, 100.
    enforce_balance : bool
        Refuse unequal set sizes (the reference's default, and the paper's
        advice). ``False`` clusters them anyway.
    device : str or torch.device
        Only for extracting image features (k-means runs on the CPU).
    extractor, output, batch_size, value_range, cache, progress
        As in :func:`genmetrics_nb.precision_recall`.

    Returns
    -------
    PRDResult
        ``.precision`` and ``.recall`` (the curve), ``.f_beta`` (max F_8,
        recall-like) and ``.f_beta_inv`` (max F_1/8, precision-like).

    Notes
    -----
    The reference code's image pipeline (``prd_from_image_folders.py``)
    embeds images with Inception pool features, the default extractor here.
    Plot the curve with ``gm.plots.prd_curve(result)``.

    References
    ----------
    .. [1] M. S. M. Sajjadi, O. Bachem, M. Lucic, O. Bousquet and S. Gelly,
       "Assessing Generative Models via Precision and Recall", NeurIPS 2018
       (``msmsajjadi/precision-recall-distributions``, ``prd_score.py``;
       ``google/compare_gan``, ``compare_gan/src/prd_score.py``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> r = prd(x, x, num_runs=2, progress=False)
    >>> round(r.f_beta, 4), round(r.f_beta_inv, 4)
    (1.0, 1.0)
    """
    real, fake, _ = inputs.features_pair(
        real, fake, metric="PRD", extractor=extractor, output=output, batch_size=batch_size, device=device,
        value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    x = as_feature_tensor(real, name="real", min_rows=1)
    y = as_feature_tensor(fake, name="fake", min_rows=1)
    check_same_dim(x, y, name_a="real", name_b="fake")
    num_clusters = check_int(num_clusters, name="num_clusters", minimum=1)
    num_runs = check_int(num_runs, name="num_runs", minimum=1)
    num_angles = check_int(num_angles, name="num_angles", minimum=3,
                           hint="the reference uses 1001 angles")
    kmeans_batch_size = check_int(kmeans_batch_size, name="kmeans_batch_size", minimum=1)
    if seed is not None:
        seed = check_int(seed, name="seed", minimum=0, hint="pass an int, or None for NumPy's global state")
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta > 0:
        raise ValueError(f"beta must be a positive number (8 in the paper), got {beta!r}")
    if not isinstance(enforce_balance, bool):
        raise TypeError(f"enforce_balance must be True or False, got {enforce_balance!r}")
    if enforce_balance and x.shape[0] != y.shape[0]:
        raise ValueError(
            f"real has {x.shape[0]} samples but fake has {y.shape[0]}: PRD clusters their union, and "
            "unequal sizes bias the clusters towards the larger set; subsample the larger set to "
            "the same size, or pass enforce_balance=False (not recommended)"
        )
    if num_clusters > x.shape[0] + y.shape[0]:
        raise ValueError(f"num_clusters={num_clusters} exceeds the {x.shape[0] + y.shape[0]} samples; "
                         "pass fewer clusters")
    precision, recall = prd_from_features(
        y.cpu().numpy(), x.cpu().numpy(), num_clusters=num_clusters, num_angles=num_angles,
        num_runs=num_runs, seed=seed, kmeans_batch_size=kmeans_batch_size, progress=progress,
    )  # fmt: skip
    f_b, f_inv = max_f_beta_pair(precision, recall, beta=float(beta))
    return PRDResult(precision=precision, recall=recall, f_beta=f_b, f_beta_inv=f_inv, beta=float(beta),
                     num_clusters=num_clusters, num_angles=num_angles, num_runs=num_runs, seed=seed,
                     kmeans_batch_size=kmeans_batch_size, n_real=int(x.shape[0]), n_fake=int(y.shape[0]))
