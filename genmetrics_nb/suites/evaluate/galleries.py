"""The evaluate suite's realism galleries: the realism score of every generated sample, copies shown as such.

The realism score (Kynkaanniemi et al. 2019) divides a real sample's
k-NN radius by the squared distance to it plus ``eps`` (1e-5); a generated
image that copies a real one sits at distance 0, so its score is a radius
divided by 1e-5 (values like 1958051.71), which says "copy", not "very
realistic". Samples whose nearest real neighbour (precision/recall features,
whole reference) is within ``sqrt(eps)`` are reported as copies and left
out of the score ranges and medians.

References
----------
.. [1] T. Kynkaanniemi et al., "Improved Precision and Recall Metric for
   Assessing Generative Models", NeurIPS 2019 (realism score).
"""
from __future__ import annotations

import dataclasses
import html

import numpy as np

from genmetrics_nb.suites.evaluate.display import fmt
from genmetrics_nb.suites.evaluate.sets import Evaluation
from genmetrics_nb.util.checks import check_int

__all__ = ["RealismGalleries", "realism", "COPY_EPS"]

#: The realism score's ``eps`` (the authors' code): squared distances below it count as copies.
COPY_EPS = 1e-5


@dataclasses.dataclass(frozen=True)
class RealismGalleries:
    """The realism score of every generated sample against the whole reference, and each set's extremes.

    Attributes
    ----------
    scores : dict
        Set name -> per-sample realism scores (feature order), as computed.
    copies : dict
        Set name -> boolean mask of copies: samples within ``sqrt(eps)`` of a
        real image, whose score only measures ``1 / eps``.
    most, least : dict
        Set name -> indices of the ``n_show`` most / least realistic samples
        (copies first among the most realistic: they are shown as "copy").
    n_show : int
    k : int
    n_reference : int
    """

    scores: dict
    copies: dict
    most: dict
    least: dict
    n_show: int
    k: int
    n_reference: int = 0

    def label(self, name: str, index) -> list[str]:
        """Each sample's score as text: ``"copy"`` for copies, else the score."""
        return ["copy" if self.copies[name][i] else f"{self.scores[name][i]:.2f}" for i in np.atleast_1d(index)]

    def range_text(self, name: str, index) -> str:
        """``"realism score 0.85 to 3.2, 2 copies"`` for the samples at ``index``."""
        index = np.atleast_1d(index)
        cp = self.copies[name][index]
        s = self.scores[name][index][~cp]
        text = f"realism score {s.min():.2f} to {s.max():.2f}" if len(s) else "realism score -"
        return text + (f", {int(cp.sum())} {'copy' if cp.sum() == 1 else 'copies'}" if cp.any() else "")

    def _stats(self, name):
        v, cp = self.scores[name], self.copies[name]
        rest = v[~cp]
        return (float(np.median(rest)) if len(rest) else float("nan"),
                float(np.mean(rest > 1)) if len(rest) else float("nan"), int(cp.sum()), len(v))

    def to_dict(self) -> dict:
        out = {"k": self.k, "n_reference": self.n_reference, "copy_rule": f"squared distance < {COPY_EPS:g}",
               "median": {}, "share_above_1": {}, "copies": {}}
        for n in self.scores:
            med, share, cp, _ = self._stats(n)
            out["median"][n], out["share_above_1"][n], out["copies"][n] = med, share, cp
        return out

    def __str__(self) -> str:
        return "; ".join(f"{n}: median realism score {fmt(self._stats(n)[0])}, {self._stats(n)[2]} copies"
                         for n in self.scores)

    def _repr_html_(self) -> str:
        rows = ""
        for n in self.scores:
            med, share, cp, total = self._stats(n)
            rows += (f"<tr><td>{html.escape(n)}</td><td>{total}</td><td>{fmt(med)}</td><td>{share:.0%}</td>"
                     f"<td>{cp}</td></tr>")
        return (f"<table><tr><th>set</th><th>n</th><th>median realism score</th><th>share inside the real "
                f"manifold (score &gt; 1)</th><th>copies</th></tr>{rows}</table>"
                f"<p><small>Against the whole reference (n = {self.n_reference}), k = {self.k}. Copies: within "
                f"a squared feature distance of {COPY_EPS:g} (the score's eps) of a real image; their score "
                f"measures 1/eps, so they are shown as \"copy\" and left out of the median and share.</small></p>")


def realism(ev: Evaluation, *, k: int = 3, n_show: int = 8, device="auto") -> RealismGalleries:
    """Realism score of every generated sample (Kynkaanniemi et al. 2019) against the whole reference."""
    from genmetrics_nb.metrics.distribution.realism import nearest_neighbours, realism_score

    n_show = check_int(n_show, name="n_show", minimum=1)
    scores, copies, most, least = {}, {}, {}, {}
    for g in ev.generated:
        v = realism_score(ev.real.pr, g.pr, k=k, eps=COPY_EPS, device=device, progress=False).values
        d = nearest_neighbours(g.pr, ev.real.pr, device=device, progress=False).distance
        cp = d * d < COPY_EPS
        order = np.lexsort((-v, ~cp))  # copies first, then by score, highest first
        scores[g.name], copies[g.name] = v, cp
        most[g.name] = order[:n_show]
        least[g.name] = order[::-1][:n_show]
    return RealismGalleries(scores, copies, most, least, n_show, k, ev.real.n)
