"""The evaluate notebook's steps, its command, and its sources.

References: the summary's numbers are compared with direct calls of the
public metrics on the same features; the memorisation check with the
copies the test planted itself.
"""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from PIL import Image

import genmetrics_nb as gm
from genmetrics_nb.experiments import evaluate as E
from genmetrics_nb.experiments.evaluate_sets import load_sets, sample_source
from genmetrics_nb.testing.extractors import register_tiny_extractor

register_tiny_extractor("test-tiny")


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))


def _images(seed, n=60, size=24):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, 3, 1, 1))
    return np.clip(base + rng.integers(-40, 40, (n, 3, size, size)), 0, 255).astype(np.uint8)


def _write_pngs(folder, x):
    folder.mkdir(parents=True)
    for i, img in enumerate(x):
        Image.fromarray(img.transpose(1, 2, 0)).save(folder / f"{i:03d}.png")
    return folder


OPTS = dict(extractor="test-tiny", num_images=None, progress=False, device="cpu")


def test_summary_equals_direct_metric_calls():
    real, a, b = _images(0), _images(1), _images(2)
    ev = load_sets(real, [a, b], names=["a", "b"], **OPTS)
    s = E.summary_table(ev, k=3, n_boot=0, kid_subsets=5, progress=False)
    for g, row in zip(ev.generated, s.rows):
        assert row["fd"] == gm.fid(ev.real.fd, g.fd).value
        kid = gm.kid(ev.real.fd, g.fd, subsets=5, subset_size=E._kid_subset(ev.real.n, g.n), progress=False)
        assert (row["kid"], row["kid_std"]) == (kid.value, kid.std)
        pr = gm.precision_recall(ev.real.pr, g.pr, k=3, progress=False)
        dc = gm.density_coverage(ev.real.pr, g.pr, k=3, progress=False)
        assert (row["precision"], row["recall"]) == (pr.precision, pr.recall)
        assert (row["density"], row["coverage"]) == (dc.density, dc.coverage)
    # and the features are the extractor's on the images themselves
    f = gm.extract_features(a, "test-tiny", device="cpu", progress=False, cache=False)
    np.testing.assert_array_equal(ev.get("a").fd, f["feat"])
    assert s.fd_name == "FD_test-tiny"


def test_intervals_contain_their_estimates():
    real, a = _images(0), _images(1)
    ev = load_sets(real, [a], **OPTS)
    s = E.summary_table(ev, n_boot=8, kid_subsets=3, progress=False)
    row = s.rows[0]
    for key in ("fd", "precision", "recall", "density", "coverage"):
        assert row[f"{key}_low"] <= row[key] <= row[f"{key}_high"], key
    assert "re-centred" in s.interval and "&#9733;" not in s._repr_html_()  # one set: nothing marked best


def test_folder_zip_and_npz_give_identical_features(tmp_path):
    real, gen = _images(0, n=30), _images(3, n=30)
    folder = _write_pngs(tmp_path / "gen", gen)
    with zipfile.ZipFile(tmp_path / "gen.zip", "w") as z:
        for p in sorted(folder.iterdir()):
            z.write(p, p.name)
    np.savez(tmp_path / "gen.npz", arr_0=gen.transpose(0, 2, 3, 1))  # guided-diffusion layout: N x H x W x 3
    ev = load_sets(real, [str(folder), str(tmp_path / "gen.zip"), str(tmp_path / "gen.npz")],
                   names=["folder", "zip", "npz"], **OPTS)
    np.testing.assert_array_equal(ev.get("folder").fd, ev.get("zip").fd)
    np.testing.assert_array_equal(ev.get("folder").fd, ev.get("npz").fd)


def test_memorisation_flags_the_planted_copies():
    real = _images(0, n=100)
    fresh = _images(5, n=90)
    copied_rows = np.arange(0, 100, 10)  # 10 % of the generated set copies real images
    gen = np.concatenate([fresh, real[copied_rows]])
    ev = load_sets(real, [gen], names=["copier"], **OPTS)
    memo = E.memorisation(ev, n_show=10)
    ref_rows = set(ev.real.rows.tolist())
    planted = [90 + i for i, r in enumerate(copied_rows) if r in ref_rows]  # copies of reference images
    assert planted, "the seeded split put every copy in the held-out part"
    assert sorted(memo.flagged["copier"].tolist()) == planted
    assert set(memo.closest["copier"][: len(planted)].tolist()) == set(planted)
    assert np.all(memo.generated["copier"][1][planted] == 0)
    assert "Possible copies" in E.verdict(E.summary_table(ev, n_boot=0, kid_subsets=2, progress=False), memo).statement


def test_per_class_uses_labels_of_class_folders(tmp_path):
    for split, seed in (("real", 0), ("gen", 1)):
        for c, name in enumerate(["a", "b", "c"]):
            _write_pngs(tmp_path / split / name, _images(seed * 10 + c, n=8 + c))
    ev = load_sets(str(tmp_path / "real"), [str(tmp_path / "gen")], **OPTS)
    pc = E.per_class(ev)
    assert pc.applies and pc.class_names == ["a", "b", "c"]
    assert pc.generated_counts["gen"].tolist() == [8, 9, 10]
    assert pc.real_counts.sum() == ev.real.n


def test_per_class_says_why_it_does_not_apply():
    ev = load_sets(_images(0), [_images(1)], **OPTS)
    pc = E.per_class(ev)
    assert not pc.applies and "no class labels" in pc._repr_html_()


def test_fd_is_called_fid_only_on_the_tf_inception():
    from genmetrics_nb.metrics.distribution.fid import fd_label

    assert fd_label("inception-v3-fid") == "FID"
    assert fd_label("efficientnet-lite0") == "FD_efficientnet-lite0"
    r = gm.fid(_images(0), _images(1), extractor="test-tiny", device="cpu", progress=False)
    assert r.name == "FD_test-tiny" and str(r).startswith("FD_test-tiny =") and r.to_dict()["name"] == "FD_test-tiny"
    assert "FID" not in r._repr_html_()


@pytest.mark.parametrize("make, exc, match", [
    (lambda p: str(p.mkdir() or p), ValueError, "no image files"),
    (lambda p: str(zipfile.ZipFile(p.with_suffix(".zip"), "w").close() or p.with_suffix(".zip")), ValueError,
     "no image"),
    (lambda p: "not-a-source", ValueError, "not-a-source"),
    (lambda p: gm.FeatureStats.from_features(np.random.default_rng(0).normal(size=(9, 3))), TypeError,
     "generated\\[0\\] is statistics"),
])
def test_bad_sources_name_the_argument(tmp_path, make, exc, match):
    src = make(tmp_path / "bad")
    with pytest.raises(exc, match=match):
        sample_source(src, num_images=None, name="generated[0]")


def test_generator_names_need_num_images():
    with pytest.raises(ValueError, match="num_images"):
        sample_source("fmnist-stylegan-it00250", num_images=None, name="generated[0]")


@pytest.mark.notebook
def test_command_writes_a_report_and_prints_the_table(tmp_path, capsys):
    from genmetrics_nb.cli import main

    ds = gm.datasets.fashion_mnist("test")
    real = _write_pngs(tmp_path / "real_pngs", np.repeat(ds.images[:48], 3, axis=1))
    fake = _write_pngs(tmp_path / "fake_pngs", np.repeat(ds.images[48:96], 3, axis=1))
    out = tmp_path / "ev"
    code = main(["evaluate", str(real), str(fake), "--extractor", "efficientnet-lite0", "--out", str(out),
                 "-p", "n_boot=2", "--names", "fake"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "FD_efficientnet-lite0" in printed and str(out / "evaluate" / "evaluate.html") in printed
    html = (out / "evaluate" / "evaluate.html").read_text()
    for section in ("Summary", "Samples", "Realism score", "Memorisation check", "Per class", "Sample size",
                    "Protocol", "Verdict"):
        assert section in html
    assert "FID" not in json.loads((out / "evaluate" / "results.json").read_text())["metrics"]["summary"]["fd_name"]


@pytest.mark.notebook
def test_command_leaves_a_failed_report_for_bad_input(tmp_path, capsys):
    from genmetrics_nb.cli import main

    (tmp_path / "empty").mkdir()
    real = _write_pngs(tmp_path / "real", _images(0, n=12))
    code = main(["evaluate", str(real), str(tmp_path / "empty"), "--extractor", "efficientnet-lite0",
                 "--out", str(tmp_path / "ev")])
    err = capsys.readouterr().err
    assert code == 1 and "failed" in err and "no image files" in err
    assert (tmp_path / "ev" / "evaluate" / "evaluate.html").is_file()


def test_reproduction_notebooks_accept_a_class_folder(tmp_path):
    # the class-pair FID, IS, KID and precision/recall notebooks take `dataset` through class_features
    for c, name in enumerate(["airplane", "cat"]):
        _write_pngs(tmp_path / "cifar" / name, _images(c, n=6))
    feats = gm.experiments.class_features(str(tmp_path / "cifar"), extractor="test-tiny", n_per_class=4,
                                          device="cpu", progress=False)
    assert feats.class_names == ["airplane", "cat"] and feats.count(0) == feats.count(1) == 4
    direct = gm.extract_features(_images(0, n=6)[feats.indices[0]], "test-tiny", device="cpu", progress=False,
                                 cache=False)
    np.testing.assert_array_equal(feats.rows(0, 0, 4), direct["feat"])
    with pytest.raises(ValueError, match="neither a registered dataset .* nor an existing folder"):
        gm.experiments.class_features("no-such-folder", extractor="test-tiny")
