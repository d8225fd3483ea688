"""Integer-only non-linear units for transformers (softmax, GELU, sigmoid/SiLU, norms)."""
