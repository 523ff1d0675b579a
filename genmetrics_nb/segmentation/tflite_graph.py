"""Run a TensorFlow Lite model's graph with PyTorch operators.

Some pretrained networks are published only as ``.tflite`` files inside a
package (MediaPipe's selfie segmenter ships in the ``mediapipe`` wheel). This
module reads such a file with the ``tflite`` package (the flatbuffer schema's
Python bindings) and executes its operators one by one with ``torch``
functions, so the network runs on CPU or GPU like every other model here and
no TFLite runtime is needed. Only float graphs and the operators listed in
:data:`SUPPORTED_OPS` are supported; any other operator raises a
``NotImplementedError`` naming it when the file is read, never a wrong number.

Layout: TFLite tensors are NHWC; here every 4-d activation is NCHW. Filters
are permuted once at load time (``CONV_2D`` OHWI -> OIHW, ``DEPTHWISE_CONV_2D``
1HW(C*M) -> (C*M)1HW, MediaPipe's transposed convolution OHWI -> IOHW) and
4-d constant operands of ``ADD``/``MUL`` NHWC -> NCHW.

Exactness (why each operator is written the way it is):

* ``SAME`` padding is TensorFlow's: ``pad = max((out - 1) * stride +
  (k - 1) * dilation + 1 - in, 0)`` split with the smaller half first, applied
  with :func:`torch.nn.functional.pad` (PyTorch's own ``padding="same"`` does
  not allow strides).
* ``RESIZE_BILINEAR`` with ``half_pixel_centers`` and without
  ``align_corners`` is :func:`torch.nn.functional.interpolate` with
  ``align_corners=False`` (no antialiasing); the legacy asymmetric mode is
  refused.
* ``DEQUANTIZE`` of float16 constants (weights stored at half precision) is
  folded at load time into float32, as TFLite's CPU kernels do.
* ``Convolution2DTransposeBias`` is MediaPipe's custom operator (mediapipe/util/
  tflite/operations/transpose_conv_bias.cc): a transposed convolution plus
  bias whose custom options are a ``TfLiteTransposeConvParams`` struct
  (int32 padding, stride_width, stride_height; padding 1 = same, 2 = valid).

References
----------
.. [1] TensorFlow Lite flatbuffer schema, tensorflow/lite/schema/schema.fbs.
.. [2] TensorFlow Lite reference kernels, tensorflow/lite/kernels/internal/reference/.
.. [3] MediaPipe, mediapipe/util/tflite/operations/transpose_conv_bias.cc.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["TFLiteGraph", "SUPPORTED_OPS"]

#: Builtin operators this executor runs (plus the custom ``Convolution2DTransposeBias``).
SUPPORTED_OPS = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "ADD", "MUL", "LOGISTIC", "RELU", "RELU6",
    "HARD_SWISH", "RESIZE_BILINEAR", "DEQUANTIZE",
)  # fmt: skip
_CUSTOM_OPS = ("Convolution2DTransposeBias",)
# tflite.TensorType codes -> NumPy dtypes (the float graphs this module runs need no others)
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 4: np.int64}
# tflite.ActivationFunctionType: NONE, RELU, RELU6
_FUSED = {0: None, 1: "relu", 3: "relu6"}


def _same_pad(size: int, k: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) of one spatial dimension."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _options(op, cls):
    import tflite

    table = op.BuiltinOptions()
    opts = getattr(tflite, cls)()
    opts.Init(table.Bytes, table.Pos)
    return opts


class TFLiteGraph:
    """The first subgraph of a ``.tflite`` file, executed with ``torch``.

    Parameters
    ----------
    data : bytes
        Contents of the ``.tflite`` file.
    device : str or torch.device

    Attributes
    ----------
    input_shape, output_shapes : tuple
        NHWC shapes as the file declares them.
    op_counts : dict
        Operators of the graph by name, for reports.

    Raises
    ------
    NotImplementedError
        When the graph uses an operator, option or tensor type not supported here.

    Examples
    --------
    >>> graph = TFLiteGraph(Path("model.tflite").read_bytes())  # doctest: +SKIP
    >>> (mask,) = graph(x)  # x: N x 3 x 256 x 256 float32, NCHW  # doctest: +SKIP
    """

    def __init__(self, data: bytes, *, device="cpu"):
        import tflite
        import torch

        model = tflite.Model.GetRootAsModel(bytearray(data), 0)
        if model.SubgraphsLength() != 1:
            raise NotImplementedError(f"only single-subgraph models are supported, got {model.SubgraphsLength()}")
        g = model.Subgraphs(0)
        names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
        codes = []
        for i in range(model.OperatorCodesLength()):
            oc = model.OperatorCodes(i)
            code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())  # schema v3a keeps small codes in both
            codes.append(oc.CustomCode().decode() if names.get(code) == "CUSTOM" else names.get(code, str(code)))
        self._consts: dict[int, np.ndarray] = {}
        for t in range(g.TensorsLength()):
            tensor = g.Tensors(t)
            raw = model.Buffers(tensor.Buffer()).DataAsNumpy()
            if isinstance(raw, np.ndarray) and raw.size:
                if tensor.Type() not in _DTYPES:
                    raise NotImplementedError(f"tensor {tensor.Name()!r} has unsupported TFLite type {tensor.Type()}")
                shape = tuple(int(s) for s in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
                self._consts[t] = np.frombuffer(raw.tobytes(), dtype=_DTYPES[tensor.Type()]).reshape(shape)
        self._steps = []
        self.op_counts: dict[str, int] = {}
        for i in range(g.OperatorsLength()):
            op = g.Operators(i)
            name = codes[op.OpcodeIndex()]
            if name not in SUPPORTED_OPS and name not in _CUSTOM_OPS:
                raise NotImplementedError(f"TFLite operator {name} is not supported (supported: "
                                          f"{', '.join(SUPPORTED_OPS + _CUSTOM_OPS)})")  # fmt: skip
            self.op_counts[name] = self.op_counts.get(name, 0) + 1
            ins = [int(t) for t in op.InputsAsNumpy()]
            outs = [int(t) for t in op.OutputsAsNumpy()]
            if name == "DEQUANTIZE" and ins[0] in self._consts:
                self._consts[outs[0]] = self._consts[ins[0]].astype(np.float32)
                continue
            self._steps.append((name, ins, outs, self._parse(name, op, ins)))
        self.input_index = int(g.InputsAsNumpy()[0])
        self.output_indices = [int(t) for t in g.OutputsAsNumpy()]
        self.input_shape = tuple(int(s) for s in g.Tensors(self.input_index).ShapeAsNumpy())
        self.output_shapes = [tuple(int(s) for s in g.Tensors(t).ShapeAsNumpy()) for t in self.output_indices]
        self.device = torch.device(device)
        self.dtype = torch.float32
        self._tensors = {t: self._to_torch(t, a) for t, a in self._consts.items()}

    # -- loading ---------------------------------------------------------------------------------
    def _parse(self, name, op, ins) -> dict:
        if name == "CONV_2D":
            o = _options(op, "Conv2DOptions")
            return {"padding": o.Padding(), "stride": (o.StrideH(), o.StrideW()),
                    "dilation": (o.DilationHFactor(), o.DilationWFactor()), "act": self._act(o, name)}  # fmt: skip
        if name == "DEPTHWISE_CONV_2D":
            o = _options(op, "DepthwiseConv2DOptions")
            return {"padding": o.Padding(), "stride": (o.StrideH(), o.StrideW()),
                    "dilation": (o.DilationHFactor(), o.DilationWFactor()), "act": self._act(o, name)}  # fmt: skip
        if name == "AVERAGE_POOL_2D":
            o = _options(op, "Pool2DOptions")
            if o.Padding() != 1:  # SAME pooling averages over the valid pixels only; not needed so far
                raise NotImplementedError("AVERAGE_POOL_2D with SAME padding is not supported")
            return {"kernel": (o.FilterHeight(), o.FilterWidth()), "stride": (o.StrideH(), o.StrideW()),
                    "act": self._act(o, name)}  # fmt: skip
        if name in ("ADD", "MUL"):
            return {"act": self._act(_options(op, "AddOptions" if name == "ADD" else "MulOptions"), name)}
        if name == "RESIZE_BILINEAR":
            o = _options(op, "ResizeBilinearOptions")
            if o.AlignCorners() or not o.HalfPixelCenters():
                raise NotImplementedError("RESIZE_BILINEAR is supported with half_pixel_centers=True and "
                                          "align_corners=False only")  # fmt: skip
            return {"size": tuple(int(v) for v in self._consts[ins[1]])}
        if name == "Convolution2DTransposeBias":
            padding, stride_w, stride_h = np.frombuffer(op.CustomOptionsAsNumpy().tobytes(), dtype="<i4")[:3]
            return {"same": int(padding) == 1, "stride": (int(stride_h), int(stride_w))}
        return {}

    @staticmethod
    def _act(opts, name):
        code = opts.FusedActivationFunction()
        if code not in _FUSED:
            raise NotImplementedError(f"{name} with fused activation {code} is not supported (NONE, RELU, RELU6)")
        return _FUSED[code]

    def _to_torch(self, t, a):
        """A constant in the layout its consumer expects (see the module notes)."""
        import torch

        for name, ins, _, _ in self._steps:
            if t in ins[1:2] and name == "CONV_2D":
                a = a.transpose(0, 3, 1, 2)  # OHWI -> OIHW
            elif t in ins[1:2] and name == "DEPTHWISE_CONV_2D":
                a = a.transpose(3, 0, 1, 2)  # 1 H W (C*M) -> (C*M) 1 H W
            elif t in ins[1:2] and name == "Convolution2DTransposeBias":
                a = a.transpose(3, 0, 1, 2)  # O H W I -> I O H W
            elif name in ("ADD", "MUL") and t in ins and a.ndim == 4:
                a = a.transpose(0, 3, 1, 2)  # NHWC -> NCHW
            else:
                continue
            break
        return torch.from_numpy(np.array(a, order="C", copy=True)).to(self.device)  # the buffer is read-only

    def to(self, device=None, dtype=None) -> "TFLiteGraph":
        """Move the constants to ``device`` and/or cast the float ones to ``dtype``.

        ``dtype=torch.float64`` runs the graph in double precision, the yardstick for
        what float32 noise is (``tests/segmentation/test_selfie_segmenter.py``).
        """
        import torch

        self.device = torch.device(device) if device is not None else self.device
        self.dtype = dtype if dtype is not None else self.dtype
        self._tensors = {
            t: v.to(self.device, self.dtype) if v.is_floating_point() else v.to(self.device)
            for t, v in self._tensors.items()
        }
        return self

    # -- running ---------------------------------------------------------------------------------
    def __call__(self, x):
        """Run the graph on an NCHW batch (cast to :attr:`dtype`); returns the outputs (NCHW) as a list."""
        import torch
        import torch.nn.functional as F

        if not torch.is_tensor(x) or x.dim() != 4:
            raise TypeError(f"x must be a 4-d NCHW torch tensor, got {type(x).__name__}")
        _, h, w, c = self.input_shape
        if tuple(x.shape[1:]) != (c, h, w):
            raise ValueError(f"x must be N x {c} x {h} x {w} (the graph's input, NCHW), got {tuple(x.shape)}")
        env = dict(self._tensors)
        env[self.input_index] = x.to(self.device, self.dtype)
        for name, ins, outs, p in self._steps:
            a = [env[t] if t >= 0 else None for t in ins]
            if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                xi, weight = a[0], a[1]
                if p["padding"] == 0:  # SAME
                    (t0, t1), (l0, l1) = (
                        _same_pad(xi.shape[2 + d], weight.shape[2 + d], p["stride"][d], p["dilation"][d])
                        for d in (0, 1)
                    )
                    xi = F.pad(xi, (l0, l1, t0, t1))
                groups = xi.shape[1] if name == "DEPTHWISE_CONV_2D" else 1
                y = F.conv2d(xi, weight, a[2] if len(a) > 2 else None, stride=p["stride"], dilation=p["dilation"],
                             groups=groups)  # fmt: skip
            elif name == "AVERAGE_POOL_2D":
                y = F.avg_pool2d(a[0], p["kernel"], stride=p["stride"])
            elif name == "ADD":
                y = a[0] + a[1]
            elif name == "MUL":
                y = a[0] * a[1]
            elif name == "LOGISTIC":
                y = torch.sigmoid(a[0])
            elif name == "RELU":
                y = F.relu(a[0])
            elif name == "RELU6":
                y = F.relu6(a[0])
            elif name == "HARD_SWISH":
                y = F.hardswish(a[0])
            elif name == "RESIZE_BILINEAR":
                y = F.interpolate(a[0], size=p["size"], mode="bilinear", align_corners=False)
            elif name == "DEQUANTIZE":
                y = a[0].float()
            else:  # Convolution2DTransposeBias
                weight = a[1]
                y = F.conv_transpose2d(a[0], weight, a[2], stride=p["stride"])
                if p["same"]:  # crop the full output to in * stride, smaller half first (TF's SAME)
                    for d in (0, 1):
                        want = a[0].shape[2 + d] * p["stride"][d]
                        start = (y.shape[2 + d] - want) // 2
                        y = y.narrow(2 + d, start, want)
            act = p.get("act")
            if act == "relu":
                y = F.relu(y)
            elif act == "relu6":
                y = F.relu6(y)
            env[outs[0]] = y
        return [env[t] for t in self.output_indices]
