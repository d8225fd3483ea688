"""Golden models of the elementwise ops (Requantize, ReLU, Clip, Add, Mul, SignBinarize)
and of the data-movement ops (Concat, Reshape and Flatten, Transpose, Slice).

Values are the integers of their format (``real = integer * 2**-frac``); ``x`` is
``(batch, *shape)``.  Elementwise: every intermediate is exact (Python integers where
int64 could overflow); rounding happens once, at the end, with the op's ``Rounding``
(``arith`` states the four modes), then the op's ``Overflow`` fits the result into the
output format (saturate: clamp to ``[min, max]``; wrap: keep the low ``width`` bits).
Data movement: ``axis`` and ``perm`` count the axes *after* the batch axis (axis 0 is
the first axis of the IR shape); the integers are moved, never changed (no rounding, no
saturation, the input's format).
"""

from __future__ import annotations

import numpy as np

from ...numerics.formats import IntFormat
from ...numerics.rounding import Overflow, Rounding
from .arith import bits, overflow, round_shift, widen


def rescale(values, from_frac: int, to_frac: int, rounding: Rounding) -> np.ndarray:
    """``values * 2**(to_frac - from_frac)`` as an integer: an exact left shift when
    ``to_frac >= from_frac``, else ``round_shift`` by ``from_frac - to_frac``."""
    values = np.asarray(values)
    if to_frac >= from_frac:
        return widen(values, to_frac - from_frac) << (to_frac - from_frac)
    return round_shift(values, from_frac - to_frac, rounding)


def requantize(x, *, shift: int, rounding: Rounding, overflow_mode: Overflow,
               out_fmt: IntFormat, multiplier=None) -> np.ndarray:
    """``y = overflow(round((x * m) / 2**shift))``.

    ``m`` is ``multiplier`` (an integer, or one integer per channel of the last axis,
    broadcast along it) or 1 when ``None``.  The product is exact; the division by
    ``2**shift`` rounds with ``rounding`` (``arith.round_shift``); ``overflow_mode``
    saturates to ``[out.min, out.max]`` or wraps to ``out.width`` bits.
    """
    x = np.asarray(x)
    if multiplier is not None:
        multiplier = np.asarray(multiplier)
        x = widen(x, bits(multiplier)) * widen(multiplier, bits(x))
    return overflow(round_shift(x, shift, rounding), out_fmt, overflow_mode)


def relu(x) -> np.ndarray:
    """``max(x, 0)``; exact, same format."""
    return np.maximum(np.asarray(x, dtype=np.int64), 0)


def clip(x, *, lo: int, hi: int) -> np.ndarray:
    """``min(max(x, lo), hi)`` with ``lo``, ``hi`` integers of the input's format; exact."""
    return np.minimum(np.maximum(np.asarray(x, dtype=np.int64), lo), hi)


def add(a, b, *, a_fmt, b_fmt, out_fmt: IntFormat, rounding: Rounding,
        overflow_mode: Overflow) -> np.ndarray:
    """Elementwise ``a + b`` of two values with their own scales.

    Both are aligned to ``F = max(a.frac, b.frac)`` by exact left shifts (``a *
    2**(F - a.frac)``), added exactly, brought to ``out.frac`` (a rounding right shift by
    ``F - out.frac`` with ``rounding``, or an exact left shift when ``out.frac > F``),
    then fitted to the output format with ``overflow_mode``.
    """
    frac = max(a_fmt.frac, b_fmt.frac)
    total = rescale(a, a_fmt.frac, frac, Rounding.FLOOR)
    other = rescale(b, b_fmt.frac, frac, Rounding.FLOOR)
    total = widen(total, 1) + widen(other, 1)
    return overflow(rescale(total, frac, out_fmt.frac, rounding), out_fmt, overflow_mode)


def mul(a, b, *, a_fmt, b_fmt, out_fmt: IntFormat, rounding: Rounding,
        overflow_mode: Overflow) -> np.ndarray:
    """Elementwise ``a * b``: the exact product (scale ``a.frac + b.frac``) brought to
    ``out.frac`` (rounding right shift with ``rounding``, or exact left shift), then
    fitted to the output format with ``overflow_mode``."""
    a, b = np.asarray(a), np.asarray(b)
    product = widen(a, bits(b)) * widen(b, bits(a))
    return overflow(rescale(product, a_fmt.frac + b_fmt.frac, out_fmt.frac, rounding),
                    out_fmt, overflow_mode)


def sign_binarize(x) -> np.ndarray:
    """Sign binarization: ``+1`` where ``x >= 0`` (zero included), ``-1`` where ``x < 0``.
    The output is in ``BinaryFormat`` (the integers -1 and +1)."""
    return np.where(np.asarray(x) >= 0, 1, -1).astype(np.int64)


# --- data movement ---------------------------------------------------------------------------


def concat(values, *, axis: int) -> np.ndarray:
    """Join ``values`` (same format, same shape but along ``axis``) along ``axis``, in order."""
    return np.concatenate([np.asarray(v, dtype=np.int64) for v in values], axis=axis + 1)


def reshape(x, *, shape) -> np.ndarray:
    """Same elements, row-major (C) order, new shape ``shape`` (same size); Flatten is
    ``shape = (size,)``."""
    x = np.asarray(x, dtype=np.int64)
    return x.reshape((x.shape[0],) + tuple(shape))


def transpose(x, *, perm) -> np.ndarray:
    """Output axis ``i`` is input axis ``perm[i]``."""
    x = np.asarray(x, dtype=np.int64)
    return np.ascontiguousarray(x.transpose((0,) + tuple(p + 1 for p in perm)))


def slice_axis(x, *, axis: int, start: int, stop: int) -> np.ndarray:
    """Elements ``start ... stop - 1`` along ``axis`` (one piece of a Split)."""
    x = np.asarray(x, dtype=np.int64)
    index = [slice(None)] * x.ndim
    index[axis + 1] = slice(start, stop)
    return np.ascontiguousarray(x[tuple(index)])
