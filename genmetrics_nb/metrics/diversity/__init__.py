"""Diversity metrics on features: the Vendi score, PRD curves, the sliced Wasserstein distance."""
