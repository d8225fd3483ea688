"""Bindings of the elementwise ops (Requantize, Add, Mul, Relu, Clip, SignBinarize) to the
kernels of ``ng_requant.h`` and ``ng_eltwise.h``.

Every intermediate type is sized here from the operands' ranges so that the kernel's
integer arithmetic is exact; the one rounding (``NG_ROUNDING``, ap_fixed's mode where it
has one) and the overflow (``AP_OVERFLOW``) are applied by ``ng::quant::round_fit``.  The
width helpers are in ``bindings.common``.
"""

from __future__ import annotations

import numpy as np

from ....ir import Add, Clip, Mul, Relu, Requantize, SignBinarize, TensorType
from ..binding import AP_OVERFLOW, NG_ROUNDING, Array, HlsOptions, KernelCall
from .common import (
    c_name,
    element_type,
    int_literal,
    io_types,
    kernel_call,
    literal_type,
    signed_bits,
    sint,
)


def _modes(node) -> list[str]:
    return [f"static const int rounding = {NG_ROUNDING[node.rounding]};",
            f"static const ap_o_mode overflow = {AP_OVERFLOW[node.overflow]};"]


def _common(n: int, options: HlsOptions) -> list[str]:
    return [f"static const unsigned n = {n};",
            f"static const unsigned reuse_factor = {options.reuse};"]


def bind_requantize(node: Requantize, in_types: list[TensorType],
                    options: HlsOptions) -> KernelCall:
    (x,) = in_types
    config = [f"// {node.name}: y = overflow(round(x{' * m' if node.multiplier is not None else ''}"
              f" / 2^{node.shift})), in {x.fmt.describe()}, out {node.out.fmt.describe()}",
              *io_types(node, x), *_common(x.size, options),
              f"static const int shift = {node.shift};", *_modes(node)]
    if node.multiplier is None:
        return kernel_call("ng_requant.h", "requantize", config)
    m = np.asarray(node.multiplier).reshape(-1)
    m_lo, m_hi = int(min(m)), int(max(m))
    mult_bits = signed_bits(m_lo, m_hi)
    corners = [a * b for a in (x.fmt.min, x.fmt.max) for b in (m_lo, m_hi)]
    prod_bits = signed_bits(min(corners), max(corners))
    name = f"{c_name(node.name)}_m"
    config += [f"typedef ap_int<{mult_bits}> mult_t;",
               f"typedef {sint(prod_bits, node.name + ': x * m')} prod_t;",
               f"static const unsigned n_mult = {m.size};"]
    return kernel_call("ng_requant.h", "requantize", config,
                       arrays=(Array(name, f"ap_int<{mult_bits}>", m),))


def _binary_types(node, in_types):
    a, b = in_types
    return (element_type(a, f"{node.name}: a"), element_type(b, f"{node.name}: b"),
            element_type(node.out, f"{node.name}: the output"))


def bind_add(node: Add, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    a, b = in_types
    a_t, b_t, out_t = _binary_types(node, in_types)
    frac = max(a.fmt.frac, b.fmt.frac)
    a_shift, b_shift = frac - a.fmt.frac, frac - b.fmt.frac
    a_lo, a_hi = a.fmt.min << a_shift, a.fmt.max << a_shift
    b_lo, b_hi = b.fmt.min << b_shift, b.fmt.max << b_shift
    sum_bits = max(signed_bits(a_lo, a_hi), signed_bits(b_lo, b_hi),
                   signed_bits(a_lo + b_lo, a_hi + b_hi))
    shift = frac - node.out.fmt.frac
    config = [f"// {node.name}: a {a.fmt.describe()} + b {b.fmt.describe()} at frac {frac}, "
              f"to {node.out.fmt.describe()}",
              f"typedef {a_t} a_t;", f"typedef {b_t} b_t;", f"typedef {out_t} out_t;",
              f"typedef {sint(sum_bits, node.name + ': a + b')} sum_t;",
              *_common(a.size, options), f"static const int a_shift = {a_shift};",
              f"static const int b_shift = {b_shift};", f"static const int shift = {shift};",
              *_modes(node)]
    return kernel_call("ng_eltwise.h", "add", config, n_in=2)


def bind_mul(node: Mul, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    a, b = in_types
    a_t, b_t, out_t = _binary_types(node, in_types)
    corners = [p * q for p in (a.fmt.min, a.fmt.max) for q in (b.fmt.min, b.fmt.max)]
    prod_bits = signed_bits(min(corners), max(corners))
    shift = a.fmt.frac + b.fmt.frac - node.out.fmt.frac
    config = [f"// {node.name}: a {a.fmt.describe()} * b {b.fmt.describe()}, "
              f"to {node.out.fmt.describe()}",
              f"typedef {a_t} a_t;", f"typedef {b_t} b_t;", f"typedef {out_t} out_t;",
              f"typedef {sint(prod_bits, node.name + ': a * b')} prod_t;",
              *_common(a.size, options), f"static const int shift = {shift};", *_modes(node)]
    return kernel_call("ng_eltwise.h", "mul", config, n_in=2)


def _unary(node, in_types, options, kernel: str, extra=()) -> KernelCall:
    (x,) = in_types
    config = [*io_types(node, x), *_common(x.size, options), *extra]
    return kernel_call("ng_eltwise.h", kernel, config)


def bind_relu(node: Relu, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    return _unary(node, in_types, options, "relu")


def bind_clip(node: Clip, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    bounds = [f"static const {literal_type(node.lo)} lo = {int_literal(node.lo)};",
              f"static const {literal_type(node.hi)} hi = {int_literal(node.hi)};"]
    return _unary(node, in_types, options, "clip", bounds)


def bind_sign_binarize(node: SignBinarize, in_types: list[TensorType],
                       options: HlsOptions) -> KernelCall:
    return _unary(node, in_types, options, "sign_binarize")


BINDINGS = {
    Requantize: bind_requantize,
    Add: bind_add,
    Mul: bind_mul,
    Relu: bind_relu,
    Clip: bind_clip,
    SignBinarize: bind_sign_binarize,
}
