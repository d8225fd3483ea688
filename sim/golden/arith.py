"""Integer arithmetic shared by every golden model; mirrors ``neurogate.hw.arith``.

All functions take and return NumPy integer arrays: int64 when every intermediate value
fits in it, otherwise object arrays of Python integers (exact at any width).  Callers
never need to think about int64 overflow: each function widens by itself.

Rounding of ``v / 2**s`` (``round_shift``) and of ``n / d`` (``round_div``), exactly as
``numerics.Rounding`` names them:

* ``FLOOR``: the largest integer ``<= v / 2**s`` (an arithmetic right shift);
* ``CEIL``: the smallest integer ``>= v / 2**s``;
* ``TRUNC``: towards zero (``FLOOR`` for ``v >= 0``, ``CEIL`` below), numpy's ``fix``;
* ``AWAY``: away from zero (``CEIL`` for ``v >= 0``, ``FLOOR`` below);
* ``HALF_UP``: nearest, a tie goes up, ``floor(v / 2**s + 1/2)``;
* ``HALF_EVEN``: nearest, a tie goes to the even neighbour;
* ``HALF_AWAY``: nearest, a tie goes away from zero (``-2.5 -> -3``, ``2.5 -> 3``);
* ``HALF_ZERO``: nearest, a tie goes towards zero (``-2.5 -> -2``, ``2.5 -> 2``).
"""

from __future__ import annotations

import numpy as np

from ...numerics.rounding import Overflow, Rounding

INT64_SAFE_BITS = 62


def bits(values) -> int:
    """Signed bits holding every value of ``values`` (at least 1)."""
    values = np.asarray(values)
    if values.size == 0:
        return 1
    return max(abs(int(values.min())), abs(int(values.max()))).bit_length() + 1


def as_exact(values, bits_needed: int) -> np.ndarray:
    """int64 when ``bits_needed`` fits in it, otherwise Python integers."""
    array = np.asarray(values)
    return array.astype(np.int64) if bits_needed <= INT64_SAFE_BITS else array.astype(object)


def widen(values, extra_bits: int) -> np.ndarray:
    """``values`` in a dtype that holds them times ``2**extra_bits`` exactly."""
    values = np.asarray(values)
    if values.dtype == object:
        return values
    return as_exact(values, bits(values) + extra_bits)


def wrap(values, width: int, signed: bool = True) -> np.ndarray:
    """Keep the low ``width`` bits (what a ``width``-bit register keeps), read back as a
    two's-complement number (``signed``) or an unsigned one."""
    values = np.asarray(values)
    offset = 1 << (width - 1) if signed else 0
    if values.dtype == object or width > INT64_SAFE_BITS or bits(values) > INT64_SAFE_BITS:
        mask = (1 << width) - 1
        return np.vectorize(lambda v: ((int(v) + offset) & mask) - offset,
                            otypes=[object])(values)
    mask = (np.int64(1) << width) - 1
    return ((values + offset) & mask) - offset


def round_shift(values, shift: int, rounding: Rounding) -> np.ndarray:
    """``values / 2**shift`` rounded to an integer with ``rounding`` (module docstring).

    ``shift >= 0``; ``shift == 0`` returns the values unchanged.  No overflow: the result
    is exact for any input.
    """
    values = np.asarray(values)
    if shift == 0:
        return values
    if shift < 0:
        raise ValueError(f"shift must be at least 0, not {shift}")
    values = widen(values, 2)
    half = 1 << (shift - 1)
    negative = values < 0
    if rounding is Rounding.FLOOR:
        return values >> shift
    if rounding is Rounding.CEIL:
        return -((-values) >> shift)
    if rounding is Rounding.TRUNC:
        return np.where(negative, -((-values) >> shift), values >> shift)
    if rounding is Rounding.AWAY:
        return np.where(negative, values >> shift, -((-values) >> shift))
    if rounding is Rounding.HALF_UP:
        return (values + half) >> shift
    if rounding in (Rounding.HALF_AWAY, Rounding.HALF_ZERO):
        # round the magnitude half up (away) or half down (zero), then restore the sign
        bias = half if rounding is Rounding.HALF_AWAY else half - 1
        magnitude = (np.abs(values) + bias) >> shift
        return np.where(negative, -magnitude, magnitude)
    if rounding is Rounding.HALF_EVEN:
        floor = values >> shift
        rest = values - (floor << shift)          # in [0, 2**shift)
        up = (rest > half) | ((rest == half) & ((floor & 1) == 1))
        return floor + up.astype(np.int64)
    raise ValueError(f"rounding must be a Rounding, not {rounding!r}")


def round_div(num, den, rounding: Rounding) -> np.ndarray:
    """``num / den`` rounded to an integer with ``rounding``; ``den > 0`` (broadcast).

    Exact rational rounding: with ``q = floor(num / den)`` and ``r = num - q * den`` in
    ``[0, den)``, a tie is ``2 * r == den``.  For a power-of-two ``den`` this equals
    ``round_shift`` by ``log2(den)``.
    """
    num, den = np.asarray(num), np.asarray(den)
    if den.size and int(den.min()) < 1:
        raise ValueError("the divisor must be positive")
    width = max(bits(num), bits(den)) + 2
    num, den = as_exact(num, width), as_exact(den, width)
    floor = num // den
    twice_rest = 2 * (num - floor * den)
    exact, negative = twice_rest == 0, num < 0
    tie, above_half = twice_rest == den, twice_rest > den
    if rounding is Rounding.FLOOR:
        up = np.zeros(np.shape(floor), dtype=bool)
    elif rounding is Rounding.CEIL:
        up = ~exact
    elif rounding is Rounding.TRUNC:
        up = ~exact & negative
    elif rounding is Rounding.AWAY:
        up = ~exact & ~negative
    elif rounding is Rounding.HALF_UP:
        up = above_half | tie
    elif rounding is Rounding.HALF_EVEN:
        up = above_half | (tie & ((floor & 1) == 1))
    elif rounding is Rounding.HALF_AWAY:
        up = above_half | (tie & ~negative)
    elif rounding is Rounding.HALF_ZERO:
        up = above_half | (tie & negative)
    else:
        raise ValueError(f"rounding must be a Rounding, not {rounding!r}")
    return floor + np.asarray(up).astype(np.int64)


def saturate(values, lo: int, hi: int) -> np.ndarray:
    return np.minimum(np.maximum(np.asarray(values), lo), hi)


def overflow(values, fmt, mode: Overflow) -> np.ndarray:
    """Fit ``values`` into the integer format ``fmt``: clamp to ``[fmt.min, fmt.max]``
    (``SATURATE``) or keep the low ``fmt.width`` bits (``WRAP``, two's complement for a
    signed format, modulo ``2**width`` for an unsigned one).  Returns int64."""
    if mode is Overflow.SATURATE:
        out = saturate(values, fmt.min, fmt.max)
    elif mode is Overflow.WRAP:
        out = wrap(values, fmt.width, fmt.signed)
    else:
        raise ValueError(f"overflow must be an Overflow, not {mode!r}")
    return to_int64(out, fmt)


def to_int64(values, fmt=None) -> np.ndarray:
    """int64 copy of values known to fit (those of a format up to 64 bits do)."""
    values = np.asarray(values)
    if values.dtype == object:
        return np.array(values.tolist(), dtype=np.int64).reshape(values.shape)
    return values.astype(np.int64)


def product_bits(a, b, terms: int) -> int:
    """Signed bits of a sum of ``terms`` products of elements of ``a`` and ``b``."""
    return bits(a) + bits(b) + int(terms).bit_length() + 1


def dense(x, weights, bias, acc_width: int) -> np.ndarray:
    """``wrap(x @ weights.T + bias)``, exact. ``x`` is (..., in), ``weights`` (out, in)."""
    x, weights = np.asarray(x), np.asarray(weights)
    width = max(product_bits(x, weights, weights.shape[1]), bits(bias)) + 1
    x, weights = as_exact(x, width), as_exact(weights, width)
    return wrap(x @ weights.T + as_exact(bias, width), acc_width)
