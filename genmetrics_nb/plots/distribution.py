"""Plots of the distribution-metric notebooks (FID, KID, IS, precision/recall)."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.plots.core import finish, new_figure

__all__ = [
    "blur_examples",
    "fid_matrix_heatmap",
    "fid_same_vs_different",
    "inception_score_curves",
    "kid_fid_sample_size",
    "pr_scenario_bars",
]


def fid_matrix_heatmap(matrix, *, name: str = "fid-class-pairs"):
    """Heatmap of a :class:`~genmetrics_nb.experiments.distribution.FIDMatrix`.

    Each cell shows the FID and, below it, its bootstrap interval.
    """
    import matplotlib.pyplot as plt

    k = len(matrix.class_names)
    fig, axes = new_figure(1, 1, width=1.0 * k + 3.0, height=0.85 * k + 2.0)
    ax = axes[0, 0]
    im = ax.imshow(matrix.values, cmap="viridis")
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("FID")
    ax.set_xticks(range(k), matrix.class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), matrix.class_names, fontsize=8)
    ax.set_xlabel(f"class of draw 2 ({matrix.n} images)")
    ax.set_ylabel(f"class of draw 1 ({matrix.n} images)")
    vmax = np.nanmax(matrix.values)
    for i in range(k):
        for j in range(k):
            v = matrix.values[i, j]
            text = f"{v:.0f}" if v >= 100 else f"{v:.1f}"
            if np.isfinite(matrix.low[i, j]):
                text += f"\n[{matrix.low[i, j]:.0f}, {matrix.high[i, j]:.0f}]"
            color = "black" if v > 0.6 * vmax else "white"
            ax.text(j, i, text, ha="center", va="center", fontsize=6, color=color)
    ci = f", {matrix.n_boot}-resample bootstrap intervals" if matrix.n_boot >= 2 else ""
    ax.set_title(f"Class-pair FID ({matrix.extractor}, n = {matrix.n} per draw{ci})", fontsize=10)
    plt.setp(ax.spines.values(), visible=False)
    return finish(fig, name)


def fid_same_vs_different(result, *, name: str = "fid-same-vs-different"):
    """Grouped bars: FID of two draws of one class and of two classes, at each n."""
    t = result.table
    extractors = list(dict.fromkeys(t["extractor"]))
    fig, axes = new_figure(1, len(extractors), width=4.6, height=3.8)
    comparisons = ["same class", "different classes"]
    for ax, ext in zip(axes[0], extractors):
        sub = t[t["extractor"] == ext]
        sizes = sorted(set(sub["n"]))
        x = np.arange(len(sizes))
        shown_interval = False
        for k, comp in enumerate(comparisons):
            rows = sub[sub["comparison"] == comp].set_index("n").loc[sizes]
            vals = rows["fid"].to_numpy()
            xk = x + (k - 0.5) * 0.38
            ax.bar(xk, vals, 0.38, label=comp, color=f"C{k}")
            if np.isfinite(rows["low"]).all():
                # The (basic) interval is drawn as it is: it can lie below the
                # estimate, which is what an upward-biased estimate looks like.
                lo, hi = rows["low"].to_numpy(), rows["high"].to_numpy()
                ax.vlines(xk, lo, hi, color="black", lw=1.5,
                          label=None if shown_interval else "bootstrap interval")
                ax.hlines(np.concatenate([lo, hi]), np.concatenate([xk, xk]) - 0.06,
                          np.concatenate([xk, xk]) + 0.06, color="black", lw=1.5)
                shown_interval = True
        ax.set_xticks(x, [str(s) for s in sizes])
        ax.set_xlabel("images per draw (n)")
        ax.set_ylabel("FID")
        ax.set_title(f"{ext}: {result.classes[0]} vs {result.classes[1]}", fontsize=10)
        top = np.nanmax(np.concatenate([sub["fid"].to_numpy(), sub["high"].to_numpy()]))
        ax.set_ylim(0, 1.3 * top)  # room for the legend above the bars
        ax.legend(fontsize=7, ncols=3, loc="upper center")
    fig.suptitle("Same class vs different classes", fontsize=10)
    return finish(fig, name)


def kid_fid_sample_size(sweeps, *, name: str = "kid-fid-sample-size"):
    """FID against 1/n with the FID-infinity line, and KID against n, for several sweeps."""
    fig, axes = new_figure(1, 2, width=5.0, height=3.8)
    ax_f, ax_k = axes[0]
    colors = ["C0", "C1", "C2", "C3", "C4"]
    for sw, color in zip(sweeps, colors):
        s = sw.summary
        inv = 1.0 / s["n"].to_numpy()
        ax_f.errorbar(inv, s["fid_mean"], yerr=s["fid_std"].fillna(0), fmt="o", color=color, capsize=3,
                      label=f"{sw.label}: FID at n")
        inf = sw.fid_infinity
        xs = np.linspace(0, inv.max() * 1.05, 50)
        ax_f.plot(xs, inf.value + inf.slope * xs, "--", color=color,
                  label=f"{sw.label}: fit, FID_inf = {inf.value:.1f}")
        ax_k.errorbar(s["n"], s["kid_mean"], yerr=s["kid_std"].fillna(0), fmt="o-", color=color, capsize=3,
                      label=sw.label)
    ax_f.set_xlabel("1 / n (n = images per side)")
    ax_f.set_ylabel("FID")
    ax_f.set_title("FID is biased: it grows as n shrinks", fontsize=10)
    ax_f.set_xlim(left=0)
    ax_f.legend(fontsize=7)
    ax_k.axhline(0.0, color="0.5", lw=0.8)
    ax_k.set_xscale("log")
    ax_k.set_xlabel("n (images per side)")
    ax_k.set_ylabel("KID (mean +/- std over repeats)")
    ax_k.set_title("KID is unbiased: flat in n", fontsize=10)
    ax_k.legend(fontsize=7)
    return finish(fig, name)


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


def pr_scenario_bars(result, *, name: str = "precision-recall"):
    """Grouped bars of precision, recall, density and coverage for each scenario."""
    t = result.table
    metrics = [("precision", f"precision (k={result.k_pr})"), ("recall", f"recall (k={result.k_pr})"),
               ("density", f"density (k={result.k_dc})"), ("coverage", f"coverage (k={result.k_dc})")]
    fig, axes = new_figure(1, 1, width=8.0, height=4.0)
    ax = axes[0, 0]
    x = np.arange(len(t))
    w = 0.2
    for k, (col, label) in enumerate(metrics):
        ax.bar(x + (k - 1.5) * w, t[col], w, label=label)
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xticks(x, list(t["scenario"]))
    ax.set_xlabel("generated set (stand-in)")
    ax.set_ylabel("value (1 = matches the real set)")
    ax.set_title("Precision/recall and density/coverage against the real set", fontsize=10)
    ax.legend(fontsize=8, ncols=2)
    return finish(fig, name)


def blur_examples(result, *, name: str = "blur-examples"):
    """One image per class: unblurred and at each blur level."""
    rows = list(result.examples)
    rows = ["real"] + [r for r in rows if r != "real"]
    k = len(result.examples["real"])
    fig, axes = new_figure(len(rows), k, width=0.9, height=1.0)
    for i, key in enumerate(rows):
        imgs = result.examples[key]
        for j in range(k):
            ax = axes[i, j]
            img = imgs[j]
            ax.imshow(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0), cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(key, fontsize=7)
    fig.suptitle("The generated-set stand-ins (one image per class)", fontsize=9)
    return finish(fig, name)
