"""Streaming mean and covariance of features: sufficient statistics in float64.

:class:`FeatureStats` keeps ``n``, the sum of the features and the sum of
their outer products, all in float64 (the state torchmetrics' FID keeps), so
memory is O(D^2) whatever the number of images, batches can be added in any
order, and shards computed by different processes merge by addition.

The sums are taken of ``x - shift``, where ``shift`` is the first feature
vector seen (the "shifted data" algorithm, Chan, Golub & LeVeque 1983). Plain
``sum(x x^T) - n mu mu^T`` loses every digit the mean has over the spread:
for identical samples it leaves round-off of either sign instead of a zero
covariance (negative "variances" that a Frechet distance then rejects), and
for features far from the origin it costs accuracy. Shifted sums give an
exact zero for identical samples and keep the digits otherwise; merging
re-expresses one side's sums around the other's shift. The first row of a
source is the first row of rank 0's shard, so single-process and sharded
runs take their sums around the same point.

References
----------
.. [1] M. Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
   to a Local Nash Equilibrium", NeurIPS 2017 (FID; statistics ``mu``,
   ``sigma`` of pool3 features). Reference code: https://github.com/bioinf-jku/TTUR
.. [2] pytorch-fid (``calculate_activation_statistics``: ``np.mean(act, 0)``,
   ``np.cov(act, rowvar=False)``, i.e. the unbiased ``n - 1`` covariance):
   https://github.com/mseitzer/pytorch-fid
.. [3] clean-fid reference statistics (``.npz`` with ``mu``, ``sigma``):
   https://github.com/GaParmar/clean-fid
.. [4] T. F. Chan, G. H. Golub and R. J. LeVeque, "Algorithms for computing
   the sample variance: analysis and recommendations", The American
   Statistician 37(3), 1983 (shifted data; pairwise combination).

Other tools' reference files (pytorch-fid, clean-fid, EDM, EDM2, ADM,
dgm-eval) are read and written by :mod:`genmetrics_nb.sources.stats_files`
(:meth:`FeatureStats.load`, :meth:`FeatureStats.save` with ``format=``); the
protocol a statistics object carries is :attr:`FeatureStats.protocol`
(:mod:`genmetrics_nb.features.protocol`).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from genmetrics_nb.util.checks import check_int, is_torch

__all__ = ["FeatureStats"]

_FORMAT = "genmetrics_nb.FeatureStats/2"  # /2: sums are of x - shift; /1 files have no shift


def _as_float64_2d(x, *, name="batch") -> np.ndarray:
    if is_torch(x):
        x = x.detach().to("cpu").double().numpy()
    x = np.asarray(x)
    if x.dtype.kind not in "fiu" or x.dtype == np.bool_:
        raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}")
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be N x D features, got shape {x.shape}; flatten feature maps first "
            "(x.reshape(len(x), -1))"
        )
    x = x.astype(np.float64, copy=False)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or Inf features; check the images and the extractor")
    return x


class FeatureStats:
    """Mean and covariance of a stream of feature vectors, accumulated in float64.

    Parameters
    ----------
    dim : int, optional
        Feature dimension; inferred from the first batch when omitted.
    meta : dict, optional
        Provenance (extractor, weights digest, preprocessing, source); saved
        with the statistics and checked by metrics that compare two sets.

    Attributes
    ----------
    n : int
        Number of feature vectors seen.
    shift : numpy.ndarray
        float64 ``D`` reference point the sums are taken around (the first
        feature vector added; zeros before any data).
    sum : numpy.ndarray
        float64 ``D`` sum of ``x - shift``.
    outer : numpy.ndarray
        float64 ``D x D`` sum of ``(x - shift)(x - shift)^T``.
    meta : dict

    Notes
    -----
    ``sigma`` is the unbiased covariance (divisor ``n - 1``), as
    ``np.cov(features, rowvar=False)`` in pytorch-fid, TTUR and clean-fid.
    Statistics imported from ``mu``/``sigma`` files (:meth:`load` of a
    pytorch-fid, clean-fid, EDM, EDM2 or ADM file) carry no sums: they can be
    compared but not updated or merged.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 4))
    >>> s = FeatureStats(4).update(x[:200]).update(x[200:])
    >>> bool(np.allclose(s.sigma, np.cov(x, rowvar=False)))
    True
    """

    def __init__(self, dim: int | None = None, *, meta: dict | None = None):
        if dim is not None:
            dim = check_int(dim, name="dim", minimum=1, hint="pass None to take it from the first batch")
        self.dim = dim
        self.n = 0
        self.sum = None if dim is None else np.zeros(self.dim)
        self.outer = None if dim is None else np.zeros((self.dim, self.dim))
        self.shift = None if dim is None else np.zeros(self.dim)
        self._shift_set = False  # the first non-empty batch sets the shift
        self.meta = dict(meta or {})
        self._moments = None  # (mu, sigma) for imported moment-only statistics

    # ------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------
    @classmethod
    def from_features(cls, x, *, meta: dict | None = None, batch_size: int = 4096) -> "FeatureStats":
        """Statistics of an ``N x D`` array (numpy or torch), in blocks of ``batch_size`` rows."""
        x2 = _as_float64_2d(x, name="x")
        stats = cls(x2.shape[1], meta=meta)
        for s in range(0, len(x2), batch_size):
            stats.update(x2[s : s + batch_size])
        return stats

    @classmethod
    def from_moments(cls, mu, sigma, *, n: int | None = None, meta: dict | None = None) -> "FeatureStats":
        """Moment-only statistics (e.g. published reference ``mu``/``sigma``)."""
        mu = np.asarray(mu, dtype=np.float64)
        sigma = np.asarray(sigma, dtype=np.float64)
        if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
            raise ValueError(
                f"mu must be D and sigma D x D, got shapes {mu.shape} and {sigma.shape}"
            )
        stats = cls(mu.size, meta=meta)
        stats.sum = None
        stats.outer = None
        stats.n = int(n) if n is not None else 0
        stats._moments = (mu, sigma)
        return stats

    # ------------------------------------------------------------------
    # accumulation
    # ------------------------------------------------------------------
    def _check_mutable(self, what):
        if self._moments is not None:
            raise ValueError(
                f"these statistics were imported as mu/sigma only and cannot be {what}; "
                "recompute them from features to accumulate"
            )

    def update(self, batch) -> "FeatureStats":
        """Add an ``N x D`` batch of features (numpy or torch); returns ``self``."""
        self._check_mutable("updated")
        if is_torch(batch) and batch.ndim == 2:
            # Accumulate on the batch's device (GPU) in float64, then move the sums.
            import torch

            b = batch.detach().to(torch.float64)
            if not bool(torch.isfinite(b).all()):
                raise ValueError("batch contains NaN or Inf features; check the images and the extractor")
            d = b.shape[1]
            self._ensure_dim(d)
            if not b.shape[0]:
                return self
            if not self._shift_set:
                self._set_shift(b[0].cpu().numpy())
            b = b - torch.from_numpy(self.shift).to(b.device)
            self.n += int(b.shape[0])
            self.sum += b.sum(0).cpu().numpy()
            self.outer += (b.T @ b).cpu().numpy()
            return self
        x = _as_float64_2d(batch)
        self._ensure_dim(x.shape[1])
        if not x.shape[0]:
            return self
        if not self._shift_set:
            self._set_shift(x[0])
        x = x - self.shift
        self.n += x.shape[0]
        self.sum += x.sum(0)
        self.outer += x.T @ x
        return self

    def _set_shift(self, shift):
        """Adopt ``shift`` as the reference point (only before any data)."""
        self.shift = np.array(shift, dtype=np.float64)
        self._shift_set = True

    def _recentred(self, shift):
        """``(sum, outer)`` of this object's data taken around ``shift`` instead (exact algebra)."""
        delta = self.shift - shift  # x - shift = (x - self.shift) + delta
        s = self.sum + self.n * delta
        o = self.outer + np.outer(delta, self.sum) + np.outer(self.sum, delta) + self.n * np.outer(delta, delta)
        return s, o

    def _ensure_dim(self, d):
        if self.dim is None:
            self.dim = int(d)
            self.sum = np.zeros(d)
            self.outer = np.zeros((d, d))
            self.shift = np.zeros(d)
        elif d != self.dim:
            raise ValueError(f"batch has {d} features per row but these statistics have {self.dim}")

    def merge(self, other: "FeatureStats") -> "FeatureStats":
        """A new object holding the statistics of both sets (sums added)."""
        if not isinstance(other, FeatureStats):
            raise TypeError(f"can only merge FeatureStats, got {type(other).__name__}")
        self._check_mutable("merged")
        other._check_mutable("merged")
        if self.dim is None:
            return other.copy()
        if other.dim is None:
            return self.copy()
        if self.dim != other.dim:
            raise ValueError(f"cannot merge statistics of dimension {self.dim} and {other.dim}")
        if not other.n:
            return self.copy()
        if not self.n:
            out = other.copy()
            out.meta = dict(self.meta or other.meta)
            return out
        out = self.copy()
        s, o = other._recentred(self.shift)
        out.n = self.n + other.n
        out.sum = self.sum + s
        out.outer = self.outer + o
        return out

    __add__ = merge

    def copy(self) -> "FeatureStats":
        out = FeatureStats(self.dim, meta=self.meta)
        out.n = self.n
        if self._moments is not None:
            out.sum = out.outer = None
            out._moments = tuple(m.copy() for m in self._moments)
        elif self.dim is not None:
            out.sum = self.sum.copy()
            out.outer = self.outer.copy()
            out.shift = self.shift.copy()
            out._shift_set = self._shift_set
        return out

    def all_reduce(self) -> "FeatureStats":
        """Sum the statistics over all ``torch.distributed`` ranks (in place); returns ``self``.

        A no-op without an initialised process group. Every rank must call it,
        including ranks that saw no features.
        """
        from genmetrics_nb.features import distributed as dd

        if dd.world_size() == 1:
            return self
        self._check_mutable("all-reduced")
        dims = dd.all_gather_object(self.dim)
        known = {d for d in dims if d is not None}
        if len(known) > 1:
            raise ValueError(f"ranks hold statistics of different dimensions: {dims}")
        if not known:
            return self
        self._ensure_dim(known.pop())
        # One common shift (that of the first rank holding data), then plain sums.
        ranks = dd.all_gather_object((self.n, self.shift if self.n else None))
        shift = next(sh for n, sh in ranks if n)
        if self.n:
            self.sum, self.outer = self._recentred(shift)
        self._set_shift(shift)
        self.n = int(dd.all_reduce_sum(np.array([self.n], dtype=np.float64))[0])
        self.sum = dd.all_reduce_sum(self.sum)
        self.outer = dd.all_reduce_sum(self.outer)
        return self

    # ------------------------------------------------------------------
    # results
    # ------------------------------------------------------------------
    @property
    def mu(self) -> np.ndarray:
        """float64 mean, ``D``."""
        if self._moments is not None:
            return self._moments[0]
        if not self.n:
            raise ValueError("no features have been added yet; call update() first")
        return self.shift + self.sum / self.n

    @property
    def sigma(self) -> np.ndarray:
        """float64 unbiased covariance (divisor ``n - 1``), ``D x D``."""
        if self._moments is not None:
            return self._moments[1]
        if self.n < 2:
            raise ValueError(
                f"the covariance needs at least 2 feature vectors, have {self.n}; add more images"
            )
        m = self.sum / self.n  # mean of x - shift: small, so little cancellation below
        cov = (self.outer - self.n * np.outer(m, m)) / (self.n - 1)
        return (cov + cov.T) / 2  # exact symmetry despite rounding

    def to_dict(self) -> dict:
        return {"n": self.n, "dim": self.dim, "moments_only": self._moments is not None,
                "meta": dict(self.meta)}

    def __repr__(self):
        kind = ", moments only" if self._moments is not None else ""
        ext = self.meta.get("extractor")
        ext = f", extractor={ext!r}" if ext else ""
        return f"FeatureStats(n={self.n}, dim={self.dim}{kind}{ext})"

    @property
    def protocol(self) -> dict:
        """The protocol fingerprint of these statistics (:func:`genmetrics_nb.features.protocol.fingerprint`):
        extractor, weights sha256, output, precision, preprocessing (resize, input size, ...), ``n``,
        source fingerprint, package versions, and which of these were only inferred or are unknown."""
        from genmetrics_nb.features.protocol import fingerprint

        return fingerprint(self)

    # ------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------
    def save(self, path, *, format: str = "genmetrics", spatial=None, images=None, key=None,
             others=None) -> Path:
        """Write the statistics in genmetrics-nb's format (default) or as another tool writes them.

        Parameters
        ----------
        path : path-like
            ``.npz`` (``.pkl`` for ``format="edm2"``).
        format : {"genmetrics", "pytorch-fid", "clean-fid", "edm", "adm", "edm2"}
            ``"genmetrics"``: ``n``, ``sum``, ``outer``, ``shift``, ``mu``,
            ``sigma`` and the metadata (the protocol), with a ``sha256`` member
            that :meth:`load` checks; the file is also a valid pytorch-fid /
            clean-fid / EDM reference (they read ``mu`` and ``sigma``). The
            others write exactly what that tool writes (see
            :mod:`genmetrics_nb.sources.stats_files`), so they carry no
            protocol: loading them back gives ``unknown`` protocol fields.
        spatial : FeatureStats, optional
            ``format="adm"`` (required there): the sFID statistics, stored as
            ``mu_s``/``sigma_s``.
        images : array, optional
            ``format="adm"``: ``N x H x W x 3`` uint8 images stored as
            ``arr_0`` (ADM's evaluator reads them for precision/recall and
            refuses a reference batch without them).
        key : str, optional
            ``format="edm2"``: the metric key, ``"fid"`` or ``"fd_dinov2"``
            (default from the extractor).
        others : dict of str to FeatureStats, optional
            ``format="edm2"``: more metrics' statistics of the same images.

        Returns
        -------
        pathlib.Path

        Raises
        ------
        ValueError
            Empty statistics, a wrong suffix, an option another format's, or
            what the format needs missing (``spatial`` for ADM, a count for
            EDM2). ``"dgm-eval"`` and ``"clean-fid-kid"`` files hold
            per-sample features, which FeatureStats does not keep: the message
            says how to write the features instead.

        Notes
        -----
        Every write is atomic (a temporary file renamed into place).
        """
        from genmetrics_nb.sources.stats_files import FORMATS, write_stats_file
        from genmetrics_nb.util.checks import check_choice

        check_choice(format, name="format", choices=FORMATS)
        if self.dim is None:
            raise ValueError("cannot save empty statistics; add features first")
        if format != "genmetrics":
            return write_stats_file(path, self, format=format, spatial=spatial, images=images, key=key,
                                    others=others)
        for name, value in (("spatial", spatial), ("images", images), ("key", key), ("others", others)):
            if value is not None:
                raise ValueError(f"{name}= applies to another format (adm or edm2), not format='genmetrics'; "
                                 "drop it")
        from genmetrics_nb.features.cache import write_checked_npz

        arrays = {"format": np.array(_FORMAT), "meta": np.array(json.dumps(self.meta, sort_keys=True, default=str))}
        arrays["n"] = np.array(self.n, dtype=np.int64)
        if self._moments is None:
            arrays["sum"] = self.sum
            arrays["outer"] = self.outer
            arrays["shift"] = self.shift
        if self._moments is not None or self.n >= 2:
            arrays["mu"] = self.mu
            arrays["sigma"] = self.sigma
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"path must end in .npz, got {str(path)!r}")
        write_checked_npz(path, arrays)
        return path

    @classmethod
    def load(cls, path, *, format: str | None = None, output: str | None = None,
             require_checksum: bool = False) -> "FeatureStats":
        """Read statistics saved by :meth:`save`, or reference statistics of another tool.

        Parameters
        ----------
        path : path-like
            An ``.npz`` (or EDM2 ``.pkl``) file.
        format : str, optional
            ``"genmetrics"``, ``"pytorch-fid"``, ``"clean-fid"``,
            ``"clean-fid-kid"``, ``"edm"``, ``"adm"``, ``"edm2"`` or
            ``"dgm-eval"``; detected from the file's members when omitted
            (:func:`genmetrics_nb.sources.stats_files.detect_format`).
        output : str, optional
            Which statistics, for files holding several: ADM ``"pool"``
            (``mu``/``sigma``, the default) or ``"spatial"`` (``mu_s``/
            ``sigma_s``, for sFID); EDM2 ``"fid"`` (default; ``"pool"`` means
            the same) or ``"fd_dinov2"``. For a genmetrics-nb file, the output
            it must have been computed on (checked against its metadata).
        require_checksum : bool
            Refuse files without the ``sha256`` member that :meth:`save`
            writes in its own format (peers' files have none, so they are
            refused too; without this option the zip CRC-32 still guards
            them).

        Returns
        -------
        FeatureStats
            Files with moments only (``mu``/``sigma``) give moment-only
            statistics; per-sample files (dgm-eval ``reps``, clean-fid KID
            ``feats``) are summed into full statistics. Imported statistics
            carry ``meta["imported_from"]``, ``meta["import_format"]`` and
            ``meta["protocol_inferred"]`` (what the file most likely holds,
            e.g. ``inception-v3-fid`` ``pool`` for 2048-d moments): their
            protocol fields are *inferred* or ``unknown``, which metrics record
            as unverified instead of refusing (:attr:`protocol`).

        Raises
        ------
        ValueError
            The file is missing, truncated or damaged (unreadable zip, bad
            CRC-32, sha256 mismatch), its arrays are inconsistent (shapes,
            NaN/Inf, negative n), or it lacks what is asked: e.g.
            ``output="spatial"`` from a file with only ``mu``/``sigma`` says
            it has no ``mu_s``/``sigma_s`` and how to compute them; an ADM
            batch of images alone says to compute its statistics from them.
            The message names the file and the fix. A damaged file is never
            used.
        """
        from genmetrics_nb.sources.stats_files import FORMATS, detect_format, read_stats_file
        from genmetrics_nb.util.checks import check_choice

        path = Path(path)
        if not path.is_file():
            raise ValueError(f"path={str(path)!r} is not a file")
        if format is not None:
            check_choice(format, name="format", choices=FORMATS)
        fmt = format or detect_format(path)
        if fmt != "genmetrics" and require_checksum:
            raise ValueError(
                f"statistics file {str(path)!r} is a {fmt} file, which has no sha256 member, but "
                "require_checksum=True; only files written by FeatureStats.save (format='genmetrics') "
                "carry one: load it with require_checksum=False"
            )
        if fmt != "genmetrics":
            data = read_stats_file(path, format=fmt, output=output, detected=format is None)
            if "features" in data:
                stats = cls.from_features(data["features"], meta=data["meta"])
                stats.meta["n"] = stats.n
                return stats
            return cls.from_moments(data["mu"], data["sigma"], n=data["n"], meta=data["meta"])
        stats = cls._load_native(path, require_checksum=require_checksum)
        have = stats.meta.get("output")
        if output is not None and have is not None and have != output:
            extra = ""
            if output == "spatial":
                extra = ("; it has no mu_s/sigma_s: sFID needs the spatial statistics; compute them with "
                         "gm.feature_stats(images, 'inception-v3-fid', output='spatial')")
            raise ValueError(
                f"statistics file {str(path)!r} holds statistics of output {have!r}, not output={output!r}"
                f"{extra}; load it without output= or use a file of that output"
            )
        return stats

    @classmethod
    def _load_native(cls, path: Path, *, require_checksum: bool) -> "FeatureStats":
        """Read a file written by :meth:`save` (format ``"genmetrics"``)."""
        from genmetrics_nb.features.cache import CorruptFileError, read_checked_npz

        fix = (
            "recompute it (gm.feature_stats(source, extractor).save(path), or "
            f"genmetrics-nb stats SOURCE --extractor NAME --out {str(path)!r}) or restore an intact copy"
        )
        try:
            data = read_checked_npz(path, require_checksum=require_checksum)
        except CorruptFileError as exc:
            raise ValueError(
                f"statistics file {str(path)!r} is not a readable .npz file (truncated or corrupt) "
                f"and was not used: {exc}; {fix}"
            ) from None
        keys = set(data)

        def bad(problem):
            return ValueError(f"statistics file {str(path)!r} is inconsistent and was not used: {problem}; {fix}")

        meta = {}
        if "meta" in keys:
            try:
                meta = json.loads(str(data["meta"]))
            except json.JSONDecodeError as exc:
                raise bad(f"its metadata is not JSON ({exc})") from None
        n = None
        if "n" in keys:
            n_arr = data["n"]
            if n_arr.shape != () or n_arr.dtype.kind not in "iu" or int(n_arr) < 0:
                raise bad(f"n = {n_arr!r} is not a count")
            n = int(n_arr)
        if {"n", "sum", "outer"} <= keys:
            total, outer = data["sum"], data["outer"]
            if total.ndim != 1 or outer.shape != (total.size, total.size) or total.size == 0:
                raise bad(f"sum has shape {total.shape} and outer {outer.shape}; expected D and D x D")
            if not (np.isfinite(total).all() and np.isfinite(outer).all()):
                raise bad("sum or outer holds NaN or Inf")
            shift = data.get("shift", np.zeros(total.shape))  # format /1 files: no shift
            if shift.shape != total.shape or not np.isfinite(shift).all():
                raise bad(f"shift has shape {shift.shape} or holds NaN/Inf; expected D finite values")
            stats = cls(int(total.shape[0]), meta=meta)
            stats.n = n
            stats.sum = total.astype(np.float64)
            stats.outer = outer.astype(np.float64)
            stats._set_shift(shift)
            return stats
        if {"mu", "sigma"} <= keys:
            mu, sigma = data["mu"], data["sigma"]
            if mu.ndim != 1 or sigma.shape != (mu.size, mu.size) or mu.size == 0:
                raise bad(f"mu has shape {mu.shape} and sigma {sigma.shape}; expected D and D x D")
            if mu.dtype.kind not in "fiu" or sigma.dtype.kind not in "fiu":
                raise bad(f"mu and sigma hold {mu.dtype} and {sigma.dtype}, not numbers")
            if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
                raise bad("mu or sigma holds NaN or Inf")
            return cls.from_moments(mu, sigma, n=n, meta=meta)
        raise ValueError(
            f"{str(path)!r} holds {sorted(keys)}; expected FeatureStats.save output "
            "(n, sum, outer) or reference statistics with 'mu' and 'sigma'"
        )
