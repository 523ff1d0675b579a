"""Figures of the kid notebook: the Frechet distance and KID against the sample size."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["kid_fid_sample_size"]


def kid_fid_sample_size(sweeps, *, name: str = "kid-fid-sample-size"):
    """The Frechet distance against 1/n with the FD-infinity line, and KID against n, for several sweeps.

    Error bars: the standard deviation over the sweep's disjoint draws at that n
    (none where the sets hold a single draw of that size).
    """
    from matplotlib.ticker import MaxNLocator

    fig, axes = new_figure(1, 2, width=5.0, height=3.8)
    ax_f, ax_k = axes[0]
    colors = ["C0", "C1", "C2", "C3", "C4"]
    fd = sweeps[0].fd_label
    for sw, color in zip(sweeps, colors):
        s = sw.summary
        inv = 1.0 / s["n"].to_numpy()
        ax_f.errorbar(inv, s["fd_mean"], yerr=s["fd_std"].fillna(0), fmt="o", color=color, capsize=3,
                      label=f"{sw.label}: {fd} at n (mean ± std, disjoint draws)")
        inf = sw.fd_infinity
        xs = np.linspace(0, inv.max() * 1.05, 50)
        ax_f.plot(xs, inf.value + inf.slope * xs, "--", color=color,
                  label=f"{sw.label}: fit, {fd}-infinity = {inf.value:.1f}")
        ax_k.errorbar(s["n"], s["kid_mean"], yerr=s["kid_std"].fillna(0), fmt="o-", color=color, capsize=3,
                      label=sw.label)
    ax_f.set_xlabel("1 / n (n = images per side)")
    ax_f.set_ylabel(f"{fd} (mean ± std over disjoint draws)")
    ax_f.set_title(f"{fd} is biased: it grows as n shrinks", fontsize=10)
    ax_f.set_xlim(left=0)
    ax_f.xaxis.set_major_locator(MaxNLocator(5))  # 1/n ticks such as 0.0025 overlap otherwise
    ax_f.legend(fontsize=7, loc="lower right")  # the points rise to the upper right
    ax_k.axhline(0.0, color="0.5", lw=0.8)
    ax_k.set_xscale("log")
    ax_k.set_xlabel("n (images per side)")
    ax_k.set_ylabel("KID (mean ± std over disjoint draws)")
    ax_k.set_title("KID is unbiased: flat in n", fontsize=10)
    ax_k.legend(fontsize=7)
    return finish(fig, name)
