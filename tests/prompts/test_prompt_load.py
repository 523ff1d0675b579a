"""gm.prompts.load: sha256 checked against the manifest, verify=False recorded, download verified.

The files are written here (no published prompt file is committed); each toy entry's sha256 is
computed with hashlib on the bytes written, independently of the package.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from genmetrics_nb import prompts
from genmetrics_nb.prompts import MANIFEST, PromptFile, PromptFileError, PromptSetEntry, dsg1k_category

GENEVAL_LINES = [
    {"tag": "single_object", "include": [{"class": "bench", "count": 1}], "prompt": "a photo of a bench"},
    {"tag": "counting", "include": [{"class": "cup", "count": 2}], "exclude": [{"class": "cup", "count": 3}],
     "prompt": "a photo of two cups"},
    {"tag": "colors", "include": [{"class": "car", "count": 1, "color": "red"}], "prompt": "a photo of a red car"},
]


def _toy(monkeypatch, tmp_path, *, text: str, filename: str, fmt: str, name="toy", sha=None, url=None, count=3):
    f = tmp_path / "src" / filename
    f.parent.mkdir(exist_ok=True)
    f.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    entry = PromptSetEntry(name=name, title="toy", files=(PromptFile(filename, url, sha or digest, len(text.encode()),
                                                                     count, "cat0" if fmt == "lines" else None),),
                           count=count, split="all", images_per_prompt=4, format=fmt, source="test",
                           repository="test", license="MIT", notes="test; load with verify=False")
    monkeypatch.setitem(MANIFEST, name, entry)
    return f, digest


def _geneval_text():
    return "".join(json.dumps(m) + "\n" for m in GENEVAL_LINES)


def test_geneval_format_parses_prompts_tasks_and_metadata(monkeypatch, tmp_path):
    f, digest = _toy(monkeypatch, tmp_path, text=_geneval_text(), filename="evaluation_metadata.jsonl",
                     fmt="geneval-jsonl")
    s = prompts.load("toy", path=f)
    assert s.prompts == tuple(m["prompt"] for m in GENEVAL_LINES)
    assert s.categories == ("single_object", "counting", "colors")
    assert s.metadata[1] == GENEVAL_LINES[1]
    assert s.verified and s.sha256 == (digest,) and s.images_per_prompt == 4
    assert "3 prompts" in repr(s) and "UNVERIFIED" not in repr(s)
    assert "<table>" in s._repr_html_()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.prompts = ()
    # a folder holding the file under its published name works too
    assert prompts.load("toy", path=f.parent).prompts == s.prompts


def test_a_different_file_is_refused_unless_verify_false(monkeypatch, tmp_path):
    f, digest = _toy(monkeypatch, tmp_path, text=_geneval_text(), filename="evaluation_metadata.jsonl",
                     fmt="geneval-jsonl", sha="0" * 64)
    with pytest.raises(PromptFileError, match=f"its sha256 is {digest}, expected 0000"):
        prompts.load("toy", path=f)
    s = prompts.load("toy", path=f, verify=False)
    assert not s.verified and s.sha256 == (digest,) and "UNVERIFIED" in repr(s)
    assert s.to_dict()["verified"] is False


def test_unpinned_sets_need_verify_false(tmp_path):
    f = tmp_path / "drawbench.csv"
    f.write_text("Prompts,Category\nA red cube.,Colors\nTwo dogs.,Counting\n")
    with pytest.raises(PromptFileError, match="no pinned sha256"):
        prompts.load("drawbench", path=f)
    s = prompts.load("drawbench", path=f, verify=False)
    assert s.prompts == ("A red cube.", "Two dogs.") and s.categories == ("Colors", "Counting")
    assert s.sha256 == (hashlib.sha256(f.read_bytes()).hexdigest(),) and not s.verified


def test_download_goes_through_the_verified_cache(monkeypatch, tmp_path):
    text = "a cat\na dog\na bird\n"
    src = tmp_path / "served.txt"
    src.write_text(text)
    _toy(monkeypatch, tmp_path, text=text, filename="toy_val.txt", fmt="lines", url=src.as_uri())
    monkeypatch.delenv("GENMETRICS_OFFLINE", raising=False)
    s = prompts.load("toy")
    assert s.prompts == ("a cat", "a dog", "a bird") and s.categories == ("cat0",) * 3
    assert Path(s.files[0]) == prompts.cache_dir() / "toy_val.txt"
    # a served file that is not the published one never reaches the cache
    _toy(monkeypatch, tmp_path, text=text, filename="bad_val.txt", fmt="lines", name="bad", url=src.as_uri(),
         sha="1" * 64)
    with pytest.raises(PromptFileError, match="sha256"):
        prompts.load("bad")
    assert not (prompts.cache_dir() / "bad_val.txt").exists()


def test_offline_message_gives_url_and_sha(monkeypatch):
    monkeypatch.setenv("GENMETRICS_OFFLINE", "1")
    e = MANIFEST["geneval"]
    with pytest.raises(PromptFileError, match="downloading is off") as info:
        prompts.load("geneval")
    assert e.files[0].url in str(info.value) and e.files[0].sha256 in str(info.value)
    with pytest.raises(PromptFileError, match="holds no evaluation_metadata.jsonl"):
        prompts.load("geneval", path=Path(__file__).parent)


def test_count_mismatch_is_refused(monkeypatch, tmp_path):
    f, _ = _toy(monkeypatch, tmp_path, text="one\ntwo\n", filename="x_val.txt", fmt="lines", count=3)
    with pytest.raises(PromptFileError, match="holds 2 prompts, the manifest says 3"):
        prompts.load("toy", path=f)


def test_answer_files_are_not_prompt_sets():
    from genmetrics_nb.prompts.load import _parse

    e = MANIFEST["tifa-sample-result"]
    with pytest.raises(PromptFileError, match="not a prompt set"):
        _parse(e, e.files[0], Path("unused"))


def test_dsg1k_category_equals_the_reference_rule():
    spec = importlib.util.spec_from_file_location(
        "dsg_reference", Path(__file__).resolve().parents[1] / "reference" / "dsg_reference.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    ids = ["tifa160_3", "stanford_paragraph_9", "localized_narratives_2", "countbench_5", "vrd_7",
           "diffusiondb_1", "midjourney_4", "posescript_8", "whoops_5", "drawtext_6"]
    assert [dsg1k_category(i) for i in ids] == [ref.get_data_category(i) for i in ids]
    with pytest.raises(ValueError, match="names no DSG-1k source"):
        dsg1k_category("coco_1")
