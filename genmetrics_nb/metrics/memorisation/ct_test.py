"""The C_T data-copying test (Meehan, Chaudhuri and Dasgupta 2020).

C_T compares, cell by cell, how close generated samples and held-out real
samples lie to the training set:

1. Features with more than ``pca_components`` (64) dimensions are projected
   on the training set's first 64 principal components (dgm-eval).
2. The training set is partitioned into ``num_cells`` cells by k-means
   (3 cells, ``n_init=10``, in dgm-eval; the paper's moons experiment uses 5);
   held-out and generated samples fall in the cell of their nearest centre.
3. In each cell, ``L(P_n)`` and ``L(Q_m)`` are the distances of the held-out
   and generated samples to their nearest *training sample of that cell*;
   the Mann-Whitney U of ``L(Q_m)`` against ``L(P_n)`` (scipy, one-sided
   ``"less"``) is z-scored with a 0.5 continuity correction:
   ``Z_U = (U - (nm/2 - 1/2)) / sqrt(nm (n + m + 1) / 12)``.
4. ``C_T`` is the mean of ``Z_U`` over the cells holding more than a share
   ``tau`` (default ``20 / m``) of the generated samples, weighted by each
   cell's share of held-out samples.

``C_T << 0`` means generated samples lie closer to the training set than
new real samples do (data copying); ``C_T >> 0`` means underfitting; about 0
is the ideal. When a cell's generated samples copy training samples exactly,
``U = 0`` and ``Z_U`` reaches its lower limit :func:`copy_limit`, -17.30 for
``n = m = 200``.

The protocol is dgm-eval's ``compute_CTscore`` (``dgm_eval/metrics/ct.py``,
taken from casey-meehan/data-copying ``data_copying_tests.py``), with the
PCA and k-means seeded by ``seed`` (dgm-eval leaves them unseeded). Nearest
training distances come from blocked float64 tiles; the U statistic is
scipy's.
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import check_int

__all__ = ["CTResult", "ct_test", "copy_limit", "zu_score", "c_t_from_cells"]


@dataclasses.dataclass(frozen=True)
class CTResult(Result):
    """The C_T data-copying statistic (Meehan et al. 2020).

    Attributes
    ----------
    value : float
        C_T: below 0 generated samples are closer to the training set than
        held-out samples (copying), above 0 farther (underfitting).
    zu : tuple of float
        ``Z_U`` per cell (0 for a cell without generated samples).
    test_share, generated_share : tuple of float
        Each cell's share of the held-out and generated samples.
    included : tuple of bool
        Cells counted in C_T (generated share above ``tau``).
    num_cells : int
    tau : float
    pca_components : int or None
        Components kept (None: no projection, D was at most that).
    seed : int
    n_train, n_test, n_generated : int
    """

    value: float
    zu: tuple
    test_share: tuple
    generated_share: tuple
    included: tuple
    num_cells: int
    tau: float
    pca_components: int | None
    seed: int
    n_train: int
    n_test: int
    n_generated: int

    metric_name: ClassVar[str] = "C_T"
    display_fields: ClassVar[tuple[str, ...]] = ("num_cells",)
    n_fields: ClassVar[tuple[str, ...]] = ("n_train", "n_test", "n_generated")

    def __str__(self) -> str:
        return (f"C_T = {self.value:.4f} ({sum(self.included)} of {self.num_cells} cells; n = {self.n_train} "
                f"train / {self.n_test} held-out / {self.n_generated} generated)")


def copy_limit(n: int, m: int) -> float:
    """``Z_U`` when all m generated samples are nearer the training set than all n held-out ones (U = 0).

    ``-(n m / 2 - 1/2) / sqrt(n m (n + m + 1) / 12)``; -17.30 for n = m = 200.
    """
    return -(n * m / 2 - 0.5) / math.sqrt(n * m * (n + m + 1) / 12)


def zu_score(l_test, l_gen) -> float:
    """Z-scored Mann-Whitney U of nearest-training distances ``l_gen`` (Q_m) against ``l_test`` (P_n)."""
    from scipy.stats import mannwhitneyu

    n, m = len(l_test), len(l_gen)
    u, _ = mannwhitneyu(l_gen, l_test, alternative="less")
    return float((u - (n * m / 2 - 0.5)) / np.sqrt(n * m * (n + m + 1) / 12))


def c_t_from_cells(train, test, generated, train_cells, test_cells, gen_cells, *, num_cells: int, tau: float,
                   block_size: int = 2048):
    """C_T of float64 tensors with given cell labels (steps 3 and 4 of the module docstring).

    Returns
    -------
    c_t : float
    zu, test_share, gen_share, included : numpy.ndarray, one entry per cell
    """
    from genmetrics_nb.metrics.support.tiles import nearest

    n, m = test.shape[0], generated.shape[0]
    test_share = np.bincount(test_cells, minlength=num_cells) / n
    gen_share = np.bincount(gen_cells, minlength=num_cells) / m
    zu = np.zeros(num_cells)
    for c in range(num_cells):
        t = train[np.flatnonzero(train_cells == c)]
        p = test[np.flatnonzero(test_cells == c)]
        q = generated[np.flatnonzero(gen_cells == c)]
        if len(p) * len(t) == 0:
            raise ValueError(
                f"cell {c} lacks held-out and/or training samples; pass a smaller num_cells or more "
                "held-out samples"
            )
        if len(q) == 0:
            continue  # excluded by tau (share 0), as the reference's Zu = 0
        lp = nearest(p, t, k=1, block_size=block_size)[0][:, 0].cpu().numpy()
        lq = nearest(q, t, k=1, block_size=block_size)[0][:, 0].cpu().numpy()
        zu[c] = zu_score(lp, lq)
    included = gen_share > tau
    if not included.any():
        raise ValueError(f"no cell holds more than tau = {tau:g} of the generated samples; lower tau")
    c_t = float(test_share[included].dot(zu[included]) / np.sum(test_share[included]))
    return c_t, zu, test_share, gen_share, included


def ct_test(
    train,
    test,
    generated,
    *,
    num_cells: int = 3,
    pca_components: int | None = 64,
    tau: float | None = None,
    n_init: int = 10,
    seed: int = 0,
    block_size: int = 2048,
    device="auto",
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> CTResult:
    """The C_T data-copying test of generated samples against a held-out real set.

    Parameters
    ----------
    train : source
        The generator's **training** set: images run through ``extractor``, or
        ``N x D`` features.
    test : source
        **Held-out** real samples the generator never saw (the ``--heldout``
        source), the same way.
    generated : source
        The **generated** set, the same way.
    num_cells : int
        k-means cells on the training set (3 in dgm-eval; 5 in the paper's
        moons experiment).
    pca_components : int or None
        Project on the training set's first principal components when D is
        larger (64 in dgm-eval); None never projects.
    tau : float, optional
        A cell counts when it holds more than this share of the generated
        samples; default ``20 / len(generated)`` (dgm-eval, the paper).
    n_init : int
        k-means restarts (10 in dgm-eval).
    seed : int
        ``random_state`` of sklearn's PCA and KMeans.
    block_size : int
    device : str or torch.device
        Where the nearest-neighbour tiles are computed.
    extractor, output, batch_size, value_range, cache
        How image sources become features.
    progress : bool

    Returns
    -------
    CTResult

    Notes
    -----
    ``tests/metrics/memorisation/test_ct_test.py`` checks it against a literal
    transcription of dgm-eval's ``ct.py`` (same PCA, k-means seeded alike)
    and the closed-form copy limit. dgm-eval also reports ``ct_test`` (the
    held-out set split in two, the first half as training set) and
    ``ct_modified`` (training and generated sets swapped); call this function
    with those arguments to get them.

    References
    ----------
    .. [1] C. Meehan, K. Chaudhuri and S. Dasgupta, "A Non-Parametric Test to
       Detect Data-Copying in Generative Models", AISTATS 2020
       (casey-meehan/data-copying).
    .. [2] layer6ai-labs/dgm-eval, ``dgm_eval/metrics/ct.py``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train, held_out = rng.normal(size=(600, 4)), rng.normal(size=(300, 4))
    >>> r = ct_test(train, held_out, train[:300] + 1e-3, num_cells=1, progress=False)
    >>> round(r.value, 2), round(copy_limit(300, 300), 2)  # copies: the lower limit
    (-21.2, -21.2)
    """
    import torch

    from genmetrics_nb.device import resolve
    from genmetrics_nb.metrics.support.inputs import three_sets
    from genmetrics_nb.metrics.support.tiles import as_float64

    x, p, q, _ = three_sets(train, test, generated, metric="the C_T test", extractor=extractor, output=output,
                            batch_size=batch_size, device=device, value_range=value_range, cache=cache,
                            progress=progress)
    num_cells = check_int(num_cells, name="num_cells", minimum=1)
    n_init = check_int(n_init, name="n_init", minimum=1)
    seed = check_int(seed, name="seed", minimum=0)
    block_size = check_int(block_size, name="block_size", minimum=1)
    if pca_components is not None:
        pca_components = check_int(pca_components, name="pca_components", minimum=1)
    m = q.shape[0]
    if tau is None:
        tau = 20 / m
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not 0 <= tau < 1:
        raise ValueError(f"tau must be a share in [0, 1) (default 20 / len(generated)), got {tau!r}")
    if x.shape[0] < num_cells:
        raise ValueError(f"train has {x.shape[0]} samples, fewer than num_cells={num_cells}")
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    # sklearn works in the features' own dtype (float32 features stay float32, as in dgm-eval)
    dt = torch.float64 if torch.float64 in (x.dtype, p.dtype, q.dtype) else torch.float32
    xt, pt, qt = (t.to(dt).cpu().numpy() for t in (x, p, q))
    used = None
    if pca_components is not None and xt.shape[1] > pca_components:
        pca = PCA(n_components=pca_components, random_state=seed).fit(xt)
        xt, pt, qt = pca.transform(xt), pca.transform(pt), pca.transform(qt)
        used = pca_components
    km = KMeans(n_clusters=num_cells, n_init=n_init, random_state=seed).fit(xt)
    cells = [km.predict(a) for a in (xt, pt, qt)]
    dev = resolve(device)
    c_t, zu, ps, qs, inc = c_t_from_cells(*(as_float64(torch.from_numpy(np.ascontiguousarray(a)), dev)
                                            for a in (xt, pt, qt)), *cells, num_cells=num_cells,
                                          tau=float(tau), block_size=block_size)
    return CTResult(value=c_t, zu=tuple(float(v) for v in zu), test_share=tuple(float(v) for v in ps),
                    generated_share=tuple(float(v) for v in qs), included=tuple(bool(v) for v in inc),
                    num_cells=num_cells, tau=float(tau), pca_components=used, seed=seed,
                    n_train=int(x.shape[0]), n_test=int(p.shape[0]), n_generated=int(m))
