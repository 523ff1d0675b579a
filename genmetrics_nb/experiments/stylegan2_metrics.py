"""The stylegan2_metrics notebook: the StyleGAN2 metric table per checkpoint and per truncation."""
from __future__ import annotations

import time

from genmetrics_nb.experiments.generator_sweeps import (
    DISTANCE_NETS,
    SweepResult,
    by_key,
    final_name,
    iteration_of,
    load_generators,
    psi_runs,
)
from genmetrics_nb.util.checks import check_choice, check_int

__all__ = ["metric_table"]


def metric_table(checkpoints=None, *, psis=(0.5, 0.7, 1.0), psi_checkpoint=None, num_images: int = 300,
                 real="fashion-mnist:test", extractor="efficientnet-lite0", pr_extractor=None, k: int = 3,
                 is_source: str = "classifier", is_splits: int = 1, classifier="shipped", ppl_samples: int = 300,
                 ppl_distance="efficientnet-lite0", ppl_resize: int | None = 64, ppl_crop: bool = False,
                 ls_samples: int = 2000, ls_keep: str = "per-label",
                 seed: int = 0, device="auto", progress: bool = True) -> SweepResult:
    """The StyleGAN2 metric table for generator checkpoints, and a truncation sweep.

    Parameters
    ----------
    checkpoints : list, optional
        Shipped checkpoint names, StyleGAN ``.pkl`` paths or Generator
        objects (default: all shipped snapshots).
    psis : list of float
        Truncation values evaluated on ``psi_checkpoint`` (the last by default).
    num_images : int
        Generated images per run, and real images (the first ``num_images`` of ``real``).
    real : str or images
        Dataset spec (``"fashion-mnist:test"``), folder, or uint8 array.
    extractor : str
        Features for FID (and precision/recall unless ``pr_extractor``).
    pr_extractor : str, optional
        Features for precision/recall (the paper: ``"vgg16-fc2"``).
    k : int
        Neighbourhood size of precision/recall (3 in the paper).
    is_source : {"classifier", "extractor"}
        Logits for the Inception Score: the attribute classifier's (offline
        analogue) or the extractor's ``"logits"`` output (the paper, with
        ``inception-v3-fid``; note IS there uses the 1008 logits).
    is_splits : int
        Splits of the Inception Score (the paper: 10 splits of 5000 images;
        with a few hundred images one split is less biased).
    classifier : "shipped", AttributeClassifier or None
        For the IS analogue and linear separability; None skips both.
    ppl_samples : int
        Pairs for PPL (``space="w"``, ``sampling="end"``, epsilon 1e-4).
    ppl_distance, ppl_resize, ppl_crop
        Distance of PPL (the paper: ``"lpips-vgg"``, no resize, FFHQ face crop).
    ls_samples : int
        Samples for linear separability in w (the paper: 200 000).
    ls_keep : {"per-label", "most-confident"}
        Sample pruning of linear separability (the paper: "most-confident",
        meant for balanced binary attributes).
    seed : int
    device : str
    progress : bool

    Returns
    -------
    SweepResult
        ``table`` columns: ``checkpoint``, ``iteration``, ``psi``, ``is``,
        ``is_std``, ``fid``, ``precision``, ``recall``, ``ppl``, ``ls``,
        ``seconds``; ``samples`` keyed ``"<checkpoint> psi=<psi>"``.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from genmetrics_nb.features.engine import extract_features
    from genmetrics_nb.images import load_images
    from genmetrics_nb.metrics.distribution.fid import fid
    from genmetrics_nb.metrics.distribution.inception_score import inception_score
    from genmetrics_nb.metrics.distribution.knn import precision_recall
    from genmetrics_nb import sources
    from genmetrics_nb.metrics.generator.ppl import ppl as ppl_fn
    from genmetrics_nb.metrics.generator.separability import linear_separability
    from genmetrics_nb.zoo.checkpoints import classifier_logits, load_classifier

    check_choice(is_source, name="is_source", choices=("classifier", "extractor"))
    k = check_int(k, name="k", minimum=1)
    num_images = check_int(num_images, name="num_images", minimum=k + 2,
                           hint=f"precision/recall with k={k} needs more than k + 1 images")
    gens = load_generators(checkpoints, device=device)
    runs = psi_runs(gens, psis, psi_checkpoint)
    clf = load_classifier(device=device) if isinstance(classifier, str) and classifier == "shipped" else classifier
    if clf is None and is_source == "classifier":
        raise ValueError("is_source='classifier' needs a classifier; pass classifier='shipped' or is_source='extractor'")
    ppl_dist = None
    if ppl_samples:  # one distance object for every run, so its network loads once
        from genmetrics_nb.metrics.generator.ppl import resolve_distance

        if isinstance(ppl_distance, str):
            from genmetrics_nb.metrics.pixel.lpips import LPIPS

            ppl_dist = LPIPS(DISTANCE_NETS.get(ppl_distance, ppl_distance), resize=ppl_resize, device=device)
        else:
            if ppl_resize is not None:
                raise ValueError("ppl_resize applies to a distance given by name; pass ppl_resize=None with an LPIPS object")
            resolve_distance(ppl_distance)  # validates
            ppl_dist = ppl_distance
    real_images = sources.load_dataset_images(real) if sources.is_dataset_spec(real) else load_images(real)
    real_images = real_images[:num_images]
    fx = dict(cache=False, device=device, progress=False)
    real_feats = extract_features(real_images, extractor, **fx)
    real_pr = extract_features(real_images, pr_extractor, **fx) if pr_extractor else real_feats
    pr_out = sources.default_output(pr_extractor or extractor, real_pr.keys())
    rows, samples, details = [], {}, {}
    for name, psi in tqdm(runs, disable=not progress, desc="metric table", unit="run"):
        gen = gens[name]
        t0 = time.perf_counter()
        images = gen.generate(num_images, seed=seed, psi=psi, progress=False)
        samples[f"{name} psi={psi:g}"] = images[:32]
        feats = extract_features(images, extractor, **fx)
        fd = fid(real_feats, feats)
        pr_feats = extract_features(images, pr_extractor, **fx) if pr_extractor else feats
        pr = precision_recall(real_pr[pr_out], pr_feats[pr_out], k=k, device=device, progress=False)
        logits = classifier_logits(images, clf, device=device) if is_source == "classifier" else feats["logits"]
        isc = inception_score(logits, splits=is_splits)
        row = {"checkpoint": name, "iteration": iteration_of(gen), "psi": psi, "is": isc.value, "is_std": isc.std,
               "fid": fd.value, "precision": pr.precision, "recall": pr.recall}
        if ppl_samples:
            p = ppl_fn(gen, space="w" if gen.has_mapping else "z", sampling="end", num_samples=ppl_samples,
                       distance=ppl_dist, crop=ppl_crop, psi=psi, seed=seed, device=device, progress=False)
            row["ppl"] = p.value
            details[f"ppl {name} psi={psi:g}"] = p
        if ls_samples and clf is not None:
            ls = linear_separability(gen, clf, num_samples=ls_samples, keep=ls_keep,
                                     space="w" if gen.has_mapping else "z", psi=psi, seed=seed, progress=False)
            row["ls"] = ls.value
            details[f"ls {name} psi={psi:g}"] = ls
        row["seconds"] = round(time.perf_counter() - t0, 2)
        rows.append(row)
    settings = dict(num_images=num_images, real=str(real) if isinstance(real, str) else "array", extractor=extractor,
                    pr_extractor=pr_extractor or extractor, k=k, is_source=is_source, is_splits=is_splits, classifier=getattr(clf, "name", None),
                    ppl_samples=ppl_samples, ppl_distance=getattr(ppl_dist, "name", str(ppl_distance)), ppl_resize=ppl_resize, ppl_crop=ppl_crop,
                    ls_samples=ls_samples, ls_keep=ls_keep, seed=seed, psis=[float(p) for p in psis])
    table = pd.DataFrame(rows)
    final = final_name(runs)
    target = runs[-1][0]
    cols = [c for c in ("is", "fid", "precision", "recall", "ppl", "ls") if c in table.columns]
    at1 = table[table["psi"] == 1.0]
    key = "iteration" if at1["iteration"].notna().all() else "checkpoint"
    summary = {
        "final_checkpoint": final,
        "final": {c: float(table[(table["checkpoint"] == final) & (table["psi"] == 1.0)][c].iloc[0]) for c in cols},
        "by_iteration": {c: by_key(at1, key, c) for c in cols},
        "by_psi": {c: by_key(table[table["checkpoint"] == target].sort_values("psi"), "psi", c) for c in cols},
    }
    return SweepResult(table, samples, settings, summary, details)
