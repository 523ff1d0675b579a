"""Sweeps of generator metrics over checkpoints and truncation, for the notebooks.

Each function runs one experiment of the generator notebooks and returns a
result holding a tidy ``pandas.DataFrame`` (one row per measurement), so
that a notebook is one call per step and plots read the table.

- :func:`metric_table`: the StyleGAN2 metric table (IS, FID, precision /
  recall, PPL, linear separability) per checkpoint and per psi.
- :func:`ppl_sweep`: PPL in z and w, full and end, per checkpoint and psi.
- :func:`separability_sweep`: per-attribute conditional entropies in z and w.
"""
from __future__ import annotations

import dataclasses
import time

__all__ = [
    "SweepResult",
    "load_generators",
    "metric_table",
    "ppl_sweep",
    "separability_sweep",
]


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """A sweep's table, some samples, and its settings.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per measurement.
    samples : dict
        Label -> uint8 ``N x C x H x W`` sample images (for grids).
    settings : dict
        The arguments that produced the table.
    headline : dict
        The numbers a report records (``gm.record("...", result.headline)``).
    details : dict
        Extra per-run objects (e.g. :class:`~genmetrics_nb.metrics.ppl.PPLResult`).
    """

    table: object
    samples: dict
    settings: dict
    headline: dict
    details: dict = dataclasses.field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        return {"table": self.table.to_dict(orient="records"), "settings": self.settings,
                "headline": self.headline}


def _by(sub, key, col):
    """{key value: col value} of a table slice, keys as str for JSON."""
    return {(f"{k:g}" if isinstance(k, float) else str(k)): float(v) for k, v in zip(sub[key], sub[col])}


def _final_name(runs):
    return [n for n, p in runs if p == 1.0][-1]


def load_generators(checkpoints=None, *, device="auto") -> dict:
    """Name -> Generator for shipped checkpoint names, ``.pkl`` paths, or Generator objects.

    ``None`` loads every shipped Fashion-MNIST snapshot, in training order.
    """
    from genmetrics_nb.generators.adapters import load_stylegan_pickle
    from genmetrics_nb.generators.protocol import check_generator
    from genmetrics_nb.zoo.checkpoints import list_checkpoints, load_generator

    if checkpoints is None:
        checkpoints = [e["name"] for e in list_checkpoints("generator")]
        if not checkpoints:
            raise FileNotFoundError("no shipped generator checkpoints; run 'genmetrics-nb train-generator'")
    if isinstance(checkpoints, (str, bytes)) or not hasattr(checkpoints, "__iter__"):
        checkpoints = [checkpoints]
    out = {}
    for c in checkpoints:
        if isinstance(c, str) and c.endswith(".pkl"):
            g = load_stylegan_pickle(c, device=device)
        elif isinstance(c, str):
            g = load_generator(c, device=device)
        else:
            g = check_generator(c)
        out[g.name] = g
    return out


def _iteration(gen) -> int | None:
    from genmetrics_nb.zoo.checkpoints import read_manifest

    entry = read_manifest().get(gen.name, {})
    return entry.get("iteration")


def _runs(gens, psis, psi_checkpoint):
    """(name, psi) pairs: every checkpoint at psi = 1, and one checkpoint at every psi."""
    names = list(gens)
    target = names[-1] if psi_checkpoint is None else psi_checkpoint
    if target not in gens:
        raise ValueError(f"psi_checkpoint={psi_checkpoint!r} is not among the checkpoints {names}")
    runs = [(n, 1.0) for n in names]
    runs += [(target, float(p)) for p in psis if float(p) != 1.0]
    return runs


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

    import genmetrics_nb as gm
    from genmetrics_nb.metrics import _sources
    from genmetrics_nb.metrics.ppl import ppl as ppl_fn
    from genmetrics_nb.metrics.separability import linear_separability
    from genmetrics_nb.zoo.checkpoints import classifier_logits, load_classifier

    if is_source not in ("classifier", "extractor"):
        raise ValueError(f"is_source must be 'classifier' or 'extractor', got {is_source!r}")
    if isinstance(num_images, bool) or not isinstance(num_images, int) or num_images < k + 2:
        raise ValueError(f"num_images must be an int > k + 1 = {k + 1}, got {num_images!r}")
    gens = load_generators(checkpoints, device=device)
    runs = _runs(gens, psis, psi_checkpoint)
    clf = load_classifier(device=device) if isinstance(classifier, str) and classifier == "shipped" else classifier
    if clf is None and is_source == "classifier":
        raise ValueError("is_source='classifier' needs a classifier; pass classifier='shipped' or is_source='extractor'")
    ppl_dist = None
    if ppl_samples:  # one distance object for every run, so its network loads once
        from genmetrics_nb.metrics.ppl import resolve_distance

        if isinstance(ppl_distance, str):
            from genmetrics_nb.metrics.lpips import LPIPS

            ppl_dist = LPIPS(_DIST_NAMES.get(ppl_distance, ppl_distance), resize=ppl_resize, device=device)
        else:
            if ppl_resize is not None:
                raise ValueError("ppl_resize applies to a distance given by name; pass ppl_resize=None with an LPIPS object")
            resolve_distance(ppl_distance)  # validates
            ppl_dist = ppl_distance
    real_images = _sources.load_dataset_images(real) if _sources.is_dataset_spec(real) else gm.load_images(real)
    real_images = real_images[:num_images]
    fx = dict(cache=False, device=device, progress=False)
    real_feats = gm.extract_features(real_images, extractor, **fx)
    real_pr = gm.extract_features(real_images, pr_extractor, **fx) if pr_extractor else real_feats
    pr_out = _sources.default_output(pr_extractor or extractor, real_pr.keys())
    rows, samples, details = [], {}, {}
    for name, psi in tqdm(runs, disable=not progress, desc="metric table", unit="run"):
        gen = gens[name]
        t0 = time.perf_counter()
        images = gen.generate(num_images, seed=seed, psi=psi, progress=False)
        samples[f"{name} psi={psi:g}"] = images[:32]
        feats = gm.extract_features(images, extractor, **fx)
        fid = gm.fid(real_feats, feats)
        pr_feats = gm.extract_features(images, pr_extractor, **fx) if pr_extractor else feats
        pr = gm.precision_recall(real_pr[pr_out], pr_feats[pr_out], k=k, device=device, progress=False)
        logits = classifier_logits(images, clf, device=device) if is_source == "classifier" else feats["logits"]
        isc = gm.inception_score(logits, splits=is_splits)
        row = {"checkpoint": name, "iteration": _iteration(gen), "psi": psi, "is": isc.mean, "is_std": isc.std,
               "fid": fid.value, "precision": pr.precision, "recall": pr.recall}
        if ppl_samples:
            p = ppl_fn(gen, space="w" if gen.has_mapping else "z", sampling="end", num_samples=ppl_samples,
                       distance=ppl_dist, crop=ppl_crop, psi=psi, seed=seed, device=device, progress=False)
            row["ppl"] = p.ppl
            details[f"ppl {name} psi={psi:g}"] = p
        if ls_samples and clf is not None:
            ls = linear_separability(gen, clf, num_samples=ls_samples, keep=ls_keep,
                                     space="w" if gen.has_mapping else "z", psi=psi, seed=seed, progress=False)
            row["ls"] = ls.score
            details[f"ls {name} psi={psi:g}"] = ls
        row["seconds"] = round(time.perf_counter() - t0, 2)
        rows.append(row)
    settings = dict(num_images=num_images, real=str(real) if isinstance(real, str) else "array", extractor=extractor,
                    pr_extractor=pr_extractor or extractor, k=k, is_source=is_source, is_splits=is_splits, classifier=getattr(clf, "name", None),
                    ppl_samples=ppl_samples, ppl_distance=getattr(ppl_dist, "name", str(ppl_distance)), ppl_resize=ppl_resize, ppl_crop=ppl_crop,
                    ls_samples=ls_samples, ls_keep=ls_keep, seed=seed, psis=[float(p) for p in psis])
    table = pd.DataFrame(rows)
    final = _final_name(runs)
    target = runs[-1][0]
    cols = [c for c in ("is", "fid", "precision", "recall", "ppl", "ls") if c in table.columns]
    at1 = table[table["psi"] == 1.0]
    key = "iteration" if at1["iteration"].notna().all() else "checkpoint"
    headline = {
        "final_checkpoint": final,
        "final": {c: float(table[(table["checkpoint"] == final) & (table["psi"] == 1.0)][c].iloc[0]) for c in cols},
        "by_iteration": {c: _by(at1, key, c) for c in cols},
        "by_psi": {c: _by(table[table["checkpoint"] == target].sort_values("psi"), "psi", c) for c in cols},
    }
    return SweepResult(table, samples, settings, headline, details)


def ppl_sweep(checkpoints=None, *, spaces=("z", "w"), samplings=("full", "end"), psis=(0.5, 0.7, 1.0),
              psi_checkpoint=None, num_samples: int = 500, distance="efficientnet-lite0", resize: int | None = 64,
              epsilon: float = 1e-4, crop: bool = False, seed: int = 0, device="auto",
              progress: bool = True) -> SweepResult:
    """PPL for every checkpoint x space x sampling at psi = 1, and for one checkpoint at every psi.

    Returns
    -------
    SweepResult
        ``table`` columns: ``checkpoint``, ``iteration``, ``psi``, ``space``,
        ``sampling``, ``ppl``, ``std``, ``num_kept``, ``distance``;
        ``details`` maps ``"<checkpoint> psi=.. space/sampling"`` to the
        :class:`~genmetrics_nb.metrics.ppl.PPLResult`.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from genmetrics_nb.metrics.lpips import LPIPS
    from genmetrics_nb.metrics.ppl import ppl as ppl_fn

    gens = load_generators(checkpoints, device=device)
    runs = _runs(gens, psis, psi_checkpoint)
    # One distance object for all runs, so the network loads once.
    if isinstance(distance, str):
        dist = LPIPS(_DIST_NAMES.get(distance, distance), resize=resize, device=device)
    elif resize is not None:
        raise ValueError("resize applies to a distance given by name; pass resize=None with an LPIPS object")
    else:
        dist = distance
    jobs = [(n, p, s, m) for n, p in runs for s in spaces for m in samplings]
    rows, details, samples = [], {}, {}
    for name, psi, space, sampling in tqdm(jobs, disable=not progress, desc="PPL sweep", unit="run"):
        gen = gens[name]
        if space == "w" and not gen.has_mapping:
            continue
        r = ppl_fn(gen, space=space, sampling=sampling, epsilon=epsilon, num_samples=num_samples, distance=dist,
                   crop=crop, psi=psi, seed=seed, device=device, progress=False)
        details[f"{name} psi={psi:g} {space}/{sampling}"] = r
        rows.append({"checkpoint": name, "iteration": _iteration(gen), "psi": psi, "space": space,
                     "sampling": sampling, "ppl": r.ppl, "std": r.std, "num_kept": r.num_kept, "distance": r.distance})
    for name, psi in runs:
        samples[f"{name} psi={psi:g}"] = gens[name].generate(16, seed=seed, psi=psi, progress=False)
    settings = dict(spaces=list(spaces), samplings=list(samplings), psis=[float(p) for p in psis],
                    num_samples=num_samples, distance=getattr(dist, "name", str(distance)), resize=resize,
                    epsilon=epsilon, crop=crop, seed=seed)
    table = pd.DataFrame(rows)
    final, target = _final_name(runs), runs[-1][0]
    headline = {"distance": settings["distance"], "final_checkpoint": final}
    for (space, sampling), g in table.groupby(["space", "sampling"], sort=False):
        at1 = g[g["psi"] == 1.0]
        key = "iteration" if at1["iteration"].notna().all() else "checkpoint"
        headline[f"{space}_{sampling}"] = float(at1[at1["checkpoint"] == final]["ppl"].iloc[0])
        headline[f"{space}_{sampling}_by_iteration"] = _by(at1, key, "ppl")
        headline[f"{space}_{sampling}_by_psi"] = _by(g[g["checkpoint"] == target].sort_values("psi"), "psi", "ppl")
    return SweepResult(table, samples, settings, headline, details)


_DIST_NAMES = {"lpips-vgg": "vgg", "lpips-alex": "alex", "lpips-squeeze": "squeeze"}


def separability_sweep(checkpoints=None, *, spaces=("z", "w"), classifier="shipped", num_samples: int = 4000,
                       keep: str = "per-label", psi: float = 1.0, seed: int = 0, device="auto",
                       progress: bool = True) -> SweepResult:
    """Linear separability per checkpoint and space, with per-attribute entropies.

    ``keep="per-label"`` by default because the offline attributes are
    one-vs-rest classes (10 % positives), for which the reference's global
    confidence ranking keeps negatives only; see
    :func:`~genmetrics_nb.metrics.separability.separability_from_latents`.

    Returns
    -------
    SweepResult
        ``table`` columns: ``checkpoint``, ``iteration``, ``space``,
        ``attribute``, ``entropy_bits``, ``score`` (the checkpoint/space total,
        repeated on its attribute rows).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from genmetrics_nb.metrics.separability import linear_separability
    from genmetrics_nb.zoo.checkpoints import load_classifier

    gens = load_generators(checkpoints, device=device)
    clf = load_classifier(device=device) if isinstance(classifier, str) and classifier == "shipped" else classifier
    jobs = [(n, s) for n in gens for s in spaces]
    rows, details = [], {}
    for name, space in tqdm(jobs, disable=not progress, desc="separability", unit="run"):
        gen = gens[name]
        if space == "w" and not gen.has_mapping:
            continue
        r = linear_separability(gen, clf, num_samples=num_samples, keep=keep, space=space, psi=psi, seed=seed,
                                progress=False)
        details[f"{name} {space}"] = r
        for attr, h in r.entropies.items():
            rows.append({"checkpoint": name, "iteration": _iteration(gen), "space": space, "attribute": attr,
                         "entropy_bits": h, "score": r.score})
    samples = {name: g.generate(16, seed=seed, psi=psi, progress=False) for name, g in gens.items()}
    settings = dict(spaces=list(spaces), num_samples=num_samples, keep=keep, psi=psi, seed=seed, classifier=clf.name)
    table = pd.DataFrame(rows)
    final = list(gens)[-1]
    headline = {"final_checkpoint": final}
    for space, g in table.groupby("space", sort=False):
        fin = g[g["checkpoint"] == final]
        headline[f"score_{space}"] = float(fin["score"].iloc[0])
        headline[f"entropies_{space}"] = _by(fin, "attribute", "entropy_bits")
        tot = g.drop_duplicates("checkpoint")
        key = "iteration" if tot["iteration"].notna().all() else "checkpoint"
        headline[f"score_{space}_by_iteration"] = _by(tot, key, "score")
    return SweepResult(table, samples, settings, headline, details)
