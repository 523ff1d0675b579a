"""The kid notebook: the Frechet distance and KID as the sample size shrinks, and FD-infinity.

The distance is FID on ``inception-v3-fid`` features and ``FD_<extractor>``
otherwise (:func:`~genmetrics_nb.metrics.distribution.fid.fd_label`); tables
and keys call it ``fd``.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.util.findings import Verdict, check, relation, verdict_from_checks
from genmetrics_nb.util.results import frame
from genmetrics_nb.util.warn import reemit_once

__all__ = ["SampleSizeSweep", "sample_size_sweep", "kid_verdict"]


# ----------------------------------------------------------------------------
# KID against FID as n shrinks
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SampleSizeSweep:
    """Frechet distance and KID of disjoint draws of size n, repeated, plus FD-infinity.

    ``summary`` has, per n, the mean and the standard deviation over the
    ``draws`` disjoint draws (NaN when the sets hold only one draw of that
    size): the sampling spread of the distance (``fd_mean``, ``fd_std``)
    and of KID at that n.
    """

    label: str
    rows: tuple
    fd_infinity: object  # FIDInfinityResult
    n_real: int
    n_fake: int
    extractor: str = ""

    @property
    def fd_label(self) -> str:
        """FID on ``inception-v3-fid`` features, ``FD_<extractor>`` otherwise."""
        return fd_label(self.extractor)

    @property
    def table(self):
        return frame(list(self.rows))

    @property
    def summary(self):
        t = self.table
        return t.groupby("n").agg(draws=("fd", "size"), fd_mean=("fd", "mean"), fd_std=("fd", "std"),
                                  kid_mean=("kid", "mean"), kid_std=("kid", "std")).reset_index()

    def __repr__(self) -> str:
        sizes = sorted({r["n"] for r in self.rows})
        return (f"SampleSizeSweep({self.label!r}, n = {', '.join(map(str, sizes))}; "
                f"{self.fd_label}-infinity {self.fd_infinity.value:.1f})")

    def _repr_html_(self) -> str:
        return self.summary._repr_html_()

    def to_dict(self) -> dict:
        s = self.summary
        return {"label": self.label, "extractor": self.extractor, "fd_label": self.fd_label,
                "sizes": s["n"].tolist(), "fd_mean": s["fd_mean"].tolist(),
                "kid_mean": s["kid_mean"].tolist(), "kid_std": s["kid_std"].tolist(),
                "fd_infinity": self.fd_infinity.value}


def sample_size_sweep(real, fake, *, sizes, repeats: int = 3, label: str = "", extractor: str = "",
                      seed: int = 0, device="auto", progress: bool = True) -> SampleSizeSweep:
    """FID and KID between disjoint draws of ``n`` real and ``n`` fake samples.

    For each size, both sets are shuffled and cut into consecutive blocks of
    ``n`` rows; the first ``repeats`` pairs of blocks (fewer when a set holds
    fewer than ``repeats`` blocks, one at full size) are the draws. Draws of
    one size share no row, so their spread is the sampling variability at
    that n. The Frechet distance is computed from each pair, and KID as the
    unbiased MMD^2 of that pair (``subsets=1, subset_size=n``). FD-infinity
    is fitted on the real set against fake subsets of the same sizes.
    ``extractor`` names the features' network, for labels only.
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve
    from genmetrics_nb.metrics.distribution.fid import fid_infinity
    from genmetrics_nb.metrics.distribution.frechet import frechet_from_samples
    from genmetrics_nb.metrics.distribution.kid import mmd2_unbiased

    dev = resolve(device)
    x = torch.as_tensor(np.asarray(real), dtype=torch.float64, device=dev)
    y = torch.as_tensor(np.asarray(fake), dtype=torch.float64, device=dev)
    sizes = sorted(int(s) for s in sizes)
    if sizes[-1] > min(len(x), len(y)):
        raise ValueError(f"sizes go up to {sizes[-1]} but the sets hold {len(x)} real and {len(y)} fake samples")
    rng = np.random.default_rng(seed)
    rows = []
    draws = {n: min(repeats, len(x) // n, len(y) // n) for n in sizes}
    with tqdm(total=sum(draws.values()), desc=f"sample sizes {label}".strip(), unit="fit",
              disable=not progress) as bar:
        for n in sizes:
            px, py = rng.permutation(len(x)), rng.permutation(len(y))
            for r in range(draws[n]):
                ix = torch.as_tensor(px[r * n:(r + 1) * n], device=dev)
                iy = torch.as_tensor(py[r * n:(r + 1) * n], device=dev)
                xs, ys = x[ix], y[iy]
                rows.append({"n": n, "repeat": r, "fd": frechet_from_samples(xs, ys),
                             "kid": mmd2_unbiased(xs, ys)})
                bar.update(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inf = fid_infinity(np.asarray(real), np.asarray(fake), sizes=sizes, seed=seed, device=dev,
                           progress=False)
    reemit_once(caught)
    return SampleSizeSweep(label, tuple(rows), inf, int(len(x)), int(len(y)), str(extractor or ""))


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
def kid_verdict(same: SampleSizeSweep, dropped: SampleSizeSweep) -> Verdict:
    """The kid notebook's finding: FID is biased at small n, KID is not.

    Checks (means over the disjoint draws at each n):

    - FID of two draws of one distribution falls as n grows (smallest n
      against largest): the bias;
    - KID is not biased the way FID is: at every n, the KID of two draws of
      one distribution is a smaller share of the dropped-classes KID than
      the FID of those draws is of the dropped-classes FID (an unbiased
      statistic's same-distribution value is noise around 0; a biased
      one's is most of the value at small n);
    - FID-infinity, which extrapolates the bias away, is lower for one
      distribution than with classes dropped.
    """
    fd = same.fd_label
    s, d = same.summary, dropped.summary
    n0, n1 = int(s["n"].iloc[0]), int(s["n"].iloc[-1])
    f0, f1 = float(s["fd_mean"].iloc[0]), float(s["fd_mean"].iloc[-1])
    checks = [check(f"{fd} of one distribution {f0:.1f} at n = {n0} {relation(f0, f1)} {f1:.1f} at n = {n1}", f0 > f1)]
    m = s.merge(d, on="n", suffixes=("_same", "_dropped"))
    kid_share = (m["kid_mean_same"].abs() / m["kid_mean_dropped"]).to_numpy()
    fid_share = (m["fd_mean_same"] / m["fd_mean_dropped"]).to_numpy()
    worst = int(np.argmax(kid_share / fid_share))
    r = m.iloc[worst]
    checks.append(check(
        f"KID of one distribution a smaller share of the classes-dropped value than {fd}'s at every n (closest at "
        f"n = {int(r['n'])}: KID {r['kid_mean_same']:.2g} of {r['kid_mean_dropped']:.2g} = {kid_share[worst]:.2f}, "
        f"{fd} {r['fd_mean_same']:.1f} of {r['fd_mean_dropped']:.1f} = {fid_share[worst]:.2f})",
        bool(np.all(m["kid_mean_dropped"].to_numpy() > 0) and np.all(kid_share < fid_share))))
    a, b = same.fd_infinity.value, dropped.fd_infinity.value
    checks.append(check(f"{fd}-infinity {a:.1f} (one distribution) {relation(a, b)} {b:.1f} (classes dropped)", a < b))
    return verdict_from_checks(f"{fd} of two draws of one distribution shrinks with n; KID has no such bias", checks)
