"""Attribute classifiers on generated images: the labeller of linear separability.

StyleGAN's linear separability labels generated images with pretrained
attribute classifiers (40 CelebA attributes in the paper). An
:class:`AttributeClassifier` wraps any image -> logits network with the value
range, channels and resolution it expects, so a generator's images reach it
in the right form.
"""
from __future__ import annotations

__all__ = ["AttributeClassifier"]


class AttributeClassifier:
    """A classifier of binary attributes on images.

    Parameters
    ----------
    module : callable
        ``module(images)`` -> logits, images float ``N x C x H x W`` in ``value_range``.
    attributes : list of str
        Attribute names, one per logit column.
    kind : {"multiclass", "binary"}
        ``"multiclass"``: the logits are one softmax over classes and attribute
        k is "class k" against the rest. ``"binary"``: one logit per
        attribute, probability ``softmax([l, -l])`` as in StyleGAN's code
        (i.e. ``sigmoid(2 l)``).
    value_range : tuple
        Range the module expects, e.g. ``(-1, 1)``.
    channels : int, optional
        Channels the module expects; one-channel images are repeated to 3 or
        three-channel images averaged to 1 when this differs.
    resolution : int, optional
        Side the module expects; images are resized (area / bilinear) to it.
    name : str, optional
    device : str
    """

    def __init__(self, module, *, attributes, kind="multiclass", value_range=(-1.0, 1.0), channels=None,
                 resolution=None, name=None, device="auto"):
        import torch

        from genmetrics_nb.device import resolve
        from genmetrics_nb.generators.protocol import check_value_range

        if not callable(module):
            raise TypeError(f"module must be callable (images -> logits), got {type(module).__name__}")
        if kind not in ("multiclass", "binary"):
            raise ValueError(f"kind must be 'multiclass' (softmax over classes) or 'binary' (one logit each), got {kind!r}")
        attributes = list(attributes)
        if not attributes or not all(isinstance(a, str) for a in attributes):
            raise ValueError("attributes must be a non-empty list of names, one per logit")
        self.device = resolve(device)
        self.module = module.to(self.device).eval() if isinstance(module, torch.nn.Module) else module
        self.attributes = attributes
        self.kind = kind
        self.value_range = check_value_range(value_range)
        self.channels = channels
        self.resolution = resolution
        self.name = name or type(module).__name__

    def __repr__(self):
        return f"AttributeClassifier(name={self.name!r}, kind={self.kind!r}, {len(self.attributes)} attributes)"

    def prepare(self, images, value_range):
        """Map float images from ``value_range`` to what the module expects."""
        import torch.nn.functional as F

        lo, hi = value_range
        clo, chi = self.value_range
        x = (images.float() - lo) * ((chi - clo) / (hi - lo)) + clo
        if self.channels is not None and x.shape[1] != self.channels:
            x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x.mean(dim=1, keepdim=True)
        if self.resolution is not None and x.shape[-1] != self.resolution:
            mode = "area" if x.shape[-1] > self.resolution else "bilinear"
            kw = {} if mode == "area" else {"align_corners": False}
            x = F.interpolate(x, size=(self.resolution, self.resolution), mode=mode, **kw)
        return x.to(self.device)

    def logits(self, images, value_range):
        """Logits for float images in ``value_range`` (``N x A`` or ``N x K``)."""
        import torch

        with torch.no_grad():
            out = self.module(self.prepare(images, value_range))
        if out.ndim != 2 or out.shape[1] != len(self.attributes):
            raise ValueError(
                f"classifier returned shape {tuple(out.shape)}; expected N x {len(self.attributes)} "
                "(one logit per attribute name)"
            )
        return out.float()
