"""Diversity and memorisation metrics on features: Vendi score, PRD curves, sliced Wasserstein, rarity score."""
