"""The parity page's peers: each protocol computed by this toolkit and by the implementation that defines it.

A test harness, not a story: every adapter here runs one protocol twice on
the same images and the same network weights, once through
``genmetrics_nb`` and once through its peer (pytorch-fid, torch-fidelity,
clean-fid, prdc, lpips, scikit-image, open_clip, vendi-score, POT, top-pr, or an independent
re-computation where the reference is not a package), and returns a
:class:`ParityRow`. The parity notebook's story
(:func:`genmetrics_nb.experiments.parity.parity_table`) runs them; the
tests run them too.

Offline (``weights="random"``) the networks carry seeded random weights
written in each publisher's own file format and placed where each tool
looks for them (:func:`genmetrics_nb.testing.weights.install_fake_weights`;
pytorch-fid and clean-fid read ``$TORCH_HOME/hub/checkpoints``), so the
comparison exercises every tool's real loading code.

References
----------
.. [1] M. Seitzer, pytorch-fid: https://github.com/mseitzer/pytorch-fid
.. [2] A. Obukhov et al., torch-fidelity: https://github.com/toshas/torch-fidelity
.. [3] G. Parmar et al., clean-fid (CVPR 2022): https://github.com/GaParmar/clean-fid
.. [4] M. F. Naeem et al., prdc (ICML 2020): https://github.com/clovaai/generative-evaluation-prdc
.. [5] R. Zhang et al., lpips (CVPR 2018): https://github.com/richzhang/PerceptualSimilarity
.. [6] scikit-image ``structural_similarity``: https://github.com/scikit-image/scikit-image
.. [7] P. Dhariwal and A. Nichol (NeurIPS 2021), ADM evaluator:
   https://github.com/openai/guided-diffusion/blob/main/evaluations/evaluator.py
.. [8] G. Stein et al. (NeurIPS 2023), dgm-eval (FD_DINOv2): https://github.com/layer6ai-labs/dgm-eval;
   DINOv2: https://github.com/facebookresearch/dinov2
.. [9] S. Jayasumana et al. (CVPR 2024), CMMD:
   https://github.com/google-research/google-research/tree/master/cmmd; open_clip:
   https://github.com/mlfoundations/open_clip
.. [10] D. Friedman and A. B. Dieng (TMLR 2023), vendi-score: https://github.com/vertaix/Vendi-Score
.. [11] R. Flamary et al., POT (``ot.sliced_wasserstein_distance``): https://github.com/PythonOT/POT
.. [12] P. J. Kim et al. (NeurIPS 2023), top-pr: https://github.com/LAIT-CVLab/TopPR
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

__all__ = ["ParityRow", "PEERS", "Context", "peer_images", "weights_environment", "relative_difference",
           "parity_row"]

_FID_WEIGHTS = "pt_inception-2015-12-05"
_PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"  # the name pytorch-fid / clean-fid look up
_DINOV2_WEIGHTS = "dinov2_vits14_pretrain"
_CLIP_WEIGHTS = "ViT-L-14-336px"


def _fake_dinov2(home):
    from genmetrics_nb.testing.dinov2_reference import install_fake_dinov2

    return install_fake_dinov2(home, "s")


def _fake_clip(home):
    from genmetrics_nb.testing.clip_checkpoint import install_fake_clip, small_config

    return install_fake_clip(home, small_config())


#: Manifest names whose random stand-ins are not built by ``install_fake_weights``:
#: name -> installer writing into the same ``home`` and manifest.
_OTHER_FAKES = {_DINOV2_WEIGHTS: _fake_dinov2, _CLIP_WEIGHTS: _fake_clip}


@dataclasses.dataclass(frozen=True)
class ParityRow:
    """One protocol computed here and by its peer.

    Attributes
    ----------
    protocol : str
        What is compared (``"FID, legacy_pytorch resize"``).
    peer : str
        The reference implementation and its version.
    compared : str
        What the two value columns show (``"FID"``, ``"mean of the resized pixels, 0-255"``);
        the differences cover every value the protocol outputs.
    ours, theirs : float
        The two values that ``compared`` names (for vector outputs one
        element or their mean; the difference covers all of them).
    max_abs_diff : float
        ``max |ours - theirs|`` over every compared value, in the values' units.
    max_rel_diff : float
        ``max |ours - theirs| / max(|theirs|, floor)`` over every compared value
        (a value that is nan on both sides counts as equal; nan on one side only gives nan: outside).
    tolerance : float
        The largest relative difference that counts as float noise for this protocol.
    note : str
        Inputs and what decides the tolerance.
    """

    protocol: str
    peer: str
    compared: str
    ours: float
    theirs: float
    max_abs_diff: float
    max_rel_diff: float
    tolerance: float
    note: str = ""

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.max_rel_diff) and self.max_rel_diff <= self.tolerance)


def _pairs(ours, theirs):
    """The compared values as two flat float64 arrays, without the positions that are nan on both sides."""
    a = np.asarray(ours, dtype=np.float64).ravel()
    b = np.asarray(theirs, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return None
    both_nan = np.isnan(a) & np.isnan(b)  # the same undefined value on both sides (e.g. IS after underflow)
    return a[~both_nan], b[~both_nan]


def relative_difference(ours, theirs, *, floor: float = 1e-12) -> float:
    """``max |ours - theirs| / max(|theirs|, floor)``; nan on one side only gives nan, a shape mismatch inf."""
    pair = _pairs(ours, theirs)
    if pair is None:
        return math.inf
    a, b = pair
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


def _abs_difference(ours, theirs) -> float:
    pair = _pairs(ours, theirs)
    if pair is None:
        return math.inf
    a, b = pair
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def parity_row(protocol, peer, ours, theirs, tolerance, note, *, compared: str, shown="first",
               floor=1e-12) -> ParityRow:
    """A :class:`ParityRow` of two equally shaped outputs.

    ``shown`` picks the value the table shows of each side: ``"first"``
    (the protocol's first number, e.g. FID of the ADM evaluator's five) or
    ``"mean"`` (per-pair scores, resized pixels); ``compared`` says which in
    words. The differences cover every value.
    """
    if shown not in ("first", "mean"):
        raise ValueError(f"shown must be 'first' or 'mean', got {shown!r}")

    def pick(v):
        v = np.asarray(v, dtype=np.float64).ravel()
        return float(v[0]) if shown == "first" else float(np.mean(v))

    return ParityRow(protocol, peer, compared, pick(ours), pick(theirs), _abs_difference(ours, theirs),
                     relative_difference(ours, theirs, floor=floor), tolerance, note)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{package} {version(package)}"
    except PackageNotFoundError:
        return package


# ----------------------------------------------------------------------------- the inputs
@dataclasses.dataclass
class Context:
    real: np.ndarray  # N x 3 x H x W uint8
    fake: np.ndarray
    work: Path
    device: str
    cache: dict = dataclasses.field(default_factory=dict)
    weights: str = "random"

    def folder(self, which: str) -> Path:
        """The set written as PNG files (lossless, so every tool reads the same pixels)."""
        from PIL import Image

        out = self.work / which
        if not out.is_dir():
            out.mkdir(parents=True)
            for i, img in enumerate(getattr(self, which)):
                Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0))).save(out / f"{i:05d}.png")
        return out


def peer_images(n: int, seed: int):
    """Two sets of Fashion-MNIST test images as RGB uint8: classes 0-4 (real) and 5-9 (fake)."""
    from genmetrics_nb.datasets.registry import load_dataset

    ds = load_dataset("fashion-mnist:test")
    rng = np.random.default_rng(seed)
    labels = np.asarray(ds.labels)
    sets = []
    for keep in (labels < 5, labels >= 5):
        idx = rng.permutation(np.flatnonzero(keep))[:n]
        x = np.asarray(ds.images[np.sort(idx)])
        x = x.reshape(len(idx), -1, x.shape[-2], x.shape[-1])
        sets.append(np.repeat(x, 3, axis=1) if x.shape[1] == 1 else x)
    return sets


@contextlib.contextmanager
def weights_environment(weights: str, work: Path, names):
    """Point the weight manager (and torch hub) at random or published checkpoints."""
    from genmetrics_nb.extractors.registry import clear_cache

    keys = ("GENMETRICS_HOME", "GENMETRICS_MANIFEST", "GENMETRICS_OFFLINE", "TORCH_HOME")
    saved = {k: os.environ.get(k) for k in keys}
    try:
        if weights == "random":
            from genmetrics_nb.testing.weights import install_fake_weights

            names = list(names)
            home = work / "home"
            # every installer adds its entries to the same home/fake-manifest.json
            os.environ.update(install_fake_weights([n for n in names if n not in _OTHER_FAKES], home))
            for name in names:
                if name in _OTHER_FAKES:
                    os.environ.update(_OTHER_FAKES[name](home))
        os.environ["TORCH_HOME"] = str(work / "torch")
        clear_cache()
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        clear_cache()


def _torch_hub_file(name: str, filename: str) -> Path:
    """Put the weight manager's file for ``name`` where torch hub (pytorch-fid, clean-fid) looks."""
    from genmetrics_nb import weights

    dest = Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints" / filename
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(weights.path(name), dest)
    return dest


def _our_pool(ctx: Context, which: str, resize: str) -> np.ndarray:
    from genmetrics_nb.extractors.registry import get_extractor
    from genmetrics_nb.features.engine import extract_features

    key = ("pool", which, resize)
    if key not in ctx.cache:
        ext = get_extractor("inception-v3-fid", device=ctx.device, resize=resize)
        ctx.cache[key] = extract_features(getattr(ctx, which), ext, outputs=["pool"], cache=False,
                                          device=ctx.device, progress=False)["pool"]
    return ctx.cache[key]


def _our_fid(ctx: Context, resize: str) -> float:
    from genmetrics_nb.metrics.distribution.fid import fid

    return fid(_our_pool(ctx, "real", resize), _our_pool(ctx, "fake", resize)).value


def _peer_frechet(stats_a, stats_b, *, first=None) -> tuple[float, str]:
    """The peer's Frechet distance of two ``(mu, sigma)``, and a note when its guard refused them.

    pytorch-fid and clean-fid raise "Imaginary component" when the matrix
    square root of two singular covariances (n < D) has an imaginary
    diagonal above 1e-3; torch-fidelity's eigenvalue form has no such guard.
    ``first`` (default pytorch-fid's ``calculate_frechet_distance``) is tried
    first and torch-fidelity's ``fid_statistics_to_metric`` takes over only
    when it refuses, which the returned note says.
    """
    if first is None:
        from pytorch_fid.fid_score import calculate_frechet_distance as first
    try:
        return float(first(*stats_a, *stats_b)), ""
    except ValueError as exc:
        if "Imaginary component" not in str(exc):
            raise
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_statistics_to_metric

    out = fid_statistics_to_metric({"mu": stats_a[0], "sigma": stats_a[1]},
                                   {"mu": stats_b[0], "sigma": stats_b[1]}, False)
    return float(out[KEY_METRIC_FID]), (" (the peer's sqrtm refused the singular covariances of this n with "
                                         "'Imaginary component'; the distance is torch-fidelity's eigenvalue form)")


def _moments(f) -> tuple:
    f = np.asarray(f, dtype=np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


# ----------------------------------------------------------------------------- the rows
def _fid_pytorch_fid(ctx: Context) -> ParityRow:
    import torch
    from pytorch_fid.inception import InceptionV3

    _torch_hub_file(_FID_WEIGHTS, _PYTORCH_FID_FILE)
    model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval().to(ctx.device)
    stats = []
    for which in ("real", "fake"):
        x = torch.as_tensor(getattr(ctx, which), device=ctx.device).float() / 255.0
        with torch.no_grad():
            f = torch.cat([model(x[i:i + 50])[0].squeeze(-1).squeeze(-1) for i in range(0, len(x), 50)])
        stats.append(_moments(f.cpu().numpy()))
    theirs, fallback = _peer_frechet(*stats)
    return parity_row("FID, resize='legacy_pytorch'", _version("pytorch-fid"), _our_fid(ctx, "legacy_pytorch"), theirs,
                1e-4, "pytorch-fid's InceptionV3 (resize_input, normalize_input) and calculate_frechet_distance; "
                "float32 features, so agreement to ~1e-5 of FID" + fallback, compared="FID")


def _fid_torch_fidelity(ctx: Context) -> ParityRow:
    import torch
    import torch_fidelity
    from genmetrics_nb import weights

    class _Set(torch.utils.data.Dataset):
        def __init__(self, x):
            self.x = torch.as_tensor(x)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return self.x[i]

    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
        out = torch_fidelity.calculate_metrics(
            input1=_Set(ctx.fake), input2=_Set(ctx.real), fid=True, cuda=ctx.device.startswith("cuda"),
            feature_extractor_weights_path=str(weights.path(_FID_WEIGHTS)), cache=False, verbose=False,
            batch_size=50, save_cpu_ram=True)
    theirs = out["frechet_inception_distance"]
    return parity_row("FID, resize='legacy_tensorflow' (default)", _version("torch-fidelity"),
                _our_fid(ctx, "legacy_tensorflow"), theirs, 1e-4,
                "torch_fidelity.calculate_metrics(fid=True) on uint8 tensors, same checkpoint file", compared="FID")


def _fid_clean_fid(ctx: Context) -> ParityRow:
    import torch
    from cleanfid import fid as cfid

    from cleanfid.features import build_feature_extractor

    _torch_hub_file(_FID_WEIGHTS, _PYTORCH_FID_FILE)
    device = torch.device(ctx.device)
    stats = []
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
        model = build_feature_extractor("legacy_pytorch", device, use_dataparallel=False)
        for which in ("real", "fake"):  # what compute_fid(fdir1, fdir2, mode="legacy_pytorch") does
            stats.append(_moments(cfid.get_folder_features(
                str(ctx.folder(which)), model, num_workers=0, batch_size=50, device=device,
                mode="legacy_pytorch", verbose=False)))
    theirs, fallback = _peer_frechet(*stats, first=cfid.frechet_distance)
    return parity_row("FID, clean-fid mode='legacy_pytorch'", _version("clean-fid"), _our_fid(ctx, "legacy_pytorch"),
                theirs, 1e-4, "clean-fid's get_folder_features and frechet_distance (the steps of compute_fid) "
                "on the images as PNG folders" + fallback, compared="FID")


def _clean_resize(ctx: Context) -> ParityRow:
    import torch
    from cleanfid.resize import build_resizer

    from genmetrics_nb.extractors.resize import pil_bicubic_resize

    resizer = build_resizer("clean")
    theirs = np.stack([resizer(np.ascontiguousarray(x.transpose(1, 2, 0))) for x in ctx.real[:16]])
    ours = pil_bicubic_resize(torch.as_tensor(ctx.real[:16]).double(), (299, 299))
    ours = ours.permute(0, 2, 3, 1).cpu().numpy()
    return parity_row("clean-fid resize='clean' (the network input)", _version("clean-fid"), ours, theirs, 1e-6,
                "PIL bicubic per channel on float32 to 299, 16 images, difference relative to 255 (clean-fid "
                "rounds to float32); the step that separates the clean mode from the legacy ones",
                      floor=255.0, compared="mean of the 16 x 299 x 299 x 3 resized pixel values (0-255)",
                      shown="mean")


def _kid(ctx: Context) -> ParityRow:
    from cleanfid.fid import kernel_distance

    from genmetrics_nb.metrics.distribution.kid import kid

    a, b = _our_pool(ctx, "real", "legacy_tensorflow"), _our_pool(ctx, "fake", "legacy_tensorflow")
    size = min(len(a), len(b)) // 2
    ours = kid(a, b, subsets=20, subset_size=size, seed=0, progress=False).value
    np.random.seed(0)  # clean-fid draws its subsets from numpy's global generator, as gm.kid(seed=0) does
    # float64 features on both sides: clean-fid computes in the features' dtype, gm.kid in float64
    theirs = kernel_distance(b.astype(np.float64), a.astype(np.float64), num_subsets=20, max_subset_size=size)
    return parity_row("KID (cubic polynomial kernel, 20 subsets)", _version("clean-fid"), ours, theirs, 1e-6,
                f"cleanfid.fid.kernel_distance on the same pool3 features, subsets of {size}", compared="KID")


def _prdc(ctx: Context) -> ParityRow:
    from prdc import compute_prdc

    from genmetrics_nb.metrics.distribution.knn import density_coverage, precision_recall

    a, b = _our_pool(ctx, "real", "legacy_tensorflow"), _our_pool(ctx, "fake", "legacy_tensorflow")
    pr = precision_recall(a, b, k=5, progress=False)
    dc = density_coverage(a, b, k=5, progress=False)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        ref = compute_prdc(a, b, nearest_k=5)
    ours = [pr.precision, pr.recall, dc.density, dc.coverage]
    theirs = [ref["precision"], ref["recall"], ref["density"], ref["coverage"]]
    return parity_row("precision, recall, density, coverage (k = 5)", _version("prdc"), ours, theirs, 1e-9,
                "prdc.compute_prdc on the same pool3 features; the row shows precision",
                      floor=1e-3, compared="precision (differences: all four)")


def _lpips(ctx: Context) -> ParityRow:
    import lpips as ref
    import torch

    from genmetrics_nb import weights
    from genmetrics_nb.metrics.pixel.lpips import BACKBONES, LPIPS

    state = torch.load(weights.path(BACKBONES["alex"]["weights"]), map_location="cpu", weights_only=True)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the peer's own use of torchvision's deprecated 'pretrained'
        model = ref.LPIPS(net="alex", version="0.1", pnet_rand=True, verbose=False)
    model.net.load_state_dict({k: state["features." + k.split(".", 1)[1]] for k in model.net.state_dict()})
    # 28 x 28 is below AlexNet's smallest input (31): both sides get the images doubled (nearest)
    up = lambda a: torch.as_tensor(np.repeat(np.repeat(a[:16], 2, axis=2), 2, axis=3))  # noqa: E731
    x, y = (up(a).float() / 127.5 - 1 for a in (ctx.real, ctx.fake))
    ours = LPIPS("alex", "0.1", device="cpu")(x, y, value_range=(-1, 1)).values
    with torch.no_grad():
        theirs = model.eval()(x, y).reshape(-1).numpy()
    return parity_row("LPIPS (AlexNet, v0.1 linear heads)", _version("lpips"), ours, theirs, 1e-5,
                "lpips.LPIPS with its shipped heads and the same backbone file; 16 pairs at 56 x 56",
                      floor=1e-3, compared="mean LPIPS of the 16 pairs", shown="mean")


def _ssim(ctx: Context) -> ParityRow:
    from skimage.metrics import structural_similarity

    from genmetrics_nb.metrics.pixel.ssim import ssim

    x, y = ctx.real[:16], ctx.fake[:16]
    ours = ssim(x, y, data_range=255).values
    theirs = [structural_similarity(a, b, data_range=255, channel_axis=0, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False) for a, b in zip(x, y)]
    return parity_row("SSIM (Gaussian 11 x 11, sigma 1.5, K = 0.01, 0.03)", _version("scikit-image"), ours, theirs,
                1e-6, "skimage.metrics.structural_similarity(gaussian_weights=True, use_sample_covariance=False), "
                "16 pairs of 28 x 28 RGB images",
                      floor=1e-3, compared="mean SSIM of the 16 pairs", shown="mean")


def _adm_peer_features(ctx: Context, which: str) -> dict:
    """pool3, sFID spatial features and bias-free logits from pytorch-fid's InceptionV3 on TF1-resized input."""
    import torch
    from pytorch_fid.inception import InceptionV3

    from genmetrics_nb import weights
    from genmetrics_nb.extractors.inception_fid import tf1_bilinear_resize

    key = ("adm-peer", which)
    if key in ctx.cache:
        return ctx.cache[key]
    _torch_hub_file(_FID_WEIGHTS, _PYTORCH_FID_FILE)
    model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]], resize_input=False,
                        normalize_input=False).eval().to(ctx.device)
    fc = torch.load(weights.path(_FID_WEIGHTS), map_location="cpu", weights_only=True)["fc.weight"]
    grabbed = []
    # BasicConv2d.forward is conv -> bn -> relu: the hook sees TF's mixed_6/conv:0 (after batch norm and ReLU)
    mixed_6d = model.blocks[2][6]  # block 2: Mixed_5b, 5c, 5d, 6a, 6b, 6c, 6d, 6e
    hook = mixed_6d.branch1x1.register_forward_hook(lambda m, i, o: grabbed.append(o.detach().clone()))
    x_all = torch.as_tensor(getattr(ctx, which))
    pools, spatial = [], []
    try:
        with torch.no_grad():
            for i in range(0, len(x_all), 50):
                x = tf1_bilinear_resize(x_all[i:i + 50].float(), (299, 299))
                x = ((x - 128) / 128).to(ctx.device)
                pools.append(model(x)[0].squeeze(-1).squeeze(-1).cpu())
                fmap = grabbed.pop()  # N x 192 x 17 x 17 -> NHWC, channels 0..6, flattened
                spatial.append(fmap.permute(0, 2, 3, 1)[..., :7].reshape(len(fmap), -1).cpu())
    finally:
        hook.remove()
    pool = torch.cat(pools)
    out = {"pool": pool.numpy(), "spatial": torch.cat(spatial).numpy(),
           "probs": torch.softmax(pool @ fc.float().T, dim=1).numpy()}  # no bias, float32
    ctx.cache[key] = out
    return out


def _adm(ctx: Context) -> ParityRow:
    from prdc import compute_prdc

    from genmetrics_nb.suites.adm.evaluator import adm

    paths = {}
    for which in ("real", "fake"):
        paths[which] = ctx.work / f"adm-{which}.npz"
        if not paths[which].exists():
            np.savez(paths[which], arr_0=np.ascontiguousarray(getattr(ctx, which).transpose(0, 2, 3, 1)))
    n = len(ctx.fake)
    split = max(1, n // 2)
    res = adm(paths["real"], paths["fake"], split_size=split, arithmetic="float32", device=ctx.device,
              progress=False)
    ref, smp = _adm_peer_features(ctx, "real"), _adm_peer_features(ctx, "fake")

    notes = []

    def fd(a, b):
        value, note = _peer_frechet(_moments(a), _moments(b))
        notes.append(note)
        return value

    # evaluator.compute_inception_score, transcribed: float32 splits of split_size rows
    scores = []
    for i in range(0, n, split):
        part = smp["probs"][i:i + split]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        pr = compute_prdc(ref["pool"], smp["pool"], nearest_k=3)
    ours = [res.fid, res.sfid, res.inception_score, res.precision, res.recall]
    theirs = [fd(smp["pool"], ref["pool"]), fd(smp["spatial"], ref["spatial"]), float(np.mean(scores)),
              pr["precision"], pr["recall"]]
    return parity_row("ADM evaluator: FID, sFID, IS, precision, recall",
                      f"{_version('pytorch-fid')}, {_version('prdc')}",
                ours, theirs, 1e-4,
                f"gm.suites.adm on NHWC uint8 .npz batches (split_size={split}, arithmetic='float32') against "
                "pytorch-fid's InceptionV3 on the TF1-bilinear 299 input, (x - 128) / 128: pool3, sFID features "
                "hooked on Mixed_6d.branch1x1 (after BN + ReLU, NHWC, channels 0..6), IS = the evaluator's "
                "split formula on softmax(pool3 @ fc.weight^T) (no bias), FID/sFID by calculate_frechet_distance "
                "on float64 np.cov statistics, precision/recall by prdc.compute_prdc(nearest_k=3) (strict < "
                "on euclidean distances; with continuous features there are no ties, so it equals the "
                "evaluator's float32 <= estimator); the row shows FID, the difference covers all five; float32 "
                "features. With random weights the softmax underflows to exact zeros and the evaluator's IS "
                "is nan on both sides (as the evaluator prints it); nan on both sides counts as equal"
                + next((n for n in notes if n), ""), floor=1e-3, compared="FID (differences: all five)")


def _fd_dinov2(ctx: Context) -> ParityRow:
    import torch

    from genmetrics_nb import weights
    from genmetrics_nb.metrics.distribution.fid import fid
    from genmetrics_nb.testing.dinov2_reference import OFFICIAL, dgm_eval_transform, reference_forward

    m = min(16, len(ctx.real), len(ctx.fake))
    real, fake = ctx.real[:m], ctx.fake[:m]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # m samples in 384 dimensions: singular covariances, on both sides
        ours = fid(real, fake, extractor="dinov2-vit-s14", device=ctx.device, progress=False).value
    state = torch.load(weights.path(_DINOV2_WEIGHTS), map_location="cpu", weights_only=True)
    feats = [np.stack([reference_forward(state, dgm_eval_transform(np.ascontiguousarray(im.transpose(1, 2, 0))),
                                         heads=OFFICIAL["s"][2]) for im in images]) for images in (real, fake)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, fallback = _peer_frechet(*(_moments(f) for f in feats))
    return parity_row("FD_DINOv2 (ViT-S/14, CLS token)", f"{_version('pytorch-fid')} + dgm-eval transform, "
                "NumPy DINOv2 forward", ours, theirs, 1e-4,
                f"gm.fid(extractor='dinov2-vit-s14') on {m} + {m} images against calculate_frechet_distance on "
                "features of an independent float64 NumPy re-implementation of the official "
                "DinoVisionTransformer forward (x_norm_clstoken, pos_embed resampled with scale_factor "
                "(16 + 0.1) / 37) of dgm-eval's transform (PIL bicubic to 224, ImageNet normalisation); "
                "same official-layout checkpoint" + fallback, compared="FD_DINOv2")


def _cmmd(ctx: Context) -> ParityRow:
    import open_clip
    import torch
    from PIL import Image

    from genmetrics_nb import weights
    from genmetrics_nb.extractors.clip import build_extractor
    from genmetrics_nb.metrics.distribution.cmmd import cmmd
    from genmetrics_nb.testing.cmmd_reference import reference_mmd

    m = min(16, len(ctx.real), len(ctx.fake))
    real, fake = ctx.real[:m], ctx.fake[:m]
    # offline the checkpoint is a reduced ViT in OpenAI's format: accept the file's own architecture
    ext = build_extractor(device=ctx.device, config=None) if ctx.weights == "random" else "clip-vit-l14-336"
    ours = cmmd(real, fake, extractor=ext, device=ctx.device, progress=False).value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = open_clip.load_openai_model(str(weights.path(_CLIP_WEIGHTS)), precision="fp32",
                                            device=ctx.device).eval()
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    mean = np.float32([0.48145466, 0.4578275, 0.40821073])
    std = np.float32([0.26862954, 0.26130258, 0.27577711])

    def embed(images):
        # google-research cmmd/io_util.py: centre square crop, PIL bicubic, float32 / 255; scenic's
        # normalize_image; CLIP encode_image(normalize=True)
        out = []
        for im in images:
            pil = Image.fromarray(np.ascontiguousarray(im.transpose(1, 2, 0)))
            w, h = pil.size
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            x = np.asarray(pil.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC))
            x = (x.astype(np.float32) / 255.0 - mean) / std
            with torch.no_grad():
                out.append(model.encode_image(torch.from_numpy(x).permute(2, 0, 1)[None].to(ctx.device),
                                              normalize=True).cpu())
        return torch.cat(out).double().numpy()

    theirs = reference_mmd(embed(real), embed(fake))
    return parity_row("CMMD (CLIP ViT-L/14@336px embedding, sigma 10, scale 1000)",
                f"{_version('open_clip_torch')} + google-research cmmd/distance.py", ours, theirs, 1e-4,
                f"gm.cmmd on {m} + {m} images against open_clip.load_openai_model of the same OpenAI-format file "
                "with google-research's io_util preprocessing and distance.mmd (transcribed to NumPy); offline "
                "the file is a reduced random ViT (width 128, 2 blocks, patch 14, 336 px) in OpenAI's format",
                      compared="CMMD")


def _vendi(ctx: Context) -> ParityRow:
    from sklearn.preprocessing import normalize
    from vendi_score import vendi

    from genmetrics_nb.metrics.diversity.vendi import vendi_score

    a = np.concatenate([_our_pool(ctx, "real", "legacy_tensorflow"), _our_pool(ctx, "fake", "legacy_tensorflow")])
    ours = [vendi_score(a, q=q, progress=False).value for q in (1, 2, float("inf"))]
    xn = normalize(a.astype(np.float64), axis=1)
    # n < d here: the reference's n x n route (score_K of the cosine Gram matrix); score_dual is the same
    # number through the d x d matrix. The reference spells q = inf "inf" (entropy_q)
    theirs = [vendi.score_K(xn @ xn.T, q=q) for q in (1, 2, "inf")]
    return parity_row("Vendi score (cosine similarity, q = 1, 2, inf)", _version("vendi-score"), ours, theirs, 1e-9,
                      f"vendi_score.vendi.score_K of the L2-normalised Gram matrix of the {len(a)} pool3 features "
                      "(real and fake together)", compared="Vendi score, q = 1 (differences: q = 1, 2, inf)")


def _sliced_wasserstein(ctx: Context) -> ParityRow:
    import ot

    from genmetrics_nb.metrics.diversity.sliced_wasserstein import sliced_wasserstein

    a, b = _our_pool(ctx, "real", "legacy_tensorflow"), _our_pool(ctx, "fake", "legacy_tensorflow")
    ours = [sliced_wasserstein(a, b, p=p, num_projections=100, seed=3, progress=False).value for p in (1, 2)]
    theirs = [ot.sliced_wasserstein_distance(a.astype(np.float64), b.astype(np.float64), n_projections=100,
                                             p=p, seed=3) for p in (1, 2)]
    return parity_row("sliced Wasserstein SW_p (100 projections, seed 3, p = 1, 2)", _version("POT"), ours, theirs,
                      1e-9, "ot.sliced_wasserstein_distance on the same pool3 features (float64), the same "
                      "projection seed", compared="SW_1 (differences: p = 1, 2)")


def _top_pr(ctx: Context) -> ParityRow:
    from top_pr.top_pr import compute_top_pr

    from genmetrics_nb.metrics.support.top_pr import top_pr

    # TopP&R's bandwidth is the 5 d-th neighbour distance (k = 160 after the 64 -> 32 projection): it needs
    # more samples per set than the page's images, so the row uses the README's Gaussians at n = 300
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 64)).astype(np.float32)
    y = (rng.normal(size=(300, 64)) + 0.4).astype(np.float32)
    res = top_pr(x, y, alpha=0.1, device="cpu", progress=False)
    ours = [res.precision, res.recall, res.f1]
    state = np.random.get_state()  # compute_top_pr reseeds numpy's global generator (Fix_seed(42))
    try:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            ref = compute_top_pr(real_features=x, fake_features=y, alpha=0.1, kernel="cosine", random_proj=True,
                                 f1_score=True)
    finally:
        np.random.set_state(state)
    theirs = [float(ref["fidelity"]), float(ref["diversity"]), float(ref["Top_F1"])]
    return parity_row("TopP&R (cosine kernel, alpha = 0.1, 64 -> 32 projection)", _version("top-pr"), ours, theirs,
                      1e-12, "top_pr.compute_top_pr on N(0, I) against N(0.4, I), 64-d, 300 each (the README's "
                      "setting at a smaller n: TopP&R needs more than 160 samples per set)", floor=1e-3,
                      compared="fidelity (differences: fidelity, diversity, F1)")


#: The peers, in the order the table shows them: name -> (function, weights it needs, packages it needs).
PEERS = {
    "fid-pytorch-fid": (_fid_pytorch_fid, (_FID_WEIGHTS,), ("pytorch_fid",)),
    "fid-torch-fidelity": (_fid_torch_fidelity, (_FID_WEIGHTS,), ("torch_fidelity",)),
    "fid-clean-fid": (_fid_clean_fid, (_FID_WEIGHTS,), ("cleanfid",)),
    "clean-resize": (_clean_resize, (), ("cleanfid",)),
    "kid": (_kid, (_FID_WEIGHTS,), ("cleanfid",)),
    "prdc": (_prdc, (_FID_WEIGHTS,), ("prdc",)),
    "lpips": (_lpips, ("alexnet",), ("lpips",)),
    "ssim": (_ssim, (), ("skimage",)),
    "adm": (_adm, (_FID_WEIGHTS,), ("pytorch_fid", "prdc")),
    "fd-dinov2": (_fd_dinov2, (_DINOV2_WEIGHTS,), ("pytorch_fid",)),
    "cmmd": (_cmmd, (_CLIP_WEIGHTS,), ("open_clip",)),
    "vendi": (_vendi, (_FID_WEIGHTS,), ("vendi_score",)),
    "sliced-wasserstein": (_sliced_wasserstein, (_FID_WEIGHTS,), ("ot",)),
    "top-pr": (_top_pr, (), ("top_pr", "gudhi")),
}
