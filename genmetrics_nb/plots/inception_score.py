"""Figures of the inception_score notebook: IS per class, against classes mixed and splits."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["inception_score_curves"]


def inception_score_curves(exp, *, name: str = "inception-score"):
    """IS against the number of classes mixed, and against the number of splits."""
    fig, axes = new_figure(1, 2, width=5.0, height=3.8)
    ax_m, ax_s = axes[0]
    m = exp.mixture_summary
    ax_m.errorbar(m["classes"], m["is_mean"], yerr=m["is_std"].fillna(0), fmt="o-", capsize=3,
                  label=f"mixtures of {exp.n} images")
    pc = exp.per_class_table
    ax_m.scatter(np.ones(len(pc)), pc["is"], marker="x", color="C3", zorder=3, label="single classes")
    ax_m.set_xlabel("classes present in the set")
    ax_m.set_ylabel("Inception Score (1 split)")
    ax_m.set_title("IS grows with the number of classes", fontsize=10)
    ax_m.legend(fontsize=8)
    st = exp.splits_table
    ax_s.errorbar(st["splits"], st["is_mean"], yerr=st["is_std"], fmt="o-", capsize=3, color="C2",
                  label="all classes, mean +/- std over splits")
    ax_s.set_xscale("log")
    ax_s.set_xlabel("number of splits")
    ax_s.set_ylabel("Inception Score")
    ax_s.set_title("Smaller splits give a lower IS", fontsize=10)
    ax_s.legend(fontsize=8)
    return finish(fig, name)
