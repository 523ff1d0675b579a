"""Image-prompt pairs through one CLIP: the cosines every CLIP-based text metric starts from."""
from __future__ import annotations

import numpy as np

from genmetrics_nb.features import inputs
from genmetrics_nb.metrics.result import Result

__all__ = ["check_prompts", "mean_interval", "pair_cosines", "truncation_summary"]


def check_prompts(prompts) -> list:
    """``prompts`` as a list of str (TypeError / ValueError naming the fix otherwise)."""
    if isinstance(prompts, str):
        raise TypeError("prompts must be a sequence of strings, one per image; wrap a single prompt in a list")
    try:
        prompts = list(prompts)
    except TypeError:
        raise TypeError(f"prompts must be a sequence of strings, one per image, got {type(prompts).__name__}") \
            from None
    bad = [i for i, p in enumerate(prompts) if not isinstance(p, str)]
    if bad:
        raise TypeError(f"prompts must all be str; prompt {bad[0]} is {type(prompts[bad[0]]).__name__}")
    if not prompts:
        raise ValueError("prompts is empty; pass one prompt per image")
    return prompts


def truncation_summary(report) -> dict:
    """A tokenizer report without the per-prompt token counts (their maximum instead)."""
    out = {k: v for k, v in report.to_dict().items() if k != "n_tokens"}
    out["max_tokens"] = max(report.n_tokens, default=0)
    return out


def pair_cosines(images, prompts, *, clip, metric: str, prefix: str = "", truncation: str = "keep-end",
                 normalisation: str = "openai", vocab=None, batch_size: int = 64, device, value_range=None,
                 cache=False, progress: bool = True):
    """Cosine of each image's and its prompt's CLIP embeddings.

    Parameters
    ----------
    images : source
        Anything :func:`genmetrics_nb.features.inputs.features_of` reads, run through
        ``clip.image``; or ``N x D`` image embeddings.
    prompts : list of str
        One per image (checked with :func:`check_prompts` by the caller).
    clip : LoadedCLIP
        :func:`genmetrics_nb.extractors.clip_model.load_clip`'s result (with its text tower).
    metric : str
        The caller's name, for messages.
    prefix, truncation, normalisation, vocab
        Tokenisation (:func:`genmetrics_nb.extractors.clip_tokenizer.clip_tokenize`).
    batch_size, device, value_range, cache, progress
        As in the metrics.

    Returns
    -------
    cos : numpy.ndarray
        ``N`` float64 cosines.
    report : TokenizerReport
    protocol : dict
        The image side's provenance (extractor, weights digest, spec, output).
    """
    import torch
    from tqdm.auto import tqdm

    from genmetrics_nb.extractors.base import precision_context
    from genmetrics_nb.extractors.clip_tokenizer import get_tokenizer

    feats, prov = inputs.features_of(
        images, name="images", metric=metric, extractor=clip.image, output="embedding",
        batch_size=batch_size, device=device, value_range=value_range, cache=cache, progress=progress,
    )  # fmt: skip
    img = torch.as_tensor(np.asarray(feats) if not torch.is_tensor(feats) else feats).to(torch.float64).cpu()
    if img.ndim != 2 or img.shape[1] != clip.image.dims["embedding"]:
        raise ValueError(f"images gave features of shape {tuple(img.shape)}; {clip.name} embeds images in "
                         f"{clip.image.dims['embedding']} dimensions")
    if img.shape[0] != len(prompts):
        raise ValueError(f"images holds {img.shape[0]} images but prompts has {len(prompts)} prompts; pass one "
                         "prompt per image, in the images' order (a folder is read in sorted file order)")
    tok = get_tokenizer(vocab, normalisation=normalisation)
    ids, report = tok([prefix + p for p in prompts], context_length=clip.text.config.context_length,
                      truncation=truncation)
    dev = next(clip.text.parameters()).device
    chunks = []
    with torch.no_grad(), precision_context("fp32", dev):
        for s in tqdm(range(0, ids.shape[0], batch_size), desc=f"{metric} text", disable=not progress,
                      leave=False):
            chunks.append(clip.text(ids[s:s + batch_size].to(dev)).float().cpu())
    txt = torch.cat(chunks).to(torch.float64)
    cos = ((img / img.norm(dim=1, keepdim=True)) * (txt / txt.norm(dim=1, keepdim=True))).sum(1).numpy()
    return cos, report, prov


def mean_interval(per, *, clip_mean: bool = False, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
                  name: str = "CLIPScore"):
    """Percentile bootstrap interval of the mean of ``per`` (``max(mean, 0)`` with ``clip_mean``).

    The pairs are resampled with replacement ``n_boot`` times from
    ``numpy.random.default_rng(seed)``, in blocks of 256 resamples (memory
    ``256 x N`` indices). The mean is unbiased under resampling, so the plain
    percentile interval is used.
    """
    from genmetrics_nb.metrics.distribution.bootstrap import Interval

    per = np.asarray(per, dtype=np.float64)
    n = per.shape[0]
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for s in range(0, n_boot, 256):
        k = min(256, n_boot - s)
        reps[s:s + k] = per[rng.integers(0, n, size=(k, n))].mean(axis=1)
    value = float(per.mean())
    if clip_mean:
        reps, value = np.maximum(reps, 0.0), max(value, 0.0)
    low, high = np.quantile(reps, [(1.0 - ci) / 2.0, (1.0 + ci) / 2.0])
    return Interval(name=name, value=value, low=float(low), high=float(high),
                    std=float(reps.std(ddof=1)) if n_boot > 1 else float("nan"),
                    bias=float(reps.mean() - value), ci=ci, method="percentile")


class IntervalResult(Result):
    """A text metric's result with a bootstrap ``interval``: its ends as ``ci_low`` / ``ci_high``.

    The base of CLIPScore's, PickScore's, HPS's and ImageReward's results (one
    copy of the two display fields instead of one per metric).
    """

    @property
    def ci_low(self) -> float | None:
        """Lower end of the bootstrap interval (None without one)."""
        return None if self.interval is None else self.interval.low

    @property
    def ci_high(self) -> float | None:
        """Upper end of the bootstrap interval (None without one)."""
        return None if self.interval is None else self.interval.high
