"""The evaluate suite's memorisation check: each generated sample's nearest image in the whole reference.

A generator that copies its training images puts samples much closer to a
real image than new real images come. Every generated sample is compared
with every reference image (exact blocked nearest-neighbour search,
:func:`genmetrics_nb.metrics.distribution.realism.nearest_neighbours`:
tiles of ``block_size x block_size`` distances, never the whole matrix);
held-out real images, compared the same way, set the threshold.

References
----------
.. [1] C. Meehan, K. Chaudhuri and S. Dasgupta, "A Non-Parametric Test to
   Detect Data-Copying in Generative Models", AISTATS 2020 (nearest
   training neighbours of generated samples against those of held-out data).
"""
from __future__ import annotations

import dataclasses
import html

import numpy as np

from genmetrics_nb.suites.evaluate.display import fmt
from genmetrics_nb.suites.evaluate.sets import Evaluation, reference_split
from genmetrics_nb.util.checks import check_int

__all__ = ["Memorisation", "memorisation"]


@dataclasses.dataclass(frozen=True)
class Memorisation:
    """Nearest reference images of generated samples, against those of held-out real images.

    Attributes
    ----------
    generated : dict
        Set name -> (nearest reference row, distance) per generated sample;
        rows index the whole reference (``ev.real``).
    heldout : numpy.ndarray
        Nearest-neighbour distances of the held-out real images to the reference.
    threshold : float
        Generated samples closer than this to a real image are flagged: half
        the held-out images' 1st-percentile distance (no new real image came
        that close); exact duplicates between the held-out images and the
        reference (distance 0) are left out of that percentile.
    flagged : dict
        Set name -> indices of flagged samples, closest first.
    closest : dict
        Set name -> indices of the ``n_show`` closest samples, closest first.
    heldout_flagged : int
        Held-out real images below the threshold (0 unless they duplicate reference images).
    n_reference : int
        Reference images every generated sample is compared with (all of them).
    note : str
        Where the held-out images come from.
    """

    generated: dict
    heldout: np.ndarray
    threshold: float
    flagged: dict
    closest: dict
    heldout_flagged: int = 0
    n_reference: int = 0
    note: str = ""

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "n_reference": self.n_reference, "n_heldout": int(len(self.heldout)),
                "heldout_median": float(np.median(self.heldout)), "heldout_flagged": self.heldout_flagged,
                "heldout_note": self.note,
                "flagged": {n: int(len(v)) for n, v in self.flagged.items()},
                "flagged_share": {n: len(v) / len(self.generated[n][1]) for n, v in self.flagged.items()},
                "median": {n: float(np.median(d)) for n, (_, d) in self.generated.items()}}

    def __str__(self) -> str:
        return "; ".join(f"{n}: {len(v)} of {len(self.generated[n][1])} flagged" for n, v in self.flagged.items())

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{len(d)}</td><td>{fmt(float(np.median(d)))}</td>"
            f"<td>{len(self.flagged[n])} ({len(self.flagged[n]) / len(d):.1%})</td></tr>"
            for n, (_, d) in self.generated.items()
        )
        return (f"<table><tr><th>set</th><th>n</th><th>median distance to nearest reference image</th>"
                f"<th>flagged as copies</th></tr>{rows}</table>"
                f"<p><small>Each generated image against every one of the {self.n_reference} reference images. "
                f"Held-out real images (n = {len(self.heldout)}): median {fmt(float(np.median(self.heldout)))}, "
                f"{self.heldout_flagged} below the threshold; flagged: closer than {fmt(self.threshold)} (half "
                f"their 1st percentile). The held-out images: {html.escape(self.note)}.</small></p>")


def memorisation(ev: Evaluation, *, n_show: int = 8, block_size: int = 4096, device="auto") -> Memorisation:
    """Each generated sample's nearest reference image, against held-out real images'.

    Parameters
    ----------
    ev : Evaluation
    n_show : int
        Closest pairs kept per set for the figure.
    block_size : int
        Tile edge of the blocked exact nearest-neighbour search.
    device : str

    Returns
    -------
    Memorisation
        Generated samples are compared with the whole reference; held-out
        real images (``heldout=``, or else a seeded part of the reference
        against the rest, :func:`~.sets.reference_split`) set the threshold.
    """
    from genmetrics_nb.metrics.distribution.realism import nearest_neighbours

    n_show = check_int(n_show, name="n_show", minimum=1)
    split = reference_split(ev)
    held = nearest_neighbours(split.heldout.fd, split.reference.fd, block_size=block_size, device=device,
                              progress=False).distance
    positive = held[held > 0]
    threshold = 0.5 * float(np.quantile(positive, 0.01)) if len(positive) else 0.0
    gen, flagged, closest = {}, {}, {}
    for g in ev.generated:
        nn = nearest_neighbours(g.fd, ev.real.fd, block_size=block_size, device=device, progress=False)
        order = np.argsort(nn.distance, kind="stable")
        gen[g.name] = (nn.index, nn.distance)
        flagged[g.name] = order[nn.distance[order] < threshold]
        closest[g.name] = order[:n_show]
    return Memorisation(gen, held, threshold, flagged, closest, int(np.sum(held < threshold)), ev.real.n,
                        split.note)
