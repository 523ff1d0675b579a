"""Metrics of a generator itself: perceptual path length and linear separability."""
