"""HPSv2 / HPSv2.1: Human Preference Score, an open_clip ViT-H/14 fine-tuned on HPD v2, from the user's file."""
from __future__ import annotations

import dataclasses
import numbers
import warnings
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.text.pairs import IntervalResult, check_prompts, mean_interval, pair_cosines, truncation_summary
from genmetrics_nb.util.checks import check_int, check_probability

__all__ = ["HPS_VERSIONS", "HPSResult", "VIT_H14_HEAD_WIDTHS", "hpsv2"]

#: Versions, their file names on the hub (``xswu/HPSv2``, ``hpsv2/utils.py`` ``hps_version_map``)
#: and the sha256 of those files when pinned (not yet: files are accepted with a warning, or
#: checked against ``expected_sha256=``). v2.0 and v2.1 scores are not comparable.
HPS_VERSIONS = {"v2.0": ("HPS_v2_compressed.pt", None), "v2.1": ("HPS_v2.1_compressed.pt", None)}
#: open_clip's ViT-H-14 (``model_configs/ViT-H-14.json``): image heads 80 wide (1280 / 16), text
#: heads 64 wide (1024 / 16).
VIT_H14_HEAD_WIDTHS = (80, 64)

_SAME_PROMPT = ("HPS compares images of the same prompt; benchmark means are over HPD v2's fixed prompt sets, and "
                "v2.0 and v2.1 values are not comparable")


@dataclasses.dataclass(frozen=True)
class HPSResult(IntervalResult):
    """HPSv2 / HPSv2.1 with its version, file and preprocessing.

    Attributes
    ----------
    value : float
        ``100 x`` the mean cosine: the unit of HPSv2's benchmark tables.
    per_sample : numpy.ndarray
        Each image's ``score()``: the cosine of the normalised embeddings (about 0.2 to 0.3).
    n : int
    version : str
    model, weights_sha256, model_format : str
    sha256_verified : bool
    tokenizer, truncation, preprocessing : dict
    interval : Interval or None
        Percentile bootstrap interval of ``value``.
    note : str
    """

    value: float
    per_sample: np.ndarray = dataclasses.field(repr=False)
    n: int
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

    metric_name: ClassVar[str] = "HPS"
    display_fields: ClassVar[tuple[str, ...]] = ("ci_low", "ci_high", "version")
    n_fields: ClassVar[tuple[str, ...]] = ("n",)
    dict_exclude: ClassVar[tuple[str, ...]] = ("per_sample",)

    def __str__(self) -> str:
        return (f"HPS {self.version} = {self.value:.6g} (100 x mean cos; n = {self.n}; compare images of the "
                "same prompt only)")


def hpsv2(
    images,
    prompts,
    *,
    model,
    version: str = "v2.1",
    expected_sha256: str | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    batch_size: int = 64,
    device="auto",
    value_range=None,
    cache=False,
    progress: bool = True,
) -> HPSResult:
    """HPSv2 / HPSv2.1 (Wu et al. 2023) of images against their prompts, from the user's checkpoint.

    The score of an image is the cosine of its and its prompt's embeddings
    under HPS's open_clip ViT-H/14 (``hpsv2.score``); the value is 100 times
    their mean, the unit of HPSv2's benchmark tables.

    Parameters
    ----------
    images : source
        As in :func:`genmetrics_nb.clip_score` (a folder is read in sorted file order).
    prompts : sequence of str
        One per image.
    model : path-like
        ``HPS_v2_compressed.pt`` or ``HPS_v2.1_compressed.pt``: a ``torch.save``'d
        ``{"state_dict": ...}`` of open_clip's ViT-H-14. Read directly: no
        LAION download (HPSv2's loader builds the LAION model first, tgxs002/HPSv2#16).
    version : {"v2.0", "v2.1"}
    expected_sha256 : str, optional
        Refuse a file with another sha256 (the published digests are not pinned
        here yet; without it the file is used with a warning).
    n_boot, ci, seed
        Bootstrap interval of the value (``n_boot=0``: none).
    batch_size, device, value_range, cache, progress
        As in :func:`genmetrics_nb.clip_score`.

    Returns
    -------
    HPSResult

    Warns
    -----
    UserWarning
        When the file's sha256 could not be checked.

    Notes
    -----
    HPSv2's own path (``hpsv2/img_score.py``, its open_clip fork's
    ``image_transform``), pinned and recorded:

    - **Images**: ``ToTensor`` *before* ``Resize(224, BICUBIC)``, so the resize
      is torchvision's on a float tensor, with ``antialias=True`` (the default
      of torchvision >= 0.17; older torchvision resized tensors without it,
      so numbers computed then differ), then ``CenterCrop(224)`` (rounded
      offsets) and OpenAI's mean/std. RGBA images stay 4-channel there;
      here every image is read as RGB.
    - **Tokenizer**: open_clip's (ftfy, HTML unescaping), 77 tokens, end token kept.
    - **Network**: open_clip ViT-H-14 (GELU; image heads 80 wide, 16 text heads).
      The reference runs under ``torch.cuda.amp.autocast()`` (float16 on GPUs);
      this computes in ``float32``.

    References
    ----------
    .. [1] X. Wu, Y. Hao, K. Sun, Y. Chen, F. Zhu, R. Zhao and H. Li, "Human
       Preference Score v2: A Solid Benchmark for Evaluating Human Preferences
       of Text-to-Image Synthesis", 2023. https://github.com/tgxs002/HPSv2
       (``hpsv2/img_score.py`` ``score``; ``hpsv2/src/open_clip/transform.py``
       ``image_transform``).
    """
    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.clip_model import load_clip

    if version not in HPS_VERSIONS:
        raise ValueError(f"version must be one of {tuple(HPS_VERSIONS)}, got {version!r}")
    n_boot = check_int(n_boot, name="n_boot", minimum=0)
    ci = check_probability(ci, name="ci")
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {seed!r}")
    prompts = check_prompts(prompts)
    pinned = expected_sha256 or HPS_VERSIONS[version][1]
    dev = resolve(device)
    clip = load_clip(model, activation="gelu", crop="round", resize="tensor", device=dev, weights_sha256=pinned,
                     vision_head_width=VIT_H14_HEAD_WIDTHS[0], text_head_width=VIT_H14_HEAD_WIDTHS[1])
    if pinned is None:
        warnings.warn(
            f"the sha256 of {clip.name!r} ({clip.weights_sha256}) is not checked: no digest of HPS {version} "
            f"({HPS_VERSIONS[version][0]}) is pinned here; pass expected_sha256= to refuse other files",
            UserWarning, stacklevel=2,
        )
    cos, report, prov = pair_cosines(
        images, prompts, clip=clip, metric="hpsv2", truncation="keep-end", normalisation="openai",
        batch_size=batch_size, device=dev, value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    interval = None
    if n_boot > 0:
        interval = mean_interval(100.0 * cos, n_boot=n_boot, ci=ci, seed=seed, name="HPS")
    return HPSResult(
        value=float(100.0 * cos.mean()), per_sample=cos, n=len(prompts), version=version, model=clip.name,
        weights_sha256=clip.weights_sha256, model_format=clip.format, sha256_verified=pinned is not None,
        tokenizer=report.fingerprint(), truncation=truncation_summary(report), preprocessing=prov.get("spec"),
        interval=interval,
    )
