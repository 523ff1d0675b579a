"""The kid notebook: FID and KID as the sample size shrinks, and FID-infinity."""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from genmetrics_nb.experiments.common import frame, reemit_once

__all__ = ["SampleSizeSweep", "sample_size_sweep"]


# ----------------------------------------------------------------------------
# KID against FID as n shrinks
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SampleSizeSweep:
    """FID and KID of random subsets of size n, repeated, plus FID-infinity."""

    label: str
    rows: tuple
    fid_infinity: object  # FIDInfinityResult
    n_real: int
    n_fake: int

    @property
    def table(self):
        return frame(list(self.rows))

    @property
    def summary(self):
        t = self.table
        return t.groupby("n").agg(fid_mean=("fid", "mean"), fid_std=("fid", "std"),
                                  kid_mean=("kid", "mean"), kid_std=("kid", "std")).reset_index()

    def to_dict(self) -> dict:
        s = self.summary
        return {"label": self.label, "sizes": s["n"].tolist(), "fid_mean": s["fid_mean"].tolist(),
                "kid_mean": s["kid_mean"].tolist(), "kid_std": s["kid_std"].tolist(),
                "fid_infinity": self.fid_infinity.value}


def sample_size_sweep(real, fake, *, sizes, repeats: int = 3, label: str = "", seed: int = 0,
                      device="auto", progress: bool = True) -> SampleSizeSweep:
    """FID and KID between random subsets of ``n`` real and ``n`` fake samples.

    For each size and repeat, ``n`` rows are drawn without replacement from
    each side; FID is computed from them, and KID as the unbiased MMD^2 of
    that one pair of subsets (``subsets=1, subset_size=n``). FID-infinity
    is fitted on the real set against fake subsets of the same sizes.
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve
    from genmetrics_nb.metrics.distribution.fid import fid_infinity
    from genmetrics_nb.metrics.distribution.frechet import frechet_from_samples
    from genmetrics_nb.metrics.distribution.kid import mmd2_unbiased

    dev = resolve(device)
    x = torch.as_tensor(np.asarray(real), dtype=torch.float64, device=dev)
    y = torch.as_tensor(np.asarray(fake), dtype=torch.float64, device=dev)
    sizes = sorted(int(s) for s in sizes)
    if sizes[-1] > min(len(x), len(y)):
        raise ValueError(f"sizes go up to {sizes[-1]} but the sets hold {len(x)} real and {len(y)} fake samples")
    rng = np.random.default_rng(seed)
    rows = []
    with tqdm(total=len(sizes) * repeats, desc=f"sample sizes {label}".strip(), unit="fit",
              disable=not progress) as bar:
        for n in sizes:
            for r in range(repeats):
                ix = torch.as_tensor(rng.choice(len(x), n, replace=False), device=dev)
                iy = torch.as_tensor(rng.choice(len(y), n, replace=False), device=dev)
                xs, ys = x[ix], y[iy]
                rows.append({"n": n, "repeat": r, "fid": frechet_from_samples(xs, ys),
                             "kid": mmd2_unbiased(xs, ys)})
                bar.update(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inf = fid_infinity(np.asarray(real), np.asarray(fake), sizes=sizes, seed=seed, device=dev,
                           progress=False)
    reemit_once(caught)
    return SampleSizeSweep(label, tuple(rows), inf, int(len(x)), int(len(y)))
