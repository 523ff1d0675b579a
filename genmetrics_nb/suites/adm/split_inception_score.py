"""The Inception Score exactly as OpenAI's guided-diffusion evaluator computes it.

``Evaluator.compute_inception_score``: class probabilities are the float32
softmax of ``pool3 @ W`` (the 2048 x 1008 weights of the TF graph's
``softmax/logits/MatMul``, **no bias**), the rows are cut into consecutive
splits of ``split_size`` rows (5,000), the last split keeping whatever is
left (``range(0, N, split_size)``: 50,001 rows give 11 splits, the last of
one row), and each split scores
``exp(mean_x sum_y p(y|x) (log p(y|x) - log mean_x p(y|x)))`` in float32
numpy arithmetic, the operations in the evaluator's order; the result is the
float32 mean of the split scores. This differs from
:func:`genmetrics_nb.inception_score`, which cuts ``splits`` equal chunks
and computes in float64 log space.

References
----------
.. [1] T. Salimans et al., "Improved Techniques for Training GANs",
   NeurIPS 2016 (``openai/improved-gan``, ``inception_score/model.py``).
.. [2] guided-diffusion ``evaluations/evaluator.py``
   (``compute_inception_score(activations, split_size=5000)``,
   ``_create_softmax_graph``):
   https://github.com/openai/guided-diffusion/blob/main/evaluations/evaluator.py
"""
from __future__ import annotations

import warnings

import numpy as np

from genmetrics_nb.util.checks import check_int

__all__ = ["evaluator_inception_score", "float32_softmax", "split_bounds"]


def float32_softmax(logits) -> np.ndarray:
    """Row softmax in float32, ``exp(x - max) / sum exp(x - max)`` (TF's GPU softmax).

    Parameters
    ----------
    logits : array_like, N x C

    Returns
    -------
    numpy.ndarray
        float32 ``N x C``.
    """
    z = np.asarray(logits, dtype=np.float32)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"logits must be N x C with C >= 2 classes, got shape {z.shape}")
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def split_bounds(n: int, split_size: int) -> list[tuple[int, int]]:
    """``[(0, s), (s, 2s), ..., (., n)]``: the evaluator's splits, the last one partial if need be.

    >>> split_bounds(12, 5)
    [(0, 5), (5, 10), (10, 12)]
    """
    return [(i, min(i + split_size, n)) for i in range(0, n, split_size)]


def evaluator_inception_score(probabilities, *, split_size: int = 5000) -> tuple[float, tuple[float, ...]]:
    """The evaluator's Inception Score of float32 class probabilities.

    Parameters
    ----------
    probabilities : array_like, N x C
        Softmax outputs (:func:`float32_softmax` of the bias-free logits);
        used as float32.
    split_size : int
        Rows per split (5,000 in the evaluator); the last split holds the
        remainder.

    Returns
    -------
    score : float
        ``float(np.mean(scores))``, the mean of the float32 split scores.
    scores : tuple of float
        Each split's score.

    Warns
    -----
    RuntimeWarning
        When a probability is exactly 0 (the softmax underflowed): the
        evaluator's ``p * log p`` is then ``0 * -inf = nan`` and so is its
        score; the nan is returned, as the evaluator prints it.
        :func:`genmetrics_nb.inception_score` (log space) has a finite value.
    """
    p = np.asarray(probabilities, dtype=np.float32)
    if p.ndim != 2 or p.shape[0] < 1:
        raise ValueError(f"probabilities must be N x C with N >= 1, got shape {p.shape}")
    split_size = check_int(split_size, name="split_size", minimum=1)
    if bool((p == 0).any()):
        warnings.warn(
            "some softmax probabilities are exactly 0 (underflow): the ADM evaluator's formula gives "
            "0 * log 0 = nan there and its Inception Score is nan; gm.inception_score (log space) "
            "gives the finite value",
            RuntimeWarning,
            stacklevel=2,
        )
    scores = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for lo, hi in split_bounds(p.shape[0], split_size):
            part = p[lo:hi]
            kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
            kl = np.mean(np.sum(kl, 1))
            scores.append(np.exp(kl))
    return float(np.mean(scores)), tuple(float(s) for s in scores)
