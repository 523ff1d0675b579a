"""Keras' ImageNet InceptionV3 without its top, average-pooled, in PyTorch.

The network of ``keras.applications.InceptionV3(weights="imagenet",
include_top=False, pooling="avg")``: the 2048-d global average of the last
Inception block, on Keras' own ImageNet weights (the release file
``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``, read with
h5py). It is the network of the source document's class-pair FID, so a
Frechet distance on it is ``FD_keras-inception-v3``: *not* the FID of
papers, which uses the TF FID Inception (``inception-v3-fid``) with other
weights, another input size and another resize.

Preprocessing, as the document did it: images as floats in [0, 1]
(``uint8 / 255``), ``cv2.resize(img, (224, 224))`` with OpenCV's default
``INTER_LINEAR`` on the float image, then Keras'
``inception_v3.preprocess_input`` on the 0..255 scale (``x / 127.5 - 1``),
which is ``2 x - 1`` on [0, 1]. The resize is reimplemented in torch
(:func:`cv2_linear_resize`) so that it runs batched on the extractor's
device; the tests compare it with ``cv2.resize`` itself.

Details that change the number, all as in Keras:

* every convolution is Keras' ``conv2d_bn``: ``Conv2D(use_bias=False)``,
  ``BatchNormalization(scale=False)`` (a shift ``beta`` but *no* gamma) with
  ``epsilon=1e-3``, then ReLU;
* padding ``"valid"`` or ``"same"`` per layer as in Keras' code; every
  stride-2 convolution and pool is ``"valid"`` and every ``"same"`` one has
  stride 1 and an odd kernel, so ``"same"`` is the symmetric ``k // 2`` of
  PyTorch (TensorFlow's asymmetric ``"same"`` never arises);
* the 3 x 3 average pools inside the blocks are ``"same"`` with stride 1 and,
  as TensorFlow's ``AveragePooling2D``, divide by the number of *real*
  pixels under the window (``count_include_pad=False``); the max pools are
  3 x 3, stride 2, ``"valid"``;
* branches are concatenated in Keras' order, including the inner
  ``[1 x 3, 3 x 1]`` pairs of ``mixed9``/``mixed10``;
* at 224 x 224 the last block is 5 x 5; ``pool`` is its mean.

Weights file
------------
Keras' legacy HDF5 weights (Keras 2 ``save_weights``): the root attribute
``layer_names`` lists every layer, each has a group whose attribute
``weight_names`` lists its datasets (``conv2d_1/kernel:0``, or
``batch_normalization_1/beta:0``, ``.../moving_mean:0``,
``.../moving_variance:0``; weightless layers list none). Keras assigns them
*by position*: the k-th layer with weights in the file goes to the k-th
layer with weights in ``model.layers``, which Keras orders by depth from
the output (deepest first) and, at equal depth, by a depth-first walk from
the output that takes a concatenation's inputs in order. This module does
the same (:data:`KERAS_LAYER_ORDER`, checked against Keras in the tests)
and checks every kind and shape; the names in the file are not used.
Kernels are ``(rows, cols, in, out)`` and become PyTorch's
``(out, in, rows, cols)``.

References
----------
.. [1] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna, "Rethinking
   the Inception Architecture for Computer Vision", CVPR 2016.
.. [2] Keras, ``keras/src/applications/inception_v3.py`` (``InceptionV3``,
   ``conv2d_bn``, ``WEIGHTS_PATH_NO_TOP``, ``file_hash``) and
   ``keras/src/legacy/saving/legacy_h5_format.py``
   (``load_weights_from_hdf5_group``): https://github.com/keras-team/keras
.. [3] OpenCV, ``modules/imgproc/src/resize.cpp`` (``cv::resize``,
   ``INTER_LINEAR``): https://github.com/opencv/opencv
"""
from __future__ import annotations

__all__ = [
    "KERAS_INPUT_SIZE",
    "KERAS_LAYER_ORDER",
    "WEIGHTS_NAME",
    "build_extractor",
    "build_keras_inception",
    "cv2_linear_resize",
    "keras_inception_preprocess",
    "load_keras_h5",
    "load_keras_inception",
    "save_keras_h5",
]

KERAS_INPUT_SIZE = 224
WEIGHTS_NAME = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop"
N_CONV = 94
BN_EPSILON = 1e-3  # keras.layers.BatchNormalization's default, used by conv2d_bn


# ----------------------------------------------------------------------------
# resize and preprocessing
# ----------------------------------------------------------------------------
def _linear_taps(n_in: int, n_out: int):
    """Source pixels and weights of ``cv2.resize(..., INTER_LINEAR)`` along one axis.

    OpenCV maps output pixel ``d`` to ``(d + 0.5) * in / out - 0.5`` (half-pixel
    centres), takes the two neighbours with weights ``1 - f`` and ``f``, and
    repeats the edge pixel outside the image. No antialiasing when shrinking.
    The coordinate and its fraction are computed in double precision and the
    weights rounded to float32, which is what the ``float32`` path of the
    opencv-python wheels (Intel IPP) computes; OpenCV's own, non-IPP code
    first rounds the coordinate to float32 and so differs by up to about
    ``1e-7 * in`` per weight.
    """
    import numpy as np

    scale = 1.0 / (n_out / n_in)  # OpenCV: scale_x = 1. / inv_scale_x
    f = (np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5
    lo = np.floor(f)
    frac = f - lo
    lo = lo.astype(np.int64)
    frac[lo < 0] = 0.0
    lo[lo < 0] = 0
    last = lo >= n_in - 1
    frac[last] = 0.0
    lo[last] = n_in - 1
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (1.0 - frac).astype(np.float32), frac.astype(np.float32)


def cv2_linear_resize(x, size):
    """``cv2.resize(img, (w, h))`` with the default ``INTER_LINEAR``, on float images, in torch.

    Parameters
    ----------
    x : torch.Tensor
        Float ``N x C x H x W``.
    size : (int, int)
        Output ``(height, width)`` (note: ``cv2.resize`` takes ``(width, height)``).

    Returns
    -------
    torch.Tensor
        ``N x C x size[0] x size[1]``, the dtype of ``x``.

    Notes
    -----
    Separable bilinear interpolation with half-pixel centres and edge
    replication, rows after columns as OpenCV does (:func:`_linear_taps` gives
    the taps). Unlike ``torch.nn.functional.interpolate(mode="bilinear",
    antialias=True)`` or PIL, it does not low-pass when shrinking; unlike
    TensorFlow 1.x's ``resize_bilinear`` it uses half-pixel centres. Agrees
    with ``cv2.resize`` on ``float32`` images to float32 rounding.
    """
    import torch

    if not isinstance(x, torch.Tensor) or not torch.is_floating_point(x) or x.ndim != 4:
        raise ValueError("cv2_linear_resize needs a float N x C x H x W tensor")
    oh, ow = int(size[0]), int(size[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"size must be two positive integers (height, width), got {size!r}")
    ih, iw = x.shape[-2:]
    if (ih, iw) == (oh, ow):
        return x  # every weight is 0 or 1: the identity

    def taps(n_in, n_out):
        lo, hi, w0, w1 = _linear_taps(n_in, n_out)
        as_t = lambda a: torch.from_numpy(a).to(x.device)  # noqa: E731
        return as_t(lo), as_t(hi), as_t(w0).to(x.dtype), as_t(w1).to(x.dtype)

    x0, x1, a0, a1 = taps(iw, ow)
    y0, y1, b0, b1 = taps(ih, oh)
    rows = x.index_select(3, x0) * a0 + x.index_select(3, x1) * a1
    return rows.index_select(2, y0) * b0.view(-1, 1) + rows.index_select(2, y1) * b1.view(-1, 1)


def keras_inception_preprocess(x, *, size: int = KERAS_INPUT_SIZE):
    """Float 0..255 (or ``uint8``) ``N x 3 x H x W`` -> the network's input.

    ``x / 255`` (the document's float images in [0, 1]), :func:`cv2_linear_resize`
    to ``size x size``, then ``2 x - 1`` (Keras ``preprocess_input`` in
    ``"tf"`` mode, ``x / 127.5 - 1``, on the 0..255 scale).
    """
    import torch

    x = x.float() if x.dtype == torch.uint8 else x
    x = cv2_linear_resize(x / 255.0, (size, size))
    return x * 2.0 - 1.0


# ----------------------------------------------------------------------------
# the network
# ----------------------------------------------------------------------------
def _inception_v3_body(x, conv_bn, max_pool, avg_pool, concat):
    """Keras' ``InceptionV3`` body, one ``conv_bn`` call per Keras ``conv2d_bn`` call, in its order.

    ``conv_bn(x, filters, rows, cols, strides=1, padding="same")`` has
    Keras' signature; ``max_pool`` is 3 x 3 stride 2 ``"valid"``,
    ``avg_pool`` 3 x 3 stride 1 ``"same"`` excluding the padding. Run once on
    channel counts to build the layers and then on tensors.
    """
    x = conv_bn(x, 32, 3, 3, strides=2, padding="valid")
    x = conv_bn(x, 32, 3, 3, padding="valid")
    x = conv_bn(x, 64, 3, 3)
    x = max_pool(x)
    x = conv_bn(x, 80, 1, 1, padding="valid")
    x = conv_bn(x, 192, 3, 3, padding="valid")
    x = max_pool(x)
    for pool_filters in (32, 64, 64):  # mixed0, mixed1, mixed2
        b1 = conv_bn(x, 64, 1, 1)
        b5 = conv_bn(conv_bn(x, 48, 1, 1), 64, 5, 5)
        b3 = conv_bn(conv_bn(conv_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
        bp = conv_bn(avg_pool(x), pool_filters, 1, 1)
        x = concat([b1, b5, b3, bp])
    # mixed3
    b3 = conv_bn(x, 384, 3, 3, strides=2, padding="valid")
    bd = conv_bn(conv_bn(conv_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, strides=2, padding="valid")
    x = concat([b3, bd, max_pool(x)])
    for c in (128, 160, 160, 192):  # mixed4 .. mixed7
        b1 = conv_bn(x, 192, 1, 1)
        b7 = conv_bn(conv_bn(conv_bn(x, c, 1, 1), c, 1, 7), 192, 7, 1)
        bd = conv_bn(conv_bn(conv_bn(x, c, 1, 1), c, 7, 1), c, 1, 7)
        bd = conv_bn(conv_bn(bd, c, 7, 1), 192, 1, 7)
        bp = conv_bn(avg_pool(x), 192, 1, 1)
        x = concat([b1, b7, bd, bp])
    # mixed8
    b3 = conv_bn(conv_bn(x, 192, 1, 1), 320, 3, 3, strides=2, padding="valid")
    b7 = conv_bn(conv_bn(conv_bn(x, 192, 1, 1), 192, 1, 7), 192, 7, 1)
    b7 = conv_bn(b7, 192, 3, 3, strides=2, padding="valid")
    x = concat([b3, b7, max_pool(x)])
    for _ in range(2):  # mixed9, mixed10
        b1 = conv_bn(x, 320, 1, 1)
        t = conv_bn(x, 384, 1, 1)
        b3 = concat([conv_bn(t, 384, 1, 3), conv_bn(t, 384, 3, 1)])
        t = conv_bn(conv_bn(x, 448, 1, 1), 384, 3, 3)
        bd = concat([conv_bn(t, 384, 1, 3), conv_bn(t, 384, 3, 1)])
        bp = conv_bn(avg_pool(x), 192, 1, 1)
        x = concat([b1, b3, bd, bp])
    return x


def _block_order(spec: str, base: int):
    return [(k[0], base + int(k[1:])) for k in spec.split()]


def _keras_layer_order():
    # Per block: "c<i>" / "b<i>" is the Conv2D / BatchNormalization of the block's
    # i-th conv2d_bn call, listed in Keras' model.layers order (depth first, then
    # the depth-first walk; see the module docstring).
    stem = "c0 b0 c1 b1 c2 b2 c3 b3 c4 b4"
    a = "c3 b3 c1 c4 b1 b4 c0 c2 c5 c6 b0 b2 b5 b6"  # mixed0-2, 7 convs
    b = "c1 b1 c2 b2 c0 c3 b0 b3"  # mixed3, 4 convs
    c = "c4 b4 c5 b5 c1 c6 b1 b6 c2 c7 b2 b7 c0 c3 c8 c9 b0 b3 b8 b9"  # mixed4-7, 10 convs
    d = "c2 b2 c3 b3 c0 c4 b0 b4 c1 c5 b1 b5"  # mixed8, 6 convs
    e = "c4 b4 c1 c5 b1 b5 c2 c3 c6 c7 c0 b2 b3 b6 b7 c8 b0 b8"  # mixed9-10, 9 convs
    order, base = _block_order(stem, 0), 5
    for spec in (a, a, a, b, c, c, c, c, d, e, e):
        block = _block_order(spec, base)
        order += block
        base += len(block) // 2
    return tuple(order)


#: The layers with weights in Keras' ``model.layers`` order, i.e. the order in
#: which Keras' HDF5 loader assigns a weights file's layers: ``("c", i)`` is the
#: convolution and ``("b", i)`` the batch norm of the i-th ``conv2d_bn`` call.
KERAS_LAYER_ORDER = _keras_layer_order()


def build_keras_inception():
    """Keras' InceptionV3 (no top, average pool) with uninitialised weights, in eval mode.

    Returns a module whose ``convs`` is a ``ModuleList`` of the 94
    ``conv2d_bn`` units in Keras' call order, each with ``conv`` (no bias),
    ``bn`` (``BatchNorm2d(affine=False, eps=1e-3)``: the moving mean and
    variance) and ``beta``. ``forward(x)`` maps the preprocessed
    ``N x 3 x H x W`` input (H, W >= 75) to the ``N x 2048`` pool.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    class ConvBN(nn.Module):
        """Keras ``conv2d_bn``: Conv2D(use_bias=False), BatchNormalization(scale=False), ReLU."""

        def __init__(self, cin, cout, rows, cols, stride, padding):
            super().__init__()
            if padding not in ("same", "valid"):
                raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
            if padding == "same" and (stride != 1 or rows % 2 == 0 or cols % 2 == 0):
                raise ValueError("only stride-1, odd-kernel 'same' convolutions are symmetric")
            pad = (rows // 2, cols // 2) if padding == "same" else (0, 0)
            self.conv = nn.Conv2d(cin, cout, (rows, cols), stride=stride, padding=pad, bias=False)
            self.bn = nn.BatchNorm2d(cout, eps=BN_EPSILON, affine=False)
            self.beta = nn.Parameter(torch.zeros(cout))

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)) + self.beta.view(1, -1, 1, 1))

    def avg_pool(x):
        return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)

    def max_pool(x):
        return F.max_pool2d(x, 3, stride=2)

    class KerasInceptionV3(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList()

            def add(cin, filters, rows, cols, strides=1, padding="same"):
                self.convs.append(ConvBN(cin, filters, rows, cols, strides, padding))
                return filters

            out = _inception_v3_body(3, add, lambda c: c, lambda c: c, sum)
            if out != 2048 or len(self.convs) != N_CONV:
                raise AssertionError("InceptionV3 body built the wrong network")

        def forward(self, x):
            units = iter(self.convs)

            def conv_bn(t, *args, **kwargs):
                return next(units)(t)

            x = _inception_v3_body(x, conv_bn, max_pool, avg_pool, lambda parts: torch.cat(parts, 1))
            return x.mean(dim=(2, 3))

    return KerasInceptionV3().eval().requires_grad_(False)


# ----------------------------------------------------------------------------
# Keras HDF5 weights
# ----------------------------------------------------------------------------
def _attr_list(obj, name: str) -> list:
    """A string-list attribute, also when Keras split it into ``name0, name1, ...``."""
    if name in obj.attrs:
        values = list(obj.attrs[name])
    else:
        values, k = [], 0
        while f"{name}{k}" in obj.attrs:
            values += list(obj.attrs[f"{name}{k}"])
            k += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _suffix(weight_name: str) -> str:
    """``"conv2d_1/kernel:0"`` -> ``"kernel"``."""
    return weight_name.rsplit("/", 1)[-1].split(":", 1)[0]


_KINDS = {"c": ("kernel",), "b": ("beta", "moving_mean", "moving_variance")}
_KIND_NAMES = {"c": "Conv2D (kernel)", "b": "BatchNormalization(scale=False) (beta, moving_mean, moving_variance)"}


def load_keras_h5(model, path):
    """Copy Keras InceptionV3 weights from a legacy HDF5 file into ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        From :func:`build_keras_inception`.
    path : str or path-like
        Keras 2 ``save_weights`` HDF5 of ``InceptionV3(include_top=False)``,
        e.g. ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``. A
        whole-model file (weights under ``model_weights``) is read too.

    Returns
    -------
    torch.nn.Module
        ``model``, loaded.

    Raises
    ------
    ValueError
        The file is not HDF5, or its layers do not have the kinds, count or
        shapes of InceptionV3 without top (the message names the layer).
    """
    import h5py
    import numpy as np
    import torch

    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(
            f"weights file {str(path)!r} is not a Keras HDF5 weights file ({exc}); pass "
            f"{WEIGHTS_NAME}.h5 (keras.applications.InceptionV3(include_top=False) weights)"
        ) from None
    with fh:
        root = fh
        if "layer_names" not in root.attrs and "layer_names0" not in root.attrs and "model_weights" in root:
            root = root["model_weights"]
        layers = []
        for name in _attr_list(root, "layer_names"):
            group = root[name]
            weight_names = _attr_list(group, "weight_names")
            if weight_names:
                layers.append((name, {_suffix(w): np.asarray(group[w]) for w in weight_names}))
        if len(layers) != len(KERAS_LAYER_ORDER):
            raise ValueError(
                f"weights file {str(path)!r} has {len(layers)} layers with weights, InceptionV3 without "
                f"top has {len(KERAS_LAYER_ORDER)} ({N_CONV} Conv2D + {N_CONV} BatchNormalization); "
                "pass the _notop.h5 file of keras.applications.InceptionV3"
            )
        with torch.no_grad():
            for k, ((kind, i), (name, weights)) in enumerate(zip(KERAS_LAYER_ORDER, layers)):
                unit = model.convs[i]
                if tuple(sorted(weights)) != tuple(sorted(_KINDS[kind])):
                    raise ValueError(
                        f"layer #{k} {name!r} of {str(path)!r} holds {sorted(weights)}; Keras' InceptionV3 "
                        f"has a {_KIND_NAMES[kind]} there"
                    )
                if kind == "c":
                    kernel = torch.from_numpy(weights["kernel"]).permute(3, 2, 0, 1)
                    targets = [(unit.conv.weight, kernel, "kernel")]
                else:
                    targets = [(unit.beta, weights["beta"], "beta"),
                               (unit.bn.running_mean, weights["moving_mean"], "moving_mean"),
                               (unit.bn.running_var, weights["moving_variance"], "moving_variance")]
                for dest, value, what in targets:
                    value = torch.as_tensor(value, dtype=torch.float32)
                    if tuple(value.shape) != tuple(dest.shape):
                        raise ValueError(
                            f"layer #{k} {name!r} of {str(path)!r}: {what} has shape "
                            f"{tuple(np.shape(weights[what]))}, Keras' InceptionV3 expects "
                            f"{tuple(dest.shape) if kind == 'b' else tuple(dest.permute(2, 3, 1, 0).shape)}"
                        )
                    dest.copy_(value)
    return model


def save_keras_h5(model, file) -> None:
    """Write ``model``'s weights in Keras' legacy HDF5 layout (what :func:`load_keras_h5` and Keras read).

    Layers ``conv2d_<i+1>`` and ``batch_normalization_<i+1>`` (Keras 2 names)
    in :data:`KERAS_LAYER_ORDER`, each group with ``weight_names`` and its
    ``<layer>/<weight>:0`` datasets; only layers with weights are listed.
    Used to build format-exact stand-ins with random weights for tests.

    Parameters
    ----------
    model : torch.nn.Module
        From :func:`build_keras_inception`.
    file : str, path-like or binary file object
        Where to write (a file object receives the bytes of the HDF5 file).
    """
    import io
    import os

    import h5py
    import numpy as np

    def layer_name(kind, i):
        return f"conv2d_{i + 1}" if kind == "c" else f"batch_normalization_{i + 1}"

    buf = io.BytesIO()
    with h5py.File(buf, "w") as fh:
        names = [layer_name(kind, i) for kind, i in KERAS_LAYER_ORDER]
        fh.attrs["layer_names"] = np.array([n.encode("utf8") for n in names])
        fh.attrs["backend"] = b"tensorflow"
        fh.attrs["keras_version"] = b"2"
        for (kind, i), name in zip(KERAS_LAYER_ORDER, names):
            unit = model.convs[i]
            if kind == "c":
                values = {"kernel": unit.conv.weight.detach().permute(2, 3, 1, 0)}
            else:
                values = {"beta": unit.beta.detach(), "moving_mean": unit.bn.running_mean,
                          "moving_variance": unit.bn.running_var}
            group = fh.create_group(name)
            weight_names = [f"{name}/{w}:0" for w in _KINDS[kind]]
            group.attrs["weight_names"] = np.array([w.encode("utf8") for w in weight_names])
            for w, full in zip(_KINDS[kind], weight_names):
                data = np.ascontiguousarray(values[w].cpu().numpy().astype(np.float32))
                group.create_dataset(full, data=data, track_times=False)
    data = buf.getvalue()
    if hasattr(file, "write"):
        file.write(data)
    else:
        with open(os.fspath(file), "wb") as out:
            out.write(data)


def load_keras_inception(*, weights=None, device="cpu"):
    """The network with Keras' ImageNet weights (or ``weights``), in eval mode.

    Parameters
    ----------
    weights : path-like, optional
        A Keras HDF5 weights file; default: resolved by the weight manager
        (``gm.weights.path("inception_v3_weights_tf_dim_ordering_tf_kernels_notop")``:
        cache, then download unless ``GENMETRICS_OFFLINE=1``; checked against
        the md5 Keras records for it).
    device : str or torch.device

    Returns
    -------
    (torch.nn.Module, str)
        The network and the path it was loaded from.
    """
    from genmetrics_nb.device import resolve
    from genmetrics_nb.weights import manager

    path = manager.path(WEIGHTS_NAME) if weights is None else weights
    model = load_keras_h5(build_keras_inception(), path)
    return model.to(resolve(device)), str(path)


def _forward(module, x, names):
    return {"pool": module(x)}


def build_extractor(*, device, weights=None):
    """Factory registered as ``"keras-inception-v3"``: output ``pool`` (2048)."""
    from genmetrics_nb.extractors.base import Extractor
    from genmetrics_nb.weights.manager import sha256_file

    model, path = load_keras_inception(weights=weights, device=device)
    spec = {
        "architecture": "Keras applications InceptionV3(include_top=False, pooling='avg'): conv2d_bn = "
                        "Conv2D(use_bias=False) + BatchNormalization(scale=False, epsilon=1e-3) + ReLU; "
                        "'same' average pools exclude padding",
        "input_size": [KERAS_INPUT_SIZE, KERAS_INPUT_SIZE],
        "resize": "cv2.resize INTER_LINEAR (half-pixel centres, no antialias) on float32 images in [0, 1]",
        "normalize": "2 x - 1 on [0, 1] (keras inception_v3.preprocess_input, x / 127.5 - 1 on 0..255)",
        "channels": "RGB; grayscale repeated",
        "layer": "global average pool of mixed10 (2048)",
        "weights": WEIGHTS_NAME if weights is None else "user file",
        "version": 1,
    }
    return Extractor(
        "keras-inception-v3",
        model,
        preprocess=keras_inception_preprocess,
        forward=_forward,
        outputs={"pool": 2048},
        spec=spec,
        weights_digest=sha256_file(path),
        device=model.convs[0].conv.weight.device,
    )
