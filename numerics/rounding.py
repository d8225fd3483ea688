"""How a right shift drops bits, and what happens to a value that does not fit.

The arithmetic itself lives in ``neurogate.sim.golden.arith`` (the golden model) and
``neurogate.hw.arith`` (the hardware); both follow these definitions.
"""

from __future__ import annotations

import enum


class _Choice(enum.Enum):
    @classmethod
    def coerce(cls, value, *, field: str = "value"):
        """``value`` as a member (a member or its string), else a ``ValueError`` that
        names ``field`` and lists the choices."""
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise ValueError(f"{field} must be one of {choices}, not {value!r}") from None


class Rounding(_Choice):
    """Rounding of ``x / 2**s`` to an integer (an arithmetic right shift by ``s``)."""

    FLOOR = "floor"            # towards -inf (hls4ml AP_TRN)
    HALF_UP = "half_up"        # nearest, ties towards +inf (hls4ml AP_RND)
    HALF_EVEN = "half_even"    # nearest, ties to even (AP_RND_CONV; QKeras, QONNX ROUND)
    HALF_AWAY = "half_away"    # nearest, ties away from zero (AP_RND_INF; QONNX HALF_UP)


class Overflow(_Choice):
    """What a value outside the output format becomes."""

    SATURATE = "saturate"      # clamp to the format's range (AP_SAT)
    WRAP = "wrap"              # keep the low bits, two's complement (AP_WRAP)
