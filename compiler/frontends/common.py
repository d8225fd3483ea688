"""What every front-end shares: the layer error, and scales as shifts or multipliers."""

from __future__ import annotations

import math

import numpy as np

from ...numerics.errors import NeurogateError


class FrontendError(NeurogateError):
    """A layer the front-end cannot reproduce exactly; the message names it."""


def layer_error(layer: str, kind: str, reason: str) -> FrontendError:
    """``layer 'fc1' (QDense): reason`` -- the one-line form every refusal takes."""
    return FrontendError(f"layer {layer!r} ({kind}): {reason}")


def power_of_two_exponent(scale) -> int | None:
    """``e`` with ``scale == 2**e`` exactly (a positive float or int), else None."""
    scale = float(scale)
    if not math.isfinite(scale) or scale <= 0:
        return None
    mantissa, exponent = math.frexp(scale)
    return exponent - 1 if mantissa == 0.5 else None


def power_of_two_exponents(scales) -> np.ndarray | None:
    """Per-element ``power_of_two_exponent``, or None if any scale is not one."""
    exponents = [power_of_two_exponent(s) for s in np.asarray(scales, dtype=np.float64).flat]
    if any(e is None for e in exponents):
        return None
    return np.array(exponents, dtype=np.int64).reshape(np.shape(scales))


def exact_binary_grid(values) -> tuple[np.ndarray, int] | None:
    """``(integers, frac)`` with ``values == integers * 2**-frac`` exactly and ``frac`` the
    smallest such (0 for all-zero input); None if a value is not finite.

    Every float is a dyadic rational, so this always succeeds for finite values; the
    caller judges whether the integers are narrow enough to be a quantized tensor.
    """
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return None
    nonzero = values[values != 0]
    if nonzero.size == 0:
        return np.zeros(values.shape, dtype=np.int64), 0
    mantissa, exponent = np.frexp(np.abs(nonzero))
    significand = np.ldexp(mantissa, 53).astype(np.int64)       # exact: 53 bits
    lowest_bit = (significand & -significand).astype(np.float64)
    trailing = np.log2(lowest_bit).astype(np.int64)               # exact for powers of two
    frac = int(np.max(53 - exponent.astype(np.int64) - trailing))
    scaled = np.ldexp(values, frac)
    if np.max(np.abs(scaled)) >= 2.0 ** 62:
        ints = np.array([int(v) for v in scaled.flat], dtype=object).reshape(values.shape)
    else:
        ints = scaled.astype(np.int64)
    return ints, frac


def multiplier_and_shift(scales, *, bits: int = 31) -> tuple[np.ndarray, int]:
    """Integers ``M`` (one per scale, each at most ``bits`` bits with the sign) and one
    ``shift`` with ``M / 2**shift`` nearest to each scale: ``M = round_half_even(scale *
    2**shift)``, ``shift`` the largest that keeps every ``|M| < 2**(bits-1)``.

    Exact when every scale is a power of two times an integer of fewer than ``bits``
    bits; otherwise the relative error of each scale is below ``2**-(bits-2)`` (stated by
    the caller, which measures what it does to the outputs).
    """
    scales = np.asarray(scales, dtype=np.float64)
    if not np.all(np.isfinite(scales)):
        raise ValueError("scales must be finite")
    peak = float(np.max(np.abs(scales))) if scales.size else 0.0
    if peak == 0.0:
        return np.zeros(scales.shape, dtype=np.int64), 0
    limit = 2.0 ** (bits - 1)
    shift = bits - 2 - math.frexp(peak)[1]
    while np.max(np.abs(np.rint(np.ldexp(scales, shift + 1)))) < limit:
        shift += 1
    while np.max(np.abs(np.rint(np.ldexp(scales, shift)))) >= limit:
        shift -= 1
    return np.rint(np.ldexp(scales, shift)).astype(np.int64), shift
