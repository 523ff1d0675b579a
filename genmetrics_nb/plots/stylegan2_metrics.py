"""Figures of the stylegan2_metrics notebook: each metric across training and truncation."""
from __future__ import annotations

from genmetrics_nb.plots.axes import log_y, x_of
from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.plots.core import finish, new_figure

__all__ = ["metric_trends"]


_METRIC_LABELS = {
    "is": ("IS (classifier logits)", "higher = better"),
    "fd": ("FD", "lower = better"),  # named after the extractor: FID only on inception-v3-fid
    "precision": ("precision (k = 3)", "fidelity"),
    "recall": ("recall (k = 3)", "diversity"),
    "ppl": ("PPL (w, end)", "lower = smoother"),
    "ls": ("linear separability (w)", "lower = better"),
}


def metric_trends(result, *, x: str = "iteration", name: str | None = None):
    """Small multiples of the StyleGAN2 metrics against training iteration (psi = 1) or truncation psi."""
    if x not in ("iteration", "psi"):
        raise ValueError(f"x must be 'iteration' or 'psi', got {x!r}")
    t = result.table
    if x == "iteration":
        sub = t[t["psi"] == 1.0].sort_values("iteration")
    else:
        ck = t[t["psi"] != 1.0]["checkpoint"].iloc[0] if (t["psi"] != 1.0).any() else t["checkpoint"].iloc[-1]
        sub = t[t["checkpoint"] == ck].sort_values("psi")
    metrics = [m for m in _METRIC_LABELS if m in t.columns]
    fig, axes = new_figure(2, 3, width=3.4, height=2.8)
    xs, xlabel = x_of(sub, x)
    for ax, m in zip(axes.ravel(), metrics):
        label, hint = _METRIC_LABELS[m]
        if m == "fd":
            label = fd_label(result.settings.get("extractor"))
        ax.plot(xs, sub[m], marker="o", color="tab:blue", label=label)
        if m == "is" and "is_std" in sub and (sub["is_std"] > 0).any():
            ax.fill_between(xs, sub[m] - sub["is_std"], sub[m] + sub["is_std"], alpha=0.2, color="tab:blue")
        if m in ("ppl", "ls"):
            log_y(ax)
        ax.set_title(f"{label} ({hint})", fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(metrics):]:
        ax.axis("off")
    where = "across training (psi = 1)" if x == "iteration" else f"across truncation ({sub['checkpoint'].iloc[0]})"
    fig.suptitle(f"StyleGAN2 metric table {where}")
    return finish(fig, name or f"metrics-by-{x}")
