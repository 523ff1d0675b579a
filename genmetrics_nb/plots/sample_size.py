"""The Frechet distance (and KID) against the sample size: the kid notebook's and the evaluate report's figure."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["fd_sample_size"]


def fd_sample_size(sweeps, *, name: str = "fd-sample-size"):
    """The Frechet distance against 1/n with the FD-infinity line, and KID against n where measured.

    Parameters
    ----------
    sweeps : SampleSizeSweep or list of them
        From :func:`genmetrics_nb.metrics.distribution.sample_size.sample_size_sweep`.
        Disjoint draws (the kid notebook) give error bars (standard deviation
        over the draws at that n, none where the sets hold a single draw) and
        a KID panel; the whole reference against n generated samples (the
        evaluate report) gives FD-infinity's points.
    name : str
        The saved figure's name.
    """
    from matplotlib.ticker import MaxNLocator

    if not isinstance(sweeps, (list, tuple)):
        sweeps = [sweeps]
    with_kid = all(sw.has_kid for sw in sweeps)
    fig, axes = new_figure(1, 2 if with_kid else 1, width=5.0 if with_kid else 6.5, height=3.8 if with_kid else 4.0)
    ax_f = axes[0][0]
    fd = sweeps[0].fd_label
    drawn = sweeps[0].draw_real
    for i, sw in enumerate(sweeps):
        color = f"C{i % 10}"
        s = sw.summary
        inv = 1.0 / s["n"].to_numpy()
        what = "mean ± std, disjoint draws" if drawn else "whole reference"
        ax_f.errorbar(inv, s["fd_mean"], yerr=s["fd_std"].fillna(0), fmt="o", color=color, capsize=3,
                      label=f"{sw.label}: {fd} at n ({what})")
        inf = sw.fd_infinity
        xs = np.linspace(0, inv.max() * 1.05, 50)
        ax_f.plot(xs, inf.value + inf.slope * xs, "--", color=color,
                  label=f"{sw.label}: fit, {fd}-infinity = {inf.value:.3g}")
    side = "n = images per side" if drawn else "n = generated images, against the whole reference"
    ax_f.set_xlabel(f"1 / n ({side})")
    ax_f.set_ylabel(f"{fd} (mean ± std over disjoint draws)" if drawn else fd)
    ax_f.set_title(f"{fd} against sample size; the intercept at 1/n = 0 is {fd}-infinity", fontsize=10)
    ax_f.set_xlim(left=0)
    ax_f.xaxis.set_major_locator(MaxNLocator(5))  # 1/n ticks such as 0.0025 overlap otherwise
    ax_f.legend(fontsize=7, loc="lower right")  # the points rise to the upper right
    if with_kid:
        ax_k = axes[0][1]
        ax_k.axhline(0.0, color="0.5", lw=0.8)
        for i, sw in enumerate(sweeps):
            s = sw.summary
            ax_k.errorbar(s["n"], s["kid_mean"], yerr=s["kid_std"].fillna(0), fmt="o-", color=f"C{i % 10}",
                          capsize=3, label=sw.label)
        ax_k.set_xscale("log")
        ax_k.set_xlabel("n (images per side)")
        ax_k.set_ylabel("KID (mean ± std over disjoint draws)")
        ax_k.set_title("KID is unbiased: flat in n", fontsize=10)
        ax_k.legend(fontsize=7)
    return finish(fig, name)
