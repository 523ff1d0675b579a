"""Class-conditional consistency: zero-shot CLIP accuracy of generated images against their class labels."""
from __future__ import annotations

import dataclasses
import hashlib
import numbers
from typing import ClassVar

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result
from genmetrics_nb.metrics.text.pairs import truncation_summary
from genmetrics_nb.util.checks import check_int

__all__ = ["ClassAccuracyResult", "clip_class_accuracy", "imagenet_metadata", "zero_shot_weights"]


def imagenet_metadata() -> dict:
    """The 1,000 ImageNet class names and 80 prompt templates that the open_clip wheel ships.

    Read from ``open_clip/zero_shot_metadata.py`` (``IMAGENET_CLASSNAMES``,
    ``OPENAI_IMAGENET_TEMPLATES``: OpenAI's CLIP notebook
    ``Prompt_Engineering_for_ImageNet.ipynb``). The templates are callables
    there; each is turned into a ``str.format`` pattern by calling it on
    ``"{}"``.

    Returns
    -------
    dict
        ``classnames`` (tuple of 1,000 str), ``templates`` (tuple of 80 str),
        ``source`` (file path), ``sha256`` (of that file) and
        ``open_clip_version``.
    """
    import open_clip
    from open_clip import zero_shot_metadata as meta

    with open(meta.__file__, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    return {
        "classnames": tuple(meta.IMAGENET_CLASSNAMES),
        "templates": tuple(t("{}") for t in meta.OPENAI_IMAGENET_TEMPLATES),
        "source": "open_clip/zero_shot_metadata.py (IMAGENET_CLASSNAMES, OPENAI_IMAGENET_TEMPLATES)",
        "sha256": digest,
        "open_clip_version": getattr(open_clip, "__version__", "unknown"),
    }


def zero_shot_weights(clip, classnames, templates, *, batch_size: int = 256, progress: bool = True):
    """The zero-shot classifier: per class the normalised mean of its normalised template embeddings.

    As open_clip's ``build_zero_shot_classifier``: every template filled with
    the class name, embedded by the text tower, each embedding L2-normalised,
    the mean over templates L2-normalised again.

    Returns
    -------
    weights : torch.Tensor
        ``D x C`` float64.
    report : TokenizerReport
        Of all ``C x T`` texts.
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.extractors.base import precision_context
    from genmetrics_nb.extractors.clip_tokenizer import get_tokenizer

    texts = [t.format(c) for c in classnames for t in templates]
    ids, report = get_tokenizer(None)(texts, context_length=clip.text.config.context_length, truncation="keep-end")
    dev = next(clip.text.parameters()).device
    chunks = []
    with torch.no_grad(), precision_context("fp32", dev):
        for s in tqdm(range(0, ids.shape[0], batch_size), desc="class prompts", disable=not progress, leave=False):
            chunks.append(clip.text(ids[s:s + batch_size].to(dev)).float().cpu())
    emb = torch.cat(chunks).to(torch.float64)
    emb = emb / emb.norm(dim=1, keepdim=True)
    emb = emb.reshape(len(classnames), len(templates), -1).mean(dim=1)
    emb = emb / emb.norm(dim=1, keepdim=True)
    return emb.T.contiguous(), report


@dataclasses.dataclass(frozen=True)
class ClassAccuracyResult(Result):
    """Zero-shot CLIP top-1 accuracy of images against the classes they were generated for.

    Attributes
    ----------
    value : float
        Top-1 accuracy (fraction of images whose most similar class prompt is their label).
    top5 : float
        Top-5 accuracy (NaN with fewer than 5 classes).
    n : int
    n_classes, n_templates : int
    correct : numpy.ndarray
        Per image: top-1 correct.
    predicted, labels : numpy.ndarray
        Predicted and given class indices.
    per_class : dict
        Class name -> top-1 accuracy over the images of that label.
    model, weights_sha256, model_format : str
    classnames_source : dict
        Where the class names and templates come from, with the file's sha256.
    tokenizer, truncation : dict
    """

    value: float
    top5: float
    n: int
    n_classes: int
    n_templates: int
    correct: np.ndarray = dataclasses.field(repr=False)
    predicted: np.ndarray = dataclasses.field(repr=False)
    labels: np.ndarray = dataclasses.field(repr=False)
    per_class: dict = dataclasses.field(repr=False)
    model: str
    weights_sha256: str
    model_format: str
    classnames_source: dict
    tokenizer: dict
    truncation: dict

    metric_name: ClassVar[str] = "CLIP class accuracy"
    display_fields: ClassVar[tuple[str, ...]] = ("top5", "n_classes")
    n_fields: ClassVar[tuple[str, ...]] = ("n",)
    dict_exclude: ClassVar[tuple[str, ...]] = ("correct", "predicted", "labels")

    def __str__(self) -> str:
        return (f"CLIP class accuracy = {self.value:.4g} (top-1; top-5 {self.top5:.4g}; n = {self.n}, "
                f"{self.n_classes} classes x {self.n_templates} templates)")


def _labels(labels, classnames) -> np.ndarray:
    if isinstance(labels, str):
        raise TypeError("labels must be a sequence, one class per image (index or class name), not a str")
    labels = list(labels)
    if not labels:
        raise ValueError("labels is empty; pass one class label per image")
    index = {c: i for i, c in enumerate(classnames)}
    out = []
    for i, lab in enumerate(labels):
        if isinstance(lab, str):
            if lab not in index:
                raise ValueError(f"labels[{i}] = {lab!r} is not one of classnames; pass a class name from the "
                                 "list or its index")
            out.append(index[lab])
        elif isinstance(lab, numbers.Integral) and not isinstance(lab, bool):
            if not 0 <= int(lab) < len(classnames):
                raise ValueError(f"labels[{i}] = {lab} is outside 0..{len(classnames) - 1}, the classnames' indices")
            out.append(int(lab))
        else:
            raise TypeError(f"labels[{i}] must be a class index or a class name, got {type(lab).__name__}")
    return np.asarray(out, dtype=np.int64)


def clip_class_accuracy(
    images,
    labels,
    *,
    model="ViT-B-32",
    classnames=None,
    templates=None,
    activation: str | None = None,
    weights_sha256: str | None = None,
    batch_size: int = 64,
    device="auto",
    value_range=None,
    cache=False,
    progress: bool = True,
) -> ClassAccuracyResult:
    """Zero-shot CLIP accuracy of class-conditional samples against their class labels.

    Each class gets a zero-shot classifier weight built as open_clip's
    ``build_zero_shot_classifier`` does (CLIP's ImageNet protocol, Radford et
    al. 2021): every template filled with the class name, embedded, each
    embedding normalised, averaged and normalised again. An image is
    assigned the class whose weight has the largest cosine with its
    normalised image embedding; the value is the fraction assigned their
    label.

    Parameters
    ----------
    images : source
        As in :func:`genmetrics_nb.clip_score`, or ``N x D`` image embeddings.
    labels : sequence of int or str
        One per image: an index into ``classnames`` or a class name.
    model : str or path-like
        As in :func:`genmetrics_nb.clip_score` (default OpenAI's ViT-B/32).
    classnames : sequence of str, optional
        Default: the 1,000 ImageNet class names of the open_clip wheel.
    templates : sequence of str, optional
        ``str.format`` patterns with one ``{}``; default the 80 templates of
        the open_clip wheel (OpenAI's).
    activation, weights_sha256
        As in :func:`genmetrics_nb.clip_score`.
    batch_size, device, value_range, cache, progress
        As in :func:`genmetrics_nb.clip_score`.

    Returns
    -------
    ClassAccuracyResult

    Raises
    ------
    ValueError
        Labels outside the classes, a label count that differs from the image count, templates without ``{}``.
    TypeError
        Labels that are neither indices nor names.

    References
    ----------
    .. [1] A. Radford et al., "Learning Transferable Visual Models From
       Natural Language Supervision", ICML 2021 (zero-shot ImageNet with 80
       prompt templates; openai/CLIP ``notebooks/Prompt_Engineering_for_ImageNet.ipynb``).
    .. [2] open_clip ``zero_shot_classifier.py`` ``build_zero_shot_classifier``
       and ``zero_shot_metadata.py``.
    """
    import torch

    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.clip_model import load_clip

    meta = imagenet_metadata() if classnames is None or templates is None else None
    source = {}
    if classnames is None:
        classnames = meta["classnames"]
        source["classnames"] = f"{meta['source']}, open_clip {meta['open_clip_version']}, sha256 {meta['sha256']}"
    else:
        classnames = tuple(classnames)
        source["classnames"] = "given"
    if templates is None:
        templates = meta["templates"]
        source["templates"] = f"{meta['source']}, open_clip {meta['open_clip_version']}, sha256 {meta['sha256']}"
    else:
        templates = tuple(templates)
        source["templates"] = "given"
    if not classnames or not all(isinstance(c, str) for c in classnames):
        raise TypeError("classnames must be a non-empty sequence of str")
    if not templates or not all(isinstance(t, str) and "{}" in t for t in templates):
        raise ValueError("templates must be a non-empty sequence of str, each with one '{}' for the class name")
    labels = _labels(labels, classnames)
    batch_size = check_int(batch_size, name="batch_size", minimum=1)

    dev = resolve(device)
    clip = load_clip(model, activation=activation, device=dev, weights_sha256=weights_sha256)
    feats, _ = inputs.features_of(
        images, name="images", metric="clip_class_accuracy", extractor=clip.image, output="embedding",
        batch_size=batch_size, device=dev, value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    img = torch.as_tensor(np.asarray(feats) if not torch.is_tensor(feats) else feats).to(torch.float64).cpu()
    if img.shape[0] != labels.shape[0]:
        raise ValueError(f"images holds {img.shape[0]} images but labels has {labels.shape[0]}; pass one label "
                         "per image, in the images' order")
    weights, report = zero_shot_weights(clip, classnames, templates, progress=progress)
    logits = (img / img.norm(dim=1, keepdim=True)) @ weights
    k = min(5, len(classnames))
    top = torch.topk(logits, k, dim=1).indices.numpy()
    predicted = top[:, 0]
    correct = predicted == labels
    top5 = float((top == labels[:, None]).any(axis=1).mean()) if len(classnames) >= 5 else float("nan")
    per_class = {classnames[c]: float(correct[labels == c].mean()) for c in np.unique(labels)}
    return ClassAccuracyResult(
        value=float(correct.mean()), top5=top5, n=int(labels.shape[0]), n_classes=len(classnames),
        n_templates=len(templates), correct=correct, predicted=predicted, labels=labels, per_class=per_class,
        model=clip.name, weights_sha256=clip.weights_sha256, model_format=clip.format,
        classnames_source=source, tokenizer=report.fingerprint(), truncation=truncation_summary(report),
    )
