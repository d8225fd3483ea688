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
    """Rounding of ``x / 2**s`` (an arithmetic right shift by ``s``), or of any exact
    rational ``x / d``, to an integer.

    Every QONNX ``Quant``/``Trunc`` ``rounding_mode`` has its member (QONNX's ``HALF_UP`` and
    ``HALF_DOWN`` break ties away from and towards zero, not towards +inf and -inf); the
    comments name it and the ap_fixed quantization mode, where there is one (ap_fixed's
    ``AP_RND_MIN_INF``, ties towards -inf, is no QONNX mode and has no member).  The order
    is the hardware's code (``neurogate.hw.arith.RoundingCode``, ``ng::rounding_mode``).
    """

    FLOOR = "floor"            # towards -inf (QONNX FLOOR; AP_TRN)
    HALF_UP = "half_up"        # nearest, ties towards +inf (no QONNX mode; AP_RND, hls4ml's)
    HALF_EVEN = "half_even"    # nearest, ties to even (QONNX ROUND, HALF_EVEN; AP_RND_CONV)
    HALF_AWAY = "half_away"    # nearest, ties away from zero (QONNX HALF_UP; AP_RND_INF)
    CEIL = "ceil"              # towards +inf (QONNX CEIL; no ap_fixed mode)
    TRUNC = "trunc"            # towards zero, numpy fix (QONNX DOWN; AP_TRN_ZERO)
    AWAY = "away"              # away from zero (QONNX UP; no ap_fixed mode)
    HALF_ZERO = "half_zero"    # nearest, ties towards zero (QONNX HALF_DOWN; AP_RND_ZERO)


class Overflow(_Choice):
    """What a value outside the output format becomes."""

    SATURATE = "saturate"      # clamp to the format's range (AP_SAT)
    WRAP = "wrap"              # keep the low bits, two's complement (AP_WRAP)
