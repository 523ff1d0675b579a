"""The evaluate suite's sample-size section: FD against the number of generated samples, and FD-infinity.

One call of :func:`genmetrics_nb.metrics.distribution.sample_size.sample_size_sweep`
per set (``draw_real=False``: the whole reference against n generated
samples, FD-infinity's own points), so its FD-infinity is the summary's.
"""
from __future__ import annotations

import warnings

from genmetrics_nb.metrics.distribution.sample_size import sample_size_sweep
from genmetrics_nb.suites.evaluate.sets import Evaluation
from genmetrics_nb.util.warn import reemit_once

__all__ = ["sample_size_curve"]


def sample_size_curve(ev: Evaluation, *, num_points: int = 15, seed: int = 0, device="auto") -> list:
    """FD against the number of generated samples for each set, with the FD-infinity line (Chong & Forsyth 2020).

    Returns
    -------
    list of SampleSizeSweep
        One per generated set, labelled with its name (draw with
        :func:`genmetrics_nb.plots.sample_size.fd_sample_size`).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sweeps = [sample_size_sweep(ev.real.fd, g.fd, num_points=num_points, draw_real=False, label=g.name,
                                    extractor=ev.protocol["extractor"]["name"], seed=seed, device=device,
                                    progress=False) for g in ev.generated]
    reemit_once(caught)
    return sweeps
