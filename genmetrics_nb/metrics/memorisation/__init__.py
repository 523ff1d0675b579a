"""Memorisation and generalisation metrics on features: AuthPct, the C_T data-copying test, FLD."""
