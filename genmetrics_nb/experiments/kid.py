"""The kid notebook: the Frechet distance and KID as the sample size shrinks, and FD-infinity.

The distance is FID on ``inception-v3-fid`` features and ``FD_<extractor>``
otherwise (:func:`~genmetrics_nb.metrics.distribution.fid.fd_label`); tables
and keys call it ``fd``.
"""
from __future__ import annotations

import warnings

import numpy as np

from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.metrics.distribution.sample_size import SampleSizeSweep
from genmetrics_nb.metrics.distribution.sample_size import sample_size_sweep as _sweep
from genmetrics_nb.util.findings import Verdict, check, relation, verdict_from_checks
from genmetrics_nb.util.results import frame
from genmetrics_nb.util.warn import reemit_once

__all__ = ["sample_size_sweep", "kid_verdict"]


# ----------------------------------------------------------------------------
# KID against FID as n shrinks
# ----------------------------------------------------------------------------
def sample_size_sweep(real, fake, *, sizes, repeats: int = 3, label: str = "", extractor: str = "",
                      seed: int = 0, device="auto", progress: bool = True) -> SampleSizeSweep:
    """FID and KID between disjoint draws of ``n`` real and ``n`` fake samples, and FD-infinity.

    The kid notebook's step: :func:`genmetrics_nb.metrics.distribution.sample_size.sample_size_sweep`
    with ``draw_real=True``, its warnings shown once per notebook.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sweep = _sweep(real, fake, sizes=sizes, repeats=repeats, draw_real=True, label=label, extractor=extractor,
                       seed=seed, device=device, progress=progress)
    reemit_once(caught)
    return sweep


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
