"""``genmetrics-nb evaluate-t2i``: the notebook through the report runner on the user's folder.

The run uses ``--stand-ins`` (random-weight checkpoints in each publisher's
format) on a folder the test writes, with a prompts.jsonl kept apart from the
images and one prompt over CLIP's 77 tokens.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from genmetrics_nb.cli import main

LONG = "a very long prompt about a red fox jumping over the lazy dog near the river bank " * 6


def test_bad_arguments(capsys, tmp_path):
    assert main(["evaluate-t2i"]) == 2
    assert "IMAGES is missing" in capsys.readouterr().err
    assert main(["evaluate-t2i", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.notebook
@pytest.mark.slow
def test_evaluate_t2i_on_a_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))
    folder = tmp_path / "samples"
    folder.mkdir()
    rng = np.random.default_rng(0)
    prompts = ["a red car", "a red car", LONG, "a cat"]
    with open(tmp_path / "my-prompts.jsonl", "w") as fh:
        for i, p in enumerate(prompts):
            Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(folder / f"{i}.png")
            fh.write(json.dumps({"file_name": f"{i}.png", "prompt": p}) + "\n")
    out = tmp_path / "out"
    rc = main(["evaluate-t2i", str(folder), "--prompts", str(tmp_path / "my-prompts.jsonl"), "--stand-ins",
               "--out", str(out), "-p", "n_boot=5", "-p", "n_per_class=1", "-p", "fd_extractor=null",
               "--json"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    report = json.loads(printed)
    assert report["status"] == "ok" and report["summary"]["stand_ins"] is True
    assert report["summary"]["rows"][0]["metric"] == "CLIPScore (hessel2021)"
    results = json.loads((out / "t2i" / "results.json").read_text())["metrics"]
    assert "the images and prompts are yours" in results["inputs"]["note"]
    assert results["inputs"]["prompted"]["n_images"] == 4
    assert results["truncation"]["rows"][0]["truncated"] == "1 of 4"
    assert results["categories"]["applies"] is False
    assert results["summary"]["fd_dinov2"] is None and "FD-DINOv2" in results["summary"]["skipped"]
    assert isinstance(results["summary"]["cmmd"], float)
    assert (out / "t2i" / "t2i.html").is_file()
