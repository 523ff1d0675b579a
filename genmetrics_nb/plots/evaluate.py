"""Figures of the evaluate notebook: samples, realism and memorisation galleries, classes.

FD against the sample size is :func:`genmetrics_nb.plots.sample_size.fd_sample_size`.
"""
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
]


def evaluation_samples(ev, *, n: int = 16, nrow: int = 4, seed: int = 0, name: str = "evaluation-samples"):
    """A grid of real images beside a grid of each generated set.

    Each grid is a seeded random sample of the set, stratified by class
    (every class in turn, grouped) when the set has labels
    (:meth:`~genmetrics_nb.suites.evaluate.sets.EvaluationSet.draw`).
    """
    sets = [ev.real, *ev.generated]
    fig, axes = new_figure(1, len(sets), width=2.6, height=2.9)
    for ax, s in zip(axes[0], sets):
        rows = s.draw(n, seed=seed)
        show_images(ax, s.images(rows), nrow)
        ax.set_title(f"{s.name} (n = {s.n})", fontsize=9)
        how = "stratified by class" if s.labels is not None else "random"
        ax.set_xlabel(f"{len(rows)} of {s.n} images, {how} (seed {seed})", fontsize=7)
    fig.suptitle("Real and generated samples")
    return finish(fig, name)


def realism_galleries(ev, gal, *, nrow: int = 4, name: str = "realism-galleries"):
    """For each generated set, its most and least realistic samples (realism score under each panel)."""
    fig, axes = new_figure(len(ev.generated), 2, width=2.8, height=3.0)
    for row, g in zip(axes, ev.generated):
        for ax, which, idx in ((row[0], "most", gal.most[g.name]), (row[1], "least", gal.least[g.name])):
            show_images(ax, g.images(idx), nrow)
            ax.set_title(f"{g.name}: {which} realistic", fontsize=8)
            ax.set_xlabel(gal.range_text(g.name, idx), fontsize=7)
    fig.suptitle(f"Realism score (Kynkaanniemi et al. 2019, k={gal.k}); > 1: inside the real manifold; "
                 "copy: at distance 0 from a real image")
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
    ax.set_xlabel(f"Euclidean distance to the nearest of all {memo.n_reference} reference images (features)")
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
