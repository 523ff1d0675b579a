"""Pretrained feature extractors behind one validating registry.

``gm.get_extractor(name)`` returns an :class:`~genmetrics_nb.extractors.base.Extractor`
called on ``uint8`` ``N x 3 x H x W`` images; ``gm.list_extractors()`` lists
the names. Nothing is imported or loaded until an extractor is requested.
"""
from genmetrics_nb.extractors.registry import (
    clear_cache,
    get_extractor,
    list_extractors,
    register_extractor,
)

__all__ = ["clear_cache", "get_extractor", "list_extractors", "register_extractor"]
