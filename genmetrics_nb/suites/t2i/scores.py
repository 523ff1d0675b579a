"""Every text-to-image number of one set of prompted images, from the files the caller names."""
from __future__ import annotations

import dataclasses
import html

import numpy as np

__all__ = ["T2IModels", "T2IScores", "score_t2i"]


@dataclasses.dataclass(frozen=True)
class T2IModels:
    """The checkpoints (and conventions) a text-to-image evaluation uses.

    Attributes
    ----------
    clip : str or path-like
        CLIPScore's CLIP: a manifest name (``"ViT-B-32"``) or a checkpoint file/folder.
    convention : str
        CLIPScore's convention (:data:`genmetrics_nb.metrics.text.clip_score.CONVENTIONS`).
    clip_activation : str, optional
        For open_clip state dicts.
    clip_sha256, pickscore_sha256, hps_sha256 : str, optional
        Expected digests (a file with another one is refused).
    pickscore : path-like, optional
        PickScore_v1 folder (transformers ``CLIPModel``); None: not scored.
    hps : path-like, optional
        ``HPS_v2*_compressed.pt``; None: not scored.
    hps_version : {"v2.0", "v2.1"}
    imagereward, imagereward_med_config, imagereward_vocab : path-like, optional
        ``ImageReward.pt``, its ``med_config.json`` and bert-base-uncased's ``vocab.txt``;
        None: not scored.
    imagereward_sha256 : str, optional
    cmmd_extractor, fd_extractor : str or Extractor, optional
        CMMD's CLIP image extractor and the Frechet distance's DINOv2; None: not computed.
    cmmd_weights, fd_weights : path-like, optional
        Their weights files (default: the weight manager's).
    stand_ins : bool
        True when every file is a random-weight stand-in (the numbers then mean nothing).
    """

    clip: object = "ViT-B-32"
    convention: str = "hessel2021"
    clip_activation: str | None = None
    clip_sha256: str | None = None
    pickscore: object = None
    pickscore_sha256: str | None = None
    hps: object = None
    hps_version: str = "v2.1"
    hps_sha256: str | None = None
    imagereward: object = None
    imagereward_med_config: object = None
    imagereward_vocab: object = None
    imagereward_sha256: str | None = None
    cmmd_extractor: object = "clip-vit-l14-336"
    cmmd_weights: object = None
    fd_extractor: object = "dinov2-vit-l14"
    fd_weights: object = None
    stand_ins: bool = False


def _name(x) -> str | None:
    if x is None:
        return None
    return getattr(x, "name", None) or str(x)


@dataclasses.dataclass(frozen=True)
class T2IScores:
    """The summary of one text-to-image evaluation.

    Attributes
    ----------
    clip : ClipScoreResult
    pickscore : PickScoreResult or None
    hps : HPSResult or None
    imagereward : ImageRewardResult or None
    cmmd : CMMDResult or None
    fd : FIDResult or None
        Frechet distance on DINOv2 features (FD-DINOv2).
    prompted : PromptedImages
    models : T2IModels
    skipped : dict
        Metric -> why it was not computed.
    """

    clip: object
    pickscore: object
    hps: object
    imagereward: object
    cmmd: object
    fd: object
    prompted: object = dataclasses.field(repr=False)
    models: T2IModels = dataclasses.field(repr=False)
    skipped: dict = dataclasses.field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.prompted)

    def rows(self) -> list[dict]:
        """One row per metric: value, interval, what it means, model."""
        out = []

        def add(metric, r, meaning, model):
            if r is None:
                out.append({"metric": metric, "value": None, "95% interval": "", "meaning": self.skipped.get(metric, ""),
                            "model": "-", "n": None})
                return
            iv = getattr(r, "interval", None)
            out.append({"metric": metric, "value": float(r.value),
                        "95% interval": "" if iv is None else f"[{iv.low:.4g}, {iv.high:.4g}]",
                        "meaning": meaning, "model": model, "n": getattr(r, "n", None) or getattr(r, "n_fake", None)})

        c = self.clip
        add(f"CLIPScore ({c.convention})", c, f"{c.scale:g} x cos, clip {c.clip}, prefix {c.prefix!r}; higher is "
            "better", _name(self.models.clip))
        add("PickScore", self.pickscore, "exp(logit_scale) x cos; compare images of one prompt only",
            _name(self.models.pickscore))
        hps = f"HPS {self.models.hps_version}"
        add(hps, self.hps, "100 x mean cos; compare images of one prompt only", _name(self.models.hps))
        add("ImageReward", self.imagereward, "mean z-score of BLIP + MLP; compare images of one prompt only",
            _name(self.models.imagereward))
        add("CMMD", self.cmmd, "1000 x MMD^2 of CLIP embeddings to the reference; lower is better",
            _name(self.models.cmmd_extractor))
        add("FD-DINOv2", self.fd, "Frechet distance of DINOv2 features to the reference; lower is better",
            _name(self.models.fd_extractor))
        return out

    def table(self):
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_dict(self) -> dict:
        out = {"n": self.n, "stand_ins": self.models.stand_ins, "skipped": dict(self.skipped)}
        keys = {"clip_score": self.clip, "pickscore": self.pickscore, "hps": self.hps,
                "imagereward": self.imagereward, "cmmd": self.cmmd,
                "fd_dinov2": self.fd}
        for k, r in keys.items():
            out[k] = None if r is None else float(r.value)
        out["convention"] = self.clip.convention
        out["rows"] = self.rows()
        return out

    def _repr_html_(self) -> str:
        head = ("<p><b>Random-weight stand-ins:</b> every model file is a format-exact random checkpoint; "
                "the numbers test the code path and mean nothing.</p>" if self.models.stand_ins else "")
        return head + self.table().to_html(index=False, na_rep="-", float_format=lambda v: f"{v:.4g}",
                                           escape=True)

    def __str__(self) -> str:
        return "; ".join(f"{r['metric']} = {r['value']:.4g}" for r in self.rows() if r["value"] is not None)

    def __repr__(self) -> str:
        return f"T2IScores(n={self.n}, {html.unescape(str(self))})"


def score_t2i(prompted, *, models: T2IModels, reference=None, n_boot: int = 1000, seed: int = 0,
              batch_size: int = 64, device="auto", progress: bool = True) -> T2IScores:
    """CLIPScore, PickScore, HPS, ImageReward, CMMD and FD-DINOv2 of prompted images.

    Parameters
    ----------
    prompted : PromptedImages
        :func:`~genmetrics_nb.suites.t2i.inputs.load_prompted`'s result.
    models : T2IModels
        Which files; PickScore, HPS, ImageReward, CMMD and FD are skipped where their file
        or extractor is None (CMMD and FD also without ``reference``).
    reference : source, optional
        Real images for CMMD and FD-DINOv2.
    n_boot, seed
        Bootstrap intervals of the per-image scores.
    batch_size, device, progress
        As in the metrics.

    Returns
    -------
    T2IScores

    References
    ----------
    .. [1] Hessel et al. 2021 (CLIPScore); Kirstain et al. 2023 (PickScore); Wu et al. 2023 (HPSv2);
       Xu et al. 2023 (ImageReward);
       Jayasumana et al. 2024 (CMMD); Stein et al. 2023 (FD-DINOv2).
    """
    from genmetrics_nb.metrics.distribution.cmmd import cmmd
    from genmetrics_nb.metrics.distribution.fid import fid
    from genmetrics_nb.metrics.text.clip_score import clip_score
    from genmetrics_nb.metrics.text.hpsv2 import hpsv2
    from genmetrics_nb.metrics.text.imagereward import imagereward
    from genmetrics_nb.metrics.text.pickscore import pickscore

    if not isinstance(models, T2IModels):
        raise TypeError(f"models must be a T2IModels, got {type(models).__name__}")
    images, prompts = prompted.images, list(prompted.prompts)
    common = dict(n_boot=n_boot, seed=seed, batch_size=batch_size, device=device, progress=progress)
    skipped = {}
    clip = clip_score(images, prompts, model=models.clip, convention=models.convention,
                      activation=models.clip_activation, weights_sha256=models.clip_sha256, **common)
    pick = hps = ir = cm = fd = None
    if models.pickscore is not None:
        pick = pickscore(images, prompts, model=models.pickscore, expected_sha256=models.pickscore_sha256, **common)
    else:
        skipped["PickScore"] = "no PickScore_v1 folder given"
    if models.hps is not None:
        hps = hpsv2(images, prompts, model=models.hps, version=models.hps_version,
                    expected_sha256=models.hps_sha256, **common)
    else:
        skipped[f"HPS {models.hps_version}"] = "no HPS checkpoint given"
    if models.imagereward is not None:
        if models.imagereward_med_config is None or models.imagereward_vocab is None:
            raise ValueError("ImageReward needs its med_config.json and bert-base-uncased's vocab.txt besides "
                             "ImageReward.pt; pass imagereward_med_config= and imagereward_vocab=")
        ir = imagereward(images, prompts, model=models.imagereward, med_config=models.imagereward_med_config,
                         vocab=models.imagereward_vocab, expected_sha256=models.imagereward_sha256,
                         **dict(common, batch_size=min(batch_size, 16)))
    else:
        skipped["ImageReward"] = "no ImageReward.pt given"
    dist = dict(batch_size=batch_size, device=device, progress=progress)
    if reference is None:
        skipped["CMMD"] = skipped["FD-DINOv2"] = "no reference images given"
    else:
        if models.cmmd_extractor is not None:
            cm = cmmd(reference, images, extractor=models.cmmd_extractor, weights=models.cmmd_weights, **dist)
        else:
            skipped["CMMD"] = "no CLIP extractor given"
        if models.fd_extractor is not None:
            fd = fid(reference, images, extractor=models.fd_extractor, weights=models.fd_weights, **dist)
        else:
            skipped["FD-DINOv2"] = "no DINOv2 extractor given"
    return T2IScores(clip=clip, pickscore=pick, hps=hps, imagereward=ir, cmmd=cm, fd=fd, prompted=prompted, models=models,
                     skipped=skipped)
