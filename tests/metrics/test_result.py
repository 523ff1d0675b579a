"""Every public metric returns a result with the same small surface.

The protocol (``genmetrics_nb/metrics/result.py``): a frozen ``...Result``
with its headline number in ``value``, ``float(result) == result.value``,
a JSON-ready ``to_dict()`` holding ``"value"``, a one-line ``str``, a compact
``_repr_html_`` and ``bootstrap_fields`` that name numeric attributes.
"""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.metrics.result import Result


def _images(seed, n=3, size=32, channels=3):
    return np.random.default_rng(seed).integers(0, 256, size=(n, channels, size, size), dtype=np.uint8)


def _feats(seed, n=60, d=8, shift=0.0):
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


def _labels(seed, n=2, size=16, classes=3):
    return np.random.default_rng(seed).integers(0, classes, size=(n, size, size))


def _squared_l2(x, y):
    return ((x - y) ** 2).flatten(1).sum(1)


def _brightness_segmenter(images):
    """Label 1 where the mean colour is above 127, else 0."""
    return (np.asarray(images).mean(axis=1) > 127).astype(np.int64)


CASES = {
    "psnr": lambda: gm.psnr(_images(0), _images(1), data_range=255),
    "ssim": lambda: gm.ssim(_images(0), _images(1), data_range=255),
    "ms_ssim": lambda: gm.ms_ssim(_images(0), _images(1), data_range=255, weights=(0.5, 0.5)),
    "lpips": lambda: gm.lpips(_images(0, size=64), _images(1, size=64), net="efficientnet-lite0",
                              device="cpu", progress=False),
    "frechet_distance": lambda: gm.frechet_distance(gm.FeatureStats.from_features(_feats(0)),
                                                    gm.FeatureStats.from_features(_feats(1, shift=0.3))),
    "fid": lambda: gm.fid(_feats(0), _feats(1, shift=0.3)),
    "fid_infinity": lambda: gm.fid_infinity(_feats(0), _feats(1, shift=0.3), sizes=[20, 40, 60],
                                            progress=False),
    "kid": lambda: gm.kid(_feats(0), _feats(1, shift=0.3), subsets=3, subset_size=20, progress=False),
    "inception_score": lambda: gm.inception_score(_feats(2, n=40, d=5), splits=2),
    "precision_recall": lambda: gm.precision_recall(_feats(0), _feats(1, shift=0.3), progress=False),
    "density_coverage": lambda: gm.density_coverage(_feats(0), _feats(1, shift=0.3), progress=False),
    "bootstrap_fid": lambda: gm.bootstrap("fid", _feats(0), _feats(1, shift=0.3), n_boot=3, progress=False),
    "bootstrap_precision_recall": lambda: gm.bootstrap("precision_recall", _feats(0), _feats(1, shift=0.3),
                                                       n_boot=3, progress=False),
    "fcn_score": lambda: gm.fcn_score(_labels(0), _labels(1), num_classes=3, background=0),
    "confusion_matrix": lambda: gm.ConfusionMatrix(3).update(_labels(0), _labels(1)).compute(),
    "fcn_score_images": lambda: gm.fcn_score_images(_images(0), _images(1), segmenter=_brightness_segmenter,
                                                    num_classes=2, progress=False),
    "ppl": lambda: gm.ppl(gm.zoo.load_generator(device="cpu"), num_samples=8, distance=_squared_l2,
                          batch_size=8, device="cpu", progress=False),
}

SLOW_CASES = {  # the shipped generator and classifier: about 15 s on 2 CPU cores
    "linear_separability": lambda: gm.linear_separability(
        gm.zoo.load_generator(device="cpu"), gm.zoo.load_classifier(device="cpu"), num_samples=400,
        keep="per-label", progress=False),
}


def _check_protocol(r):
    cls = type(r)
    assert cls.__name__.endswith("Result"), cls.__name__
    assert isinstance(r, Result)
    assert dataclasses.is_dataclass(r) and cls.__dataclass_params__.frozen
    # the headline number
    assert isinstance(r.value, float)
    v = float(r)
    assert v == r.value or (math.isnan(v) and math.isnan(r.value))
    # JSON-ready, with "value"
    d = r.to_dict()
    assert "value" in d
    assert d["value"] == r.value or math.isnan(r.value)
    json.loads(json.dumps(d))
    # one line of text
    s = str(r)
    assert s and "\n" not in s
    # a compact HTML table
    h = r._repr_html_()
    assert isinstance(h, str) and h.startswith("<table") and h.endswith("</table>")
    assert "array(" not in h and h.count("\n") <= 3 and len(h) < 2000
    # what bootstrap resamples
    assert isinstance(cls.bootstrap_fields, tuple) and cls.bootstrap_fields
    for name in cls.bootstrap_fields:  # one finite number each, which a resample can vary
        value = getattr(r, name)
        assert np.ndim(value) == 0 and isinstance(value, (int, float, np.number)), (name, type(value))
        assert not isinstance(value, (bool, np.bool_)), (name, value)
    # the headline never hides under a per-metric name
    for old in ("mean", "ppl", "score", "estimate", "headline"):
        assert not hasattr(r, old), old
    return r


@pytest.mark.parametrize("name", sorted(CASES))
def test_metric_results_follow_the_protocol(name):
    _check_protocol(CASES[name]())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_CASES))
def test_slow_results_follow_the_protocol(name):
    _check_protocol(SLOW_CASES[name]())


def test_results_are_frozen():
    r = gm.kid(_feats(0), _feats(1), subsets=2, subset_size=20, progress=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 0.0


def test_two_number_results_put_the_first_in_value():
    pr = CASES["precision_recall"]()
    dc = CASES["density_coverage"]()
    seg = CASES["fcn_score"]()
    assert (pr.value, dc.value, seg.value) == (pr.precision, dc.density, seg.pixel_accuracy)
    assert pr.bootstrap_fields == ("precision", "recall")
    assert "<th>precision</th><th>recall</th>" in pr._repr_html_()


def test_to_dict_keeps_the_former_keys():
    # results.json files written before the rename stay comparable
    assert CASES["kid"]().to_dict()["mean"] == CASES["kid"]().value
    assert CASES["inception_score"]().to_dict()["mean"] == CASES["inception_score"]().value
    psnr = CASES["psnr"]()
    assert psnr.to_dict()["mean"] == psnr.value and len(psnr.to_dict()["values"]) == 3


def test_html_is_escaped():
    r = gm.fid(_feats(0), _feats(1))
    r = dataclasses.replace(r, extractor="<b>x</b>")
    assert "<b>" not in r._repr_html_() and "&lt;b&gt;x&lt;/b&gt;" in r._repr_html_()


def test_record_returns_nothing(monkeypatch):
    from genmetrics_nb.report import record as rec

    monkeypatch.delenv(rec.RECORDS_ENV, raising=False)
    monkeypatch.setattr(rec, "_RECORDS", {})
    r = gm.kid(_feats(0), _feats(1), subsets=2, subset_size=20, progress=False)
    assert gm.record("kid_result_protocol", r) is None
    assert gm.record({"kid_value_protocol": r.value}) is None
    assert gm.recorded()["kid_result_protocol"]["value"] == r.value


def test_record_writes_atomically(tmp_path, monkeypatch):
    from genmetrics_nb.report import record as rec

    path = tmp_path / "sub" / "records.json"
    monkeypatch.setenv(rec.RECORDS_ENV, str(path))
    monkeypatch.setattr(rec, "_RECORDS", {})
    gm.record("psnr_protocol", CASES["psnr"]())
    assert json.loads(path.read_text())["psnr_protocol"]["metric"] == "psnr"
    assert [p.name for p in path.parent.iterdir()] == ["records.json"]  # no temporary file left
