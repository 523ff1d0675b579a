"""AuthPct: the percentage of authentic generated samples (dgm-eval; Alaa et al. 2022).

A generated sample is *authentic* when the distance to its nearest training
sample is larger than that training sample's distance to its own nearest
other training sample: it sits farther from the training set than the
training samples sit from each other, so it is not a near-copy.

``authpct = 100 * mean_j 1[r_NN(i*(j)) < |g_j - t_i*(j)|]`` with ``i*(j)``
the nearest training sample of generated sample ``j``. This is
``compute_authpct`` of dgm-eval (``dgm_eval/metrics/authpct.py``), itself
from marcojira/fls, the per-sample authenticity of Alaa et al. (2022).
dgm-eval computes two float32 ``torch.cdist`` matrices (train x train and
train x generated); here the training radii come from the exact blocked
k-NN engine (:func:`genmetrics_nb.metrics.distribution.knn.knn_radii`) and
the nearest training samples from blocked float64 tiles.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import check_int

__all__ = ["AuthPctResult", "authpct", "authentic_from_features"]


@dataclasses.dataclass(frozen=True)
class AuthPctResult(Result):
    """AuthPct (dgm-eval): percentage of authentic generated samples.

    Attributes
    ----------
    value : float
        Percentage in [0, 100]. marcojira/fld's ``AuthPct`` reports
        ``value - 50`` on random subsets of 10,000; dgm-eval reports ``value``.
    n_authentic : int
    n_train, n_generated : int
    """

    value: float
    n_authentic: int
    n_train: int
    n_generated: int

    metric_name: ClassVar[str] = "AuthPct"
    n_fields: ClassVar[tuple[str, ...]] = ("n_train", "n_generated")

    def __str__(self) -> str:
        return (f"AuthPct = {self.value:.2f} % ({self.n_authentic} of {self.n_generated} generated samples "
                f"authentic; {self.n_train} training samples)")


def authentic_from_features(train, generated, *, block_size: int = 2048, device="cpu"):
    """Per generated sample: is it authentic? (a bool numpy array; the maths of :func:`authpct`)."""
    from genmetrics_nb.device import resolve
    from genmetrics_nb.metrics.distribution.knn import knn_radii
    from genmetrics_nb.metrics.support.tiles import nearest

    dev = resolve(device)
    r_train = knn_radii(train, k=1, block_size=block_size, device=dev)
    d, i = nearest(generated, train, k=1, block_size=block_size, device=dev)
    return r_train[i[:, 0].cpu().numpy()] < d[:, 0].cpu().numpy()


def authpct(
    train,
    generated,
    *,
    block_size: int = 2048,
    device="auto",
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> AuthPctResult:
    """Percentage of generated samples that are not near-copies of training samples.

    Parameters
    ----------
    train : source
        The generator's **training** set: images run through ``extractor``,
        or ``N x D`` features.
    generated : source
        The **generated** set, the same way.
    block_size : int
        Tile edge of the blocked distance computations.
    device : str or torch.device
    extractor, output, batch_size, value_range, cache
        How image sources become features (as :func:`genmetrics_nb.precision_recall`).
    progress : bool

    Returns
    -------
    AuthPctResult
        ``.value`` in percent.

    Notes
    -----
    Equal to dgm-eval's ``compute_authpct(train_feat, gen_feat)`` (float32
    distances there, float64 here; a decision can differ only for a pair
    within float32 rounding of the threshold). About 50 % is typical of
    samples as close to the training set as held-out real samples are in
    high dimensions; lower values flag memorisation. Ties of the nearest
    training sample go to the lowest index.

    References
    ----------
    .. [1] A. M. Alaa, B. van Breugel, E. Saveliev and M. van der Schaar,
       "How Faithful is your Synthetic Data?", ICML 2022.
    .. [2] G. Stein et al., "Exposing flaws of generative model evaluation
       metrics and their unfair treatment of diffusion models", NeurIPS 2023
       (layer6ai-labs/dgm-eval, ``dgm_eval/metrics/authpct.py``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 8))
    >>> authpct(x, x[:50], progress=False).value  # copies are never authentic
    0.0
    """
    from genmetrics_nb.metrics.support.inputs import two_sets

    x, y, _ = two_sets(train, generated, metric="AuthPct", names=("train", "generated"), min_rows=1,
                       extractor=extractor, output=output, batch_size=batch_size, device=device,
                       value_range=value_range, cache=cache, progress=progress)
    block_size = check_int(block_size, name="block_size", minimum=1)
    if x.shape[0] < 2:
        raise ValueError("train needs at least 2 samples (each training sample's nearest other training "
                         f"sample is the threshold), it has {x.shape[0]}")
    auth = authentic_from_features(x, y, block_size=block_size, device=device)
    return AuthPctResult(value=float(100.0 * auth.mean()), n_authentic=int(auth.sum()),
                         n_train=int(x.shape[0]), n_generated=int(y.shape[0]))
