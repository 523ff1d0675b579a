"""Segmentation scores from a streaming confusion matrix: the FCN-score maths.

A confusion matrix ``M`` (rows: true class, columns: predicted class) is the
sufficient statistic of every score used by FCN, pix2pix and CycleGAN:

- pixel accuracy ``trace(M) / sum(M)``;
- mean class accuracy, the mean over classes of ``M[c, c] / sum(M[c, :])``;
- mean IoU, the mean over classes of ``M[c, c] / (sum(M[c, :]) + sum(M[:, c]) - M[c, c])``;
- per-class Dice ``2 M[c, c] / (sum(M[c, :]) + sum(M[:, c]))``.

Because it is a sum over pixels, ``M`` can be accumulated batch by batch on
the CPU or a GPU and merged across shards, so memory stays
``num_classes ** 2`` whatever the number of images.

References
----------
.. [1] J. Long, E. Shelhamer, T. Darrell, "Fully Convolutional Networks for Semantic
   Segmentation", CVPR 2015, section 5 (the four metrics).
   https://github.com/shelhamer/fcn.berkeleyvision.org/blob/master/score.py
.. [2] P. Isola, J.-Y. Zhu, T. Zhou, A. A. Efros, "Image-to-Image Translation with
   Conditional Adversarial Networks", CVPR 2017 (the FCN-score).
   https://github.com/phillipi/pix2pix/blob/master/scripts/eval_cityscapes/util.py
.. [3] J.-Y. Zhu, T. Park, P. Isola, A. A. Efros, "Unpaired Image-to-Image Translation
   using Cycle-Consistent Adversarial Networks", ICCV 2017 (same script).
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from genmetrics_nb.metrics.result import Result
from genmetrics_nb.util.checks import check_int, is_torch

__all__ = ["ConfusionMatrix", "SegmentationResult", "scores_from_matrix", "CONVENTIONS"]

#: ``"exclude-absent"`` (default): a class whose score is undefined (0 / 0) is
#: left out of the means and reported as NaN. ``"pix2pix"``: the
#: pix2pix / CycleGAN ``eval_cityscapes`` script, which adds ``1e-12`` to every
#: denominator, so such a class scores 0 and counts in the means.
CONVENTIONS = ("exclude-absent", "pix2pix")
_PIX2PIX_EPS = 1e-12


def _check_optional_label(value, name: str):
    return None if value is None else check_int(value, name=name, hint="or pass None")


def _check_convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(
            f"convention must be one of {CONVENTIONS}, got {convention!r}; use 'pix2pix' to "
            "reproduce the pix2pix/CycleGAN script (1e-12 in each denominator)"
        )
    return convention


def _check_label_dtype(x, name: str) -> None:
    if is_torch(x):
        import torch

        ok = not (torch.is_floating_point(x) or torch.is_complex(x))
    else:
        ok = np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_
    if not ok:
        raise TypeError(
            f"{name} must hold integer class labels, got dtype {x.dtype}; "
            "take the argmax over the class axis of scores, or cast whole-number floats with .astype(int)"
        )


@dataclasses.dataclass(frozen=True)
class SegmentationResult(Result):
    """Scores of a predicted label map against a reference label map.

    ``value`` is ``pixel_accuracy``, the first of the FCN-score's numbers
    (``float(result)`` too); read the others by name.

    Attributes
    ----------
    num_classes : int
    pixel_accuracy : float
        Correct pixels / counted pixels.
    mean_class_accuracy : float
        Mean over classes of recall ``M[c, c] / sum(M[c, :])``.
    mean_iou : float
        Mean over classes of the intersection over union (Jaccard index).
    mean_dice : float
        Mean over classes of the Dice coefficient (F1 score).
    per_class_accuracy, per_class_iou, per_class_dice : tuple of float
        One value per class; NaN where undefined under ``convention="exclude-absent"``.
    foreground_pixel_accuracy : float or None
        Accuracy over the pixels whose *true* label is not ``background``;
        None unless ``background`` was given.
    background : int or None
    convention : str
        ``"exclude-absent"`` or ``"pix2pix"``, see :func:`fcn_score`.
    n_pixels : int
        Counted pixels (those not ``ignore_index``).
    confusion : tuple of tuple of int
        The confusion matrix, rows true class, columns predicted class.
    """

    num_classes: int
    pixel_accuracy: float
    mean_class_accuracy: float
    mean_iou: float
    mean_dice: float
    per_class_accuracy: tuple
    per_class_iou: tuple
    per_class_dice: tuple
    foreground_pixel_accuracy: float | None
    background: int | None
    convention: str
    n_pixels: int
    confusion: tuple = dataclasses.field(repr=False)

    metric_name: ClassVar[str] = "segmentation"
    bootstrap_fields: ClassVar[tuple[str, ...]] = (
        "pixel_accuracy", "mean_class_accuracy", "mean_iou", "mean_dice",
    )
    value_field: ClassVar[str] = "pixel_accuracy"
    display_fields: ClassVar[tuple[str, ...]] = ("mean_class_accuracy", "mean_iou", "mean_dice")
    n_fields: ClassVar[tuple[str, ...]] = ("n_pixels",)

    @property
    def value(self) -> float:
        """The headline number: ``pixel_accuracy``."""
        return self.pixel_accuracy

    @property
    def matrix(self) -> np.ndarray:
        """The confusion matrix as an ``int64`` array."""
        return np.array(self.confusion, dtype=np.int64)

    def __str__(self) -> str:
        s = (
            f"pixel accuracy {self.pixel_accuracy:.4f}, mean class accuracy "
            f"{self.mean_class_accuracy:.4f}, mean IoU {self.mean_iou:.4f}, "
            f"mean Dice {self.mean_dice:.4f}"
        )
        if self.foreground_pixel_accuracy is not None:
            s += f", foreground pixel accuracy {self.foreground_pixel_accuracy:.4f}"
        return s + f" ({self.n_pixels} pixels, {self.num_classes} classes, {self.convention})"


class ConfusionMatrix:
    """A confusion matrix accumulated over batches of label maps.

    Parameters
    ----------
    num_classes : int
        Labels are ``0 .. num_classes - 1``.
    ignore_index : int, optional
        Pixels whose *true* label equals this value are not counted (e.g. 255
        for "void" in Cityscapes and PASCAL VOC). It may lie inside or outside
        ``0 .. num_classes - 1``.

    Notes
    -----
    Updates run where the data is: NumPy arrays are counted with
    :func:`numpy.bincount`; torch tensors with :func:`torch.bincount` on their
    own device (a GPU stays a GPU), so streaming a dataset through a
    segmenter never copies label maps to the host. The counts are exact
    ``int64``.

    Unlike the pix2pix script, which silently drops true labels outside the
    class range and would mis-count out-of-range predictions, such labels
    raise a ValueError here: a label map that does not fit ``num_classes`` is
    a bug upstream.

    Examples
    --------
    >>> cm = ConfusionMatrix(3)
    >>> cm.update(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 2]))
    ConfusionMatrix(num_classes=3, n_pixels=4)
    >>> cm.compute().pixel_accuracy
    0.75
    """

    def __init__(self, num_classes: int, *, ignore_index: int | None = None):
        self.num_classes = check_int(num_classes, name="num_classes", minimum=1)
        self.ignore_index = _check_optional_label(ignore_index, "ignore_index")
        self._np = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        self._torch = None  # a torch int64 tensor on the device of the torch updates

    def __repr__(self) -> str:
        return f"ConfusionMatrix(num_classes={self.num_classes}, n_pixels={self.n_pixels})"

    # -- accumulation -------------------------------------------------------
    def update(self, labels_true, labels_pred) -> "ConfusionMatrix":
        """Count one batch of label maps of any (equal) shape.

        Parameters
        ----------
        labels_true, labels_pred : array or tensor of int
            Same shape, e.g. ``N x H x W``. Both NumPy, or both torch.

        Returns
        -------
        ConfusionMatrix
            ``self``, so that calls chain.
        """
        torch_in = is_torch(labels_true), is_torch(labels_pred)
        if torch_in[0] != torch_in[1]:
            raise TypeError(
                "labels_true and labels_pred must both be NumPy arrays or both be torch tensors, got "
                f"{type(labels_true).__name__} and {type(labels_pred).__name__}"
            )
        if not torch_in[0]:
            labels_true = np.asarray(labels_true)
            labels_pred = np.asarray(labels_pred)
        _check_label_dtype(labels_true, "labels_true")
        _check_label_dtype(labels_pred, "labels_pred")
        if tuple(labels_true.shape) != tuple(labels_pred.shape):
            raise ValueError(
                f"labels_true and labels_pred must have the same shape, got {tuple(labels_true.shape)} "
                f"and {tuple(labels_pred.shape)}; resize the prediction to the label map (nearest "
                "neighbour) first"
            )
        if torch_in[0]:
            self._update_torch(labels_true, labels_pred)
        else:
            self._update_numpy(labels_true, labels_pred)
        return self

    def _keep(self, t, p, xp):
        n = self.num_classes
        t = t.reshape(-1)
        p = p.reshape(-1)
        if self.ignore_index is not None:
            keep = t != self.ignore_index
            t, p = t[keep], p[keep]
        if t.numel() if xp == "torch" else t.size:
            bad_t = (t < 0) | (t >= n)
            if bool(bad_t.any()):
                v = t[bad_t][0]
                raise ValueError(
                    f"labels_true contains {int(v)}, outside 0..{n - 1} (num_classes={n}); pass "
                    "ignore_index= for a 'void' label, or a larger num_classes"
                )
            bad_p = (p < 0) | (p >= n)
            if bool(bad_p.any()):
                v = p[bad_p][0]
                raise ValueError(
                    f"labels_pred contains {int(v)}, outside 0..{n - 1} (num_classes={n}) at a "
                    "counted pixel; predictions must be class indices"
                )
        return t, p

    def _update_numpy(self, t, p):
        t, p = self._keep(t, p, "numpy")
        n = self.num_classes
        counts = np.bincount(n * t.astype(np.int64) + p.astype(np.int64), minlength=n * n)
        self._np += counts.reshape(n, n)

    def _update_torch(self, t, p):
        import torch

        if t.device != p.device:
            raise ValueError(
                f"labels_true is on {t.device} and labels_pred on {p.device}; move both to one device"
            )
        t, p = self._keep(t, p, "torch")
        n = self.num_classes
        counts = torch.bincount(n * t.long() + p.long(), minlength=n * n).reshape(n, n)
        if self._torch is None:
            self._torch = counts
        else:
            self._torch = self._torch.to(counts.device) + counts

    def merge(self, other: "ConfusionMatrix") -> "ConfusionMatrix":
        """Add the counts of another matrix (e.g. from another shard) into this one."""
        if not isinstance(other, ConfusionMatrix):
            raise TypeError(f"other must be a ConfusionMatrix, got {type(other).__name__}")
        if other.num_classes != self.num_classes or other.ignore_index != self.ignore_index:
            raise ValueError(
                "cannot merge confusion matrices with different num_classes or ignore_index: "
                f"({self.num_classes}, {self.ignore_index}) vs ({other.num_classes}, {other.ignore_index})"
            )
        self._np += other.matrix
        return self

    def reset(self) -> "ConfusionMatrix":
        """Forget all counts."""
        self._np[:] = 0
        self._torch = None
        return self

    @property
    def matrix(self) -> np.ndarray:
        """The counts, ``int64`` ``num_classes x num_classes``; rows true, columns predicted."""
        m = self._np.copy()
        if self._torch is not None:
            m += self._torch.cpu().numpy()
        return m

    @property
    def n_pixels(self) -> int:
        """Number of counted pixels."""
        return int(self.matrix.sum())

    # -- scores ---------------------------------------------------------------
    def compute(self, *, background: int | None = None, convention: str = "exclude-absent") -> SegmentationResult:
        """Scores from the counts so far; see :func:`fcn_score` for the options."""
        background = _check_optional_label(background, "background")
        if background is not None and not 0 <= background < self.num_classes:
            raise ValueError(
                f"background must be a class index in 0..{self.num_classes - 1}, got {background}"
            )
        return scores_from_matrix(self.matrix, background=background, convention=_check_convention(convention))


def _ratio(num: np.ndarray, den: np.ndarray, convention: str) -> np.ndarray:
    num = num.astype(np.float64)
    den = den.astype(np.float64)
    if convention == "pix2pix":
        return num / (den + _PIX2PIX_EPS)
    out = np.full(num.shape, np.nan)
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


def _mean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else math.nan


def scores_from_matrix(
    matrix: np.ndarray, *, background: int | None = None, convention: str = "exclude-absent"
) -> SegmentationResult:
    """The scores of a confusion matrix (rows true, columns predicted)."""
    m = np.asarray(matrix, dtype=np.int64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"matrix must be square, got shape {m.shape}")
    convention = _check_convention(convention)
    n_pixels = int(m.sum())
    if n_pixels == 0:
        raise ValueError(
            "the confusion matrix is empty (no counted pixels); update() it with label maps first, "
            "or check that ignore_index does not cover every pixel"
        )
    diag = np.diag(m)
    rows = m.sum(axis=1)
    cols = m.sum(axis=0)
    acc = _ratio(np.array(diag.sum()), np.array(n_pixels), convention)
    cls_acc = _ratio(diag, rows, convention)
    iou = _ratio(diag, rows + cols - diag, convention)
    dice = _ratio(2 * diag, rows + cols, convention)
    fg = None
    if background is not None:
        keep = np.arange(m.shape[0]) != background
        fg_arr = _ratio(np.array(diag[keep].sum()), np.array(rows[keep].sum()), convention)
        fg = float(fg_arr)
    return SegmentationResult(
        num_classes=int(m.shape[0]),
        pixel_accuracy=float(acc),
        mean_class_accuracy=_mean(cls_acc),
        mean_iou=_mean(iou),
        mean_dice=_mean(dice),
        per_class_accuracy=tuple(float(v) for v in cls_acc),
        per_class_iou=tuple(float(v) for v in iou),
        per_class_dice=tuple(float(v) for v in dice),
        foreground_pixel_accuracy=fg,
        background=background,
        convention=convention,
        n_pixels=n_pixels,
        confusion=tuple(tuple(int(v) for v in r) for r in m),
    )


