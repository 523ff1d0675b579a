"""Streaming feature extraction, feature cache, statistics and multi-process sharding.

``gm.extract_features`` returns :class:`~genmetrics_nb.features.engine.Features`;
``gm.FeatureStats`` accumulates float64 mean/covariance; ``feature_stats``
streams a source straight into statistics. torch is imported on first use.
"""
from genmetrics_nb.features.engine import Features, extract_features, feature_stats
from genmetrics_nb.features.stats import FeatureStats

__all__ = ["FeatureStats", "Features", "extract_features", "feature_stats"]
