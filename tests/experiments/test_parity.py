"""The parity page: every protocol against the peer that defines it, on the same images and weights.

Outside references: the peers themselves (pytorch-fid, torch-fidelity,
clean-fid, prdc, lpips, scikit-image, open_clip with google-research's CMMD
distance, an independent NumPy DINOv2 forward, pytorch-fid's InceptionV3
for the ADM evaluator), each loading seeded random weights written in its
publisher's file format. The whole table runs once (module fixture, 48
images per set); the tolerance is shown to fail on a deliberately wrong
protocol detail.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.experiments import parity as P
from genmetrics_nb.testing import peers
from genmetrics_nb.report.runner import NOTEBOOK_DIR, run_notebook


@pytest.fixture(scope="module")
def table():
    # 48, as the smoke profile: at 32 images pytorch-fid's sqrtm of the singular 2048-d covariances
    # has an imaginary part above its 1e-3 limit and raises (calculate_frechet_distance)
    return P.parity_table(rows=list(P.PARITY_ROWS), n=48, progress=False)


@pytest.mark.reference
@pytest.mark.slow
def test_every_protocol_is_within_tolerance_of_its_peer(table):
    assert table.skipped == (), table.skipped  # every peer of pip install -e '.[test]' is there
    assert len(table.rows) == len(P.PARITY_ROWS)
    for row in table.rows:
        assert row.peer.strip() and row.note.strip(), row
        assert np.isfinite(row.ours) and np.isfinite(row.theirs), row
        assert row.ok, f"{row.protocol} vs {row.peer}: {row.max_rel_diff:.2e} > {row.tolerance:.0e}"
    protocols = " | ".join(r.protocol for r in table.rows)
    for name in ("ADM evaluator", "FD_DINOv2", "CMMD"):
        assert name in protocols
    assert P.parity_verdict(table).reproduced is True
    d = table.to_dict()
    assert d["n"] == 48 and d["weights"] == "random" and all(r["within"] for r in d["rows"])


def test_tolerance_fails_on_a_wrong_resize(tmp_path, monkeypatch):
    """Our side with a bilinear (torch, antialiased) resize instead of clean-fid's PIL bicubic: outside."""
    import torch

    import genmetrics_nb.extractors.resize as resize

    def bilinear(x, size):
        return torch.nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)

    real, fake = peers.peer_images(16, 0)
    ctx = peers.Context(real, fake, Path(tmp_path), "cpu")
    assert peers._clean_resize(ctx).ok  # the right protocol is within
    monkeypatch.setattr(resize, "pil_bicubic_resize", bilinear)
    wrong = peers._clean_resize(ctx)
    assert not wrong.ok and wrong.max_rel_diff > 100 * wrong.tolerance


def test_nan_counts_only_when_both_sides_have_it():
    assert peers.relative_difference([1.0, np.nan], [1.0, np.nan]) == 0.0
    assert np.isnan(peers.relative_difference([1.0, 2.0], [1.0, np.nan]))
    assert not peers.parity_row("x", "peer", [1.0, 2.0], [1.0, np.nan], 1e-3, "", compared="x").ok
    assert not peers.parity_row("x", "peer", [1.0, np.nan], [1.0, 2.0], 1e-3, "", compared="x").ok
    assert peers.relative_difference([1.0, 2.0], [1.0, 2.0 + 2e-6]) == pytest.approx(2e-6 / (2.0 + 2e-6), rel=1e-9)


def test_a_row_shows_its_mean_or_first_value_and_both_differences():
    row = peers.parity_row("x", "peer", [1.0, 3.0], [1.0, 3.5], 1.0, "", compared="mean", shown="mean")
    assert (row.ours, row.theirs) == (2.0, 2.25)  # arithmetic means of the two sides
    assert row.max_abs_diff == 0.5 and row.max_rel_diff == pytest.approx(0.5 / 3.5)
    first = peers.parity_row("x", "peer", [1.0, 3.0], [1.0, 3.5], 1.0, "", compared="first")
    assert (first.ours, first.theirs) == (1.0, 1.0)
    with pytest.raises(ValueError, match="shown must be"):
        peers.parity_row("x", "peer", [1.0], [1.0], 1.0, "", compared="x", shown="median")


def test_table_and_verdict_say_what_is_compared():
    rows = (peers.parity_row("A (x)", "p", [1.0], [1.0 + 1e-7], 1e-6, "", compared="FID"),
            peers.parity_row("B", "q", [2.0, 4.0], [2.0, 4.1], 1e-6, "", compared="mean SSIM", shown="mean"))
    table = P.ParityTable(rows, "random", 8)
    page = table._repr_html_()
    assert "the value columns show" in page and "mean SSIM" in page and "3.05" in page
    d = table.to_dict()
    assert d["within_tolerance"] == "1 of 2" and d["largest_relative_difference"] == pytest.approx(0.1 / 4.1)
    v = P.parity_verdict(table)
    assert v.reproduced is False and v.short.startswith("1 of 2 protocols") and len(v.short) <= 200


def test_unknown_row_is_refused():
    with pytest.raises(ValueError, match="rows: unknown"):
        P.parity_table(rows=["fid-nope"], n=8, progress=False)


@pytest.mark.notebook
@pytest.mark.slow
def test_parity_notebook_smoke(tmp_path, monkeypatch):
    """The notebook with the smoke profile, on three cheap rows (the full table is the fixture's)."""
    monkeypatch.setenv("GENMETRICS_HOME", str(tmp_path / "home"))
    run = run_notebook(NOTEBOOK_DIR / "parity.ipynb", profile="smoke", out_dir=tmp_path / "out", timeout=600,
                       parameters={"rows": ["clean-resize", "ssim", "cmmd"]})
    assert run.status == "ok", run.error
    m = run.results["metrics"]
    assert m["verdict"]["reproduced"] is True, m["verdict"]["statement"]
    assert [r["within"] for r in m["parity"]["rows"]] == [True, True, True]
    assert m["parity"]["within_tolerance"] == "3 of 3"
    assert m["parity"]["n"] == 48
    assert run.results["figures"] == ["parity.png"]
    assert gm.experiments.parity_table is P.parity_table


# ----------------------------------------------------------------------------- the diversity rows
# (vendi, sliced-wasserstein, top-pr run with every other row in test_every_protocol_is_within_tolerance_of_its_peer)
def test_diversity_tolerances_fail_on_a_wrong_detail():
    """Another projection seed (SW) or order q (Vendi) is far outside the rows' 1e-9 tolerance."""
    import ot
    from sklearn.preprocessing import normalize
    from vendi_score import vendi

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 8)), rng.normal(size=(40, 8)) + 0.3
    ours = gm.sliced_wasserstein(a, b, num_projections=100, seed=3, progress=False).value
    assert peers.parity_row("sw", "POT", ours, ot.sliced_wasserstein_distance(a, b, n_projections=100, seed=3),
                            1e-9, "", compared="SW").ok
    assert not peers.parity_row("sw", "POT", ours, ot.sliced_wasserstein_distance(a, b, n_projections=100, seed=4),
                                1e-9, "", compared="SW").ok
    xn = normalize(a)
    ours = gm.vendi_score(a, q=1, progress=False).value
    assert peers.parity_row("v", "vendi", ours, vendi.score_K(xn @ xn.T, q=1), 1e-9, "", compared="VS").ok
    assert not peers.parity_row("v", "vendi", ours, vendi.score_K(xn @ xn.T, q=2), 1e-9, "", compared="VS").ok
