"""Inputs of the FCN-score notebook: Fashion-MNIST test scenes, a shipped photograph or a file."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from genmetrics_nb.datasets.scenes import SCENE_DEFAULTS, SegmentationScenes

__all__ = ["fcn_score_inputs"]


def fcn_score_inputs(source: str = "scenes", *, n: int = 32, size: int = SCENE_DEFAULTS["size"], seed: int = 0,
                     progress: bool = True) -> SegmentationScenes:  # fmt: skip
    """Images to blur and score, with ground truth where there is one.

    Parameters
    ----------
    source : str
        ``"scenes"``: ``n`` Fashion-MNIST *test* scenes with their label maps
        (:func:`genmetrics_nb.datasets.fashion_mnist_scenes`); a name from
        :data:`genmetrics_nb.datasets.SAMPLE_IMAGE_NAMES` (``"astronaut"``...);
        or the path of an image file (the FCN-score document used an SEM image).
    n, size, seed : int
        Number, side and seed of the scenes (``source="scenes"`` only).
    progress : bool

    Returns
    -------
    SegmentationScenes
        ``images`` uint8 ``N x 3 x H x W``; ``labels`` N x H x W, or None for
        a photograph (no ground truth); ``class_names`` or None.
    """
    if not isinstance(source, str) or not source:
        raise TypeError(f"source must be 'scenes', a sample photograph name or an image path, got {source!r}")
    if source == "scenes":
        from genmetrics_nb.datasets.scenes import fashion_mnist_scenes

        return fashion_mnist_scenes("test", n=n, size=size, seed=seed, progress=progress)
    from genmetrics_nb.datasets.samples import SAMPLE_IMAGE_NAMES, sample_images

    if source in SAMPLE_IMAGE_NAMES:
        img = sample_images(source)[source].transpose(2, 0, 1)[None]
        return SegmentationScenes(np.ascontiguousarray(img), None, None)
    path = Path(source).expanduser()
    if not path.is_file():
        raise ValueError(
            f"source {source!r} is neither 'scenes', a sample photograph ({', '.join(SAMPLE_IMAGE_NAMES)}) "
            "nor an existing image file"
        )
    from genmetrics_nb.images import read_image

    return SegmentationScenes(read_image(path, channels=3)[None], None, None)
