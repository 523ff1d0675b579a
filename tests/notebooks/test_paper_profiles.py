"""The paper profiles run too, on format-exact stand-ins for what cannot be downloaded.

The published setting needs checkpoints (TF-FID Inception, torchvision
ImageNet/COCO networks) and CIFAR-10, none of which can be fetched here.
This test registers random-weight checkpoints in each publisher's exact
format (``install_fake_weights``) and a tiny CIFAR-10 in its real
python-pickle layout, then runs every notebook with ``paper+smoke``: the
paper's choices of data, extractors and networks at the smoke test's sizes.
The numbers are meaningless (random weights); what is tested is that the
code path users with the real files take is alive end to end.
"""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from conftest import REPO
from genmetrics_nb.report.runner import load_profile, run_notebook
from genmetrics_nb.testing.weights import install_fake_weights

PAPER_WEIGHTS = [
    "pt_inception-2015-12-05",
    "inception_v3_google",
    "vgg16",
    "alexnet",
    "squeezenet1_1",
    "fcn_resnet50_coco",
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop",
]
NOTEBOOKS = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb") if load_profile("paper", p.stem))


def _write_tiny_cifar10(root, *, per_class_train=12, per_class_test=6, seed=0):
    """CIFAR-10's real layout: cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)

    def batch(n_per_class):
        labels = np.repeat(np.arange(10), n_per_class)
        rng.shuffle(labels)
        # Class-dependent colour so that classes differ a little, plus noise.
        base = rng.integers(40, 216, (10, 3, 1, 1))
        imgs = np.clip(base[labels] + rng.normal(0, 40, (len(labels), 3, 32, 32)), 0, 255).astype(np.uint8)
        return {"data": imgs.reshape(len(labels), -1), "labels": labels.tolist()}

    per_file = max(1, per_class_train // 5)
    for i in range(1, 6):
        with open(folder / f"data_batch_{i}", "wb") as fh:
            pickle.dump(batch(per_file), fh)
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump(batch(per_class_test), fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer",
                                     "dog", "frog", "horse", "ship", "truck"]}, fh)  # fmt: skip


@pytest.fixture(scope="module")
def paper_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("paper-home")
    env = install_fake_weights(PAPER_WEIGHTS, home)
    data = tmp_path_factory.mktemp("paper-data")
    _write_tiny_cifar10(data, per_class_train=60, per_class_test=20)
    env["GENMETRICS_DATA"] = str(data)
    return env


def test_paper_profile_covers_every_notebook_with_a_paper_setting():
    assert {"fid", "inception_score", "kid", "precision_recall", "lpips"} <= set(NOTEBOOKS)


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_paper_profile_runs_on_stand_in_checkpoints(name, paper_env, tmp_path, monkeypatch):
    for key, value in paper_env.items():
        monkeypatch.setenv(key, value)
    extra = PAPER_STAND_INS.get(name, {})
    if callable(extra):
        extra = extra(tmp_path, monkeypatch)
    run = run_notebook(name, profile="paper+smoke", parameters=extra, out_dir=tmp_path / "reports")
    assert run.status == "ok", f"{name}: {run.error}\n(see {run.html_path})"
    assert run.results["metrics"], f"{name} recorded nothing"


_FAKE_STYLEGAN = """
import torch


class MappingNetwork(torch.nn.Module):
    def __init__(self, z_dim, w_dim, num_ws):
        super().__init__()
        self.num_ws = num_ws
        self.fc = torch.nn.Linear(z_dim, w_dim)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z, c, truncation_psi=1, truncation_cutoff=None, update_emas=False):
        w = self.w_avg.lerp(torch.nn.functional.leaky_relu(self.fc(z), 0.2), truncation_psi)
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)


class SynthesisNetwork(torch.nn.Module):
    def __init__(self, w_dim, res):
        super().__init__()
        self.res = res
        self.fc = torch.nn.Linear(w_dim, 3 * res * res)
        self.register_buffer("noise_const", torch.zeros(1, 1, res, res))

    def forward(self, ws, noise_mode="random", force_fp32=False):
        x = self.fc(ws[:, -1]).view(-1, 3, self.res, self.res) + self.noise_const
        return torch.tanh(x)


class Generator(torch.nn.Module):
    def __init__(self, z_dim=16, w_dim=16, img_resolution=32):
        super().__init__()
        self.z_dim, self.w_dim, self.c_dim = z_dim, w_dim, 0
        self.img_resolution, self.img_channels = img_resolution, 3
        self.mapping = MappingNetwork(z_dim, w_dim, num_ws=4)
        self.synthesis = SynthesisNetwork(w_dim, img_resolution)
"""


def _stylegan_stand_in(tmp_path, monkeypatch):
    """A StyleGAN2-ADA-layout network pickle ({'G_ema': training.networks.Generator, ...})
    whose code lives in a package on the kernel's PYTHONPATH, as NVIDIA's does, and a
    folder of real images; the notebooks' paper setting names both as user files."""
    import os
    import sys

    import torch
    from PIL import Image

    code = tmp_path / "stylegan-code"
    (code / "training").mkdir(parents=True)
    (code / "training" / "__init__.py").write_text("")
    (code / "training" / "networks.py").write_text(_FAKE_STYLEGAN)
    sys.path.insert(0, str(code))
    try:
        from training.networks import Generator

        torch.manual_seed(0)
        pkl = tmp_path / "stylegan2-fake-32x32.pkl"
        with open(pkl, "wb") as fh:
            pickle.dump({"G": Generator(), "G_ema": Generator(), "D": None, "augment_pipe": None}, fh)
    finally:
        sys.path.remove(str(code))
        for name in [m for m in sys.modules if m == "training" or m.startswith("training.")]:
            del sys.modules[name]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")])))
    real = tmp_path / "real-images"
    real.mkdir()
    rng = np.random.default_rng(0)
    for i in range(48):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(real / f"{i:03d}.png")
    return {"checkpoints": [str(pkl)], "real": str(real)}


# Notebooks whose paper setting names user files (a StyleGAN2 pickle, a
# folder of real images) get stand-ins here: name -> {parameter: value}
# or a callable(tmp_path, monkeypatch) returning that.
PAPER_STAND_INS: dict = {
    "ppl": lambda tmp_path, monkeypatch: {
        k: v for k, v in _stylegan_stand_in(tmp_path, monkeypatch).items() if k == "checkpoints"
    },
    "stylegan2_metrics": _stylegan_stand_in,
    # The smoke profile runs these on all ten classes so that their verdicts hold; the random-weight
    # stand-ins have no finding to keep, so four classes keep the (slow) VGG/Inception extraction short.
    "kid": {"classes": [0, 1, 2, 3], "keep_classes": [0, 1], "sizes": [10, 20, 40]},
    "precision_recall": {"classes": [0, 1, 2, 3], "keep_classes": [0, 1]},
    "iou_dice": {"n_train": 16, "n_test": 8, "epochs": 2},
    "linear_separability": {"num_samples": 300},
    "t2i": lambda tmp_path, monkeypatch: _t2i_stand_in(tmp_path),
}


def _t2i_stand_in(tmp_path):
    """The user's files of the t2i paper setting, as random checkpoints in each publisher's format:
    OpenAI's CLIP file, a PickScore transformers folder, an HPS ``{"state_dict"}`` file, ImageReward's
    three files, and a
    folder of images with a prompts.jsonl. CMMD and FD-DINOv2 need the manifest's full-size
    networks, which are not stood in for here."""
    from genmetrics_nb.extractors.clip import CLIPVisionConfig
    from genmetrics_nb.suites.t2i import write_class_prompt_folder
    from genmetrics_nb.testing import clip_checkpoint as cc
    from genmetrics_nb.testing.imagereward_checkpoint import write_imagereward

    cfg = CLIPVisionConfig(width=128, layers=1, patch_size=32, image_size=224, embed_dim=64)
    return {
        "images": str(write_class_prompt_folder(tmp_path / "t2i-images", n_per_class=1, size=32)),
        "real": None,
        "clip_model": str(cc.write_openai_clip(tmp_path / "ViT-B-32.pt", cfg, vocab_size=49408)),
        "pickscore_model": str(cc.write_hf_clip(tmp_path / "PickScore_v1", processor=False, hidden_act="gelu",
                                                vision_width=160, vision_heads=2, text_width=128, patch_size=14,
                                                vision_layers=1)),
        "hps_model": str(cc.write_hps_checkpoint(tmp_path / "HPS_v2.1_compressed.pt")),
        **{f"imagereward_{k}": str(v) for k, v in write_imagereward(tmp_path / "ImageReward").items()},
        "cmmd_extractor": None, "fd_extractor": None,
    }
