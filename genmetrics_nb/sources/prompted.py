"""Generated images with the prompts they were generated from.

Two ways to say which prompt each image answers:

- a folder with a ``prompts.jsonl``: one JSON object per line,
  ``{"file_name": "0001.png", "prompt": "...", "category": "..."}`` (``"file"``
  is accepted for ``"file_name"``; ``category`` is optional), paths relative
  to the folder;
- a prompt-set name and a folder laid out as that benchmark lays out its
  images:

  ``geneval``
      ``<index:05d>/metadata.jsonl`` (the prompt's line of
      ``evaluation_metadata.jsonl``) and ``<index:05d>/samples/<k>.png``;
  ``t2i-compbench``
      ``<prompt>_<k:06d>.png`` (the prompt is the name before the last ``_``);
  ``hpdv2``
      ``<style>/<index:05d>.jpg`` (the prompts come from the set's files).

The images themselves are read through :func:`genmetrics_nb.sources.resolve`
on the list of files, so ``PromptedImages.images.files[i]`` is the image of
``PromptedImages.prompts[i]``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

from genmetrics_nb.sources.source import ImageSource

__all__ = ["LAYOUTS", "PromptedImages", "prompted_images"]

#: Prompt sets whose image layout :func:`prompted_images` reads.
LAYOUTS = ("geneval", "t2i-compbench", "hpdv2")


@dataclasses.dataclass(frozen=True)
class PromptedImages:
    """Images and, aligned with ``images.files``, their prompts.

    Attributes
    ----------
    images : ImageSource
    prompts : tuple of str
        One per image.
    categories : tuple of str or None
        One per image, where known.
    prompt_index : tuple of int
        Per image, the index of its prompt (in the prompt set, or among the
        distinct prompts of ``prompts.jsonl`` in order of first appearance).
    prompt_set : str or None
        The benchmark's name when a layout was read.
    metadata : tuple of dict or None
        Per image, the prompt's metadata (GenEval's clauses).
    checked_against : str or None
        ``"<set> sha256 <digest>"`` when the prompts were compared with a
        loaded prompt set; None when they come from the folder alone.
    """

    images: ImageSource
    prompts: tuple
    categories: tuple | None
    prompt_index: tuple
    prompt_set: str | None = None
    metadata: tuple | None = dataclasses.field(default=None, repr=False)
    checked_against: str | None = None

    def __len__(self) -> int:
        return len(self.prompts)

    @property
    def n_prompts(self) -> int:
        """Distinct prompts."""
        return len(set(self.prompt_index))

    def to_dict(self) -> dict:
        """What a protocol block records."""
        return {"images": self.images.to_dict(), "n_images": len(self), "n_prompts": self.n_prompts,
                "prompt_set": self.prompt_set, "checked_against": self.checked_against}

    def __repr__(self) -> str:
        where = f" ({self.prompt_set} layout)" if self.prompt_set else ""
        return (f"PromptedImages({len(self)} images of {self.n_prompts} prompts{where}, "
                f"{self.images.description})")


def _resolve_files(files, folder) -> ImageSource:
    from genmetrics_nb.sources.resolver import resolve

    src = resolve([str(f) for f in files], name="folder")
    return dataclasses.replace(src, description=f"prompted images in {os.path.abspath(folder)} ({len(files)} files)")


def _image_files(folder: Path) -> set:
    from genmetrics_nb.images import list_image_files

    return {os.path.abspath(f) for f in list_image_files(str(folder))}


def _from_jsonl(folder: Path, jsonl: Path) -> PromptedImages:
    files, texts, cats = [], [], []
    for n, line in enumerate(jsonl.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{jsonl}:{n} is not JSON ({exc.msg})") from None
        name = rec.get("file_name", rec.get("file"))
        if not isinstance(name, str) or not isinstance(rec.get("prompt"), str):
            raise ValueError(f'{jsonl}:{n} needs "file_name" and "prompt" (strings), e.g. '
                             f'{{"file_name": "0001.png", "prompt": "a red car"}}')
        f = os.path.abspath(folder / name)
        if not os.path.isfile(f):
            raise ValueError(f"{jsonl}:{n} names {name!r}, which is not a file in {folder}")
        files.append(f)
        texts.append(rec["prompt"])
        cats.append(rec.get("category"))
    if not files:
        raise ValueError(f"{jsonl} lists no images")
    if len(set(files)) != len(files):
        dup = next(f for f in files if files.count(f) > 1)
        raise ValueError(f"{jsonl} lists {os.path.relpath(dup, folder)!r} twice; give each image one prompt")
    unlisted = sorted(_image_files(folder) - set(files))
    if unlisted:
        raise ValueError(f"{len(unlisted)} image(s) in {folder} have no prompt in {jsonl.name}, e.g. "
                         f"{os.path.relpath(unlisted[0], folder)!r}; add a line for each or move them out")
    order: dict = {}
    index = tuple(order.setdefault(t, len(order)) for t in texts)
    return PromptedImages(_resolve_files(files, folder), tuple(texts),
                          tuple(cats) if any(c is not None for c in cats) else None, index)


def _geneval(folder: Path, ps) -> PromptedImages:
    subs = sorted((d for d in folder.iterdir() if d.is_dir() and d.name.isdigit()), key=lambda d: int(d.name))
    if not subs:
        raise ValueError(f"{folder} has no <index>/ subfolders; GenEval lays images out as "
                         f"<index:05d>/samples/<k>.png with <index:05d>/metadata.jsonl")
    files, texts, cats, index, metas = [], [], [], [], []
    for d in subs:
        i = int(d.name)
        mfile = d / "metadata.jsonl"
        samples = sorted((f for f in (d / "samples").glob("*.png") if re.fullmatch(r"\d+\.png", f.name)),
                         key=lambda f: int(f.stem)) if (d / "samples").is_dir() else []
        if not mfile.is_file():
            if samples:
                raise ValueError(f"{len(samples)} image(s) in {d / 'samples'} have no prompt: {mfile} is missing")
            continue
        meta = json.loads(mfile.read_text(encoding="utf-8").strip().splitlines()[0])
        if ps is not None:
            if i >= len(ps):
                raise ValueError(f"{d} is prompt {i}, but {ps.name} has {len(ps)} prompts")
            if ps.metadata[i] != meta:
                raise ValueError(f"{mfile} differs from line {i} of {ps.name}'s evaluation_metadata.jsonl "
                                 f"({meta.get('prompt')!r} vs {ps.prompts[i]!r}); rewritten prompts change "
                                 f"the scores: regenerate with the published prompts")
        if not samples:
            raise ValueError(f"prompt {i} ({meta.get('prompt')!r}) has no image in {d / 'samples'}")
        for f in samples:
            files.append(str(f))
            texts.append(meta["prompt"])
            cats.append(meta.get("tag"))
            index.append(i)
            metas.append(meta)
    if ps is not None:
        missing = sorted(set(range(len(ps))) - set(index))
        if missing:
            raise ValueError(f"{len(missing)} prompt(s) of {ps.name} have no image folder in {folder}, e.g. "
                             f"{missing[0]:05d}/ ({ps.prompts[missing[0]]!r})")
    return PromptedImages(_resolve_files(files, folder), tuple(texts), tuple(cats), tuple(index), "geneval",
                          tuple(metas), _checked(ps))


def _t2i_compbench(folder: Path, ps) -> PromptedImages:
    files = sorted(_image_files(folder))
    if not files:
        raise ValueError(f"{folder} has no images; T2I-CompBench names them <prompt>_<k:06d>.png")
    lookup = {}
    if ps is not None:
        for k, p in enumerate(ps.prompts):
            lookup.setdefault(p, k)
    texts, cats, index = [], [], []
    order: dict = {}
    for f in files:
        stem = Path(f).stem
        m = re.fullmatch(r"(.+)_(\d{6})", stem)
        if not m:
            raise ValueError(f"{os.path.relpath(f, folder)!r} has no prompt: T2I-CompBench names images "
                             f"<prompt>_<k:06d>.png")
        text = m.group(1)
        if ps is not None and text not in lookup:
            raise ValueError(f"{os.path.relpath(f, folder)!r}: {text!r} is not a prompt of {ps.name} "
                             f"(validation split)")
        texts.append(text)
        k = lookup[text] if ps is not None else order.setdefault(text, len(order))
        index.append(k)
        cats.append(ps.categories[k] if ps is not None else None)
    if ps is not None:
        # a category is complete when each of its prompts has an image; categories not generated are fine
        for cat in set(cats):
            want = {k for k, c in enumerate(ps.categories) if c == cat}
            missing = sorted(want - set(index))
            if missing:
                raise ValueError(f"{len(missing)} prompt(s) of category {cat!r} have no image, e.g. "
                                 f"{ps.prompts[missing[0]]!r}")
    return PromptedImages(_resolve_files(files, folder), tuple(texts),
                          tuple(cats) if ps is not None else None, tuple(index), "t2i-compbench",
                          None, _checked(ps))


def _hpdv2(folder: Path, ps) -> PromptedImages:
    if ps is None:
        raise ValueError("the hpdv2 layout names images by index only: pass prompts=gm.prompts.load('hpdv2', "
                         "path=..., verify=False) so the prompts can be read")
    styles = [f.category for f in ps.entry.files]
    offsets, start = {}, 0
    for f in ps.entry.files:
        offsets[f.category] = start
        start += f.count
    files, texts, cats, index = [], [], [], []
    for style in styles:
        d = folder / style
        if not d.is_dir():
            continue
        n = sum(1 for c in ps.categories if c == style)
        for f in sorted(_image_files(d)):
            m = re.fullmatch(r"(\d{5})\.(jpg|png)", Path(f).name)
            if not m or int(m.group(1)) >= n:
                raise ValueError(f"{os.path.relpath(f, folder)!r} has no prompt: HPDv2 names images "
                                 f"<style>/<index:05d>.jpg with index below {n}")
            k = offsets[style] + int(m.group(1))
            files.append(f)
            texts.append(ps.prompts[k])
            cats.append(style)
            index.append(k)
        have = {i for i, c in zip(index, cats) if c == style}
        missing = sorted(set(range(offsets[style], offsets[style] + n)) - have)
        if missing:
            raise ValueError(f"{len(missing)} prompt(s) of style {style!r} have no image, e.g. "
                             f"{missing[0] - offsets[style]:05d}.jpg ({ps.prompts[missing[0]]!r})")
    if not files:
        raise ValueError(f"{folder} has none of the style folders {', '.join(styles)}")
    return PromptedImages(_resolve_files(files, folder), tuple(texts), tuple(cats), tuple(index), "hpdv2",
                          None, _checked(ps))


def _checked(ps) -> str | None:
    if ps is None:
        return None
    state = "" if ps.verified else " (unverified)"
    return f"{ps.name} sha256 {','.join(h[:12] for h in ps.sha256)}{state}"


def prompted_images(folder, *, prompt_set: str | None = None, prompts=None, jsonl=None) -> PromptedImages:
    """Images of a folder with the prompts they were generated from.

    Parameters
    ----------
    folder : str or path-like
        A folder with a ``prompts.jsonl``, or laid out as ``prompt_set`` lays
        out its images (see the module docstring).
    prompt_set : {"geneval", "t2i-compbench", "hpdv2"}, optional
        Read the folder in this benchmark's layout instead of a ``prompts.jsonl``.
    prompts : PromptSet, optional
        The benchmark's prompts (:func:`genmetrics_nb.prompts.load`). With it
        every image's prompt is checked against the published set and every
        prompt must have an image (per category for T2I-CompBench); without
        it the folder's own prompts are used as they are.
    jsonl : path-like, optional
        A ``prompts.jsonl`` kept apart from the images (file names relative
        to ``folder``); default ``folder/prompts.jsonl``.

    Returns
    -------
    PromptedImages

    Raises
    ------
    ValueError
        A missing folder or file, an image with no prompt, a prompt with no
        image, a prompt that is not the published one.

    Examples
    --------
    >>> import genmetrics_nb as gm
    >>> gm.prompted_images("samples/", prompt_set="geneval",
    ...                    prompts=gm.prompts.load("geneval"))  # doctest: +SKIP
    PromptedImages(2212 images of 553 prompts (geneval layout), ...)
    """
    folder = Path(os.fspath(folder)).expanduser()
    if not folder.is_dir():
        raise ValueError(f"folder={str(folder)!r} is not a folder; pass the folder of generated images")
    if prompts is not None and prompt_set is None:
        prompt_set = prompts.name
    if prompt_set is None:
        if jsonl is not None:
            jsonl = Path(os.fspath(jsonl)).expanduser()
            if not jsonl.is_file():
                raise ValueError(f"jsonl={str(jsonl)!r} is not a file; pass the path of the prompts.jsonl")
            return _from_jsonl(folder, jsonl)
        jsonl = folder / "prompts.jsonl"
        if not jsonl.is_file():
            raise ValueError(f"{folder} has no prompts.jsonl; write one ({{\"file_name\": ..., \"prompt\": ...}} "
                             f"per line) or pass prompt_set= one of {', '.join(LAYOUTS)}")
        return _from_jsonl(folder, jsonl)
    if prompt_set not in LAYOUTS:
        raise ValueError(f"prompt_set={prompt_set!r} has no image layout here (known: {', '.join(LAYOUTS)}); "
                         f"write a prompts.jsonl next to the images instead")
    if prompts is not None and prompts.name != prompt_set:
        raise ValueError(f"prompts is the {prompts.name!r} set but prompt_set={prompt_set!r}")
    return {"geneval": _geneval, "t2i-compbench": _t2i_compbench, "hpdv2": _hpdv2}[prompt_set](folder, prompts)
