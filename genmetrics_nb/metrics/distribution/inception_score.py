"""Inception Score: exp(E_x KL(p(y|x) || p(y))), per split."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from genmetrics_nb import sources
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int

__all__ = ["InceptionScoreResult", "inception_score"]


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
    extractor="efficientnet-lite0",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
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

    Returns
    -------
    InceptionScoreResult
        ``.value`` (the mean over splits), ``.std`` and ``.scores`` per split.

    Raises
    ------
    ValueError
        Fewer samples than splits; probabilities that do not sum to 1 with
        ``from_logits=False``; rows that already are probabilities with
        ``from_logits=True`` (a second softmax would flatten them and give a
        plausible but wrong score).

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

    logits, _ = sources.features_of(
        source, name="source", metric="the Inception Score", purpose="logits", extractor=extractor,
        output=output, batch_size=batch_size, device=device, value_range=value_range, cache=cache,
        progress=progress,
    )  # fmt: skip
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
    row_sums = x.sum(dim=1)
    looks_like_probs = bool((x >= 0).all()) and bool(((row_sums - 1).abs() < 1e-4).all())
    if from_logits:
        if looks_like_probs:
            raise ValueError(
                "logits look like probabilities (non-negative rows summing to 1); pass "
                "from_logits=False, or pass the raw logits"
            )
        log_p = torch.log_softmax(x, dim=1)
    else:
        if not looks_like_probs:
            raise ValueError(
                "with from_logits=False every row must be non-negative and sum to 1 "
                f"(row sums lie in [{float(row_sums.min()):.4g}, {float(row_sums.max()):.4g}]); "
                "pass from_logits=True for logits"
            )
        p = x / row_sums[:, None]
        log_p = torch.log(p)  # log(0) = -inf; p * log p is then 0 (handled below)
    p = torch.exp(log_p)
    scores = []
    for i in range(splits):
        lo, hi = i * n // splits, (i + 1) * n // splits
        p_i, log_p_i = p[lo:hi], log_p[lo:hi]
        log_py = torch.log(p_i.mean(dim=0, keepdim=True))
        terms = p_i * (log_p_i - log_py)
        terms = torch.where(p_i > 0, terms, torch.zeros_like(terms))  # 0 log 0 = 0
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
