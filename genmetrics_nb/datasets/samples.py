"""The real photographs that ship inside scikit-image (no download needed)."""
from __future__ import annotations

import numpy as np

__all__ = ["sample_images", "SAMPLE_IMAGE_NAMES"]

#: Colour photographs (and the grayscale ``camera``) in ``skimage.data``'s wheel.
SAMPLE_IMAGE_NAMES = (
    "astronaut", "chelsea", "coffee", "camera", "rocket", "coins",
    "immunohistochemistry", "hubble_deep_field",
)  # fmt: skip


def sample_images(names=None) -> dict:
    """Photographs from scikit-image as ``uint8`` ``H x W x 3`` RGB arrays.

    Parameters
    ----------
    names : str or list of str, optional
        Which photographs; all of :data:`SAMPLE_IMAGE_NAMES` by default.
        Grayscale photographs (``camera``, ``coins``) are repeated to three channels.

    Returns
    -------
    dict
        name -> ``uint8`` ``H x W x 3`` array, in the order asked.

    Examples
    --------
    >>> sample_images("chelsea")["chelsea"].shape
    (300, 451, 3)
    """
    import skimage.data

    if names is None:
        names = list(SAMPLE_IMAGE_NAMES)
    elif isinstance(names, str):
        names = [names]
    out = {}
    for name in names:
        if name not in SAMPLE_IMAGE_NAMES:
            raise ValueError(
                f"names: {name!r} is not a shipped photograph; choose from {', '.join(SAMPLE_IMAGE_NAMES)}"
            )
        img = np.asarray(getattr(skimage.data, name)())
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        out[name] = np.ascontiguousarray(img[..., :3].astype(np.uint8))
    return out
