"""Kernel Inception Distance: the unbiased MMD^2 with a polynomial kernel."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int, check_same_dim

__all__ = ["KIDResult", "kid", "mmd2_unbiased"]


@dataclasses.dataclass(frozen=True)
class KIDResult(Result):
    """KID over random subsets.

    Attributes
    ----------
    value : float
        Mean of the unbiased MMD^2 estimates over the subsets (the KID).
        ``to_dict()`` also writes it under its former key ``"mean"``.
    std : float
        Their standard deviation (``np.std``, ddof 0, as torch-fidelity).
    subsets, subset_size : int
        How many subsets, and how many samples of each set per subset.
    degree : int
        Degree of the polynomial kernel.
    n_real, n_fake : int
        Sizes of the two feature sets.
    values : tuple of float
        The estimate of every subset.
    extractor, output : str or None
        Extractor name and output used (None when only features were given).
    weights_digest : str or None
        sha256 of the extractor's weights.
    preprocessing : dict or None
        The extractor's preprocessing spec (resize mode, normalisation).
    """

    value: float
    std: float
    subsets: int
    subset_size: int
    degree: int
    n_real: int
    n_fake: int
    values: tuple = ()
    extractor: str | None = None
    output: str | None = None
    weights_digest: str | None = None
    preprocessing: dict | None = None

    metric_name: ClassVar[str] = "KID"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ("std", "subsets", "subset_size")
    dict_aliases: ClassVar[dict] = {"value": "mean"}

    def __str__(self) -> str:
        return (f"KID = {self.value:.6g} +/- {self.std:.3g} ({self.subsets} subsets of "
                f"{self.subset_size}; n = {self.n_real} real / {self.n_fake} fake)")


def _kernel_sum(x, y, *, degree, gamma, coef0, block_size) -> float:
    """Sum of all entries of ``(gamma x y^T + coef0)^degree``, in row blocks."""
    total = 0.0
    for start in range(0, x.shape[0], block_size):
        k = (x[start:start + block_size] @ y.T * gamma + coef0) ** degree
        total += float(k.sum())
    return total


def mmd2_unbiased(x, y, *, degree: int = 3, gamma: float | None = None, coef0: float = 1.0,
                  block_size: int = 4096) -> float:
    """Unbiased MMD^2 between two equal-size sample sets with a polynomial kernel.

    ``x`` and ``y`` are ``m x D`` float64 torch tensors. ``k(a, b) =
    (gamma a.b + coef0)^degree`` with ``gamma = 1 / D`` by default. The
    estimator is the one of Binkowski et al. (their ``mmd2`` with
    ``mmd_est="unbiased"``, as torch-fidelity and clean-fid use it): within-set
    sums drop the diagonal, the cross term keeps it. Never holds more than a
    ``block_size x m`` kernel block.
    """
    m = x.shape[0]
    if y.shape[0] != m:
        raise ValueError(f"x and y must have the same number of samples, got {m} and {y.shape[0]}")
    if m < 2:
        raise ValueError("the unbiased MMD^2 needs at least 2 samples per set")
    if gamma is None:
        gamma = 1.0 / x.shape[1]
    kw = dict(degree=degree, gamma=gamma, coef0=coef0, block_size=block_size)
    diag_x = float((((x * x).sum(1) * gamma + coef0) ** degree).sum())
    diag_y = float((((y * y).sum(1) * gamma + coef0) ** degree).sum())
    kxx = _kernel_sum(x, x, **kw) - diag_x
    kyy = _kernel_sum(y, y, **kw) - diag_y
    kxy = _kernel_sum(x, y, **kw)
    return (kxx + kyy) / (m * (m - 1)) - 2.0 * kxy / (m * m)


def kid(
    real,
    fake,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    seed: int = 0,
    device="auto",
    block_size: int = 4096,
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
    resize: str | None = None,
    weights=None,
) -> KIDResult:
    """Kernel Inception Distance between real and generated features.

    The unbiased estimate of the squared maximum mean discrepancy with the
    polynomial kernel ``k(x, y) = (x.y / D + 1)^degree``, averaged over
    ``subsets`` random subsets of ``subset_size`` samples from each side.

    Parameters
    ----------
    real, fake : source
        The real and generated sets: images (a folder, files, an ``N x C x H x W``
        array, a dataset name such as ``"fashion-mnist:test"``) run through
        ``extractor``, or features (an ``N x D`` array, a ``Features`` result) of
        the same extractor output. Statistics files are refused: KID needs
        per-sample features (see :mod:`genmetrics_nb.sources`).
    subsets : int
        Number of random subsets (torch-fidelity and clean-fid: 100).
    subset_size : int
        Samples drawn from each set per subset, without replacement
        (torch-fidelity: 1000). Must not exceed either set's size.
    degree : int
        Degree of the polynomial kernel (3 in the paper).
    seed : int
        Seed of the ``numpy.random.RandomState`` that draws the subsets, in
        torch-fidelity's order (a real subset, then a fake one, per round):
        with the same seed and inputs the subsets are torch-fidelity's.
    device : str or torch.device
        Where to compute (float64).
    block_size : int
        Rows of the kernel matrix held at a time.
    extractor : str
        Registered extractor run on image sources (``gm.list_extractors()``);
        ignored for features.
    output : str, optional
        Extractor output (default: ``pool``; ``fc2_relu`` for ``vgg16-fc2``).
    batch_size : int
        Images per forward pass.
    value_range : tuple, optional
        Declared range of float image arrays (``(0, 1)``, ``(-1, 1)``, ``(0, 255)``).
    cache : bool or path-like
        Use the feature cache for image sources (off by default, as :func:`~genmetrics_nb.fid`).
    progress : bool
        Progress bars (extraction, subsets).
    resize : {"legacy_tensorflow", "clean", "legacy_pytorch"}, optional
        clean-fid's resize mode for image sources (``inception-v3-fid``
        only; as in :func:`~genmetrics_nb.fid`). Default: the extractor's
        own, ``"legacy_tensorflow"``; clean-fid's ``compute_kid`` defaults
        to ``"clean"``.
    weights : str or path-like, optional
        The extractor's weights file; its sha256 is recorded (as :func:`genmetrics_nb.fid`).

    Returns
    -------
    KIDResult
        ``.value`` (the KID, the mean over subsets) and ``.std`` over subsets.

    Notes
    -----
    KID is unbiased: its expectation does not depend on the sample size, so
    values from small samples can be compared with those from large ones
    (unlike FID). It can be slightly negative when the two distributions are
    very close. To match Binkowski et al. and torch-fidelity, use 2048-d
    Inception pool3 features, ``subsets=100`` and ``subset_size=1000``.
    Everything is computed in float64; torch-fidelity computes in the
    features' dtype (float32), so the two agree to float32 round-off.

    References
    ----------
    .. [1] M. Binkowski, D. J. Sutherland, M. Arbel and A. Gretton,
       "Demystifying MMD GANs", ICLR 2018.
    .. [2] torch-fidelity, ``metric_kid.py`` (adapted from the authors'
       ``mbinkowski/MMD-GAN`` ``compute_scores.py``); clean-fid
       ``fid.py:kernel_distance`` computes the same estimator.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 8)); y = rng.normal(size=(200, 8)) + 1
    >>> r = kid(x, y, subsets=10, subset_size=100, progress=False)
    >>> r.value > 0.1
    True
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve

    real, fake, prov = inputs.features_pair(
        real, fake, metric="KID", extractor=extractor, output=output, batch_size=batch_size, device=device,
        value_range=value_range, cache=cache, progress=progress, resize=resize, weights=weights,
    )  # fmt: skip
    x = as_feature_tensor(real, name="real", min_rows=2)
    y = as_feature_tensor(fake, name="fake", min_rows=2)
    check_same_dim(x, y, name_a="real", name_b="fake")
    subsets = check_int(subsets, name="subsets", minimum=1)
    subset_size = check_int(subset_size, name="subset_size", minimum=2)
    degree = check_int(degree, name="degree", minimum=1)
    block_size = check_int(block_size, name="block_size", minimum=1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r}")
    n_real, n_fake = x.shape[0], y.shape[0]
    if subset_size > min(n_real, n_fake):
        raise ValueError(
            f"subset_size={subset_size} exceeds the number of samples (real: {n_real}, fake: "
            f"{n_fake}); pass subset_size <= {min(n_real, n_fake)} or use more samples"
        )
    dev = resolve(device)
    x = x.to(device=dev, dtype=torch.float64)
    y = y.to(device=dev, dtype=torch.float64)
    rng = np.random.RandomState(seed)
    values = []
    for _ in tqdm(range(subsets), desc="KID subsets", unit="subset", disable=not progress, leave=False):
        i = torch.as_tensor(rng.choice(n_real, subset_size, replace=False), device=dev)
        j = torch.as_tensor(rng.choice(n_fake, subset_size, replace=False), device=dev)
        values.append(mmd2_unbiased(x[i], y[j], degree=degree, block_size=block_size))
    v = np.asarray(values)
    return KIDResult(
        value=float(v.mean()),
        std=float(v.std()),
        subsets=subsets,
        subset_size=subset_size,
        degree=degree,
        n_real=n_real,
        n_fake=n_fake,
        values=tuple(float(a) for a in v),
        extractor=prov["extractor"],
        output=prov["output"],
        weights_digest=prov["weights_digest"],
        preprocessing=prov["spec"],
    )

