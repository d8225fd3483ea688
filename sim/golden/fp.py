"""Bit-exact NumPy model of the floating-point multiply-add units (``hw/fp/fma.py``).

Everything works on integer bit patterns (``int64`` arrays).  ``fma`` follows the
hardware datapath step for step, so every ``ApproxNorm`` setting is reproduced bit for
bit; with ``ApproxNorm.exact()`` it computes ``round_rne(acc + a*b)`` with a single
rounding (checked in the tests against exact Python-integer arithmetic and against
float64 + ``ml_dtypes``).  Format conventions are in ``neurogate.numerics.floats``.

``from_float`` / ``to_float`` convert to and from float64 with an explicit
round-to-nearest-even; ``ml_dtypes`` is only used by tests as an independent reference
(note: ``ml_dtypes`` 0.6 rounds float64 to bfloat16 through float32, i.e. twice, so it is
not a correct reference for float64 inputs that are not exactly float32).
"""

from __future__ import annotations

import numpy as np

from ...numerics.floats import EXACT, ApproxNorm, FloatFormat


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def bit_length(v: np.ndarray) -> np.ndarray:
    """Bit length of non-negative integers below 2**53 (exact through float64)."""
    _, e = np.frexp(np.asarray(v, dtype=np.float64))
    return e.astype(np.int64)


def unpack(codes, fmt: FloatFormat) -> dict[str, np.ndarray]:
    """Fields and classes of ``codes``: sign, significand (hidden bit included), unbiased
    exponent ``exp`` (``max(field, 1) - bias``), and the flags nan / inf / zero."""
    c = _i64(codes)
    m, e = fmt.man_bits, fmt.exp_bits
    sign = (c >> (e + m)) & 1
    field = (c >> m) & fmt.exp_all_ones
    frac = c & ((1 << m) - 1)
    if fmt.inf_nan == "ieee":
        nan = (field == fmt.exp_all_ones) & (frac != 0)
        inf = (field == fmt.exp_all_ones) & (frac == 0)
    else:
        nan = (field == fmt.exp_all_ones) & (frac == (1 << m) - 1)
        inf = np.zeros_like(nan)
    if not fmt.subnormals:
        frac = np.where(field == 0, 0, frac)  # denormals-are-zero
    sig = np.where(field > 0, frac | (1 << m), frac)
    return {"sign": sign, "sig": sig, "exp": np.maximum(field, 1) - fmt.bias,
            "nan": nan, "inf": inf, "zero": (sig == 0) & ~nan & ~inf}


def to_float(codes, fmt: FloatFormat) -> np.ndarray:
    """float64 value of each code (exact for every format up to FP32 range)."""
    u = unpack(codes, fmt)
    val = np.ldexp(u["sig"].astype(np.float64), (u["exp"] - fmt.man_bits).astype(np.int32))
    val = np.where(u["inf"], np.inf, val)
    val = np.where(u["nan"], np.nan, val)
    return np.where(u["sign"] == 1, -val, val)


def from_float(x, fmt: FloatFormat) -> np.ndarray:
    """Codes nearest to float64 ``x`` (round to nearest, ties to even; overflow to
    ``fmt.overflow_code``; NaN to the canonical NaN; flush when ``not fmt.subnormals``)."""
    x = np.asarray(x, dtype=np.float64)
    sign = np.signbit(x).astype(np.int64)
    ax = np.abs(x)
    finite = np.isfinite(ax)
    safe = np.where(finite & (ax > 0), ax, 1.0)
    _, e2 = np.frexp(safe)
    exp = np.maximum(e2.astype(np.int64) - 1, fmt.emin)
    # scaling by a power of two is exact, np.rint rounds half to even
    scaled = np.rint(np.ldexp(safe, (fmt.man_bits - exp).astype(np.int32))).astype(np.int64)
    mag = ((exp + fmt.bias - 1) << fmt.man_bits) + scaled
    mag = np.where(ax == 0, 0, mag)
    mag = np.where(mag > fmt.max_finite_code, fmt.overflow_code, mag)
    mag = np.where(np.isinf(ax), fmt.overflow_code, mag)
    if not fmt.subnormals:
        mag = np.where(mag < (1 << fmt.man_bits), 0, mag)
    code = (sign << (fmt.exp_bits + fmt.man_bits)) | mag
    return np.where(np.isnan(x), fmt.nan_code, code)


def window_bits(in_fmt: FloatFormat, acc_fmt: FloatFormat, norm: ApproxNorm) -> tuple[int, int]:
    """``(N, W)``: aligned significand width and sum window width (``N + G + 1``)."""
    n = max(2 * in_fmt.precision, acc_fmt.precision)
    return n, n + norm.guard_bits + 1


def fma(acc, a, b, *, in_fmt: FloatFormat, acc_fmt: FloatFormat,
        norm: ApproxNorm = EXACT) -> np.ndarray:
    """``acc + a * b`` on codes (``a``, ``b`` in ``in_fmt``; ``acc`` and result in
    ``acc_fmt``), broadcast, as the hardware computes it for ``norm``."""
    pi, pa, ma = in_fmt.precision, acc_fmt.precision, acc_fmt.man_bits
    n, w = window_bits(in_fmt, acc_fmt, norm)
    g = norm.guard_bits
    ua, ub, uc = unpack(a, in_fmt), unpack(b, in_fmt), unpack(acc, acc_fmt)
    ua, ub, uc = (dict(zip(u, np.broadcast_arrays(*u.values()))) for u in (ua, ub, uc))
    shape = np.broadcast_shapes(ua["sig"].shape, ub["sig"].shape, uc["sig"].shape)
    ua, ub, uc = ({k: np.broadcast_to(v, shape) for k, v in u.items()} for u in (ua, ub, uc))

    # step 1: exact product, normalized so its leading one is bit 2*pi-1 (weight 2**ep)
    p = ua["sig"] * ub["sig"]
    sp = ua["sign"] ^ ub["sign"]
    if not norm.product_norm:
        p = np.where((p >> (2 * pi - 2)) == 0, 0, p)  # below [1, 4): a zero product
    lzp = 2 * pi - bit_length(p)
    pn = (p << np.minimum(lzp, 2 * pi)) & ((1 << (2 * pi)) - 1)
    ep = ua["exp"] + ub["exp"] + 1 - lzp

    # step 2: X = operand with the larger exponent (the accumulator on ties or zero product)
    xp, xc = pn << (n - 2 * pi), uc["sig"] << (n - pa)
    ec, sc = uc["exp"], uc["sign"]
    swap = (p != 0) & (ep > ec)
    x, ex, sx = np.where(swap, xp, xc), np.where(swap, ep, ec), np.where(swap, sp, sc)
    y, ey, sy = np.where(swap, xc, xp), np.where(swap, ec, ep), np.where(swap, sc, sp)
    d = np.clip(ex - ey, 0, n + g)

    # step 3: align Y (jam the shifted-out bits into bit 0 when sticky), add, magnitude
    yw = y << g
    ya = yw >> d
    if norm.sticky:
        ya = ya | ((yw & ((np.int64(1) << d) - 1)) != 0)
    xw = x << g
    total = np.where(sx != sy, xw - ya, xw + ya)
    s = np.abs(total)
    sr = sx ^ (total < 0)

    # steps 4-5: normalize; the left shift never takes the exponent below emin (subnormals)
    cap = ex + 1 - acc_fmt.emin
    if norm.lz_window is None:
        shift = np.minimum(w - bit_length(s), cap)
        deep = np.zeros(shape, dtype=bool)
    else:
        k = norm.lz_window
        lzw = (k + 1) - bit_length(s >> (w - k - 1))
        deep = (lzw == k + 1) & (cap > k)
        shift = np.minimum(lzw, cap)
    sn = (s << np.where(deep, 0, shift)) & ((np.int64(1) << w) - 1)
    er = ex + 1 - shift

    # step 6: round to nearest even, pack (the carry of the increment reaches the exponent)
    r = w - pa
    sig = sn >> r
    rb = (sn >> (r - 1)) & 1
    st = (sn & ((np.int64(1) << (r - 1)) - 1)) != 0
    mag = ((er + acc_fmt.bias - 1) << ma) + sig + (rb & (st | (sig & 1)))
    mag = np.where((s == 0) | deep, 0, mag)
    overflow = mag > acc_fmt.max_finite_code
    mag = np.where(overflow, acc_fmt.overflow_code, mag)
    if not acc_fmt.subnormals:
        mag = np.where(mag < (1 << ma), 0, mag)
    both_zero = (p == 0) & (uc["sig"] == 0)
    sign = np.where(both_zero, sp & sc, np.where((s == 0) | deep, 0, sr))
    if acc_fmt.inf_nan == "fn":
        sign = np.where(overflow, 0, sign)

    # specials: NaN in, inf*0, inf-inf give NaN; an infinite operand passes through
    p_inf = ua["inf"] | ub["inf"]
    nan = ua["nan"] | ub["nan"] | uc["nan"] | (ua["inf"] & ub["zero"]) | (ub["inf"] & ua["zero"])
    nan = nan | (p_inf & uc["inf"] & (sp != sc))
    inf = p_inf | uc["inf"]
    inf_sign = np.where(p_inf, sp, sc)
    top = acc_fmt.exp_bits + ma
    code = (sign << top) | mag
    if acc_fmt.inf_nan == "ieee":
        code = np.where(inf, (inf_sign << top) | acc_fmt.inf_code, code)
    else:
        nan = nan | inf
    return np.where(nan, acc_fmt.nan_code, code)


def matmul_chain(a, b, *, in_fmt: FloatFormat, acc_fmt: FloatFormat,
                 norm: ApproxNorm = EXACT, init=None) -> np.ndarray:
    """``C[i, j]``: the chain ``acc <- fma(acc, a[i, k], b[k, j])`` for ``k = 0, 1, ...``
    starting from ``init[i, j]`` (default +0), the order of the systolic array."""
    a, b = _i64(a), _i64(b)
    acc = np.zeros((a.shape[0], b.shape[1]), dtype=np.int64) if init is None else _i64(init)
    for k in range(a.shape[1]):
        acc = fma(acc, a[:, k:k + 1], b[k:k + 1, :], in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm)
    return acc


def float_dense(x, weights, bias, *, in_fmt: FloatFormat, acc_fmt: FloatFormat,
                norm: ApproxNorm) -> np.ndarray:
    """The ``FloatDense`` op on a batch ``x`` (``(batch, in)`` codes of ``in_fmt``):
    output ``n`` is the chain ``acc <- fma(acc, x[k], weights[n, k])``, ``k = 0, 1,
    ...``, from ``acc = bias[n]`` (codes of ``acc_fmt``), each step one unit with
    normalization ``norm``."""
    init = np.broadcast_to(np.asarray(bias), (np.shape(x)[0], np.shape(bias)[0]))
    return matmul_chain(x, np.asarray(weights).T, in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm,
                        init=init)


def float_convert(x, *, in_fmt: FloatFormat, out_fmt: FloatFormat) -> np.ndarray:
    """The ``FloatConvert`` op: codes of ``in_fmt`` to the nearest codes of ``out_fmt``
    (ties to even).  float64 holds every value of formats up to FP32 exactly, so the
    detour through it rounds once."""
    return from_float(to_float(x, in_fmt), out_fmt)
