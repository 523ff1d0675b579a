"""A tiny deterministic extractor for testing the extraction engine in milliseconds.

Engine mechanics (batching, cache, chunks, locks, resume) do not depend on
the network, so tests of them need not pay for a real one. ``tiny_extractor``
is a seeded 3 -> 8 channel convolution, ReLU and 4 x 4 average pool on a
32 x 32 resize: two outputs, ``feat`` (128) and ``mean`` (3, the mean pixel
of each channel); with ``logits=True`` also ``logits`` (10, a seeded linear map
of ``feat``, signed like a classifier's logits). Nothing is registered at import; call
:func:`register_tiny_extractor` in the test (and in any subprocess it starts)::

    from genmetrics_nb.testing.extractors import register_tiny_extractor
    register_tiny_extractor("test-tiny")
    gm.extract_features(x, "test-tiny", device="cpu", progress=False)
"""
from __future__ import annotations

__all__ = ["register_tiny_extractor", "tiny_extractor"]


def tiny_extractor(*, device, weights=None, name: str = "test-tiny", logits: bool = False):
    """Build the tiny extractor (an :class:`~genmetrics_nb.extractors.base.Extractor`)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from genmetrics_nb.extractors.base import Extractor

    g = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(3, 8, 3, stride=2)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * 0.2)
        conv.bias.zero_()
    model = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten()).eval().to(device)
    head = (torch.randn(128, 10, generator=g) * 2.0).to(device)
    outputs = {"feat": 128, "mean": 3, **({"logits": 10} if logits else {})}

    def pre(x):
        return F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False, antialias=True) / 255

    def fwd(m, x, names):
        feat = m(x)
        out = {"feat": feat, "mean": x.mean((2, 3))}
        if logits:
            out["logits"] = (feat - feat.mean(1, keepdim=True)) @ head
        return out

    return Extractor(name, model, preprocess=pre, forward=fwd, outputs=outputs,
                     spec={"version": 1}, weights_digest="0" * 64, device=device)


def register_tiny_extractor(name: str = "test-tiny", *, logits: bool = False):
    """Register :func:`tiny_extractor` under ``name`` (replacing an earlier registration)."""
    from genmetrics_nb.extractors.registry import register_extractor

    def factory(*, device, weights=None):
        return tiny_extractor(device=device, weights=weights, name=name, logits=logits)

    outputs = ("feat", "mean", "logits") if logits else ("feat", "mean")
    return register_extractor(name, factory, outputs=outputs,
                              description=f"tiny seeded test extractor (feat 128, mean 3{', logits 10' if logits else ''})",
                              overwrite=True)
