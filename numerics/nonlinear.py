"""Frozen configurations of the integer non-linear units, shared by RTL and golden model.

Pure Python (no Amaranth): ``neurogate.sim.golden.nonlinear`` derives its constants
from the same objects, so RTL and reference cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .checks import check_bool, check_int

SOFTMAX_METHODS = ("iexp", "shiftmax")
SOLVERS = ("serial", "pipelined")


def check_solver(solver: str) -> str:
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, not {solver!r}")
    return solver

# I-BERT's second-order fit of exp on [-ln2, 0]: exp(p) ~ A * (p + B)**2 + C.
IEXP_A, IEXP_B, IEXP_C = 0.3585, 1.353, 0.344


@dataclass(frozen=True)
class SoftmaxConfig:
    """A row softmax over fixed-point logits ``x * 2**-in_frac``.

    Parameters
    ----------
    in_bits : int
        Signed logit width, 2 to 16.
    in_frac : int
        Fractional bits of the logits, 0 to 12 (the scale ``S = 2**-in_frac``).
    out_bits : int
        Unsigned probability width, 2 to 16; a probability ``p`` is
        ``round(p * 2**out_bits)`` saturated to ``2**out_bits - 1``.  Ignored (output
        is one bit) when ``binarize``.
    max_len : int
        Longest row, 1 to 4096 (depth of the internal row buffers).
    method : str
        ``"iexp"`` (I-BERT: ``x = -ln2 * z + p``, second-order polynomial in ``p``,
        shift by ``z``) or ``"shiftmax"`` (I-ViT: ``x * log2(e) ~ x + x/2 - x/16`` by
        shifts, ``2**r ~ 1 + r`` between powers of two, shift by the integer part).
    binarize : bool
        BiViT softmax-aware binarization: output ``p >= (p_max >> 2)`` instead of ``p``.
    solver : str
        The per-row reciprocal: ``"serial"`` (one quotient bit per clock, so rows
        shorter than the quotient width cost extra clocks) or ``"pipelined"`` (one stage
        per bit, a row every clock).  The results are the same.
    """

    in_bits: int = 8
    in_frac: int = 4
    out_bits: int = 8
    max_len: int = 64
    method: str = "iexp"
    binarize: bool = False
    solver: str = "serial"

    def __post_init__(self):
        check_int("in_bits", self.in_bits, low=2, high=16)
        check_int("in_frac", self.in_frac, low=0, high=12)
        check_int("out_bits", self.out_bits, low=2, high=16)
        check_int("max_len", self.max_len, low=1, high=4096)
        if self.method not in SOFTMAX_METHODS:
            raise ValueError(f"method must be one of {', '.join(SOFTMAX_METHODS)}, "
                             f"not {self.method!r}")
        object.__setattr__(self, "binarize", check_bool("binarize", self.binarize))
        check_solver(self.solver)

    # -- exponent stage -------------------------------------------------------------
    @property
    def frac(self) -> int:
        """Internal fractional bits: at least 10, so that the rounded constants (ln2,
        B, C) cost little accuracy even for coarse input scales."""
        return max(self.in_frac, 10)

    @property
    def max_neg(self) -> int:
        """Largest ``n = row_max - x`` (in input units)."""
        return (1 << self.in_bits) - 1

    @property
    def q_ln2(self) -> int:
        return math.floor(math.log(2) * (1 << self.frac))

    @property
    def q_b(self) -> int:
        return math.floor(IEXP_B * (1 << self.frac))

    @property
    def q_c(self) -> int:
        return math.floor(IEXP_C / IEXP_A * (1 << (2 * self.frac)))

    @property
    def exp_max(self) -> int:
        """``e`` of the row maximum (``n = 0``); every ``e`` is in ``[0, exp_max]``."""
        if self.method == "iexp":
            return self.q_b ** 2 + self.q_c
        return 1 << self.frac

    @property
    def exp_bits(self) -> int:
        return self.exp_max.bit_length()

    @property
    def max_shift(self) -> int:
        """Shifts at or above this give ``e = 0`` (``z`` is clamped to it)."""
        return self.exp_bits

    @cached_property
    def z_reciprocal(self) -> tuple[int, int]:
        """``(R, K)`` with ``(n * R) >> K == (n << (frac - in_frac)) // q_ln2`` for every
        ``n`` in ``[0, max_neg]`` (checked): the i-exp quotient without a divider."""
        n = np.arange(self.max_neg + 1, dtype=np.int64)
        want = (n << (self.frac - self.in_frac)) // self.q_ln2
        for k in range(1, 40):
            r = -(-(1 << (k + self.frac - self.in_frac)) // self.q_ln2)
            if np.array_equal((n * r) >> k, want):
                return r, k
        raise AssertionError("no exact reciprocal found")  # cannot happen for these ranges

    # -- normalization --------------------------------------------------------------
    @property
    def sum_bits(self) -> int:
        return (self.max_len * self.exp_max).bit_length()

    @property
    def out_width(self) -> int:
        """Width of the output payload: ``out_bits``, or 1 when binarizing."""
        return 1 if self.binarize else self.out_bits

    @property
    def norm_shift(self) -> int:
        """``M`` of ``factor = floor(2**M / sum)``: two bits beyond ``out_bits`` keep the
        reciprocal's error under a quarter of an output step."""
        return self.sum_bits + self.out_bits + 2

    @property
    def factor_bits(self) -> int:
        """The sum is at least ``exp_max`` (the maximum's own term), so ``factor`` fits."""
        return ((1 << self.norm_shift) // self.exp_max).bit_length()


ACTIVATIONS = ("sigmoid", "silu", "shiftgelu")


@dataclass(frozen=True)
class ActivationConfig:
    """An elementwise sigmoid-based activation of fixed-point ``x * 2**-in_frac``.

    ``sigmoid``: ``s(x)``; ``silu``: ``x * s(x)``; ``shiftgelu`` (I-ViT ShiftGELU):
    ``x * s(1.702 x)`` with ``1.702 x ~ x + x/2 + x/8 + x/16`` by shifts.  ``s`` comes
    from one exponent ``e = exp(-|a|)`` and one division: ``q = e / (1 + e)``, which is
    ``s(a)`` for ``a < 0`` and ``1 - s(a)`` otherwise.

    Parameters
    ----------
    function : str
        ``"sigmoid"``, ``"silu"`` or ``"shiftgelu"``.
    in_bits, in_frac : int
        Signed input width (2 to 15) and its fractional bits (0 to 12).
    out_bits : int
        Output width, 2 to 16: unsigned ``round(s * 2**out_bits)`` (saturated) for
        ``sigmoid``, signed otherwise.
    out_frac : int
        Fractional bits of a signed output, 0 to ``in_frac + out_bits + 2`` (unused by
        ``sigmoid``).
    method : str
        Exponent: ``"iexp"`` (I-BERT) or ``"shiftmax"`` (I-ViT shifts).
    """

    function: str = "sigmoid"
    in_bits: int = 8
    in_frac: int = 4
    out_bits: int = 8
    out_frac: int = 4
    method: str = "iexp"

    def __post_init__(self):
        if self.function not in ACTIVATIONS:
            raise ValueError(f"function must be one of {', '.join(ACTIVATIONS)}, "
                             f"not {self.function!r}")
        check_int("in_bits", self.in_bits, low=2, high=15)
        check_int("in_frac", self.in_frac, low=0, high=12)
        check_int("out_bits", self.out_bits, low=2, high=16)
        check_int("out_frac", self.out_frac, low=0, high=self.in_frac + self.out_bits + 2)
        if self.method not in SOFTMAX_METHODS:
            raise ValueError(f"method must be one of {', '.join(SOFTMAX_METHODS)}, "
                             f"not {self.method!r}")

    @property
    def exp(self) -> SoftmaxConfig:
        """Exponent constants; one input bit more than ``x`` because ``|1.702 x|``
        (with floor shifts) exceeds ``x``'s range."""
        return SoftmaxConfig(in_bits=self.in_bits + 1, in_frac=self.in_frac,
                             method=self.method)

    @property
    def sigmoid_frac(self) -> int:
        """Fractional bits of the internal sigmoid (two guard bits over the output)."""
        return self.out_bits + 2

    @property
    def product_shift(self) -> int:
        """Right shift taking ``x * s`` (``in_frac + sigmoid_frac`` fractional bits) to
        ``out_frac``."""
        return self.in_frac + self.sigmoid_frac - self.out_frac


NORM_KINDS = ("layernorm", "rmsnorm")


def _channel_values(name: str, values, length: int, bits: int) -> tuple[int, ...]:
    """``values`` as a tuple of ``length`` signed ``bits``-bit integers, or an error
    naming ``name`` and the first offending channel."""
    values = tuple(values)
    if len(values) != length:
        raise ValueError(f"{name} must have max_len = {length} values, not {len(values)}")
    # check_int returns plain ints: NumPy int64 values would overflow in the golden model's
    # wide intermediate products (e.g. beta << affine_shift).
    return tuple(check_int(f"{name}[{k}]", v, low=-(1 << (bits - 1)), high=(1 << (bits - 1)) - 1)
                 for k, v in enumerate(values))


@dataclass(frozen=True)
class NormConfig:
    """LayerNorm / RMSNorm of a row of ``n`` signed integers, with an optional per-channel
    affine part ``gamma * y + beta``.

    With ``S1 = sum(x)`` (0 for RMSNorm) and ``S2 = sum(x**2)``, ``n * (x - mean)`` is
    ``c = n*x - S1`` and ``n * std`` is ``sqrt(V)``, ``V = n*S2 - S1**2``: the statistic
    needs no division by ``n``.  ``r = isqrt(V << 2*guard)`` (I-BERT's IntSqrt computes
    the same floor square root by Newton iteration), ``factor = floor(2**M / r)`` once
    per row, then per element ``y = saturate(round((c * factor * g + b * 2**T) / 2**T))``
    with ``T = M - guard - out_frac + gamma_frac``, ``g = gamma[j]`` and ``b = beta[j]``
    for the element's position ``j`` in its row (``g = 1``, ``gamma_frac = 0``, ``b = 0``
    without ``gamma``): one rounding, after the affine part.  A zero-variance row (all
    equal; all zero for RMSNorm) has ``r = 0``, ``factor = 0`` and gives ``y = beta``
    (zeros without the affine part).  The input scale cancels, so ``x`` needs no
    fractional-bit count.

    Parameters
    ----------
    kind : str
        ``"layernorm"`` or ``"rmsnorm"``.
    in_bits : int
        Signed input width, 2 to 16.
    out_bits, out_frac : int
        Signed output width (2 to 16) and its fractional bits (0 to ``out_bits``).
    max_len : int
        Longest row, 1 to 1024 (the channel count when ``gamma`` is given).
    gamma : tuple of int, optional
        ``max_len`` signed ``gamma_bits``-bit scales at ``gamma_frac`` fractional bits.
    beta : tuple of int, optional
        ``max_len`` signed ``out_bits``-bit offsets at ``out_frac`` fractional bits
        (needs ``gamma``; zeros if left out).
    gamma_bits, gamma_frac : int
        Width (2 to 18) and fractional bits (0 to ``gamma_bits``) of ``gamma``.
    solver : str
        The per-row square root and reciprocal: ``"serial"`` (one bit per clock) or
        ``"pipelined"`` (one stage per bit, a row every clock); same results.
    """

    kind: str = "layernorm"
    in_bits: int = 8
    out_bits: int = 8
    out_frac: int = 5
    max_len: int = 64
    gamma: tuple[int, ...] | None = None
    beta: tuple[int, ...] | None = None
    gamma_bits: int = 8
    gamma_frac: int = 6
    solver: str = "serial"

    def __post_init__(self):
        if self.kind not in NORM_KINDS:
            raise ValueError(f"kind must be one of {', '.join(NORM_KINDS)}, not {self.kind!r}")
        check_int("in_bits", self.in_bits, low=2, high=16)
        check_int("out_bits", self.out_bits, low=2, high=16)
        check_int("out_frac", self.out_frac, low=0, high=self.out_bits)
        check_int("max_len", self.max_len, low=1, high=1024)
        check_int("gamma_bits", self.gamma_bits, low=2, high=18)
        check_int("gamma_frac", self.gamma_frac, low=0, high=self.gamma_bits)
        check_solver(self.solver)
        if self.gamma is not None:
            object.__setattr__(self, "gamma", _channel_values(
                "gamma", self.gamma, self.max_len, self.gamma_bits))
        if self.beta is not None:
            if self.gamma is None:
                raise ValueError("beta needs gamma (give gamma = 2**gamma_frac for a scale "
                                 "of one)")
            object.__setattr__(self, "beta", _channel_values(
                "beta", self.beta, self.max_len, self.out_bits))

    @property
    def affine(self) -> bool:
        return self.gamma is not None

    @property
    def affine_shift(self) -> int:
        """``T``: from ``c * factor * g`` to the output's fractional bits."""
        return self.norm_shift - self.guard - self.out_frac + \
            (self.gamma_frac if self.affine else 0)

    @property
    def len_bits(self) -> int:
        return self.max_len.bit_length()

    @property
    def guard(self) -> int:
        """Fractional bits of ``r``: |y| <= sqrt(n), so ``out_frac + log2(sqrt(n)) + 2``
        keep the square root's rounding under a quarter of an output step."""
        return self.out_frac + (self.len_bits + 1) // 2 + 2

    @property
    def centered_bits(self) -> int:
        """Signed width of ``c = n*x - S1``."""
        return self.in_bits + self.len_bits + 1

    @property
    def sum_bits(self) -> int:
        return self.in_bits + self.len_bits + 1

    @property
    def square_sum_bits(self) -> int:
        return 2 * self.in_bits + self.len_bits

    @property
    def var_bits(self) -> int:
        """Width of ``V << 2*guard`` (``V <= n * S2``)."""
        return self.len_bits + self.square_sum_bits + 2 * self.guard

    @property
    def norm_shift(self) -> int:
        """``M``: the reciprocal's floor costs at most a quarter output step."""
        return self.guard + self.out_frac + self.centered_bits + 2

    @property
    def factor_bits(self) -> int:
        """``r >= 2**guard`` whenever it is non-zero, so ``factor <= 2**(M - guard)``."""
        return self.norm_shift - self.guard + 1

    @property
    def root_bits(self) -> int:
        """Newton's iterates stay below ``2**ceil(var_bits / 2) + 1``."""
        return (self.var_bits + 1) // 2 + 1


# I-BERT's erf fit: erf(v) ~ sign(v) * (A * (min(|v|, -B) + B)**2 + 1).
IERF_A, IERF_B = -0.2888, -1.769


@dataclass(frozen=True)
class IGeluConfig:
    """I-BERT i-GELU of fixed-point ``x * 2**-in_frac`` (integer erf polynomial).

    With ``u = x`` at ``frac`` internal fractional bits: ``q_b = floor(B * sqrt2 *
    2**frac)``, ``q_c = floor(2**(2*frac+1) / A)`` (both negative), ``L = sign(u) *
    ((min(|u|, -q_b) + q_b)**2 + q_c)`` (erf(x / sqrt2) at scale ``A * 2**-2frac / 2``),
    ``q = u * (L + q_c)`` (``q_c`` is also ``floor(1 / that scale)``), and the output is
    ``round(q * A/4 * 2**(out_frac - 3*frac))`` with ``|A|`` as a ``scale_bits``
    integer, saturated to ``out_bits``.

    Parameters
    ----------
    in_bits, in_frac : int
        Signed input width (2 to 16) and fractional bits (0 to 12).
    out_bits, out_frac : int
        Signed output width (2 to 16) and fractional bits (0 to 16).
    """

    in_bits: int = 8
    in_frac: int = 4
    out_bits: int = 8
    out_frac: int = 4

    scale_bits = 16

    def __post_init__(self):
        check_int("in_bits", self.in_bits, low=2, high=16)
        check_int("in_frac", self.in_frac, low=0, high=12)
        check_int("out_bits", self.out_bits, low=2, high=16)
        check_int("out_frac", self.out_frac, low=0, high=16)

    @property
    def frac(self) -> int:
        return max(self.in_frac, 8)

    @property
    def q_b(self) -> int:
        return math.floor(IERF_B * math.sqrt(2) * (1 << self.frac))

    @property
    def q_c(self) -> int:
        return math.floor((1 << (2 * self.frac + 1)) / IERF_A)

    @property
    def scale(self) -> int:
        """``round(|A| * 2**scale_bits)``."""
        return round(-IERF_A * (1 << self.scale_bits))

    @property
    def out_shift(self) -> int:
        return self.scale_bits + 3 * self.frac + 2 - self.out_frac

    @property
    def u_bits(self) -> int:
        return self.in_bits + self.frac - self.in_frac
