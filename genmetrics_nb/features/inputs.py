"""What a metric needs from a source: its statistics or its per-sample features, with their protocol.

Every source is resolved once by :func:`genmetrics_nb.sources.resolve`; here
:func:`stats_of` gives the Frechet distances their statistics and
:func:`features_of` gives every other distribution metric its per-sample
features (KID, precision/recall, density/coverage) or logits (Inception
Score). Images run through ``extractor``
(:func:`genmetrics_nb.features.feature_stats`,
:func:`genmetrics_nb.extract_features`); statistics and features pass
through, or are refused where a metric cannot use them. Both return the
protocol that produced the numbers (extractor, weights digest,
preprocessing, output), so that two sides computed differently are refused
(:func:`check_compatible`).
"""
from __future__ import annotations

import os

import numpy as np

from genmetrics_nb.sources.resolver import narrow_hint, resolve
from genmetrics_nb.sources.source import FeaturesInput, ImageSource, StatsInput

__all__ = [
    "PROVENANCE",
    "check_compatible",
    "default_output",
    "features_of",
    "features_pair",
    "provenance",
    "stats_of",
]

#: Keys of a source's protocol that must agree between two compared sides.
PROVENANCE = ("extractor", "weights_digest", "spec", "output")

#: The output each extractor uses for FID/KID/PR unless told otherwise.
_DISTRIBUTION_OUTPUT = {"vgg16-fc2": "fc2_relu"}
#: The logits Inception Score uses: the 1008 bias-free TF logits where the network has them.
_LOGITS_OUTPUTS = ("logits_unbiased", "logits")

def default_output(extractor_name: str, outputs, *, purpose: str = "features") -> str:
    """The extractor output a metric uses unless told otherwise.

    Parameters
    ----------
    extractor_name : str
    outputs : iterable of str
        The outputs available.
    purpose : {"features", "logits"}
        ``"features"``: ``pool`` (``fc2_relu`` for ``vgg16-fc2``, as
        torch-fidelity's precision/recall); ``"logits"``: ``logits_unbiased``
        (the TF Inception's, as published IS values) or ``logits``.
    """
    outputs = list(outputs)
    if purpose == "logits":
        for name in _LOGITS_OUTPUTS:
            if name in outputs:
                return name
        raise ValueError(
            f"extractor {extractor_name!r} has no logits output (it has {outputs}); the Inception "
            "Score needs class logits: use an extractor with 'logits', e.g. 'inception-v3-fid'"
        )
    name = _DISTRIBUTION_OUTPUT.get(extractor_name)
    if name in outputs:
        return name
    if "pool" in outputs:
        return "pool"
    return outputs[0]


def provenance(meta) -> dict:
    """The :data:`PROVENANCE` part of a features' or statistics' metadata, plus whatever else of it
    the protocol fingerprint reads (precision, ``n``, source, versions, what an imported file's
    protocol was inferred to be: :data:`genmetrics_nb.features.protocol.META_KEYS`)."""
    from genmetrics_nb.features.protocol import META_KEYS

    meta = meta or {}
    out = {k: meta.get(k) for k in PROVENANCE}
    out.update({k: meta[k] for k in META_KEYS if k not in out and k in meta})
    return out


def check_compatible(a, b, *, names=("real", "fake"), metric: str = "this metric",
                     allow_mismatch: bool | None = None) -> dict:
    """Compare two sides' protocols; refuse a difference that changes the number.

    Every metric that compares two sides goes through here (the Frechet
    distances with both sides' statistics, KID / precision-recall / density-
    coverage / realism through :func:`features_pair`).

    Parameters
    ----------
    a, b : dict or FeatureStats
        Each side's metadata (or :func:`provenance`, or statistics/features
        carrying ``.meta``), read by
        :func:`genmetrics_nb.features.protocol.fingerprint`.
    names : tuple of str
        The sides' argument names, for the message.
    metric : str
        The metric's name, for the message.
    allow_mismatch : bool or None
        ``True``: do not raise; the differences are returned (the metric
        records them). ``False``: raise, saying ``allow_protocol_mismatch=True``
        overrides. ``None`` (a metric without that option): raise.

    Returns
    -------
    dict
        ``mismatch`` (field -> ``[value_a, value_b]``, fields known on both
        sides that differ: extractor, weights_sha256, output, precision, and
        each preprocessing key such as ``resize_mode``), ``unverified``
        (fields unknown or only inferred on a side, e.g. statistics imported
        from pytorch-fid: not refusable, so recorded), and
        ``mismatch_allowed`` (bool).

    Raises
    ------
    ValueError
        Listing every differing field with both values, unless
        ``allow_mismatch`` is true. ``n``, the source fingerprint and package
        versions never count: a reference and samples differ in those by nature.
    """
    from genmetrics_nb.features.protocol import compare_protocols

    record = compare_protocols(a or {}, b or {})
    mismatch = record["mismatch"]
    if mismatch and not allow_mismatch:
        listing = "; ".join(f"{key} is {va!r} for {names[0]} and {vb!r} for {names[1]}"
                            for key, (va, vb) in mismatch.items())
        override = ("" if allow_mismatch is None else
                    ", or pass allow_protocol_mismatch=True to compare them anyway (the result then "
                    "records the differences)")
        raise ValueError(
            f"{names[0]} and {names[1]} were computed differently: {listing}. {metric} is only "
            "meaningful between features of the same extractor, output and preprocessing; recompute "
            f"one side with the other's protocol{override}"
        )
    record["mismatch_allowed"] = bool(mismatch)
    return record


def _check_resize(resize, meta=None, *, name: str):
    """Validate ``resize`` and refuse a precomputed side made in another resize mode."""
    if resize is None:
        return
    from genmetrics_nb.extractors.resize import check_resize_mode

    check_resize_mode(resize)
    done = ((meta or {}).get("spec") or {}).get("resize_mode")
    if done is not None and done != resize:
        raise ValueError(
            f"{name} was computed with resize={done!r}, but resize={resize!r} was asked; recompute "
            f"{name} from its images with resize={resize!r}, or drop resize= to use it as it is"
        )


def _image_side(src: ImageSource, *, extractor, device, resize=None, weights=None):
    """The extractor for an image source (built once, here)."""
    from genmetrics_nb.extractors.registry import get_extractor

    return get_extractor(extractor, device=device, weights=weights, resize=resize)


def _resolve_side(source, *, name, value_range):
    return resolve(source, name=name, value_range=value_range, hint=narrow_hint(value_range))


def stats_of(source, *, name: str, extractor="inception-v3-fid", output=None, batch_size: int = 64,
             device="auto", value_range=None, cache=False, progress: bool = True, resize=None, weights=None):
    """Any source as ``FeatureStats`` carrying its protocol in ``.meta``.

    Images are streamed through ``extractor`` into float64 statistics
    (:func:`genmetrics_nb.features.feature_stats`): no features are kept.
    Parameters as :func:`features_of`.
    """
    from genmetrics_nb.features.engine import feature_stats
    from genmetrics_nb.features.stats import FeatureStats
    from genmetrics_nb.util.checks import as_feature_tensor

    _check_resize(resize, name=name)
    src = _resolve_side(source, name=name, value_range=value_range)
    if isinstance(src, StatsInput):
        if src.origin == "moments":
            return FeatureStats.from_moments(np.asarray(src.value[0]), np.asarray(src.value[1]))
        if src.origin == "file":
            st = FeatureStats.load(src.value, output=output)  # output picks ADM's spatial / EDM2's metric
            _check_resize(resize, st.meta, name=name)
            return st
        _check_resize(resize, getattr(src.value, "meta", None), name=name)
        return src.value
    if isinstance(src, FeaturesInput):
        if src.origin == "features":
            feats = src.value
            _check_resize(resize, feats.meta, name=name)
            out = output or default_output(feats.meta.get("extractor", ""), list(feats))
            if out not in feats:
                raise ValueError(f"{name} holds outputs {list(feats)}; output={out!r} is not one of them")
            return feats.stats(out)
        x = as_feature_tensor(src.value, name=name, min_rows=2)
        return FeatureStats.from_features(x, meta={"source": "features"})
    ext = _image_side(src, extractor=extractor, device=device, resize=resize, weights=weights)
    out = output or default_output(ext.name, ext.outputs)
    return feature_stats(src, ext, output=out, batch_size=batch_size, device=device,
                         value_range=value_range, cache=cache, progress=progress)


def features_of(source, *, name: str, metric: str, extractor="inception-v3-fid", output=None,
                purpose: str = "features", batch_size: int = 64, device="auto", value_range=None,
                cache=False, progress: bool = True, resize=None, weights=None):
    """Any source as per-sample features (or logits), with their protocol.

    Parameters
    ----------
    source
        Images, features or a ``Features`` result (anything
        :func:`genmetrics_nb.sources.resolve` takes). Statistics are refused:
        they hold no per-sample values.
    name : str
        The argument's name, for messages (``"real"``).
    metric : str
        The calling metric's name, for messages (``"kid"``).
    extractor : str or Extractor
        Registered extractor run on image sources (``gm.list_extractors()``),
        or a built one.
    output : str, optional
        Extractor output (default: :func:`default_output` for ``purpose``).
    purpose : {"features", "logits"}
    batch_size, device, value_range, cache, progress
        As in :func:`genmetrics_nb.extract_features`.
    resize : {"legacy_tensorflow", "clean", "legacy_pytorch"}, optional
        clean-fid's resize mode for ``extractor`` (see
        :func:`genmetrics_nb.get_extractor`); default: the extractor's own.
        A precomputed source (statistics, a ``Features`` result) made in
        another mode is refused.
    weights : str or path, optional
        The extractor's weights file (:func:`genmetrics_nb.get_extractor`).

    Returns
    -------
    values : numpy.ndarray or torch.Tensor
        ``N x D``; arrays given as features come back as they were.
    protocol : dict
        :data:`PROVENANCE` keys (``None`` where unknown, e.g. plain arrays).

    Raises
    ------
    ValueError
        For statistics (a file or ``FeatureStats``), a missing output, or bad images.
    """
    _check_resize(resize, name=name)
    src = _resolve_side(source, name=name, value_range=value_range)
    if isinstance(src, StatsInput):
        what = (f"the statistics file {os.fspath(src.value)!r}" if src.origin == "file"
                else "statistics (mean and covariance)")
        error = ValueError if src.origin == "file" else TypeError
        raise error(
            f"{name} is {what}, but {metric} needs the per-sample features, not only their mean "
            f"and covariance: pass the images (folder, files, array) or an N x D feature array; "
            "statistics serve the Frechet distances (gm.fid) only"
        )
    if isinstance(src, FeaturesInput):
        if src.origin == "array":
            return src.value, provenance(None)
        feats = src.value
        _check_resize(resize, feats.meta, name=name)
        out = output or default_output(feats.meta.get("extractor", ""), list(feats), purpose=purpose)
        if out not in feats:
            raise ValueError(f"{name} holds outputs {list(feats)}; output={out!r} is not one of them")
        return feats[out], provenance(dict(feats.meta, output=out))
    from genmetrics_nb.features.engine import extract_features

    ext = _image_side(src, extractor=extractor, device=device, resize=resize, weights=weights)
    out = output or default_output(ext.name, ext.outputs, purpose=purpose)
    if out not in ext.outputs:
        raise ValueError(f"output={out!r} is not an output of {ext.name!r}; it has {list(ext.outputs)}")
    feats = extract_features(src, ext, outputs=(out,), batch_size=batch_size, device=device,
                             value_range=value_range, cache=cache, progress=progress)
    return feats[out], provenance(dict(feats.meta, output=out))


def features_pair(real, fake, *, metric: str, names=("real", "fake"), allow_protocol_mismatch=None,
                  **options):
    """:func:`features_of` for both sides of a two-sample metric, checked to share one protocol.

    ``allow_protocol_mismatch`` is :func:`check_compatible`'s ``allow_mismatch``
    (None for metrics that offer no override).

    Returns
    -------
    real_values, fake_values : numpy.ndarray or torch.Tensor
    protocol : dict
        The shared :data:`PROVENANCE` (a side's known value where the other's is
        unknown), plus ``"protocol"``: what a result records
        (:func:`genmetrics_nb.features.protocol.protocol_record`: the shared
        fields, and :func:`check_compatible`'s ``mismatch``, ``unverified``,
        ``mismatch_allowed``).
    """
    x, p_real = features_of(real, name=names[0], metric=metric, **options)
    y, p_fake = features_of(fake, name=names[1], metric=metric, **options)
    record = check_compatible(p_real, p_fake, names=names, metric=metric, allow_mismatch=allow_protocol_mismatch)
    from genmetrics_nb.features.protocol import protocol_record

    shared = {k: p_real.get(k) or p_fake.get(k) for k in PROVENANCE}
    shared["protocol"] = protocol_record(p_real, p_fake, record, names=names)
    return x, y, shared
