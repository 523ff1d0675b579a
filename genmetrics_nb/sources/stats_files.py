"""Reference-statistics files of other tools: recognised, read and written byte for byte as they do.

Every tool below stores the Frechet moments of its features (``mu``, the
mean; ``sigma``, the unbiased ``n - 1`` covariance), or the per-sample
features themselves, in its own container:

=================  =========================================================
``format``         what the file holds, and who writes it
=================  =========================================================
``"pytorch-fid"``  ``.npz``: ``mu``, ``sigma``
                   (``np.savez_compressed(path, mu=mu, sigma=sigma)`` in
                   ``pytorch_fid.fid_score.save_fid_stats``; TTUR's
                   ``precalc_stats_example.py`` writes the same)
``"clean-fid"``    ``.npz``: ``mu``, ``sigma`` (``np.savez_compressed`` in
                   ``cleanfid.fid.make_custom_stats``), named
                   ``{name}_{mode}[_clip_vit_b_32]_{split}_{res}.npz``
``"clean-fid-kid"`` ``.npz``: ``feats``, the N x D features
                   (``make_custom_stats``'s ``..._kid.npz``)
``"edm"``          ``.npz``: ``mu``, ``sigma`` (``np.savez(dest, mu=mu,
                   sigma=sigma)``, uncompressed, in NVlabs/edm ``fid.py ref``)
``"adm"``          ``.npz``: ``arr_0`` (N x H x W x 3 uint8 images) and/or
                   ``mu``, ``sigma`` (pool_3, 2048) and ``mu_s``, ``sigma_s``
                   (sFID: ``mixed_6/conv`` channels ``[..., :7]``, 17 x 17 x 7
                   = 2023); openai/guided-diffusion ``evaluations/evaluator.py``
                   (``read_statistics``) reads them, and reads ``arr_0``
                   always (precision/recall)
``"edm2"``         ``.pkl``: ``pickle.dump(dict(num_images=N, fid=dict(mu=...,
                   sigma=...), fd_dinov2=dict(mu=..., sigma=...)), f)``
                   (NVlabs/edm2 ``calculate_metrics.py``: ``save_stats``)
``"dgm-eval"``     ``.npz``: ``reps`` (N x D float64), ``model`` (its name),
                   ``hparams`` (a pickled dict) (layer6ai-labs/dgm-eval
                   ``representations.save_outputs``:
                   ``np.savez(out_path, model=model, reps=reps, hparams=...)``)
=================  =========================================================

Without ``format=`` a file is recognised by its members (and suffix):
``sum``/``outer`` or a ``format`` member: genmetrics-nb's own; ``mu_s``,
``sigma_s`` or ``arr_0``: ADM; ``reps``: dgm-eval; ``feats``: clean-fid KID;
``mu``/``sigma`` alone: clean-fid when the name follows clean-fid's pattern,
EDM when stored uncompressed (``np.savez``), pytorch-fid otherwise (the
three are interchangeable: every one of them reads the others' files).

Only the members needed are read: a 2 GB ADM reference batch is not loaded
to get its 2048-d moments. Pickles (EDM2) are read with an unpickler that
admits plain containers and NumPy arrays only, so a statistics file cannot
run code.

References
----------
.. [1] pytorch-fid, ``fid_score.py``: https://github.com/mseitzer/pytorch-fid
.. [2] clean-fid, ``fid.py`` (``make_custom_stats``, ``get_reference_statistics``):
   https://github.com/GaParmar/clean-fid
.. [3] openai/guided-diffusion, ``evaluations/evaluator.py``:
   https://github.com/openai/guided-diffusion
.. [4] NVlabs/edm, ``fid.py``: https://github.com/NVlabs/edm
.. [5] NVlabs/edm2, ``calculate_metrics.py``: https://github.com/NVlabs/edm2
.. [6] layer6ai-labs/dgm-eval, ``dgm_eval/representations.py``:
   https://github.com/layer6ai-labs/dgm-eval
"""
from __future__ import annotations

import importlib
import io
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np

__all__ = [
    "FORMATS",
    "StatsFileError",
    "detect_format",
    "is_stats_pickle",
    "read_stats_file",
    "save_dgm_eval_reps",
    "write_stats_file",
]

#: Every format :meth:`FeatureStats.load` reads (``"genmetrics"``: its own).
FORMATS = ("genmetrics", "pytorch-fid", "clean-fid", "clean-fid-kid", "edm", "adm", "edm2", "dgm-eval")

#: clean-fid's reference-statistics names: ``{name}_{mode}{model}_{split}_{res}[_kid].npz`` (lower case).
_CLEANFID_NAME = re.compile(
    r"^(?P<name>.+)_(?P<mode>clean|legacy_tensorflow|legacy_pytorch)(?P<model>_clip_vit_b_32)?"
    r"_(?P<split>[a-z0-9]+)_(?P<res>[a-z0-9]+)(?P<kid>_kid)?\.npz$"
)

#: EDM2 metric keys -> the registered extractor they most likely correspond to.
_EDM2_EXTRACTORS = {"fid": "inception-v3-fid", "fd_dinov2": "dinov2-vit-l14"}
#: dgm-eval ``--model`` names -> the registered extractor they most likely correspond to.
_DGM_EVAL_EXTRACTORS = {"inception": "inception-v3-fid", "dinov2": "dinov2-vit-l14"}

_SPATIAL_FIX = (
    "compute them from the images with the sFID protocol (gm.feature_stats(images, "
    "'inception-v3-fid', output='spatial'), or gm.sfid on the images), or use a reference file "
    "that holds them (an ADM reference batch)"
)


class StatsFileError(ValueError):
    """A statistics file lacks what was asked of it (the message says what, and the fix)."""


def _npz_members(path: Path) -> dict:
    """``{member name without .npy: compressed?}`` of an ``.npz`` (the zip directory only)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return {i.filename[:-4] if i.filename.endswith(".npy") else i.filename:
                    i.compress_type != zipfile.ZIP_STORED for i in zf.infolist()}
    except (zipfile.BadZipFile, OSError) as exc:
        raise StatsFileError(
            f"statistics file {str(path)!r} is not a readable .npz file (truncated or corrupt) and was "
            f"not used: {exc}; restore an intact copy or recompute it"
        ) from None


def _read_members(path: Path, names) -> dict:
    """The named members only (their CRC-32 checked as they are read); no pickles."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in names}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise StatsFileError(
            f"statistics file {str(path)!r} could not be read and was not used "
            f"({type(exc).__name__}: {exc}); restore an intact copy or recompute it"
        ) from None


def _is_native(path: Path, members: dict) -> bool:
    if {"n", "sum", "outer"} <= set(members):
        return True
    if "format" in members and "meta" in members:
        fmt = _read_members(path, ["format"])["format"]
        return fmt.dtype.kind == "U" and str(fmt).startswith("genmetrics_nb.FeatureStats")
    return False


def detect_format(path) -> str:
    """Which of :data:`FORMATS` the file at ``path`` is, from its suffix and members.

    Raises
    ------
    ValueError
        For a file that is none of them (the message lists what each holds).
    """
    path = Path(path)
    if path.suffix.lower() == ".pkl":
        return "edm2"
    members = _npz_members(path)
    keys = set(members)
    if _is_native(path, members):
        return "genmetrics"
    if keys & {"mu_s", "sigma_s", "arr_0"}:
        return "adm"
    if "reps" in keys:
        return "dgm-eval"
    if "feats" in keys:
        return "clean-fid-kid"
    if {"mu", "sigma"} <= keys:
        if _CLEANFID_NAME.match(path.name.lower()):
            return "clean-fid"
        return "pytorch-fid" if members["mu"] else "edm"
    raise StatsFileError(
        f"{str(path)!r} holds {sorted(keys)}; expected FeatureStats.save output (n, sum, outer) or "
        "reference statistics: 'mu' and 'sigma' (pytorch-fid, clean-fid, EDM), plus 'mu_s' and "
        "'sigma_s' (ADM), 'reps' (dgm-eval) or 'feats' (clean-fid KID)"
    )


# ----------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------
def _check_moments(path, mu, sigma, *, names=("mu", "sigma")):
    mu, sigma = np.asarray(mu), np.asarray(sigma)
    where = f"statistics file {str(path)!r}"
    if mu.dtype.kind not in "fiu" or sigma.dtype.kind not in "fiu":
        raise StatsFileError(f"{where}: {names[0]} and {names[1]} hold {mu.dtype} and {sigma.dtype}, not numbers")
    if mu.ndim != 1 or sigma.shape != (mu.size, mu.size) or mu.size == 0:
        raise StatsFileError(
            f"{where}: {names[0]} has shape {mu.shape} and {names[1]} {sigma.shape}; expected D and D x D"
        )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise StatsFileError(f"{where}: {names[0]} or {names[1]} holds NaN or Inf; restore an intact copy")
    return mu.astype(np.float64), sigma.astype(np.float64)


def _check_features(path, x, name):
    x = np.asarray(x)
    if x.dtype.kind not in "fiu" or x.ndim != 2 or x.shape[0] < 2:
        raise StatsFileError(
            f"statistics file {str(path)!r}: {name} has shape {x.shape} and dtype {x.dtype}; expected "
            "N x D numbers with N >= 2"
        )
    if not np.isfinite(x).all():
        raise StatsFileError(f"statistics file {str(path)!r}: {name} holds NaN or Inf")
    return x


def _inception_guess(dim: int) -> dict:
    """A 2048-d Inception file most likely holds the TF-FID Inception's pool3."""
    return {"extractor": "inception-v3-fid", "output": "pool"} if dim == 2048 else {}


def _refuse_output(path, fmt, output, allowed=(None, "pool")):
    if output not in allowed:
        if output == "spatial":
            raise StatsFileError(
                f"statistics file {str(path)!r} ({fmt}) has no mu_s/sigma_s; sFID needs the spatial "
                f"statistics; {_SPATIAL_FIX}"
            )
        raise StatsFileError(
            f"statistics file {str(path)!r} ({fmt}) holds one set of statistics, the Inception pool "
            f"features; output={output!r} is not in it: pass output=None (or 'pool')"
        )


def _pickle_class(module: str, name: str):
    """The globals an EDM2 statistics pickle may name: NumPy's array reconstructors only."""
    allowed = {"_reconstruct", "scalar", "_frombuffer", "ndarray", "dtype"}
    if module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray",
                  "numpy.core.numeric", "numpy._core.numeric") and name in allowed:
        for mod in (module.replace("numpy.core", "numpy._core"), module):
            try:
                return getattr(importlib.import_module(mod), name)
            except (ImportError, AttributeError):
                continue
    if (module, name) == ("_codecs", "encode"):  # protocol-2 pickles of bytes
        import codecs

        return codecs.encode
    raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a statistics pickle")


class _StatsUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return _pickle_class(module, name)


def _load_stats_pickle(path: Path):
    try:
        with open(path, "rb") as fh:
            return _StatsUnpickler(io.BufferedReader(fh)).load()
    except pickle.UnpicklingError as exc:
        raise StatsFileError(
            f"{str(path)!r} is not an EDM2 statistics pickle ({exc}); EDM2's calculate_metrics.py ref "
            "writes a dict of plain arrays, which is all that is read from a .pkl here (a network "
            "pickle is a generator: pass it as sources.generated(path, num_images=...))"
        ) from None
    except (EOFError, OSError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise StatsFileError(
            f"statistics file {str(path)!r} could not be unpickled ({type(exc).__name__}: {exc}); "
            "restore an intact copy or recompute it"
        ) from None


def is_stats_pickle(path) -> bool:
    """True for a ``.pkl`` that unpickles (safely) to an EDM2 statistics dict."""
    try:
        obj = _load_stats_pickle(Path(path))
    except ValueError:
        return False
    return isinstance(obj, dict) and any(
        isinstance(v, dict) and {"mu", "sigma"} <= set(v) for v in obj.values())


def read_stats_file(path, *, format: str, output=None, detected: bool = False) -> dict:
    """Read a foreign statistics file (any of :data:`FORMATS` but ``"genmetrics"``).

    Parameters
    ----------
    path : path-like
    format : str
        One of :data:`FORMATS` (from :func:`detect_format`, or the caller's).
    output : str, optional
        Which statistics of a file holding several: ADM ``"pool"`` (default)
        or ``"spatial"`` (``mu_s``/``sigma_s``); EDM2 a metric key
        (``"fid"``, the default, or ``"fd_dinov2"``; ``"pool"`` means
        ``"fid"``). Files holding one set accept ``None`` or ``"pool"``.
    detected : bool
        ``format`` was detected (:func:`detect_format`), not stated: a
        compressed ``mu``/``sigma`` file is then "pytorch-fid" by its
        container only (TTUR writes the same), so its resize is not inferred.

    Returns
    -------
    dict
        ``{"mu", "sigma", "n"}`` (moments; ``n`` None where not stored) or
        ``{"features"}`` (per-sample files), and ``"meta"``: ``imported_from``,
        ``import_format`` and ``protocol_inferred`` (what the file most likely
        holds; see :mod:`genmetrics_nb.features.protocol`).

    Raises
    ------
    ValueError
        For a file that lacks what is asked (the message names the missing
        members and how to get them), or damaged contents.
    """
    path = Path(path)
    meta = {"imported_from": str(path), "import_format": format, "import_format_detected": bool(detected)}
    if format == "edm2":
        return _read_edm2(path, output, meta)
    members = _npz_members(path)
    keys = set(members)
    if format in ("pytorch-fid", "clean-fid", "edm"):
        _require(path, format, keys, ("mu", "sigma"))
        _refuse_output(path, format, output)
        arrays = _read_members(path, ["mu", "sigma"])
        mu, sigma = _check_moments(path, arrays["mu"], arrays["sigma"])
        guess = _inception_guess(mu.size)
        if format == "pytorch-fid" and not detected:
            guess["resize_mode"] = "legacy_pytorch"  # F.interpolate bilinear to 299 (clean-fid's name)
        guess.update(_cleanfid_guess(path))
        return {"mu": mu, "sigma": sigma, "n": None, "meta": dict(meta, protocol_inferred=guess)}
    if format == "adm":
        return _read_adm(path, keys, output, meta)
    if format in ("dgm-eval", "clean-fid-kid"):
        name = "reps" if format == "dgm-eval" else "feats"
        _require(path, format, keys, (name,))
        _refuse_output(path, format, output, allowed=(None,))
        arrays = _read_members(path, [name])
        x = _check_features(path, arrays[name], name)
        guess = {}
        if format == "dgm-eval":
            model = _dgm_eval_model(path) if "model" in keys else None
            if model:
                meta["dgm_eval_model"] = model
                ext = _DGM_EVAL_EXTRACTORS.get(model, f"dgm-eval:{model}")
                guess = {"extractor": ext}
                if ext == "inception-v3-fid":  # dgm-eval's --model inception is pytorch-fid's network
                    guess.update(_inception_guess(x.shape[1]))
                elif model == "dinov2":  # the hub model's output: the class token
                    guess["output"] = "cls"
        else:
            guess = dict(_inception_guess(x.shape[1]), **_cleanfid_guess(path))
        return {"features": x, "meta": dict(meta, protocol_inferred=guess)}
    raise StatsFileError(f"format={format!r} is not a foreign statistics format; choose from {', '.join(FORMATS)}")


def _require(path, fmt, keys, needed):
    missing = [k for k in needed if k not in keys]
    if missing:
        raise StatsFileError(
            f"statistics file {str(path)!r} read as format={fmt!r} has no {'/'.join(missing)} "
            f"(it holds {sorted(keys)}); pass the right format= or leave it out to detect it"
        )


def _cleanfid_guess(path: Path) -> dict:
    m = _CLEANFID_NAME.match(path.name.lower())
    if not m:
        return {}
    guess = {"resize_mode": m["mode"]}
    if m["model"]:
        guess.update(extractor="clip-vit-b-32")
    return guess


def _dgm_eval_model(path: Path):
    try:
        model = _read_members(path, ["model"])["model"]
    except ValueError:  # saved as a pickled object: not read
        return None
    return str(model) if model.dtype.kind == "U" and model.shape == () else None


def _read_adm(path, keys, output, meta):
    if output not in (None, "pool", "spatial"):
        raise StatsFileError(
            f"statistics file {str(path)!r} (ADM) holds 'pool' (mu, sigma) and 'spatial' (mu_s, sigma_s) "
            f"statistics; output={output!r} is neither"
        )
    spatial = output == "spatial"
    names = ("mu_s", "sigma_s") if spatial else ("mu", "sigma")
    if not set(names) <= keys:
        if not keys & {"mu", "sigma", "mu_s", "sigma_s"} and "arr_0" in keys:
            raise StatsFileError(
                f"{str(path)!r} is an ADM batch of images (arr_0) without statistics: its statistics must "
                "be computed from its images; pass the file as an image source (gm.fid(path, ...), "
                "gm.feature_stats(path, 'inception-v3-fid'"
                + (", output='spatial')" if spatial else ")") + "), which reads arr_0"
            )
        if spatial:
            raise StatsFileError(
                f"statistics file {str(path)!r} has no mu_s/sigma_s; sFID needs the spatial statistics; "
                f"{_SPATIAL_FIX}"
            )
        raise StatsFileError(
            f"statistics file {str(path)!r} (ADM) has no mu/sigma (it holds {sorted(keys)}); the FID "
            "needs the pool statistics: compute them from the images (arr_0) or use a complete "
            "reference batch"
        )
    arrays = _read_members(path, list(names))
    mu, sigma = _check_moments(path, arrays[names[0]], arrays[names[1]], names=names)
    # ADM feeds N x H x W x 3 in [0, 255] to the TF graph, which resizes inside (TF1 bilinear).
    guess = {"extractor": "inception-v3-fid", "resize_mode": "legacy_tensorflow"}
    guess["output"] = "spatial" if spatial else "pool"
    return {"mu": mu, "sigma": sigma, "n": None, "meta": dict(meta, protocol_inferred=guess)}


def _read_edm2(path, output, meta):
    obj = _load_stats_pickle(path)
    metrics = sorted(k for k, v in obj.items() if isinstance(v, dict)) if isinstance(obj, dict) else []
    if not metrics:
        raise StatsFileError(
            f"{str(path)!r} unpickles to a {type(obj).__name__} without metric statistics; an EDM2 "
            "statistics pickle is dict(num_images=N, fid=dict(mu=..., sigma=...), ...)"
        )
    key = {None: "fid" if "fid" in metrics else metrics[0], "pool": "fid"}.get(output, output)
    if key not in metrics:
        if output == "spatial":
            raise StatsFileError(
                f"statistics file {str(path)!r} (EDM2) has no mu_s/sigma_s; sFID needs the spatial "
                f"statistics; {_SPATIAL_FIX}"
            )
        raise StatsFileError(
            f"statistics file {str(path)!r} (EDM2) has statistics for {metrics}, not {key!r}; "
            f"pass output= one of them"
        )
    entry = obj[key]
    missing = [k for k in ("mu", "sigma") if k not in entry]
    if missing:
        raise StatsFileError(f"statistics file {str(path)!r} (EDM2): {key!r} has no {'/'.join(missing)}")
    mu, sigma = _check_moments(path, entry["mu"], entry["sigma"], names=(f"{key}.mu", f"{key}.sigma"))
    n = obj.get("num_images")
    n = int(n) if isinstance(n, (int, np.integer)) and n >= 0 else None
    guess = {"extractor": _EDM2_EXTRACTORS[key]} if key in _EDM2_EXTRACTORS else {}
    if key in _EDM2_EXTRACTORS:  # Inception pool3; DINOv2's class token (torch.hub model(x))
        guess["output"] = "pool" if key == "fid" else "cls"
    meta["edm2_metric"] = key
    return {"mu": mu, "sigma": sigma, "n": n, "meta": dict(meta, protocol_inferred=guess)}


# ----------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------
def _atomic_npz(path: Path, arrays: dict, *, compressed: bool) -> None:
    from genmetrics_nb.util.io import atomic_write

    with atomic_write(path, suffix=".tmp.npz", fsync=True) as fh:
        (np.savez_compressed if compressed else np.savez)(fh, **arrays)


def _moments_entry(stats, what: str) -> dict:
    try:
        return {"mu": np.asarray(stats.mu, dtype=np.float64), "sigma": np.asarray(stats.sigma, dtype=np.float64)}
    except AttributeError:
        raise TypeError(f"{what} must be FeatureStats, got {type(stats).__name__}") from None


def write_stats_file(path, stats, *, format: str, spatial=None, images=None, key=None, others=None) -> Path:
    """Write ``stats`` as ``format`` writes it (see the module table).

    Parameters
    ----------
    path : path-like
        ``.npz`` (``.pkl`` for ``"edm2"``).
    stats : FeatureStats
    format : {"pytorch-fid", "clean-fid", "edm", "adm", "edm2"}
    spatial : FeatureStats, optional
        ``"adm"`` only, and required there: the sFID statistics
        (``mu_s``, ``sigma_s``), which ADM's evaluator reads whenever ``mu``
        is present.
    images : array, optional
        ``"adm"`` only: ``N x H x W x 3`` uint8 images stored as ``arr_0``.
        ADM's evaluator reads ``arr_0`` of the reference batch for
        precision/recall and refuses a file without it; genmetrics-nb and the
        other readers need only the statistics.
    key : str, optional
        ``"edm2"`` only: the metric key (default from the extractor:
        ``"fid"`` for ``inception-v3-fid``, ``"fd_dinov2"`` for DINOv2).
    others : dict of str to FeatureStats, optional
        ``"edm2"`` only: more metrics in the same file (EDM2's references
        hold ``fid`` and ``fd_dinov2`` of the same images).
    """
    path = Path(path)
    given = {"spatial": spatial, "images": images, "key": key, "others": others}
    allowed = {"adm": ("spatial", "images"), "edm2": ("key", "others")}.get(format, ())
    for name, value in given.items():
        if value is not None and name not in allowed:
            raise ValueError(f"{name}= applies to format={'adm' if name in ('spatial', 'images') else 'edm2'!r} "
                             f"only, not format={format!r}; drop it")
    suffix = ".pkl" if format == "edm2" else ".npz"
    if path.suffix.lower() != suffix:
        raise ValueError(f"path must end in {suffix} for format={format!r}, got {str(path)!r}")
    if format in ("pytorch-fid", "clean-fid"):
        _atomic_npz(path, _moments_entry(stats, "stats"), compressed=True)
    elif format == "edm":
        _atomic_npz(path, _moments_entry(stats, "stats"), compressed=False)
    elif format == "adm":
        if spatial is None:
            raise ValueError(
                "format='adm' needs spatial= (the sFID statistics, mu_s/sigma_s): ADM's evaluator reads "
                "them whenever mu is present; compute them with gm.feature_stats(images, "
                "'inception-v3-fid', output='spatial')"
            )
        arrays = {}
        if images is not None:
            arrays["arr_0"] = _check_adm_images(images)
        arrays.update(_moments_entry(stats, "stats"))
        sp = _moments_entry(spatial, "spatial")
        arrays.update(mu_s=sp["mu"], sigma_s=sp["sigma"])
        _atomic_npz(path, arrays, compressed=False)
    elif format == "edm2":
        _write_edm2(path, stats, key=key, others=others)
    elif format in ("dgm-eval", "clean-fid-kid"):
        raise ValueError(
            f"format={format!r} files hold per-sample features, which FeatureStats does not keep (only "
            "their sums); write the features instead: genmetrics_nb.sources.stats_files."
            "save_dgm_eval_reps(path, features, model=...) (or np.savez_compressed(path, feats=features) "
            "for clean-fid's KID file)"
        )
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    return path


def _check_adm_images(images):
    x = np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(
            f"images must be N x H x W x 3 uint8 (ADM's arr_0), got shape {x.shape} and dtype {x.dtype}; "
            "convert with np.transpose(x, (0, 2, 3, 1)) from N x C x H x W"
        )
    return x


def _edm2_key(stats):
    ext = str(stats.meta.get("extractor") or (stats.meta.get("protocol_inferred") or {}).get("extractor") or "")
    if ext == "inception-v3-fid":
        return "fid"
    if ext.startswith("dinov2"):
        return "fd_dinov2"
    return None


def _write_edm2(path, stats, *, key, others):
    key = key or _edm2_key(stats)
    if not key:
        raise ValueError(
            f"key= is needed for format='edm2': the statistics come from extractor "
            f"{stats.meta.get('extractor')!r}, which is neither EDM2's 'fid' (inception-v3-fid) nor "
            "'fd_dinov2'; pass key='fid' or key='fd_dinov2'"
        )
    entries = {key: stats, **dict(others or {})}
    counts = {k: int(getattr(s, "n", 0) or 0) for k, s in entries.items()}
    if not all(counts.values()):
        raise ValueError(
            f"format='edm2' records num_images, but statistics {sorted(k for k, c in counts.items() if not c)} "
            "do not say how many images they summarise (imported mu/sigma); set stats.n = N first"
        )
    if len(set(counts.values())) > 1:
        raise ValueError(
            f"an EDM2 file holds statistics of one set of images, but num_images differ: {counts}; "
            "compute every metric's statistics on the same images"
        )
    obj = {"num_images": next(iter(counts.values()))}
    for k, s in entries.items():
        obj[k] = _moments_entry(s, f"others[{k!r}]")
    from genmetrics_nb.util.io import atomic_write

    with atomic_write(path, suffix=".tmp.pkl", fsync=True) as fh:
        pickle.dump(obj, fh)


def save_dgm_eval_reps(path, features, *, model: str, hparams: dict | None = None) -> Path:
    """Write per-sample features as dgm-eval's ``--save`` does.

    ``np.savez(out_path, model=model, reps=reps, hparams=hparams)`` with
    ``reps`` N x D float64 (dgm-eval fills ``np.empty((N, D))``); dgm-eval
    reloads it with ``np.load(path)['reps']`` when run with ``--load`` (its
    file name is ``reps_{dataset}_{model}_nimage-{N}_{train|test}.npz`` in
    ``--output_dir``).

    Parameters
    ----------
    path : path-like
        Ends in ``.npz``.
    features : array_like or torch.Tensor, N x D
    model : str
        dgm-eval's ``--model`` name (``"inception"``, ``"dinov2"``, ...).
    hparams : dict, optional
        dgm-eval stores its data loader's settings here (a pickled dict).
    """
    from genmetrics_nb.util.checks import as_feature_tensor

    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ValueError(f"path must end in .npz, got {str(path)!r}")
    if not isinstance(model, str) or not model:
        raise TypeError(f"model must be dgm-eval's model name (e.g. 'dinov2'), got {model!r}")
    reps = as_feature_tensor(features, name="features", min_rows=1).double().cpu().numpy()
    _atomic_npz(path, {"model": model, "reps": reps, "hparams": dict(hparams or {})}, compressed=False)
    return path

