"""The Vendi score (Friedman & Dieng 2023): the effective number of distinct samples.

With ``K`` an ``n x n`` similarity matrix (``K[i, i] = 1``), the Vendi score
of order ``q`` is the exponential of the Renyi entropy of order ``q`` of the
eigenvalues ``lambda`` of ``K / n``::

    VS_q = exp(sum_i -lambda_i log lambda_i)            q = 1
         = exp(log(sum_i lambda_i^q) / (1 - q))         q != 1, q finite
         = 1 / max_i lambda_i                           q = inf

Only positive eigenvalues enter the sums (``0 log 0 = 0``), as in the
reference ``vendi_score.vendi.entropy_q``.

Bounded memory
--------------
For the linear kernel on (L2-normalised) features ``X`` (``n x d``), the
non-zero eigenvalues of ``X X^T / n`` are those of ``X^T X / n``. The
``d x d`` "dual" matrix is used when ``n > d`` (accumulated over row blocks
in float64, so memory is ``O(d^2)`` whatever ``n``); the ``n x n`` Gram matrix
only when ``n <= d``. A non-linear kernel needs the ``n x n`` matrix: it is
refused above ``max_kernel_n`` samples.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int

__all__ = [
    "VendiResult",
    "vendi_from_eigenvalues",
    "vendi_from_kernel",
    "vendi_from_features",
    "vendi_score",
]

KERNELS = ("linear", "polynomial")


# ----------------------------------------------------------------------------
# result
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class VendiResult(Result):
    """Vendi score of one set of samples (Friedman & Dieng 2023).

    Attributes
    ----------
    value : float
        The Vendi score of all samples together (between 1 and n): the
        effective number of distinct samples.
    q : float
        Order of the entropy (1: Shannon; ``inf``: 1 / largest eigenvalue).
    kernel : str
        ``"linear"`` (cosine similarity when ``normalize``) or ``"polynomial"``
        (``(x.y / d + 1)^3``, dgm-eval's KID kernel).
    normalize : bool
        Whether the rows were L2-normalised first.
    form : str
        ``"dual"`` (``d x d``), ``"gram"`` (``n x n``) or ``"kernel"``: which
        matrix gave the eigenvalues (the number does not depend on it).
    n, d : int
    per_class : dict or None
        With ``labels=``: label -> Vendi score of that class's samples.
    per_class_mean : float or None
        Mean of ``per_class`` (dgm-eval's "mean vendi per class").
    """

    value: float
    q: float
    kernel: str
    normalize: bool
    form: str
    n: int
    d: int
    per_class: dict | None = None
    per_class_mean: float | None = None

    metric_name: ClassVar[str] = "Vendi score"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ("q", "kernel", "per_class_mean")
    n_fields: ClassVar[tuple[str, ...]] = ("n",)

    def __str__(self) -> str:
        text = f"Vendi score = {self.value:.4f} (q = {_q_text(self.q)}, {self.kernel} kernel; n = {self.n})"
        if self.per_class is not None:
            text += f"; mean over {len(self.per_class)} classes = {self.per_class_mean:.4f}"
        return text


def _q_text(q: float) -> str:
    return "inf" if math.isinf(q) else f"{q:g}"


# ----------------------------------------------------------------------------
# maths
# ----------------------------------------------------------------------------
def _check_q(q) -> float:
    if isinstance(q, str):
        if q != "inf":
            raise ValueError(f"q must be a number >= 0 or 'inf', got {q!r}")
        return math.inf
    if isinstance(q, bool) or not isinstance(q, numbers.Real):
        raise TypeError(f"q must be a number >= 0 or 'inf' (1, 2, float('inf')), got {q!r}")
    q = float(q)
    if not q >= 0:
        raise ValueError(f"q must be >= 0 (1 is the Shannon order of the paper), got {q}")
    return q


def vendi_from_eigenvalues(w, *, q=1) -> float:
    """``exp`` of the order-``q`` Renyi entropy of the eigenvalues ``w`` of ``K / n``.

    Non-positive eigenvalues (round-off of a positive semi-definite matrix)
    are left out of the sums, as the reference ``entropy_q`` does; ``q = inf``
    uses the largest eigenvalue.
    """
    q = _check_q(q)
    w = np.asarray(w, dtype=np.float64)
    if math.isinf(q):
        return float(np.exp(-np.log(np.max(w))))
    p = w[w > 0]
    if q == 1.0:
        return float(np.exp(-(p * np.log(p)).sum()))
    return float(np.exp(np.log((p**q).sum()) / (1.0 - q)))


def vendi_from_kernel(K, *, q=1, normalize: bool = False) -> float:
    """Vendi score of an ``n x n`` positive semi-definite similarity matrix.

    Parameters
    ----------
    K : array_like, n x n
        Symmetric similarities with ``K[i, i] = 1`` (else pass ``normalize``).
    q : float or "inf"
    normalize : bool
        Divide by ``sqrt(K[i, i] K[j, j])`` first (the reference's ``normalize_K``).

    Returns
    -------
    float

    Examples
    --------
    >>> round(vendi_from_kernel([[1, .9, 0], [.9, 1, 0], [0, 0, 1]]), 4)  # Vendi README
    2.1573
    """
    import scipy.linalg

    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] < 1:
        raise ValueError(f"K must be a square n x n similarity matrix, got shape {K.shape}")
    if normalize:
        dg = np.sqrt(np.diagonal(K))
        K = K / np.outer(dg, dg)
    return vendi_from_eigenvalues(scipy.linalg.eigvalsh(K / K.shape[0]), q=q)


def _polynomial(a, b, d):
    """sklearn's ``polynomial_kernel(degree=3, gamma=None, coef0=1)``: ``(a.b / d + 1)^3``."""
    return (a @ b.T / d + 1.0) ** 3


def vendi_from_features(x, *, q=1, kernel: str = "linear", normalize: bool = True,
                        block_size: int = 8192, max_kernel_n: int = 8192, device="cpu"):
    """Vendi score of ``n x d`` features, and which matrix gave it.

    Returns
    -------
    score : float
    form : str
        ``"dual"``, ``"gram"`` or ``"kernel"``.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(repr(k) for k in KERNELS)}, got {kernel!r}")
    return _vendi(as_feature_tensor(x, name="features", min_rows=1), q=_check_q(q), kernel=kernel,
                  normalize=normalize, block_size=block_size, max_kernel_n=max_kernel_n, device=device)


def _vendi(t, *, q, kernel, normalize, block_size, max_kernel_n, device):
    import scipy.linalg
    import torch

    from genmetrics_nb.device import resolve

    n, d = t.shape
    dev = resolve(device)

    def rows(s):
        r = t[s:s + block_size].to(device=dev, dtype=torch.float64)
        if normalize:  # sklearn.preprocessing.normalize: zero rows stay zero
            nrm = torch.linalg.vector_norm(r, dim=1, keepdim=True)
            r = r / torch.where(nrm == 0, torch.ones_like(nrm), nrm)
        return r

    if kernel == "linear" and n > d and dev.type == "cpu":
        # On the CPU NumPy's float64 products are faster than torch's (the same BLAS work
        # as the reference's X.T @ X, block by block)
        s_mat = np.zeros((d, d), dtype=np.float64)
        for s in range(0, n, block_size):
            r = t[s:s + block_size].detach().cpu().numpy().astype(np.float64)  # a copy: scaled in place
            if normalize:
                nrm = np.sqrt(np.einsum("ij,ij->i", r, r))
                nrm[nrm == 0] = 1.0
                r /= nrm[:, None]
            s_mat += r.T @ r
        s_mat /= n
        w = scipy.linalg.eigvalsh(s_mat, overwrite_a=True, check_finite=False)
        return vendi_from_eigenvalues(w, q=q), "dual"
    if kernel == "linear" and n > d:
        s_mat = torch.zeros((d, d), dtype=torch.float64, device=dev)
        for s in range(0, n, block_size):
            r = rows(s)
            s_mat += r.T @ r
        w = scipy.linalg.eigvalsh((s_mat / n).cpu().numpy())
        return vendi_from_eigenvalues(w, q=q), "dual"
    if kernel != "linear" and n > max_kernel_n:
        raise ValueError(
            f"the {kernel} kernel needs the n x n kernel matrix, and n = {n} > max_kernel_n = "
            f"{max_kernel_n} ({8 * n * n / 2**30:.1f} GiB); use kernel='linear' (d x d dual form), "
            "fewer samples, or raise max_kernel_n"
        )
    xs = torch.cat([rows(s) for s in range(0, n, block_size)]) if n else t
    if kernel == "linear":
        K = xs @ xs.T
        form = "gram"
    else:
        K = _polynomial(xs, xs, d)
        form = "kernel"
    w = scipy.linalg.eigvalsh((K / n).cpu().numpy())
    return vendi_from_eigenvalues(w, q=q), form


# ----------------------------------------------------------------------------
# public function
# ----------------------------------------------------------------------------
def vendi_score(
    source,
    *,
    q=1,
    kernel: str = "linear",
    normalize: bool = True,
    labels=None,
    max_kernel_n: int = 8192,
    block_size: int = 8192,
    device="auto",
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> VendiResult:
    """Vendi score of one set of samples: the effective number of distinct samples.

    Parameters
    ----------
    source : source
        Images (folder, files, ``N x C x H x W`` array, dataset name) run
        through ``extractor``, or ``N x D`` features.
    q : float or "inf"
        Order of the entropy: 1 (Shannon, the paper's and dgm-eval's
        default), 2, ``float("inf")`` / ``"inf"``, or any ``q >= 0``.
    kernel : {"linear", "polynomial"}
        ``"linear"``: ``K = X X^T`` (cosine similarity with ``normalize``),
        computed in the ``d x d`` dual form when ``n > d``.
        ``"polynomial"``: dgm-eval's option, ``(x.y / d + 1)^3`` (the KID
        kernel); needs the ``n x n`` matrix.
    normalize : bool
        L2-normalise each feature row first (the reference's default for
        features; ``K[i, i] = 1`` then holds for the linear kernel).
    labels : array_like of length N, optional
        Class labels: also computes the score of each class on its own and
        their mean (dgm-eval's per-class Vendi).
    max_kernel_n : int
        Largest n (per class with ``labels``) for which an ``n x n`` matrix is
        built (non-linear kernels; 8192 is 0.5 GiB per float64 copy).
    block_size : int
        Rows per block of the ``d x d`` accumulation.
    device : str or torch.device
        Where the products are computed (float64); eigenvalues on the CPU.
    extractor, output, batch_size, value_range, cache, progress
        As in :func:`genmetrics_nb.precision_recall` (image sources only).

    Returns
    -------
    VendiResult
        ``.value`` the score of all samples; ``.per_class`` and
        ``.per_class_mean`` with ``labels``.

    Notes
    -----
    The number depends on the features, the kernel, ``normalize`` and
    ``q``; the result records them. The reference ``vendi_score.vendi``
    offers ``score_X`` (n x n Gram; note that it computes q = 1 whatever
    ``q`` it is given), ``score_dual`` (d x d) and ``score_K`` (any kernel
    matrix); all equal this function's value for the same kernel and q.
    dgm-eval reports the per-class mean with ``normalize=True``, the linear
    kernel and q = 1. The reference's image helpers
    (``vendi_score/image_utils.py``) use pixels resized to 32 x 32, or the
    pool features of torchvision's Inception-v3 (the default extractor here
    is the FID Inception, whose pool features differ).

    References
    ----------
    .. [1] D. Friedman and A. B. Dieng, "The Vendi Score: A Diversity
       Evaluation Metric for Machine Learning", TMLR 2023
       (``vertaix/Vendi-Score``, the ``vendi-score`` package, ``vendi_score/vendi.py``).
    .. [2] M. Pasarkar and A. B. Dieng, "Cousins Of The Vendi Score: A Family
       Of Similarity-Based Diversity Metrics For Science And Machine
       Learning", AISTATS 2024 (orders q).
    .. [3] G. Stein et al., "Exposing flaws of generative model evaluation
       metrics and their unfair treatment of diffusion models", NeurIPS 2023
       (``layer6ai-labs/dgm-eval``, ``dgm_eval/metrics/vendi.py``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.eye(5)[np.arange(100) % 5]  # five distinct orthogonal points, 20 copies each
    >>> round(vendi_score(x, progress=False).value, 6)
    5.0
    """
    feats, _ = inputs.features_of(
        source, name="source", metric="the Vendi score", extractor=extractor, output=output,
        batch_size=batch_size, device=device, value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    q = _check_q(q)
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(repr(k) for k in KERNELS)}, got {kernel!r}")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False, got {normalize!r}")
    max_kernel_n = check_int(max_kernel_n, name="max_kernel_n", minimum=1)
    block_size = check_int(block_size, name="block_size", minimum=1)
    x = as_feature_tensor(feats, name="source", min_rows=1)
    n, d = x.shape
    opts = dict(q=q, kernel=kernel, normalize=normalize, block_size=block_size,
                max_kernel_n=max_kernel_n, device=device)
    value, form = _vendi(x, **opts)
    per_class = per_class_mean = None
    if labels is not None:
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.shape[0] != n:
            raise ValueError(
                f"labels must be a 1-D array with one label per sample ({n}), got shape {lab.shape}"
            )
        import torch

        per_class = {}
        for c in np.unique(lab):
            idx = torch.as_tensor(np.flatnonzero(lab == c))
            key = c.item() if isinstance(c, np.generic) else c
            per_class[key] = _vendi(x[idx], **opts)[0]
        per_class_mean = float(np.mean(list(per_class.values())))
    return VendiResult(value=value, q=q, kernel=kernel, normalize=normalize, form=form, n=int(n),
                       d=int(d), per_class=per_class, per_class_mean=per_class_mean)
