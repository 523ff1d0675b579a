"""Figures of the evaluate notebook: samples, realism and memorisation galleries, classes, sample size."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure
from genmetrics_nb.plots.samples import show_images

__all__ = [
    "evaluation_samples",
    "realism_galleries",
    "memorisation_plot",
    "class_histograms",
    "class_fd",
    "fd_sample_size",
]


def evaluation_samples(ev, *, n: int = 16, nrow: int = 4, name: str = "evaluation-samples"):
    """A grid of real images beside a grid of each generated set."""
    sets = [ev.real, *ev.generated]
    fig, axes = new_figure(1, len(sets), width=2.6, height=2.9)
    for ax, s in zip(axes[0], sets):
        show_images(ax, s.preview(n), nrow)
        ax.set_title(s.name, fontsize=9)
        ax.set_xlabel(f"first {min(n, s.n)} of {s.n} sampled images", fontsize=7)
    fig.suptitle("Real and generated samples")
    return finish(fig, name)


def realism_galleries(ev, gal, *, nrow: int = 4, name: str = "realism-galleries"):
    """For each generated set, its most and least realistic samples (realism score under each panel)."""
    fig, axes = new_figure(len(ev.generated), 2, width=2.8, height=3.0)
    for row, g in zip(axes, ev.generated):
        for ax, which, idx in ((row[0], "most", gal.most[g.name]), (row[1], "least", gal.least[g.name])):
            show_images(ax, g.images(idx), nrow)
            scores = gal.scores[g.name][idx]
            ax.set_title(f"{g.name}: {which} realistic", fontsize=8)
            ax.set_xlabel(f"realism score {scores.min():.2f} to {scores.max():.2f}", fontsize=7)
    fig.suptitle(f"Realism score (Kynkaanniemi et al. 2019, k={gal.k}); > 1: inside the real manifold")
    return finish(fig, name)


def memorisation_plot(ev, memo, *, name: str = "memorisation"):
    """Nearest-real-neighbour distances of each generated set against held-out real images,
    and the closest generated/real pairs."""
    n_sets = len(ev.generated)
    fig, axes = new_figure(1 + n_sets, 1, width=9.0, height=2.8)
    ax = axes[0][0]
    all_d = np.concatenate([memo.heldout, *[d for _, d in memo.generated.values()]])
    bins = np.linspace(0, float(np.quantile(all_d, 0.995)) * 1.05 + 1e-12, 40)
    ax.hist(memo.heldout, bins=bins, density=True, histtype="step", color="black", lw=2,
            label="held-out real images")
    for g in ev.generated:
        ax.hist(memo.generated[g.name][1], bins=bins, density=True, histtype="step", lw=1.2, label=g.name)
    ax.axvline(memo.threshold, color="red", ls="--", lw=1, label="copy threshold")
    ax.set_xlabel("Euclidean distance to the nearest reference image (features)")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    ax.set_title("Distance to the nearest real image: generated samples against new real images")
    for row, g in zip(axes[1:], ev.generated):
        ax = row[0]
        idx = memo.closest[g.name]
        real_rows = memo.generated[g.name][0][idx]
        pairs = np.concatenate([g.images(idx), ev.real.images(real_rows)])
        show_images(ax, pairs, len(idx))
        d = memo.generated[g.name][1][idx]
        ax.set_title(f"{g.name}: closest pairs (top: generated, bottom: nearest real); "
                     f"{len(memo.flagged[g.name])} flagged", fontsize=8)
        ax.set_xlabel("distances " + ", ".join(f"{v:.3g}" for v in d), fontsize=7)
    return finish(fig, name)


def class_histograms(pc, *, name: str = "class-histograms"):
    """Share of each class in the real set and in each generated set."""
    fig, axes = new_figure(1, 1, width=max(6.0, 0.6 * len(pc.class_names) + 2), height=3.6)
    ax = axes[0][0]
    sets = {"real": pc.real_counts, **pc.generated_counts}
    width = 0.8 / len(sets)
    x = np.arange(len(pc.class_names))
    for i, (label, counts) in enumerate(sets.items()):
        ax.bar(x + i * width - 0.4 + width / 2, counts / max(1, counts.sum()), width, label=label,
               color="black" if label == "real" else None)
    ax.set_xticks(x)
    ax.set_xticklabels(pc.class_names, rotation=30, ha="right", fontsize=8)
    ax.set_xlabel(f"class (generated images labelled by {pc.labelled_by})")
    ax.set_ylabel("share of the set")
    ax.legend(fontsize=7)
    ax.set_title("Class histogram")
    return finish(fig, name)


def class_fd(pc, *, name: str = "class-fd"):
    """The Frechet distance of each class, per generated set."""
    fig, axes = new_figure(1, 1, width=max(6.0, 0.6 * len(pc.class_names) + 2), height=3.6)
    ax = axes[0][0]
    x = np.arange(len(pc.class_names))
    for label, fd in pc.fd.items():
        ax.plot(x, fd, marker="o", label=label)
    ax.set_xticks(x)
    ax.set_xticklabels(pc.class_names, rotation=30, ha="right", fontsize=8)
    ax.set_xlabel("class")
    ax.set_ylabel(f"{pc.fd_name} within the class")
    ax.legend(fontsize=7)
    ax.set_title(f"{pc.fd_name} per class (biased upwards at small n per class)")
    return finish(fig, name)


def fd_sample_size(curve, *, name: str = "fd-sample-size"):
    """FD against 1/n for each set, with the straight-line fit whose intercept is FD-infinity."""
    fig, axes = new_figure(1, 1, width=6.5, height=4.0)
    ax = axes[0][0]
    for label, c in curve.curves.items():
        inv = 1.0 / np.asarray(c.sizes, dtype=float)
        line = ax.plot(inv, c.fids, marker="o", ls="none", label=f"{label} (at n)")
        xs = np.linspace(0, inv.max(), 20)
        ax.plot(xs, c.value + c.slope * xs, ls="--", color=line[0].get_color(),
                label=f"{label}: {curve.fd_name}-infinity {c.value:.3g}")
    ax.set_xlim(left=0)
    ax.set_xlabel("1 / n (number of generated samples)")
    ax.set_ylabel(curve.fd_name)
    ax.legend(fontsize=7)
    ax.set_title(f"{curve.fd_name} against sample size; the intercept at 1/n = 0 is {curve.fd_name}-infinity")
    return finish(fig, name)
