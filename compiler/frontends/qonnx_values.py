"""What the QONNX front-end knows about each tensor: integers, scales, layouts, exactness.

A run-time ONNX tensor becomes an IR value of integers ``q`` with ``onnx_value == q *
scale`` exactly (``Value``); a constant tensor (an initializer, or a ``Quant`` of one)
becomes a ``Constant``.  Scales are exact rationals (``fractions.Fraction``): every float32
is a dyadic rational, so products and quotients of scales are computed without error and a
scale change is *exact* when its ratio is ``m / 2**k`` with a small integer ``m``.

Float32 is what QONNX computes in (``execute_onnx``: NumPy for ``Quant``, onnxruntime for
the standard ops).  Its result equals the exact rational result whenever that result is a
float32; ``float32_exact`` checks it from an integer bound and a scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ...numerics.formats import IntFormat, signed_width_for
from ...numerics.rounding import Rounding

FLOAT32_MANTISSA_BITS = 24
MULTIPLIER_BITS = 31          # the IR's requantize multiplier is a signed 32-bit integer

# QONNX rounding_mode (qonnx.custom_op.general.intquant.resolve_rounding_mode) -> neurogate
QONNX_ROUNDING = {
    "ROUND": "HALF_EVEN",      # np.round: nearest, ties to even
    "HALF_EVEN": "HALF_EVEN",
    "FLOOR": "FLOOR",          # np.floor
    "CEIL": "CEIL",            # np.ceil
    "DOWN": "TRUNC",           # np.fix: towards zero
    "UP": "AWAY",              # sign(x) * ceil(|x|): away from zero
    "HALF_UP": "HALF_AWAY",    # sign(x) * floor(|x| + 0.5): ties away from zero
    "HALF_DOWN": "HALF_ZERO",  # sign(x) * ceil(|x| - 0.5): ties towards zero
}
# Modes whose NumPy formula adds 0.5 in float32 (inexact once |x| needs 24 bits or more).
HALF_OFFSET_MODES = ("HALF_UP", "HALF_DOWN")


def rounding_for(mode: str) -> Rounding | str:
    """The neurogate ``Rounding`` of a QONNX ``rounding_mode``, or a reason string."""
    key = mode.upper()
    member = QONNX_ROUNDING.get(key)
    if member is None:
        known = ", ".join(sorted(QONNX_ROUNDING))
        return f"rounding_mode {mode!r} is not one QONNX executes ({known})"
    rounding = getattr(Rounding, member, None)
    if rounding is None:
        return f"rounding_mode {mode!r} needs Rounding.{member}, which this neurogate lacks"
    return rounding


# --- scales -------------------------------------------------------------------------------


def fractions(values) -> np.ndarray:
    """An object array of exact ``Fraction``s of float values (same shape)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty(values.shape, dtype=object)
    for index, v in np.ndenumerate(values):
        out[index] = Fraction(float(v))
    return out


def as_scale(values) -> np.ndarray:
    """A 0-d (per-tensor) or 1-d (per-channel) object array of ``Fraction``s; a vector of
    equal values collapses to 0-d."""
    scale = values if isinstance(values, np.ndarray) and values.dtype == object \
        else fractions(values)
    scale = scale.reshape(-1) if scale.ndim else scale
    if scale.ndim and all(s == scale[0] for s in scale):
        scale = np.array(scale[0], dtype=object)
    return scale


def power_of_two(value: Fraction) -> int | None:
    """``e`` with ``value == 2**e``, else None."""
    if value <= 0:
        return None
    num, den = value.numerator, value.denominator
    if num & (num - 1) == 0 and den & (den - 1) == 0:
        return num.bit_length() - den.bit_length()
    return None


def frac_of(scale: np.ndarray) -> int:
    """The IR ``frac`` of a value with this scale: ``-e`` for a per-tensor ``2**e``, else 0
    (the IR format cannot say more; the front-end tracks the rest)."""
    if scale.ndim == 0:
        e = power_of_two(scale[()])
        if e is not None:
            return -e
    return 0


def odd_part(value: Fraction) -> int:
    """The odd integer ``p`` of a dyadic ``value == p * 2**e``; 0 for a non-dyadic one."""
    if value.denominator & (value.denominator - 1):
        return 0
    num = abs(value.numerator)
    return num // (num & -num) if num else 1


def float32_exact(bound: int, scale: np.ndarray) -> bool:
    """Whether every ``q * s`` with ``|q| <= bound`` and ``s`` in ``scale`` is a float32
    (so QONNX's float arithmetic producing it is exact)."""
    for s in np.asarray(scale).reshape(-1):
        p = odd_part(s)
        if p == 0 or bound * p >= 1 << FLOAT32_MANTISSA_BITS:
            return False
    return True


def dyadic(ratio: Fraction) -> tuple[int, int] | None:
    """``(m, k)`` with ``ratio == m / 2**k``, ``k >= 0`` and ``|m| < 2**30``, else None."""
    den = ratio.denominator
    if den & (den - 1):
        return None
    m, k = ratio.numerator, den.bit_length() - 1
    if abs(m) >= 1 << (MULTIPLIER_BITS - 1):
        return None
    return m, k


def int_format(lo: int, hi: int, frac: int) -> IntFormat:
    """The narrowest format holding ``[lo, hi]``: unsigned when ``lo >= 0``."""
    if lo >= 0:
        return IntFormat(max(int(hi).bit_length(), 1), signed=False, frac=frac)
    return IntFormat(max(signed_width_for(int(lo), int(hi)), 2), signed=True, frac=frac)


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A run-time tensor: IR value ``ir`` of integers in ``[lo, hi]`` with ``onnx == q *
    scale`` (``scale`` per tensor, or per channel of ONNX axis 1).

    Layout: IR axis ``i`` is ONNX axis ``perm[i] + 1`` (the batch axis is never part of an
    IR shape).  ``flat_of = (shape, perm)`` marks a flattened vector whose elements are in
    the order of the ONNX tensor of non-batch ``shape`` transposed by ``perm`` (a Flatten of
    a channels-last image), so a following Gemm permutes its weights instead of the data.
    """

    ir: str
    lo: int
    hi: int
    scale: np.ndarray
    perm: tuple[int, ...]
    flat_of: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    @property
    def bound(self) -> int:
        return max(abs(self.lo), abs(self.hi))

    @property
    def per_channel(self) -> bool:
        return self.scale.ndim == 1

    @property
    def plain(self) -> bool:
        return self.flat_of is None and self.perm == tuple(range(len(self.perm)))

    def ir_order(self) -> np.ndarray:
        """For a rank-1 value: the ONNX feature index held at each IR position."""
        if self.flat_of is None:
            return np.arange(0)
        shape, perm = self.flat_of
        return np.arange(int(np.prod(shape))).reshape(shape).transpose(perm).reshape(-1)

    def channel_scale(self, channels: int) -> np.ndarray:
        """The scale as one ``Fraction`` per channel (ONNX axis 1), ``channels`` of them."""
        if self.scale.ndim == 0:
            return np.array([self.scale[()]] * channels, dtype=object)
        return self.scale


@dataclass(frozen=True)
class Constant:
    """A constant tensor: ``real`` holds the exact values QONNX computes with (float64 of
    float32).  From a ``Quant``/``BipolarQuant`` it also has the integers and the scale
    (broadcastable to ``real``) with ``real == ints * scale`` when the scale is dyadic
    enough, and ``kind``: ``"int"`` with ``bits``/``signed``, ``"binary"`` or ``"ternary"``."""

    real: np.ndarray
    ints: np.ndarray | None = None
    scale: np.ndarray | None = None
    kind: str = "float"
    bits: int = 0
