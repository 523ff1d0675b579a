"""The ppl notebook: PPL in z and w, full and end, per checkpoint and truncation."""
from __future__ import annotations

from genmetrics_nb.suites.generator_sweeps import (
    DISTANCE_NETS,
    SweepResult,
    by_key,
    final_name,
    iteration_of,
    load_generators,
    psi_runs,
)
from genmetrics_nb.util.findings import Verdict, check, not_testable, relation, verdict_from_checks

__all__ = ["ppl_sweep", "ppl_verdict"]


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
        :class:`~genmetrics_nb.metrics.generator.ppl.PPLResult`.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from genmetrics_nb.metrics.generator.ppl import ppl as ppl_fn
    from genmetrics_nb.metrics.pixel.lpips import LPIPS

    gens = load_generators(checkpoints, device=device)
    runs = psi_runs(gens, psis, psi_checkpoint)
    # One distance object for all runs, so the network loads once.
    if isinstance(distance, str):
        dist = LPIPS(DISTANCE_NETS.get(distance, distance), resize=resize, device=device)
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
        rows.append({"checkpoint": name, "iteration": iteration_of(gen), "psi": psi, "space": space,
                     "sampling": sampling, "ppl": r.value, "std": r.std, "num_kept": r.num_kept, "distance": r.distance})
    for name, psi in runs:
        samples[f"{name} psi={psi:g}"] = gens[name].generate(16, seed=seed, psi=psi, progress=False)
    settings = dict(spaces=list(spaces), samplings=list(samplings), psis=[float(p) for p in psis],
                    num_samples=num_samples, distance=getattr(dist, "name", str(distance)), resize=resize,
                    epsilon=epsilon, crop=crop, seed=seed)
    table = pd.DataFrame(rows)
    final, target = final_name(runs), runs[-1][0]
    summary = {"distance": settings["distance"], "final_checkpoint": final}
    for (space, sampling), g in table.groupby(["space", "sampling"], sort=False):
        at1 = g[g["psi"] == 1.0]
        key = "iteration" if at1["iteration"].notna().all() else "checkpoint"
        summary[f"{space}_{sampling}"] = float(at1[at1["checkpoint"] == final]["ppl"].iloc[0])
        summary[f"{space}_{sampling}_by_iteration"] = by_key(at1, key, "ppl")
        summary[f"{space}_{sampling}_by_psi"] = by_key(g[g["checkpoint"] == target].sort_values("psi"), "psi", "ppl")
    return SweepResult(table, samples, settings, summary, details)


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
def ppl_verdict(sweep: SweepResult) -> Verdict:
    """The ppl notebook's finding: paths are shorter in w than in z (StyleGAN, Karras et al. 2019, sec. 4.1).

    For the final checkpoint at psi = 1, PPL in w must be below PPL in z for
    every sampling the sweep ran ("full" and/or "end"). Without both spaces
    (or with a generator that has no mapping network) the finding is not
    testable.
    """
    finding = "Perceptual paths are shorter in w than in z"
    t = sweep.table
    final = sweep.summary["final_checkpoint"]
    at1 = t[(t["checkpoint"] == final) & (t["psi"] == 1.0)]
    checks = []
    for sampling, g in at1.groupby("sampling", sort=False):
        by_space = dict(zip(g["space"], g["ppl"]))
        if {"z", "w"} <= set(by_space):
            w, z = by_space["w"], by_space["z"]
            checks.append(check(f"{final}, {sampling} sampling: PPL in w {w:.4g} {relation(w, z)} in z {z:.4g}",
                                w < z))
    if not checks:
        ran = sorted(set(at1["space"]))
        return not_testable(finding, f"the sweep measured PPL only in {', '.join(ran) or 'no space'} for "
                                     f"{final}; it needs both z and w (spaces=['z', 'w'] and a mapping network)")
    return verdict_from_checks(finding, checks)
