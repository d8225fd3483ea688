"""Parameterized binary floating-point formats (IEEE-like and OCP FP8 "fn" flavours).

A ``FloatFormat`` describes bit fields and special-value conventions only; arithmetic
lives in ``fma.py`` (hardware) and ``neurogate.sim.golden.fp`` (bit-exact NumPy).

Encoding (LSB first, as the ``layout`` says): ``mantissa`` (``man_bits``), ``exponent``
(``exp_bits``), ``sign`` (1).  Value of a finite code with biased exponent ``f`` and
fraction ``m``:

* ``f > 0``: ``(-1)**s * (1 + m / 2**man_bits) * 2**(f - bias)`` (normal);
* ``f == 0``: ``(-1)**s * (m / 2**man_bits) * 2**(1 - bias)`` (subnormal) when
  ``subnormals``; otherwise every ``f == 0`` code reads as a signed zero
  (denormals-are-zero) and results below the smallest normal are flushed to a signed zero
  after rounding.

Special values, by ``inf_nan``:

* ``"ieee"``: the all-ones exponent is reserved; fraction 0 is +-infinity, any other
  fraction is NaN.  Overflow after rounding gives +-infinity.  Canonical NaN produced by
  the units: sign 0, all-ones exponent, fraction ``100...0``.
* ``"fn"`` (OCP FP8 E4M3): no infinities; the only NaN codes are ``S.11..1.11..1``, every
  other all-ones-exponent code is a normal number (E4M3 max 448).  Overflow after rounding
  and an infinite result give NaN (as ``ml_dtypes.float8_e4m3fn`` does).  Canonical NaN:
  sign 0, all ones.

Rounding: round-to-nearest, ties-to-even is the only mode (in both the hardware units and
the golden model); it is applied once, to the exact result, by the exact unit.

Presets: ``BF16`` (8e7m), ``FP16`` (5e10m), ``FP32`` (8e23m), ``FP8_E5M2`` (IEEE-like)
all "ieee" with subnormals; ``FP8_E4M3`` "fn" with subnormals (bias 7, max 448, min
subnormal 2**-9).
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import check_int

INF_NAN_MODES = ("ieee", "fn")


@dataclass(frozen=True)
class FloatFormat:
    """A sign / biased-exponent / fraction format.

    Parameters
    ----------
    exp_bits : int
        Exponent field width, 2 to 11.
    man_bits : int
        Stored fraction width (hidden bit not counted), 1 to 52.
    bias : int or None
        Exponent bias; ``None`` means ``2**(exp_bits-1) - 1``.
    subnormals : bool
        Whether ``exponent == 0`` codes are subnormal numbers (else read as zero, and tiny
        results flushed to zero).
    inf_nan : str
        ``"ieee"`` or ``"fn"``; see the module docstring.
    """

    exp_bits: int
    man_bits: int
    bias: int | None = None
    subnormals: bool = True
    inf_nan: str = "ieee"

    def __post_init__(self):
        if isinstance(self.exp_bits, bool) or not isinstance(self.exp_bits, int) \
                or not 2 <= self.exp_bits <= 11:
            raise ValueError(f"exponent bits must be an integer from 2 to 11, not {self.exp_bits!r}")
        if isinstance(self.man_bits, bool) or not isinstance(self.man_bits, int) \
                or not 1 <= self.man_bits <= 52:
            raise ValueError(f"mantissa bits must be an integer from 1 to 52, not {self.man_bits!r}")
        if self.bias is None:
            object.__setattr__(self, "bias", (1 << (self.exp_bits - 1)) - 1)
        check_int("exponent bias", self.bias, low=0, high=(1 << self.exp_bits) - 2)
        if not isinstance(self.subnormals, bool):
            raise ValueError(f"subnormals must be True or False, not {self.subnormals!r}")
        if self.inf_nan not in INF_NAN_MODES:
            raise ValueError(f"inf_nan must be one of {', '.join(INF_NAN_MODES)}, not {self.inf_nan!r}")

    # --- fields -----------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def precision(self) -> int:
        """Significand bits including the hidden bit."""
        return self.man_bits + 1

    @property
    def layout(self):
        """``amaranth.lib.data.StructLayout``: ``mantissa``, ``exponent``, ``sign`` from the LSB up."""
        # imported here so the golden model can share this class without loading Amaranth
        from amaranth.lib import data

        return data.StructLayout({"mantissa": self.man_bits, "exponent": self.exp_bits,
                                  "sign": 1})

    # --- ranges -----------------------------------------------------------------------------
    @property
    def exp_all_ones(self) -> int:
        return (1 << self.exp_bits) - 1

    @property
    def emin(self) -> int:
        """Unbiased exponent of the smallest normal (also the subnormal scale)."""
        return 1 - self.bias

    @property
    def emax(self) -> int:
        """Unbiased exponent of the largest finite number."""
        top = self.exp_all_ones - (1 if self.inf_nan == "ieee" else 0)
        return top - self.bias

    @property
    def max_finite_code(self) -> int:
        """Magnitude code (sign bit clear) of the largest finite number."""
        if self.inf_nan == "ieee":
            return (self.exp_all_ones << self.man_bits) - 1
        return (self.exp_all_ones << self.man_bits) | ((1 << self.man_bits) - 2)

    @property
    def nan_code(self) -> int:
        """The canonical NaN the units produce (sign clear)."""
        if self.inf_nan == "ieee":
            return (self.exp_all_ones << self.man_bits) | (1 << (self.man_bits - 1))
        return (self.exp_all_ones << self.man_bits) | ((1 << self.man_bits) - 1)

    @property
    def inf_code(self) -> int | None:
        """+infinity's code, or ``None`` for formats without infinities."""
        return self.exp_all_ones << self.man_bits if self.inf_nan == "ieee" else None

    @property
    def overflow_code(self) -> int:
        """Magnitude code of a result too large to represent (infinity, else NaN)."""
        return self.inf_code if self.inf_code is not None else self.nan_code

    @property
    def max_value(self) -> float:
        return (2 - 2.0 ** -self.man_bits * (1 if self.inf_nan == "ieee" else 2)) \
            * 2.0 ** self.emax

    def describe(self) -> str:
        extra = "" if self.subnormals else ", no subnormals"
        return f"fp(e{self.exp_bits}m{self.man_bits}, bias {self.bias}, {self.inf_nan}{extra})"


BF16 = FloatFormat(8, 7)
FP16 = FloatFormat(5, 10)
FP32 = FloatFormat(8, 23)
FP8_E4M3 = FloatFormat(4, 3, inf_nan="fn")
FP8_E5M2 = FloatFormat(5, 2)



@dataclass(frozen=True)
class ApproxNorm:
    """How a multiply-add unit aligns and normalizes; ``ApproxNorm.exact()`` is IEEE-exact.

    The sum of the product and the accumulator is formed in a window of ``N + G + 1``
    bits, ``N = max(2 * in precision, acc precision)``: the operand with the larger
    exponent ("X", normalized) sits in bits ``[G, G+N)``, the other ("Y") is shifted
    right by the exponent difference; the top bit catches the carry.

    Parameters
    ----------
    lz_window : int or None
        ``None``: the leading-zero count covers the whole window and the normalization
        left shift can be anything (exact).  ``k`` (2 to 16): the leading-zero search sees
        only the carry bit and the ``k`` bits below it, and the left shift is at most
        ``k``.  A sum whose leading one lies deeper (only after cancellation of more than
        ``k - 1`` bits, which needs exponent difference 0 or 1 and opposite signs)
        becomes +0, unless the result is subnormal within ``k`` positions (then it is
        exact).  ``k >= 2`` keeps every other case exact.
    guard_bits : int
        ``G``, 1 to 3: bits kept below X's LSB when Y is aligned.  3 is needed for a
        correctly rounded result.
    sticky : bool
        ``True``: the bits of Y shifted out of the window are ORed into bit 0 (jamming),
        which makes the rounding exact.  ``False``: they are dropped (truncated).
    product_norm : bool
        ``True``: the product is fully normalized (a leading-zero count and shift, needed
        only when an operand is subnormal).  ``False``: only the 1-bit ``[1, 4)``
        adjustment is built; a product whose two top bits are both zero (possible only
        with a subnormal operand) counts as a zero of the product's sign.
    """

    lz_window: int | None = None
    guard_bits: int = 3
    sticky: bool = True
    product_norm: bool = True

    def __post_init__(self):
        if self.lz_window is not None:
            check_int("leading-zero window", self.lz_window, low=2, high=16)
        check_int("guard bits", self.guard_bits, low=1, high=3)
        if not isinstance(self.sticky, bool):
            raise ValueError(f"sticky must be True or False, not {self.sticky!r}")
        if not isinstance(self.product_norm, bool):
            raise ValueError(f"product_norm must be True or False, not {self.product_norm!r}")

    @classmethod
    def exact(cls) -> ApproxNorm:
        return cls()

    @property
    def is_exact(self) -> bool:
        return (self.lz_window is None and self.guard_bits == 3 and self.sticky
                and self.product_norm)

    def describe(self) -> str:
        if self.is_exact:
            return "exact"
        parts = [f"lz{self.lz_window}" if self.lz_window is not None else "lzfull",
                 f"g{self.guard_bits}"]
        if not self.sticky:
            parts.append("nosticky")
        if not self.product_norm:
            parts.append("noprenorm")
        return "-".join(parts)


EXACT = ApproxNorm()

PRESETS = {"bf16": BF16, "fp16": FP16, "fp32": FP32, "fp8_e4m3": FP8_E4M3, "fp8_e5m2": FP8_E5M2}
