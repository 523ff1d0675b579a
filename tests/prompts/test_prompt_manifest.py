"""The prompt-set manifest: every entry is complete, pinned where it can be, and self-consistent."""
from __future__ import annotations

import re

import pytest

import genmetrics_nb as gm
from genmetrics_nb.prompts import MANIFEST, get_entry

SHA = re.compile(r"^[0-9a-f]{64}$")
PINNED_URL = re.compile(r"^https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/")


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_entries_are_complete(name):
    e = MANIFEST[name]
    assert e.title and e.split and e.source and e.repository and e.license and e.format
    assert e.kind in ("prompts", "answers")
    assert sum(f.count for f in e.files) == e.count
    for f in e.files:
        if f.sha256 is None:
            # an unpinned file says how to load it
            assert "verify=False" in e.notes
        else:
            assert SHA.match(f.sha256), f.filename
            assert PINNED_URL.match(f.url), f"{f.url} is not at a pinned commit"
            assert f.url.endswith("/" + f.filename)


def test_the_issue_s_sets_are_there_with_their_published_sizes():
    # counts as the benchmarks publish them (papers / READMEs; research notes 2026-12-07)
    assert MANIFEST["geneval"].count == 553 and MANIFEST["geneval"].images_per_prompt == 4
    assert MANIFEST["parti"].count == 1632
    assert MANIFEST["drawbench"].count == 200
    assert MANIFEST["hpdv2"].count == 4 * 800
    assert [f.category for f in MANIFEST["hpdv2"].files] == ["anime", "concept-art", "paintings", "photo"]
    assert MANIFEST["coco30k"].count == 30000
    assert MANIFEST["dsg1k"].count == 1060
    cb = MANIFEST["t2i-compbench"]
    assert all(f.filename.endswith("_val.txt") and f.count == 300 for f in cb.files) and len(cb.files) == 8
    assert "validation" in cb.split
    assert {MANIFEST[n].kind for n in ("dsg-pali17b-answers", "tifa-sample-result")} == {"answers"}


def test_get_entry_names_the_known_sets():
    assert get_entry(" GenEval ") is MANIFEST["geneval"]
    with pytest.raises(ValueError, match="known: parti"):
        get_entry("partiprompts")
    with pytest.raises(TypeError, match="prompt-set name"):
        get_entry(3)
    rows = gm.prompts.list_sets()
    assert [r["name"] for r in rows] == list(MANIFEST)
    assert MANIFEST["geneval"].to_dict()["files"][0]["sha256"] == MANIFEST["geneval"].files[0].sha256
