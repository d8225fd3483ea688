"""Independent reference for ``acc + a*b`` rounded once: float64 + numpy/ml_dtypes where
that is exact, Python integers where it is not.  Shares no code with the golden model."""

from __future__ import annotations

import ml_dtypes
import numpy as np
from neurogate.numerics.floats import BF16, FP8_E4M3, FP8_E5M2, FP16, FP32, FloatFormat

_VIEWS = {BF16: (np.uint16, ml_dtypes.bfloat16), FP16: (np.uint16, np.float16),
          FP32: (np.uint32, np.float32), FP8_E4M3: (np.uint8, ml_dtypes.float8_e4m3fn),
          FP8_E5M2: (np.uint8, ml_dtypes.float8_e5m2)}


def decode(codes, fmt: FloatFormat) -> np.ndarray:
    """float64 values through numpy/ml_dtypes views (presets only)."""
    utype, ftype = _VIEWS[fmt]
    with np.errstate(invalid="ignore"):   # NaN codes are meant to decode to NaN
        return np.asarray(codes).astype(utype).view(ftype).astype(np.float64)


def _round_int(num: int, exp: int, fmt: FloatFormat) -> int:
    """Code of ``num * 2**exp`` (num != 0) rounded to nearest even, plain integers."""
    sign = 1 if num < 0 else 0
    num = abs(num)
    lead = exp + num.bit_length() - 1
    e = max(lead, fmt.emin)
    drop = (e - fmt.man_bits) - exp
    if drop > 0:
        kept, rest, half = num >> drop, num & ((1 << drop) - 1), 1 << (drop - 1)
        if rest > half or (rest == half and kept & 1):
            kept += 1
    else:
        kept = num << -drop
    mag = ((e + fmt.bias - 1) << fmt.man_bits) + kept
    if mag > fmt.max_finite_code:
        if fmt.inf_nan == "fn":
            return fmt.nan_code
        mag = fmt.inf_code
    if not fmt.subnormals and mag < (1 << fmt.man_bits):
        mag = 0
    return (sign << (fmt.width - 1)) | mag


def _as_int(x: float) -> tuple[int, int]:
    mant, e = np.frexp(x)
    return int(np.ldexp(mant, 53)), int(e) - 53


def reference_fma(acc, a, b, *, in_fmt: FloatFormat, acc_fmt: FloatFormat) -> np.ndarray:
    """Correctly rounded ``acc + a*b`` codes; NaN results reported as ``acc_fmt.nan_code``."""
    fa, fb, fc = decode(a, in_fmt), decode(b, in_fmt), decode(acc, acc_fmt)
    fa, fb, fc = np.broadcast_arrays(fa, fb, fc)
    with np.errstate(invalid="ignore", over="ignore"):
        p = fa * fb  # exact: at most 2 * 11 significant bits, exponents far inside float64
        s = p + fc
        # TwoSum: err is the exact rounding error of s (0 when s is exact)
        bb = s - p
        err = (p - (s - bb)) + (fc - bb)
    utype, ftype = _VIEWS[acc_fmt]
    with np.errstate(over="ignore", invalid="ignore"):
        out = s.astype(ftype).view(utype).astype(np.int64)
    # numpy's float64->float32 rounds once; ml_dtypes goes through float32, so beyond FP32
    # it is only trusted when s is exactly a float32
    trusted = np.isfinite(s) & (err == 0)
    if acc_fmt is not FP32:
        with np.errstate(over="ignore"):
            trusted &= s.astype(np.float32).astype(np.float64) == s
    redo = np.flatnonzero(~trusted & np.isfinite(s) & (s != 0) | (err != 0) & np.isfinite(err))
    flat_out, fp, fcc = out.reshape(-1), p.reshape(-1), fc.reshape(-1)
    for i in redo:
        n1, e1 = _as_int(fp[i])
        n2, e2 = _as_int(fcc[i])
        e = min(e1, e2)
        total = (n1 << (e1 - e)) + (n2 << (e2 - e))
        if total == 0:
            flat_out[i] = 0
        else:
            flat_out[i] = _round_int(total, e, acc_fmt)
    out = flat_out.reshape(s.shape)
    nan = np.isnan(s) | np.isnan(decode(out, acc_fmt))
    if acc_fmt.inf_nan == "fn":
        nan |= np.isinf(s)
    return np.where(nan, acc_fmt.nan_code, out)
