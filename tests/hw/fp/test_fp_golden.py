"""Golden FP model: formats, conversions, and the exact FMA against an independent reference."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from neurogate.numerics.floats import BF16, FP8_E4M3, FP8_E5M2, FP16, FP32, ApproxNorm, FloatFormat
from neurogate.sim.golden import fp as gfp

from .fp_reference import decode, reference_fma


def special_codes(fmt: FloatFormat) -> np.ndarray:
    """Zeros, subnormal extremes, 1, max normal, inf/NaN, of both signs."""
    m = fmt.man_bits
    mags = {0, 1, (1 << m) - 1, 1 << m, (1 << m) + 1, fmt.bias << m, (fmt.bias << m) | 1,
            fmt.max_finite_code, fmt.max_finite_code - 1, fmt.nan_code}
    if fmt.inf_code is not None:
        mags.add(fmt.inf_code)
    mags = sorted(mags)
    return np.array(mags + [x | (1 << (fmt.width - 1)) for x in mags], dtype=np.int64)


# --- construction -----------------------------------------------------------------------------
def test_presets_fields():
    assert (BF16.width, BF16.bias, BF16.emin, BF16.emax) == (16, 127, -126, 127)
    assert FP8_E4M3.max_value == 448.0 and FP8_E4M3.nan_code == 0x7F
    assert FP8_E5M2.max_value == 57344.0 and FP8_E5M2.inf_code == 0x7C
    assert FP16.max_value == 65504.0 and FP32.inf_code == 0x7F800000
    assert FP8_E4M3.layout.size == 8 and list(dict(FP8_E4M3.layout).keys()) == [
        "mantissa", "exponent", "sign"]


def test_norm_points():
    assert ApproxNorm.exact().is_exact and ApproxNorm.exact().describe() == "exact"
    assert ApproxNorm(lz_window=4, sticky=False).describe() == "lz4-g3-nosticky"


# --- bad parameters ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"exp_bits": 0, "man_bits": 3}, "exponent bits must be an integer from 2 to 11, not 0"),
    ({"exp_bits": 12, "man_bits": 3}, "exponent bits must be an integer from 2 to 11, not 12"),
    ({"exp_bits": 4, "man_bits": 0}, "mantissa bits must be an integer from 1 to 52, not 0"),
    ({"exp_bits": 4, "man_bits": 3, "bias": 15}, "exponent bias must be an integer from 0 to 14"),
    ({"exp_bits": 4, "man_bits": 3, "inf_nan": "x"}, "inf_nan must be one of ieee, fn"),
    ({"exp_bits": 4, "man_bits": 3, "subnormals": 1}, "subnormals must be True or False"),
])
def test_format_refuses(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FloatFormat(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"lz_window": 1}, "leading-zero window must be an integer from 2 to 16, not 1"),
    ({"guard_bits": 0}, "guard bits must be an integer from 1 to 3, not 0"),
    ({"sticky": "yes"}, "sticky must be True or False"),
    ({"product_norm": None}, "product_norm must be True or False"),
])
def test_norm_refuses(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ApproxNorm(**kwargs)


# --- conversions ------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [FP8_E4M3, FP8_E5M2, BF16, FP16])
def test_decode_matches_ml_dtypes_all_codes(fmt):
    codes = np.arange(1 << min(fmt.width, 16), dtype=np.int64)
    np.testing.assert_equal(gfp.to_float(codes, fmt), decode(codes, fmt))


@pytest.mark.parametrize("fmt", [FP8_E4M3, FP8_E5M2, BF16, FP16])
def test_from_float_matches_single_rounding(fmt):
    rng = np.random.default_rng(1)
    # float32-exact inputs, where numpy / ml_dtypes round once
    x = rng.standard_normal(50_000).astype(np.float32) * np.float32(2.0) ** rng.integers(
        -30, 30, 50_000).astype(np.float32)
    x = np.concatenate([x, [0.0, -0.0, np.inf, -np.inf, fmt.max_value, -fmt.max_value,
                            fmt.max_value * 1.0625, 2.0 ** (fmt.emin - fmt.man_bits - 1)]])
    x = x.astype(np.float64)
    got = gfp.from_float(x, fmt)
    ref = decode(got, fmt)
    with np.errstate(over="ignore"):      # values beyond the format are meant to overflow
        exp = x.astype({BF16: ml_dtypes.bfloat16, FP16: np.float16,
                        FP8_E4M3: ml_dtypes.float8_e4m3fn,
                        FP8_E5M2: ml_dtypes.float8_e5m2}[fmt]).astype(np.float64)
    np.testing.assert_equal(ref, exp)


def test_ml_dtypes_double_rounds_bfloat16_from_float64():
    """Why the reference avoids ml_dtypes for values that are not float32: 1 + 2**-8 + 2**-30
    lies above the midpoint, so the nearest bfloat16 is 1 + 2**-7."""
    x = np.array([1 + 2.0 ** -8 + 2.0 ** -30])
    assert gfp.from_float(x, BF16)[0] == 0x3F81
    assert x.astype(ml_dtypes.bfloat16).view(np.uint16)[0] == 0x3F80


# --- the exact FMA against the reference ------------------------------------------------------
def _acc_set(fmt: FloatFormat, rng, count: int) -> np.ndarray:
    rand = rng.integers(0, 1 << fmt.width, count)
    return np.concatenate([special_codes(fmt), rand]).astype(np.int64)


@pytest.mark.parametrize("in_fmt, acc_fmt", [(FP8_E4M3, FP32), (FP8_E5M2, FP32),
                                             (FP8_E4M3, BF16), (FP8_E4M3, FP8_E4M3),
                                             (FP8_E5M2, FP16)])
def test_exact_fma_fp8_exhaustive(in_fmt, acc_fmt):
    rng = np.random.default_rng(2)
    ab = np.arange(256, dtype=np.int64)
    a, b = np.meshgrid(ab, ab, indexing="ij")
    accs = _acc_set(acc_fmt, rng, 4)
    a, b, c = a.reshape(1, -1), b.reshape(1, -1), accs.reshape(-1, 1)
    got = gfp.fma(c, a, b, in_fmt=in_fmt, acc_fmt=acc_fmt)
    want = reference_fma(c, a, b, in_fmt=in_fmt, acc_fmt=acc_fmt)
    np.testing.assert_equal(got, want)


def _bf16_cases(rng, count):
    sp = special_codes(BF16)
    a, b = rng.integers(0, 1 << 16, count), rng.integers(0, 1 << 16, count)
    # exponents near each other so that cancellation and ties are common
    near = rng.integers(0, 1 << 16, count) & 0x807F | 0x3F00
    return a, b, near, sp


@pytest.mark.parametrize("acc_fmt", [FP32, BF16])
def test_exact_fma_bf16_random_and_specials(acc_fmt):
    rng = np.random.default_rng(3)
    count = 100_000
    a, b, near, _ = _bf16_cases(rng, count)
    acc = rng.integers(0, 1 << acc_fmt.width, count)
    # a quarter: accumulator close to -a*b, the cancellation path
    prod = gfp.to_float(near, BF16) * gfp.to_float(b & 0x807F | 0x3F80, BF16)
    close = gfp.from_float(-prod * (1 + rng.standard_normal(count) * 2.0 ** -6), acc_fmt)
    q = count // 4
    a = np.concatenate([a[:-q], near[-q:]])
    b = np.concatenate([b[:-q], (b & 0x807F | 0x3F80)[-q:]])
    acc = np.concatenate([acc[:-q], close[-q:]]).astype(np.int64)
    got = gfp.fma(acc, a, b, in_fmt=BF16, acc_fmt=acc_fmt)
    np.testing.assert_equal(got, reference_fma(acc, a, b, in_fmt=BF16, acc_fmt=acc_fmt))
    # every special-value combination
    sp_in, sp_acc = special_codes(BF16), special_codes(acc_fmt)
    a, b, c = (x.reshape(-1) for x in np.meshgrid(sp_in, sp_in, sp_acc, indexing="ij"))
    got = gfp.fma(c, a, b, in_fmt=BF16, acc_fmt=acc_fmt)
    np.testing.assert_equal(got, reference_fma(c, a, b, in_fmt=BF16, acc_fmt=acc_fmt))


def test_exact_fma_signed_zero_and_cancellation():
    one, m_one = 0x3F80, 0xBF80
    fp32_one = 0x3F800000
    got = gfp.fma(np.array([0x80000000, 0x80000000, 0, 0xBF800000]),
                  np.array([0x8000, 0x8000, 0x8000, one]), np.array([one, m_one, one, one]),
                  in_fmt=BF16, acc_fmt=FP32)
    # -0 + -0*1 = -0 ; -0 + +0 = +0 ; +0 + -0 = +0 ; -1 + 1*1 = +0
    np.testing.assert_equal(got, [0x80000000, 0, 0, 0])
    assert gfp.fma(fp32_one, m_one, one, in_fmt=BF16, acc_fmt=FP32) == 0


# --- approximate settings: what they promise --------------------------------------------------
NORMS = [ApproxNorm(lz_window=k) for k in (2, 4, 8)] + [
    ApproxNorm(guard_bits=2), ApproxNorm(guard_bits=1, sticky=False),
    ApproxNorm(lz_window=4, guard_bits=2, sticky=False), ApproxNorm(sticky=False)]


@pytest.mark.parametrize("norm", NORMS, ids=lambda n: n.describe())
def test_approx_differs_only_where_documented(norm):
    rng = np.random.default_rng(4)
    a, b, near, _ = _bf16_cases(rng, 50_000)
    acc = rng.integers(0, 1 << 32, a.size)
    exact = gfp.fma(acc, near, b, in_fmt=BF16, acc_fmt=FP32)
    approx = gfp.fma(acc, near, b, in_fmt=BF16, acc_fmt=FP32, norm=norm)
    ve, va = gfp.to_float(exact, FP32), gfp.to_float(approx, FP32)
    np.testing.assert_equal(np.isnan(ve), np.isnan(va))
    differ = (exact != approx) & np.isfinite(ve) & np.isfinite(va)
    assert differ.any()  # each setting is really approximate on this sample
    # a flushed cancellation: +0 where the exact sum is below 2**(1-k) of the operands
    bound = np.maximum(np.abs(gfp.to_float(acc, FP32)),
                       np.abs(gfp.to_float(near, BF16) * gfp.to_float(b, BF16)))
    k = norm.lz_window if norm.lz_window is not None else 99
    flushed = (approx == 0) & (np.abs(ve) < bound * 2.0 ** (1 - k))
    # truncated alignment / fewer guard bits: within one unit in the last place
    ulp = np.ldexp(1.0, np.maximum(np.frexp(np.abs(ve))[1] - 24, FP32.emin - 23))
    with np.errstate(invalid="ignore"):
        near_exact = np.abs(ve - va) <= ulp
    assert np.all((flushed | near_exact)[differ])
    if norm.guard_bits == 3 and norm.sticky:
        assert np.all(flushed[differ])


def test_no_product_normalization_flushes_only_tiny_products():
    rng = np.random.default_rng(6)
    a = rng.integers(0, 1 << 16, 200_000)
    a = np.where(rng.random(a.size) < 0.3, a & 0x807F, a)  # many subnormals
    b = rng.integers(0, 1 << 16, a.size) & 0xBFFF  # finite: exponent field below 0xFF
    acc = rng.integers(0, 1 << 32, a.size) & 0xBFFFFFFF
    fin = (a & 0x7F80) != 0x7F80
    a, b, acc = a[fin], b[fin], acc[fin]
    norm = ApproxNorm(product_norm=False)
    got = gfp.fma(acc, a, b, in_fmt=BF16, acc_fmt=FP32, norm=norm)
    exact = gfp.fma(acc, a, b, in_fmt=BF16, acc_fmt=FP32)

    def sig(x):
        return np.where(x & 0x7F80, (x & 0x7F) | 0x80, x & 0x7F)

    tiny = (sig(a) * sig(b)) < (1 << 14)
    np.testing.assert_equal(got[~tiny], exact[~tiny])
    zeroed = gfp.fma(acc, a & 0x8000, b & 0x8000, in_fmt=BF16, acc_fmt=FP32)
    np.testing.assert_equal(got[tiny], zeroed[tiny])
    assert (got != exact).any()
