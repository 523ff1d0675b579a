"""Read a prompt set from the user's file or the cache, sha256 checked, into a :class:`PromptSet`.

Resolution of each file of a set (:func:`path`):

1. ``path=`` given by the caller: a file (single-file sets) or a folder
   holding the files under their published names;
2. the cache, ``$GENMETRICS_HOME/prompts/<filename>``;
3. a download from the manifest URL (unless ``GENMETRICS_OFFLINE=1`` or
   ``download=False``), through the weights' own streaming download, which
   hashes the bytes as they arrive and renames the file into place only
   when the sha256 matches.

A file whose sha256 is not the manifest's is refused unless ``verify=False``;
the loaded set records ``verified`` and the digests of the files it read.
"""
from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
from pathlib import Path

from genmetrics_nb.prompts.manifest import PromptFile, PromptSetEntry, get_entry
from genmetrics_nb.weights import manager as _weights
from genmetrics_nb.weights.manifest import WeightsEntry

__all__ = ["PromptFileError", "PromptSet", "cache_dir", "check_file", "dsg1k_category", "load", "path"]


class PromptFileError(ValueError):
    """A prompt file is missing, or is not the published file."""


def cache_dir() -> Path:
    """``$GENMETRICS_HOME/prompts``."""
    return _weights.home() / "prompts"


def _file_of(entry: PromptSetEntry, filename: str | None) -> PromptFile:
    if filename is None:
        if len(entry.files) != 1:
            raise ValueError(f"prompt set {entry.name!r} has {len(entry.files)} files; name one with "
                             f"filename= ({', '.join(f.filename for f in entry.files)})")
        return entry.files[0]
    for f in entry.files:
        if f.filename == filename:
            return f
    raise ValueError(f"filename={filename!r} is not a file of {entry.name!r}; its files: "
                     f"{', '.join(f.filename for f in entry.files)}")


def check_file(name: str, file, *, filename: str | None = None, verify: bool = True) -> str:
    """sha256 of ``file``; raise :class:`PromptFileError` when it is not the manifest's.

    Parameters
    ----------
    name : str
        Manifest name (``"geneval"``).
    file : path-like
    filename : str, optional
        Which file of a multi-file set ``file`` is.
    verify : bool
        False: return the digest without comparing (a set with no pinned
        sha256 needs it).
    """
    entry = get_entry(name)
    pf = _file_of(entry, filename)
    file = Path(file)
    if not file.is_file():
        raise PromptFileError(f"{str(file)!r} is not a file; pass the path of {pf.filename} ({entry.title})")
    digest = _weights.sha256_file(file)
    if not verify:
        return digest
    if pf.sha256 is None:
        raise PromptFileError(
            f"{entry.name!r} has no pinned sha256 ({entry.notes.split(';')[0]}); load {str(file)!r} with "
            f"verify=False, and the set records the sha256 {digest} of your copy")
    if digest != pf.sha256:
        raise PromptFileError(
            f"{str(file)!r} is not the published {pf.filename} of {entry.repository}: its sha256 is {digest}, "
            f"expected {pf.sha256}. A rewritten or re-split prompt file changes the scores; fetch the "
            f"file from {pf.url}, or pass verify=False to use this copy (recorded as unverified)")
    return digest


def path(name: str, *, path=None, filename: str | None = None, download: bool | None = None,
         verify: bool = True) -> Path:
    """Local, sha256-checked path of one file of the prompt set ``name``.

    Parameters
    ----------
    name : str
        Manifest name.
    path : path-like, optional
        The file, or a folder holding it under its published name.
    filename : str, optional
        Which file of a multi-file set.
    download : bool, optional
        None: download into the cache when missing unless ``GENMETRICS_OFFLINE=1``;
        False: never; True: even in offline mode.
    verify : bool
        Refuse a file whose sha256 differs from the manifest's (default).

    Returns
    -------
    pathlib.Path
    """
    entry = get_entry(name)
    pf = _file_of(entry, filename)
    if path is not None:
        p = Path(path).expanduser()
        if p.is_dir():
            p = p / pf.filename
        if not p.is_file():
            raise PromptFileError(f"path={str(path)!r} holds no {pf.filename}; pass the file or the folder "
                                  f"that holds it (download: {pf.url or 'see the manifest notes'})")
        check_file(entry.name, p, filename=pf.filename, verify=verify)
        return p
    cached = cache_dir() / pf.filename
    if cached.is_file():
        check_file(entry.name, cached, filename=pf.filename, verify=verify)
        return cached
    allowed = (not _weights.is_offline()) if download is None else bool(download)
    if pf.url is None or pf.sha256 is None or not allowed:
        why = ("it has no pinned download (give your copy with path=... and verify=False)"
               if pf.url is None or pf.sha256 is None else
               f"downloading is off ({_weights.OFFLINE_ENV}=1 or download=False)")
        raise PromptFileError(
            f"prompt file {pf.filename} of {entry.name!r} is not in {cache_dir()} and {why}.\n"
            f"  url:    {pf.url}\n  sha256: {pf.sha256}\nPass its location with path=...")
    # the weights' download: streamed to a .part file, hashed, renamed only when the sha256 matches
    stand_in = WeightsEntry(name=f"prompts:{entry.name}", filename=pf.filename, url=pf.url, sha256=pf.sha256,
                            size=pf.size, license=entry.license, source=entry.repository)
    try:
        _weights.download(stand_in, cached, progress=True)
    except _weights.WeightsError as exc:
        raise PromptFileError(str(exc)) from None
    except OSError as exc:
        raise PromptFileError(f"could not download {pf.url} ({exc}); fetch it elsewhere and pass path=...") from exc
    return cached


_file_path = path  # load() takes a ``path=`` argument that hides the function


# -------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PromptSet:
    """Prompts of a benchmark, read from a checked file.

    Attributes
    ----------
    name : str
    prompts : tuple of str
    categories : tuple of str or None
        One per prompt (GenEval task, Parti category, T2I-CompBench category, HPDv2 style).
    metadata : tuple of dict or None
        One per prompt (GenEval's clauses, Parti's challenge and note).
    images_per_prompt : int or None
        As the benchmark's protocol says.
    entry : PromptSetEntry
    files : tuple of str
        The files read.
    sha256 : tuple of str
        Their digests.
    verified : bool
        False when loaded with ``verify=False`` (digests not compared, or none pinned).
    """

    name: str
    prompts: tuple
    categories: tuple | None
    metadata: tuple | None = dataclasses.field(repr=False)
    images_per_prompt: int | None
    entry: PromptSetEntry = dataclasses.field(repr=False)
    files: tuple = dataclasses.field(repr=False)
    sha256: tuple = dataclasses.field(repr=False)
    verified: bool = True

    def __len__(self) -> int:
        return len(self.prompts)

    def __iter__(self):
        return iter(self.prompts)

    def __getitem__(self, i):
        return self.prompts[i]

    def category_counts(self) -> dict:
        """Prompts per category, in order of first appearance."""
        out: dict = {}
        for c in self.categories or ():
            out[c] = out.get(c, 0) + 1
        return out

    def to_dict(self) -> dict:
        """What a protocol block records: the set, its files' digests, whether they were checked."""
        return {"name": self.name, "n_prompts": len(self), "images_per_prompt": self.images_per_prompt,
                "split": self.entry.split, "verified": self.verified,
                "files": [{"file": Path(f).name, "sha256": h} for f, h in zip(self.files, self.sha256)],
                "source": self.entry.source, "repository": self.entry.repository, "license": self.entry.license}

    def __repr__(self) -> str:
        cats = self.category_counts()
        c = f", {len(cats)} categories" if cats else ""
        v = "" if self.verified else ", UNVERIFIED"
        return (f"PromptSet({self.name!r}: {len(self)} prompts{c}, "
                f"{self.images_per_prompt or '?'} images/prompt, {self.entry.split.split(' (')[0]}{v})")

    def _repr_html_(self) -> str:
        cats = self.category_counts()
        rows = [("set", self.entry.title), ("prompts", len(self)), ("split", self.entry.split),
                ("images per prompt", self.images_per_prompt or "not fixed"),
                ("sha256", ", ".join(h[:12] for h in self.sha256) + ("" if self.verified else " (unverified)")),
                ("source", self.entry.source), ("licence", self.entry.license)]
        if cats:
            rows.insert(2, ("categories", ", ".join(f"{k} {v}" for k, v in list(cats.items())[:12])
                            + (" ..." if len(cats) > 12 else "")))
        body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"


# -------------------------------------------------------------------------------------------
_DSG1K_CATEGORIES = (
    (("tifa",), "tifa"),
    (("stanford", "localized"), "paragraph"),
    (("countbench",), "count"),
    (("vrd",), "relation"),
    (("diffusion", "midjourney"), "real_user"),
    (("posescript",), "pose"),
    (("whoops",), "defying"),
    (("drawtext",), "text"),
)


def dsg1k_category(item_id: str) -> str:
    """The DSG-1k category of an item id, by the substring of its source (first match wins).

    The rule of ``get_data_category`` in j-min/DSG ``dsg/data_utils.py``:
    ``tifa160_3`` -> ``"tifa"``, ``stanford_paragraph_5`` -> ``"paragraph"``.

    >>> dsg1k_category("whoops_5"), dsg1k_category("diffusiondb_12")
    ('defying', 'real_user')
    """
    for keys, cat in _DSG1K_CATEGORIES:
        if any(k in item_id for k in keys):
            return cat
    raise ValueError(f"item id {item_id!r} names no DSG-1k source "
                     f"({', '.join(k for keys, _ in _DSG1K_CATEGORIES for k in keys)})")


def _text(p: Path) -> str:
    return p.read_text(encoding="utf-8")


def _parse(entry: PromptSetEntry, pf: PromptFile, p: Path):
    """(prompts, categories, metadata) of one file."""
    fmt = entry.format
    if fmt == "lines":
        prompts = [line.strip() for line in _text(p).splitlines() if line.strip()]
        return prompts, [pf.category] * len(prompts), None
    if fmt == "json-list":
        data = json.loads(_text(p))
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            raise PromptFileError(f"{str(p)!r} is not a JSON list of prompts")
        return data, [pf.category] * len(data), None
    if fmt == "geneval-jsonl":
        meta = [json.loads(line) for line in _text(p).splitlines() if line.strip()]
        return [m["prompt"] for m in meta], [m["tag"] for m in meta], meta
    if fmt == "parti-tsv":
        rows = list(csv.DictReader(io.StringIO(_text(p)), delimiter="\t"))
        return ([r["Prompt"] for r in rows], [r["Category"] for r in rows],
                [{"challenge": r["Challenge"], "note": r["Note"]} for r in rows])
    if fmt in ("drawbench-csv", "caption-csv"):
        rows = list(csv.DictReader(io.StringIO(_text(p))))
        col = "Prompts" if fmt == "drawbench-csv" else "caption"
        if not rows or col not in rows[0]:
            raise PromptFileError(f"{str(p)!r} has no {col!r} column; {entry.notes}")
        cats = [r.get("Category") for r in rows] if fmt == "drawbench-csv" else None
        return [r[col] for r in rows], cats, None
    if fmt == "dsg-csv":
        items: dict = {}
        for r in csv.DictReader(io.StringIO(_text(p))):
            items.setdefault(r["item_id"], r["text"])
        ids = list(items)
        return [items[i] for i in ids], [dsg1k_category(i) for i in ids], [{"item_id": i} for i in ids]
    raise PromptFileError(f"{entry.name!r} is a {entry.kind} file, not a prompt set; get its path with "
                          f"gm.prompts.path({entry.name!r})")


def load(name: str, *, path=None, download: bool | None = None, verify: bool = True) -> PromptSet:
    """The prompt set ``name``, read from ``path`` or the cache, sha256 checked.

    Parameters
    ----------
    name : str
        ``"parti"``, ``"drawbench"``, ``"geneval"``, ``"t2i-compbench"``, ``"hpdv2"``,
        ``"coco30k"`` or ``"dsg1k"`` (:data:`genmetrics_nb.prompts.MANIFEST`).
    path : path-like, optional
        The file (single-file sets) or the folder holding the set's files.
    download : bool, optional
        See :func:`path`.
    verify : bool
        Refuse files whose sha256 is not the manifest's (default). False
        reads any copy and records ``verified=False`` with its digests.

    Returns
    -------
    PromptSet

    Raises
    ------
    PromptFileError
        A file is missing, or its sha256 differs (with ``verify=True``).

    Examples
    --------
    >>> import genmetrics_nb as gm
    >>> gm.prompts.load("geneval", path="evaluation_metadata.jsonl")  # doctest: +SKIP
    PromptSet('geneval': 553 prompts, 6 categories, 4 images/prompt, all)
    """
    entry = get_entry(name)
    prompts, cats, meta, files, digests = [], [], [], [], []
    any_meta = False
    for pf in entry.files:
        p = _file_path(entry.name, path=path, filename=pf.filename, download=download, verify=verify)
        digests.append(check_file(entry.name, p, filename=pf.filename, verify=False))
        pr, ca, me = _parse(entry, pf, p)
        if verify and pf.count is not None and len(pr) != pf.count:
            raise PromptFileError(f"{str(p)!r} holds {len(pr)} prompts, the manifest says {pf.count}")
        prompts += pr
        cats += ca if ca is not None else [None] * len(pr)
        any_meta |= me is not None
        meta += me if me is not None else [None] * len(pr)
        files.append(str(p))
    return PromptSet(
        name=entry.name, prompts=tuple(prompts),
        categories=tuple(cats) if any(c is not None for c in cats) else None,
        metadata=tuple(meta) if any_meta else None, images_per_prompt=entry.images_per_prompt,
        entry=entry, files=tuple(files), sha256=tuple(digests),
        verified=bool(verify and entry.verifiable),
    )
