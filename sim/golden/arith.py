"""Integer arithmetic shared by every golden model; mirrors ``neurogate.hw.arith``.

All functions take and return NumPy integer arrays (int64, or object arrays of Python
ints when a width exceeds what int64 holds exactly).
"""

from __future__ import annotations

import numpy as np

from ...compiler.ir import Rounding


def as_exact(values, bits_needed: int) -> np.ndarray:
    """int64 when ``bits_needed`` fits in it, otherwise Python integers."""
    array = np.asarray(values)
    return array.astype(np.int64) if bits_needed <= 62 else array.astype(object)


def wrap(values, width: int) -> np.ndarray:
    """Two's-complement wrap to ``width`` bits (what a ``width``-bit register keeps)."""
    values = np.asarray(values)
    if values.dtype == object or width > 62:
        mask, half = (1 << width) - 1, 1 << (width - 1)
        return np.vectorize(lambda v: ((int(v) + half) & mask) - half, otypes=[object])(values)
    half = np.int64(1) << (width - 1)
    return ((values + half) & ((np.int64(1) << width) - 1)) - half


def round_shift(values, shift: int, rounding: Rounding) -> np.ndarray:
    """Arithmetic shift right by ``shift`` with the given rounding (no overflow: exact ints)."""
    values = np.asarray(values)
    if shift == 0:
        return values
    if rounding is Rounding.HALF_UP:
        values = values + (1 << (shift - 1))
    return values >> shift


def saturate(values, lo: int, hi: int) -> np.ndarray:
    return np.minimum(np.maximum(np.asarray(values), lo), hi)


def dense(x, weights, bias, acc_width: int) -> np.ndarray:
    """``wrap(x @ weights.T + bias)``, exact. ``x`` is (batch, in)."""
    x, weights = np.asarray(x), np.asarray(weights)
    bits = _bits(x) + _bits(weights) + int(np.ceil(np.log2(max(weights.shape[1], 1) + 1))) + 1
    bits = max(bits, _bits(bias) + 1, acc_width)
    x, weights = as_exact(x, bits), as_exact(weights, bits)
    return wrap(x @ weights.T + as_exact(bias, bits), acc_width)


def _bits(values) -> int:
    values = np.asarray(values)
    if values.size == 0:
        return 1
    return max(abs(int(values.min())), abs(int(values.max()))).bit_length() + 1
