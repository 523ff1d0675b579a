"""The six support and memorisation metrics return results under the protocol of tests/metrics/test_result.py.

The checks are ``tests/metrics/test_result.py``'s own ``_check_protocol`` (loaded from that file), so a
change to the protocol applies here too.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import genmetrics_nb as gm

_SPEC = importlib.util.spec_from_file_location("results_protocol", Path(__file__).resolve().parent / "test_result.py")
_MOD = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MOD)


def _feats(seed, n=60, d=8, shift=0.0):
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


CASES = {
    "top_pr": lambda: gm.top_pr(_feats(0, n=120, d=4), _feats(1, n=120, d=4, shift=0.3), device="cpu",
                                progress=False),
    "pp_pr": lambda: gm.pp_pr(_feats(0), _feats(1, shift=0.3), device="cpu", progress=False),
    "alpha_precision": lambda: gm.alpha_precision(_feats(0), _feats(1, shift=0.3), device="cpu", progress=False),
    "authpct": lambda: gm.authpct(_feats(0), _feats(1, shift=0.3), device="cpu", progress=False),
    "ct_test": lambda: gm.ct_test(_feats(0, n=120), _feats(2), _feats(1, shift=0.3), device="cpu", progress=False),
    "fld": lambda: gm.fld(_feats(0), _feats(2), _feats(1, shift=0.3), device="cpu", progress=False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_follow_the_protocol(name):
    _MOD._check_protocol(CASES[name]())
