"""ConfusionMatrix / fcn_score against scikit-learn, the pix2pix script and a hand-worked case."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    jaccard_score,
)

from genmetrics_nb.metrics.segmentation.confusion import ConfusionMatrix, SegmentationResult
from genmetrics_nb.metrics.segmentation.fcn_score import fcn_score


def _random_maps(seed, n_classes=6, shape=(3, 17, 13), ignore=255, p_ignore=0.1):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, n_classes, shape)
    p = rng.integers(0, n_classes, shape)
    t[rng.random(shape) < p_ignore] = ignore
    return t, p


# --- pix2pix/CycleGAN reference, transcribed verbatim from
# https://github.com/phillipi/pix2pix/blob/master/scripts/eval_cityscapes/util.py
def _pix2pix_fast_hist(a, b, n):
    k = np.where((a >= 0) & (a < n))[0]
    bc = np.bincount(n * a[k].astype(int) + b[k], minlength=n**2)
    if len(bc) != n**2:
        # ignore this example if dimension mismatch
        return 0
    return bc.reshape(n, n)


def _pix2pix_get_scores(hist):
    # Mean pixel accuracy
    acc = np.diag(hist).sum() / (hist.sum() + 1e-12)
    # Per class accuracy
    cl_acc = np.diag(hist) / (hist.sum(1) + 1e-12)
    # Per class IoU
    iu = np.diag(hist) / (hist.sum(1) + hist.sum(0) - np.diag(hist) + 1e-12)
    return acc, np.nanmean(cl_acc), np.nanmean(iu), cl_acc, iu


@pytest.mark.reference
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matrix_and_scores_match_sklearn(seed):
    n = 6
    t, p = _random_maps(seed, n)
    keep = t != 255
    yt, yp = t[keep], p[keep]
    s = fcn_score(t, p, num_classes=n, ignore_index=255)
    # sklearn.metrics.confusion_matrix: rows true, columns predicted, as ours.
    np.testing.assert_array_equal(s.matrix, confusion_matrix(yt, yp, labels=list(range(n))))
    assert s.pixel_accuracy == pytest.approx(accuracy_score(yt, yp), abs=1e-15)
    np.testing.assert_allclose(
        s.per_class_iou, jaccard_score(yt, yp, labels=list(range(n)), average=None), rtol=1e-13
    )
    assert s.mean_iou == pytest.approx(jaccard_score(yt, yp, labels=list(range(n)), average="macro"), rel=1e-13)
    # Dice is the F1 score of each class.
    np.testing.assert_allclose(s.per_class_dice, f1_score(yt, yp, labels=list(range(n)), average=None), rtol=1e-13)
    assert s.mean_dice == pytest.approx(f1_score(yt, yp, labels=list(range(n)), average="macro"), rel=1e-13)
    # Mean class accuracy is the mean recall, sklearn's balanced accuracy.
    assert s.mean_class_accuracy == pytest.approx(balanced_accuracy_score(yt, yp), rel=1e-13)
    assert s.n_pixels == keep.sum()


@pytest.mark.reference
def test_absent_classes_are_excluded_like_sklearn_on_present_labels():
    # Classes 3 and 4 appear in neither map; class 2 is predicted but never true.
    n = 5
    rng = np.random.default_rng(5)
    t = rng.integers(0, 2, (4, 9, 9))
    p = rng.integers(0, 3, (4, 9, 9))
    s = fcn_score(t, p, num_classes=n)
    present = [0, 1, 2]  # union of the labels in both maps
    assert s.mean_iou == pytest.approx(jaccard_score(t.ravel(), p.ravel(), labels=present, average="macro"), rel=1e-13)
    assert s.mean_dice == pytest.approx(f1_score(t.ravel(), p.ravel(), labels=present, average="macro"), rel=1e-13)
    assert np.isnan(s.per_class_iou[3]) and np.isnan(s.per_class_iou[4])
    assert s.per_class_iou[2] == 0.0  # predicted but absent from the truth: a real zero
    # Recall is undefined for class 2 (never true); balanced_accuracy_score drops it with a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = balanced_accuracy_score(t.ravel(), p.ravel())
    assert s.mean_class_accuracy == pytest.approx(ref, rel=1e-13)
    assert np.isnan(s.per_class_accuracy[2])


@pytest.mark.reference
@pytest.mark.parametrize("seed", [0, 3])
def test_pix2pix_convention_matches_the_pix2pix_script(seed):
    n = 8  # classes 6 and 7 never occur, so the 1e-12 convention matters
    t, p = _random_maps(seed, 6, ignore=255)
    hist = _pix2pix_fast_hist(t.ravel(), p.ravel(), n)  # drops t == 255 by its range test
    acc, mean_cl, mean_iu, cl_acc, iu = _pix2pix_get_scores(hist)
    s = fcn_score(t, p, num_classes=n, ignore_index=255, convention="pix2pix")
    np.testing.assert_array_equal(s.matrix, hist)
    assert s.pixel_accuracy == acc
    assert s.mean_class_accuracy == pytest.approx(mean_cl, rel=1e-15)
    assert s.mean_iou == pytest.approx(mean_iu, rel=1e-15)
    np.testing.assert_array_equal(s.per_class_iou, iu)
    np.testing.assert_array_equal(s.per_class_accuracy, cl_acc)
    # ... and it differs from the default, which leaves the two empty classes out.
    default = fcn_score(t, p, num_classes=n, ignore_index=255)
    assert default.mean_iou == pytest.approx(mean_iu * n / 6, rel=1e-12)


def test_hand_computed_case():
    # Worked by hand. Truth / prediction over 8 pixels, 3 classes, background 0:
    #   true: 0 0 0 1 1 1 2 2
    #   pred: 0 0 1 1 1 2 2 0
    # M = [[2,1,0],[0,2,1],[1,0,1]]; rows 3,3,2; cols 3,3,2; diag 2,2,1.
    t = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    p = np.array([0, 0, 1, 1, 1, 2, 2, 0])
    s = fcn_score(t, p, num_classes=3, background=0)
    assert s.confusion == ((2, 1, 0), (0, 2, 1), (1, 0, 1))
    assert s.pixel_accuracy == pytest.approx(5 / 8)
    assert s.mean_class_accuracy == pytest.approx((2 / 3 + 2 / 3 + 1 / 2) / 3)
    # IoU: 2/(3+3-2)=1/2, 2/(3+3-2)=1/2, 1/(2+2-1)=1/3
    assert s.per_class_iou == pytest.approx((1 / 2, 1 / 2, 1 / 3))
    assert s.mean_iou == pytest.approx(4 / 9)
    # Dice: 4/6, 4/6, 2/4
    assert s.per_class_dice == pytest.approx((2 / 3, 2 / 3, 1 / 2))
    # Foreground accuracy: true label != 0 -> pixels 3..7, correct 1,1,_,1,_ -> 3/5
    assert s.foreground_pixel_accuracy == pytest.approx(3 / 5)
    assert fcn_score(t, p, num_classes=3).foreground_pixel_accuracy is None


def test_streaming_equals_one_shot_and_merge():
    t, p = _random_maps(7, 6, shape=(6, 10, 10))
    one = fcn_score(t, p, num_classes=6, ignore_index=255)
    cm = ConfusionMatrix(6, ignore_index=255)
    for i in range(0, 6, 2):
        cm.update(t[i : i + 2], p[i : i + 2])
    assert cm.compute() == one
    a = ConfusionMatrix(6, ignore_index=255).update(t[:3], p[:3])
    b = ConfusionMatrix(6, ignore_index=255).update(t[3:], p[3:])
    assert a.merge(b).compute() == one
    assert cm.reset().n_pixels == 0


def test_torch_inputs_match_numpy_and_mixed_batches():
    t, p = _random_maps(8, 6)
    ref = fcn_score(t, p, num_classes=6, ignore_index=255, background=0)
    got = fcn_score(torch.from_numpy(t), torch.from_numpy(p), num_classes=6, ignore_index=255, background=0)
    assert got == ref
    cm = ConfusionMatrix(6, ignore_index=255)
    cm.update(torch.from_numpy(t[:1]).to(torch.int32), torch.from_numpy(p[:1]))
    cm.update(t[1:], p[1:])
    assert cm.compute(background=0) == ref


@pytest.mark.gpu
def test_gpu_counts_stay_on_the_gpu():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    t, p = _random_maps(9, 6)
    cm = ConfusionMatrix(6, ignore_index=255)
    cm.update(torch.from_numpy(t).cuda(), torch.from_numpy(p).cuda())
    assert cm._torch.device.type == "cuda"
    assert cm.compute() == fcn_score(t, p, num_classes=6, ignore_index=255)


def test_ignore_index_inside_the_class_range():
    t, p = _random_maps(10, 4, ignore=0, p_ignore=0.0)
    s = fcn_score(t, p, num_classes=4, ignore_index=0)
    keep = t != 0
    np.testing.assert_array_equal(s.matrix, confusion_matrix(t[keep], p[keep], labels=[0, 1, 2, 3]))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 5),
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60),
)
def test_property_iou_matches_sklearn(n, pairs):
    t = np.array([min(a, n - 1) for a, _ in pairs])
    p = np.array([min(b, n - 1) for _, b in pairs])
    s = fcn_score(t, p, num_classes=n)
    present = sorted(set(t) | set(p))
    assert s.mean_iou == pytest.approx(jaccard_score(t, p, labels=present, average="macro"), rel=1e-12)
    assert 0.0 <= s.mean_iou <= 1.0 and 0.0 <= s.pixel_accuracy <= 1.0
    assert all(d >= i or np.isnan(i) for i, d in zip(s.per_class_iou, s.per_class_dice))  # Dice >= IoU


def test_result_is_frozen_and_serialises():
    s = fcn_score(np.array([0, 1]), np.array([0, 0]), num_classes=3, background=0)
    assert isinstance(s, SegmentationResult)
    with pytest.raises(dataclasses_frozen_error()):
        s.mean_iou = 1.0
    d = s.to_dict()
    assert d["confusion"] == [[1, 0, 0], [1, 0, 0], [0, 0, 0]]
    assert np.isnan(d["per_class_iou"][2])
    assert "mean IoU" in str(s)


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(num_classes=0), ValueError, "num_classes must be >= 1"),
        (dict(num_classes=2.0), TypeError, "num_classes must be an int"),
        (dict(num_classes=3, convention="nan"), ValueError, "convention must be one of"),
        (dict(num_classes=3, background=3), ValueError, "background must be a class index"),
        (dict(num_classes=3, ignore_index="255"), TypeError, "ignore_index must be an int"),
    ],
)
def test_bad_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fcn_score(np.array([0, 1]), np.array([0, 1]), **kwargs)


def test_bad_label_maps():
    with pytest.raises(ValueError, match="labels_true contains 3, outside 0..2.*ignore_index="):
        fcn_score(np.array([0, 3]), np.array([0, 1]), num_classes=3)
    with pytest.raises(ValueError, match="labels_pred contains -1"):
        fcn_score(np.array([0, 1]), np.array([0, -1]), num_classes=3)
    with pytest.raises(ValueError, match="same shape.*resize the prediction"):
        fcn_score(np.zeros((2, 2), int), np.zeros((2, 3), int), num_classes=3)
    with pytest.raises(TypeError, match="labels_pred must hold integer class labels.*argmax"):
        fcn_score(np.zeros(4, int), np.zeros(4), num_classes=3)
    with pytest.raises(TypeError, match="both be NumPy arrays or both be torch"):
        fcn_score(np.zeros(4, int), torch.zeros(4, dtype=torch.long), num_classes=3)
    with pytest.raises(ValueError, match="confusion matrix is empty"):
        fcn_score(np.full(4, 255), np.zeros(4, int), num_classes=3, ignore_index=255)
    with pytest.raises(TypeError, match="other must be a ConfusionMatrix"):
        ConfusionMatrix(3).merge(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="cannot merge"):
        ConfusionMatrix(3).merge(ConfusionMatrix(4))
