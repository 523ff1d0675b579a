"""Fashion-MNIST scenes: determinism, label semantics, split separation, validation."""
from __future__ import annotations

import numpy as np
import pytest

from genmetrics_nb.datasets.fashionmnist import FASHION_MNIST_CLASSES
from genmetrics_nb.datasets.scenes import SCENE_CLASSES, SegmentationScenes, fashion_mnist_scenes


@pytest.fixture(scope="module")
def small():
    return fashion_mnist_scenes("test", n=6, size=64, seed=3, progress=False)


def test_shapes_dtypes_and_classes(small):
    assert isinstance(small, SegmentationScenes)
    assert small.images.shape == (6, 3, 64, 64) and small.images.dtype == np.uint8
    assert small.labels.shape == (6, 64, 64) and small.labels.dtype == np.uint8
    # 11 classes: background, then Fashion-MNIST's own names in its own order (shifted by one).
    assert small.class_names == ["background"] + list(FASHION_MNIST_CLASSES) == SCENE_CLASSES
    assert small.labels.max() <= 10
    assert len(small) == 6 and "6 scenes" in repr(small)


def test_deterministic_and_prefix_stable(small):
    again = fashion_mnist_scenes("test", n=6, size=64, seed=3, progress=False)
    np.testing.assert_array_equal(again.images, small.images)
    np.testing.assert_array_equal(again.labels, small.labels)
    # scene i does not depend on n
    prefix = fashion_mnist_scenes("test", n=2, size=64, seed=3, progress=False)
    np.testing.assert_array_equal(prefix.images, small.images[:2])
    other = fashion_mnist_scenes("test", n=6, size=64, seed=4, progress=False)
    assert not np.array_equal(other.images, small.images)


def test_every_scene_has_items_and_background(small):
    for lab in small.labels:
        assert (lab == 0).any() and (lab > 0).any()
    # items cover a minority of the pixels with the default scales
    assert 0.02 < (small.labels > 0).mean() < 0.6


def _stub_fashion_mnist(calls, klass):
    """A stand-in for fashion_mnist(): white squares of one class, recording the split asked for."""
    from genmetrics_nb.datasets.common import LabeledImages

    def stub(split="test", *, classes=None, root=None):
        calls.append(split)
        images = np.full((5, 1, 28, 28), 255, np.uint8)
        return LabeledImages(images, np.full(5, klass, np.int64), list(FASHION_MNIST_CLASSES))

    return stub


@pytest.mark.parametrize("split", ["train", "test"])
def test_items_come_from_their_own_split_and_label_is_class_plus_one(monkeypatch, split):
    import genmetrics_nb.datasets.fashionmnist as fm

    calls = []
    monkeypatch.setattr(fm, "fashion_mnist", _stub_fashion_mnist(calls, klass=6))
    s = fashion_mnist_scenes(split, n=3, size=64, items=(1, 1), seed=0, progress=False)
    assert calls == [split]
    for img, lab in zip(s.images, s.labels):
        # an opaque white-intensity item is one solid rectangle labelled 6 + 1
        assert set(np.unique(lab)) == {0, 7}
        ys, xs = np.nonzero(lab)
        assert lab[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].all()
        # and its pixels are the item's flat colour (no background shows through)
        item = img[:, ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].reshape(3, -1)
        assert (item.max(axis=1) - item.min(axis=1) <= 1).all()


def test_real_items_are_labelled_and_classes_are_spread():
    s = fashion_mnist_scenes("train", n=60, size=64, seed=0, progress=False)
    counts = np.bincount(s.labels.ravel(), minlength=11)
    assert (counts[1:] > 0).all()  # all ten item classes occur in 60 scenes
    assert counts[0] > counts[1:].sum()  # background is the majority, as in street scenes


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(split="val"), ValueError, "split must be 'train' or 'test'"),
        (dict(n=0), ValueError, "n must be >= 1"),
        (dict(size=16), ValueError, "size must be >= 32"),
        (dict(size=64.0), TypeError, "size must be an int"),
        (dict(items=(3, 1)), ValueError, "items must satisfy"),
        (dict(items=3), TypeError, r"items must be a \(min, max\) pair"),
        (dict(scale=(0.01, 0.1)), ValueError, "scale\\[0\\] \\* size must be at least 8"),
        (dict(scale=(0.5, 1.5)), ValueError, "scale must satisfy"),
        (dict(texture=(0.5, 2.0)), ValueError, "texture must satisfy"),
        (dict(texture=0.5), TypeError, r"texture must be a \(min, max\) pair"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    kw = dict(n=1, size=64, progress=False)
    kw.update(kwargs)
    split = kw.pop("split", "test")
    with pytest.raises(exc, match=match):
        fashion_mnist_scenes(split, **kw)


def _roughness(images, labels):
    """Mean absolute difference of horizontally adjacent background pixels (texture strength)."""
    x = images.astype(np.float64)
    d = np.abs(np.diff(x, axis=-1)).mean(axis=1)  # N x H x (W - 1)
    bg = (labels[:, :, 1:] == 0) & (labels[:, :, :-1] == 0)
    return d[bg].mean()


def test_texture_range_and_default_stream():
    kw = dict(n=4, size=64, seed=5, progress=False)
    default = fashion_mnist_scenes("test", **kw)
    # the default (1, 1) draws nothing extra: the scenes of fcn8s-scenes are unchanged
    full = fashion_mnist_scenes("test", texture=(1.0, 1.0), **kw)
    np.testing.assert_array_equal(full.images, default.images)
    flat = fashion_mnist_scenes("test", texture=(0.0, 0.0), **kw)
    half = fashion_mnist_scenes("test", texture=(0.5, 0.5), **kw)
    # background roughness grows with the strength (none: only the smooth colour field)
    r0, r5, r1 = (_roughness(s.images, s.labels) for s in (flat, half, full))
    assert r0 < 0.3 * r1 and r0 < r5 < r1
    # the 224-pixel preset gives items of at least 64 pixels
    from genmetrics_nb.datasets.scenes import SCENES_224

    assert SCENES_224["size"] * SCENES_224["scale"][0] >= 64
