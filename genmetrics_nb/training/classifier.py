"""Training the shipped Fashion-MNIST classifier (``genmetrics-nb train-classifier``)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genmetrics_nb.training.defaults import CLASSIFIER_DEFAULTS
from genmetrics_nb.training.torch_state import local_torch_state
from genmetrics_nb.zoo.classifier import FashionCNN, to_input

__all__ = ["train_classifier"]


_D = CLASSIFIER_DEFAULTS


def train_classifier(out_dir, *, epochs: int = _D["epochs"], batch_size: int = _D["batch_size"], lr: float = _D["lr"],
                     seed: int = _D["seed"], threads: int = _D["threads"], command: str | None = None,
                     progress: bool = True) -> dict:
    """Train :class:`FashionCNN` on the Fashion-MNIST training set and save it.

    Writes ``fmnist-classifier.pt`` (float16) into ``out_dir`` and its entry
    into ``out_dir/manifest.json`` (test accuracy, seed, time, command).

    Returns
    -------
    dict
        The manifest entry.
    """
    from tqdm.auto import tqdm

    from genmetrics_nb.datasets.fashionmnist import fashion_mnist
    from genmetrics_nb.weights.shipped import update_manifest
    from genmetrics_nb.zoo.checkpoints import CLASSIFIER_FORMAT, save_checkpoint

    x, y, classes = fashion_mnist("train")
    xt, yt, _ = fashion_mnist("test")
    t0 = time.perf_counter()
    with local_torch_state(seed, threads):
        rng = torch.Generator().manual_seed(seed)
        net = FashionCNN()
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        X, Y = to_input(x), torch.from_numpy(np.array(y, dtype=np.int64))
        steps = epochs * (len(X) // batch_size)
        bar = tqdm(total=steps, disable=not progress, desc="train-classifier", unit="step")
        for _ in range(epochs):
            perm = torch.randperm(len(X), generator=rng)
            for i in range(len(X) // batch_size):
                idx = perm[i * batch_size:(i + 1) * batch_size]
                loss = F.cross_entropy(net(X[idx]), Y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                bar.update(1)
        bar.close()
        train_seconds = time.perf_counter() - t0
        net.eval()
        # Accuracy of the stored (float16-rounded) weights, which is what users load.
        net.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})
        with torch.no_grad():
            pred = torch.cat([net(to_input(xt[i:i + 1000])).argmax(1) for i in range(0, len(xt), 1000)])
        acc = float((pred.numpy() == np.asarray(yt)).mean())
        name = "fmnist-classifier"
        meta = {"classes": list(classes), "seed": seed, "epochs": epochs, "test_accuracy": acc}
        facts = save_checkpoint(Path(out_dir) / f"{name}.pt", fmt=CLASSIFIER_FORMAT, arch=net.init_kwargs,
                                state_dict=net.state_dict(), meta=meta)
    entry = {
        "kind": "classifier",
        **facts,
        "format": CLASSIFIER_FORMAT,
        "command": command or f"genmetrics-nb train-classifier --out {out_dir} --seed {seed}",
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "threads": threads,
        "torch": torch.__version__,
        "train_seconds": round(train_seconds, 1),
        "test_accuracy": acc,
        "classes": list(classes),
        "description": "FashionCNN (2 conv + 2 fc), Adam, Fashion-MNIST train split; input 1x28x28 in [-1, 1]",
    }
    update_manifest({name: entry}, root=out_dir)
    return entry
