"""Image distortions used by the sweeps: box blur, Gaussian blur, noise, JPEG.

Every function takes and returns a ``uint8`` ``N x C x H x W`` batch (the
project's image contract) and is deterministic given its ``seed``. The
filters are OpenCV's, applied image by image in ``H x W x C`` layout with
the channel order kept (RGB stays RGB).

References
----------
.. [1] OpenCV ``cv2.blur`` (box filter, border ``BORDER_REFLECT_101``) and
   ``cv2.GaussianBlur``: https://docs.opencv.org/4.x/d4/d86/group__imgproc__filter.html
"""
from __future__ import annotations

import numpy as np

from genmetrics_nb.util.checks import check_choice, check_int, check_uint8_images

__all__ = ["box_blur", "gaussian_blur", "gaussian_noise", "jpeg", "apply_distortion", "DISTORTIONS"]


def _per_image(x: np.ndarray, fn) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        hwc = np.ascontiguousarray(x[i].transpose(1, 2, 0))
        out[i] = np.asarray(fn(hwc)).reshape(hwc.shape).transpose(2, 0, 1)
    return out


def _check_sigma(sigma, unit: str) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)):
        raise TypeError(f"sigma must be a number >= 0 ({unit}), got {sigma!r}")
    if not sigma >= 0:
        raise ValueError(f"sigma must be a number >= 0 ({unit}), got {sigma!r}")
    return float(sigma)


def box_blur(images, kernel: int) -> np.ndarray:
    """Mean filter over a ``kernel x kernel`` window (``cv2.blur``, reflect-101 borders).

    ``kernel = 1`` returns an unchanged copy. This is the blur of the
    FCN-score and PSNR/SSIM source documents.
    """
    import cv2

    x = check_uint8_images(images, name="images")
    k = check_int(kernel, name="kernel", minimum=1)
    return _per_image(x, lambda img: cv2.blur(img, (k, k)))


def gaussian_blur(images, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (``cv2.GaussianBlur``, reflect borders).

    The kernel size is OpenCV's choice for ``sigma`` (``ksize=(0, 0)``);
    ``sigma = 0`` returns an unchanged copy.
    """
    import cv2

    x = check_uint8_images(images, name="images")
    sigma = _check_sigma(sigma, "pixels")
    if sigma == 0:
        return x.copy()
    return _per_image(x, lambda img: cv2.GaussianBlur(img, (0, 0), sigmaX=float(sigma),
                                                      borderType=cv2.BORDER_REFLECT))


def gaussian_noise(images, sigma: float, *, seed: int = 0) -> np.ndarray:
    """Add N(0, sigma^2) noise in 0..255 units, round and clip to uint8.

    The noise is drawn from ``numpy.random.default_rng(seed)`` in
    ``N x H x W x C`` order, so a batch of one image gets the same noise as
    the image alone.
    """
    x = check_uint8_images(images, name="images")
    sigma = _check_sigma(sigma, "0..255 units")
    rng = np.random.default_rng(seed)
    hwc = x.transpose(0, 2, 3, 1).astype(np.float64)
    noisy = hwc + rng.normal(0.0, float(sigma), hwc.shape)
    return np.ascontiguousarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8).transpose(0, 3, 1, 2))


def jpeg(images, quality: int) -> np.ndarray:
    """Encode and decode each image with libjpeg through OpenCV at ``quality`` (1..100)."""
    import cv2

    x = check_uint8_images(images, name="images")
    q = check_int(quality, name="quality", minimum=1)
    if q > 100:
        raise ValueError(f"quality must be an integer in 1..100, got {quality!r}")

    def one(img):
        bgr = img[..., ::-1] if img.shape[2] == 3 else img
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:  # pragma: no cover - libjpeg does not fail on valid uint8 input
            raise RuntimeError("JPEG encoding failed")
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        return out[..., ::-1] if out.ndim == 3 else out

    return _per_image(x, one)


#: name -> (function, what the strength means)
DISTORTIONS = {
    "blur": (box_blur, "box-blur kernel size (px)"),
    "gaussian-blur": (gaussian_blur, "Gaussian-blur sigma (px)"),
    "noise": (gaussian_noise, "noise standard deviation (of 255)"),
    "jpeg": (jpeg, "JPEG quality"),
}


def apply_distortion(images, kind: str, strength, *, seed: int = 0) -> np.ndarray:
    """Apply one of :data:`DISTORTIONS` by name to a uint8 ``N x C x H x W`` batch."""
    check_choice(kind, name="kind", choices=tuple(DISTORTIONS))
    fn = DISTORTIONS[kind][0]
    return fn(images, strength, seed=seed) if kind == "noise" else fn(images, strength)
