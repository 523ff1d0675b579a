"""The fid / kid / prc commands on a generator SOURCE (issue: evaluate your own model).

The command's number must equal the Python API on the same drawn images
(``sources.generated`` with the same ``num_images`` and seed), and a
generator without ``--num-images`` must be a usage error that names the
option; ``--num-images`` on a set of images caps it to the resolver's seeded subset.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.metrics.distribution.frechet import SingularCovarianceWarning
from genmetrics_nb.cli import main

GEN = "fmnist-stylegan-it02000"


@pytest.fixture(scope="module")
def real_npy(tmp_path_factory):
    ds = gm.datasets.fashion_mnist("test")
    x = np.asarray(ds.images[:24]).reshape(24, 1, 28, 28)
    path = tmp_path_factory.mktemp("cli") / "real.npy"
    np.save(path, np.repeat(x, 3, axis=1))
    return path


def test_fid_command_draws_from_a_generator(real_npy, capsys):
    args = ["fid", str(real_npy), GEN, "--extractor", "efficientnet-lite0", "--num-images", "24",
            "--gen-seed", "3", "--json", "--no-progress", "--device", "cpu"]
    with pytest.warns(SingularCovarianceWarning):
        assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    fake = gm.sources.generated(GEN, num_images=24, seed=3, device="cpu")
    with pytest.warns(SingularCovarianceWarning):
        ref = gm.fid(np.load(real_npy), fake, extractor="efficientnet-lite0", cache=False, device="cpu",
                     progress=False)
    assert out["value"] == pytest.approx(ref.value, rel=1e-9)
    assert out["n_fake"] == 24


@pytest.mark.parametrize("cmd", ["fid", "kid", "prc"])
def test_generator_needs_num_images(real_npy, cmd, capsys):
    assert main([cmd, str(real_npy), GEN, "--extractor", "efficientnet-lite0"]) == 2
    assert "--num-images" in capsys.readouterr().err


def test_num_images_caps_a_set_to_the_resolvers_seeded_subset(real_npy, capsys):
    args = ["prc", str(real_npy), str(real_npy), "--num-images", "10", "--gen-seed", "4", "--extractor",
            "efficientnet-lite0", "--k", "2", "--json", "--no-progress", "--device", "cpu"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    sub = gm.resolve(real_npy, num_images=10, seed=4)
    assert len(sub) == 10 and "seeded subset, seed 4" in sub.description
    rows = np.sort(np.random.default_rng(4).choice(24, size=10, replace=False))  # what the cap promises
    np.testing.assert_array_equal(sub.read_batch(0, 10), np.load(real_npy)[rows])
    ref = gm.precision_recall(np.load(real_npy)[rows], np.load(real_npy)[rows], k=2, extractor="efficientnet-lite0",
                              device="cpu", progress=False)
    assert (out["precision"], out["recall"]) == (ref.precision, ref.recall)
