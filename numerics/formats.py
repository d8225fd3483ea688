"""Number formats carried by every IR value.

* ``IntFormat``: two's-complement (or unsigned) integers with a power-of-two scale,
  ``value = integer * 2**-frac``.
* ``BinaryFormat``: the values {-1, +1} (stored as the integers -1 and +1; one bit in
  hardware, 1 for +1).
* ``TernaryFormat``: the values {-1, 0, +1} (two bits in hardware).
* ``FloatFormat`` (``numerics.floats``): sign / exponent / fraction codes.

Every integer-valued format answers ``min``/``max`` in integer units, ``frac``,
``contains(values)`` and ``describe()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import check_bool, check_int

MAX_WIDTH = 64


@dataclass(frozen=True)
class IntFormat:
    """A ``width``-bit integer, signed or not, scaled by ``2**-frac`` (fixed point).

    ``IntFormat(8)`` is int8, ``IntFormat(8, signed=False)`` uint8,
    ``IntFormat(16, frac=8)`` a Q7.8 fixed-point number.
    """

    width: int
    signed: bool = True
    frac: int = 0

    def __post_init__(self):
        object.__setattr__(self, "width", check_int("width", self.width, low=1, high=MAX_WIDTH))
        object.__setattr__(self, "signed", check_bool("signed", self.signed))
        object.__setattr__(self, "frac", check_int("frac", self.frac, low=-MAX_WIDTH,
                                                   high=MAX_WIDTH))

    @property
    def min(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def fits_in(self, *, width: int, signed: bool = True) -> bool:
        """Whether every value of this format is representable in ``width`` bits."""
        other = IntFormat(width, signed)
        return other.min <= self.min and self.max <= other.max

    def contains(self, values) -> bool:
        values = np.asarray(values)
        return bool(values.size == 0 or (values.min() >= self.min and values.max() <= self.max))

    def describe(self) -> str:
        base = f"{'int' if self.signed else 'uint'}{self.width}"
        return base if self.frac == 0 else f"{base}(frac={self.frac})"


def signed_width_for(lo: int, hi: int) -> int:
    """The smallest two's-complement width holding every integer in ``[lo, hi]``."""
    width = 1
    while not (-(1 << (width - 1)) <= lo and hi <= (1 << (width - 1)) - 1):
        width += 1
    return width


@dataclass(frozen=True)
class _SignedUnitFormat:
    """Integers in [-1, +1] scaled by ``2**-frac``: what binary and ternary formats share."""

    frac: int = 0

    def __post_init__(self):
        object.__setattr__(self, "frac", check_int("frac", self.frac, low=-MAX_WIDTH,
                                                   high=MAX_WIDTH))

    signed = True
    min = -1
    max = 1
    values = "{-1,0,+1}"

    def fits_in(self, *, width: int, signed: bool = True) -> bool:
        return IntFormat(width, signed).min <= -1 and 1 <= IntFormat(width, signed).max

    def describe(self) -> str:
        base = f"{type(self).__name__.removesuffix('Format').lower()}{self.values}"
        return base if self.frac == 0 else f"{base}(frac={self.frac})"


@dataclass(frozen=True)
class BinaryFormat(_SignedUnitFormat):
    """The values {-1, +1}: sign-binarized weights or activations (one bit each in
    hardware, 1 for +1, 0 for -1).  ``frac`` scales them like an ``IntFormat``'s."""

    width = 1
    values = "{-1,+1}"

    def contains(self, values) -> bool:
        values = np.asarray(values)
        return bool(values.size == 0 or np.all(np.abs(values) == 1))


@dataclass(frozen=True)
class TernaryFormat(_SignedUnitFormat):
    """The values {-1, 0, +1} (two bits each in hardware: 00 = 0, 01 = +1, 11 = -1)."""

    width = 2

    def contains(self, values) -> bool:
        values = np.asarray(values)
        return bool(values.size == 0 or (values.min() >= -1 and values.max() <= 1))
