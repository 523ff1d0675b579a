"""ImageReward: BLIP with an MLP head, trained on human preferences, from the user's files."""
from __future__ import annotations

import dataclasses
import json
import numbers
import os
import warnings
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.text.pairs import IntervalResult, check_prompts, mean_interval
from genmetrics_nb.util.checks import check_int, check_probability

__all__ = ["IMAGEREWARD_MAX_LENGTH", "IMAGEREWARD_MEAN", "IMAGEREWARD_STD", "IMAGEREWARD_VERSIONS",
           "ImageRewardResult", "imagereward"]

#: THUDM/ImageReward ``ImageReward/ImageReward.py`` (``ImageReward.__init__``): the reward is
#: ``(mlp(features) - mean) / std``, a z-score over their training rewards.
IMAGEREWARD_MEAN = 0.16717362830052426
IMAGEREWARD_STD = 1.0333394966054072
#: ``score``/``inference_rank``: ``tokenizer(prompt, padding='max_length', truncation=True, max_length=35)``.
IMAGEREWARD_MAX_LENGTH = 35
#: Versions and the sha256 of their ``ImageReward.pt`` when pinned (not yet: files are accepted
#: with a warning, or checked against ``expected_sha256=``).
IMAGEREWARD_VERSIONS = {"ImageReward-v1.0": None}
#: ``mlp.layers`` indices of the five Linear layers (Dropouts between them; no activations).
_MLP_LINEARS = (0, 2, 4, 6, 7)

_SAME_PROMPT = ("ImageReward is a z-score that ranks images of the same prompt; means over different prompts "
                "are benchmark conventions, not image qualities")


@dataclasses.dataclass(frozen=True)
class ImageRewardResult(IntervalResult):
    """ImageReward with its version, files, tokenizer and truncation report.

    Attributes
    ----------
    value : float
        Mean reward over the images.
    per_sample : numpy.ndarray
        Each image's reward (``score()``): ``(mlp(h_CLS) - mean) / std``.
    n : int
    version : str
    model, weights_sha256 : str
    sha256_verified : bool
    med_config_sha256 : str
    tokenizer, truncation : dict
        The BERT tokenizer's fingerprint (vocab sha256, 35 tokens, end kept) and the prompts it cut.
    preprocessing : dict
    interval : Interval or None
    note : str
    """

    value: float
    per_sample: np.ndarray = dataclasses.field(repr=False)
    n: int
    version: str
    model: str
    weights_sha256: str
    sha256_verified: bool
    med_config_sha256: str
    tokenizer: dict
    truncation: dict
    preprocessing: dict
    interval: object
    note: str = _SAME_PROMPT

    metric_name: ClassVar[str] = "ImageReward"
    display_fields: ClassVar[tuple[str, ...]] = ("ci_low", "ci_high", "version")
    n_fields: ClassVar[tuple[str, ...]] = ("n",)
    dict_exclude: ClassVar[tuple[str, ...]] = ("per_sample",)

    def __str__(self) -> str:
        return (f"ImageReward {self.version} = {self.value:.6g} (mean z-score; n = {self.n}; compare images of the "
                "same prompt only)")


def _mlp(state: dict):
    import torch
    from torch import nn

    layers = []
    for i in _MLP_LINEARS:
        try:
            w, b = state[f"mlp.layers.{i}.weight"], state[f"mlp.layers.{i}.bias"]
        except KeyError:
            raise ValueError(f"the checkpoint lacks mlp.layers.{i}.weight/bias; is it ImageReward.pt?") from None
        lin = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(w)
            lin.bias.copy_(b)
        layers.append(lin)
    return nn.Sequential(*layers).eval()


def imagereward(
    images,
    prompts,
    *,
    model,
    med_config,
    vocab,
    version: str = "ImageReward-v1.0",
    expected_sha256: str | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    batch_size: int = 16,
    device="auto",
    progress: bool = True,
) -> ImageRewardResult:
    """ImageReward (Xu et al. 2023) of images against their prompts, from the user's files.

    Per image: BLIP's ViT encodes the image; BLIP's BERT encodes the prompt
    (bert-base-uncased WordPiece, ``[CLS] ... [SEP]`` truncated to **35**
    tokens and padded, as ``ImageReward.score``) with cross-attention to every
    image token; the ``[CLS]`` output goes through the MLP head
    (768 -> 1024 -> 128 -> 64 -> 16 -> 1, no activations) and is standardised
    with ImageReward's mean and std. The value is the mean reward.

    Parameters
    ----------
    images : source
        A folder (sorted file order), files, a ``uint8`` ``N x C x H x W`` array, ...
    prompts : sequence of str
        One per image.
    model : path-like
        ``ImageReward.pt`` (a ``torch.save``'d state dict: ``blip.*`` and ``mlp.*``).
    med_config : path-like
        Its ``med_config.json`` (BLIP's BERT configuration).
    vocab : path-like
        bert-base-uncased's ``vocab.txt`` (the reference fetches it with
        ``BertTokenizer.from_pretrained``; here it is the user's file, sha256 recorded).
    version : str
    expected_sha256 : str, optional
        Refuse a model file with another sha256 (the published digest is not
        pinned here yet; without it the file is used with a warning).
    n_boot, ci, seed
        Bootstrap interval of the mean (``n_boot=0``: none).
    batch_size, device, progress

    Returns
    -------
    ImageRewardResult

    Raises
    ------
    ValueError
        A sha256 mismatch, a file not in ImageReward's layout (every BLIP and
        MLP tensor must be present: the reference loads with ``strict=False``
        and so ignores missing tensors silently), a prompt count that differs
        from the image count.

    Notes
    -----
    Preprocessing as ``ImageReward._transform(224)``: Pillow bicubic of the
    short side to 224, centre crop (rounded offsets), RGB, ``/ 255``, CLIP
    mean/std -- the same as OpenAI's CLIP transform. Computed in float32.
    Rewards are z-scores that rank images of one prompt (THUDM/ImageReward#40).

    References
    ----------
    .. [1] J. Xu et al., "ImageReward: Learning and Evaluating Human
       Preferences for Text-to-Image Generation", NeurIPS 2023.
       https://github.com/THUDM/ImageReward (``ImageReward/ImageReward.py``
       ``score``, ``inference_rank``; ``models/BLIP``).
    .. [2] J. Li et al., "BLIP: Bootstrapping Language-Image Pre-training",
       ICML 2022.
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.device import resolve
    from genmetrics_nb.extractors.base import precision_context
    from genmetrics_nb.extractors.bert_tokenizer import BertWordPiece
    from genmetrics_nb.extractors.blip import blip_from_state
    from genmetrics_nb.extractors.clip_model import openai_clip_preprocess
    from genmetrics_nb.sources import resolve as resolve_source
    from genmetrics_nb.util.io import sha256_file

    if version not in IMAGEREWARD_VERSIONS:
        raise ValueError(f"version must be one of {tuple(IMAGEREWARD_VERSIONS)}, got {version!r}")
    n_boot = check_int(n_boot, name="n_boot", minimum=0)
    ci = check_probability(ci, name="ci")
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {seed!r}")
    prompts = check_prompts(prompts)
    for name, p in (("model", model), ("med_config", med_config)):
        if not isinstance(p, (str, os.PathLike)) or not os.path.isfile(p):
            raise ValueError(f"{name}={p!r} is not a file; pass the path of ImageReward's "
                             f"{'ImageReward.pt' if name == 'model' else 'med_config.json'}")
    digest = sha256_file(model)
    pinned = expected_sha256 or IMAGEREWARD_VERSIONS[version]
    if pinned is not None and digest != pinned:
        raise ValueError(f"model={os.fspath(model)!r} has sha256 {digest}, not {pinned}; pass the expected file or "
                         "another expected_sha256=")
    if pinned is None:
        warnings.warn(f"the sha256 of {os.fspath(model)!r} ({digest}) is not checked: no digest of {version} is "
                      "pinned here; pass expected_sha256= to refuse other files", UserWarning, stacklevel=2)
    with open(med_config) as fh:
        med = json.load(fh)
    tok = BertWordPiece(vocab)
    ids, mask, report = tok(prompts, max_length=IMAGEREWARD_MAX_LENGTH)

    dev = resolve(device)
    state = torch.load(model, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"model={os.fspath(model)!r} does not hold a state dict (got {type(state).__name__})")
    vision, text = blip_from_state(state, med)
    head = _mlp(state)
    vision, text, head = vision.to(dev), text.to(dev), head.to(dev)
    src = resolve_source(images, name="images")
    if src.n != len(prompts):
        raise ValueError(f"images holds {src.n} images but prompts has {len(prompts)} prompts; pass one prompt per "
                         "image, in the images' order (a folder is read in sorted file order)")
    size = int(vision.pos_embed.shape[1] ** 0.5 - 1e-9) * int(vision.patch_embed.proj.kernel_size[0])
    rewards = []
    with torch.no_grad(), precision_context("fp32", dev):
        for s in tqdm(range(0, src.n, batch_size), desc="imagereward", disable=not progress, leave=False):
            xs = []
            for i in range(s, min(s + batch_size, src.n)):
                x = torch.as_tensor(np.asarray(src.images([i]))).to(torch.float32)
                if x.shape[1] == 1:
                    x = x.repeat(1, 3, 1, 1)
                xs.append(openai_clip_preprocess(x, size=size, crop="round", resize="pil"))
            image = vision(torch.cat(xs).to(dev))
            h = text(ids[s:s + len(xs)].to(dev), mask[s:s + len(xs)].to(dev), image)[:, 0, :].float()
            rewards.append(((head(h) - IMAGEREWARD_MEAN) / IMAGEREWARD_STD)[:, 0].double().cpu())
    per = torch.cat(rewards).numpy()
    interval = mean_interval(per, n_boot=n_boot, ci=ci, seed=seed, name="ImageReward") if n_boot > 0 else None
    with open(med_config, "rb") as fh:
        import hashlib

        med_digest = hashlib.sha256(fh.read()).hexdigest()
    trunc = {k: v for k, v in report.to_dict().items() if k not in ("normalisation",)}
    return ImageRewardResult(
        value=float(per.mean()), per_sample=per, n=len(prompts), version=version, model=os.fspath(model),
        weights_sha256=digest, sha256_verified=pinned is not None, med_config_sha256=med_digest,
        tokenizer=report.fingerprint(), truncation=trunc,
        preprocessing={"resize": f"Pillow bicubic, short side to {size}", "crop": "centre, rounded offsets",
                       "normalize": "x / 255, CLIP mean/std", "precision": "float32"},
        interval=interval,
    )
