"""CLIPScore: image-text agreement under a CLIP, with the convention named."""
from __future__ import annotations

import dataclasses
import numbers
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.text.pairs import IntervalResult, check_prompts, mean_interval, pair_cosines, truncation_summary
from genmetrics_nb.util.checks import check_choice, check_int, check_probability

__all__ = ["CONVENTIONS", "ClipScoreResult", "Convention", "clip_score", "score_from_cosines"]


@dataclasses.dataclass(frozen=True)
class Convention:
    """One published definition of "CLIPScore".

    Attributes
    ----------
    name : str
    scale : float
        Factor on the cosine (Hessel's w = 2.5; 100; 1).
    clip : {"per-sample", "mean", "none"}
        Where ``max(., 0)`` applies: each sample's score (Hessel), the mean
        (torchmetrics), or nowhere.
    prefix : str
        Text put before every prompt.
    model : str
        Default model of the convention (a manifest name).
    crop : {"round", "floor"}
        Centre-crop offsets of its image preprocessing.
    source : str
        Where the definition comes from.
    """

    name: str
    scale: float
    clip: str
    prefix: str
    model: str
    crop: str
    source: str


#: The conventions ``convention=`` names.
CONVENTIONS = {
    "hessel2021": Convention(
        "hessel2021", 2.5, "per-sample", "A photo depicts ", "ViT-B-32", "round",
        "Hessel et al. 2021, jmhessel/clipscore clipscore.py get_clip_score (w = 2.5, np.clip per sample) and "
        "CLIPCapDataset (prefix 'A photo depicts ')"),
    "torchmetrics": Convention(
        "torchmetrics", 100.0, "mean", "", "ViT-L-14", "floor",
        "torchmetrics functional clip_score: 100 * cos per sample, max(mean, 0); no prefix; default HF "
        "openai/clip-vit-large-patch14 (the weights of OpenAI's ViT-L/14)"),
    "cosine": Convention(
        "cosine", 1.0, "none", "", "ViT-B-32", "round",
        "raw cosine, no clip (T2I-CompBench CLIPScore_eval/CLIP_similarity.py, OpenAI ViT-B/32)"),
    "x100": Convention(
        "x100", 100.0, "none", "", "ViT-B-32", "round",
        "100 * cos, no clip (HPSv2 evaluation.py benchmark style)"),
}


def score_from_cosines(cos, convention: str = "hessel2021"):
    """Per-sample scores and the headline value from cosines, under ``convention``.

    Parameters
    ----------
    cos : array_like, N
        Cosine similarities of image and prompt embeddings.
    convention : str
        A key of :data:`CONVENTIONS`.

    Returns
    -------
    per_sample : numpy.ndarray
        ``scale * max(cos, 0)`` for ``"per-sample"`` clipping, ``scale * cos`` otherwise.
    value : float
        Their mean; for ``"mean"`` clipping (torchmetrics) ``max(mean, 0)``.

    Examples
    --------
    >>> score_from_cosines([0.3, -0.1], "hessel2021")[1]  # 2.5 * mean(0.3, 0)
    0.375
    >>> round(score_from_cosines([0.3, -0.1], "torchmetrics")[1], 6)  # max(100 * mean(0.3, -0.1), 0)
    10.0
    """
    conv = CONVENTIONS[check_choice(convention, name="convention", choices=tuple(CONVENTIONS))]
    cos = np.asarray(cos, dtype=np.float64)
    per = conv.scale * (np.maximum(cos, 0.0) if conv.clip == "per-sample" else cos)
    value = float(per.mean()) if per.size else float("nan")
    if conv.clip == "mean":
        value = max(value, 0.0)
    return per, value


@dataclasses.dataclass(frozen=True)
class ClipScoreResult(IntervalResult):
    """CLIPScore with its convention, model, tokenizer and truncation report.

    Attributes
    ----------
    value : float
        The score under ``convention`` (see :func:`clip_score`).
    convention : str
        A key of :data:`CONVENTIONS`; ``scale``, ``clip`` and ``prefix`` spell it out.
    scale : float
    clip : str
    prefix : str
    per_sample : numpy.ndarray
        Each image-prompt pair's score (``scale * max(cos, 0)`` for
        ``hessel2021``, ``scale * cos`` otherwise); ``cosine`` holds the cosines.
    cosine : numpy.ndarray
    interval : Interval or None
        Percentile bootstrap interval of ``value`` over resampled pairs.
    n : int
    model : str
        The manifest name or the path of the checkpoint.
    weights_sha256 : str
    model_format : str
        ``"openai"``, ``"open_clip"`` or ``"hf"``.
    tokenizer : dict
        The tokenizer's fingerprint: vocabulary sha256, normalisation,
        context length, truncation rule.
    truncation : dict
        The :class:`~genmetrics_nb.extractors.clip_tokenizer.TokenizerReport`
        (how many prompts were cut and which), with ``max_tokens`` instead
        of every prompt's token count.
    preprocessing : dict or None
        The image extractor's spec (None for given embeddings).
    """

    value: float
    convention: str
    scale: float
    clip: str
    prefix: str
    per_sample: np.ndarray = dataclasses.field(repr=False)
    cosine: np.ndarray = dataclasses.field(repr=False)
    interval: object
    n: int
    model: str
    weights_sha256: str
    model_format: str
    tokenizer: dict
    truncation: dict
    preprocessing: dict | None

    metric_name: ClassVar[str] = "CLIPScore"
    bootstrap_fields: ClassVar[tuple[str, ...]] = ("value",)
    display_fields: ClassVar[tuple[str, ...]] = ("ci_low", "ci_high", "convention", "model")
    n_fields: ClassVar[tuple[str, ...]] = ("n",)
    dict_exclude: ClassVar[tuple[str, ...]] = ("per_sample", "cosine")

    def __str__(self) -> str:
        ci = "" if self.interval is None else f" [{self.interval.low:.4g}, {self.interval.high:.4g}]"
        cut = self.truncation.get("n_truncated", 0)
        return (f"CLIPScore = {self.value:.6g}{ci} ({self.convention}: {self.scale:g} x cos, clip {self.clip}, "
                f"prefix {self.prefix!r}; {self.model}; n = {self.n}; {cut} prompts truncated)")


def clip_score(
    images,
    prompts,
    *,
    model=None,
    convention: str = "hessel2021",
    prefix: str | None = None,
    truncation: str = "keep-end",
    normalisation: str = "openai",
    activation: str | None = None,
    crop: str | None = None,
    weights_sha256: str | None = None,
    vocab=None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    batch_size: int = 64,
    device="auto",
    value_range=None,
    cache=False,
    progress: bool = True,
) -> ClipScoreResult:
    """CLIPScore of images against their prompts, under a named convention.

    Each image and its prompt are embedded by the same CLIP; the cosine of
    the two L2-normalised embeddings is turned into a score by the
    convention:

    ``"hessel2021"`` (default)
        Hessel et al. (2021): ``w * mean_i max(cos_i, 0)`` with ``w = 2.5``,
        every prompt prefixed ``"A photo depicts "``, OpenAI's ViT-B/32.
    ``"torchmetrics"``
        torchmetrics' ``CLIPScore``: ``max(100 * mean_i cos_i, 0)`` -- the
        clip applies to the *mean*, so negative cosines lower it --, no
        prefix, ViT-L/14 (torchmetrics' default ``openai/clip-vit-large-patch14``
        holds the same weights as OpenAI's ``ViT-L-14.pt``), centre crop with
        transformers' floor offsets.
    ``"cosine"``
        the mean raw cosine (T2I-CompBench), ViT-B/32.
    ``"x100"``
        ``100 * cos`` unclipped (HPSv2's benchmark style), ViT-B/32.

    Parameters
    ----------
    images : source
        Images in any form the other metrics take (a folder -- read in sorted
        file order --, files, an archive, a ``uint8`` ``N x C x H x W`` array,
        floats with ``value_range``, a generator source), or ``N x D`` image
        embeddings (taken as they are, normalised here).
    prompts : sequence of str
        One prompt per image, in the images' order.
    model : str or path-like, optional
        ``"ViT-B-32"``, ``"ViT-B-16"``, ``"ViT-L-14"``, ``"ViT-L-14-336px"``
        (OpenAI's files through the weight manager), or a checkpoint file or
        folder in OpenAI's, open_clip's or transformers' format. Default: the
        convention's model.
    convention : {"hessel2021", "torchmetrics", "cosine", "x100"}
    prefix : str, optional
        Override the convention's prompt prefix (``""`` for none).
    truncation : {"keep-end", "torchmetrics", "error"}
        What happens to prompts over 77 tokens. ``"keep-end"`` (default): the
        first 76 tokens and the end token, as OpenAI's ``clip.tokenize(truncate=True)``
        (Hessel's code) and open_clip. ``"torchmetrics"``: the first 77 ids,
        so the end token is **dropped**, as torchmetrics does
        (Lightning-AI/torchmetrics#2883); CLIP then pools at the start token
        (49406, the largest id left, and the first end token is absent too),
        whose output under the causal mask is the same for every prompt, so
        the score of those prompts no longer depends on their text. Offered only to reproduce
        torchmetrics' numbers; it is not implied by ``convention="torchmetrics"``.
        ``"error"``: refuse such prompts.
    normalisation : {"openai", "hf"}
        Prompt normalisation before BPE. ``"openai"`` (default, every
        convention): ftfy, HTML unescaping twice, whitespace, lower case, as
        OpenAI's and open_clip's tokenizers. ``"hf"``: NFC, whitespace, lower
        case, as transformers' fast ``CLIPTokenizer`` (what torchmetrics and
        PickScore use); curly quotes, ligatures, full-width letters and HTML
        entities then tokenise differently. Offered to reproduce those numbers.
    activation : {"quickgelu", "gelu"}, optional
        For open_clip state dicts, whose files do not say.
    crop : {"round", "floor"}, optional
        Override the convention's centre-crop offsets.
    weights_sha256 : str, optional
        Refuse a checkpoint file with another sha256.
    vocab : path-like, optional
        The BPE vocabulary (default: open_clip's copy, sha256-checked).
    n_boot : int
        Bootstrap resamples of the image-prompt pairs (0: no interval).
    ci : float
        Interval coverage.
    seed : int
        Seed of the bootstrap's generator.
    batch_size : int
        Images (and prompts) per forward pass.
    device : str or torch.device
    value_range : tuple, optional
        Declared range of float image arrays.
    cache : bool or path-like
        Feature cache for the image embeddings (off by default).
    progress : bool
        Progress bars.

    Returns
    -------
    ClipScoreResult
        ``value`` with the convention, per-sample scores and cosines, the
        bootstrap interval, model name, weights sha256 and format, the
        tokenizer's fingerprint and the truncation report.

    Raises
    ------
    ValueError
        Unknown convention/truncation/crop, a prompt count that differs from
        the image count, an unknown model, a sha256 mismatch.
    TypeError
        Prompts that are not a sequence of strings.

    Notes
    -----
    Protocol details that change the number, all recorded in the result:

    - **Tokenizer**: OpenAI's BPE with ftfy and double HTML unescaping, for
      every convention. torchmetrics tokenises with transformers'
      ``CLIPTokenizer``, which has neither: prompts with curly quotes,
      ligatures, full-width letters or HTML entities give other ids there
      (``tests/metrics/text/test_clip_score.py`` shows the score changes);
      ``normalisation="hf"`` reproduces it.
    - **Image preprocessing**: Pillow bicubic on 8-bit images, as OpenAI's
      ``clip.load`` transform and transformers' PIL ``CLIPImageProcessor``; a
      tensor resize (HPSv2's ToTensor-first path, or the torchvision
      ``CLIPImageProcessor`` that transformers 5's ``CLIPProcessor.from_pretrained``
      returns, hence what torchmetrics uses there) gives other numbers.
    - **Pooling**: at the end token (OpenAI's ``argmax`` of the ids).
    - **Precision**: ``float32`` with TF32 off. Hessel et al.'s published
      numbers were computed in ``float16`` on a GPU (their README: 0.8584 on
      GPU, 0.8585 on CPU for the example captions).

    References
    ----------
    .. [1] J. Hessel, A. Holtzman, M. Forbes, R. Le Bras and Y. Choi,
       "CLIPScore: A Reference-free Evaluation Metric for Image Captioning",
       EMNLP 2021. https://github.com/jmhessel/clipscore (``clipscore.py``).
    .. [2] torchmetrics ``functional/multimodal/clip_score.py``;
       Lightning-AI/torchmetrics#2883 (truncation drops the end token).
    .. [3] A. Radford et al., "Learning Transferable Visual Models From
       Natural Language Supervision", ICML 2021.

    Examples
    --------
    A convention turns cosines into a score (:func:`score_from_cosines`):

    >>> from genmetrics_nb.metrics.text.clip_score import score_from_cosines
    >>> score_from_cosines([0.31, 0.25], "hessel2021")[1]
    0.7
    """
    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.clip_model import CROPS, load_clip
    from genmetrics_nb.extractors.clip_tokenizer import NORMALISATIONS, TRUNCATIONS

    conv = CONVENTIONS[check_choice(convention, name="convention", choices=tuple(CONVENTIONS))]
    truncation = check_choice(truncation, name="truncation", choices=tuple(TRUNCATIONS))
    normalisation = check_choice(normalisation, name="normalisation", choices=tuple(NORMALISATIONS))
    crop = conv.crop if crop is None else check_choice(crop, name="crop", choices=tuple(CROPS))
    if prefix is None:
        prefix = conv.prefix
    elif not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str ('' for none), got {type(prefix).__name__}")
    n_boot = check_int(n_boot, name="n_boot", minimum=0)
    ci = check_probability(ci, name="ci")
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {seed!r}")
    prompts = check_prompts(prompts)

    dev = resolve(device)
    clip = load_clip(conv.model if model is None else model, activation=activation, crop=crop, device=dev,
                     weights_sha256=weights_sha256)
    cos, report, prov = pair_cosines(
        images, prompts, clip=clip, metric="clip_score", prefix=prefix, truncation=truncation,
        normalisation=normalisation, vocab=vocab, batch_size=batch_size, device=dev, value_range=value_range,
        cache=cache, progress=progress,
    )  # fmt: skip
    per, value = score_from_cosines(cos, conv.name)
    interval = None
    if n_boot > 0:
        interval = mean_interval(per, clip_mean=conv.clip == "mean", n_boot=n_boot, ci=ci, seed=seed)
    return ClipScoreResult(
        value=value, convention=conv.name, scale=conv.scale, clip=conv.clip, prefix=prefix,
        per_sample=per, cosine=cos, interval=interval, n=len(prompts), model=clip.name,
        weights_sha256=clip.weights_sha256, model_format=clip.format,
        tokenizer=report.fingerprint(), truncation=truncation_summary(report),
        preprocessing=prov.get("spec") if prov.get("spec") is not None else None,
    )

