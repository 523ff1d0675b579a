"""The object every registered feature extractor returns.

An :class:`Extractor` wraps a network in evaluation mode together with the
exact preprocessing it needs. It is called on ``uint8`` images
(``N x 3 x H x W`` or ``N x 1 x H x W``; grayscale is repeated to RGB) and
returns a dict of named ``float32`` outputs. Everything that changes its
numbers is declared in :attr:`Extractor.spec`, which goes into every cache key
and every result's metadata.
"""
from __future__ import annotations

import contextlib
import json
from typing import Callable, Mapping, Sequence

import numpy as np

from genmetrics_nb.util.checks import check_uint8_images

__all__ = ["Extractor", "PRECISIONS", "precision_context"]

#: Numeric modes accepted by ``precision=``.
PRECISIONS = ("fp32", "bf16", "fp16")


def check_precision(precision, device):
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision={precision!r} is not supported; use 'fp32' (reference, default), "
            "'bf16' or 'fp16' (fast modes for GPUs)"
        )
    if precision == "fp16" and device.type == "cpu":
        raise ValueError(
            "precision='fp16' needs a GPU; on the CPU use precision='fp32' (reference) or 'bf16'"
        )


@contextlib.contextmanager
def precision_context(precision: str, device):
    """Numeric mode for one forward pass.

    ``fp32`` disables TF32 on CUDA (so results do not depend on the GPU
    generation) and restores the previous flags afterwards; ``bf16`` and
    ``fp16`` run under :func:`torch.autocast`.
    """
    import torch

    check_precision(precision, device)
    if precision == "fp32":
        saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
        return
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


class Extractor:
    """A pretrained network plus its preprocessing, called on ``uint8`` images.

    Parameters
    ----------
    name : str
        Registry name (``"efficientnet-lite0"``).
    module : torch.nn.Module
        The network, already on ``device`` and in eval mode.
    preprocess : callable
        ``preprocess(x_float32) -> x`` turning ``float32`` images with values
        0..255 (``N x 3 x H x W`` on the device) into the network input.
    forward : callable
        ``forward(module, x, names) -> dict[str, Tensor]`` returning at least
        the outputs in ``names`` (it may stop the network early otherwise).
    outputs : mapping of str to int
        Output name -> feature dimension, in a stable order.
    spec : mapping
        JSON-serialisable description of everything that changes the numbers:
        input size, resize, normalisation, weights file, implementation version.
    weights_digest : str
        sha256 of the weights file the network was loaded from.
    device : torch.device

    Attributes
    ----------
    name, outputs, spec, weights_digest, device, module
        As given; ``outputs`` is a tuple of names and :attr:`dims` maps them to
        their dimensions.
    """

    def __init__(
        self,
        name: str,
        module,
        *,
        preprocess: Callable,
        forward: Callable,
        outputs: Mapping[str, int],
        spec: Mapping,
        weights_digest: str,
        device,
    ):
        self.name = name
        self.module = module
        self._preprocess = preprocess
        self._forward = forward
        self.dims = dict(outputs)
        self.outputs = tuple(self.dims)
        spec = dict(spec)
        spec.setdefault("extractor", name)
        spec.setdefault("outputs", dict(self.dims))
        # Round-trip through JSON so the spec is guaranteed serialisable.
        self.spec = json.loads(json.dumps(spec, sort_keys=True))
        self.weights_digest = weights_digest
        self.device = device

    def __repr__(self):
        outs = ", ".join(f"{k}: {v}" for k, v in self.dims.items())
        return (
            f"Extractor({self.name!r}, outputs={{{outs}}}, device={self.device}, "
            f"weights={self.weights_digest[:12]})"
        )

    # ------------------------------------------------------------------
    def check_outputs(self, outputs) -> tuple[str, ...]:
        """Validate an ``outputs=`` selection (None means all)."""
        if outputs is None:
            return self.outputs
        if isinstance(outputs, str):
            outputs = (outputs,)
        if not isinstance(outputs, (list, tuple)) or not all(isinstance(o, str) for o in outputs):
            raise TypeError(
                f"outputs must be an output name or a list of names, got {outputs!r}; "
                f"choose from {list(self.outputs)}"
            )
        outputs = tuple(outputs)
        unknown = [o for o in outputs if o not in self.dims]
        if unknown or not outputs:
            raise ValueError(
                f"outputs={list(outputs)!r} is not valid for extractor {self.name!r}; "
                f"choose from {list(self.outputs)}"
            )
        return outputs

    def to_input(self, x):
        """Validate ``uint8`` images and move them to the device as ``float32`` 0..255 RGB."""
        import torch

        x = check_uint8_images(x, name="images", channels=(1, 3), keep_torch=True)
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(np.ascontiguousarray(x))
        x = x.to(self.device, non_blocking=True)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return x.float()

    def preprocess(self, x):
        """``uint8`` images -> the exact tensor the network sees."""
        return self._preprocess(self.to_input(x))

    def __call__(self, x, *, outputs=None, precision: str = "fp32"):
        """Run the extractor on ``uint8`` images.

        Parameters
        ----------
        x : torch.Tensor or numpy.ndarray
            ``uint8`` ``N x 3 x H x W`` (or ``N x 1 x H x W``), any spatial size;
            resizing is part of the extractor.
        outputs : str or sequence of str, optional
            Names to return (default: all of :attr:`outputs`).
        precision : {"fp32", "bf16", "fp16"}
            ``fp32`` is the reference; the others are opt-in fast modes.

        Returns
        -------
        dict of str to torch.Tensor
            ``float32`` ``N x D`` tensors on the extractor's device.
        """
        import torch

        names = self.check_outputs(outputs)
        with torch.inference_mode(), precision_context(precision, self.device):
            xin = self._preprocess(self.to_input(x))
            out = self._forward(self.module, xin, names)
        return {k: out[k].float() for k in names}


def batched(n: int, batch_size: int) -> Sequence[slice]:
    """``[slice(0, b), slice(b, 2b), ...]`` covering ``range(n)``."""
    return [slice(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
