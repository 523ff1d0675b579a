"""The parity notebook: this toolkit's number beside each peer's, protocol by protocol.

Every row runs one protocol twice on the same images and the same network
weights: once through ``genmetrics_nb`` and once through the peer that
defines it, and reports the largest relative difference against a stated
tolerance. The peers and how each is called live in the test harness
:mod:`genmetrics_nb.testing.peers`; this module is the page's story: which
rows run, the table the notebook shows, and its verdict.

Offline (``weights="random"``) the networks carry seeded random weights
written in each publisher's own file format, so the comparison exercises
every tool's real loading code. With ``weights="published"`` (the ``paper``
profile) the real checkpoints from the weight manager are used.
"""
from __future__ import annotations

import dataclasses
import html
import tempfile
import warnings
from pathlib import Path

from genmetrics_nb.testing.peers import PEERS, Context, ParityRow, peer_images, weights_environment
from genmetrics_nb.util.findings import Verdict, check, verdict_from_checks
from genmetrics_nb.util.format import fmt_number
from genmetrics_nb.util.results import StoryResult, frame
from genmetrics_nb.util.warn import reemit_once

__all__ = ["ParityTable", "parity_table", "parity_verdict", "PARITY_ROWS"]

#: The rows, in the order the table shows them: name -> (function, weights it needs, packages it needs)
#: (:data:`genmetrics_nb.testing.peers.PEERS`).
PARITY_ROWS = PEERS


def _row_dict(r: ParityRow) -> dict:
    return {**dataclasses.asdict(r), "within": r.ok}


@dataclasses.dataclass(frozen=True)
class ParityTable(StoryResult):
    """The rows of :func:`parity_table`, the weights used and the rows that could not run."""

    rows: tuple
    weights: str
    n: int
    skipped: tuple = ()

    @property
    def table(self):
        return frame(_row_dict(r) for r in self.rows)

    @property
    def within(self) -> int:
        """How many protocols agree with their peer within their tolerance."""
        return sum(r.ok for r in self.rows)

    @property
    def summary(self) -> dict:
        """``within_tolerance`` ("11 of 11"), the largest relative difference, and every row."""
        worst = max((r.max_rel_diff for r in self.rows), default=float("nan"))
        return {"within_tolerance": f"{self.within} of {len(self.rows)}", "largest_relative_difference": worst,
                "weights": self.weights, "n": self.n, "rows": [_row_dict(r) for r in self.rows],
                "skipped": [list(s) for s in self.skipped]}

    def __repr__(self) -> str:
        return (f"ParityTable({self.within} of {len(self.rows)} protocols within tolerance, "
                f"{self.weights} weights)")

    def _repr_html_(self) -> str:
        head = ("<tr><th>protocol</th><th>peer</th><th>the value columns show</th><th>genmetrics-nb</th>"
                "<th>peer's value</th><th>largest absolute difference</th><th>largest relative difference</th>"
                "<th>tolerance</th><th></th><th>inputs</th></tr>")
        body = "".join(
            f"<tr><td>{html.escape(r.protocol)}</td><td>{html.escape(r.peer)}</td>"
            f"<td>{html.escape(r.compared)}</td>"
            f"<td>{fmt_number(r.ours, 6)}</td><td>{fmt_number(r.theirs, 6)}</td><td>{r.max_abs_diff:.1e}</td>"
            f"<td>{r.max_rel_diff:.1e}</td>"
            f"<td>{r.tolerance:.0e}</td><td>{'✔' if r.ok else '✘ outside'}</td>"
            f"<td><small>{html.escape(r.note)}</small></td></tr>" for r in self.rows)
        skipped = "".join(f"<li>{html.escape(p)}: {html.escape(why)}</li>" for p, why in self.skipped)
        caption = (f"Weights: {self.weights} (the same file, in each publisher's format, for both columns); "
                   f"{self.n} images per set unless the row says otherwise. The value columns show what "
                   "'the value columns show' names; the differences cover every value the protocol outputs.")
        out = f"<table>{head}{body}</table><p><small>{html.escape(caption)}</small></p>"
        return out + (f"<p>Not run:</p><ul>{skipped}</ul>" if skipped else "")


def parity_table(*, rows=None, n: int = 64, weights: str = "random", seed: int = 0, device: str = "cpu",
                 progress: bool = True) -> ParityTable:
    """Compute every protocol here and with its peer, on the same images and weights.

    Parameters
    ----------
    rows : list of str, optional
        Keys of :data:`PARITY_ROWS` (default: all).
    n : int
        Images per set (Fashion-MNIST test, classes 0-4 against 5-9).
    weights : {"random", "published"}
        Seeded random weights in each publisher's format (offline), or the
        real checkpoints from the weight manager.
    seed : int
        Seed of the image draw and of the random weights' files.
    device : str
    progress : bool
        A progress bar over the rows.

    Returns
    -------
    ParityTable
        A row per protocol; rows whose peer package is missing are listed in ``skipped``.

    Notes
    -----
    The rows (:data:`PARITY_ROWS`) and their peers:

    * ``fid-pytorch-fid``, ``fid-torch-fidelity``, ``fid-clean-fid``: FID in
      each tool's resize mode, against that tool;
    * ``clean-resize``: clean-fid's PIL bicubic network input;
    * ``kid``: clean-fid's ``kernel_distance``; ``prdc``: ``prdc.compute_prdc`` (k = 5);
    * ``lpips``: ``lpips.LPIPS`` (AlexNet, v0.1); ``ssim``: scikit-image;
    * ``adm``: ``gm.suites.adm`` (FID, sFID, IS, precision, recall) against
      pytorch-fid's ``InceptionV3`` on the same TF1-resized input (sFID
      features hooked on ``Mixed_6d.branch1x1``), pytorch-fid's
      ``calculate_frechet_distance`` and ``prdc.compute_prdc(nearest_k=3)``;
    * ``fd-dinov2``: ``gm.fid(extractor="dinov2-vit-s14")`` on 16 + 16
      images against a float64 NumPy re-implementation of the official
      DINOv2 forward on dgm-eval's transform
      (:mod:`genmetrics_nb.testing.dinov2_reference`);
    * ``cmmd``: ``gm.cmmd`` on 16 + 16 images against open_clip loading the
      same OpenAI-format file, google-research's preprocessing and its
      ``distance.mmd`` (:mod:`genmetrics_nb.testing.cmmd_reference`); offline
      the CLIP file is a reduced random ViT in OpenAI's format;
    * ``vendi``: ``vendi_score.vendi.score_K`` (q = 1, 2, inf) on the pool3
      features; ``sliced-wasserstein``: POT's ``ot.sliced_wasserstein_distance``
      (p = 1, 2, the same projection seed); ``top-pr``: ``top_pr.compute_top_pr``
      on the README's Gaussians at n = 300 (TopP&R needs more than 160
      samples per set).

    The FID-Inception rows share their pool3 features (``legacy_tensorflow``
    and ``legacy_pytorch``) through one context.
    """
    import importlib.util

    from tqdm.auto import tqdm

    from genmetrics_nb.util.checks import check_choice, check_int

    check_int(n, name="n", minimum=8)
    check_choice(weights, name="weights", choices=("random", "published"))
    names = list(PARITY_ROWS) if rows is None else list(rows)
    unknown = [r for r in names if r not in PARITY_ROWS]
    if unknown:
        raise ValueError(f"rows: unknown {unknown}; choose from {', '.join(PARITY_ROWS)}")
    skipped, runnable = [], []
    for name in names:
        missing = [p for p in PARITY_ROWS[name][2] if importlib.util.find_spec(p) is None]
        if missing:
            skipped.append((name, f"peer package not installed ({', '.join(missing)}); pip install -e '.[test]'"))
        else:
            runnable.append(name)
    if weights == "published":  # a row whose checkpoint is not here is listed, not failed
        from genmetrics_nb.weights.manager import WeightsNotFoundError, path

        for name in list(runnable):
            for w in PARITY_ROWS[name][1]:
                try:
                    path(w)
                except WeightsNotFoundError:
                    runnable.remove(name)
                    skipped.append((name, f"weights {w!r} not available offline; "
                                          f"genmetrics-nb weights import {w} FILE"))
                    break
    real, fake = peer_images(n, seed)
    needed = sorted({w for r in runnable for w in PARITY_ROWS[r][1]})
    out = []
    with tempfile.TemporaryDirectory(prefix="genmetrics-parity-") as tmp, \
            weights_environment(weights, Path(tmp), needed), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # the peers' own warnings (scipy's deprecated sqrtm 'disp' in pytorch-fid / clean-fid, its singular-
        # matrix notice, torchvision's 'pretrained' in lpips) are theirs, not this comparison's
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"(?s).*Matrix is singular")
        warnings.filterwarnings("ignore", message=r"(?s).*parameter 'pretrained' is deprecated")
        ctx = Context(real, fake, Path(tmp), device, weights=weights)
        for name in tqdm(runnable, desc="parity", unit="protocol", disable=not progress):
            out.append(PARITY_ROWS[name][0](ctx))
    reemit_once(w for w in caught if _ours(w))
    return ParityTable(tuple(out), weights, int(n), tuple(skipped))


def _ours(w) -> bool:
    """A warning raised in this package (a peer's own warnings are about the peer, not this comparison)."""
    return str(Path(w.filename).resolve()).startswith(str(_PACKAGE))


_PACKAGE = Path(__file__).resolve().parents[1]


def parity_verdict(table: ParityTable) -> Verdict:
    """The parity notebook's finding: every protocol agrees with its peer within its tolerance."""
    checks = [check(f"{r.protocol} vs {r.peer}: {r.max_rel_diff:.1e} {'<=' if r.ok else '>'} {r.tolerance:.0e}",
                    r.ok) for r in table.rows]
    worst = max(table.rows, key=lambda r: r.max_rel_diff / r.tolerance, default=None)
    short = f"{table.within} of {len(table.rows)} protocols equal their peer within float noise"
    if worst is not None:
        short += (f"; closest to its tolerance: {worst.protocol.split(' (')[0]}, {worst.max_rel_diff:.1e} "
                  f"{'<=' if worst.ok else '>'} {worst.tolerance:.0e}.")
    return verdict_from_checks("every protocol equals its reference implementation within float noise", checks,
                               short=short)
