"""The linear_separability notebook: per-attribute conditional entropies in z and w."""
from __future__ import annotations

from genmetrics_nb.suites.generator_sweeps import SweepResult, by_key, iteration_of, load_generators
from genmetrics_nb.util.findings import Verdict, check, not_testable, relation, verdict_from_checks

__all__ = ["separability_sweep", "linear_separability_verdict"]


def separability_sweep(checkpoints=None, *, spaces=("z", "w"), classifier="shipped", num_samples: int = 4000,
                       keep: str = "per-label", psi: float = 1.0, seed: int = 0, device="auto",
                       progress: bool = True) -> SweepResult:
    """Linear separability per checkpoint and space, with per-attribute entropies.

    ``keep="per-label"`` by default because the offline attributes are
    one-vs-rest classes (10 % positives), for which the reference's global
    confidence ranking keeps negatives only; see
    :func:`~genmetrics_nb.metrics.generator.separability.separability_from_latents`.

    Returns
    -------
    SweepResult
        ``table`` columns: ``checkpoint``, ``iteration``, ``space``,
        ``attribute``, ``entropy_bits``, ``score`` (the checkpoint/space total,
        repeated on its attribute rows).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from genmetrics_nb.metrics.generator.separability import linear_separability
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
            rows.append({"checkpoint": name, "iteration": iteration_of(gen), "space": space, "attribute": attr,
                         "entropy_bits": h, "score": r.value})
    samples = {name: g.generate(16, seed=seed, psi=psi, progress=False) for name, g in gens.items()}
    settings = dict(spaces=list(spaces), num_samples=num_samples, keep=keep, psi=psi, seed=seed, classifier=clf.name)
    table = pd.DataFrame(rows)
    final = list(gens)[-1]
    summary = {"final_checkpoint": final}
    for space, g in table.groupby("space", sort=False):
        fin = g[g["checkpoint"] == final]
        summary[f"score_{space}"] = float(fin["score"].iloc[0])
        summary[f"entropies_{space}"] = by_key(fin, "attribute", "entropy_bits")
        tot = g.drop_duplicates("checkpoint")
        key = "iteration" if tot["iteration"].notna().all() else "checkpoint"
        summary[f"score_{space}_by_iteration"] = by_key(tot, key, "score")
    return SweepResult(table, samples, settings, summary, details)


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
def linear_separability_verdict(sweep: SweepResult) -> Verdict:
    """The linear_separability notebook's finding: w is more linearly separable than z (StyleGAN, sec. 4.2).

    For the final checkpoint, the separability score (2 to the summed
    conditional entropies; lower is more separable) in w must be below the
    one in z. Without both spaces, or when both scores are 1 (the SVMs
    separate every attribute in both spaces, as they separate any labelling
    of too few samples), the finding is not testable.
    """
    finding = "Attributes are more linearly separable in w than in z"
    s = sweep.summary
    final = s["final_checkpoint"]
    if "score_w" not in s or "score_z" not in s:
        ran = [k.removeprefix("score_") for k in ("score_z", "score_w") if k in s]
        return not_testable(finding, f"the sweep scored only {', '.join(ran) or 'no space'}; it needs both z and "
                                     "w (spaces=['z', 'w'] and a generator with a mapping network)")
    w, z = s["score_w"], s["score_z"]
    n = sweep.settings.get("num_samples")
    measured = check(f"{final}, {n} samples: separability score in w {w:.2f} {relation(w, z)} in z {z:.2f}", w < z)
    if w == z == 1.0:
        return not_testable(finding, f"with {n} samples a hyperplane separates every attribute in both spaces (all "
                                     "entropies 0), as it does any labelling of few samples; use more samples",
                            [measured])
    return verdict_from_checks(finding, [measured])
