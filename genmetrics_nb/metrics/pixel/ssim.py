"""Structural similarity (SSIM) and its multi-scale form (MS-SSIM)."""
from __future__ import annotations

import math

from genmetrics_nb.metrics.pixel.pairs import PerImageResult, prepare_pair, score

__all__ = ["ssim", "ms_ssim", "MS_SSIM_WEIGHTS"]

#: Exponents of the five scales, Wang, Simoncelli and Bovik (2003), Table 1.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gaussian_window(sigma: float, truncate: float, dtype, device):
    import torch

    # scipy.ndimage.gaussian_filter's kernel: radius int(truncate * sigma + 0.5),
    # weights exp(-x^2 / 2 sigma^2) normalised to sum 1.
    radius = int(truncate * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    w = torch.exp(-0.5 * (x / sigma) ** 2)
    return w / w.sum()


def _filter_valid(img, w):
    """Separable filter with no padding ('valid'): ... x H x W -> ... x (H-k+1) x (W-k+1).

    Written as a sum of shifted slices rather than ``conv2d``: PyTorch's
    float64 convolution has no fast CPU kernel, and this form is several
    times faster on the CPU, runs unchanged on a GPU, and is exact.
    """
    k = w.numel()
    h, wd = img.shape[-2], img.shape[-1]
    rows = w[0] * img[..., 0 : h - k + 1, :]
    for i in range(1, k):
        rows = rows + w[i] * img[..., i : h - k + 1 + i, :]
    out = w[0] * rows[..., 0 : wd - k + 1]
    for i in range(1, k):
        out = out + w[i] * rows[..., i : wd - k + 1 + i]
    return out


def _ssim_and_cs(a, b, data_range, w, k1, k2):
    """Per-image mean SSIM and mean contrast-structure term over the valid region."""
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    import torch

    # One filtering pass over the five maps stacked together.
    mu_a, mu_b, e_aa, e_bb, e_ab = _filter_valid(torch.stack((a, b, a * a, b * b, a * b)), w)
    # Population (biased) covariances, as Wang et al. 2004 and
    # skimage with use_sample_covariance=False.
    var_a = e_aa - mu_a * mu_a
    var_b = e_bb - mu_b * mu_b
    cov = e_ab - mu_a * mu_b
    cs_map = (2 * cov + c2) / (var_a + var_b + c2)
    lum_map = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)
    ssim_map = lum_map * cs_map
    return ssim_map.flatten(1).mean(1), cs_map.flatten(1).mean(1)


def _check_options(sigma, k1, k2):
    for name, v in (("sigma", sigma), ("k1", k1), ("k2", k2)):
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise TypeError(f"{name} must be a positive number, got {v!r}")
        if not v > 0 or not math.isfinite(v):
            raise ValueError(f"{name} must be a positive number, got {v!r}")


def ssim(x, y, *, data_range, sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03, device="auto",
         allow_narrow: bool = False) -> PerImageResult:
    """Structural similarity of each image pair (Wang et al. 2004).

    An 11 x 11 Gaussian window (sigma 1.5, truncated at 3.5 sigma as
    :func:`scipy.ndimage.gaussian_filter`), K1 = 0.01, K2 = 0.03, population
    covariances; the SSIM map is averaged over the pixels the window covers
    fully and over channels.

    Parameters
    ----------
    x, y : array_like or torch.Tensor
        Image batches of the same shape, ``N x C x H x W`` (or ``N x H x W x C``).
        Each image must be at least as large as the window (11 x 11).
    data_range : float
        Required: 255 for uint8, 1.0 for [0, 1] floats.
    sigma, k1, k2 : float
        Window width and the stabilising constants.
    device : str
    allow_narrow : bool
        By default float images that span at most 3/255 of ``data_range``
        are refused ([0, 1] or [-1, 1] images with ``data_range=255``: the constants
        ``(K data_range)^2`` then swamp the image statistics and SSIM comes
        out near 1); True says they really vary that little.

    Returns
    -------
    PerImageResult
        ``.values`` per pair and their mean ``.value``. Identical images give exactly 1.

    Notes
    -----
    Equal, within float rounding, to
    ``skimage.metrics.structural_similarity(x, y, data_range=..., channel_axis=...,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False)``, which is
    how scikit-image documents matching Wang et al.: skimage filters with
    reflected borders and then crops ``(win_size - 1) // 2`` pixels, which is
    the same as this 'valid' filtering.

    References
    ----------
    .. [1] Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality
       assessment: From error visibility to structural similarity", IEEE TIP
       13(4), 2004. :doi:`10.1109/TIP.2003.819861`
    .. [2] scikit-image, ``skimage.metrics.structural_similarity``.
    """
    _check_options(sigma, k1, k2)
    a, b, rng = prepare_pair(x, y, data_range=data_range, device=device, allow_narrow=allow_narrow)
    w = _gaussian_window(sigma, 3.5, a.dtype, a.device)
    _check_size(a.shape, w.numel(), "ssim", scales=1)
    s, _ = _ssim_and_cs(a, b, rng, w, k1, k2)
    return score("ssim", s)


def _check_size(shape, win, metric, scales):
    h, wd = shape[-2:]
    need = win * 2 ** (scales - 1)
    if min(h, wd) < need:
        extra = f" over {scales} scales (halving each time)" if scales > 1 else ""
        raise ValueError(
            f"{metric} needs images of at least {need} x {need} pixels for its {win} x {win} "
            f"window{extra}, got {h} x {wd}; upsample the images or use a smaller sigma"
        )


def ms_ssim(
    x,
    y,
    *,
    data_range,
    weights=MS_SSIM_WEIGHTS,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    normalize: str | None = None,
    device="auto",
    allow_narrow: bool = False,
) -> PerImageResult:
    """Multi-scale structural similarity (Wang, Simoncelli and Bovik 2003).

    At each of ``len(weights)`` scales the contrast-structure term is taken;
    the luminance term only at the coarsest; between scales both images are
    averaged over 2 x 2 blocks. ``MS-SSIM = l_M^w_M * prod_j cs_j^w_j``.

    Parameters
    ----------
    x, y : array_like or torch.Tensor
        ``N x C x H x W`` batches; with five scales each side must be at least
        ``11 * 16 = 176`` pixels.
    data_range : float
        Required: 255 for uint8, 1.0 for [0, 1] floats.
    weights : sequence of float
        Exponents of the scales, finest first.
    sigma, k1, k2 : float
    normalize : {None, "relu", "simple"}
        None (default) is the paper's formula: a negative contrast-structure
        term makes the result NaN, which is reported rather than hidden.
        "relu" clips negative terms to 0 and "simple" maps them as ``(v+1)/2``,
        the two training-oriented variants of torchmetrics (whose default is
        "relu").
    device : str
    allow_narrow : bool
        As in :func:`ssim`.

    Returns
    -------
    PerImageResult
        ``.values`` per pair and their mean ``.value``.

    References
    ----------
    .. [1] Z. Wang, E. P. Simoncelli, A. C. Bovik, "Multiscale structural
       similarity for image quality assessment", Asilomar 2003.
    .. [2] torchmetrics, ``multiscale_structural_similarity_index_measure``.
    """
    import torch
    import torch.nn.functional as F

    _check_options(sigma, k1, k2)
    if normalize not in (None, "relu", "simple"):
        raise ValueError(f"normalize must be None, 'relu' or 'simple', got {normalize!r}")
    weights = tuple(float(v) for v in weights)
    if not weights:
        raise ValueError("weights must name at least one scale")
    a, b, rng = prepare_pair(x, y, data_range=data_range, device=device, allow_narrow=allow_narrow)
    w = _gaussian_window(sigma, 3.5, a.dtype, a.device)
    _check_size(a.shape, w.numel(), "ms_ssim", scales=len(weights))
    terms = []
    for level in range(len(weights)):
        s, cs = _ssim_and_cs(a, b, rng, w, k1, k2)
        terms.append(s if level == len(weights) - 1 else cs)
        if level < len(weights) - 1:
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
    stack = torch.stack(terms)  # scales x N
    if normalize == "relu":
        stack = torch.relu(stack)
    elif normalize == "simple":
        stack = (stack + 1) / 2
    exps = torch.tensor(weights, dtype=stack.dtype, device=stack.device).view(-1, 1)
    return score("ms_ssim", torch.prod(stack**exps, dim=0))
