"""Each notebook's verdict: the rule of ``gm.experiments.<notebook>_verdict`` on hand-made results.

Every rule is checked on numbers where the finding holds and where it does not
(and, where a setting cannot test it, that the verdict says so with
``reproduced=None``). The notebook runs themselves (tests/notebooks/test_*_notebooks.py,
tests/report/test_report.py) assert the verdicts of the smoke profiles.
"""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
import pytest

import genmetrics_nb as gm
from genmetrics_nb.util.findings import check, not_testable, verdict_from_checks
from genmetrics_nb.report.runner import NOTEBOOK_DIR

NOTEBOOKS = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))


def _ok(v, reproduced):
    assert v.reproduced is reproduced, str(v)
    d = v.to_dict()
    assert list(d)[:2] == ["reproduced", "statement"] and d["statement"] == v.statement
    json.dumps(d)
    html = v._repr_html_()
    assert "Verdict(" not in html and "Check(" not in html and len(html) < 4000
    return v


def test_verdict_object():
    v = _ok(verdict_from_checks("a is below b", [check("a 1 < b 2", True), check("c 3 > d 2", False)]), False)
    assert str(v) == "Finding not reproduced: a is below b: a 1 < b 2; c 3 > d 2 (fails)."
    assert "&#10007; c 3 &gt; d 2" in v._repr_html_()
    v = _ok(not_testable("a is below b", "only a was measured", [check("a 1", True)]), None)
    assert str(v).startswith("Not testable here: a is below b: not testable here, only a was measured")
    assert "only a was measured" in v._repr_html_()
    with pytest.raises(ValueError, match="at least one check"):
        verdict_from_checks("x", [])


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_ends_with_its_recorded_verdict(name):
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    last = [c for c in nb.cells if c.cell_type == "code"][-1].source
    assert re.search(rf"verdict = gm\.experiments\.{name}_verdict\(", last), last
    assert 'gm.record("verdict", verdict)' in last and last.rstrip().endswith("verdict")
    assert callable(getattr(gm.experiments, f"{name}_verdict"))


# ----------------------------------------------------------------------------- distribution notebooks
def _same_diff(same=(57.1, 31.8), diff=(197.3, 179.0), sizes=(100, 300)):
    from genmetrics_nb.experiments.fid import SameVsDifferent

    rows = []
    for n, s, d in zip(sizes, same, diff):
        rows += [{"extractor": "e", "n": n, "comparison": "same class", "fd": s, "low": s - 5, "high": s + 5},
                 {"extractor": "e", "n": n, "comparison": "different classes", "fd": d, "low": d - 5, "high": d + 9}]
    return SameVsDifferent(tuple(rows), ("A", "B"), "95% percentile bootstrap, re-centred on the estimate")


def _matrix(values):
    from genmetrics_nb.experiments.fid import FIDMatrix

    v = np.asarray(values, float)
    return FIDMatrix(v, v - 3, v + 4, ["A", "B", "C"], 100, 30, "e", "95% interval")


def test_fid_verdict():
    good = _matrix([[50, 190, 80], [200, 30, 150], [75, 160, 55]])
    v = _ok(gm.experiments.fid_verdict(_same_diff(), good), True)
    assert "same class 57.1 < different classes 197.3" in v.statement
    assert "3 of 3 classes (closest: C, same class 55.0 < 75.0 against A)" in v.statement
    assert "bias: same-class FD_e 31.8 at n = 300 < 57.1 at n = 100" in v.statement
    assert "FID" not in v.statement  # features of "e" are not the TF FID Inception's
    bad = _matrix([[50, 190, 80], [200, 30, 150], [75, 160, 90]])  # C's two draws: 90 > 75 (A vs C)
    v = _ok(gm.experiments.fid_verdict(_same_diff(), bad), False)
    assert "2 of 3 classes (C, same class 90.0 >= 75.0 against A)" in v.statement
    _ok(gm.experiments.fid_verdict(_same_diff(same=(57.1, 60.0))), False)  # the bias did not shrink


def test_fid_tables_show_intervals_and_the_baseline():
    sd, m = _same_diff(), _matrix([[50, 190, 80], [200, 30, 150], [75, 160, 55]])
    html = sd._repr_html_()
    assert "57.1 [52.1, 62.1]" in html and "baseline" in html and "re-centred on the estimate" in html
    assert "<b>50.0</b><br><small>[47.0, 54.0]</small>" in m._repr_html_() and "95% interval" in m._repr_html_()
    assert repr(m).startswith("FIDMatrix(3 x 3 classes") and "array" not in repr(m) + repr(sd)
    assert list(sd.table.columns) == ["extractor", "n", "comparison", "fd", "low", "high"]
    assert "FID" not in html + m._repr_html_() and "FD_e" in html + m._repr_html_()


def _sweep(label, fid, kid, fid_inf, sizes=(50, 100, 1000), extractor="inception-v3-fid"):
    from genmetrics_nb.metrics.distribution.sample_size import SampleSizeSweep

    rows = tuple({"n": n, "repeat": r, "fd": f + r, "kid": k * (1 + 0.1 * r)}
                 for n, f, k in zip(sizes, fid, kid) for r in range(2))
    return SampleSizeSweep(label, rows, SimpleNamespace(value=fid_inf), 1000, 1000, extractor)


def test_kid_verdict():
    same = _sweep("same", [100, 70, 16], [-0.001, 0.0005, -0.0001], 20)
    dropped = _sweep("dropped", [130, 100, 50], [0.031, 0.029, 0.028], 55)
    v = _ok(gm.experiments.kid_verdict(same, dropped), True)
    assert "FID of one distribution 100.5 at n = 50 > 16.5 at n = 1000" in v.statement
    assert "(closest at n = 50: KID -0.0011 of 0.033 = 0.03, FID 100.5 of 130.5 = 0.77)" in v.statement
    biased = _sweep("same", [100, 70, 16], [0.01, 0.0005, 0.02], 20)  # KID of one distribution far from 0
    v = _ok(gm.experiments.kid_verdict(biased, dropped), False)
    assert "(closest at n = 1000: KID 0.021 of 0.029 = 0.71, FID 16.5 of 50.5 = 0.33) (fails)" in v.statement
    lite = [_sweep(n, f, k, i, extractor="efficientnet-lite0") for n, f, k, i in
            (("same", [100, 70, 16], [-0.001, 0.0005, -0.0001], 20), ("dropped", [130, 100, 50], [0.031, 0.029, 0.028], 55))]
    v = _ok(gm.experiments.kid_verdict(*lite), True)
    assert "FD_efficientnet-lite0 of one distribution 100.5" in v.statement and "FID" not in v.statement


def _is_experiment(mixture, splits):
    from genmetrics_nb.experiments.inception_score import ISExperiment

    return ISExperiment(({"class": "A", "is": 2.0},),
                        tuple({"classes": k + 1, "repeat": 0, "is": v} for k, v in enumerate(mixture)),
                        tuple({"splits": s, "is_mean": v, "is_std": 0.1} for s, v in splits), 100)


def test_inception_score_verdict():
    rising = [2.33, 2.73, 2.62, 3.01, 3.07, 3.17, 3.18, 3.27, 3.34, 3.33]  # the offline run's numbers
    splits = [(1, 3.36), (2, 3.34), (5, 3.31), (10, 3.25), (20, 3.15)]
    v = _ok(gm.experiments.inception_score_verdict(_is_experiment(rising, splits)), True)
    assert "mean IS 2.33 with 1 class, 3.33 with 10" in v.statement
    _ok(gm.experiments.inception_score_verdict(_is_experiment([2.3, 2.2, 2.4, 2.1, 2.3], splits)), False)
    _ok(gm.experiments.inception_score_verdict(_is_experiment(rising, splits[::-1])), False)


def _pr(dropped_p=0.82, dropped_r=0.45, blur_p=0.27):
    from genmetrics_nb.experiments.precision_recall import PRScenarios

    rows = ({"scenario": "real vs real", "precision": 0.80, "recall": 0.81},
            {"scenario": "classes dropped", "precision": dropped_p, "recall": dropped_r},
            {"scenario": "blur sigma=1", "precision": blur_p, "recall": 0.01})
    return PRScenarios(rows, 3, 5)


def test_precision_recall_verdict():
    v = _ok(gm.experiments.precision_recall_verdict(_pr()), True)
    assert "recall changes by -0.36, precision by +0.02" in v.statement
    _ok(gm.experiments.precision_recall_verdict(_pr(dropped_p=0.30)), False)  # precision fell more
    _ok(gm.experiments.precision_recall_verdict(_pr(blur_p=0.85)), False)


# ----------------------------------------------------------------------------- pixel metrics
def test_psnr_ssim_verdict():
    from genmetrics_nb.experiments.psnr_ssim import DistortionSweep

    rows = [("blur", 1, np.inf, 1.0), ("blur", 5, 30.0, 0.8), ("blur", 25, 22.0, 0.5),
            ("jpeg", 90, 40.0, 0.97), ("jpeg", 50, 35.0, 0.93), ("jpeg", 10, 28.0, 0.78)]
    t = pd.DataFrame([{"image": "x", "distortion": d, "strength": s, "psnr": p, "ssim": q} for d, s, p, q in rows])
    v = _ok(gm.experiments.psnr_ssim_verdict(DistortionSweep(t, {}, None)), True)
    assert "jpeg 90 -> 10: mean PSNR 40 -> 28, falls at every step" in v.statement
    t.loc[t["strength"] == 25, "ssim"] = 0.9
    v = _ok(gm.experiments.psnr_ssim_verdict(DistortionSweep(t, {}, None)), False)
    assert "does not fall from 5 to 25 (0.8 -> 0.9)" in v.statement


def test_lpips_verdict():
    from genmetrics_nb.experiments.lpips import TwoAFC

    afc = TwoAFC(None, None, None, ("blur 7", "noise 20"), {"psnr": (26.0, 24.0), "ssim": (0.7, 0.5), "d": (0.3, 0.1)},
                 {"psnr": 0, "ssim": 0, "d": 1}, "d")
    agree = {"blur": {"psnr": -0.9, "ssim": -0.95}, "noise": {"psnr": -1.0, "ssim": -0.9}, "all": {"psnr": 0.1}}
    v = _ok(gm.experiments.lpips_verdict(agree, afc), True)
    assert "human 2AFC judgements" in v.statement and "PSNR prefers copy 0" in v.statement
    _ok(gm.experiments.lpips_verdict({**agree, "jpeg": {"psnr": 0.2, "ssim": -0.5}}, afc), False)
    v = _ok(gm.experiments.lpips_verdict({**agree, "jpeg": {"psnr": float("nan"), "ssim": float("nan")}}, afc), True)
    assert "No rank correlation for jpeg" in v.statement and "No rank correlation for jpeg" in v._repr_html_()


# ----------------------------------------------------------------------------- generator notebooks
def _generator_sweep(rows, summary=None, settings=None):
    from genmetrics_nb.suites.generator_sweeps import SweepResult

    return SweepResult(pd.DataFrame(rows), {}, settings or {}, summary or {"final_checkpoint": "b"})


def test_ppl_verdict():
    rows = [{"checkpoint": "b", "psi": 1.0, "space": s, "sampling": m, "ppl": v}
            for (s, m), v in {("z", "full"): 9.0, ("w", "full"): 5.0, ("z", "end"): 8.0, ("w", "end"): 4.0}.items()]
    rows.append({"checkpoint": "b", "psi": 0.5, "space": "w", "sampling": "end", "ppl": 1.0})
    v = _ok(gm.experiments.ppl_verdict(_generator_sweep(rows)), True)
    assert "b, end sampling: PPL in w 4 < in z 8" in v.statement
    rows[1]["ppl"] = 10.0
    _ok(gm.experiments.ppl_verdict(_generator_sweep(rows)), False)
    only_w = [r for r in rows if r["space"] == "w"]
    v = _ok(gm.experiments.ppl_verdict(_generator_sweep(only_w)), None)
    assert "only in w" in v.statement


def test_linear_separability_verdict():
    s = {"final_checkpoint": "b", "score_z": 4.7, "score_w": 2.5}
    v = _ok(gm.experiments.linear_separability_verdict(_generator_sweep([], s, {"num_samples": 4000})), True)
    assert "separability score in w 2.50 < in z 4.70" in v.statement
    _ok(gm.experiments.linear_separability_verdict(_generator_sweep([], {**s, "score_w": 5.0})), False)
    _ok(gm.experiments.linear_separability_verdict(_generator_sweep([], {"final_checkpoint": "b", "score_w": 2})),
        None)
    v = _ok(gm.experiments.linear_separability_verdict(_generator_sweep([], {**s, "score_w": 1.0, "score_z": 1.0})),
            None)
    assert "use more samples" in v.statement


def test_stylegan2_metrics_verdict():
    rows = [{"checkpoint": "a", "psi": 1.0, "fd": 240.0, "precision": 0.1, "recall": 0.2},
            {"checkpoint": "b", "psi": 1.0, "fd": 60.0, "precision": 0.5, "recall": 0.5},
            {"checkpoint": "b", "psi": 0.5, "fd": 90.0, "precision": 0.8, "recall": 0.1}]
    v = _ok(gm.experiments.stylegan2_metrics_verdict(_generator_sweep(rows)), True)
    assert "truncation (b): recall 0.100 at psi = 0.5 < 0.500 at psi = 1" in v.statement
    rows[2]["precision"] = 0.4
    _ok(gm.experiments.stylegan2_metrics_verdict(_generator_sweep(rows)), False)
    _ok(gm.experiments.stylegan2_metrics_verdict(_generator_sweep(rows[1:2])), None)


# ----------------------------------------------------------------------------- segmentation notebooks
def test_fcn_score_verdict():
    from genmetrics_nb.experiments.fcn_score import BlurSweep

    def sweep(acc):
        res = tuple(SimpleNamespace(pixel_accuracy=a, foreground_pixel_accuracy=a / 2, mean_iou=a / 3) for a in acc)
        return BlurSweep((1, 9, 25), res, None, "s", 4, np.zeros(1), np.zeros(1))

    v = _ok(gm.experiments.fcn_score_verdict(sweep([1.0, 0.8, 0.6])), True)
    assert "pixel accuracy against the unblurred segmentation: 1.000 at kernel 1" in v.statement
    v = _ok(gm.experiments.fcn_score_verdict(sweep([1.0, 0.6, 0.7])), False)
    assert "rises by more than 0.02 at 1 of 2 steps, most from kernel 9 to 25 (0.600 -> 0.700)" in v.statement


def test_iou_dice_verdict():
    def scores(iou, fg=0.5):
        return {m: SimpleNamespace(mean_iou=v, mean_dice=2 * v / (1 + v), foreground_pixel_accuracy=fg)
                for m, v in iou.items()}

    v = _ok(gm.experiments.iou_dice_verdict(scores({"FCN-8s": 0.4, "FCN-16s": 0.35, "FCN-32s": 0.2})), True)
    assert "mean IoU: FCN-8s 0.400 > FCN-16s 0.350 > FCN-32s 0.200" in v.statement
    v = _ok(gm.experiments.iou_dice_verdict(scores({"FCN-8s": 0.34, "FCN-16s": 0.35, "FCN-32s": 0.2})), False)
    assert "FCN-8s 0.340 <= FCN-16s 0.350" in v.statement
    v = _ok(gm.experiments.iou_dice_verdict(scores({"FCN-8s": 0.087, "FCN-16s": 0.087, "FCN-32s": 0.086}, fg=0.0)),
            None)  # two epochs on 16 scenes: every model paints background only
    assert "paint background only" in v.statement


def test_module_doctests():
    import doctest

    from genmetrics_nb.util import findings, format, results
    from genmetrics_nb.metrics.distribution import bootstrap

    assert doctest.testmod(findings).failed == 0
    assert doctest.testmod(format).failed == 0
    assert doctest.testmod(results).failed == 0
    assert doctest.testmod(bootstrap).failed == 0


def test_experiment_results_display_compactly():
    # A cell ending with any of them shows a table or a line, never a dataclass repr with arrays.
    from genmetrics_nb.experiments.fcn_score import BlurSweep

    res = tuple(SimpleNamespace(pixel_accuracy=a, foreground_pixel_accuracy=a / 2, mean_iou=a / 3) for a in (1, .5))
    objs = [_sweep("same", [100, 70, 16], [-0.001, 0.0005, -0.0001], 20), _pr(),
            _is_experiment([2.3, 2.7], [(1, 3.3), (2, 3.2)]), _same_diff(),
            _generator_sweep([{"checkpoint": "b", "psi": 1.0, "ppl": 1.0}]),
            BlurSweep((1, 9), res, None, "s", 4, np.zeros((2, 3, 8, 8)), np.zeros((2, 8, 8)))]
    for obj in objs:
        text, page = repr(obj), obj._repr_html_()
        assert len(text) < 200 and "array(" not in text and "rows=" not in text, text
        assert ("<table" in page or "<pre>" in page) and "array(" not in page


def test_story_results_follow_one_protocol():
    """Every ported result: to_dict() is its summary (JSON-ready), str() one line, HTML a table of `table`."""
    from genmetrics_nb.experiments.fcn_score import BlurSweep
    from genmetrics_nb.experiments.fid import RangePitfall
    from genmetrics_nb.experiments.iou_dice import ClassScoreTable, SeedSpread, VariantOrdering
    from genmetrics_nb.experiments.lpips import TwoAFC
    from genmetrics_nb.util.results import StoryResult

    res = tuple(SimpleNamespace(pixel_accuracy=a, foreground_pixel_accuracy=a / 2, mean_iou=a / 3) for a in (1, .5))
    blur = BlurSweep((1, 9), res, None, "s", 4, np.zeros((2, 3, 8, 8)), np.zeros((2, 8, 8)))
    objs = [_pr(), _is_experiment([2.3, 2.7], [(1, 3.3), (2, 3.2)]), _same_diff(), _matrix(np.eye(3) + 1),
            _generator_sweep([{"checkpoint": "b", "psi": 1.0, "ppl": 1.0}]), blur,
            RangePitfall(12.5, 250.0, 100, "values outside 0..255"),
            ClassScoreTable(("a", "b"), ("M",), ((0.5, float("nan")),), ((0.6, float("nan")),), (0.5,), (0.6,)),
            VariantOrdering(("x", "y"), ("x", "y"), ("y", "x"), True, False, "x > y by IoU only"),
            SeedSpread(("M",), ((0, 1),), ((0.4, 0.5),), "test scenes"),
            TwoAFC(None, None, None, ("blur 3", "noise 5"), {"psnr": (30.0, 25.0)}, {"psnr": 0}, "d")]
    for obj in objs:
        assert isinstance(obj, StoryResult), type(obj)
        d = obj.to_dict()
        assert d == dict(obj.summary) or isinstance(obj, type(objs[4]))  # a sweep adds its settings
        json.dumps(gm.report.record.to_jsonable(d))
        assert "\n" not in str(obj) or type(obj).__name__ in ("RangePitfall", "ClassScoreTable", "SeedSpread",
                                                                "BlurSweep")  # printed listings
        page = obj._repr_html_()
        assert "<table" in page and "array(" not in page and len(page) < 20000, type(obj)
    assert blur.to_dict()["mean_iou_vs_real"] == pytest.approx([1 / 3, 0.5 / 3])
    assert list(blur.table.columns) == ["kernel", "pixel_accuracy_vs_real", "foreground_pixel_accuracy_vs_real",
                                        "mean_iou_vs_real"]


def test_fcn_score_records_keep_the_notebooks_keys():
    from genmetrics_nb.experiments.fcn_score import BlurSweep, fcn_score_records

    res = tuple(SimpleNamespace(pixel_accuracy=a, foreground_pixel_accuracy=None, mean_iou=a / 3) for a in (1, .5))
    truth = tuple(SimpleNamespace(pixel_accuracy=a, foreground_pixel_accuracy=a, mean_iou=a / 4) for a in (.8, .4))
    sweep = BlurSweep((1, 9), res, truth, "s", 4, np.zeros((2, 3, 8, 8)), np.zeros((2, 8, 8)))
    photo = BlurSweep((1, 9), res, None, "p", 1, np.zeros((2, 3, 8, 8)), np.zeros((2, 8, 8)))
    out = fcn_score_records(sweep, photograph=photo)
    assert list(out) == ["kernels", "pixel_accuracy_vs_real", "foreground_pixel_accuracy_vs_real", "mean_iou_vs_real",
                         "pixel_accuracy_vs_truth", "foreground_pixel_accuracy_vs_truth", "mean_iou_vs_truth",
                         "segmenter_mean_iou_on_real", "sweep", "photo_pixel_accuracy_vs_real",
                         "photo_mean_iou_vs_real", "photo_sweep"]
    assert out["segmenter_mean_iou_on_real"] == 0.2 and np.isnan(out["foreground_pixel_accuracy_vs_real"][0])
    assert list(fcn_score_records(photo)) == ["kernels", "pixel_accuracy_vs_real",
                                              "foreground_pixel_accuracy_vs_real", "mean_iou_vs_real", "sweep"]


def test_short_verdict_fits_two_lines():
    long = verdict_from_checks("a finding", [check("x " * 60, True), check("y " * 100, False)])
    assert len(long.statement) > 200 and long.short.startswith("a finding: 1 of 2 checks held; fails: y y")
    assert len(long.short) <= 200 and long.short.endswith("…")
    brief = verdict_from_checks("a finding", [check("x " * 60, True)], short="x held.")
    assert brief.short == "x held." and brief.to_dict()["short"] == "x held."
    small = verdict_from_checks("a", [check("b 1 < c 2", True)])
    assert small.short == small.statement
    assert not_testable("a", "no data " * 40).short.endswith("…")


def test_experiments_exports_every_name_the_notebooks_use():
    from genmetrics_nb import experiments

    used = set()
    for path in NOTEBOOK_DIR.glob("*.ipynb"):
        used |= set(re.findall(r"gm\.experiments\.([A-Za-z_]\w*)", path.read_text(encoding="utf-8")))
    assert used and used <= set(experiments._EXPORTS), used - set(experiments._EXPORTS)
    for name in sorted(experiments._EXPORTS):  # each entry names a real attribute of its module
        assert getattr(experiments, name) is not None, name
    with pytest.raises(AttributeError, match="no experiment 'nope'"):
        experiments.nope


def test_experiments_holds_one_story_per_notebook():
    """experiments/ keeps only what tells one notebook's story; shared machinery sits lower."""
    from pathlib import Path

    from genmetrics_nb import experiments

    modules = {p.stem for p in Path(experiments.__file__).parent.glob("*.py")} - {"__init__"}
    notebooks = {p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")}
    # evaluate_sets and the common shim go with evaluate's move to suites/
    assert modules - notebooks == set(), modules - notebooks


@pytest.mark.parametrize("name", ["lpips", "linear_separability", "parity", "stylegan2_metrics"])
def test_notebooks_that_record_only_tables_name_their_headline(name):
    """These record dicts and tables only: without a named headline the index would show no number."""
    from genmetrics_nb.report.index import headline

    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    found = re.search(r'gm\.record\("headline", (\{.*?\})\)', source, re.S)
    assert found, name
    keys = re.findall(r'"([\w.]+)": "', found.group(1))
    assert keys and headline({"headline": dict.fromkeys(keys, "")})  # each key is a dotted path
