"""Segmentation metrics: the streaming confusion matrix and its scores, and the FCN-score."""
