"""Rarity score of each generated sample (Han et al. 2022).

Each real sample ``r_i`` has a k-NN ball whose radius ``NN_k(r_i)`` is the
distance to its k-th nearest other real sample. The rarity of a generated
sample ``g`` is the radius of the *smallest* real ball that contains it::

    Rarity(g) = min { NN_k(r_i) : ||g - r_i|| < NN_k(r_i) }

Large balls lie in sparse regions of the real manifold, so a high score
marks an uncommon (rare) but still realistic sample. Samples outside every
real ball get no score (0 in ``scores``, as in the reference code, and
``in_manifold`` False); "inside" is strict, ``<``, as the reference's
``radius - distance > 0``.

Radii come from the exact blocked k-NN engine of
:mod:`genmetrics_nb.metrics.distribution.knn` and the smallest containing
ball from one pass over fake x real tiles: no ``N x N`` matrix is held.
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result

__all__ = ["RarityScoreResult", "rarity_score"]


@dataclasses.dataclass(frozen=True, eq=False)
class RarityScoreResult(Result):
    """Rarity scores of the generated samples (Han et al. 2022).

    Attributes
    ----------
    value : float
        Mean rarity score of the generated samples inside the real manifold
        (NaN when none is).
    scores : numpy.ndarray of float64, shape (n_fake,)
        Each generated sample's score; 0 outside every real ball (the
        reference's convention).
    in_manifold : numpy.ndarray of bool, shape (n_fake,)
        Whether the sample lies in some real ball (it then has a score).
    in_manifold_share : float
        Share of generated samples in the real manifold (improved precision
        with a strict ``<``).
    k : int
    n_real, n_fake : int
    """

    value: float
    scores: np.ndarray
    in_manifold: np.ndarray
    in_manifold_share: float
    k: int
    n_real: int
    n_fake: int

    metric_name: ClassVar[str] = "rarity score"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value", "in_manifold_share")
    display_fields: ClassVar[tuple[str, ...]] = ("in_manifold_share", "k")
    dict_exclude: ClassVar[tuple[str, ...]] = ("scores", "in_manifold")

    @property
    def order(self) -> np.ndarray:
        """Indices of the in-manifold samples, rarest first (the reference's ``score_ids``)."""
        idx = np.flatnonzero(self.in_manifold)
        return idx[np.argsort(-self.scores[idx], kind="stable")]

    def __str__(self) -> str:
        return (f"rarity score: mean {self.value:.4g} over the {self.in_manifold_share:.1%} of generated "
                f"samples inside the real manifold (k = {self.k}; n = {self.n_real} real / {self.n_fake} fake)")


def rarity_score(
    real,
    fake,
    *,
    k: int = 3,
    block_size: int = 2048,
    device="auto",
    extractor="vgg16-fc2",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> RarityScoreResult:
    """Rarity score of each generated sample: the radius of the smallest real k-NN ball holding it.

    Parameters
    ----------
    real : source
        The **real** set (images run through ``extractor``, or ``N x D``
        features): its k-NN balls define the manifold.
    fake : source
        The **generated** set, the same way.
    k : int
        Ball radius = distance to the k-th nearest other real sample (3 in
        the reference's example, as improved precision/recall).
    block_size : int
        Tile edge of the blocked distance computation.
    device : str or torch.device
    extractor : str
        Registered extractor for image sources; the reference code embeds
        images with torchvision's VGG16 (its ``improved_precision_recall.py``,
        as improved precision/recall: ``vgg16-fc2``).
    output, batch_size, value_range, cache, progress
        As in :func:`genmetrics_nb.precision_recall`.

    Returns
    -------
    RarityScoreResult
        ``.scores`` per generated sample, ``.order`` (rarest first),
        ``.value`` the mean score inside the manifold.

    Notes
    -----
    The paper compares the histograms of the scores between models or data
    sets (larger: rarer samples). Duplicated real samples count as
    neighbours at distance 0, as in the reference's sorted distance rows.

    References
    ----------
    .. [1] J. Han, H. Choi, Y. Choi, J. Kim, J.-W. Ha and J. Choi, "Rarity
       Score: A New Metric to Evaluate the Uncommonness of Synthesized
       Images", arXiv:2206.08549 (``hichoe95/Rarity-Score``,
       ``src/rarity_score.py``).

    Examples
    --------
    >>> import numpy as np
    >>> real = np.arange(10.0)[:, None]  # radius of every ball, k = 1: 1
    >>> r = rarity_score(real, np.array([[0.5], [20.0]]), k=1, progress=False)
    >>> r.scores.tolist(), r.in_manifold.tolist()
    ([1.0, 0.0], [True, False])
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.metrics.distribution.balls import ball_pass
    from genmetrics_nb.metrics.distribution.knn import _check_common, _check_k_vs_n, _Engine, _n_tiles

    real, fake, _ = inputs.features_pair(
        real, fake, metric="rarity score", extractor=extractor, output=output, batch_size=batch_size,
        device=device, value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    x, y, k, block_size = _check_common(real, fake, k, block_size)
    _check_k_vs_n(k, x.shape[0], "real")
    eng = _Engine([x, y], device=device, block_size=block_size, progress=progress)
    rs, fs = eng.sets
    total = _n_tiles(rs.n, block_size) + math.ceil(rs.n / block_size) * math.ceil(fs.n / block_size)
    with tqdm(total=total, desc="rarity score", unit="tile", disable=not progress, leave=False) as bar:
        r2 = eng.radii2(rs, k, bar)
        mr = ball_pass(eng, rs, r2, fs, inclusive=False, want={"min_r2"}, bar=bar)["min_r2"]
    inside = torch.isfinite(mr)
    scores = torch.where(inside, torch.sqrt(torch.where(inside, mr, torch.zeros_like(mr))),
                         torch.zeros_like(mr)).cpu().numpy()
    inside = inside.cpu().numpy()
    value = float(scores[inside].mean()) if inside.any() else float("nan")
    return RarityScoreResult(value=value, scores=scores, in_manifold=inside,
                             in_manifold_share=float(inside.mean()), k=k, n_real=rs.n, n_fake=fs.n)
