"""Exact integer arithmetic on Amaranth values with known ranges, for the spatial style.

Every value travels as a ``Term``: an Amaranth expression and the interval ``[lo, hi]``
its integers lie in, so each adder, shift and register is only as wide as the values it
can hold (``width_for``).  The functions mirror ``neurogate.sim.golden.arith``:

* ``constant_product``: ``x * c`` for an integer constant ``c`` as shifted copies of ``x``
  added and subtracted (canonical signed digits): no multiplier, as hls4ml's
  io_parallel maps small constant weights to LUTs;
* ``sum_terms``: an exact sum (adder tree; the pipelining lives in ``netlist``);
* ``round_shift``: ``x / 2**s`` rounded with any ``Rounding`` (golden ``round_shift``);
* ``round_div``: ``x / d`` for a positive constant ``d`` rounded with any ``Rounding``
  (golden ``round_div``), by multiplication with a reciprocal that is exact over ``x``'s
  whole range;
* ``fit``: saturate or wrap into an integer format (golden ``overflow``).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Mux, Value, signed, unsigned

from ....hw.arith import RoundingCode, round_up
from ....numerics.formats import signed_width_for
from ....numerics.rounding import Overflow, Rounding


def width_for(lo: int, hi: int) -> tuple[int, bool]:
    """The narrowest (width, signed) holding every integer of ``[lo, hi]``."""
    if lo >= 0:
        return max(1, hi.bit_length()), False
    return signed_width_for(lo, hi), True


@dataclass(frozen=True)
class Term:
    """An Amaranth expression whose integer value lies in ``[lo, hi]``."""

    value: Value
    lo: int
    hi: int

    @staticmethod
    def const(c: int) -> Term:
        width, is_signed = width_for(c, c)
        return Term(Const(c, signed(width) if is_signed else unsigned(width)), c, c)

    def narrowed(self) -> Term:
        """The same integer in exactly ``width_for(lo, hi)`` bits (fewer when the
        expression is narrower)."""
        width, is_signed = width_for(self.lo, self.hi)
        if not is_signed:
            return Term(self.value[:width], self.lo, self.hi)
        value = as_signed_exact(self.value)
        return Term(value[:width].as_signed() if len(value) > width else value,
                    self.lo, self.hi)

    def __neg__(self) -> Term:
        return Term(-self.value, -self.hi, -self.lo).narrowed()

    def shifted(self, k: int) -> Term:
        """``self * 2**k`` (``k >= 0``), exact."""
        return Term(self.value << k, self.lo << k, self.hi << k)


def as_signed_exact(value: Value) -> Value:
    """``value`` as a signed expression of the same integer (an unsigned one gains a
    zero sign bit)."""
    return value if value.shape().signed else Cat(value, Const(0, 1)).as_signed()


def add(a: Term, b: Term) -> Term:
    return Term(a.value + b.value, a.lo + b.lo, a.hi + b.hi).narrowed()


def csd_digits(c: int) -> list[tuple[int, int]]:
    """``c`` in canonical signed digits: ``[(k, +1 or -1), ...]`` with ``c = sum d * 2**k``
    and no two adjacent nonzero digits (the fewest additions)."""
    digits, k = [], 0
    while c:
        if c & 1:
            d = 2 - (c & 3)          # +1 if c % 4 == 1, -1 if c % 4 == 3
            digits.append((k, d))
            c -= d
        c >>= 1
        k += 1
    return digits


def constant_product(x: Term, c: int) -> list[Term]:
    """The terms whose sum is ``x * c`` (empty for ``c == 0``)."""
    terms = []
    for k, d in csd_digits(int(c)):
        term = x.shifted(k)
        terms.append(term if d > 0 else -term)
    return terms


def product(a: Term, b: Term) -> Term:
    """``a * b`` of two variable values (a real multiplier)."""
    corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
    return Term(a.value * b.value, min(corners), max(corners)).narrowed()


def wrap(x: Term, width: int) -> Term:
    """The low ``width`` bits of ``x`` read as two's complement (golden ``wrap``)."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if lo <= x.lo and x.hi <= hi:
        return x
    return Term(x.value[:width].as_signed(), lo, hi)


def clamp(x: Term, lo: int, hi: int) -> Term:
    """``min(max(x, lo), hi)``."""
    value = x.value
    new_lo, new_hi = max(min(x.lo, hi), lo), min(max(x.hi, lo), hi)
    if x.lo < lo:
        value = Mux(x.value < lo, lo, value)
    if x.hi > hi:
        value = Mux(x.value > hi, hi, value)
    return Term(value, new_lo, new_hi).narrowed()


def fit(x: Term, fmt, overflow: Overflow) -> Term:
    """Golden ``overflow``: saturate to ``[fmt.min, fmt.max]`` or keep ``fmt.width`` bits."""
    if overflow is Overflow.SATURATE:
        return clamp(x, fmt.min, fmt.max)
    if fmt.signed:
        return wrap(x, fmt.width)
    if 0 <= x.lo and x.hi <= fmt.max:
        return x
    return Term(x.value[:fmt.width], 0, fmt.max)


def _round_up(rounding: Rounding, *, above, tie, nonzero, negative, odd) -> Value:
    """Whether ``floor(x / d)`` goes up by one (``hw.arith.round_up``, the one rule), from
    the remainder against half the divisor: ``above`` (more than half), ``tie`` (exactly
    half), ``nonzero``; the sign of ``x`` and the parity of the floor."""
    return round_up(RoundingCode.of(rounding), half=above | tie, sticky=nonzero & ~tie,
                    negative=negative, odd=odd)


def _rounded(floor: Term, up: Value, bound_lo: int, bound_hi: int) -> Term:
    return Term(floor.value + up, bound_lo, bound_hi).narrowed()


def round_shift(x: Term, shift: int, rounding: Rounding) -> Term:
    """Golden ``round_shift``: ``x / 2**shift`` rounded with ``rounding``; exact."""
    if shift == 0:
        return x
    floor = Term(x.value >> shift, x.lo >> shift, x.hi >> shift).narrowed()
    if rounding is Rounding.FLOOR:
        return floor
    # the low ``shift`` bits of x's two's complement: a narrower negative x sign-extended
    value = x.value
    if x.lo < 0 and len(value) < shift:
        value = as_signed_exact(value) + Const(0, signed(shift))
    rest = value[:shift]
    half = 1 << (shift - 1)
    up = _round_up(rounding, above=rest > half, tie=rest == half, nonzero=rest != 0,
                   negative=_sign_bit(x), odd=floor.value[0])
    return _rounded(floor, up, x.lo >> shift, (x.hi >> shift) + 1)


def _sign_bit(x: Term) -> Value:
    return x.value.as_signed()[-1] if x.lo < 0 else Const(0, 1)


def reciprocal(divisor: int, magnitude_bits: int) -> tuple[int, int]:
    """``(m, k)`` with ``floor(u * m / 2**k) == floor(u / divisor)`` for every
    ``0 <= u < 2**magnitude_bits`` (``k = magnitude_bits + ceil(log2 divisor)``,
    ``m = ceil(2**k / divisor)``; the error ``m * divisor - 2**k < divisor`` times ``u``
    stays below ``2**k``)."""
    k = magnitude_bits + (divisor - 1).bit_length()
    return -(-(1 << k) // divisor), k


def floor_div(x: Term, divisor: int) -> Term:
    """``floor(x / divisor)`` for a positive constant, exact over ``[x.lo, x.hi]``: a
    negative ``x`` is divided as ``-floor((-x + divisor - 1) / divisor)``."""
    if divisor == 1:
        return x
    if divisor & (divisor - 1) == 0:
        return round_shift(x, divisor.bit_length() - 1, Rounding.FLOOR)
    negative = _sign_bit(x)
    if x.lo < 0:
        flipped = add(-x, Term.const(divisor - 1))
        magnitude = Term(Mux(negative, flipped.value, x.value),
                         0, max(flipped.hi, x.hi, 0)).narrowed()
    else:
        magnitude = x
    m, k = reciprocal(divisor, max(1, magnitude.hi.bit_length()))
    quotient = Term(times(magnitude, m).value >> k, 0, magnitude.hi // divisor).narrowed()
    if x.lo >= 0:
        return quotient
    lo, hi = x.lo // divisor, x.hi // divisor
    return Term(Mux(negative, -quotient.value, quotient.value), lo, hi).narrowed()


def round_div(x: Term, divisor: int, rounding: Rounding) -> Term:
    """Golden ``round_div``: ``x / divisor`` rounded with ``rounding`` (a positive
    constant divisor); a power of two is ``round_shift``."""
    if divisor & (divisor - 1) == 0:
        return round_shift(x, divisor.bit_length() - 1, rounding)
    floor = floor_div(x, divisor)
    if rounding is Rounding.FLOOR:
        return floor
    # The remainder lies in [0, divisor): its low bits are the whole of it.
    rest = (as_signed_exact(x.value) - times(floor, divisor).value)[:divisor.bit_length()]
    twice = rest << 1
    up = _round_up(rounding, above=twice > divisor, tie=twice == divisor,
                   nonzero=rest != 0, negative=_sign_bit(x), odd=floor.value[0])
    return _rounded(floor, up, floor.lo, floor.hi + 1)


def times(x: Term, c: int) -> Term:
    """``x * c`` for a constant ``c``, as the sum of ``constant_product``'s terms."""
    terms = constant_product(x, c)
    if not terms:
        return Term.const(0)
    total = terms[0]
    for term in terms[1:]:
        total = add(total, term)
    return total
