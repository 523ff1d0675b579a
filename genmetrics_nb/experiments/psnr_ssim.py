"""Full-reference metrics of photographs under a sweep of distortions.

Reproduces the PSNR/SSIM(/LPIPS) experiment of the source document: real
photographs under a box-blur kernel sweep, a Gaussian-noise sweep and a
JPEG-quality sweep, each distorted image scored against its original.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from genmetrics_nb.util.findings import Verdict, check, verdict_from_checks
from genmetrics_nb.util.format import fmt_number
from genmetrics_nb.util.results import StoryResult

__all__ = ["DistortionSweep", "distortion_sweep", "default_metrics", "psnr_ssim_verdict"]


def default_metrics(*, device="auto") -> dict:
    """PSNR, SSIM and MS-SSIM on uint8 images (data_range 255)."""
    from genmetrics_nb.metrics.pixel.psnr import psnr
    from genmetrics_nb.metrics.pixel.ssim import ms_ssim, ssim

    return {
        "psnr": lambda x, y: psnr(x, y, data_range=255, device=device),
        "ssim": lambda x, y: ssim(x, y, data_range=255, device=device),
        "ms_ssim": lambda x, y: ms_ssim(x, y, data_range=255, device=device),
    }


@dataclasses.dataclass(frozen=True)
class DistortionSweep(StoryResult):
    """The result of :func:`distortion_sweep`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (image, distortion, strength) with a column per metric.
    examples : dict
        ``(distortion, strength) -> uint8 H x W x 3`` distorted copy of the
        first image, for display.
    original : numpy.ndarray
        The first image, undistorted.
    """

    table: object
    examples: dict
    original: np.ndarray

    @property
    def metrics(self) -> list[str]:
        return [c for c in self.table.columns if c not in ("image", "distortion", "strength")]

    def mean(self):
        """Metric means over the images, per distortion and strength."""
        return self.table.groupby(["distortion", "strength"], sort=False)[self.metrics].mean().reset_index()

    def crossing(self, metric: str = "psnr", threshold: float = 30.0) -> dict:
        """Per distortion, the first strength whose mean ``metric`` is below ``threshold``."""
        m = self.mean()
        out = {}
        for kind, grp in m.groupby("distortion", sort=False):
            below = grp[grp[metric] < threshold]
            out[kind] = None if below.empty else below["strength"].iloc[0].item()
        return out

    @property
    def summary(self) -> dict:
        """Numbers for results.json: where PSNR crosses 30 dB, then means at each sweep's ends."""
        out = {f"psnr_below_30db_{kind}": (s if s is not None else "never") for kind, s in self.crossing().items()}
        m = self.mean()
        for metric in self.metrics:
            for kind, grp in m.groupby("distortion", sort=False):
                for row in (grp.iloc[0], grp.iloc[-1]):
                    out[f"{metric}_{kind}_{_fmt(row['strength'])}"] = float(row[metric])
        return out

    def statement(self) -> str:
        """What each metric responded to, in words, from the numbers."""
        lines = []
        cross = self.crossing()
        m = self.mean()
        for kind, grp in m.groupby("distortion", sort=False):
            first, last = grp.iloc[0], grp.iloc[-1]
            parts = [f"{metric} {first[metric]:.3g} -> {last[metric]:.3g}" for metric in self.metrics]
            where = (
                f"falls below 30 dB at strength {_fmt(cross[kind])}"
                if cross[kind] is not None else "stays above 30 dB"
            )  # fmt: skip
            lines.append(
                f"{kind} (strength {_fmt(first['strength'])} -> {_fmt(last['strength'])}): "
                + ", ".join(parts) + f"; mean PSNR {where}."
            )
        return "\n".join(lines)

    def display_table(self):
        """The metric means per distortion and strength (``table`` has a row per image)."""
        return self.mean()


def _fmt(v) -> str:
    """A strength as text: ``5``, ``0.5`` (keys of results.json and the statement)."""
    return fmt_number(v.item() if hasattr(v, "item") else v, 6)


def distortion_sweep(
    images: dict,
    *,
    blur_kernels=(1, 3, 5, 9, 15, 25, 49),
    noise_sigmas=(0, 5, 10, 20, 40),
    jpeg_qualities=(95, 75, 50, 25, 10),
    metrics: dict | None = None,
    max_side: int | None = None,
    seed: int = 0,
    device="auto",
    progress: bool = True,
) -> DistortionSweep:
    """Score every photograph against distorted copies of itself.

    Parameters
    ----------
    images : dict
        name -> ``uint8`` ``H x W x 3`` photograph (as
        :func:`genmetrics_nb.datasets.sample_images` returns).
    blur_kernels, noise_sigmas, jpeg_qualities : sequences
        The strengths of each sweep; an empty sequence skips that sweep.
    metrics : dict, optional
        name -> ``callable(x, y)`` on ``uint8`` ``N x C x H x W`` batches,
        returning a per-image score (anything with ``.values``, or an array).
        Defaults to PSNR, SSIM and MS-SSIM (:func:`default_metrics`).
    max_side : int, optional
        Downscale (area interpolation) so the longer side is at most this,
        before distorting; keeps the sweep fast. None keeps full size.
    seed : int
        Seed of the noise.
    device : str
    progress : bool
        Show a progress bar.

    Returns
    -------
    DistortionSweep
    """
    import cv2
    import pandas as pd
    from tqdm.auto import tqdm

    from genmetrics_nb.distortions import apply_distortion

    if not isinstance(images, dict) or not images:
        raise ValueError("images must be a non-empty dict of name -> uint8 H x W x 3 arrays")
    metrics = default_metrics(device=device) if metrics is None else metrics
    if not metrics:
        raise ValueError("metrics must name at least one metric")
    sweeps = [("blur", list(blur_kernels)), ("noise", list(noise_sigmas)), ("jpeg", list(jpeg_qualities))]
    jobs = [(k, s) for k, strengths in sweeps for s in strengths]
    if not jobs:
        raise ValueError("all three sweeps are empty; give at least one strength")
    prepared = {}
    for name, img in images.items():
        img = np.asarray(img)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise TypeError(f"images[{name!r}] must be uint8 H x W x 3, got {img.dtype} {img.shape}")
        if max_side is not None and max(img.shape[:2]) > max_side:
            scale = max_side / max(img.shape[:2])
            size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        prepared[name] = img
    rows, examples = [], {}
    first = next(iter(prepared))
    for kind, strength in tqdm(jobs, desc="distortion sweep", disable=not progress):
        for name, img in prepared.items():
            x = np.ascontiguousarray(img.transpose(2, 0, 1)[None])
            y = apply_distortion(x, kind, strength, seed=seed)
            if name == first:
                examples[(kind, strength)] = y[0].transpose(1, 2, 0)
            row = {"image": name, "distortion": kind, "strength": strength}
            for mname, fn in metrics.items():
                res = fn(x, y)
                vals = getattr(res, "values", res)
                row[mname] = float(np.asarray(vals, dtype=np.float64).reshape(-1)[0])
            rows.append(row)
    return DistortionSweep(pd.DataFrame(rows), examples, prepared[first])


# ----------------------------------------------------------------------------
# the verdict
# ----------------------------------------------------------------------------
#: How each sweep grows stronger: a larger blur kernel or noise sigma, a lower JPEG quality.
_STRONGER = {"blur": 1, "noise": 1, "jpeg": -1}


def psnr_ssim_verdict(sweep: DistortionSweep, *, metrics=("psnr", "ssim")) -> Verdict:
    """The psnr_ssim notebook's finding: PSNR and SSIM fall as each distortion grows stronger.

    For every distortion in the sweep and every metric in ``metrics``, the
    mean over the photographs must fall at every step to a stronger setting
    (a larger blur kernel or noise sigma, a lower JPEG quality).
    """
    m = sweep.mean()
    checks = []
    for kind, grp in m.groupby("distortion", sort=False):
        grp = grp.sort_values("strength", ascending=_STRONGER.get(kind, 1) > 0)
        strengths = grp["strength"].to_list()
        for metric in metrics:
            vals = grp[metric].to_numpy(float)
            rises = [(strengths[i], strengths[i + 1], vals[i], vals[i + 1]) for i in range(len(vals) - 1)
                     if not vals[i + 1] < vals[i]]
            how = ("falls at every step" if not rises else
                   "does not fall from " + ", ".join(f"{_fmt(a)} to {_fmt(b)} ({u:.3g} -> {w:.3g})"
                                                     for a, b, u, w in rises[:3]))
            checks.append(check(f"{kind} {_fmt(strengths[0])} -> {_fmt(strengths[-1])}: mean {metric.upper()} "
                                f"{vals[0]:.3g} -> {vals[-1]:.3g}, {how}", not rises))
    return verdict_from_checks("PSNR and SSIM fall as blur, noise and JPEG compression grow stronger", checks)
