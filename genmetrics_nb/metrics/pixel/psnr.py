"""Peak signal-to-noise ratio."""
from __future__ import annotations

from genmetrics_nb.metrics.pixel.pairs import PerImageResult, prepare_pair, score

__all__ = ["psnr"]


def psnr(x, y, *, data_range, device="auto", allow_narrow: bool = False) -> PerImageResult:
    """Peak signal-to-noise ratio of each image pair, in dB.

    ``PSNR = 10 log10(data_range^2 / MSE)``, the MSE taken over all channels
    and pixels of one image, as :func:`skimage.metrics.peak_signal_noise_ratio`.

    Parameters
    ----------
    x, y : array_like or torch.Tensor
        Image batches of the same shape, ``N x C x H x W`` (or ``N x H x W x C``),
        uint8 or float.
    data_range : float
        Required. The range the images can take: 255 for uint8, 1.0 for [0, 1].
        Never inferred from the data: an inferred range changes with the content.
    device : str
        Where to compute; ``"auto"`` uses a GPU when present.
    allow_narrow : bool
        By default float images that span at most 3/255 of ``data_range``
        are refused: that is what [0, 1] (or [-1, 1]) images with
        ``data_range=255`` look like, and their PSNR comes out 48 (or 42) dB
        too high. True says the images
        really vary that little (:func:`genmetrics_nb.images.check_data_range`).

    Returns
    -------
    PerImageResult
        ``.values`` per pair and their mean ``.value``. Identical images have an
        infinite PSNR, and then the mean is ``inf`` as well.

    References
    ----------
    .. [1] scikit-image, ``skimage.metrics.peak_signal_noise_ratio``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((1, 1, 4, 4)); y = np.full((1, 1, 4, 4), 0.1)
    >>> round(psnr(x, y, data_range=1.0).value, 6)
    20.0
    """
    import torch

    a, b, rng = prepare_pair(x, y, data_range=data_range, device=device, allow_narrow=allow_narrow)
    mse = ((a - b) ** 2).flatten(1).mean(1)
    with torch.no_grad():
        values = 10.0 * torch.log10(rng**2 / mse)  # mse == 0 -> inf, as documented
    return score("psnr", values)
