"""The t2i suite (genmetrics_nb/suites/t2i/): inputs, summary, breakdowns, protocol.

References: the summary's numbers are compared with direct calls of the
public metrics (gm.clip_score, gm.cmmd) on the same files; the per-category
means and the worst prompts are recomputed here with numpy from the
per-image scores; file digests with hashlib.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

import genmetrics_nb as gm
from genmetrics_nb.datasets.fashionmnist import FASHION_MNIST_CLASSES
from genmetrics_nb.extractors.clip import CLIPVisionConfig
from genmetrics_nb.suites.t2i import (T2IModels, category_table, load_prompted, protocol_block, score_t2i,
                                      truncation_table, worst_aligned, write_class_prompt_folder)
from genmetrics_nb.testing import clip_checkpoint as cc

B32_SMALL = CLIPVisionConfig(width=128, layers=1, patch_size=32, image_size=224, embed_dim=64)
LONG = "a very long prompt about a red fox jumping over the lazy dog near the river bank " * 6


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("t2i")
    rng = np.random.default_rng(0)
    folder = d / "images"
    folder.mkdir()
    prompts = ["a red car", "a red car", "a cat", "a cat", LONG, "a bowl of fruit", "a bowl of fruit", "a dog"]
    cats = ["vehicles", "vehicles", "animals", "animals", "long", "food", "food", "animals"]
    with open(folder / "prompts.jsonl", "w") as fh:
        for i, (p, c) in enumerate(zip(prompts, cats)):
            low = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
            Image.fromarray(low).resize((48, 40), Image.BILINEAR).save(folder / f"{i}.png")
            fh.write(json.dumps({"file_name": f"{i}.png", "prompt": p, "category": c}) + "\n")
    clip = cc.write_openai_clip(d / "clip.pt", B32_SMALL, seed=3, vocab_size=49408)
    ref = d / "ref"
    ref.mkdir()
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)).save(ref / f"{i}.png")
    return {"folder": folder, "prompts": prompts, "cats": cats, "clip": clip, "ref": ref}


@pytest.fixture(scope="module")
def scores(data):
    from genmetrics_nb.extractors.clip_model import load_clip

    ext = load_clip(data["clip"], text=False, device="cpu").image
    models = T2IModels(clip=data["clip"], cmmd_extractor=ext, fd_extractor=None)
    return score_t2i(load_prompted(data["folder"]), models=models, reference=data["ref"], n_boot=50,
                     device="cpu", progress=False)


def test_summary_equals_the_metrics_called_directly(data, scores):
    from genmetrics_nb.extractors.clip_model import load_clip

    direct = gm.clip_score(data["folder"], data["prompts"], model=data["clip"], n_boot=50, device="cpu",
                           progress=False)
    assert np.array_equal(scores.clip.per_sample, direct.per_sample)
    assert scores.clip.value == direct.value and scores.clip.interval == direct.interval
    ext = load_clip(data["clip"], text=False, device="cpu").image
    files = sorted(str(p) for p in data["folder"].glob("*.png"))
    assert scores.cmmd.value == gm.cmmd(str(data["ref"]), files, extractor=ext, device="cpu", progress=False).value
    d = scores.to_dict()
    assert d["clip_score"] == direct.value and d["pickscore"] is None and d["fd_dinov2"] is None
    assert set(scores.skipped) == {"PickScore", "HPS v2.1", "ImageReward", "FD-DINOv2"}
    assert [r["metric"] for r in d["rows"]][:1] == ["CLIPScore (hessel2021)"]


def test_categories_are_means_of_the_per_image_scores(data, scores):
    cats = category_table(scores)
    per = np.asarray(scores.clip.per_sample)
    labels = np.asarray(data["cats"])
    assert [r["category"] for r in cats.rows] == ["vehicles", "animals", "long", "food"]
    for r in cats.rows:
        assert r["n"] == int((labels == r["category"]).sum())
        assert r["CLIPScore (hessel2021)"] == pytest.approx(per[labels == r["category"]].mean(), abs=1e-12)


def test_worst_aligned_prompts_have_the_lowest_mean_cosine(data, scores):
    w = worst_aligned(scores, k=2, per_prompt=1)
    cos = np.asarray(scores.clip.cosine)
    by_prompt = {p: cos[[i for i, q in enumerate(data["prompts"]) if q == p]].mean() for p in set(data["prompts"])}
    want = sorted(by_prompt, key=by_prompt.get)[:2]
    assert list(w.prompts) == want
    assert np.allclose(w.cosines, [by_prompt[p] for p in want])
    assert all(len(i) == 1 for i in w.images)
    assert all(data["prompts"][i[0]] == p for p, i in zip(w.prompts, w.images))


def test_truncation_report_names_the_long_prompt(scores):
    from genmetrics_nb.extractors.clip_tokenizer import clip_tokenize

    # the prefixed long prompt has more than 77 tokens under open_clip's tokenizer too
    rows = truncation_table(scores).rows
    assert rows[0]["metric"] == "CLIPScore" and rows[0]["truncated"] == "1 of 8"
    assert rows[0]["truncated prompts"].startswith("A photo depicts a very long prompt")
    _, report = clip_tokenize(["A photo depicts " + LONG])
    assert report.n_truncated == 1


def test_protocol_records_digests_and_convention(data, scores):
    p = protocol_block(scores).to_dict()
    digest = hashlib.sha256(data["clip"].read_bytes()).hexdigest()
    assert digest in p["CLIPScore"] and "hessel2021" in p["CLIPScore"]
    assert p["n images"] == 8 and p["n prompts"] == 5
    assert p["PickScore"].startswith("not computed")
    assert "<table>" in protocol_block(scores)._repr_html_()


def test_load_prompted_from_a_separate_jsonl_and_bad_prompts(data, tmp_path):
    other = tmp_path / "elsewhere.jsonl"
    other.write_text((data["folder"] / "prompts.jsonl").read_text())
    p = load_prompted(data["folder"], other)
    assert list(p.prompts) == data["prompts"]
    with pytest.raises(ValueError, match="neither a prompts.jsonl"):
        load_prompted(data["folder"], "partiprompts-typo")
    with pytest.raises(ValueError, match="images is None"):
        load_prompted(None)
    with pytest.raises(TypeError, match="T2IModels"):
        score_t2i(p, models={"clip": data["clip"]})


def test_stand_in_folder_prompts_name_the_classes(tmp_path):
    a = write_class_prompt_folder(tmp_path / "a", n_per_class=2, size=32, seed=1)
    b = write_class_prompt_folder(tmp_path / "b", n_per_class=2, size=32, seed=1, offset=2)
    lines = [json.loads(x) for x in (a / "prompts.jsonl").read_text().splitlines()]
    assert len(lines) == 20
    assert [x["category"] for x in lines] == [c for c in FASHION_MNIST_CLASSES for _ in range(2)]
    assert all(x["prompt"] == f"a photo of a {x['category'].lower()}" for x in lines)
    assert Image.open(a / lines[0]["file_name"]).size == (32, 32)
    # the reference draws other images of the same classes
    pa = {(a / f"{i:05d}.png").read_bytes() for i in range(20)}
    pb = {(b / f"{i:05d}.png").read_bytes() for i in range(20)}
    assert not pa & pb
