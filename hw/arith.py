"""The integer arithmetic every PE and post-processing unit is built from.

Mirrored exactly by ``neurogate.sim.golden.arith``; each method states the identity
with its golden twin.  Binary, ternary and float variants will sit beside
``IntegerArithmetic`` with the same method names.
"""

from __future__ import annotations

from amaranth.hdl import Const, Mux, Shape, Value, signed


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
        """``floor(value * 2 / 2**shift)``: the shifted value with one fraction bit kept."""
        return ((value.as_signed() << 1) >> shift).as_signed()

    @staticmethod
    def finish_round(kept: Value, half_up: Value) -> Value:
        """From ``shift_keeping_round_bit``: ``(kept + half_up) >> 1``, which equals golden
        ``round_shift`` (``(v + 2**(s-1)) >> s == (floor(v / 2**(s-1)) + 1) >> 1``)."""
        return ((kept.as_signed() + half_up)[:len(kept) + 1].as_signed() >> 1).as_signed()

    @staticmethod
    def round_shift(value: Value, shift: Value, half_up: Value) -> Value:
        """Golden ``arith.round_shift``: ``(value + (half_up and shift>0) << (shift-1)) >> shift``.

        Computed one bit wider than ``value`` so the rounding increment cannot overflow.
        """
        width = len(value) + 1
        wide = value.as_signed()
        bias = Mux(half_up & (shift != 0), (Const(1, width) << shift) >> 1, 0)
        return ((wide + bias)[:width].as_signed() >> shift).as_signed()

    @staticmethod
    def saturate(value: Value, lo: Value, hi: Value) -> Value:
        """Golden ``arith.saturate``: clamp to ``[lo, hi]`` (signed compares)."""
        value, lo, hi = value.as_signed(), lo.as_signed(), hi.as_signed()
        return Mux(value < lo, lo, Mux(value > hi, hi, value))

