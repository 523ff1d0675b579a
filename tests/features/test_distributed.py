"""Sharding with torchrun: 2 CPU processes (gloo) must equal one process.

The same script runs once under ``torchrun --standalone --nproc_per_node=2``
and once as a plain single process (both with one thread per process, so
convolutions reduce in the same order). Gathered features must be identical,
merged statistics equal within 1e-9 relative, and a rank that receives no
images must neither hang nor change the result.

Every extractor output that a metric uses is covered: ``pool`` and ``logits``
of efficientnet-lite0 (real network); ``cls`` of DINOv2 and ``embedding`` /
``projection`` / ``cls`` of CLIP through their real code on small
random checkpoints in the publishers' formats (one DINOv2 ViT-S/14 block; a
2-block CLIP ViT at 336 px); and stand-ins with the exact output names and
dimensions of ``inception-v3-fid`` (``pool`` 2048, ``logits`` and
``logits_unbiased`` 1008, ``spatial`` 2023) and ``vgg16-fc2`` (``fc2_relu``,
``fc2`` 4096, ``logits`` 1000), whose full networks would cost minutes here:
the sharding and the float64 merge do not depend on the network, only on the
outputs' shapes and values. The references are the single-process run and
NumPy's mean/covariance of its features.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = [pytest.mark.distributed, pytest.mark.slow]

_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import genmetrics_nb as gm
    from genmetrics_nb.cli import main
    from genmetrics_nb.features import distributed as dd, feature_stats

    out, n, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    x = np.random.default_rng(0).integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    kw = dict(batch_size=4, device="cpu", cache=False, progress=False)
    f = gm.extract_features(x, "efficientnet-lite0", **kw)
    s = feature_stats(x, "efficientnet-lite0", **kw)
    if folder != "-":
        rc = main(["stats", folder, "--extractor", "efficientnet-lite0", "--out", out + ".cli.npz",
                   "--no-cache", "--no-progress", "--num-workers", "0", "--batch-size", "4"])
        assert rc == 0
    if dd.rank() == 0:
        np.savez(out, pool=f["pool"], logits=f["logits"], index=f.index, n=s.n, sum=s.sum,
                 outer=s.outer, sigma=s.sigma, world=f.meta["world_size"], sworld=s.meta["world_size"])
    """
)


def _torchrun():
    exe = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "torch.distributed.run"]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    return env


def _run_pair(tmp_path, n, folder, *, script=_SCRIPT):
    text = script
    script = tmp_path / "job.py"
    script.write_text(text)
    single, multi = str(tmp_path / f"single{n}.npz"), str(tmp_path / f"multi{n}.npz")
    subprocess.run([sys.executable, str(script), single, str(n), folder], env=_env(), check=True,
                   timeout=300)
    subprocess.run([*_torchrun(), "--standalone", "--nproc_per_node=2", str(script), multi, str(n), folder],
                   env=_env(), check=True, timeout=300)  # a hung rank would hit the timeout
    return np.load(single), np.load(multi)


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def _write_pngs(n, folder):
    from PIL import Image

    x = np.random.default_rng(0).integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    folder.mkdir()
    for i, img in enumerate(x):
        Image.fromarray(img.transpose(1, 2, 0)).save(folder / f"{i:03d}.png")
    return str(folder)


def test_two_processes_equal_one(tmp_path):
    folder = _write_pngs(18, tmp_path / "imgs")
    one, two = _run_pair(tmp_path, 18, folder)
    assert int(one["world"]) == 1 and int(two["world"]) == 2 and int(two["sworld"]) == 2
    # Gathered features: identical, in the original order.
    np.testing.assert_array_equal(two["index"], np.arange(18))
    np.testing.assert_array_equal(two["pool"], one["pool"])
    np.testing.assert_array_equal(two["logits"], one["logits"])
    # Statistics merged by summing sufficient statistics.
    assert int(two["n"]) == int(one["n"]) == 18
    assert _rel(two["sum"], one["sum"]) <= 1e-9
    assert _rel(two["outer"], one["outer"]) <= 1e-9
    assert _rel(two["sigma"], one["sigma"]) <= 1e-9
    # The statistics from the features of the single run (reference: numpy).
    np.testing.assert_allclose(one["sigma"], np.cov(one["pool"].astype(np.float64), rowvar=False),
                               rtol=1e-9, atol=1e-12)
    # The CLI under torchrun writes the same statistics as without.
    from genmetrics_nb import FeatureStats

    s1 = FeatureStats.load(str(tmp_path / "single18.npz") + ".cli.npz")
    s2 = FeatureStats.load(str(tmp_path / "multi18.npz") + ".cli.npz")
    assert s1.n == s2.n == 18 and s2.meta["world_size"] == 2
    assert _rel(s2.sigma, s1.sigma) <= 1e-9
    np.testing.assert_allclose(s1.mu, one["pool"].astype(np.float64).mean(0), rtol=1e-6)
    # docs/speed.md's multi-node form on one node: c10d rendezvous, the CLI run as a module.
    rdzv = tmp_path / "rdzv.npz"
    subprocess.run([*_torchrun(), "--nnodes=1", "--nproc-per-node=2", "--rdzv-backend=c10d",
                    f"--rdzv-endpoint=127.0.0.1:{_free_port()}", "--rdzv-id=genmetrics-test",
                    "-m", "genmetrics_nb", "stats", folder, "--extractor", "efficientnet-lite0", "--out", str(rdzv),
                    "--no-cache", "--no-progress", "--num-workers", "0", "--batch-size", "4"],
                   env=_env(), check=True, timeout=300)
    s3 = FeatureStats.load(str(rdzv))
    assert s3.n == 18 and s3.meta["world_size"] == 2
    assert _rel(s3.sigma, s1.sigma) <= 1e-9 and _rel(s3.mu, s1.mu) <= 1e-9


_OUTPUTS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn
    import genmetrics_nb as gm
    from genmetrics_nb.extractors.base import Extractor
    from genmetrics_nb.extractors.inception_fid import fid_inception_preprocess, tf1_bilinear_resize
    from genmetrics_nb.extractors.torchvision_nets import imagenet_normalize
    from genmetrics_nb.features import distributed as dd, feature_stats

    out, n, files = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])

    def standin(name, preprocess, dims, heads):
        # A seeded tiny convolution net whose outputs have the real extractor's names and sizes.
        g = torch.Generator().manual_seed(len(name))
        conv = nn.Conv2d(3, 16, 3, stride=2)
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * 0.3)
            conv.bias.zero_()
        w = {k: torch.randn(d_in, dims[k], generator=g) / d_in ** 0.5 for k, d_in in heads.items()}
        bias = torch.randn(dims.get("logits", 1), generator=g)

        def forward(m, x, names):
            h = F.relu(m(F.avg_pool2d(x, 4)))
            feat = F.adaptive_avg_pool2d(h, 4).flatten(1)  # 256
            o = {}
            if "pool" in dims:  # inception-v3-fid
                o["pool"] = F.relu(feat @ w["pool"])
                o["logits_unbiased"] = o["pool"] @ w["logits"]
                o["logits"] = o["logits_unbiased"] + bias
                o["spatial"] = F.adaptive_avg_pool2d(h[:, :7], 17).flatten(1)
            else:  # vgg16-fc2
                o["fc2"] = feat @ w["fc2"]
                o["fc2_relu"] = F.relu(o["fc2"])
                o["logits"] = o["fc2_relu"] @ w["logits"] + bias
            return o

        return Extractor(name, conv.eval(), preprocess=preprocess, forward=forward, outputs=dims,
                         spec={"stand_in": name}, weights_digest="0" * 64, device=torch.device("cpu"))

    def dinov2_small():
        from genmetrics_nb.extractors import dinov2 as dv2
        arch = dv2.ARCHITECTURES["dinov2-vit-s14"]
        model, _ = dv2.load_dinov2(arch, weights=files["dinov2"], device="cpu", depth=1)
        return Extractor("dinov2-small", model, preprocess=dv2.dinov2_preprocess, forward=dv2.dinov2_forward,
                         outputs={"cls": arch.embed_dim}, spec={"depth": 1}, weights_digest="1" * 64,
                         device=torch.device("cpu"))

    def clip_small():
        from genmetrics_nb.extractors import clip
        return clip.build_extractor(device="cpu", weights=files["clip"], config=None, name="clip-small")

    extractors = {
        "efficientnet-lite0": "efficientnet-lite0",
        "inception-standin": standin(
            "inception-standin", fid_inception_preprocess,
            {"pool": 2048, "logits": 1008, "logits_unbiased": 1008, "spatial": 2023},
            {"pool": 256, "logits": 2048}),
        "vgg16-standin": standin(
            "vgg16-standin", lambda x: imagenet_normalize(tf1_bilinear_resize(x, (224, 224))),
            {"fc2_relu": 4096, "fc2": 4096, "logits": 1000}, {"fc2": 256, "logits": 4096}),
        "dinov2-small": dinov2_small(),
        "clip-small": clip_small(),
    }
    x = np.random.default_rng(1).integers(0, 256, (n, 3, 40, 40), dtype=np.uint8)
    kw = dict(batch_size=2, device="cpu", cache=False, progress=False)
    res = {}
    for key, ext in extractors.items():
        f = gm.extract_features(x, ext, **kw)
        for o in f:
            res[f"{key}/{o}/features"] = f[o]
            s = feature_stats(x, ext, output=o, **kw)
            res[f"{key}/{o}/n"] = s.n
            res[f"{key}/{o}/sum"] = s.sum
            res[f"{key}/{o}/outer"] = s.outer
            res[f"{key}/{o}/mu"] = s.mu
            res[f"{key}/{o}/sigma"] = s.sigma
            res[f"{key}/{o}/world"] = s.meta["world_size"]
    if dd.rank() == 0:
        np.savez(out, **res)
    """
)


def test_every_metric_output_two_processes_equal_one(tmp_path):
    from genmetrics_nb.testing.clip_checkpoint import write_openai_clip
    from genmetrics_nb.testing.dinov2_reference import random_official_state
    import torch

    dinov2 = tmp_path / "dinov2_vits14_pretrain.pth"
    torch.save(random_official_state("s", depth=1, seed=3), dinov2)
    clip = write_openai_clip(tmp_path / "ViT-small.pt", seed=4)  # small_config(): 2 blocks, 336 px
    files = json.dumps({"dinov2": str(dinov2), "clip": str(clip)})
    n = 5  # batches of 2: rank 0 computes 4 images, rank 1 one
    one, two = _run_pair(tmp_path, n, files, script=_OUTPUTS_SCRIPT)
    used_by_metrics = {
        "efficientnet-lite0": ("pool", "logits"),  # FD_efficientnet-lite0, offline IS / KID / PR
        "inception-standin": ("pool", "logits", "logits_unbiased", "spatial"),  # FID, KID, IS, sFID
        "vgg16-standin": ("fc2_relu", "fc2", "logits"),  # precision/recall, density/coverage
        "dinov2-small": ("cls",),  # FD_DINOv2
        "clip-small": ("embedding", "projection", "cls"),  # CMMD, FD_CLIP
    }
    for key, outputs in used_by_metrics.items():
        for o in outputs:
            p = f"{key}/{o}"
            assert int(one[f"{p}/world"]) == 1 and int(two[f"{p}/world"]) == 2, p
            # Gathered features: identical, in the original order.
            np.testing.assert_array_equal(two[f"{p}/features"], one[f"{p}/features"], err_msg=p)
            feats = one[f"{p}/features"].astype(np.float64)
            assert feats.shape[0] == n and np.abs(feats).max() > 0, p
            # Statistics: the float64 sums merged over ranks equal one process's,
            # and the moments equal NumPy's of the single run's features.
            assert int(two[f"{p}/n"]) == int(one[f"{p}/n"]) == n, p
            for k in ("sum", "outer", "mu", "sigma"):
                assert _rel(two[f"{p}/{k}"], one[f"{p}/{k}"]) <= 1e-9, (p, k)
            scale = np.abs(feats).max()
            np.testing.assert_allclose(one[f"{p}/mu"], feats.mean(0), rtol=1e-9, atol=1e-12 * scale, err_msg=p)
            np.testing.assert_allclose(one[f"{p}/sigma"], np.cov(feats, rowvar=False), rtol=1e-9,
                                       atol=1e-12 * scale ** 2, err_msg=p)


def test_rank_without_images_does_not_hang(tmp_path):
    # 3 images in batches of 4: one batch, so rank 1 gets nothing.
    one, two = _run_pair(tmp_path, 3, "-")
    np.testing.assert_array_equal(two["pool"], one["pool"])
    assert int(two["n"]) == 3
    assert _rel(two["outer"], one["outer"]) <= 1e-9
