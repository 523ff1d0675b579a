"""The t2i notebook's story: text-to-image evaluation of prompted images, with stand-ins offline.

``t2i_inputs`` gathers the images, their prompts, the reference set and the
model files; offline (``stand_ins=True``) it writes a labelled stand-in
folder (Fashion-MNIST photographs with the prompts "a photo of a <class>")
and random-weight checkpoints in each publisher's format into
``$GENMETRICS_HOME/stand-ins/t2i/`` with :mod:`genmetrics_nb.testing`'s
writers. The other steps call :mod:`genmetrics_nb.suites.t2i`.
"""
from __future__ import annotations

import dataclasses
import html
from pathlib import Path

from genmetrics_nb.util.findings import not_testable

__all__ = ["T2IInputs", "t2i_categories", "t2i_inputs", "t2i_protocol", "t2i_summary", "t2i_truncation",
           "t2i_verdict", "t2i_worst"]

_STAND_IN_IMAGES = ("the images are real Fashion-MNIST photographs (not generated) with the prompts "
                     "'a photo of a <class name>'")
_STAND_IN_REFERENCE = "the reference is other Fashion-MNIST photographs of the same classes"
_STAND_IN_MODELS = (
    "every model (CLIP, PickScore, HPS, ImageReward's BLIP, CMMD's CLIP, DINOv2) is a random-weight checkpoint written in its "
    "publisher's exact file format. The numbers test the code path end to end and say nothing about any model; "
    "the paper profile takes your images and the real files."
)


@dataclasses.dataclass(frozen=True)
class T2IInputs:
    """What one text-to-image evaluation reads.

    Attributes
    ----------
    prompted : PromptedImages
    reference : str or None
        Real images for CMMD and FD-DINOv2.
    models : T2IModels
    note : str
        Plain words on what the inputs are (stand-ins or the user's files).
    """

    prompted: object
    reference: object
    models: object
    note: str

    def to_dict(self) -> dict:
        return {"prompted": self.prompted.to_dict(), "reference": None if self.reference is None else
                str(self.reference), "stand_ins": self.models.stand_ins, "note": self.note}

    def _repr_html_(self) -> str:
        p = self.prompted
        colour = "#9a6700" if self.models.stand_ins else "#59636e"
        return (f"<div style='border-left:4px solid {colour};padding:.3em .7em'>{html.escape(self.note)}</div>"
                f"<p>{len(p)} images of {p.n_prompts} prompts ({html.escape(p.images.description)}); reference: "
                f"{html.escape(str(self.reference)) if self.reference is not None else 'none'}.</p>")


def _stand_in_files(folder: Path, *, seed: int, device, cmmd: bool = True, fd: bool = True) -> dict:
    """Random-weight checkpoints in each publisher's format (written once per folder)."""
    import torch

    from genmetrics_nb.extractors import clip as clip_ext
    from genmetrics_nb.extractors import dinov2
    from genmetrics_nb.extractors.clip import CLIPVisionConfig
    from genmetrics_nb.testing import clip_checkpoint as cc
    from genmetrics_nb.testing.dinov2_reference import random_official_state
    from genmetrics_nb.util.io import atomic_write, sha256_file

    folder.mkdir(parents=True, exist_ok=True)
    # OpenAI's ViT-B/32 layout (patch 32, 224 px), reduced width and depth, full vocabulary
    clip_pt = folder / "ViT-B-32-random.pt"
    if not clip_pt.is_file():
        cc.write_openai_clip(clip_pt, CLIPVisionConfig(width=128, layers=2, patch_size=32, image_size=224,
                                                       embed_dim=64), seed=seed, vocab_size=49408)
    pick = folder / "PickScore_v1-random"
    if not (pick / "config.json").is_file():
        cc.write_hf_clip(pick, seed=seed + 1, processor=False, hidden_act="gelu", vision_width=160, vision_heads=2,
                         text_width=128, patch_size=14, vision_layers=1)
    hps = folder / "HPS_v2.1_compressed-random.pt"
    if not hps.is_file():
        cc.write_hps_checkpoint(hps, seed=seed + 2)
    from genmetrics_nb.testing.imagereward_checkpoint import write_imagereward

    ir = folder / "ImageReward-random"
    ir_files = {"model": ir / "ImageReward.pt", "med_config": ir / "med_config.json", "vocab": ir / "vocab.txt"}
    if not all(f.is_file() for f in ir_files.values()):
        ir_files = write_imagereward(ir, seed=seed + 5)
    out = {"imagereward": ir_files, "imagereward_sha256": sha256_file(ir_files["model"]),
           "clip": clip_pt, "pickscore": pick, "pickscore_sha256": sha256_file(pick / "model.safetensors"),
           "hps": hps, "hps_sha256": sha256_file(hps), "cmmd_extractor": None, "fd_extractor": None}
    if cmmd:
        cmmd_pt = folder / "ViT-L-14-336px-random.pt"  # ViT-L/14@336px's patch and input size, reduced
        if not cmmd_pt.is_file():
            cc.write_openai_clip(cmmd_pt, cc.small_config(), seed=seed + 3)
        out["cmmd_extractor"] = clip_ext.build_extractor(device=device, weights=cmmd_pt, config=None,
                                                         name="clip-vit-l14-336 (random stand-in)")
    if fd:
        dino = folder / "dinov2_vits14_pretrain-random.pth"  # the official layout of ViT-S/14 (DINOv2's smallest)
        if not dino.is_file():
            with atomic_write(dino, suffix=".part") as fh:
                torch.save(random_official_state("s", seed=seed + 4), fh)
        out["fd_extractor"] = dinov2.build_extractor("dinov2-vit-s14", device=device, weights=dino)
    return out


def t2i_inputs(images=None, *, prompts=None, real=None, stand_ins: bool = True, convention: str = "hessel2021",
               clip_model="ViT-B-32", pickscore_model=None, hps_model=None, hps_version: str = "v2.1",
               imagereward_model=None, imagereward_med_config=None, imagereward_vocab=None,
               cmmd_extractor="clip-vit-l14-336", fd_extractor="dinov2-vit-l14",
               n_per_class: int = 4, seed: int = 0, device="auto", work=None) -> T2IInputs:
    """The prompted images, the reference set and the model files of one evaluation.

    Parameters
    ----------
    images : path-like, optional
        Folder of generated images (required unless ``stand_ins``).
    prompts : str or path-like, optional
        A ``prompts.jsonl`` or a prompt-set name with an image layout
        (:func:`genmetrics_nb.suites.t2i.load_prompted`).
    real : source, optional
        Reference images for CMMD and FD-DINOv2.
    stand_ins : bool
        Offline: Fashion-MNIST photographs with class prompts as the images (unless ``images`` is
        given), a disjoint Fashion-MNIST folder as the reference (unless ``real`` is given), and
        random-weight checkpoints in each publisher's format for every model.
    convention, clip_model, pickscore_model, hps_model, hps_version, cmmd_extractor, fd_extractor
    imagereward_model, imagereward_med_config, imagereward_vocab
        The models (:class:`genmetrics_nb.suites.t2i.T2IModels`). With ``stand_ins`` the files are
        replaced by stand-ins; ``cmmd_extractor=None`` / ``fd_extractor=None`` still skip CMMD / FD-DINOv2.
    n_per_class : int
        Stand-in images per Fashion-MNIST class.
    seed : int
    device : str
    work : path-like, optional
        Where stand-ins are written (default ``$GENMETRICS_HOME/stand-ins/t2i``).
    """
    from genmetrics_nb.device import resolve
    from genmetrics_nb.suites.t2i import T2IModels, load_prompted, write_class_prompt_folder
    from genmetrics_nb.weights.manager import home

    dev = resolve(device)
    if not stand_ins:
        if images is None:
            raise ValueError("images is None; pass the folder of generated images (-p images=...), or "
                             "stand_ins=True for the offline stand-ins")
        models = T2IModels(clip=clip_model, convention=convention, pickscore=pickscore_model, hps=hps_model,
                           hps_version=hps_version, imagereward=imagereward_model,
                           imagereward_med_config=imagereward_med_config, imagereward_vocab=imagereward_vocab,
                           cmmd_extractor=cmmd_extractor,
                           fd_extractor=fd_extractor)
        note = ("Your images and model files; each file's sha256 is in the protocol block. Scores of preference "
                "models compare images of the same prompt only.")
        return T2IInputs(load_prompted(images, prompts), real, models, note)
    root = Path(work) if work is not None else home() / "stand-ins" / "t2i"
    parts = [_STAND_IN_IMAGES if images is None else "the images and prompts are yours",
             _STAND_IN_REFERENCE if real is None else "the reference is yours", _STAND_IN_MODELS]
    if images is None:
        images = write_class_prompt_folder(root / f"images-n{n_per_class}-seed{seed}", n_per_class=n_per_class,
                                           seed=seed)
    if real is None:
        real = str(write_class_prompt_folder(root / f"reference-n{n_per_class}-seed{seed}",
                                             n_per_class=n_per_class, seed=seed, offset=n_per_class))
    files = _stand_in_files(root / f"models-seed{seed}", seed=seed, device=dev, cmmd=cmmd_extractor is not None,
                            fd=fd_extractor is not None)
    models = T2IModels(clip=files["clip"], convention=convention, clip_activation=None, pickscore=files["pickscore"],
                       pickscore_sha256=files["pickscore_sha256"], hps=files["hps"], hps_version="v2.1",
                       hps_sha256=files["hps_sha256"], imagereward=files["imagereward"]["model"],
                       imagereward_med_config=files["imagereward"]["med_config"],
                       imagereward_vocab=files["imagereward"]["vocab"], imagereward_sha256=files["imagereward_sha256"],
                       cmmd_extractor=files["cmmd_extractor"],
                       fd_extractor=files["fd_extractor"], stand_ins=True)
    return T2IInputs(load_prompted(images, prompts), real, models, "Offline run on stand-ins: " + "; ".join(parts))


def t2i_summary(inputs: T2IInputs, *, n_boot: int = 1000, seed: int = 0, batch_size: int = 64, device="auto"):
    """CLIPScore, PickScore, HPS, ImageReward, CMMD and FD-DINOv2 (:func:`genmetrics_nb.suites.t2i.score_t2i`)."""
    import warnings

    from genmetrics_nb.util.warn import reemit_once
    from genmetrics_nb.suites.t2i import score_t2i

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = score_t2i(inputs.prompted, models=inputs.models, reference=inputs.reference, n_boot=n_boot,
                           seed=seed, batch_size=batch_size, device=device, progress=False)
    reemit_once(caught)  # each kind once (small stand-in sets: FD-DINOv2's n <= D warning)
    return scores


def t2i_categories(scores):
    """Mean scores per prompt category."""
    from genmetrics_nb.suites.t2i import category_table

    return category_table(scores)


def t2i_worst(scores, *, k: int = 8, per_prompt: int = 4):
    """The worst-aligned prompts and their images."""
    from genmetrics_nb.suites.t2i import worst_aligned

    return worst_aligned(scores, k=k, per_prompt=per_prompt)


def t2i_truncation(scores):
    """Each text model's tokenizer and the prompts it truncated."""
    from genmetrics_nb.suites.t2i import truncation_table

    return truncation_table(scores)


def t2i_protocol(scores):
    """Models with sha256, conventions, tokenizers, n."""
    from genmetrics_nb.suites.t2i import protocol_block

    return protocol_block(scores)


def t2i_verdict(inputs: T2IInputs, scores):
    """No claim: this report measures and makes no finding to reproduce.

    With stand-ins the numbers are random-weight outputs; with real files the report states values
    (with intervals) rather than a published number to match, so the verdict is ``reproduced=None``
    either way, with the headline numbers in the statement.
    """
    from genmetrics_nb.util.findings import check

    c = scores.clip
    checks = [check(f"CLIPScore ({c.convention}) computed on {c.n} image-prompt pairs: {c.value:.4g}", True)]
    if inputs.models.stand_ins:
        reason = ("the models are random-weight stand-ins in their publishers' formats, so the numbers carry no "
                  "claim (no claim)")
    else:
        reason = "this report measures your images; it has no published number to reproduce (no claim)"
    return not_testable("text-to-image evaluation of prompted images", reason, checks)
