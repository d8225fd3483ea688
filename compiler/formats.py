"""Number formats carried by every IR value.

Only two's-complement integers with a power-of-two scale exist so far (``IntFormat``):
``value = integer * 2**-frac``.  Binary, ternary and minifloat formats join as further
frozen dataclasses next to it; every format answers ``min``/``max`` in integer units and
``describe()``.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_WIDTH = 64


def check_int(name: str, value, *, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an integer in ``[low, high]``, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    if value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValueError(f"{name} must be an integer {span}, not {value}")
    return value


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
        check_int("width", self.width, low=1, high=MAX_WIDTH)
        if not isinstance(self.signed, bool):
            raise ValueError(f"signed must be True or False, not {self.signed!r}")
        check_int("frac", self.frac, low=-MAX_WIDTH, high=MAX_WIDTH)

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
        import numpy as np

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
