"""The FCN-score: how well generated images segment like the real ones.

:func:`fcn_score` scores label maps against reference label maps (pixel
accuracy, mean class accuracy, mean IoU, per-class IoU and Dice) from a
streaming confusion matrix. :func:`fcn_score_images` runs a segmenter on
generated images and scores their label maps against those of the real
images (the FCN-score document's protocol), or against ground-truth labels
(``labels=``: the pix2pix / CycleGAN protocol, whose real-image row is the
ceiling a generator is compared to).

References
----------
.. [1] P. Isola, J.-Y. Zhu, T. Zhou, A. A. Efros, "Image-to-Image Translation with
   Conditional Adversarial Networks", CVPR 2017, section 4.2 ("FCN-score").
   https://github.com/phillipi/pix2pix/tree/master/scripts/eval_cityscapes
.. [2] J.-Y. Zhu, T. Park, P. Isola, A. A. Efros, "Unpaired Image-to-Image Translation
   using Cycle-Consistent Adversarial Networks", ICCV 2017, section 5.1.
.. [3] J. Long, E. Shelhamer, T. Darrell, "Fully Convolutional Networks for Semantic
   Segmentation", CVPR 2015.
"""
from __future__ import annotations

import numpy as np

from genmetrics_nb.metrics.segmentation.confusion import ConfusionMatrix, SegmentationResult
from genmetrics_nb.util.checks import check_int, check_uint8_images

__all__ = ["fcn_score", "fcn_score_images", "resolve_segmenter", "resolve_classes"]


def fcn_score(
    labels_true,
    labels_pred,
    *,
    num_classes: int,
    ignore_index: int | None = None,
    background: int | None = None,
    convention: str = "exclude-absent",
) -> SegmentationResult:
    """Pixel accuracy, class accuracy, IoU and Dice of a predicted label map.

    Parameters
    ----------
    labels_true : array or tensor of int
        Reference label maps (ground truth, or the segmentation of the real
        image for the FCN-score), any shape, e.g. ``N x H x W``.
    labels_pred : array or tensor of int
        Predicted label maps, same shape and type family as ``labels_true``.
    num_classes : int
        Number of classes; labels are ``0 .. num_classes - 1``.
    ignore_index : int, optional
        True label that is not counted (e.g. 255 for "void").
    background : int, optional
        Also report ``foreground_pixel_accuracy``: the accuracy over the pixels
        whose true label is not ``background``.
    convention : {"exclude-absent", "pix2pix"}
        How a class with an undefined score (0 / 0) is treated.
        ``"exclude-absent"`` (default): its IoU and Dice are NaN when it is
        absent from both maps, its class accuracy is NaN when it is absent from
        the reference, and NaNs are left out of the means. ``"pix2pix"``: add
        ``1e-12`` to every denominator as the pix2pix / CycleGAN
        ``eval_cityscapes/util.py`` does, so such a class scores 0 and counts in
        the means (NumPy's ``nanmean`` there never sees a NaN).

    Returns
    -------
    SegmentationResult

    Notes
    -----
    To match the FCN-scores in the pix2pix and CycleGAN papers (Cityscapes
    labels -> photo), segment the generated photos with the authors' FCN-8s at
    256 x 256, score against the ground-truth label maps (``ignore_index=255``,
    19 classes) and pass ``convention="pix2pix"``. Long et al. [1] define the
    same four metrics; their ``score.py`` uses ``np.nanmean`` without the
    ``1e-12`` (the default here).

    References
    ----------
    .. [1] Long, Shelhamer, Darrell, CVPR 2015; https://github.com/shelhamer/fcn.berkeleyvision.org
    .. [2] Isola et al., CVPR 2017; https://github.com/phillipi/pix2pix (scripts/eval_cityscapes)

    Examples
    --------
    >>> s = fcn_score(np.array([[0, 0], [1, 1]]), np.array([[0, 1], [1, 1]]), num_classes=2)
    >>> round(s.mean_iou, 4)  # class 0: 1/2, class 1: 2/3
    0.5833
    """
    cm = ConfusionMatrix(num_classes, ignore_index=ignore_index)
    cm.update(labels_true, labels_pred)
    return cm.compute(background=background, convention=convention)


def resolve_segmenter(segmenter, device):
    """A segmenter by name (:func:`genmetrics_nb.segmentation.get_segmenter`), or a callable as it is."""
    if isinstance(segmenter, str):
        from genmetrics_nb.segmentation.segmenters import get_segmenter

        return get_segmenter(segmenter, device=device)
    if not callable(segmenter):
        raise TypeError(
            f"segmenter must be a name (gm.segmentation.list_segmenters()) or a callable returning "
            f"label maps, got {type(segmenter).__name__}"
        )
    return segmenter


def resolve_classes(segmenter, num_classes, background):
    """``(num_classes, background)``, taken from the segmenter where not given."""
    if num_classes is None:
        num_classes = getattr(segmenter, "num_classes", None)
        if num_classes is None:
            raise ValueError("num_classes is required when the segmenter has no num_classes attribute")
    if isinstance(background, str):
        if background != "auto":
            raise ValueError(f"background must be an int, None or 'auto', got {background!r}")
        background = getattr(segmenter, "background", None)
    return num_classes, background


def fcn_score_images(
    real_images,
    fake_images,
    segmenter,
    *,
    labels=None,
    num_classes: int | None = None,
    ignore_index: int | None = None,
    background="auto",
    convention: str = "exclude-absent",
    batch_size: int = 16,
    device="auto",
    progress: bool = True,
) -> SegmentationResult:
    """Segment generated images and score them against the real images' segmentation or labels.

    Parameters
    ----------
    real_images : uint8 array N x 3 x H x W, or None
        The real images. Ignored (may be None) when ``labels`` is given.
    fake_images : uint8 array N x 3 x H x W
        Generated (or degraded) images, paired with ``real_images`` by index.
    segmenter : str or callable
        A name from :func:`genmetrics_nb.segmentation.list_segmenters`
        (``"fcn-resnet50"``, ``"fcn8s-scenes"``) or a
        :class:`~genmetrics_nb.segmentation.segmenters.Segmenter`; any callable
        mapping images to ``N x H x W`` integer label maps works with ``num_classes=``.
    labels : int array N x H x W, optional
        Ground-truth label maps: score against these (the pix2pix protocol)
        instead of the real images' segmentation (the document's).
    num_classes : int, optional
        Default: the segmenter's.
    ignore_index : int, optional
        Reference label not counted (e.g. 255 in Cityscapes ground truth).
    background : int, None or "auto"
        Background class for ``foreground_pixel_accuracy``; ``"auto"`` takes
        the segmenter's (0 for both built-ins).
    convention : {"exclude-absent", "pix2pix"}
        See :func:`genmetrics_nb.metrics.segmentation.confusion.fcn_score`.
    batch_size : int
    device : str
        Used when ``segmenter`` is a name.
    progress : bool

    Returns
    -------
    SegmentationResult
        Accumulated over all pixels of all images (as the pix2pix script does),
        not averaged per image.

    Notes
    -----
    To reproduce pix2pix's Cityscapes FCN-scores use the authors' Caffe FCN-8s
    (not shipped here), ``labels=`` the ground truth at 256 x 256,
    ``ignore_index=255`` and ``convention="pix2pix"``. Scoring real images
    against their own labels gives the upper bound reported as "ground truth"
    in their tables.
    """
    fake = check_uint8_images(fake_images, name="fake_images", channels=3)
    if labels is None:
        if real_images is None:
            raise ValueError("real_images is None and no labels= were given; pass one of them")
        real = check_uint8_images(real_images, name="real_images", channels=3)
        if real.shape != fake.shape:
            raise ValueError(
                f"real_images {real.shape} and fake_images {fake.shape} must have the same shape "
                "(they are compared pixel by pixel)"
            )
    else:
        ref_labels = labels.detach().cpu().numpy() if hasattr(labels, "detach") else np.asarray(labels)
        if ref_labels.shape != (fake.shape[0],) + fake.shape[2:]:
            raise ValueError(
                f"labels must be N x H x W = {(fake.shape[0],) + fake.shape[2:]} to match fake_images, "
                f"got {ref_labels.shape}"
            )
    batch_size = check_int(batch_size, name="batch_size", minimum=1)
    seg = resolve_segmenter(segmenter, device)
    num_classes, background = resolve_classes(seg, num_classes, background)
    from tqdm.auto import tqdm

    cm = ConfusionMatrix(num_classes, ignore_index=ignore_index)
    for s in tqdm(range(0, fake.shape[0], batch_size), desc="FCN-score", disable=not progress):
        pred = np.asarray(seg(fake[s : s + batch_size]))
        ref = ref_labels[s : s + batch_size] if labels is not None else np.asarray(seg(real[s : s + batch_size]))
        cm.update(ref, pred)
    return cm.compute(background=background, convention=convention)
