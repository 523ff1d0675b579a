"""FID from images, features or cached statistics, and FID-infinity."""
from __future__ import annotations

import dataclasses
import warnings
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import as_feature_tensor, check_int
from genmetrics_nb.metrics.distribution.frechet import (
    FrechetResult,
    SingularCovarianceWarning,
    _warn_singular,
    frechet_distance,
    frechet_from_samples,
)

__all__ = ["FIDResult", "FIDInfinityResult", "fd_label", "fid", "fid_infinity"]


@dataclasses.dataclass(frozen=True)
class FIDResult(Result):
    """FID with how it was computed.

    Attributes
    ----------
    value : float
        The Frechet distance between the two feature distributions.
    n_real, n_fake : int or None
        Samples behind each side's statistics (None for imported mu/sigma).
    extractor, output : str or None
        Extractor name and output used (None when only features were given).
    weights_digest : str or None
        sha256 of the extractor's weights.
    preprocessing : dict or None
        The extractor's preprocessing spec (resize, normalisation).
    frechet : FrechetResult
        Diagnostics of the matrix square root (clipped eigenvalues, ranks).
    protocol : dict or None
        The protocol both sides were computed with
        (:func:`genmetrics_nb.features.protocol.protocol_record`): extractor,
        weights sha256, output, precision, preprocessing (resize mode, input
        size, ...), package versions, which files were imported, and the
        comparison: ``"mismatch"`` (field -> ``[real, fake]``, non-empty only
        under ``allow_protocol_mismatch=True``), ``"unverified"`` (fields
        unknown or only inferred on a side, e.g. an imported pytorch-fid
        file's), ``"mismatch_allowed"``.
    """

    value: float
    n_real: int | None
    n_fake: int | None
    extractor: str | None
    output: str | None
    weights_digest: str | None
    preprocessing: dict | None
    frechet: FrechetResult
    protocol: dict | None = None

    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ("extractor",)

    @property
    def name(self) -> str:
        """``"FID"`` on the TF-FID Inception's features, ``"FD_<extractor>"`` on others (:func:`fd_label`)."""
        return fd_label(self.extractor)

    def _label(self) -> str:
        return self.name

    def to_dict(self) -> dict:
        return {"name": self.name, **super().to_dict()}

    @property
    def protocol_mismatch(self) -> dict:
        """Protocol fields that differ between the sides (allowed by ``allow_protocol_mismatch=True``)."""
        return dict((self.protocol or {}).get("mismatch") or {})

    @property
    def protocol_unverified(self) -> list:
        """Protocol fields unknown or only inferred on a side: not checked, so recorded."""
        return list((self.protocol or {}).get("unverified") or [])

    def __str__(self) -> str:
        ext = f"{self.extractor}[{self.output}]" if self.extractor else "given features"
        allowed = (f"; PROTOCOL MISMATCH allowed: {', '.join(self.protocol_mismatch)}"
                   if self.protocol_mismatch else "")
        return f"{self.name} = {self.value:.4f} ({ext}; n = {self.n_real} real / {self.n_fake} fake{allowed})"


def fd_label(extractor: str | None) -> str:
    """What a Frechet distance on ``extractor``'s features is called.

    Only the TF-FID Inception's pool3 features (``inception-v3-fid``) give
    FID, the number papers compare; any other network gives a different
    quantity, ``FD_<extractor>``. FD on the class token of a DINOv2
    backbone (``dinov2-vit-*``) is ``FD_DINOv2``, the name Stein et al.
    (2023) give it; the backbone size is in the result's ``extractor``.
    Features of unknown origin give ``"FD"``.
    """
    if not extractor:
        return "FD"
    if extractor == "inception-v3-fid":
        return "FID"
    if extractor.startswith("dinov2-vit-"):
        return "FD_DINOv2"
    return f"FD_{extractor}"


def fid(
    real,
    fake,
    *,
    extractor="inception-v3-fid",
    output: str | None = None,
    batch_size: int = 64,
    device="auto",
    value_range=None,
    cache=False,
    diagnostics: bool = False,
    progress: bool = True,
    resize: str | None = None,
    weights=None,
    allow_protocol_mismatch: bool = False,
) -> FIDResult:
    """Frechet Inception Distance between two image sets (or their features/statistics).

    Parameters
    ----------
    real, fake : source
        Each side may be images (a folder, a list of files, a uint8
        ``N x C x H x W`` array or tensor, floats with ``value_range``,
        ``LabeledImages``, or a dataset name such as ``"fashion-mnist:test"``),
        features (an ``N x D`` array or a ``Features`` result), or statistics
        (``FeatureStats``, a ``(mu, sigma)`` pair, or the path of an ``.npz``
        written by ``FeatureStats.save``, pytorch-fid or clean-fid).
    extractor : str or Extractor
        Registered extractor for image sides (``gm.list_extractors()``), or
        a built one (:func:`genmetrics_nb.get_extractor`).
        The default is the published FID network, ``"inception-v3-fid"``
        (its weights must be available: ``genmetrics-nb weights fetch
        pt_inception-2015-12-05`` or ``weights import``); offline,
        ``"efficientnet-lite0"`` works, and the result is then labelled
        ``FD_efficientnet-lite0``, not FID.
    output : str, optional
        Which extractor output (default ``"pool"``).
    batch_size : int
        Images per forward pass.
    device : str or torch.device
    value_range : tuple, optional
        Declared range of float image arrays: ``(0, 1)``, ``(-1, 1)`` or
        ``(0, 255)``; required for floats, so that [0, 1] data passed where
        [0, 255] was meant is caught rather than silently scored.
    cache : bool or path-like
        Use the feature cache for image sides (off by default).
    diagnostics : bool
        Passed to :func:`frechet_distance` (rank of the fake covariance too).
    progress : bool
        Progress bars for feature extraction.
    resize : {"legacy_tensorflow", "clean", "legacy_pytorch"}, optional
        clean-fid's resize mode for image sides (``inception-v3-fid`` only;
        :mod:`genmetrics_nb.extractors.resize`). Default (None): the
        extractor's own, ``"legacy_tensorflow"`` (TF1 bilinear, as TTUR,
        torch-fidelity and StyleGAN2-ADA: the protocol of published FIDs).
        ``"clean"`` reproduces clean-fid's default, ``"legacy_pytorch"``
        pytorch-fid's. Recorded in ``preprocessing["resize_mode"]``;
        statistics or features made in another mode are refused.
    weights : str or path-like, optional
        The extractor's weights file (for example your own copy of the
        TF-FID Inception); its sha256 is recorded. Default: the weight
        manager's (:func:`genmetrics_nb.get_extractor`).
    allow_protocol_mismatch : bool
        Compare the two sides even when their protocols differ (extractor,
        weights sha256, output, precision or a preprocessing key such as
        ``resize_mode``); the differences are recorded in
        ``result.protocol["mismatch"]``. By default they are refused.

    Returns
    -------
    FIDResult
        ``.value`` and the metadata: extractor, weights digest,
        preprocessing, ``n_real``, ``n_fake`` and the Frechet diagnostics.

    Raises
    ------
    ValueError
        If the two sides' statistics come from different extractors,
        weights, outputs, precision or preprocessing (the message lists each
        difference; ``allow_protocol_mismatch=True`` overrides); bad images
        (see :func:`genmetrics_nb.load_images`). Fields that are unknown on a
        side (plain feature arrays, statistics imported from another tool)
        cannot be checked: they are recorded in ``result.protocol_unverified``,
        not refused.

    Notes
    -----
    FID is biased upwards at small sample sizes (and singular when
    ``n <= D``): compare values computed with equal ``n``, or use
    :func:`fid_infinity`. To reproduce published numbers (Heusel et al.,
    TTUR, pytorch-fid): ``extractor="inception-v3-fid"``, 50,000 generated
    images against the training set's statistics, uint8 images (never
    JPEG-recompressed).

    References
    ----------
    .. [1] M. Heusel et al., NeurIPS 2017 (``bioinf-jku/TTUR``).
    .. [2] pytorch-fid (``mseitzer/pytorch-fid``); clean-fid (Parmar et
       al., CVPR 2022, ``GaParmar/clean-fid``) on resizing and compression
       pitfalls, and its three ``mode=`` protocols (``resize=`` here).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(500, 8)), rng.normal(size=(500, 8))
    >>> fid(a, b).value < 0.2  # features of the same distribution
    True
    """
    from genmetrics_nb.features.protocol import protocol_record

    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    common = dict(extractor=extractor, output=output, batch_size=batch_size, device=device,
                  value_range=value_range, cache=cache, progress=progress, resize=resize, weights=weights)
    s_real = inputs.stats_of(real, name="real", **common)
    s_fake = inputs.stats_of(fake, name="fake", **common)
    p_real = inputs.provenance(getattr(s_real, "meta", None))
    p_fake = inputs.provenance(getattr(s_fake, "meta", None))
    check = inputs.check_compatible(s_real, s_fake, metric="FID", allow_mismatch=bool(allow_protocol_mismatch))
    n_real = getattr(s_real, "n", None) or None  # 0: imported moments, count unknown
    n_fake = getattr(s_fake, "n", None) or None
    _warn_singular(n_real, n_fake, int(np.shape(s_real.mu)[0]), names=("real", "fake"))
    fr = frechet_distance(s_real, s_fake, device=device, diagnostics=diagnostics, warn=False)
    prov = {k: p_real.get(k) or p_fake.get(k) for k in inputs.PROVENANCE}
    return FIDResult(
        value=fr.value,
        n_real=n_real,
        n_fake=n_fake,
        extractor=prov["extractor"],
        output=prov["output"],
        weights_digest=prov["weights_digest"],
        preprocessing=prov["spec"],
        frechet=fr,
        protocol=protocol_record(s_real, s_fake, check),
    )


# ----------------------------------------------------------------------------
# FID-infinity
# ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FIDInfinityResult(Result):
    """FID extrapolated to infinitely many generated samples.

    Attributes
    ----------
    value : float
        The intercept of the least-squares line FID = value + slope / N.
    slope : float
    sizes : tuple of int
        The sample sizes N at which FID was computed.
    fids : tuple of float
        FID at each size.
    seed : int
    """

    value: float
    slope: float
    sizes: tuple
    fids: tuple
    seed: int

    metric_name: ClassVar[str] = "FID-infinity"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ("slope",)
    n_fields: ClassVar[tuple[str, ...]] = ()

    def __str__(self) -> str:
        return (f"FID_inf = {self.value:.4f} (slope {self.slope:.4g} per 1/N; "
                f"{len(self.sizes)} sizes from {self.sizes[0]} to {self.sizes[-1]})")


def fid_infinity(
    real,
    fake_feats,
    *,
    num_points: int = 15,
    sizes=None,
    seed: int = 0,
    device="auto",
    progress: bool = True,
) -> FIDInfinityResult:
    """FID-infinity: FID at several sample sizes, extrapolated linearly in 1/N.

    Parameters
    ----------
    real : FeatureStats, (mu, sigma), .npz path or N x D features
        The reference side, used whole at every size.
    fake_feats : array_like or torch.Tensor, M x D
        Generated features; random subsets of them are scored.
    num_points : int
        Number of sizes (15 in the reference implementation).
    sizes : list of int, optional
        Explicit sizes. Default: ``num_points`` sizes evenly spaced from
        ``M // 10`` to ``M`` (the reference uses 5,000 to 50,000).
    seed : int
        Seed of the ``numpy.random.default_rng`` drawing the subsets (a
        fresh permutation per size, as the reference reshuffles).
    device : str or torch.device
    progress : bool

    Returns
    -------
    FIDInfinityResult
        ``.value`` is FID-infinity; ``.sizes``/``.fids`` the points fitted.

    Notes
    -----
    The bias of FID is, to first order, proportional to ``1/N``; fitting
    the line through ``(1/N, FID_N)`` and reading it at ``1/N = 0`` removes
    it, which makes values comparable across sample sizes and generators.
    The reference fits with ``sklearn.linear_model.LinearRegression``; this
    uses the same ordinary least squares (``numpy.polyfit``, degree 1).

    References
    ----------
    .. [1] M. J. Chong and D. Forsyth, "Effectively Unbiased FID and
       Inception Score and where to find them", CVPR 2020
       (``mchong6/FID_IS_infinity``, ``calculate_FID_infinity``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = fid_infinity(rng.normal(size=(2000, 4)), rng.normal(size=(2000, 4)),
    ...                  num_points=5, progress=False)
    >>> abs(r.value) < 0.05
    True
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve
    from genmetrics_nb.features import FeatureStats

    from genmetrics_nb.sources import ImageSource
    from genmetrics_nb.sources import resolve as resolve_source

    real = resolve_source(real, name="real")
    if isinstance(real, ImageSource):
        raise TypeError(
            "real must be statistics or features for fid_infinity; extract features first "
            "(gm.extract_features) so that they can be reused"
        )
    s_real = inputs.stats_of(real, name="real")
    y = as_feature_tensor(fake_feats, name="fake_feats", min_rows=4)
    m = y.shape[0]
    if sizes is None:
        num_points = check_int(num_points, name="num_points", minimum=2)
        lo = max(2, m // 10)
        sizes = np.unique(np.linspace(lo, m, num_points).astype(np.int64))
    else:
        sizes = np.unique(np.asarray([check_int(s, name="sizes[i]", minimum=2) for s in sizes]))
    if len(sizes) < 2:
        raise ValueError(f"fid_infinity needs at least 2 distinct sizes, got {sizes.tolist()}")
    if sizes[-1] > m:
        raise ValueError(f"sizes go up to {int(sizes[-1])} but fake_feats has only {m} samples")
    seed = check_int(seed, name="seed", minimum=0)
    dev = resolve(device)
    d = y.shape[1]
    if int(sizes[0]) <= d:
        warnings.warn(
            f"the smallest size {int(sizes[0])} is <= D = {d}: covariances there are singular and "
            "the 1/N extrapolation may not be linear; use sizes well above D",
            SingularCovarianceWarning,
            stacklevel=2,
        )
    yd = y.to(device=dev, dtype=torch.float64)
    # With real features at hand and fewer samples than dimensions, the Gram-matrix
    # form is exact and far cheaper than D x D eigendecompositions.
    xd = None
    if getattr(real, "origin", None) == "array" and min(int(np.shape(real.value)[0]), int(sizes[-1])) < d:
        xd = as_feature_tensor(real.value, name="real").to(device=dev, dtype=torch.float64)
    rng = np.random.default_rng(seed)
    fids = []
    for size in tqdm(sizes, desc="FID-infinity", unit="size", disable=not progress, leave=False):
        idx = torch.as_tensor(rng.permutation(m)[: int(size)], device=dev)
        sub = yd[idx]
        if xd is not None and min(xd.shape[0], int(size)) < d:
            fids.append(frechet_from_samples(xd, sub))
            continue
        mu = sub.mean(0)
        c = sub - mu
        sigma = c.T @ c / (int(size) - 1)
        s_fake = FeatureStats.from_moments(mu.cpu().numpy(), sigma.cpu().numpy(), n=int(size))
        fids.append(frechet_distance(s_real, s_fake, device=dev, warn=False).value)
    inv = 1.0 / sizes.astype(np.float64)
    slope, intercept = np.polyfit(inv, np.asarray(fids), 1)
    return FIDInfinityResult(
        value=float(intercept),
        slope=float(slope),
        sizes=tuple(int(s) for s in sizes),
        fids=tuple(float(f) for f in fids),
        seed=int(seed),
    )
