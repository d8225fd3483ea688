"""Bit-exact NumPy models of the integer non-linear units in ``neurogate.hw.nonlinear``.

Every constant comes from the unit's frozen config (``numerics/nonlinear.py``), which
the RTL generator reads too.  Shifts of negative numbers are arithmetic (floor), as in
the hardware.
"""

from __future__ import annotations

import numpy as np

from ...numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig, SoftmaxConfig
from ...numerics.rounding import Rounding
from .arith import round_shift, saturate


def _check_signed(x: np.ndarray, bits: int, what: str) -> None:
    """Refuse values outside signed ``bits``, naming ``what`` and the range."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if x.size and (x.min() < lo or x.max() > hi):
        raise ValueError(f"{what} must be in [{lo}, {hi}]")


def softmax_exp(cfg: SoftmaxConfig, n) -> np.ndarray:
    """Integer ``e ~ exp_max * exp(-n * 2**-in_frac)`` for ``n = row_max - x >= 0``."""
    n = np.asarray(n, dtype=np.int64)
    scaled = n << (cfg.frac - cfg.in_frac)
    if cfg.method == "iexp":
        z = scaled // cfg.q_ln2
        zc = np.minimum(z, cfg.max_shift)
        # p = -(scaled - z * q_ln2) lies in (-ln2, 0]; t = p + B > 0.
        t = cfg.q_b - (scaled - z * cfg.q_ln2)
        return (t * t + cfg.q_c) >> zc
    # Shiftmax: v ~ -scaled * log2(e); v = -z + f / 2**frac with f in [0, 2**frac).
    d = -scaled
    v = d + (d >> 1) - (d >> 4)
    z = -(v >> cfg.frac)
    f = v & ((1 << cfg.frac) - 1)
    return ((1 << cfg.frac) + f) >> np.minimum(z, cfg.max_shift)


def softmax_factor(cfg: SoftmaxConfig, total) -> np.ndarray:
    """``floor(2**norm_shift / total)``: one division per row."""
    return (1 << cfg.norm_shift) // np.asarray(total, dtype=object)


def softmax_normalize(cfg: SoftmaxConfig, e, factor) -> np.ndarray:
    """``min(round(e * factor / 2**(norm_shift - out_bits)), 2**out_bits - 1)``."""
    shift = cfg.norm_shift - cfg.out_bits
    value = (np.asarray(e, dtype=object) * factor + (1 << (shift - 1))) >> shift
    return np.minimum(value, (1 << cfg.out_bits) - 1).astype(np.int64)


def softmax_row(cfg: SoftmaxConfig, x) -> np.ndarray:
    """One row of signed ``in_bits`` logits to ``out_bits`` probabilities (or BiViT bits)."""
    x = np.asarray(x, dtype=np.int64)
    if not 1 <= x.size <= cfg.max_len:
        raise ValueError(f"row length must be from 1 to {cfg.max_len}, not {x.size}")
    _check_signed(x, cfg.in_bits, "logits")
    e = softmax_exp(cfg, x.max() - x)
    factor = softmax_factor(cfg, int(e.sum()))
    p = softmax_normalize(cfg, e, factor)
    if cfg.binarize:
        p_max = int(softmax_normalize(cfg, cfg.exp_max, factor))
        return (p >= (p_max >> 2)).astype(np.int64)
    return p


def softmax_float(cfg: SoftmaxConfig, x) -> np.ndarray:
    """The float function the unit approximates (for accuracy tables, not for tests)."""
    v = np.asarray(x, dtype=np.float64) * 2.0 ** -cfg.in_frac
    e = np.exp(v - v.max())
    return e / e.sum()


def activation(cfg: ActivationConfig, x) -> np.ndarray:
    """Golden model of ``hw.nonlinear.activation.Activation`` (elementwise)."""
    x = np.asarray(x, dtype=np.int64)
    _check_signed(x, cfg.in_bits, "inputs")
    a = x + (x >> 1) + (x >> 3) + (x >> 4) if cfg.function == "shiftgelu" else x
    e = softmax_exp(cfg.exp, np.abs(a))
    p = cfg.sigmoid_frac
    q = (e << p) // (cfg.exp.exp_max + e)
    s = np.where(a < 0, q, (1 << p) - q)
    if cfg.function == "sigmoid":
        return np.minimum(round_shift(s, 2, Rounding.HALF_UP), (1 << cfg.out_bits) - 1)
    y = round_shift(x * s, cfg.product_shift, Rounding.HALF_UP)
    return saturate(y, -(1 << (cfg.out_bits - 1)), (1 << (cfg.out_bits - 1)) - 1)


def activation_float(cfg: ActivationConfig, x) -> np.ndarray:
    """The float function (sigmoid in [0, 1]; SiLU / exact erf GELU in real units)."""
    from math import erf

    v = np.asarray(x, dtype=np.float64) * 2.0 ** -cfg.in_frac
    if cfg.function == "sigmoid":
        return 1 / (1 + np.exp(-v))
    if cfg.function == "silu":
        return v / (1 + np.exp(-v))
    return v * 0.5 * (1 + np.vectorize(erf)(v / np.sqrt(2)))


def isqrt_newton(value: int) -> tuple[int, int]:
    """I-BERT's IntSqrt: ``(floor(sqrt(value)), iterations)``; Newton from
    ``2**ceil(bits/2)``, stopping when the iterate stops decreasing."""
    if value == 0:
        return 0, 0
    x = 1 << ((value.bit_length() + 1) // 2)
    steps = 0
    while True:
        steps += 1
        y = (x + value // x) >> 1
        if y >= x:
            return x, steps
        x = y


def norm_row(cfg: NormConfig, x) -> np.ndarray:
    """Golden model of ``hw.nonlinear.norm.Norm`` for one row (see ``NormConfig``)."""
    x = np.asarray(x, dtype=np.int64)
    if not 1 <= x.size <= cfg.max_len:
        raise ValueError(f"row length must be from 1 to {cfg.max_len}, not {x.size}")
    _check_signed(x, cfg.in_bits, "inputs")
    n = x.size
    s1 = int(x.sum()) if cfg.kind == "layernorm" else 0
    s2 = int((x * x).sum())
    root, _ = isqrt_newton((n * s2 - s1 * s1) << (2 * cfg.guard))
    factor = (1 << cfg.norm_shift) // root if root else 0
    centered = (n * x - s1).astype(object)
    value = centered * factor
    if cfg.affine:
        gamma = np.array(cfg.gamma[:n], dtype=object)
        beta = np.array(cfg.beta[:n] if cfg.beta else [0] * n, dtype=object)
        value = value * gamma + (beta << cfg.affine_shift)
    y = round_shift(value, cfg.affine_shift, Rounding.HALF_UP)
    out_lo, out_hi = -(1 << (cfg.out_bits - 1)), (1 << (cfg.out_bits - 1)) - 1
    return saturate(y, out_lo, out_hi).astype(np.int64)


def norm_float(cfg: NormConfig, x) -> np.ndarray:
    """Float LayerNorm / RMSNorm without eps (zero-variance rows give 0 before the affine
    part, like the unit), with ``gamma``/``beta`` in real units when the config has them."""
    x = np.asarray(x, dtype=np.float64)
    centered = x - x.mean() if cfg.kind == "layernorm" else x
    std = np.sqrt((centered * centered).mean())
    y = np.zeros_like(x) if std == 0 else centered / std
    if cfg.affine:
        n = x.size
        y = y * np.array(cfg.gamma[:n]) * 2.0 ** -cfg.gamma_frac
        if cfg.beta:
            y = y + np.array(cfg.beta[:n]) * 2.0 ** -cfg.out_frac
    return y


def igelu(cfg: IGeluConfig, x) -> np.ndarray:
    """Golden model of ``hw.nonlinear.activation.IGelu`` (see ``IGeluConfig``)."""
    x = np.asarray(x, dtype=np.int64)
    _check_signed(x, cfg.in_bits, "inputs")
    u = x << (cfg.frac - cfg.in_frac)
    clipped = np.minimum(np.abs(u), -cfg.q_b)
    poly = (clipped + cfg.q_b) ** 2 + cfg.q_c
    erf = np.where(u < 0, -poly, poly)
    q = u.astype(object) * (erf + cfg.q_c)
    y = round_shift(-q * cfg.scale, cfg.out_shift, Rounding.HALF_UP)
    out_lo, out_hi = -(1 << (cfg.out_bits - 1)), (1 << (cfg.out_bits - 1)) - 1
    return saturate(y, out_lo, out_hi).astype(np.int64)


def gelu_float(in_frac: int, x) -> np.ndarray:
    from math import erf

    v = np.asarray(x, dtype=np.float64) * 2.0 ** -in_frac
    return v * 0.5 * (1 + np.vectorize(erf)(v / np.sqrt(2)))


def _rows(x, row_fn) -> np.ndarray:
    """``row_fn`` applied to every row (the last axis) of ``x``, shape kept."""
    x = np.asarray(x, dtype=np.int64)
    flat = x.reshape(-1, x.shape[-1])
    out = np.array([row_fn(row) for row in flat], dtype=np.int64)
    return out.reshape(x.shape)


def softmax(cfg: SoftmaxConfig, x) -> np.ndarray:
    """The ``Softmax`` op: ``softmax_row`` on every row (last axis) of a batch ``x``
    (``(batch, ..., L)``, ``L <= max_len``): unsigned ``out_bits`` probabilities at
    ``out_bits`` fractional bits, or BiViT bits (0/1) with ``binarize``."""
    return _rows(x, lambda row: softmax_row(cfg, row))


def norm(cfg: NormConfig, x) -> np.ndarray:
    """The ``Norm`` op (LayerNorm or RMSNorm by ``cfg.kind``): ``norm_row`` on every row
    (last axis) of a batch ``x``; element ``j`` of a row uses ``gamma[j]``, ``beta[j]``."""
    return _rows(x, lambda row: norm_row(cfg, row))
