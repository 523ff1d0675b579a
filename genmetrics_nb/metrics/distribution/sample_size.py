"""The Frechet distance (and KID) against the sample size, with FD-infinity.

One computation serves the kid notebook (FD and KID of disjoint draws of n
real and n generated samples: FD's bias at small n, KID's absence of one)
and the evaluate report (FD of the whole reference against n generated
samples, the points FD-infinity is fitted on). One figure draws both:
:func:`genmetrics_nb.plots.sample_size.fd_sample_size`.

References
----------
.. [1] M. Binkowski et al., "Demystifying MMD GANs", ICLR 2018 (KID, FID's bias).
.. [2] M. J. Chong and D. Forsyth, "Effectively Unbiased FID and Inception
   Score and where to find them", CVPR 2020 (FD-infinity).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from genmetrics_nb.metrics.distribution.fid import fd_label

__all__ = ["SampleSizeSweep", "sample_size_sweep"]


@dataclasses.dataclass(frozen=True)
class SampleSizeSweep:
    """Frechet distance (and KID) at several sample sizes n, plus FD-infinity.

    Attributes
    ----------
    label : str
    rows : tuple of dict
        One per draw: ``n``, ``repeat``, ``fd`` and, for disjoint draws, ``kid``.
    fd_infinity : FIDInfinityResult
        The whole real set against generated subsets, extrapolated to 1/n = 0.
    n_real, n_fake : int
        Sizes of the two sets.
    extractor : str
        The features' network (labels only).
    draw_real : bool
        True: each point is a disjoint draw of n real and n generated samples;
        False: the whole real set against n generated samples (FD-infinity's points).

    ``summary`` has, per n, the mean and the standard deviation over the
    draws (NaN when the sets hold only one draw of that size).
    """

    label: str
    rows: tuple
    fd_infinity: object  # FIDInfinityResult
    n_real: int
    n_fake: int
    extractor: str = ""
    draw_real: bool = True

    @property
    def fd_label(self) -> str:
        """FID on ``inception-v3-fid`` features, ``FD_<extractor>`` otherwise."""
        return fd_label(self.extractor)

    @property
    def has_kid(self) -> bool:
        return bool(self.rows) and "kid" in self.rows[0]

    @property
    def table(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows))

    @property
    def summary(self):
        t = self.table
        agg = dict(draws=("fd", "size"), fd_mean=("fd", "mean"), fd_std=("fd", "std"))
        if self.has_kid:
            agg.update(kid_mean=("kid", "mean"), kid_std=("kid", "std"))
        return t.groupby("n").agg(**agg).reset_index()

    def __float__(self) -> float:
        return float(self.fd_infinity.value)

    def __str__(self) -> str:
        sizes = sorted({r["n"] for r in self.rows})
        return (f"{self.label + ': ' if self.label else ''}{self.fd_label} at n = {sizes[0]} to {sizes[-1]}; "
                f"{self.fd_label}-infinity {self.fd_infinity.value:.4g}")

    def __repr__(self) -> str:
        sizes = sorted({r["n"] for r in self.rows})
        return (f"SampleSizeSweep({self.label!r}, n = {', '.join(map(str, sizes))}; "
                f"{self.fd_label}-infinity {self.fd_infinity.value:.1f})")

    def _repr_html_(self) -> str:
        return self.summary._repr_html_()

    def to_dict(self) -> dict:
        s = self.summary
        out = {"label": self.label, "extractor": self.extractor, "fd_label": self.fd_label,
               "draw_real": self.draw_real, "n_real": self.n_real, "n_fake": self.n_fake,
               "sizes": s["n"].tolist(), "fd_mean": s["fd_mean"].tolist(),
               "fd_infinity": self.fd_infinity.value}
        if self.has_kid:
            out.update(kid_mean=s["kid_mean"].tolist(), kid_std=s["kid_std"].tolist())
        return out


def sample_size_sweep(real, fake, *, sizes=None, num_points: int = 15, repeats: int = 3, draw_real: bool = True,
                      label: str = "", extractor: str = "", seed: int = 0, device="auto",
                      progress: bool = True) -> SampleSizeSweep:
    """The Frechet distance at several sample sizes n, and FD-infinity.

    Parameters
    ----------
    real, fake : array_like
        ``N x D`` and ``M x D`` features.
    sizes : list of int, optional
        The sample sizes. Default (``draw_real=False`` only): FD-infinity's
        ``num_points`` sizes from ``M // 10`` to ``M``
        (:func:`~genmetrics_nb.metrics.distribution.fid.fid_infinity`).
    num_points : int
        Number of default sizes.
    repeats : int
        Disjoint draws per size (``draw_real=True``).
    draw_real : bool
        True (the kid notebook): for each size both sets are shuffled and cut
        into consecutive blocks of ``n`` rows; the first ``repeats`` pairs of
        blocks (fewer when a set holds fewer blocks, one at full size) are
        the draws, so draws of one size share no row and their spread is the
        sampling variability at that n. FD and KID (the unbiased MMD^2 of the
        pair, ``subsets=1, subset_size=n``) of each pair are recorded.
        False (the evaluate report): the whole real set against ``n``
        generated samples, which are the points FD-infinity is fitted on;
        FD only.
    label : str
    extractor : str
        The features' network, for labels only.
    seed : int
    device : str
    progress : bool

    Returns
    -------
    SampleSizeSweep
        FD-infinity is fitted on the whole real set against generated
        subsets of ``sizes`` in both modes.
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve
    from genmetrics_nb.metrics.distribution.fid import fid_infinity
    from genmetrics_nb.metrics.distribution.frechet import frechet_from_samples
    from genmetrics_nb.metrics.distribution.kid import mmd2_unbiased

    real, fake = np.asarray(real), np.asarray(fake)
    if sizes is not None:
        sizes = sorted(int(s) for s in sizes)
        if sizes[-1] > min(len(real), len(fake)) and draw_real:
            raise ValueError(f"sizes go up to {sizes[-1]} but the sets hold {len(real)} real and "
                             f"{len(fake)} fake samples")
    elif draw_real:
        raise ValueError("sizes= is required with draw_real=True (disjoint draws of each size)")
    dev = resolve(device)
    inf = fid_infinity(real, fake, sizes=sizes, num_points=num_points, seed=seed, device=dev, progress=False)
    if not draw_real:
        rows = tuple({"n": int(n), "repeat": 0, "fd": float(f)} for n, f in zip(inf.sizes, inf.fids))
        return SampleSizeSweep(label, rows, inf, len(real), len(fake), str(extractor or ""), False)
    x = torch.as_tensor(real, dtype=torch.float64, device=dev)
    y = torch.as_tensor(fake, dtype=torch.float64, device=dev)
    rng = np.random.default_rng(seed)
    rows = []
    draws = {n: min(repeats, len(x) // n, len(y) // n) for n in sizes}
    with tqdm(total=sum(draws.values()), desc=f"sample sizes {label}".strip(), unit="fit",
              disable=not progress) as bar:
        for n in sizes:
            px, py = rng.permutation(len(x)), rng.permutation(len(y))
            for r in range(draws[n]):
                xs = x[torch.as_tensor(px[r * n:(r + 1) * n], device=dev)]
                ys = y[torch.as_tensor(py[r * n:(r + 1) * n], device=dev)]
                rows.append({"n": n, "repeat": r, "fd": frechet_from_samples(xs, ys),
                             "kid": mmd2_unbiased(xs, ys)})
                bar.update(1)
    return SampleSizeSweep(label, tuple(rows), inf, int(len(x)), int(len(y)), str(extractor or ""), True)
