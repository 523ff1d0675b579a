"""Support-based fidelity and diversity metrics on features: TopP&R, P-precision/P-recall, alpha-precision/beta-recall/authenticity."""
