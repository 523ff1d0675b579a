"""gm.prompted_images: images read through gm.resolve, prompts aligned with ImageSource.files."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

import genmetrics_nb as gm
from genmetrics_nb.prompts import MANIFEST, PromptSet
from genmetrics_nb.sources.prompted import prompted_images

META = [
    {"tag": "single_object", "include": [{"class": "bench", "count": 1}], "prompt": "a photo of a bench"},
    {"tag": "colors", "include": [{"class": "car", "count": 1, "color": "red"}], "prompt": "a photo of a red car"},
]


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)


def _geneval_set():
    return PromptSet(name="geneval", prompts=tuple(m["prompt"] for m in META), categories=tuple(m["tag"] for m in META),
                     metadata=tuple(META), images_per_prompt=4, entry=MANIFEST["geneval"], files=("x",),
                     sha256=("ab" * 32,), verified=False)


def _geneval_folder(root, n_prompts=2, per=2):
    for i in range(n_prompts):
        d = root / f"{i:05d}"
        d.mkdir(parents=True)
        (d / "metadata.jsonl").write_text(json.dumps(META[i]) + "\n")
        for k in range(per):
            _png(d / "samples" / f"{k:04d}.png", 10 * i + k)


def test_prompts_jsonl_aligns_prompts_with_files(tmp_path):
    for name, v in [("b.png", 1), ("a.png", 2), ("sub/c.png", 3)]:
        _png(tmp_path / name, v)
    lines = [{"file_name": "b.png", "prompt": "a cat", "category": "animals"},
             {"file": "sub/c.png", "prompt": "a dog"},
             {"file_name": "a.png", "prompt": "a cat", "category": "animals"}]
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    p = gm.prompted_images(tmp_path)
    assert [os.path.relpath(f, tmp_path) for f in p.images.files] == ["b.png", os.path.join("sub", "c.png"), "a.png"]
    assert p.prompts == ("a cat", "a dog", "a cat") and p.prompt_index == (0, 1, 0)
    assert p.categories == ("animals", None, "animals") and p.n_prompts == 2
    # the pixels of image i are the file of prompt i
    assert p.images.read_batch(0, 3)[:, 0, 0, 0].tolist() == [1, 3, 2]
    assert "3 images of 2 prompts" in repr(p)
    # the same lines in a file kept apart from the images
    (tmp_path / "prompts.jsonl").rename(tmp_path.parent / f"{tmp_path.name}-prompts.jsonl")
    q = gm.prompted_images(tmp_path, jsonl=tmp_path.parent / f"{tmp_path.name}-prompts.jsonl")
    assert q.prompts == p.prompts and q.images.files == p.images.files
    with pytest.raises(ValueError, match="jsonl=.* is not a file"):
        gm.prompted_images(tmp_path, jsonl=tmp_path / "missing.jsonl")


def test_prompts_jsonl_errors_name_the_problem(tmp_path):
    _png(tmp_path / "a.png", 1)
    with pytest.raises(ValueError, match="no prompts.jsonl"):
        prompted_images(tmp_path)
    (tmp_path / "prompts.jsonl").write_text(json.dumps({"file_name": "missing.png", "prompt": "x"}) + "\n")
    with pytest.raises(ValueError, match="'missing.png', which is not a file"):
        prompted_images(tmp_path)
    _png(tmp_path / "b.png", 2)
    (tmp_path / "prompts.jsonl").write_text(json.dumps({"file_name": "a.png", "prompt": "x"}) + "\n")
    with pytest.raises(ValueError, match="1 image\\(s\\) in .* have no prompt in prompts.jsonl, e.g. 'b.png'"):
        prompted_images(tmp_path)
    (tmp_path / "prompts.jsonl").write_text('{"file_name": "a.png"}\n')
    with pytest.raises(ValueError, match='needs "file_name" and "prompt"'):
        prompted_images(tmp_path)
    with pytest.raises(ValueError, match="is not a folder"):
        prompted_images(tmp_path / "nope")


def test_geneval_layout_reads_indices_metadata_and_checks_the_set(tmp_path):
    _geneval_folder(tmp_path)
    p = prompted_images(tmp_path, prompt_set="geneval", prompts=_geneval_set())
    assert p.prompt_index == (0, 0, 1, 1) and p.categories == ("single_object",) * 2 + ("colors",) * 2
    assert p.metadata[2] == META[1] and p.prompt_set == "geneval" and "(unverified)" in p.checked_against
    assert [os.path.relpath(f, tmp_path) for f in p.images.files][1] == os.path.join("00000", "samples", "0001.png")
    # the folder alone (no set) works, unchecked
    assert prompted_images(tmp_path, prompt_set="geneval").checked_against is None


def test_geneval_layout_errors(tmp_path):
    _geneval_folder(tmp_path, n_prompts=1)
    with pytest.raises(ValueError, match="1 prompt\\(s\\) of geneval have no image folder .* 00001/"):
        prompted_images(tmp_path, prompts=_geneval_set())
    (tmp_path / "00000" / "metadata.jsonl").write_text(json.dumps(dict(META[0], prompt="a bench, 8k")) + "\n")
    with pytest.raises(ValueError, match="rewritten prompts change the scores"):
        prompted_images(tmp_path, prompts=_geneval_set())
    (tmp_path / "00000" / "metadata.jsonl").unlink()
    with pytest.raises(ValueError, match="have no prompt: .*metadata.jsonl is missing"):
        prompted_images(tmp_path, prompt_set="geneval")
    (tmp_path / "00000" / "metadata.jsonl").write_text(json.dumps(META[0]) + "\n")
    for f in (tmp_path / "00000" / "samples").iterdir():
        f.unlink()
    with pytest.raises(ValueError, match="prompt 0 .* has no image"):
        prompted_images(tmp_path, prompt_set="geneval")


def test_t2i_compbench_names_and_unknown_layouts(tmp_path):
    _png(tmp_path / "a green bench_000000.png", 1)
    _png(tmp_path / "a green bench_000001.png", 2)
    _png(tmp_path / "a blue bowl_000000.png", 3)
    p = prompted_images(tmp_path, prompt_set="t2i-compbench")
    assert sorted(set(p.prompts)) == ["a blue bowl", "a green bench"]
    for f, t in zip(p.images.files, p.prompts):
        assert os.path.basename(f).startswith(t + "_")
    cs = PromptSet(name="t2i-compbench", prompts=("a green bench", "a blue bowl", "a red cup"),
                   categories=("color", "color", "shape"), metadata=None, images_per_prompt=None,
                   entry=MANIFEST["t2i-compbench"], files=(), sha256=(), verified=False)
    p2 = prompted_images(tmp_path, prompts=cs)
    assert set(p2.categories) == {"color"}
    _png(tmp_path / "a red cup_000000.png", 4)
    _png(tmp_path / "a purple cup_000000.png", 5)
    with pytest.raises(ValueError, match="'a purple cup' is not a prompt of t2i-compbench"):
        prompted_images(tmp_path, prompts=cs)
    with pytest.raises(ValueError, match="has no image layout here"):
        prompted_images(tmp_path, prompt_set="parti")
