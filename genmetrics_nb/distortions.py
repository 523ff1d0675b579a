"""Image distortions used by the sweeps: box blur, Gaussian noise, JPEG.

Each takes and returns one ``uint8`` ``H x W x C`` image (OpenCV's layout,
RGB order kept) and is deterministic given its ``seed``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["box_blur", "gaussian_noise", "jpeg", "apply_distortion", "DISTORTIONS"]


def _check_image(img, name="image"):
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise TypeError(f"{name} must be a uint8 H x W or H x W x C array, got {img.dtype} {img.shape}")
    return img


def box_blur(img, kernel: int) -> np.ndarray:
    """Mean filter over a ``kernel x kernel`` window (``cv2.blur``, reflected borders).

    ``kernel = 1`` returns the image unchanged. This is the blur of the
    FCN-score and PSNR/SSIM source documents.
    """
    import cv2

    img = _check_image(img)
    if isinstance(kernel, bool) or not isinstance(kernel, (int, np.integer)) or kernel < 1:
        raise ValueError(f"kernel must be a positive integer, got {kernel!r}")
    return cv2.blur(img, (int(kernel), int(kernel)))


def gaussian_noise(img, sigma: float, *, seed: int = 0) -> np.ndarray:
    """Add N(0, sigma^2) noise in 0..255 units, round and clip to uint8."""
    img = _check_image(img)
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    rng = np.random.default_rng(seed)
    noisy = img.astype(np.float64) + rng.normal(0.0, float(sigma), img.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def jpeg(img, quality: int) -> np.ndarray:
    """Encode and decode with libjpeg through OpenCV at ``quality`` (1..100)."""
    import cv2

    img = _check_image(img)
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise ValueError(f"quality must be an integer in 1..100, got {quality!r}")
    bgr = img[..., ::-1] if img.ndim == 3 else img
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - libjpeg does not fail on valid uint8 input
        raise RuntimeError("JPEG encoding failed")
    out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return np.ascontiguousarray(out[..., ::-1]) if out.ndim == 3 else out


#: name -> (function, what the strength means)
DISTORTIONS = {
    "blur": (box_blur, "box-blur kernel size (px)"),
    "noise": (gaussian_noise, "noise standard deviation (of 255)"),
    "jpeg": (jpeg, "JPEG quality"),
}


def apply_distortion(img, kind: str, strength, *, seed: int = 0) -> np.ndarray:
    """Apply one of :data:`DISTORTIONS` by name."""
    if kind not in DISTORTIONS:
        raise ValueError(f"kind must be one of {', '.join(DISTORTIONS)}, got {kind!r}")
    fn = DISTORTIONS[kind][0]
    return fn(img, strength, seed=seed) if kind == "noise" else fn(img, strength)
