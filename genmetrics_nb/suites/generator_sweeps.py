"""What the generator notebooks share: loading checkpoints, sweeping truncation, the sweep result.

The ppl, linear_separability and stylegan2_metrics notebooks sweep the
shipped StyleGAN snapshots (and truncation psi); this module loads them and
holds the result type their sweeps return. It serves several stories, so it
sits below ``experiments``.
"""
from __future__ import annotations

import dataclasses

from genmetrics_nb.util.results import StoryResult

__all__ = ["DISTANCE_NETS", "SweepResult", "by_key", "final_name", "iteration_of", "load_generators", "psi_runs"]


@dataclasses.dataclass(frozen=True)
class SweepResult(StoryResult):
    """A sweep's table, some samples, and its settings.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per measurement.
    samples : dict
        Label -> uint8 ``N x C x H x W`` sample images (for grids).
    settings : dict
        The arguments that produced the table.
    summary : dict
        The numbers a report records (``gm.record("...", result.summary)``).
        Sweeps call them a summary; ``value`` and ``bootstrap_fields`` belong
        to metric results (:mod:`genmetrics_nb.metrics.result`).
    details : dict
        Extra per-run objects (e.g. :class:`~genmetrics_nb.metrics.generator.ppl.PPLResult`).
    """

    table: object
    samples: dict = dataclasses.field(repr=False)
    settings: dict
    summary: dict
    details: dict = dataclasses.field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """The summary, and the settings that produced it."""
        return {**self.summary, "settings": self.settings}

    def __repr__(self) -> str:
        return f"SweepResult({len(self.table)} rows: {', '.join(map(str, self.table.columns))})"


def by_key(sub, key, col):
    """{key value: col value} of a table slice, keys as str for JSON."""
    return {(f"{k:g}" if isinstance(k, float) else str(k)): float(v) for k, v in zip(sub[key], sub[col])}


def final_name(runs):
    return [n for n, p in runs if p == 1.0][-1]


def load_generators(checkpoints=None, *, device="auto") -> dict:
    """Name -> Generator for shipped checkpoint names, ``.pkl`` paths, or Generator objects.

    ``None`` loads every shipped Fashion-MNIST snapshot, in training order.
    """
    from genmetrics_nb.generators.adapters import check_generator, load_stylegan_pickle
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


def iteration_of(gen) -> int | None:
    from genmetrics_nb.weights.shipped import read_manifest

    entry = read_manifest().get(gen.name, {})
    return entry.get("iteration")


def psi_runs(gens, psis, psi_checkpoint):
    """(name, psi) pairs: every checkpoint at psi = 1, and one checkpoint at every psi."""
    names = list(gens)
    target = names[-1] if psi_checkpoint is None else psi_checkpoint
    if target not in gens:
        raise ValueError(f"psi_checkpoint={psi_checkpoint!r} is not among the checkpoints {names}")
    runs = [(n, 1.0) for n in names]
    runs += [(target, float(p)) for p in psis if float(p) != 1.0]
    return runs


DISTANCE_NETS = {"lpips-vgg": "vgg", "lpips-alex": "alex", "lpips-squeeze": "squeeze"}
