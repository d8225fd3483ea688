"""The integer arithmetic every PE and post-processing unit is built from.

Mirrored exactly by ``neurogate.sim.golden.arith``; each method states the identity
with its golden twin.  Binary, ternary and float variants will sit beside
``IntegerArithmetic`` with the same method names.
"""

from __future__ import annotations

from amaranth.hdl import Const, Mux, Shape, Value, signed
from amaranth.lib import enum

from ..numerics.rounding import Rounding


class RoundingCode(enum.Enum, shape=3):
    """``numerics.Rounding`` as a 3-bit hardware field (ports, descriptors): each member's
    code is its position in ``Rounding`` (``ng::rounding_mode`` in the HLS kernels is the
    same numbering)."""

    FLOOR = 0
    HALF_UP = 1
    HALF_EVEN = 2
    HALF_AWAY = 3
    CEIL = 4
    TRUNC = 5
    AWAY = 6
    HALF_ZERO = 7

    @classmethod
    def of(cls, rounding) -> RoundingCode:
        """The code of a ``Rounding`` (or its string)."""
        return cls[Rounding.coerce(rounding, field="rounding").name]


def round_up(rounding, *, half: Value, sticky: Value, negative: Value, odd: Value) -> Value:
    """Whether ``floor(x / d)`` goes up by one to round ``x / d`` with ``rounding``: the one
    rule of every rounding, from the dropped fraction (``half``: at least 1/2; ``sticky``:
    neither exactly 0 nor exactly 1/2), the sign of ``x`` and the parity of the floor.
    ``rounding`` is a ``RoundingCode`` member (that mode's logic) or a ``RoundingCode``
    value chosen at run time (every mode's logic, selected)."""
    inexact = half | sticky
    up_when = {
        RoundingCode.FLOOR: Const(0, 1),
        RoundingCode.CEIL: inexact,
        RoundingCode.TRUNC: inexact & negative,
        RoundingCode.AWAY: inexact & ~negative,
        RoundingCode.HALF_UP: half,
        RoundingCode.HALF_EVEN: half & (sticky | odd),
        RoundingCode.HALF_AWAY: half & (sticky | ~negative),
        RoundingCode.HALF_ZERO: half & (sticky | negative),
    }
    if isinstance(rounding, RoundingCode):
        return up_when[rounding]
    up = Const(0, 1)
    for code, condition in up_when.items():
        up = Mux(rounding == code, condition, up)
    return up


class IntegerArithmetic:
    """Two's-complement multiply-accumulate, rounding shift and saturation.

    Parameters
    ----------
    a_bits, b_bits : int
        Operand widths (signed).
    acc_bits : int
        Accumulator width; sums wrap modulo ``2**acc_bits`` (golden ``arith.wrap``).
    """

    def __init__(self, *, a_bits: int, b_bits: int, acc_bits: int):
        self.a_bits, self.b_bits, self.acc_bits = a_bits, b_bits, acc_bits

    @property
    def product_shape(self) -> Shape:
        return signed(self.a_bits + self.b_bits)

    @property
    def acc_shape(self) -> Shape:
        return signed(self.acc_bits)

    def multiply(self, a: Value, b: Value) -> Value:
        return a.as_signed() * b.as_signed()

    def accumulate(self, acc: Value, addend: Value) -> Value:
        """``wrap(acc + addend, acc_bits)``."""
        return (acc.as_signed() + addend.as_signed())[: self.acc_bits].as_signed()

    @staticmethod
    def shift_keeping_round_bit(value: Value, shift: Value) -> Value:
        """``floor(value * 2 / 2**shift)``: the shifted value with one fraction bit kept
        (the round bit, worth a half)."""
        return ((value.as_signed() << 1) >> shift).as_signed()

    @staticmethod
    def sticky_below_round_bit(value: Value, shift: Value) -> Value:
        """1 when a bit of ``value`` below the round bit (bit ``shift - 1``) is set, that
        is when the part ``shift_keeping_round_bit`` drops is not zero; 0 for
        ``shift <= 1``."""
        width = len(value)
        below_shift = ~(Const(-1, signed(width + 1)) << shift)   # ones below bit `shift`
        return (value.as_unsigned() & below_shift[1:width + 1]).any()

    @staticmethod
    def finish_round(kept: Value, sticky: Value, rounding) -> Value:
        """Golden ``round_shift(v, s, rounding)`` from ``kept = shift_keeping_round_bit(v, s)``
        and ``sticky = sticky_below_round_bit(v, s)``: ``floor(v / 2**s) + up``.

        ``up`` (one bit) follows from the round bit ``kept[0]`` (the dropped fraction is
        at least 1/2), ``sticky`` (it is neither exactly 0 nor exactly 1/2), the sign of
        ``v`` and the parity of the floor.  ``rounding`` is a ``RoundingCode`` member (the
        logic of that one mode) or a ``RoundingCode`` value chosen at run time.  One bit
        wider than ``kept >> 1``, so the increment cannot overflow.
        """
        kept = kept.as_signed()
        up = round_up(rounding, half=kept[0], sticky=sticky, negative=kept[-1], odd=kept[1])
        return ((kept >> 1) + up).as_signed()

    @staticmethod
    def round_shift(value: Value, shift: Value, rounding) -> Value:
        """Golden ``arith.round_shift(value, shift, rounding)`` in one combinational step
        (``rounding`` as in ``finish_round``)."""
        return IntegerArithmetic.finish_round(
            IntegerArithmetic.shift_keeping_round_bit(value, shift),
            IntegerArithmetic.sticky_below_round_bit(value, shift), rounding)

    @staticmethod
    def saturate(value: Value, lo: Value, hi: Value) -> Value:
        """Golden ``arith.saturate``: clamp to ``[lo, hi]`` (signed compares)."""
        value, lo, hi = value.as_signed(), lo.as_signed(), hi.as_signed()
        return Mux(value < lo, lo, Mux(value > hi, hi, value))

