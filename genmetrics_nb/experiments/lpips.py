"""Where LPIPS and PSNR / SSIM agree, and a two-alternative forced choice where they do not.

Zhang et al. (2018) judge distances by 2AFC: given a reference and two
distorted copies, which copy is closer? Their figure 1 shows triplets where
PSNR and SSIM pick one copy and people (and LPIPS) the other.
:func:`find_disagreement` searches a photograph's blur / noise / JPEG copies
for such a triplet, so a notebook can show one on offline data;
:func:`rank_agreement` summarises a distortion sweep by rank correlations.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from genmetrics_nb.util.findings import Verdict, check, verdict_from_checks
from genmetrics_nb.util.results import StoryResult, frame

__all__ = ["TwoAFC", "find_disagreement", "rank_agreement", "lpips_verdict"]

_HIGHER_IS_CLOSER = {"psnr": True, "ssim": True}


@dataclasses.dataclass(frozen=True, eq=False)
class TwoAFC(StoryResult):
    """A reference, two distorted copies, and each metric's choice.

    Attributes
    ----------
    reference, x0, x1 : numpy.ndarray
        uint8 ``H x W x 3``.
    labels : tuple of str
        How each copy was made, e.g. ``("blur 7", "noise 20")``.
    scores : dict
        Metric -> (value for x0, value for x1).
    prefers : dict
        Metric -> 0 or 1, the copy the metric calls closer to the reference.
    distance : str
        Name of the perceptual distance (``"lpips-alex-v0.1"``, ``"baseline-efficientnet-lite0"``).
    """

    reference: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    labels: tuple
    scores: dict
    prefers: dict
    distance: str

    @property
    def table(self):
        """One row per metric: its value for each copy and the copy it calls closer."""
        return frame({"metric": m, f"copy 0 ({self.labels[0]})": v[0], f"copy 1 ({self.labels[1]})": v[1],
                      "closer": self.prefers[m]} for m, v in self.scores.items())

    @property
    def summary(self) -> dict:
        return {"labels": list(self.labels), "scores": {k: list(v) for k, v in self.scores.items()},
                "prefers": dict(self.prefers), "distance": self.distance}

    def __str__(self):
        parts = [f"{m}: {v[0]:.4g} vs {v[1]:.4g} -> copy {self.prefers[m]}" for m, v in self.scores.items()]
        return f"2AFC {self.labels[0]!r} vs {self.labels[1]!r}: " + "; ".join(parts)


def find_disagreement(image, *, distance, blur_kernels=(3, 5, 7, 9, 11), noise_sigmas=(5, 10, 15, 20, 30, 40),
                      jpeg_qualities=(5, 10, 20, 30), min_psnr_gap: float = 1.0, seed: int = 0) -> TwoAFC:
    """Find two distorted copies of ``image`` on which PSNR and the perceptual distance disagree.

    Every copy (blur, noise and JPEG at the given strengths) is scored
    against the original with PSNR, SSIM and ``distance``. Among pairs of
    copies of *different* kinds where PSNR prefers one copy by at least
    ``min_psnr_gap`` dB and ``distance`` prefers the other, the pair with the
    largest ratio of distances wins: a clear disagreement.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 ``H x W x 3`` photograph.
    distance : LPIPS
        A :class:`~genmetrics_nb.metrics.pixel.lpips.LPIPS` distance.
    blur_kernels, noise_sigmas, jpeg_qualities : sequences
        Candidate strengths.
    min_psnr_gap : float
        Smallest PSNR difference (dB) for PSNR to count as preferring a copy.
    seed : int
        Seed of the noise.

    Returns
    -------
    TwoAFC

    Raises
    ------
    ValueError
        If no candidate pair disagrees (try more strengths).
    """
    from genmetrics_nb.distortions import apply_distortion
    from genmetrics_nb.metrics.pixel.psnr import psnr
    from genmetrics_nb.metrics.pixel.ssim import ssim

    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise TypeError(f"image must be uint8 H x W x 3, got {img.dtype} {img.shape}")
    copies = [("blur", k) for k in blur_kernels] + [("noise", s) for s in noise_sigmas] + \
             [("jpeg", q) for q in jpeg_qualities]
    if len(copies) < 2:
        raise ValueError("give at least two candidate distortions")
    ref = np.ascontiguousarray(img.transpose(2, 0, 1)[None])
    dist = np.concatenate([apply_distortion(ref, kind, s, seed=seed) for kind, s in copies])
    p = psnr(np.repeat(ref, len(copies), 0), dist, data_range=255).values
    q = ssim(np.repeat(ref, len(copies), 0), dist, data_range=255).values
    d = distance(ref, dist).values
    best, key = None, None
    for i in range(len(copies)):
        for j in range(len(copies)):
            if copies[i][0] == copies[j][0] or not (p[i] >= p[j] + min_psnr_gap and d[i] > d[j]):
                continue  # want: PSNR prefers i, the perceptual distance prefers j
            k = d[i] / max(d[j], 1e-12)
            if key is None or k > key:
                best, key = (i, j), k
    if best is None:
        raise ValueError("PSNR and the distance agree on every candidate pair; pass more strengths")
    i, j = best
    scores = {"psnr": (float(p[i]), float(p[j])), "ssim": (float(q[i]), float(q[j])),
              distance.name: (float(d[i]), float(d[j]))}
    prefers = {m: (0 if (v[0] > v[1]) == _HIGHER_IS_CLOSER.get(m, False) else 1) for m, v in scores.items()}
    labels = tuple(f"{copies[k][0]} {copies[k][1]}" for k in (i, j))
    return TwoAFC(img, dist[i].transpose(1, 2, 0), dist[j].transpose(1, 2, 0), labels, scores, prefers, distance.name)


def rank_agreement(sweep, *, metric: str = "lpips", against=("psnr", "ssim")) -> dict:
    """Spearman rank correlation between ``metric`` and each of ``against``, per distortion.

    Computed on every (image, strength) row of a
    :class:`~genmetrics_nb.experiments.psnr_ssim.DistortionSweep` with
    :func:`scipy.stats.spearmanr`; rows where either value is infinite
    (identical images) are left out. PSNR and SSIM grow with similarity and
    a distance shrinks, so full agreement is a correlation of -1.

    Returns
    -------
    dict
        ``{"<distortion>": {"<other>": rho}}`` plus ``"all"`` over every row.
    """
    from scipy.stats import spearmanr

    t = sweep.table
    if metric not in t.columns:
        raise ValueError(f"metric {metric!r} is not a column of the sweep; choose from {list(t.columns)}")
    groups = [(k, g) for k, g in t.groupby("distortion", sort=False)] + [("all", t)]
    out = {}
    for kind, g in groups:
        out[kind] = {}
        for other in against:
            ok = np.isfinite(g[metric].to_numpy(float)) & np.isfinite(g[other].to_numpy(float))
            rho = spearmanr(g[metric][ok], g[other][ok]).statistic if ok.sum() > 2 else float("nan")
            out[kind][other] = float(rho)
    return out


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
def lpips_verdict(agreement: dict, afc: TwoAFC) -> Verdict:
    """The lpips notebook's finding: PSNR/SSIM and a deep distance agree within a distortion, not across.

    Checks:

    - within each distortion, the deep distance ranks the copies as PSNR and
      SSIM do: every rank correlation of :func:`rank_agreement` (per
      distortion) is negative (a distance falls as PSNR and SSIM rise); a
      correlation that could not be computed (fewer than three finite
      values, e.g. one JPEG quality) is left out and said so;
    - across distortions they can disagree: the 2AFC triplet of
      :func:`find_disagreement` has PSNR and the distance choosing
      different copies (Zhang et al. 2018, figure 1).

    Whether people side with the deep distance, the paper's main claim,
    needs its human 2AFC judgements (BAPPS), which no notebook has; the
    statement says so.
    """
    checks, skipped = [], []
    for kind, rhos in agreement.items():
        known = {other: rho for other, rho in rhos.items() if not math.isnan(rho)}
        if kind == "all" or not known:
            skipped += [] if kind == "all" else [kind]
            continue
        parts = ", ".join(f"{other} {rho:.2f}" for other, rho in known.items())
        checks.append(check(f"{kind}: rank correlation of {afc.distance} with {parts}",
                            all(rho < 0 for rho in known.values())))
    d = afc.distance
    checks.append(check(
        f"2AFC {afc.labels[0]} vs {afc.labels[1]}: PSNR prefers copy {afc.prefers['psnr']} "
        f"({afc.scores['psnr'][0]:.1f} vs {afc.scores['psnr'][1]:.1f} dB), {d} copy {afc.prefers[d]} "
        f"({afc.scores[d][0]:.3g} vs {afc.scores[d][1]:.3g})", afc.prefers["psnr"] != afc.prefers[d]))
    note = ("Which of the two copies people find closer, the paper's main claim, needs its human 2AFC "
            "judgements (BAPPS), which this notebook does not have.")
    if skipped:
        note = f"No rank correlation for {', '.join(skipped)} (fewer than three finite values). " + note
    return verdict_from_checks("A deep-feature distance ranks each distortion's strengths as PSNR and SSIM do, "
                               "yet disagrees with PSNR across distortions", checks, note=note)
