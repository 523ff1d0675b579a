"""The stylegan2_metrics notebook: the StyleGAN2 metric table per checkpoint and per truncation."""
from __future__ import annotations

import time
import warnings

from genmetrics_nb.metrics.distribution.fid import fd_label
from genmetrics_nb.suites.generator_sweeps import (
    DISTANCE_NETS,
    SweepResult,
    by_key,
    final_name,
    iteration_of,
    load_generators,
    psi_runs,
)
from genmetrics_nb.util.checks import check_choice, check_int
from genmetrics_nb.util.findings import Verdict, check, not_testable, relation, verdict_from_checks
from genmetrics_nb.util.warn import reemit_once

__all__ = ["metric_table", "stylegan2_metrics_verdict"]


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
        ``is_std``, ``fd`` (the Frechet distance; FID on ``inception-v3-fid``), ``precision``, ``recall``, ``ppl``, ``ls``,
        ``seconds``; ``samples`` keyed ``"<checkpoint> psi=<psi>"``.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from genmetrics_nb.zoo.checkpoints import load_classifier

    check_choice(is_source, name="is_source", choices=("classifier", "extractor"))
    k = check_int(k, name="k", minimum=1)
    num_images = check_int(num_images, name="num_images", minimum=k + 2,
                           hint=f"precision/recall with k={k} needs more than k + 1 images")
    gens = load_generators(checkpoints, device=device)
    runs = psi_runs(gens, psis, psi_checkpoint)
    clf = load_classifier(device=device) if isinstance(classifier, str) and classifier == "shipped" else classifier
    if clf is None and is_source == "classifier":
        raise ValueError("is_source='classifier' needs a classifier; pass classifier='shipped' or is_source='extractor'")
    ppl_dist = _ppl_distance(ppl_distance, ppl_resize, device) if ppl_samples else None
    real_feats = _real_features(real, num_images, extractor, pr_extractor, device)
    rows, samples, details = [], {}, {}
    with warnings.catch_warnings(record=True) as caught:  # one n <= D warning, not one per run
        warnings.simplefilter("always")
        for name, psi in tqdm(runs, disable=not progress, desc="metric table", unit="run"):
            row, images, extra = _score_run(
                gens[name], name, psi, real_feats, num_images=num_images, extractor=extractor,
                pr_extractor=pr_extractor, k=k, is_source=is_source, is_splits=is_splits, clf=clf,
                ppl_samples=ppl_samples, ppl_dist=ppl_dist, ppl_crop=ppl_crop, ls_samples=ls_samples,
                ls_keep=ls_keep, seed=seed, device=device,
            )  # fmt: skip
            samples[f"{name} psi={psi:g}"] = images[:32]
            details.update(extra)
            rows.append(row)
    reemit_once(caught)
    settings = dict(num_images=num_images, real=str(real) if isinstance(real, str) else "array", extractor=extractor,
                    pr_extractor=pr_extractor or extractor, k=k, is_source=is_source, is_splits=is_splits,
                    classifier=getattr(clf, "name", None), ppl_samples=ppl_samples,
                    ppl_distance=getattr(ppl_dist, "name", str(ppl_distance)), ppl_resize=ppl_resize,
                    ppl_crop=ppl_crop, ls_samples=ls_samples, ls_keep=ls_keep, seed=seed,
                    psis=[float(p) for p in psis])
    table = pd.DataFrame(rows)
    return SweepResult(table, samples, settings, _summary(table, runs), details)


def _ppl_distance(ppl_distance, ppl_resize, device):
    """One distance object for every run, so that its network loads once."""
    from genmetrics_nb.metrics.generator.ppl import resolve_distance

    if isinstance(ppl_distance, str):
        from genmetrics_nb.metrics.pixel.lpips import LPIPS

        return LPIPS(DISTANCE_NETS.get(ppl_distance, ppl_distance), resize=ppl_resize, device=device)
    if ppl_resize is not None:
        raise ValueError("ppl_resize applies to a distance given by name; pass ppl_resize=None with an LPIPS object")
    resolve_distance(ppl_distance)  # validates
    return ppl_distance


def _real_features(real, num_images, extractor, pr_extractor, device) -> dict:
    """Features of the first ``num_images`` real images: ``fid`` (all outputs) and ``pr`` (the P/R output)."""
    from genmetrics_nb.features.engine import extract_features
    from genmetrics_nb.features.inputs import default_output
    from genmetrics_nb.sources import load_images

    images = load_images(real)
    images = images[:num_images]
    fx = dict(cache=False, device=device, progress=False)
    feats = extract_features(images, extractor, **fx)
    pr = extract_features(images, pr_extractor, **fx) if pr_extractor else feats
    pr_out = default_output(pr_extractor or extractor, pr.keys())
    return {"fid": feats, "pr": pr[pr_out], "pr_out": pr_out}


def _score_run(gen, name, psi, real, *, num_images, extractor, pr_extractor, k, is_source, is_splits, clf,
               ppl_samples, ppl_dist, ppl_crop, ls_samples, ls_keep, seed, device):
    """One row of the table: generate, then IS, FID, precision/recall, PPL and separability."""
    from genmetrics_nb.features.engine import extract_features
    from genmetrics_nb.metrics.distribution.fid import fid
    from genmetrics_nb.metrics.distribution.inception_score import inception_score
    from genmetrics_nb.metrics.distribution.knn import precision_recall
    from genmetrics_nb.metrics.generator.ppl import ppl as ppl_fn
    from genmetrics_nb.metrics.generator.separability import linear_separability
    from genmetrics_nb.zoo.checkpoints import classifier_logits

    t0 = time.perf_counter()
    fx = dict(cache=False, device=device, progress=False)
    images = gen.generate(num_images, seed=seed, psi=psi, progress=False)
    feats = extract_features(images, extractor, **fx)
    fd = fid(real["fid"], feats)
    pr_feats = extract_features(images, pr_extractor, **fx) if pr_extractor else feats
    pr = precision_recall(real["pr"], pr_feats[real["pr_out"]], k=k, device=device, progress=False)
    logits = classifier_logits(images, clf, device=device) if is_source == "classifier" else feats["logits"]
    isc = inception_score(logits, splits=is_splits)
    row = {"checkpoint": name, "iteration": iteration_of(gen), "psi": psi, "is": isc.value, "is_std": isc.std,
           "fd": fd.value, "precision": pr.precision, "recall": pr.recall}
    details = {}
    space = "w" if gen.has_mapping else "z"
    if ppl_samples:
        p = ppl_fn(gen, space=space, sampling="end", num_samples=ppl_samples, distance=ppl_dist, crop=ppl_crop,
                   psi=psi, seed=seed, device=device, progress=False)
        row["ppl"] = p.value
        details[f"ppl {name} psi={psi:g}"] = p
    if ls_samples and clf is not None:
        ls = linear_separability(gen, clf, num_samples=ls_samples, keep=ls_keep, space=space, psi=psi, seed=seed,
                                 progress=False)
        row["ls"] = ls.value
        details[f"ls {name} psi={psi:g}"] = ls
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row, images, details


def _summary(table, runs) -> dict:
    """The numbers a report records: the final checkpoint's, and each metric by iteration and by psi."""
    final = final_name(runs)
    target = runs[-1][0]
    cols = [c for c in ("is", "fd", "precision", "recall", "ppl", "ls") if c in table.columns]
    at1 = table[table["psi"] == 1.0]
    key = "iteration" if at1["iteration"].notna().all() else "checkpoint"
    return {
        "final_checkpoint": final,
        "final": {c: float(table[(table["checkpoint"] == final) & (table["psi"] == 1.0)][c].iloc[0]) for c in cols},
        "by_iteration": {c: by_key(at1, key, c) for c in cols},
        "by_psi": {c: by_key(table[table["checkpoint"] == target].sort_values("psi"), "psi", c) for c in cols},
    }


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
def stylegan2_metrics_verdict(result: SweepResult) -> Verdict:
    """The stylegan2_metrics notebook's finding: training lowers FID; truncation trades recall for precision.

    Checks on the metric table:

    - across training (psi = 1): FID of the last checkpoint below FID of the
      first (needs two checkpoints);
    - across truncation (Kynkaanniemi et al. 2019; StyleGAN2, Karras et al.
      2020): at the smallest psi, recall below and precision above their
      values at psi = 1 (needs a psi below 1).
    """
    fd = fd_label(result.settings.get("extractor"))
    finding = f"{fd} falls with training; truncation raises precision and lowers recall"
    t = result.table
    at1 = t[t["psi"] == 1.0]
    checks = []
    if len(at1) >= 2:
        first, last = at1.iloc[0], at1.iloc[-1]
        a, b = last["fd"], first["fd"]
        checks.append(check(f"training: {fd} {a:.1f} ({last['checkpoint']}) {relation(a, b)} {b:.1f} "
                            f"({first['checkpoint']})", a < b))
    target = t.iloc[-1]["checkpoint"]
    trunc = t[t["checkpoint"] == target].sort_values("psi")
    if len(trunc) >= 2 and trunc["psi"].iloc[0] < 1.0 and (trunc["psi"] == 1.0).any():
        lo, one = trunc.iloc[0], trunc[trunc["psi"] == 1.0].iloc[0]
        for col, want in (("recall", "<"), ("precision", ">")):
            a, b = lo[col], one[col]
            held = a < b if want == "<" else a > b
            checks.append(check(f"truncation ({target}): {col} {a:.3f} at psi = {lo['psi']:g} {relation(a, b)} "
                                f"{b:.3f} at psi = 1", held))
    if not checks:
        return not_testable(finding, "the table has a single checkpoint and no psi below 1")
    return verdict_from_checks(finding, checks)
