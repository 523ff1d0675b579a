"""Standard text-to-image prompt sets: a manifest of their files, and a checked reader.

``gm.prompts.load("geneval", path=...)`` reads a benchmark's prompt file
from the user's copy (or the cache, or a download), refuses a file whose
sha256 is not the published one unless ``verify=False``, and returns a
:class:`PromptSet` (prompts, categories, per-prompt metadata, images per
prompt). No prompt file ships with the package: the manifest holds URLs at
pinned commits, digests and counts.
"""
from __future__ import annotations

from genmetrics_nb.prompts.load import (
    PromptFileError,
    PromptSet,
    cache_dir,
    check_file,
    dsg1k_category,
    load,
    path,
)
from genmetrics_nb.prompts.manifest import MANIFEST, PromptFile, PromptSetEntry, get_entry

__all__ = [
    "MANIFEST",
    "PromptFile",
    "PromptFileError",
    "PromptSet",
    "PromptSetEntry",
    "cache_dir",
    "check_file",
    "dsg1k_category",
    "get_entry",
    "list_sets",
    "load",
    "path",
]


def list_sets() -> list[dict]:
    """One row per manifest entry: name, kind, count, split, images per prompt, licence, pinned sha256."""
    return [{"name": e.name, "kind": e.kind, "count": e.count, "split": e.split,
             "images_per_prompt": e.images_per_prompt, "license": e.license, "pinned": e.verifiable}
            for e in MANIFEST.values()]
