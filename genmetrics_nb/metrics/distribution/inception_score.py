"""Inception Score: exp(E_x KL(p(y|x) || p(y))), per split."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int

__all__ = ["InceptionScoreResult", "inception_score", "probability_tolerance"]

#: Machine epsilon of the dtypes probabilities arrive in (the spacing of numbers near 1).
_EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
#: The floor of the tolerance on row sums, whatever the dtype.
_MIN_TOL = 1e-4


def probability_tolerance(dtype) -> float:
    """How far from 1 a row of probabilities stored in ``dtype`` may sum.

    Rounding each probability ``p_i`` to the dtype moves it by at most
    ``u p_i`` (``u = eps / 2``, the unit roundoff), so a row of correctly
    rounded probabilities sums to 1 within ``u``. The tolerance is four times
    that, ``2 eps``, leaving room for softmaxes computed in the dtype itself,
    and never less than ``1e-4``: float16 ``1.95e-3``, bfloat16 ``1.56e-2``,
    float32 and float64 ``1e-4``.

    Parameters
    ----------
    dtype : numpy or torch dtype, or its name

    Returns
    -------
    float
    """
    name = str(dtype).replace("torch.", "")
    return max(_MIN_TOL, 2.0 * _EPS.get(name, 0.0))


@dataclasses.dataclass(frozen=True)
class InceptionScoreResult(Result):
    """Inception Score over splits.

    Attributes
    ----------
    value : float
        Mean of the per-split scores (the Inception Score). ``to_dict()``
        also writes it under its former key ``"mean"``.
    std : float
        Standard deviation (ddof 0) of the per-split scores.
    splits : int
    n : int
        Number of samples.
    classes : int
        Number of classes (columns of the logits).
    scores : tuple of float
        The score of each split.
    """

    value: float
    std: float
    splits: int
    n: int
    classes: int
    scores: tuple = ()

    metric_name: ClassVar[str] = "IS"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ("std", "splits", "classes")
    n_fields: ClassVar[tuple[str, ...]] = ("n",)
    dict_aliases: ClassVar[dict] = {"value": "mean"}

    def __str__(self) -> str:
        return (f"IS = {self.value:.5g} +/- {self.std:.3g} ({self.splits} splits of "
                f"{self.n} samples, {self.classes} classes)")


def inception_score(
    source,
    *,
    splits: int = 10,
    from_logits: bool = True,
    shuffle: bool = False,
    seed: int = 0,
    device="auto",
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
    resize: str | None = None,
    weights=None,
) -> InceptionScoreResult:
    """Inception Score of a set of class predictions.

    For each of ``splits`` consecutive chunks of the samples,
    ``IS = exp(mean_x KL(p(y|x) || p(y)))`` with ``p(y)`` the chunk's mean
    prediction; the result reports the mean and std over chunks.

    Parameters
    ----------
    source : source
        Images (a folder, files, an ``N x C x H x W`` array, a dataset name)
        run through ``extractor``, whose logits are scored; or an ``N x C``
        array of classifier logits (``from_logits=True``) or probabilities
        whose rows sum to 1 (``from_logits=False``); or a ``Features`` result.
    splits : int
        Number of chunks (10 in the paper). Chunk ``i`` holds rows
        ``i*N//splits`` to ``(i+1)*N//splits``, as the OpenAI code and
        torch-fidelity cut them.
    from_logits : bool
        Whether ``logits`` are logits (softmax applied here) or probabilities.
    shuffle : bool
        Permute the rows before splitting, with ``numpy.random.RandomState(seed)``.
        The original code does not shuffle; torch-fidelity does, with seed
        2020 by default (``shuffle=True, seed=2020`` reproduces it).
    seed : int
        Seed of the permutation when ``shuffle=True``.
    device : str or torch.device
        Where to compute (float64).
    extractor : str
        Registered extractor run on image sources; it must have logits.
    output : str, optional
        Which logits (default ``logits_unbiased`` where the extractor has
        them, the 1008 bias-free TF logits of published IS values, else ``logits``).
    batch_size, value_range, cache, progress
        As in :func:`genmetrics_nb.extract_features` (for image sources).
    resize : {"legacy_tensorflow", "clean", "legacy_pytorch"}, optional
        clean-fid's resize mode for image sources (as :func:`genmetrics_nb.fid`).
    weights : str or path-like, optional
        The extractor's weights file; its sha256 is recorded (as :func:`genmetrics_nb.fid`).

    Returns
    -------
    InceptionScoreResult
        ``.value`` (the mean over splits), ``.std`` and ``.scores`` per split.

    Raises
    ------
    ValueError
        Fewer samples than splits; with ``from_logits=False``, rows that are
        not probabilities (negative, or not summing to 1 within
        :func:`probability_tolerance` of their dtype); with
        ``from_logits=True``, input whose values all lie in [0, 1], as
        probabilities do (a second softmax would flatten them and give a
        plausible but wrong score, about 1). Ambiguous input is never guessed:
        the message asks which it is.

    Notes
    -----
    To match Salimans et al. use 50,000 samples, ``splits=10`` and the
    **1008 logits** of the 2015 TF Inception graph (``inception-v3-fid``
    output ``"logits"``; torch-fidelity calls them ``logits_unbiased``): the
    OpenAI code multiplies pool3 by the softmax weights **without the bias**
    and takes the softmax over all 1008 columns, including the 7 unused
    classes. The 1000 logits of torchvision's Inception-v3 give different
    numbers (a different network), and so does any other extractor: compare
    IS only within one extractor.

    Probabilities or logits: rows that are non-negative and sum to 1 within
    :func:`probability_tolerance` of the input's dtype are probabilities
    (float16 and bfloat16 softmax outputs included). Logits that all lie in
    [0, 1] are refused with ``from_logits=True``: they are what probabilities
    look like; true logits can be shifted by any per-row constant (the
    softmax, and the score, do not change), e.g. ``x - x.mean(1, keepdims=True)``.

    Everything is computed in float64 and in log space: ``log p(y)`` of a split
    is the ``logsumexp`` of its rows' ``log p(y|x)`` minus ``log n``, so huge
    logits, whose smallest probabilities underflow, still give the finite score
    (the direct mean of ``p(y|x)`` can underflow to 0 while a subnormal
    ``p(y|x)`` stays positive, and the score becomes inf).

    References
    ----------
    .. [1] T. Salimans et al., "Improved Techniques for Training GANs",
       NeurIPS 2016 (``openai/improved-gan``, ``inception_score/model.py``).
    .. [2] torch-fidelity, ``metric_isc.py``; torchmetrics
       ``InceptionScore``.
    .. [3] S. Barratt and R. Sharma, "A Note on the Inception Score", 2018.

    Examples
    --------
    >>> import numpy as np
    >>> onehot = np.eye(4)[np.arange(400) % 4] * 50  # confident and balanced
    >>> round(inception_score(onehot, splits=2).value, 4)  # -> number of classes
    4.0
    """
    import torch

    from genmetrics_nb.device import resolve

    logits, _ = inputs.features_of(
        source, name="source", metric="the Inception Score", purpose="logits", extractor=extractor,
        output=output, batch_size=batch_size, device=device, value_range=value_range, cache=cache,
        progress=progress, resize=resize, weights=weights,
    )  # fmt: skip
    tol = probability_tolerance(getattr(logits, "dtype", "float64"))
    x = as_feature_tensor(logits, name="logits")
    splits = check_int(splits, name="splits", minimum=1)
    if not isinstance(from_logits, bool):
        raise TypeError(f"from_logits must be True or False, got {from_logits!r}")
    n, c = x.shape
    if n < splits:
        raise ValueError(f"logits has {n} samples, fewer than splits={splits}; pass splits <= {n}")
    if c < 2:
        raise ValueError(f"logits has {c} class column(s); the Inception Score needs at least 2 classes")
    dev = resolve(device)
    x = x.to(device=dev, dtype=torch.float64)
    if shuffle:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int, got {seed!r}")
        perm = np.random.RandomState(seed).permutation(n)
        x = x[torch.as_tensor(perm, device=dev)]
    log_p = _log_probabilities(x, from_logits=from_logits, tol=tol, dtype=getattr(logits, "dtype", None))
    p = torch.exp(log_p)
    scores = []
    for i in range(splits):
        lo, hi = i * n // splits, (i + 1) * n // splits
        p_i, log_p_i = p[lo:hi], log_p[lo:hi]
        # log of the split's marginal, in log space: never -inf where a p(y|x) > 0
        log_py = torch.logsumexp(log_p_i, dim=0, keepdim=True) - np.log(hi - lo)
        terms = p_i * (log_p_i - log_py)
        terms = torch.where(log_p_i > -np.inf, terms, torch.zeros_like(terms))  # 0 log 0 = 0
        scores.append(float(torch.exp(terms.sum(dim=1).mean())))
    s = np.asarray(scores)
    return InceptionScoreResult(
        value=float(s.mean()),
        std=float(s.std()),
        splits=splits,
        n=n,
        classes=c,
        scores=tuple(float(v) for v in s),
    )


def _log_probabilities(x, *, from_logits: bool, tol: float, dtype):
    """``log p(y|x)`` (float64) of logits or probabilities, refusing what is ambiguous."""
    import torch

    in_unit = bool((x >= 0).all()) and bool((x <= 1 + tol).all())
    row_sums = x.sum(dim=1)
    lo_sum, hi_sum = float(row_sums.min()), float(row_sums.max())
    if from_logits:
        if in_unit:
            raise ValueError(
                f"logits all lie in [0, 1] (rows sum to [{lo_sum:.4g}, {hi_sum:.4g}]): they look like "
                "probabilities, and as logits their softmax is nearly uniform and the score close to 1. "
                "If they are probabilities, pass from_logits=False; if they really are logits, "
                "subtract each row's mean first (x - x.mean(1, keepdims=True): the softmax, and the "
                "score, do not change)"
            )
        return torch.log_softmax(x, dim=1)
    if in_unit and abs(lo_sum - 1) <= tol and abs(hi_sum - 1) <= tol:
        return torch.log(x / row_sums[:, None])  # log(0) = -inf; p log p is then 0
    where = f"rows sum to [{lo_sum:.6g}, {hi_sum:.6g}]"
    if in_unit:
        kind = str(dtype).replace("torch.", "") if dtype is not None else "float64"
        raise ValueError(
            f"with from_logits=False every row must be non-negative and sum to 1 within {tol:.3g} "
            f"(the tolerance of {kind}); these {where}. If they are probabilities stored coarsely "
            "(rounded, or computed in low precision), renormalise them first "
            "(p / p.sum(1, keepdims=True)) and pass them again"
        )
    raise ValueError(
        f"with from_logits=False every row must be non-negative and sum to 1; these lie in "
        f"[{float(x.min()):.4g}, {float(x.max()):.4g}] and {where}: they look like logits, so pass "
        "from_logits=True"
    )
