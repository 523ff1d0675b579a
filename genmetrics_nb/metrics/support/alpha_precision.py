"""alpha-precision, beta-recall and authenticity (Alaa et al. 2022).

Alaa et al. embed the real data with a one-class network (a hypersphere of
centre ``c``), then

- **alpha-precision curve**: for each ``alpha`` of a grid, the share of
  generated samples inside the ball around ``c`` holding the alpha-quantile
  of the real samples' distances to ``c``;
- **beta-recall curve**: for each ``beta``, the share of real samples whose
  nearest generated sample is closer than their nearest other real sample
  *and* lies inside the ball around the generated samples' mean holding the
  beta-quantile of those nearest generated samples' distances to it;
- the summaries ``Delta P_alpha = 1 - 2 sum |alpha - P(alpha)| dalpha`` and
  ``Delta R_beta`` likewise (1 for a perfect curve);
- **authenticity**: the share of samples judged not copied, by comparing a
  nearest-neighbour distance across the sets with a real sample's own
  nearest-real-neighbour distance.

This module computes ``compute_alpha_precision`` of the authors' code
(ahmedmalaa/evaluating-generative-models, ``metrics/evaluation.py``) on
extractor features, the variant their ``metrics/combined.py`` runs when no
one-class embedding is used: the centre is the mean of the real features.
No one-class network is trained by default; pass ``embedding=`` (any
callable on an ``N x D`` tensor, e.g. a trained one-class net) and
``center=`` to use one. Nearest neighbours come from blocked tiles (no
``N x N`` matrix) and distances are float64 throughout (the reference
computes the distances to the centres in float32).
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import check_choice, check_int

__all__ = ["AlphaPrecisionResult", "alpha_precision", "alpha_precision_from_features", "AUTHENTICITY"]

#: Authenticity estimators (see :func:`alpha_precision`).
AUTHENTICITY = ("reference", "per-sample")


@dataclasses.dataclass(frozen=True)
class AlphaPrecisionResult(Result):
    """alpha-precision, beta-recall and authenticity (Alaa et al. 2022).

    ``value`` is ``alpha_precision`` (``Delta P_alpha``; ``float(result)`` too).

    Attributes
    ----------
    alpha_precision : float
        ``Delta P_alpha = 1 - 2 sum_a |a - P(a)| da``.
    beta_recall : float
        ``Delta R_beta``, the same summary of the beta-recall curve (the
        reference's ``Delta_coverage_beta``).
    authenticity : float
        Share in [0, 1] judged authentic (``authenticity_estimator`` says how).
    alphas : tuple of float
        The grid (``np.linspace(0, 1, n_steps)``).
    alpha_precision_curve, beta_recall_curve : tuple of float
    n_steps : int
    center : str
        ``"real-mean"`` (the default variant) or ``"given"``.
    embedding : str
        ``"identity"`` (extractor features) or the embedding's name.
    authenticity_estimator : str
    n_real, n_fake : int
    """

    alpha_precision: float
    beta_recall: float
    authenticity: float
    alphas: tuple
    alpha_precision_curve: tuple
    beta_recall_curve: tuple
    n_steps: int
    center: str
    embedding: str
    authenticity_estimator: str
    n_real: int
    n_fake: int

    metric_name: ClassVar[str] = "alpha-precision / beta-recall"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("alpha_precision", "beta_recall", "authenticity")
    value_field: ClassVar[str] = "alpha_precision"
    display_fields: ClassVar[tuple[str, ...]] = ("beta_recall", "authenticity")

    @property
    def value(self) -> float:
        """The headline number: ``alpha_precision`` (Delta P_alpha)."""
        return self.alpha_precision

    def __str__(self) -> str:
        return (f"alpha-precision = {self.alpha_precision:.4f}, beta-recall = {self.beta_recall:.4f}, "
                f"authenticity = {self.authenticity:.4f} (centre {self.center}, {self.embedding} embedding; "
                f"n = {self.n_real} real / {self.n_fake} fake)")


def alpha_precision_from_features(x, y, *, center=None, n_steps: int = 30, authenticity: str = "reference",
                                  block_size: int = 2048, device="cpu") -> dict:
    """The maths of :func:`alpha_precision` on (embedded) feature tensors ``x`` (real), ``y`` (fake).

    ``center`` is a length-D array (default: the mean of ``x``).

    Returns
    -------
    dict
        ``alpha_precision``, ``beta_recall``, ``authenticity``, ``alphas``,
        ``alpha_precision_curve``, ``beta_recall_curve``.
    """
    import torch

    from genmetrics_nb.device import resolve
    from genmetrics_nb.metrics.distribution.knn import knn_radii
    from genmetrics_nb.metrics.support.tiles import mean64, nearest, norms_to

    dev = resolve(device)
    c = mean64(x, dev, block_size) if center is None else torch.as_tensor(
        np.asarray(center, dtype=np.float64), device=dev)
    alphas = np.linspace(0, 1, n_steps)
    real_to_center = norms_to(x, c, dev, block_size).cpu().numpy()
    synth_to_center = norms_to(y, c, dev, block_size).cpu().numpy()
    radii = np.quantile(real_to_center, alphas)
    synth_center = mean64(y, dev, block_size)
    real_to_real = knn_radii(x, k=1, block_size=block_size, device=dev)  # nearest other real
    d_rs, i_rs = nearest(x, y, k=1, block_size=block_size, device=dev)
    real_to_synth = d_rs[:, 0].cpu().numpy()
    args = i_rs[:, 0]
    closest_d = norms_to(y[args.to(y.device)], synth_center, dev, block_size).cpu().numpy()
    closest_radii = np.quantile(closest_d, alphas)
    near = real_to_synth <= real_to_real
    p_curve = np.array([np.mean(synth_to_center <= r) for r in radii])
    b_curve = np.array([np.mean(near & (closest_d <= r)) for r in closest_radii])
    step = alphas[1] - alphas[0]
    d_p = 1 - 2 * np.sum(np.abs(alphas - p_curve)) * step
    d_b = 1 - 2 * np.sum(np.abs(alphas - b_curve)) * step
    if authenticity == "reference":
        a = args.cpu().numpy()
        if a.max() >= len(real_to_real):
            raise ValueError(
                "authenticity='reference' indexes the real samples' nearest-neighbour distances by "
                f"generated-sample indices (as the authors' code does), which needs at most {len(real_to_real)} "
                "generated samples here; pass authenticity='per-sample' or fewer generated samples"
            )
        auth = float(np.mean(real_to_real[a] < real_to_synth))
    else:
        d_sr, i_sr = nearest(y, x, k=1, block_size=block_size, device=dev)
        auth = float(np.mean(real_to_real[i_sr[:, 0].cpu().numpy()] < d_sr[:, 0].cpu().numpy()))
    return {
        "alpha_precision": float(d_p), "beta_recall": float(d_b), "authenticity": auth,
        "alphas": tuple(float(a) for a in alphas),
        "alpha_precision_curve": tuple(float(v) for v in p_curve),
        "beta_recall_curve": tuple(float(v) for v in b_curve),
    }


def alpha_precision(
    real,
    fake,
    *,
    n_steps: int = 30,
    center=None,
    embedding=None,
    authenticity: str = "reference",
    block_size: int = 2048,
    device="auto",
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    value_range=None,
    cache=False,
    progress: bool = True,
) -> AlphaPrecisionResult:
    """alpha-precision, beta-recall and authenticity of generated samples (Alaa et al. 2022).

    Parameters
    ----------
    real : source
        The **real** set: images run through ``extractor``, or ``N x D`` features.
    fake : source
        The **generated** set, the same way.
    n_steps : int
        Points of the alpha (and beta) grid ``np.linspace(0, 1, n_steps)``
        (30 in the reference).
    center : array_like, optional
        Centre of the real hypersphere in the embedding; default: the mean
        of the (embedded) real features, as the reference's ``combined.py``
        does without a one-class embedding.
    embedding : callable, optional
        Maps an ``N x D`` float64 tensor to the embedding (e.g. a trained
        one-class network); default: the features themselves.
    authenticity : {"reference", "per-sample"}
        ``"reference"``: the authors' expression
        ``mean(real_to_real[real_to_synth_args] < real_to_synth)``, taken
        over real samples, which indexes the real samples' nearest-real
        distances by *generated* indices. ``"per-sample"``: the paper's
        definition, per generated sample: its nearest real sample's own
        nearest-real distance is smaller than the distance between them
        (dgm-eval's AuthPct / 100).
    block_size : int
    device : str or torch.device
    extractor, output, batch_size, value_range, cache
        How image sources become features (as :func:`genmetrics_nb.precision_recall`).
    progress : bool

    Returns
    -------
    AlphaPrecisionResult

    Notes
    -----
    With the defaults this equals ``compute_alpha_precision(real, fake,
    np.mean(real, axis=0))`` of ahmedmalaa/evaluating-generative-models
    (``metrics/evaluation.py``) to float noise (the reference's float32
    distances to the centres aside); ``tests/metrics/support/test_alpha_precision.py``
    checks it against a literal transcription. The paper trains a one-class
    (Deep SVDD) embedding first; this function does not (see ``embedding``).
    The paper's toy experiments: 64-d N(0, I) against N(mu, I), mu in
    [-1, 1], 10,000 samples, an outlier at (1, ..., 1); figures only.

    References
    ----------
    .. [1] A. M. Alaa, B. van Breugel, E. Saveliev and M. van der Schaar,
       "How Faithful is your Synthetic Data? Sample-level Metrics for
       Evaluating and Auditing Generative Models", ICML 2022
       (ahmedmalaa/evaluating-generative-models).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = alpha_precision(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 20, progress=False)
    >>> r.alpha_precision < 0.1
    True
    """
    import torch

    from genmetrics_nb.metrics.support.inputs import two_sets

    x, y, _ = two_sets(real, fake, metric="alpha-precision", extractor=extractor, output=output,
                       batch_size=batch_size, device=device, value_range=value_range, cache=cache,
                       progress=progress, min_rows=2)
    n_steps = check_int(n_steps, name="n_steps", minimum=2)
    authenticity = check_choice(authenticity, name="authenticity", choices=AUTHENTICITY)
    block_size = check_int(block_size, name="block_size", minimum=1)
    name = "identity"
    if embedding is not None:
        if not callable(embedding):
            raise TypeError(f"embedding must be a callable on an N x D tensor (or None), got {type(embedding).__name__}")
        name = getattr(embedding, "__name__", type(embedding).__name__)
        with torch.no_grad():
            x = torch.as_tensor(embedding(x.to(torch.float64)))
            y = torch.as_tensor(embedding(y.to(torch.float64)))
    if center is not None:
        c = np.asarray(center, dtype=np.float64)
        if c.shape != (x.shape[1],):
            raise ValueError(f"center must be a vector of length {x.shape[1]} (the embedding's dimension), "
                             f"got shape {c.shape}")
    out = alpha_precision_from_features(x, y, center=center, n_steps=n_steps, authenticity=authenticity,
                                        block_size=block_size, device=device)
    return AlphaPrecisionResult(n_steps=n_steps, center="real-mean" if center is None else "given",
                                embedding=name, authenticity_estimator=authenticity,
                                n_real=int(x.shape[0]), n_fake=int(y.shape[0]), **out)
