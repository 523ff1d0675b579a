"""Train the small style-based generator on Fashion-MNIST, on a CPU, in minutes.

StyleGAN2's recipe at toy scale: non-saturating logistic loss, lazy R1
penalty on real images, Adam with beta1 = 0, an exponential moving average
of the generator's weights (the shipped ``G_ema``), and a running average of
w for truncation. Snapshots of ``G_ema`` at several iterations are saved,
so that metrics can be followed across training.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np

from genmetrics_nb.training.defaults import GENERATOR_DEFAULTS
from genmetrics_nb.training.torch_state import local_torch_state

__all__ = ["train_generator", "evaluate_checkpoints", "GENERATOR_DEFAULTS"]



def _check_snapshots(snapshots, iterations):
    snaps = sorted({int(s) for s in snapshots})
    if not snaps or snaps[0] < 1 or snaps[-1] > iterations:
        raise ValueError(f"snapshots must be iterations between 1 and iterations={iterations}, got {list(snapshots)}")
    return snaps


_D = GENERATOR_DEFAULTS


def train_generator(out_dir, *, iterations: int = _D["iterations"], snapshots=_D["snapshots"],
                    batch_size: int = _D["batch_size"], lr: float = _D["lr"], r1_gamma: float = _D["r1_gamma"],
                    r1_interval: int = _D["r1_interval"], ema_beta: float = _D["ema_beta"], seed: int = _D["seed"],
                    threads: int = _D["threads"], command: str | None = None, progress: bool = True) -> dict:
    """Train :class:`~genmetrics_nb.generators.SmallStyleGAN` and save ``G_ema`` snapshots.

    Parameters
    ----------
    out_dir : path
        Where ``fmnist-stylegan-itNNNNN.pt`` files and manifest entries go.
    iterations : int
        Generator steps (one discriminator step each).
    snapshots : iterable of int
        Iterations after which ``G_ema`` is saved.
    batch_size, lr, r1_gamma, r1_interval, ema_beta
        The recipe (see the module docstring).
    seed : int
        Seeds initialisation, data order and latents; with the same
        ``threads`` and torch version the run is bit-reproducible.
    threads : int
        CPU threads used by torch during training.
    command : str, optional
        The command line recorded in the manifest.
    progress : bool

    Returns
    -------
    dict
        Manifest entries written, by name.
    """
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    from genmetrics_nb.datasets.fashionmnist import fashion_mnist
    from genmetrics_nb.generators.small_stylegan import ARCH_DEFAULTS, Discriminator, SmallStyleGAN
    from genmetrics_nb.weights.shipped import update_manifest
    from genmetrics_nb.zoo.checkpoints import GENERATOR_FORMAT, save_checkpoint

    snaps = _check_snapshots(snapshots, iterations)
    x, _, _ = fashion_mnist("train")
    out_dir = Path(out_dir)
    entries = {}
    t0 = time.perf_counter()
    with local_torch_state(seed, threads):
        rng = torch.Generator().manual_seed(seed)
        X = torch.from_numpy(np.array(x, dtype=np.float32)) / 127.5 - 1.0
        G = SmallStyleGAN(**{k: v for k, v in ARCH_DEFAULTS.items()})
        D = Discriminator(img_channels=G.img_channels, img_resolution=G.img_resolution)
        G_ema = copy.deepcopy(G).eval().requires_grad_(False)
        opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.0, 0.99))
        opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.0, 0.99))
        perm, pos = torch.randperm(len(X), generator=rng), 0
        bar = tqdm(total=iterations, disable=not progress, desc="train-generator", unit="it")
        for it in range(1, iterations + 1):
            if pos + batch_size > len(X):
                perm, pos = torch.randperm(len(X), generator=rng), 0
            real = X[perm[pos:pos + batch_size]]
            pos += batch_size
            # Discriminator: logistic loss, plus lazy R1 on reals every r1_interval steps.
            z = torch.randn(batch_size, G.z_dim, generator=rng)
            with torch.no_grad():
                fake = G(z)
            loss_d = F.softplus(D(fake)).mean() + F.softplus(-D(real)).mean()
            if r1_gamma > 0 and it % r1_interval == 0:
                real_r = real.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(D(real_r).sum(), real_r, create_graph=True)
                loss_d = loss_d + (r1_gamma / 2) * grad.square().sum(dim=(1, 2, 3)).mean() * r1_interval
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            # Generator: non-saturating loss; the mapping tracks the average w.
            z = torch.randn(batch_size, G.z_dim, generator=rng)
            ws = G.mapping(z, update_w_avg=True)
            loss_g = F.softplus(-D(G.synthesis(ws))).mean()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            with torch.no_grad():
                for p_ema, p in zip(G_ema.parameters(), G.parameters()):
                    p_ema.lerp_(p, 1.0 - ema_beta)
                for b_ema, b in zip(G_ema.buffers(), G.buffers()):
                    b_ema.copy_(b)
            bar.update(1)
            if it % 50 == 0:
                bar.set_postfix(loss_d=f"{loss_d.item():.3f}", loss_g=f"{loss_g.item():.3f}")
            if it in snaps:
                name = f"fmnist-stylegan-it{it:05d}"
                elapsed = time.perf_counter() - t0
                meta = {"iteration": it, "images_seen": it * batch_size, "seed": seed}
                facts = save_checkpoint(out_dir / f"{name}.pt", fmt=GENERATOR_FORMAT, arch=G.init_kwargs,
                                        state_dict=G_ema.state_dict(), meta=meta)
                entries[name] = {
                    "kind": "generator",
                    **facts,
                    "format": GENERATOR_FORMAT,
                    "command": command or _default_command(out_dir, seed),
                    "seed": seed,
                    "iteration": it,
                    "images_seen": it * batch_size,
                    "train_seconds": round(elapsed, 1),
                    "recipe": {"iterations": iterations, "batch_size": batch_size, "lr": lr, "r1_gamma": r1_gamma,
                               "r1_interval": r1_interval, "ema_beta": ema_beta},
                    "threads": threads,
                    "torch": torch.__version__,
                    "architecture": G.init_kwargs,
                    "description": "SmallStyleGAN G_ema snapshot (mapping MLP z->w, modulated convs, 28x28, "
                                   "output tanh in [-1, 1]), trained on the Fashion-MNIST train split",
                }
        bar.close()
    update_manifest(entries, root=out_dir)
    return entries


def _default_command(out_dir, seed):
    return f"genmetrics-nb train-generator --out {out_dir} --seed {seed}"


def evaluate_checkpoints(root, *, names=None, n: int = _D["fid_samples"], seed: int = _D["fid_seed"], device="auto",
                         progress: bool = True) -> dict:
    """FID (efficientnet-lite0 pool features) of generator checkpoints against Fashion-MNIST test.

    ``n`` generated images per checkpoint (latent seed ``seed``) against the
    first ``n`` test images; the result is stored in each manifest entry as
    ``fid_efficientnet_lite0`` with its protocol.
    """
    from genmetrics_nb.datasets.fashionmnist import fashion_mnist
    from genmetrics_nb.features.engine import extract_features
    from genmetrics_nb.metrics.distribution.fid import fid
    from genmetrics_nb.weights.shipped import read_manifest, update_manifest
    from genmetrics_nb.zoo.checkpoints import list_checkpoints, load_generator

    entries = list_checkpoints("generator", root=root)
    if names is not None:
        entries = [e for e in entries if e["name"] in set(names)]
    xt, _, _ = fashion_mnist("test")
    real = extract_features(xt[:n], "efficientnet-lite0", outputs=("pool",), cache=False, device=device,
                               progress=progress)
    manifest = read_manifest(root)
    updated = {}
    for e in entries:
        gen = load_generator(e["name"], root=root, device=device)
        imgs = gen.generate(n, seed=seed, progress=False)
        fake = extract_features(imgs, "efficientnet-lite0", outputs=("pool",), cache=False, device=device,
                                   progress=progress)
        res = fid(real, fake)
        entry = dict(manifest[e["name"]])
        entry["fid_efficientnet_lite0"] = {
            "value": round(float(res.value), 4),
            "n_fake": n,
            "n_real": n,
            "real": f"fashion-mnist test, first {n} images",
            "latent_seed": seed,
            "extractor": "efficientnet-lite0 pool (1280-d), 224x224 bilinear-antialias resize",
            "function": f"gm.fid(real_features, fake_features); fake = load_generator(name).generate({n}, seed={seed})",
        }
        updated[e["name"]] = entry
    update_manifest(updated, root=root)
    return {k: v["fid_efficientnet_lite0"]["value"] for k, v in updated.items()}
