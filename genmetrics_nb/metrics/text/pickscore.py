"""PickScore: a CLIP-H/14 fine-tuned on human preferences (Pick-a-Pic), read from the user's file."""
from __future__ import annotations

import dataclasses
import numbers
import warnings
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.text.pairs import IntervalResult, check_prompts, mean_interval, pair_cosines, truncation_summary
from genmetrics_nb.util.checks import check_int, check_probability

__all__ = ["PICKSCORE_VERSIONS", "PickScoreResult", "pickscore", "prompt_groups", "softmax_within"]

#: Versions known, with the sha256 of their weights file when it is pinned. PickScore_v1's
#: ``model.safetensors`` (HF ``yuvalkirstain/PickScore_v1``) has no digest recorded here yet:
#: files are then accepted with a warning, or checked against ``expected_sha256=``.
PICKSCORE_VERSIONS = {"PickScore_v1": None}

_SAME_PROMPT = ("PickScore compares images of the same prompt: a higher score means preferred over another "
                "image for that prompt; means over different prompt sets are not comparable")


def prompt_groups(prompts) -> np.ndarray:
    """Index of each prompt's group: equal strings share a group, numbered by first appearance."""
    seen: dict = {}
    return np.array([seen.setdefault(p, len(seen)) for p in prompts], dtype=np.int64)


def softmax_within(scores, groups) -> np.ndarray:
    """Softmax of ``scores`` over the entries of each group (PickScore's ``calc_probs`` per prompt)."""
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups)
    out = np.empty_like(scores)
    for g in np.unique(groups):
        m = groups == g
        z = scores[m] - scores[m].max()
        e = np.exp(z)
        out[m] = e / e.sum()
    return out


@dataclasses.dataclass(frozen=True)
class PickScoreResult(IntervalResult):
    """PickScore with its version, model file, tokenizer and per-prompt probabilities.

    Attributes
    ----------
    value : float
        Mean score over the images.
    per_sample : numpy.ndarray
        Each image's score ``exp(logit_scale) * cos(image, prompt)``.
    probabilities : numpy.ndarray
        Softmax of the scores among the images of the same prompt (1.0 for a
        prompt with one image): the reference's ``calc_probs``.
    groups : numpy.ndarray
        Each image's prompt group.
    n, n_prompts : int
    logit_scale : float
        ``exp(logit_scale)`` read from the file.
    version : str
    model, weights_sha256, model_format : str
    sha256_verified : bool
        Whether the file's sha256 was checked against a pinned or given digest.
    tokenizer, truncation, preprocessing : dict
    interval : Interval or None
        Percentile bootstrap interval of the mean score.
    note : str
        Scores compare images of the same prompt only.
    """

    value: float
    per_sample: np.ndarray = dataclasses.field(repr=False)
    probabilities: np.ndarray = dataclasses.field(repr=False)
    groups: np.ndarray = dataclasses.field(repr=False)
    n: int
    n_prompts: int
    logit_scale: float
    version: str
    model: str
    weights_sha256: str
    model_format: str
    sha256_verified: bool
    tokenizer: dict
    truncation: dict
    preprocessing: dict | None
    interval: object
    note: str = _SAME_PROMPT

    metric_name: ClassVar[str] = "PickScore"
    display_fields: ClassVar[tuple[str, ...]] = ("ci_low", "ci_high", "version")
    n_fields: ClassVar[tuple[str, ...]] = ("n", "n_prompts")
    dict_exclude: ClassVar[tuple[str, ...]] = ("per_sample", "probabilities", "groups")

    def __str__(self) -> str:
        return (f"PickScore = {self.value:.6g} ({self.version}, x{self.logit_scale:.4g} cos; n = {self.n} images, "
                f"{self.n_prompts} prompts; compare images of the same prompt only)")


def pickscore(
    images,
    prompts,
    *,
    model,
    version: str = "PickScore_v1",
    expected_sha256: str | None = None,
    groups=None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    batch_size: int = 64,
    device="auto",
    value_range=None,
    cache=False,
    progress: bool = True,
) -> PickScoreResult:
    """PickScore (Kirstain et al. 2023) of images against their prompts.

    ``score = exp(logit_scale) * cos(image, prompt)`` with PickScore's CLIP-H/14
    and the ``logit_scale`` stored in its file; probabilities are the softmax
    of the scores among the images of one prompt, as the reference's
    ``calc_probs``. The scores rank images *of the same prompt*.

    Parameters
    ----------
    images : source
        As in :func:`genmetrics_nb.clip_score` (a folder is read in sorted file order).
    prompts : sequence of str
        One per image; images with equal prompts form one group.
    model : path-like
        PickScore's checkpoint: the transformers ``CLIPModel`` folder of
        ``yuvalkirstain/PickScore_v1`` (``config.json`` + ``model.safetensors``).
    version : {"PickScore_v1"}
        Recorded in the result; picks the pinned digest.
    expected_sha256 : str, optional
        Refuse a weights file with another sha256. Without it, a version
        whose digest is pinned (:data:`PICKSCORE_VERSIONS`) is checked against
        that; PickScore_v1's is not pinned yet, so its file is used with a
        warning.
    groups : sequence of hashable, optional
        Group of each image for the probabilities (default: the prompt text).
    n_boot, ci, seed
        Bootstrap interval of the mean score (``n_boot=0``: none).
    batch_size, device, value_range, cache, progress
        As in :func:`genmetrics_nb.clip_score`.

    Returns
    -------
    PickScoreResult

    Raises
    ------
    ValueError
        Unknown version, a sha256 mismatch, mismatched counts.

    Warns
    -----
    UserWarning
        When the file's sha256 could not be checked.

    Notes
    -----
    The reference's protocol, reproduced here and recorded:

    - **Tokenizer**: transformers' fast ``CLIPTokenizer`` of
      ``laion/CLIP-ViT-H-14-laion2B-s32B-b79K`` (NFC, whitespace, lower case;
      no ftfy: :func:`genmetrics_nb.clip_tokenize` with ``normalisation="hf"``),
      ``truncation=True, max_length=77`` (the end token is kept).
    - **Images**: that repository's ``CLIPImageProcessor``: Pillow bicubic
      of the short side to 224, centre crop with floor offsets, CLIP mean/std.
      transformers 5's ``from_pretrained`` builds the torchvision (tensor
      resize) processor instead, which gives slightly other numbers.
    - **Network**: CLIP ViT-H/14 (GELU, 80-wide image heads, from ``config.json``),
      text pooled at the end token; ``float32``.

    References
    ----------
    .. [1] Y. Kirstain, A. Polyak, U. Singer, S. Matiana, J. Penna and O. Levy,
       "Pick-a-Pic: An Open Dataset of User Preferences for Text-to-Image
       Generation", NeurIPS 2023. https://github.com/yuvalkirstain/PickScore
       (README ``calc_probs``).
    """
    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.clip_model import load_clip

    if version not in PICKSCORE_VERSIONS:
        raise ValueError(f"version must be one of {tuple(PICKSCORE_VERSIONS)}, got {version!r}")
    n_boot = check_int(n_boot, name="n_boot", minimum=0)
    ci = check_probability(ci, name="ci")
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {seed!r}")
    prompts = check_prompts(prompts)
    if groups is None:
        group_ids = prompt_groups(prompts)
    else:
        groups = list(groups)
        if len(groups) != len(prompts):
            raise ValueError(f"groups has {len(groups)} entries but prompts has {len(prompts)}; give one per image")
        group_ids = prompt_groups(groups)
    pinned = expected_sha256 or PICKSCORE_VERSIONS[version]
    dev = resolve(device)
    clip = load_clip(model, crop="floor", device=dev, weights_sha256=pinned)
    if pinned is None:
        warnings.warn(
            f"the sha256 of {clip.name!r} ({clip.weights_sha256}) is not checked: no digest of {version} is "
            "pinned here; pass expected_sha256= the published file's digest to refuse other files",
            UserWarning, stacklevel=2,
        )
    cos, report, prov = pair_cosines(
        images, prompts, clip=clip, metric="pickscore", truncation="keep-end", normalisation="hf",
        batch_size=batch_size, device=dev, value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    scores = clip.logit_scale * cos
    interval = None
    if n_boot > 0:
        interval = mean_interval(scores, n_boot=n_boot, ci=ci, seed=seed, name="PickScore")
    return PickScoreResult(
        value=float(scores.mean()), per_sample=scores, probabilities=softmax_within(scores, group_ids),
        groups=group_ids, n=len(prompts), n_prompts=int(group_ids.max()) + 1, logit_scale=clip.logit_scale,
        version=version, model=clip.name, weights_sha256=clip.weights_sha256, model_format=clip.format,
        sha256_verified=pinned is not None, tokenizer=report.fingerprint(), truncation=truncation_summary(report),
        preprocessing=prov.get("spec"), interval=interval,
    )
