"""The ADM evaluator suite: IS, FID, sFID, precision and recall of two ``.npz`` batches, as guided-diffusion.

:func:`adm` reproduces ``evaluations/evaluator.py`` of OpenAI's
guided-diffusion (Dhariwal and Nichol 2021), the evaluator behind the
ImageNet numbers of ADM, DiT, MaskGIT, VAR and most diffusion papers since,
on the PyTorch port of its TF Inception (``inception-v3-fid``, whose weights
are the same 2015-12-05 graph's), so that its five numbers compare with
published ones and with ADM's reference batches (``VIRTUAL_imagenet256_labeled.npz``).
"""
from __future__ import annotations

import dataclasses
import io
from typing import ClassVar

from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import check_int

__all__ = ["ADMResult", "EVALUATOR_URL", "adm"]

#: The reference implementation.
EVALUATOR_URL = "https://github.com/openai/guided-diffusion/blob/main/evaluations/evaluator.py"


@dataclasses.dataclass(frozen=True)
class ADMResult(Result):
    """The five numbers of the ADM evaluator, and how they were computed.

    ``value`` is ``fid`` (``float(result)`` too).

    Attributes
    ----------
    inception_score : float
        IS of the sample batch: softmax of pool3 times the logits weights
        without bias, splits of ``split_size`` (last one partial), float32.
    fid : float
        Frechet distance of pool3 statistics (sample against reference; a
        batch's stored ``mu``/``sigma`` when present).
    sfid : float
        The same on the ``spatial`` features (``mixed_6/conv``, 7 x 17 x 17,
        NHWC; stored ``mu_s``/``sigma_s`` when present).
    precision, recall : float
        The evaluator's k = 3 manifold estimator on the pool3 features of
        both batches' images (:func:`~genmetrics_nb.suites.adm.manifold.manifold_precision_recall`).
    n_reference, n_sample : int
        Images in each batch's ``arr_0``.
    protocol : dict
        Network, weights digest, preprocessing, where each side's statistics
        came from, the IS splits and the precision/recall settings.
    """

    inception_score: float
    fid: float
    sfid: float
    precision: float
    recall: float
    n_reference: int
    n_sample: int
    protocol: dict

    metric_name: ClassVar[str] = "ADM evaluator"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("inception_score", "fid", "sfid", "precision", "recall")
    value_field: ClassVar[str] = "fid"
    display_fields: ClassVar[tuple[str, ...]] = ("inception_score", "sfid", "precision", "recall")
    n_fields: ClassVar[tuple[str, ...]] = ("n_reference", "n_sample")

    @property
    def value(self) -> float:
        """The headline number: ``fid``."""
        return self.fid

    def evaluator_output(self) -> str:
        """The five result lines exactly as ``evaluator.py`` prints them (``print("FID:", value)``)."""
        buf = io.StringIO()
        print("Inception Score:", self.inception_score, file=buf)
        print("FID:", self.fid, file=buf)
        print("sFID:", self.sfid, file=buf)
        print("Precision:", self.precision, file=buf)
        print("Recall:", self.recall, file=buf)
        return buf.getvalue()

    def __str__(self) -> str:
        return (f"IS = {self.inception_score:.4f}, FID = {self.fid:.4f}, sFID = {self.sfid:.4f}, "
                f"precision = {self.precision:.4f}, recall = {self.recall:.4f} "
                f"(ADM evaluator; n = {self.n_reference} reference / {self.n_sample} sample)")


def _side_protocol(batch, feats, stored: bool) -> dict:
    how = ("stored in the .npz (mu, sigma, mu_s, sigma_s)" if stored
           else f"computed from arr_0 ({len(batch)} images; float64 mean and n - 1 covariance)")
    return {"path": batch.path, "images": len(batch), "image_shape": list(batch.images.shape[1:]),
            "statistics": how, "outputs": list(feats)}


def adm(
    reference_batch,
    sample_batch,
    *,
    split_size: int = 5000,
    k: int = 3,
    arithmetic: str = "float16",
    row_batch_size: int = 10000,
    col_batch_size: int = 10000,
    use_stored_statistics: bool = True,
    weights=None,
    batch_size: int = 64,
    device="auto",
    cache=False,
    progress: bool = True,
) -> ADMResult:
    """Inception Score, FID, sFID, precision and recall exactly as the ADM (guided-diffusion) evaluator.

    Parameters
    ----------
    reference_batch : path-like
        The reference ``.npz`` (e.g. ``VIRTUAL_imagenet256_labeled.npz``):
        ``arr_0`` images (``N x H x W x 3`` ``uint8``) and, usually, the
        reference set's stored ``mu``, ``sigma``, ``mu_s``, ``sigma_s``.
    sample_batch : path-like
        The generated ``.npz`` (``arr_0``; 50,000 images in published numbers).
    split_size : int
        Rows per Inception Score split (5,000, the evaluator's; the last
        split keeps the remainder).
    k : int
        Precision/recall neighbourhood (3, the evaluator's ``nhood_sizes``).
    arithmetic : {"float16", "float32"}
        Precision/recall distances: the evaluator's float16 (default) or
        float32 (see :mod:`genmetrics_nb.suites.adm.manifold`).
    row_batch_size, col_batch_size : int
        The evaluator's precision/recall blocks (10,000), where its float32
        fallback is decided.
    use_stored_statistics : bool
        Reuse ``mu``/``sigma``/``mu_s``/``sigma_s`` stored in a batch, as the
        evaluator does (default); False computes them from ``arr_0``.
    weights : path-like, optional
        The TF FID Inception's weights in pytorch-fid's format (default:
        ``pt_inception-2015-12-05`` from the weight manager).
    batch_size : int
        Images per forward pass (the numbers do not depend on it).
    device : str or torch.device
    cache : bool or path-like
        Feature cache (see :func:`genmetrics_nb.extract_features`).
    progress : bool

    Returns
    -------
    ADMResult
        ``.inception_score``, ``.fid``, ``.sfid``, ``.precision``,
        ``.recall`` and ``.protocol``; ``.evaluator_output()`` prints them as
        the evaluator does.

    Raises
    ------
    ValueError, TypeError
        A batch that is not an ``.npz`` with ``arr_0``; partial statistics;
        statistics of the wrong size; ``k`` not below a batch's size; bad options.

    Notes
    -----
    What the evaluator does, and this with it:

    * features: pool3 (2048) and ``mixed_6/conv[..., :7]`` (2023, NHWC) of
      the TF FID Inception on the ``uint8`` images resized to 299 x 299 by
      TF1 bilinear resize (``inception-v3-fid``, outputs ``pool`` and
      ``spatial``);
    * statistics: a batch's stored ``mu``, ``sigma``, ``mu_s``, ``sigma_s``
      if it has ``mu`` (reference batches hold statistics of the whole
      reference set; their ``arr_0`` is a 10,000-image subset used for
      precision/recall only), else the mean and unbiased covariance of its
      features, here in float64;
    * FID and sFID: ``frechet_distance(sample, reference)``
      (:func:`genmetrics_nb.frechet_distance`; equal to the evaluator's
      ``scipy.linalg.sqrtm`` form to round-off);
    * Inception Score of the sample batch
      (:mod:`genmetrics_nb.suites.adm.split_inception_score`);
    * precision and recall:
      :func:`~genmetrics_nb.suites.adm.manifold.manifold_precision_recall`
      on the pool3 features of both ``arr_0``.

    The published check: ADM-G + ADM-U on ImageNet 256
    (``admnet_guided_upsampled_imagenet256.npz``) against
    ``VIRTUAL_imagenet256_labeled.npz`` gives, with the evaluator, IS
    215.8370, FID 3.942557, sFID 6.140434, precision 0.8265, recall 0.5309
    (guided-diffusion ``evaluations/README.md``).

    References
    ----------
    .. [1] P. Dhariwal and A. Nichol, "Diffusion Models Beat GANs on Image
       Synthesis", NeurIPS 2021; evaluator:
       https://github.com/openai/guided-diffusion/blob/main/evaluations/evaluator.py
    .. [2] C. Nash, J. Menick, S. Dieleman and P. W. Battaglia, "Generating
       Images with Sparse Representations", ICML 2021 (sFID).
    .. [3] M. Heusel et al., NeurIPS 2017 (FID); T. Salimans et al., NeurIPS
       2016 (IS); T. Kynkaanniemi et al., NeurIPS 2019 (precision/recall).
    """
    from genmetrics_nb.features import FeatureStats, extract_features
    from genmetrics_nb.metrics.distribution.frechet import frechet_distance
    from genmetrics_nb.suites.adm.manifold import ARITHMETICS, manifold_precision_recall
    from genmetrics_nb.suites.adm.batches import open_batch
    from genmetrics_nb.suites.adm.split_inception_score import evaluator_inception_score, float32_softmax, split_bounds
    from genmetrics_nb.util.checks import check_choice

    split_size = check_int(split_size, name="split_size", minimum=1)
    k = check_int(k, name="k", minimum=1)
    check_choice(arithmetic, name="arithmetic", choices=ARITHMETICS)
    row_batch_size = check_int(row_batch_size, name="row_batch_size", minimum=1)
    col_batch_size = check_int(col_batch_size, name="col_batch_size", minimum=1)
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if not isinstance(use_stored_statistics, bool):
        raise TypeError(f"use_stored_statistics must be True or False, got {use_stored_statistics!r}")
    ref = open_batch(reference_batch, name="reference_batch", use_stored_statistics=use_stored_statistics)
    smp = open_batch(sample_batch, name="sample_batch", use_stored_statistics=use_stored_statistics)
    for name, b in (("reference_batch", ref), ("sample_batch", smp)):
        if len(b) <= k:
            raise ValueError(
                f"{name}={b.path!r} has {len(b)} images; precision/recall with k={k} needs more than k "
                "(the evaluator's radius is entry k of each sorted row of distances)"
            )

    extractor = "inception-v3-fid"
    common = dict(batch_size=batch_size, device=device, cache=cache, progress=progress, weights=weights)
    ref_out = ("pool",) + (() if ref.has_statistics else ("spatial",))
    smp_out = ("pool", "logits_unbiased") + (() if smp.has_statistics else ("spatial",))
    f_ref = extract_features(ref.images, extractor, outputs=ref_out, **common)
    f_smp = extract_features(smp.images, extractor, outputs=smp_out, **common)

    # Inception Score: softmax(pool3 @ W), no bias; evaluator splits
    probs = float32_softmax(f_smp["logits_unbiased"])
    is_value, is_scores = evaluator_inception_score(probs, split_size=split_size)

    # FID and sFID: sample against reference, as evaluator.frechet_distance(sample, ref)
    def stats(feats, output, stored):
        return stored if stored is not None else FeatureStats.from_features(feats[output])

    s_ref, s_smp = stats(f_ref, "pool", ref.pool_stats), stats(f_smp, "pool", smp.pool_stats)
    sp_ref, sp_smp = stats(f_ref, "spatial", ref.spatial_stats), stats(f_smp, "spatial", smp.spatial_stats)
    fid = frechet_distance(s_smp, s_ref, device=device)
    sfid = frechet_distance(sp_smp, sp_ref, device=device)

    # precision / recall: reference rows, sample columns
    pr = manifold_precision_recall(f_ref["pool"], f_smp["pool"], k=k, arithmetic=arithmetic,
                                   row_batch_size=row_batch_size, col_batch_size=col_batch_size,
                                   device=device, progress=progress)

    meta = f_smp.meta
    bounds = split_bounds(len(smp), split_size)
    protocol = {
        "reference_implementation": EVALUATOR_URL,
        "extractor": meta.get("extractor"),
        "weights_digest": meta.get("weights_digest"),
        "preprocessing": meta.get("spec"),
        "precision_mode": meta.get("precision"),
        "reference_batch": _side_protocol(ref, ref_out, ref.has_statistics),
        "sample_batch": _side_protocol(smp, smp_out, smp.has_statistics),
        "inception_score": {
            "logits": "pool3 @ softmax/logits weights, no bias (1008 classes); float32 softmax",
            "split_size": split_size,
            "splits": len(bounds),
            "last_split_size": bounds[-1][1] - bounds[-1][0],
            "scores": list(is_scores),
            "arithmetic": "float32 (numpy, the evaluator's order of operations)",
        },
        "fid": {"features": "pool (2048, pool_3:0)", "order": "frechet_distance(sample, reference)",
                "mean_term": fid.mean_term, "trace_term": fid.trace_term},
        "sfid": {"features": "spatial (2023: mixed_6/conv:0[..., :7], NHWC flatten)",
                 "mean_term": sfid.mean_term, "trace_term": sfid.trace_term},
        "precision_recall": {
            "features": "pool of both batches' arr_0",
            "k": k,
            "arithmetic": arithmetic,
            "row_batch_size": row_batch_size,
            "col_batch_size": col_batch_size,
            "fallback_blocks": pr.fallback_blocks,
            "comparison": "squared distance <= squared radius (radius: entry k of the sorted row, self included)",
        },
    }
    return ADMResult(
        inception_score=is_value,
        fid=float(fid.value),
        sfid=float(sfid.value),
        precision=pr.precision,
        recall=pr.recall,
        n_reference=len(ref),
        n_sample=len(smp),
        protocol=protocol,
    )
