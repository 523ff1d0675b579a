"""The evaluate suite, its notebook and its command.

References: the summary's numbers are compared with the public metric
functions (``gm.fid``, ``gm.kid``, ``gm.precision_recall``,
``gm.density_coverage``) and with the ``fid``, ``kid`` and ``prc`` commands on
the same folders; the memorisation check and the realism score's copies
with the copies the tests planted themselves; the sample grids with the
labels the tests wrote.
"""
from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

import genmetrics_nb as gm
from genmetrics_nb.suites import evaluate as E
from genmetrics_nb.suites.evaluate.sets import draw_rows, load_sets, read_set
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


OPTS = dict(extractor="test-tiny", progress=False, device="cpu")
TINY = dict(extractor="test-tiny", device="cpu", progress=False)


def test_summary_is_the_metric_functions_on_the_same_folders(tmp_path):
    # more images than one batch of 64, and sets of different sizes: all of each is used
    real = _write_pngs(tmp_path / "real", _images(0, n=150))
    fake = _write_pngs(tmp_path / "fake", _images(1, n=130))
    ev = load_sets(str(real), [str(fake)], names=["fake"], **OPTS)
    assert (ev.real.n, ev.real.n_total, ev.get("fake").n) == (150, 150, 130)
    s = E.summary_table(ev, k=3, n_boot=0, kid_subsets=5, seed=3, progress=False, device="cpu")
    row = s.rows[0]
    assert row["n"] == 130 and s.n_reference == 150
    assert row["fd"] == gm.fid(str(real), str(fake), **TINY).value
    pr = gm.precision_recall(str(real), str(fake), k=3, **TINY)
    dc = gm.density_coverage(str(real), str(fake), k=3, **TINY)
    assert (row["precision"], row["recall"]) == (pr.precision, pr.recall)
    assert (row["density"], row["coverage"]) == (dc.density, dc.coverage)
    kid = gm.kid(str(real), str(fake), subsets=5, subset_size=row["kid_subset_size"], seed=3, **TINY)
    assert (row["kid"], row["kid_std"]) == (kid.value, kid.std)
    feats = gm.extract_features(str(fake), "test-tiny", device="cpu", progress=False, cache=False)
    inf = gm.fid_infinity(ev.real.fd, feats["feat"], seed=3, device="cpu", progress=False)
    assert row["fd_inf"] == inf.value
    # the sample-size section fits the same FD-infinity
    assert E.sample_size_curve(ev, seed=3, device="cpu")[0].fd_infinity.value == row["fd_inf"]
    assert "n = 150" in s._repr_html_() and "(n = 130)" in str(s)


def test_inception_score_is_gm_inception_score(tmp_path):
    register_tiny_extractor("test-tiny-logits", logits=True)
    fake = _write_pngs(tmp_path / "fake", _images(1, n=40))
    ev = load_sets(_images(0, n=30), [str(fake)], extractor="test-tiny-logits", progress=False, device="cpu")
    row = E.summary_table(ev, n_boot=0, kid_subsets=2, progress=False, device="cpu").rows[0]
    r = gm.inception_score(str(fake), extractor="test-tiny-logits", device="cpu", progress=False)
    assert (row["is"], row["is_std"]) == (r.value, r.std)


def test_summary_leaves_the_reference_whole_with_or_without_heldout():
    real, fake, held = _images(0, n=80), _images(1, n=70), _images(2, n=30)
    s0 = E.summary_table(load_sets(real, [fake], **OPTS), n_boot=0, kid_subsets=3, progress=False)
    ev = load_sets(real, [fake], heldout=held, **OPTS)
    s1 = E.summary_table(ev, n_boot=0, kid_subsets=3, progress=False)
    keys = ("fd", "kid", "precision", "recall", "density", "coverage", "fd_inf")
    assert [s0.rows[0][k] for k in keys] == [s1.rows[0][k] for k in keys]
    assert s1.baseline["n"] == 30 and s1.baseline["n_reference"] == 80
    assert s1.baseline["fd"] == gm.fid(real, held, **TINY).value
    assert s0.baseline["n"] + s0.baseline["n_reference"] == 80 and "for this section only" in s0.baseline_note


def test_num_images_caps_each_set_with_a_stated_seeded_subset():
    real, fake = _images(0, n=50), _images(1, n=20)
    ev = load_sets(real, [fake], num_images=30, seed=4, **OPTS)
    assert (ev.real.n, ev.real.n_total, ev.generated[0].n, ev.generated[0].n_total) == (30, 50, 20, 20)
    rows = np.sort(np.random.default_rng(4).choice(50, 30, replace=False))  # the stated rule
    direct = gm.extract_features(real[rows], "test-tiny", device="cpu", progress=False, cache=False)
    np.testing.assert_array_equal(ev.real.fd, direct["feat"])
    table = E.protocol_table(ev).to_dict()
    assert table["n (real)"] == "30 used of 50: a seeded random subset (seed 4)"
    assert table["n (generated 1)"] == "20 used of 20: all"
    assert "30 of the 50 images of" in ev.real.description and "(seeded subset, seed 4)" in ev.real.description


def test_intervals_contain_their_estimates():
    ev = load_sets(_images(0), [_images(1)], **OPTS)
    s = E.summary_table(ev, n_boot=8, kid_subsets=3, progress=False)
    row = s.rows[0]
    for key in ("fd", "precision", "recall", "density", "coverage"):
        assert row[f"{key}_low"] <= row[key] <= row[f"{key}_high"], key
    assert row["fd"] == gm.fid(ev.real.fd, ev.generated[0].fd).value  # the bootstrap does not move the value
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


@pytest.mark.parametrize("given_heldout", [True, False])
def test_memorisation_flags_every_copy_against_a_larger_reference(given_heldout):
    # 900 reference images; 889 generated, of which 89 exact copies of reference images
    real = _images(0, n=900)
    copied = np.random.default_rng(7).choice(900, 89, replace=False)
    gen = np.concatenate([_images(5, n=800), real[copied]])
    fresh, held = _images(6, n=200), _images(8, n=200)  # new real images, none a copy
    ev = load_sets(real, [gen, fresh], names=["copier", "new real"], heldout=held if given_heldout else None,
                   **OPTS)
    memo = E.memorisation(ev, n_show=10, block_size=256, device="cpu")
    planted = list(range(800, 889))
    assert sorted(memo.flagged["copier"].tolist()) == planted
    np.testing.assert_array_equal(memo.generated["copier"][0][planted], copied)  # rows of the whole reference
    assert np.all(memo.generated["copier"][1][planted] == 0)
    assert len(memo.flagged["new real"]) == 0 and memo.heldout_flagged == 0
    assert memo.n_reference == 900
    assert ("for this section only" in memo.note) != given_heldout
    assert ("for this section only" in memo._repr_html_()) != given_heldout
    v = gm.experiments.evaluate_verdict(E.summary_table(ev, n_boot=0, kid_subsets=2, progress=False), memo)
    assert v.reproduced is None and "no claim" in v.statement
    assert "possible copies of reference images: copier 89" in v.statement


def test_realism_shows_copies_as_copies():
    real = _images(0, n=80)
    gen = np.concatenate([_images(5, n=40), real[:3]])
    ev = load_sets(real, [gen], names=["g"], **OPTS)
    gal = E.realism(ev, n_show=6, device="cpu")
    assert np.flatnonzero(gal.copies["g"]).tolist() == [40, 41, 42]
    assert set(gal.most["g"][:3].tolist()) == {40, 41, 42}
    assert gal.label("g", [40, 0])[0] == "copy" and gal.label("g", [0])[0] != "copy"
    text = gal.range_text("g", gal.most["g"])
    assert "3 copies" in text and max(float(v) for v in re.findall(r"\d+\.\d+", text)) < 100
    assert gal.to_dict()["copies"] == {"g": 3} and "copies" in gal._repr_html_()


def test_sample_grids_draw_every_class_and_a_seeded_random_sample():
    labels = np.repeat(np.arange(10), 50)  # class-sorted, as a class-per-folder set is
    rows = draw_rows(500, 16, labels=labels, seed=0)
    assert set(labels[rows]) == set(range(10)) and len(set(rows.tolist())) == 16
    assert np.all(np.diff(labels[rows]) >= 0)  # grouped by class
    np.testing.assert_array_equal(rows, draw_rows(500, 16, labels=labels, seed=0))
    assert not np.array_equal(rows, draw_rows(500, 16, labels=labels, seed=1))
    plain = draw_rows(500, 16, seed=0)
    assert plain.max() >= 16 and len(set(plain.tolist())) == 16  # not the first 16


def test_per_class_uses_labels_of_class_folders(tmp_path):
    for split, seed in (("real", 0), ("gen", 1)):
        for c, name in enumerate(["a", "b", "c"]):
            _write_pngs(tmp_path / split / name, _images(seed * 10 + c, n=8 + c))
    ev = load_sets(str(tmp_path / "real"), [str(tmp_path / "gen")], **OPTS)
    pc = E.per_class(ev)
    assert pc.applies and pc.class_names == ["a", "b", "c"]
    assert pc.generated_counts["gen"].tolist() == [8, 9, 10]
    assert pc.real_counts.sum() == ev.real.n == 27
    assert set(ev.real.labels[ev.real.draw(3)]) == {0, 1, 2}


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
        read_set(src, num_images=None, name="generated[0]")


def test_generator_names_need_num_images():
    with pytest.raises(ValueError, match="num_images"):
        read_set("fmnist-stylegan-it00250", num_images=None, name="generated[0]")
    with pytest.raises(ValueError, match="heldout_share"):
        load_sets(_images(0), [_images(1)], heldout_share=1.5, **OPTS)


# ----------------------------------------------------------------------------- command and notebook
def _json_out(capsys):
    out = capsys.readouterr().out
    return json.loads(out[out.index("{"):])


@pytest.mark.notebook
def test_command_prints_the_numbers_of_the_fid_kid_and_prc_commands(tmp_path, capsys):
    from genmetrics_nb.cli import main
    from genmetrics_nb.cli.evaluate import _print_summary

    ds = gm.datasets.fashion_mnist("test")
    real = _write_pngs(tmp_path / "real_pngs", np.repeat(ds.images[:70], 3, axis=1))
    fake = _write_pngs(tmp_path / "fake_pngs", np.repeat(ds.images[100:160], 3, axis=1))
    out = tmp_path / "ev"
    ext = ["--extractor", "efficientnet-lite0"]
    assert main(["evaluate", str(real), str(fake), *ext, "--out", str(out), "-p", "n_boot=2", "--names", "fake",
                 "--json"]) == 0
    printed = _json_out(capsys)
    row, summary = printed["summary"]["rows"]["fake"], printed["summary"]
    assert (row["n"], summary["n_reference"]) == (60, 70)  # every image, no held-out set taken
    assert main(["fid", str(real), str(fake), *ext, "--no-progress", "--json"]) == 0
    assert row["fd"] == _json_out(capsys)["value"]
    assert main(["prc", str(real), str(fake), *ext, "--k", "3", "--density-coverage", "--no-progress", "--json"]) == 0
    prc = _json_out(capsys)
    pr, dc = prc["precision_recall"], prc["density_coverage"]
    assert (row["precision"], row["recall"]) == (pr["precision"], pr["recall"])
    assert (row["density"], row["coverage"]) == (dc["density"], dc["coverage"])
    assert main(["kid", str(real), str(fake), *ext, "--subset-size", str(row["kid_subset_size"]), "--no-progress",
                 "--json"]) == 0
    assert row["kid"] == _json_out(capsys)["value"]
    if "is" in row:  # an extractor with logits
        assert main(["isc", str(fake), *ext, "--no-progress", "--json"]) == 0
        isc = _json_out(capsys)
        assert (row["is"], row["is_std"]) == (isc["value"], isc["std"])
    # the printed table states n and carries the fid command's digits
    _print_summary(summary, "report.html")
    table = capsys.readouterr().out
    assert re.search(r"^fake\s+60\s", table, re.M) and "whole reference, n = 70" in table
    assert main(["fid", str(real), str(fake), *ext, "--no-progress"]) == 0
    fid_digits = re.search(r"= ([0-9.]+)", capsys.readouterr().out).group(1)
    assert f" {fid_digits}" in table
    html = (out / "evaluate" / "evaluate.html").read_text()
    for section in ("Summary", "Samples", "Realism score", "Memorisation check", "Per class", "Sample size",
                    "Protocol", "Verdict"):
        assert section in html
    assert "70 used of 70: all" in html and "60 used of 60: all" in html
    assert "FID" not in summary["fd_name"]


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


@pytest.mark.notebook
def test_notebook_smoke_profile(tmp_path):
    from genmetrics_nb.report.runner import run_notebook

    run = run_notebook("evaluate", profile="smoke", out_dir=tmp_path, timeout=600)
    assert run.ok, run.error
    m = run.results["metrics"]
    assert m["verdict"]["reproduced"] is None and "no claim" in m["verdict"]["statement"]
    assert {r["n"] for r in m["summary"]["rows"].values()} == {40} and m["summary"]["n_reference"] == 40
    assert m["protocol"]["n"]["real"] == {"used": 40, "total": 60000}  # fashion-mnist:train, capped
    assert m["protocol"]["n"]["real (held out)"] == {"used": 40, "total": 10000}  # heldout: fashion-mnist:test
    assert "fashion-mnist:test" in m["memorisation"]["heldout_note"]


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
    with pytest.raises(ValueError, match="neither an existing folder or file, nor a dataset name"):
        gm.experiments.class_features("no-such-folder", extractor="test-tiny")
