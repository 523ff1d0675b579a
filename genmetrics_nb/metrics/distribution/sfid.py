"""sFID: the Frechet distance of the TF FID Inception's spatial features (Nash et al. 2021).

sFID is FID computed on ``mixed_6/conv`` instead of pool3: the first 7
channels of that 17 x 17 map, 7 x 17 x 17 = 2023 values per image, which
keep spatial structure that pool3 averages away. Its reference
implementation, and the source of every published sFID, is OpenAI's
guided-diffusion evaluator; ``inception-v3-fid``'s ``spatial`` output is
its tensor in its order (see :mod:`genmetrics_nb.extractors.inception_fid`),
so the evaluator's reference statistics (``mu_s``, ``sigma_s`` in its
``.npz`` batches) can be used directly.
"""
from __future__ import annotations

import dataclasses

from genmetrics_nb.metrics.distribution.fid import FIDResult, fid

__all__ = ["SFIDResult", "sfid"]

#: Extractor and output of the sFID features.
_EXTRACTOR, _OUTPUT = "inception-v3-fid", "spatial"


class SFIDResult(FIDResult):
    """sFID with how it was computed: the fields of :class:`~genmetrics_nb.metrics.distribution.fid.FIDResult`.

    ``value`` is the Frechet distance between the two sides' ``spatial``
    (``mixed_6/conv``, 2023-d) statistics; ``output`` is ``"spatial"`` when
    images were given.
    """

    @property
    def name(self) -> str:
        """``"sFID"``."""
        return "sFID"


def _spatial_dim() -> int:
    from genmetrics_nb.extractors.inception_fid import SPATIAL_DIM

    return SPATIAL_DIM


def _wrong_dim(name: str, d: int) -> ValueError:
    return ValueError(
        f"{name} has D = {d} features, but sFID's are {_spatial_dim()} (the first 7 channels of the "
        f"17 x 17 mixed_6/conv map); pool3 statistics or features (D = 2048) give FID: pass images, "
        f"{_EXTRACTOR}'s {_OUTPUT!r} output, or a guided-diffusion batch's mu_s/sigma_s"
    )


def _check_dim(x, *, name: str):
    """Refuse features or statistics of the wrong width before any work is done."""
    if hasattr(x, "mu") and hasattr(x, "sigma"):  # FeatureStats
        shape = getattr(x.mu, "shape", None)
    elif isinstance(x, tuple) and len(x) == 2 and getattr(x[0], "ndim", 0) == 1:  # (mu, sigma)
        shape = x[0].shape
    else:  # N x D features (images are 4-D and pass)
        shape = getattr(x, "shape", None)
    if shape is not None and len(shape) in (1, 2) and int(shape[-1]) != _spatial_dim():
        raise _wrong_dim(name, int(shape[-1]))
    return x


def _side(x, *, name: str):
    """A side, resolved once; a statistics file gives its ``spatial`` statistics (ADM's ``mu_s``/``sigma_s``)."""
    from genmetrics_nb.features import FeatureStats
    from genmetrics_nb.sources import ImageSource, StatsInput, resolve

    src = resolve(x, name=name)
    if isinstance(src, ImageSource):
        return src
    if isinstance(src, StatsInput) and src.origin == "file":
        from genmetrics_nb.image_sets import npz_members

        path = src.path
        if path.lower().endswith(".npz") and {"mu_s", "sigma_s"} <= set(npz_members(path)):
            return _check_dim(FeatureStats.load(path, output=_OUTPUT), name=f"{name} ({path!r}: mu_s)")
        stats = FeatureStats.load(path)
        if stats.meta.get("output") != _OUTPUT:
            raise ValueError(
                f"{name}={path!r} holds mu/sigma but does not say they are statistics of the {_OUTPUT!r} "
                f"output (its metadata says output={stats.meta.get('output')!r}); pool3 statistics give FID, "
                "not sFID. Pass the images, a guided-diffusion batch with mu_s/sigma_s, or statistics saved "
                f"from gm.feature_stats(images, '{_EXTRACTOR}', output='{_OUTPUT}')"
            )
        return _check_dim(stats, name=name)
    _check_dim(src.value, name=name)
    return src


def sfid(
    real,
    fake,
    *,
    extractor=_EXTRACTOR,
    weights=None,
    resize: str | None = None,
    output: str = _OUTPUT,
    batch_size: int = 64,
    device="auto",
    value_range=None,
    cache=False,
    diagnostics: bool = False,
    progress: bool = True,
) -> SFIDResult:
    """sFID between two image sets (or their ``spatial`` features or statistics).

    Parameters
    ----------
    real, fake : source
        Images (folder, files, archive, ``uint8`` ``N x C x H x W`` array,
        an ``.npz`` whose ``arr_0`` holds them, a dataset name), run through
        ``inception-v3-fid`` (output ``spatial``); ``N x 2023`` features of
        that output; statistics (``FeatureStats`` of it, a ``(mu, sigma)``
        pair); or a guided-diffusion reference batch (an ``.npz`` with
        ``mu_s`` and ``sigma_s``, used as they are).
    extractor : str or Extractor
        The network run on image sides: ``"inception-v3-fid"`` (the
        evaluator's), or a built one, e.g. ``gm.get_extractor("inception-v3-fid",
        weights="my_inception.pth")``; as in :func:`genmetrics_nb.fid`.
    weights : str or path-like, optional
        The extractor's weights file; its sha256 is recorded.
    resize : {"legacy_tensorflow", "clean", "legacy_pytorch"}, optional
        clean-fid's resize mode (as :func:`genmetrics_nb.fid`).
    output : str
        The extractor output whose statistics are compared (``"spatial"``:
        ``mixed_6/conv``, 2023-d).
    batch_size : int
        Images per forward pass.
    device : str or torch.device
    value_range : tuple, optional
        Declared range of float image arrays (``(0, 1)``, ``(-1, 1)``, ``(0, 255)``).
    cache : bool or path-like
        Feature cache for image sides.
    diagnostics : bool
        Passed to :func:`genmetrics_nb.frechet_distance`.
    progress : bool

    Returns
    -------
    SFIDResult
        Named ``"sFID"``; the fields of FID's result (extractor, weights
        digest, preprocessing, ``n_real``, ``n_fake``, Frechet diagnostics).

    Raises
    ------
    ValueError
        A side that is not 2023-d (pool3 statistics, other features), a
        statistics file not made from the ``spatial`` output, or a side of
        another output; bad images.

    Notes
    -----
    The statistics are float64 means and unbiased covariances, and the
    distance is :func:`genmetrics_nb.frechet_distance` (``gm.fid``'s
    machinery). Published sFIDs use 50,000 generated images against the
    reference batch's ``mu_s``/``sigma_s``; :func:`genmetrics_nb.suites.adm`
    computes them together with the evaluator's other four numbers.

    References
    ----------
    .. [1] C. Nash, J. Menick, S. Dieleman and P. W. Battaglia, "Generating
       Images with Sparse Representations", ICML 2021.
    .. [2] guided-diffusion ``evaluations/evaluator.py`` (``FID_SPATIAL_NAME =
       "mixed_6/conv:0"``, ``spatial[..., :7]``):
       https://github.com/openai/guided-diffusion/blob/main/evaluations/evaluator.py
    """
    real = _side(real, name="real")
    fake = _side(fake, name="fake")
    r = fid(real, fake, extractor=extractor, output=output, batch_size=batch_size, device=device,
            value_range=value_range, cache=cache, diagnostics=diagnostics, progress=progress, resize=resize,
            weights=weights)
    if r.output not in (None, output):
        raise ValueError(
            f"the sides hold features of output {r.output!r}; sFID is the Frechet distance of "
            f"{_EXTRACTOR}'s {_OUTPUT!r} output (mixed_6/conv); pass images or {_OUTPUT!r} features"
        )
    if r.frechet.dim != _spatial_dim():
        raise _wrong_dim("each side", r.frechet.dim)
    return SFIDResult(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})
