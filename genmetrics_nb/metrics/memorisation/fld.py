"""FLD, the feature likelihood divergence (Jiralerspong et al. 2023; formerly FLS).

FLD centres one isotropic Gaussian on every generated sample (a mixture of
M Gaussians with one variance each), fits the M variances to maximise the
likelihood of the **training** set, then reads the likelihood of the
**held-out** set:

- ``nll(S)``: the mean over samples of S of ``-log p(s) / D`` under the fitted mixture;
- ``FLD = 100 * (nll(test) - baseline)``, where ``baseline`` is the same
  quantity for a mixture centred on half of the training set (at most M
  samples) fitted to the other half: what "as good as the training data"
  scores. Lower is better; memorised samples fit the training set tightly
  and generalise poorly to the held-out set, which FLD penalises;
- ``eval_set="train"`` reads the training set's likelihood instead;
  ``eval_set="gap"`` is ``100 * (nll(train) - nll(test))`` (negative and
  large in magnitude for memorisation).

The protocol is marcojira/fld's ``FLD.compute_metric`` and ``MoG``
(``fld/metrics/FLD.py``, ``fld/MoG.py``), step by step:

1. at most ``gen_size`` (10,000) generated samples, drawn without replacement;
2. all sets standardised with the held-out set's mean and (unbiased) std;
3. ``log sigma_j^2`` initialised to ``log((min_i d_ij^2 + 1e-3) / D)``
   over training samples i (the variance of the best fit to the nearest
   training sample); then Adam (lr 0.5) on minibatches of 10,000 shuffled
   training samples, at most 50 epochs, stopping when the epoch loss moved
   less than 5e-4 over the last epochs, ``log sigma^2`` clamped to [-40, 40]
   after each step. During the fit each training sample also has an
   "origin" component centred at the training mean, at 0.9 times the
   distance, with its own fitted variance (a floor on the likelihood);
4. the baseline standardises again (with the already standardised held-out
   set's statistics, as the reference does) and shuffles the training set.

Every draw comes from one ``numpy.random.RandomState(seed)`` in the order
of the reference's calls to numpy's global ``np.random.choice``, so
``np.random.seed(seed)`` before the reference gives the same draws. Squared
distances are float32 ``torch.cdist`` as in the reference. The reference
caches the whole ``training x generated`` distance matrix; here it is cached
only while it fits in ``max_cache_bytes`` and recomputed in row blocks
otherwise, and the loss and its gradient are accumulated over row blocks of
each minibatch (the same Adam steps, to float rounding), so no
``N x M`` temporary beyond the cache is held.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import check_choice, check_int

__all__ = ["FLDResult", "fld", "fld_from_features", "EVAL_SETS"]

#: What ``eval_set`` may name (the reference's ``eval_feat``).
EVAL_SETS = ("test", "train", "gap")

LR = 0.5
NUM_EPOCHS = 50
BATCH_SIZE = 10000
ORIGIN_DIST_PROP = 0.1
GEN_SIZE = 10000


@dataclasses.dataclass(frozen=True)
class FLDResult(Result):
    """FLD (Jiralerspong et al. 2023).

    Attributes
    ----------
    value : float
        FLD (lower is better), or the generalisation gap for ``eval_set="gap"``.
    eval_set : str
        ``"test"`` (FLD), ``"train"`` or ``"gap"``.
    nll : float
        Mean dimension-adjusted NLL of the evaluated set (``"gap"``: of the training set).
    baseline_nll : float or None
        The baseline (``"gap"``: the held-out set's NLL).
    baseline_given : bool
        Whether ``baseline_nll`` was passed rather than computed.
    epochs : int
        Epochs of the generated mixture's fit.
    seed, gen_size : int
    n_train, n_test, n_generated : int
        ``n_generated`` counts the samples used (at most ``gen_size``).
    """

    value: float
    eval_set: str
    nll: float
    baseline_nll: float | None
    baseline_given: bool
    epochs: int
    seed: int
    gen_size: int
    n_train: int
    n_test: int
    n_generated: int

    metric_name: ClassVar[str] = "FLD"
    display_fields: ClassVar[tuple[str, ...]] = ("eval_set", "nll", "baseline_nll")
    n_fields: ClassVar[tuple[str, ...]] = ("n_train", "n_test", "n_generated")

    def __str__(self) -> str:
        what = "FLD gap" if self.eval_set == "gap" else f"FLD ({self.eval_set} set)"
        return (f"{what} = {self.value:.4f} (nll {self.nll:.5f}; n = {self.n_train} train / {self.n_test} "
                f"held-out / {self.n_generated} generated)")


class _MoG:
    """One isotropic Gaussian per centre; variances fitted by Adam (the reference's ``MoG``)."""

    def __init__(self, mus, *, block_rows: int, max_cache_bytes: int):
        import torch

        self.mus = mus
        self.m, self.dim = mus.shape
        self.block_rows = block_rows
        self.max_cache_bytes = max_cache_bytes
        self.log_sigmas = torch.zeros(self.m, dtype=mus.dtype, device=mus.device, requires_grad=True)
        self.origin_log_sigma = torch.tensor(0.0, dtype=mus.dtype, device=mus.device, requires_grad=True)
        self.epochs = 0

    def dists(self, x):
        import torch

        return (torch.cdist(x, self.mus) ** 2).detach()

    def pairwise_lls(self, dists, log_sigmas):
        t = (-0.5 * dists) / log_sigmas.exp()
        t = t - (self.dim / 2) * log_sigmas
        return t - (self.dim / 2) * np.log(2 * np.pi)

    def fit(self, x, rs, progress: bool):
        import torch
        from tqdm.auto import tqdm

        mean_x = x.mean(dim=0).unsqueeze(0)
        optim = torch.optim.Adam([self.log_sigmas, self.origin_log_sigma], lr=LR)
        x = x[torch.as_tensor(rs.choice(len(x), len(x), replace=False), device=x.device)]
        n, br = len(x), self.block_rows
        cached = None
        if n * self.m * x.element_size() <= self.max_cache_bytes:
            cached = torch.cat([self.dists(x[s:s + br]) for s in range(0, n, br)])
            min_d = cached.min(dim=0).values
        else:
            min_d = torch.stack([self.dists(x[s:s + br]).min(dim=0).values for s in range(0, n, br)]).min(0).values
        self.log_sigmas.data = ((min_d + 1e-3) / x.shape[1]).log()
        losses = []
        log_m = np.log(self.m)
        mult = (1 - ORIGIN_DIST_PROP) ** 2
        for epoch in tqdm(range(NUM_EPOCHS), desc="FLD fit", unit="epoch", disable=not progress, leave=False):
            epoch_losses = []
            for b0 in range(0, n, BATCH_SIZE):
                b1 = min(b0 + BATCH_SIZE, n)
                optim.zero_grad()
                loss_val = 0.0
                for s in range(b0, b1, br):
                    e = min(s + br, b1)
                    d = cached[s:e] if cached is not None else self.dists(x[s:e])
                    pw = self.pairwise_lls(d, self.log_sigmas) - log_m
                    od = mult * (torch.cdist(x[s:e], mean_x) ** 2).detach()
                    ol = self.pairwise_lls(od, self.origin_log_sigma)
                    lls = torch.logsumexp(torch.cat([pw, ol], dim=1), dim=1)
                    loss = -lls.sum() / ((b1 - b0) * self.dim)
                    loss.backward()
                    loss_val += float(loss.detach())
                optim.step()
                with torch.no_grad():
                    self.log_sigmas.data = self.log_sigmas.clamp(-40, 40).data
                epoch_losses.append(loss_val)
            mean_loss = sum(epoch_losses) / len(epoch_losses)
            losses.append(mean_loss)
            self.epochs = epoch + 1
            if epoch > 5:
                if max(abs(mean_loss - losses[-j]) for j in range(1, 6)) < 5e-4:
                    break
        self.log_sigmas = self.log_sigmas.detach()
        return losses

    def nll(self, x) -> float:
        """Mean over rows of ``-log p(x) / D`` (float32 sum, as the reference's ``.mean()``)."""
        import torch

        log_m = np.log(self.m)
        out = []
        with torch.no_grad():
            for s in range(0, len(x), self.block_rows):
                pw = self.pairwise_lls(self.dists(x[s:s + self.block_rows]), self.log_sigmas) - log_m
                out.append(-torch.logsumexp(pw, dim=1) / self.dim)
        return float(torch.cat(out).mean())


def _standardise(train, test, gen):
    mean, std = test.mean(dim=0), test.std(dim=0)
    return ((train - mean) / std, (test - mean) / std, (gen - mean) / std)


def fld_from_features(train, test, generated, *, eval_set: str = "test", baseline_nll=None, seed: int = 0,
                      gen_size: int = GEN_SIZE, block_rows: int = 2048, max_cache_bytes: int = 1 << 30,
                      device="cpu", progress: bool = False) -> dict:
    """The maths of :func:`fld` on feature tensors (float32 on ``device``).

    Returns
    -------
    dict
        ``value``, ``nll``, ``baseline_nll``, ``epochs``, ``n_generated``.
    """
    import torch

    from genmetrics_nb.device import resolve

    dev = resolve(device)
    x, p, g = (t.to(device=dev, dtype=torch.float32) for t in (train, test, generated))
    rs = np.random.RandomState(seed)
    if len(g) > gen_size:
        g = g[torch.as_tensor(rs.choice(len(g), min(len(g), gen_size), replace=False), device=dev)]
    x, p, g = _standardise(x, p, g)
    mog = _MoG(g, block_rows=block_rows, max_cache_bytes=max_cache_bytes)
    mog.fit(x, rs, progress)
    if eval_set == "gap":
        train_nll, test_nll = mog.nll(x), mog.nll(p)
        value = (train_nll - test_nll) * 100
        if value < -1_000:
            warnings.warn("Very high FLD gap value: the generated data are likely memorised", stacklevel=3)
        return {"value": value, "nll": train_nll, "baseline_nll": test_nll, "epochs": mog.epochs,
                "n_generated": int(len(g))}
    nll = mog.nll(p if eval_set == "test" else x)
    epochs = mog.epochs
    del mog
    if baseline_nll is None:
        xb, pb, _ = _standardise(x, p, x[:1])
        del x, p  # keep one standardised copy of the training set at a time
        xb = xb[torch.as_tensor(rs.choice(len(xb), len(xb), replace=False), device=dev)]
        split = min(len(g), len(xb) // 2)
        base = _MoG(xb[:split], block_rows=block_rows, max_cache_bytes=max_cache_bytes)
        base.fit(xb[split:], rs, progress)
        baseline_nll = base.nll(pb)
    value = (nll - baseline_nll) * 100
    if value > 1_000:
        warnings.warn("Very high FLD value: the generated data are likely memorised", stacklevel=3)
    return {"value": value, "nll": nll, "baseline_nll": float(baseline_nll), "epochs": epochs,
            "n_generated": int(len(g))}


def fld(
    train,
    test,
    generated,
    *,
    eval_set: str = "test",
    baseline_nll: float | None = None,
    seed: int = 0,
    gen_size: int = GEN_SIZE,
    block_rows: int = 2048,
    max_cache_bytes: int = 1 << 30,
    device="auto",
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> FLDResult:
    """Feature likelihood divergence of generated samples (Jiralerspong et al. 2023).

    Parameters
    ----------
    train : source
        The generator's **training** set: images run through ``extractor``,
        or ``N x D`` features.
    test : source
        **Held-out** real samples, the same way.
    generated : source
        The **generated** set, the same way.
    eval_set : {"test", "train", "gap"}
        ``"test"``: FLD; ``"train"``: the training set's likelihood against
        the same baseline; ``"gap"``: ``100 (nll(train) - nll(test))``.
    baseline_nll : float, optional
        A fixed baseline instead of fitting one (the reference ships values
        per dataset and extractor in ``baseline_nlls.json``).
    seed : int
        Seed of the ``RandomState`` for the subsample and the shuffles.
    gen_size : int
        At most this many generated samples (10,000 in the reference).
    block_rows : int
        Rows per block of the distance and loss computations.
    max_cache_bytes : int
        Cache the ``training x generated`` squared distances when they fit
        (1 GiB by default); otherwise recompute them every epoch.
    device : str or torch.device
    extractor, output, batch_size, value_range, cache
        How image sources become features.
    progress : bool

    Returns
    -------
    FLDResult

    Notes
    -----
    Equal to ``FLD(eval_feat=...).compute_metric(train, test, gen)`` of
    marcojira/fld after ``np.random.seed(seed)``, to float32 rounding
    (``tests/metrics/memorisation/test_fld.py`` checks a literal
    transcription). The reference's example notebook, RandomGAN (uniform
    noise images) against CIFAR-10 with Inception features, reads FLD 85.85
    and FLD gap 0.11; it needs CIFAR-10 and is not run offline.

    References
    ----------
    .. [1] M. Jiralerspong, A. J. Bose, I. Gemp, C. Qin, Y. Bachrach and
       G. Gidel, "Feature Likelihood Divergence: Evaluating the
       Generalization of Generative Models Using Samples", NeurIPS 2023
       (marcojira/fld; first published as the Feature Likelihood Score, FLS).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train, test = rng.normal(size=(400, 8)), rng.normal(size=(200, 8))
    >>> good = fld(train, test, rng.normal(size=(200, 8)), progress=False)
    >>> copied = fld(train, test, train[:200], progress=False)
    >>> bool(copied.value > good.value)
    True
    """
    from genmetrics_nb.metrics.support.inputs import three_sets

    x, p, g, _ = three_sets(train, test, generated, metric="FLD", extractor=extractor, output=output,
                            batch_size=batch_size, device=device, value_range=value_range, cache=cache,
                            progress=progress, min_rows=2)
    eval_set = check_choice(eval_set, name="eval_set", choices=EVAL_SETS)
    seed = check_int(seed, name="seed", minimum=0)
    gen_size = check_int(gen_size, name="gen_size", minimum=1)
    block_rows = check_int(block_rows, name="block_rows", minimum=1)
    max_cache_bytes = check_int(max_cache_bytes, name="max_cache_bytes", minimum=0)
    if baseline_nll is not None and (isinstance(baseline_nll, bool) or not isinstance(baseline_nll, (int, float))
                                     or not math.isfinite(baseline_nll)):
        raise ValueError(f"baseline_nll must be a finite number or None, got {baseline_nll!r}")
    given = baseline_nll is not None
    out = fld_from_features(x, p, g, eval_set=eval_set, baseline_nll=baseline_nll, seed=seed, gen_size=gen_size,
                            block_rows=block_rows, max_cache_bytes=max_cache_bytes, device=device,
                            progress=progress)
    return FLDResult(value=float(out["value"]), eval_set=eval_set, nll=float(out["nll"]),
                     baseline_nll=out["baseline_nll"], baseline_given=given and eval_set != "gap",
                     epochs=int(out["epochs"]), seed=seed, gen_size=gen_size, n_train=int(x.shape[0]),
                     n_test=int(p.shape[0]), n_generated=int(out["n_generated"]))
