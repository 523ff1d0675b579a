"""Protocol fingerprints: what produced a set of statistics, and whether two sets agree.

A Frechet distance (or KID, precision/recall) is only meaningful between two
sets of features computed the same way: the same network and weights, the
same layer, the same resize and normalisation, the same numeric precision.
A reference computed with clean-fid's ``"clean"`` resize scored against
samples resized as pytorch-fid does (``"legacy_pytorch"``) gives a plausible
but wrong number (Parmar et al. 2022 measure shifts of several FID points).

:func:`fingerprint` turns the metadata a :class:`~genmetrics_nb.FeatureStats`
(or a ``Features`` result) carries into one normalised dict:

- compared (a difference changes the number): ``extractor``,
  ``weights_sha256``, ``output`` (the layer), ``precision``, and every key of
  the extractor's ``spec`` under ``preprocessing`` (``resize``/``resize_mode``,
  ``input_size``, ``normalize``, ``version``, ...), read generically so that
  whatever an extractor declares is compared;
- recorded only (they differ between a reference and samples by nature, or
  do not change the number): ``n``, ``source`` (the source fingerprint),
  ``versions`` (package and torch versions), ``imported`` (file and format of
  statistics read from another tool).

Each compared field is *known*, *inferred* (guessed from an imported file:
a 2048-d pytorch-fid ``.npz`` is most likely the TF-FID Inception's pool3) or
``"unknown"``. :func:`compare_protocols` refuses nothing itself; it sorts the
compared fields into ``mismatch`` (known on both sides and different) and
``unverified`` (unknown or only inferred on a side: the comparison cannot be
decided, so it is recorded, not refused and not warned about).
:func:`genmetrics_nb.features.inputs.check_compatible` raises on a mismatch unless
``allow_protocol_mismatch=True``.

References
----------
.. [1] G. Parmar, R. Zhang and J.-Y. Zhu, "On Aliased Resizing and
   Surprising Subtleties in GAN Evaluation", CVPR 2022 (resize modes
   ``clean``, ``legacy_pytorch``, ``legacy_tensorflow``):
   https://github.com/GaParmar/clean-fid
.. [2] M. Heusel et al., NeurIPS 2017 (FID on the TF Inception's pool3):
   https://github.com/bioinf-jku/TTUR
"""
from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "COMPARED_FIELDS",
    "RECORDED_FIELDS",
    "UNKNOWN",
    "compare_protocols",
    "fingerprint",
    "protocol_differences",
    "protocol_record",
]

#: The value of a field nothing says anything about.
UNKNOWN = "unknown"

#: Top-level fields whose difference changes the number (plus every ``preprocessing`` key).
COMPARED_FIELDS = ("extractor", "weights_sha256", "output", "precision")

#: Fields kept for the record and never compared.
RECORDED_FIELDS = ("n", "source", "versions", "imported")

#: Marks a dict as a fingerprint (so that fingerprint(fingerprint(x)) is a no-op).
_MARK = "genmetrics_nb.protocol/1"

#: Meta keys -> fingerprint fields.
_META_KEYS = {"extractor": "extractor", "weights_digest": "weights_sha256", "output": "output",
              "precision": "precision"}

#: Metadata keys the fingerprint reads (the rest of a meta dict is ignored).
META_KEYS = ("extractor", "weights_digest", "output", "precision", "spec", "protocol_inferred", "n",
             "source", "package", "torch", "imported_from", "import_format")


def _spec_preprocessing(spec: Mapping) -> dict:
    """The spec's keys that describe the computation: not its name, output dims or weights label
    (the weights' sha256 is compared instead)."""
    return {k: spec[k] for k in sorted(spec)
            if k not in ("extractor", "outputs") and not str(k).startswith("weights")}


def fingerprint(obj) -> dict:
    """The normalised protocol of statistics or features.

    Parameters
    ----------
    obj : FeatureStats, Features, dict
        Anything with a ``.meta`` dict, a meta dict itself, or a fingerprint
        (returned unchanged).

    Returns
    -------
    dict
        ``extractor``, ``weights_sha256``, ``output``, ``precision`` (a value
        or ``"unknown"``); ``preprocessing`` (the extractor spec's keys, a dict,
        or ``"unknown"``); ``n``, ``source``, ``versions``, ``imported``
        (recorded only); ``inferred`` (sorted names of the fields whose value
        was inferred from an imported file rather than recorded; it contains
        ``"preprocessing"`` when the preprocessing holds inferred keys only and
        the rest of it is unknown).

    Examples
    --------
    >>> fp = fingerprint({"extractor": "inception-v3-fid", "output": "pool",
    ...                   "spec": {"resize": "clean", "input_size": [299, 299]}})
    >>> fp["preprocessing"], fp["precision"]
    ({'input_size': [299, 299], 'resize': 'clean'}, 'unknown')
    """
    if isinstance(obj, Mapping) and obj.get("fingerprint") == _MARK:
        return dict(obj)
    meta = getattr(obj, "meta", obj)
    meta = meta if isinstance(meta, Mapping) else {}
    guess = meta.get("protocol_inferred") or {}
    fp = {"fingerprint": _MARK}
    inferred = []
    for key, field in _META_KEYS.items():
        value = meta.get(key)
        if value is None and field in guess:
            value = guess[field]
            inferred.append(field)
        fp[field] = UNKNOWN if value is None else value
    spec = meta.get("spec")
    pre_guess = {k: v for k, v in guess.items() if k not in COMPARED_FIELDS}
    if isinstance(spec, Mapping):
        fp["preprocessing"] = _spec_preprocessing(spec)
    elif pre_guess:
        fp["preprocessing"] = dict(sorted(pre_guess.items()))
        inferred += [*pre_guess, "preprocessing"]
    else:
        fp["preprocessing"] = UNKNOWN
    n = getattr(obj, "n", None) if not isinstance(obj, Mapping) else None
    fp["n"] = int(n) if n else meta.get("n")
    source = meta.get("source")
    fp["source"] = source.get("fingerprint") if isinstance(source, Mapping) else source
    fp["versions"] = {name: meta[key] for name, key in (("genmetrics_nb", "package"), ("torch", "torch"))
                      if meta.get(key) is not None}
    fp["imported"] = ({"path": meta["imported_from"], "format": meta.get("import_format", UNKNOWN)}
                      if meta.get("imported_from") else None)
    fp["inferred"] = sorted(set(inferred))
    return fp


def _status(fp: dict, field: str, *, preprocessing: bool = False):
    """``("known" | "inferred" | "unknown", value)`` of one compared field."""
    if not preprocessing:
        value = fp[field]
        if value == UNKNOWN:
            return "unknown", value
        return ("inferred" if field in fp["inferred"] else "known"), value
    pre = fp["preprocessing"]
    if pre == UNKNOWN:
        return "unknown", UNKNOWN
    if field in fp["inferred"]:
        return "inferred", pre[field]
    if field in pre:
        return "known", pre[field]
    if "preprocessing" in fp["inferred"]:  # only a few keys inferred; the rest unknown
        return "unknown", UNKNOWN
    return "known", None  # a key this extractor's spec does not have


def compare_protocols(a, b) -> dict:
    """Sort the compared fields of two sides into mismatching and undecidable ones.

    Parameters
    ----------
    a, b : FeatureStats, Features, meta dict or fingerprint

    Returns
    -------
    dict
        ``mismatch``: field -> ``[value_a, value_b]`` for the fields known on
        both sides that differ (``preprocessing`` keys by their own name, e.g.
        ``"resize"``); ``unverified``: names of the fields unknown or only
        inferred on at least one side (``"preprocessing"`` when one side's
        preprocessing is wholly unknown). ``n``, ``source``, ``versions`` and
        ``imported`` are never compared.
    """
    fa, fb = fingerprint(a), fingerprint(b)
    mismatch, unverified = {}, []

    def visit(field, sa, va, sb, vb):
        if sa == "known" and sb == "known":
            if va != vb:
                mismatch[field] = [va, vb]
        else:
            unverified.append(field)

    for field in COMPARED_FIELDS:
        visit(field, *_status(fa, field), *_status(fb, field))
    pa, pb = fa["preprocessing"], fb["preprocessing"]
    if pa == UNKNOWN or pb == UNKNOWN:
        unverified.append("preprocessing")
    else:
        for key in sorted(set(pa) | set(pb)):
            visit(key, *_status(fa, key, preprocessing=True), *_status(fb, key, preprocessing=True))
    return {"mismatch": mismatch, "unverified": unverified}


def protocol_differences(a, b) -> list:
    """Names of the compared fields known on both sides that differ.

    ``n``, the source fingerprint and package versions are ignored: a
    reference and generated samples differ in those by nature. Fields unknown
    or only inferred on a side are not differences (see
    :func:`compare_protocols`, ``unverified``).

    Examples
    --------
    >>> a = {"extractor": "inception-v3-fid", "n": 50000, "spec": {"resize": "clean"}}
    >>> b = {"extractor": "inception-v3-fid", "n": 10000, "spec": {"resize": "legacy_pytorch"}}
    >>> protocol_differences(a, b)
    ['resize']
    """
    return list(compare_protocols(a, b)["mismatch"])


def protocol_record(a, b, comparison: dict, *, names=("real", "fake")) -> dict:
    """What a two-sample result records of its sides' protocols.

    Parameters
    ----------
    a, b : FeatureStats, Features, meta dict or fingerprint
    comparison : dict
        :func:`compare_protocols`'s output (or
        :func:`genmetrics_nb.features.inputs.check_compatible`'s).
    names : tuple of str

    Returns
    -------
    dict
        The compared fields (``extractor``, ``weights_sha256``, ``output``,
        ``precision``, ``preprocessing``: side ``a``'s value where known, else
        ``b``'s; ``"unknown"`` where neither knows), ``versions``, ``imported``
        (per side, for statistics read from another tool's file), and the
        comparison (``mismatch``, ``unverified``, ``mismatch_allowed``). The
        sides' ``n`` and source fingerprints are left out: the result carries
        ``n_real``/``n_fake``, and equal data from different containers
        (a folder, a zip) gives equal records.
    """
    fa, fb = fingerprint(a), fingerprint(b)
    out = {}
    for field in (*COMPARED_FIELDS, "preprocessing"):
        va, vb = fa[field], fb[field]
        out[field] = va if va != UNKNOWN and field not in fa["inferred"] else (vb if vb != UNKNOWN else va)
    out["inferred"] = sorted(set(fa["inferred"]) | set(fb["inferred"]))
    out["versions"] = fa["versions"] or fb["versions"]
    imported = {name: fp["imported"] for name, fp in zip(names, (fa, fb)) if fp["imported"]}
    if imported:
        out["imported"] = imported
    out.update(mismatch=dict(comparison.get("mismatch") or {}),
               unverified=list(comparison.get("unverified") or []),
               mismatch_allowed=bool(comparison.get("mismatch_allowed", False)))
    return out
