"""The FCN-score of generated images: how well they segment like the real ones.

Two protocols, one function:

- the FCN-score document's: segment the real image and the generated
  (here: blurred) image with the same pretrained segmenter and score the
  generated image's label map against the real image's;
- pix2pix / CycleGAN's: score the generated image's label map against the
  ground-truth labels of the real image (pass ``labels=``). Real images scored
  this way give the ceiling the generator is compared to.

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

import dataclasses

import numpy as np

from genmetrics_nb.metrics.confusion import ConfusionMatrix, SegmentationScores

__all__ = ["fcn_score_images", "box_blur", "fcn_score_blur_sweep", "BlurSweep", "DEFAULT_KERNELS"]

#: The document's sweep: odd box-blur kernels 1, 3, ..., 49.
DEFAULT_KERNELS = tuple(range(1, 50, 2))


def _as_nchw_uint8(images, name: str) -> np.ndarray:
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise TypeError(
            f"{name} must be uint8 N x 3 x H x W, got dtype {x.dtype}; convert with "
            "genmetrics_nb.images.as_uint8(x, value_range=...) or load with gm.load_images"
        )
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{name} must be N x 3 x H x W, got shape {x.shape}")
    return x


def _resolve_segmenter(segmenter, device):
    if isinstance(segmenter, str):
        from genmetrics_nb.segmentation.segmenters import get_segmenter

        return get_segmenter(segmenter, device=device)
    if not callable(segmenter):
        raise TypeError(
            f"segmenter must be a name (gm.segmentation.list_segmenters()) or a callable returning "
            f"label maps, got {type(segmenter).__name__}"
        )
    return segmenter


def _resolve_classes(segmenter, num_classes, background):
    if num_classes is None:
        num_classes = getattr(segmenter, "num_classes", None)
        if num_classes is None:
            raise ValueError("num_classes is required when the segmenter has no num_classes attribute")
    if isinstance(background, str):
        if background != "auto":
            raise ValueError(f"background must be an int, None or 'auto', got {background!r}")
        background = getattr(segmenter, "background", None)
    return num_classes, background


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return batch_size


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
) -> SegmentationScores:
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
        See :func:`genmetrics_nb.metrics.confusion.fcn_score`.
    batch_size : int
    device : str
        Used when ``segmenter`` is a name.
    progress : bool

    Returns
    -------
    SegmentationScores
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
    fake = _as_nchw_uint8(fake_images, "fake_images")
    if labels is None:
        if real_images is None:
            raise ValueError("real_images is None and no labels= were given; pass one of them")
        real = _as_nchw_uint8(real_images, "real_images")
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
    batch_size = _check_batch_size(batch_size)
    seg = _resolve_segmenter(segmenter, device)
    num_classes, background = _resolve_classes(seg, num_classes, background)
    from tqdm.auto import tqdm

    cm = ConfusionMatrix(num_classes, ignore_index=ignore_index)
    for s in tqdm(range(0, fake.shape[0], batch_size), desc="FCN-score", disable=not progress):
        pred = np.asarray(seg(fake[s : s + batch_size]))
        ref = ref_labels[s : s + batch_size] if labels is not None else np.asarray(seg(real[s : s + batch_size]))
        cm.update(ref, pred)
    return cm.compute(background=background, convention=convention)


def box_blur(images, kernel: int) -> np.ndarray:
    """Blur each ``uint8`` ``N x 3 x H x W`` image with a ``kernel x kernel`` box filter.

    ``cv2.blur`` with its default border (reflect-101), as the FCN-score
    document does; ``kernel=1`` returns an unchanged copy.
    """
    import cv2

    x = _as_nchw_uint8(images, "images")
    if isinstance(kernel, bool) or not isinstance(kernel, (int, np.integer)) or kernel < 1:
        raise ValueError(f"kernel must be a positive int, got {kernel!r}")
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        hwc = np.ascontiguousarray(x[i].transpose(1, 2, 0))
        out[i] = cv2.blur(hwc, (int(kernel), int(kernel))).transpose(2, 0, 1)
    return out


@dataclasses.dataclass(frozen=True)
class BlurSweep:
    """FCN-scores of box-blurred images, one entry per kernel size.

    Attributes
    ----------
    kernels : tuple of int
    vs_real : tuple of SegmentationScores
        Blurred image's segmentation against the unblurred image's (the document).
    vs_truth : tuple of SegmentationScores or None
        Against ground-truth labels (pix2pix); ``kernels[0] == 1`` is then the
        real images' own score, the ceiling.
    segmenter : str
    n_images : int
    example_images, example_labels : numpy.ndarray
        The first image blurred with every kernel (``K x 3 x H x W``) and its
        segmentations (``K x H x W``), for the grid plot.
    class_names : list of str
    """

    kernels: tuple
    vs_real: tuple
    vs_truth: tuple | None
    segmenter: str
    n_images: int
    example_images: np.ndarray = dataclasses.field(repr=False, compare=False)
    example_labels: np.ndarray = dataclasses.field(repr=False, compare=False)
    class_names: list = dataclasses.field(repr=False, default_factory=list)

    def series(self, field: str, *, against: str = "real") -> np.ndarray:
        """One score per kernel, e.g. ``series("pixel_accuracy", against="truth")``."""
        rows = self.vs_real if against == "real" else self.vs_truth
        if rows is None:
            raise ValueError("this sweep was run without labels=; against='truth' is not available")
        return np.array([np.nan if getattr(r, field) is None else getattr(r, field) for r in rows], dtype=float)

    def to_dict(self) -> dict:
        out = {"kernels": list(self.kernels), "segmenter": self.segmenter, "n_images": self.n_images}
        for against in ("real", "truth"):
            if against == "truth" and self.vs_truth is None:
                continue
            for f in ("pixel_accuracy", "foreground_pixel_accuracy", "mean_iou"):
                out[f"{f}_vs_{against}"] = self.series(f, against=against).tolist()
        return out

    def __str__(self) -> str:
        head = "kernel  pix.acc  fg.acc  mIoU   (vs real segmentation)"
        if self.vs_truth is not None:
            head += " | pix.acc  fg.acc  mIoU (vs ground truth)"
        lines = [head]
        for i, k in enumerate(self.kernels):
            r = self.vs_real[i]
            fg = r.foreground_pixel_accuracy
            s = f"{k:6d}  {r.pixel_accuracy:7.4f}  {float('nan') if fg is None else fg:6.4f}  {r.mean_iou:.4f}"
            if self.vs_truth is not None:
                t = self.vs_truth[i]
                tfg = t.foreground_pixel_accuracy
                s += f" | {t.pixel_accuracy:7.4f}  {float('nan') if tfg is None else tfg:6.4f}  {t.mean_iou:.4f}"
            lines.append(s)
        return "\n".join(lines)


def fcn_score_blur_sweep(
    images,
    segmenter,
    *,
    kernels=DEFAULT_KERNELS,
    labels=None,
    ignore_index: int | None = None,
    background="auto",
    convention: str = "exclude-absent",
    batch_size: int = 16,
    device="auto",
    progress: bool = True,
) -> BlurSweep:
    """FCN-score of box-blurred copies of ``images`` for every kernel size.

    Parameters
    ----------
    images : uint8 array N x 3 x H x W
        The real images.
    segmenter : str or Segmenter
    kernels : sequence of int
        Box sizes (the document: 1, 3, ..., 49).
    labels : int array N x H x W, optional
        Ground truth; adds the pix2pix-style row ``vs_truth``.
    ignore_index, background, convention, batch_size, device, progress
        As in :func:`fcn_score_images`.

    Returns
    -------
    BlurSweep

    Notes
    -----
    The real images are segmented once; each kernel then costs one
    segmentation of the blurred set. The document blurred a single SEM image;
    passing several images accumulates the confusion matrix over all of them.
    """
    x = _as_nchw_uint8(images, "images")
    kernels = tuple(int(k) for k in kernels)
    if not kernels or any(k < 1 for k in kernels):
        raise ValueError(f"kernels must be a non-empty sequence of positive ints, got {kernels!r}")
    batch_size = _check_batch_size(batch_size)
    seg = _resolve_segmenter(segmenter, device)
    num_classes, background = _resolve_classes(seg, None, background)
    if labels is not None:
        labels = labels.detach().cpu().numpy() if hasattr(labels, "detach") else np.asarray(labels)
        if labels.shape != (x.shape[0],) + x.shape[2:]:
            raise ValueError(f"labels must be N x H x W = {(x.shape[0],) + x.shape[2:]}, got {labels.shape}")
    from tqdm.auto import tqdm

    real_seg = np.concatenate([np.asarray(seg(x[s : s + batch_size])) for s in range(0, x.shape[0], batch_size)])
    vs_real, vs_truth, ex_img, ex_lab = [], [], [], []
    for k in tqdm(kernels, desc="blur sweep", disable=not progress):
        cm_r = ConfusionMatrix(num_classes)  # a segmentation has no 'void' pixels
        cm_t = ConfusionMatrix(num_classes, ignore_index=ignore_index)
        for s in range(0, x.shape[0], batch_size):
            blurred = box_blur(x[s : s + batch_size], k)
            pred = np.asarray(seg(blurred))
            cm_r.update(real_seg[s : s + batch_size], pred)
            if labels is not None:
                cm_t.update(labels[s : s + batch_size], pred)
            if s == 0:
                ex_img.append(blurred[0])
                ex_lab.append(pred[0])
        vs_real.append(cm_r.compute(background=background, convention=convention))
        if labels is not None:
            vs_truth.append(cm_t.compute(background=background, convention=convention))
    return BlurSweep(
        kernels=kernels,
        vs_real=tuple(vs_real),
        vs_truth=tuple(vs_truth) if labels is not None else None,
        segmenter=getattr(seg, "name", type(seg).__name__),
        n_images=int(x.shape[0]),
        example_images=np.stack(ex_img),
        example_labels=np.stack(ex_lab),
        class_names=list(getattr(seg, "class_names", []) or []),
    )
