"""Floating-point formats and multiply-add units (exact and approximate normalization)."""
