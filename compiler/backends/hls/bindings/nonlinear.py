"""Bindings of the integer non-linear units (Softmax, Norm, Activation, IGelu) to the kernels
of ``ng_nonlinear.h``.

The golden model (``sim/golden/nonlinear.py``) computes with int64 and, where that could
overflow, Python integers.  Here every intermediate gets an ``ap_int``/``ap_uint`` typedef
sized from the bounds of the values it can hold, derived from the unit's config and the
row length (the comments of each config struct give the bound); ``ap_int`` arithmetic is
exact up to the declared width, so the kernels produce the golden integers for every
input.  No native ``int64``/``__int128`` arithmetic is used: the Norm's variance and
``c * factor * gamma`` need up to ~100 bits (the softmax's ``2**norm_shift`` up to 58,
the i-GELU's ``-q * scale`` up to 60), and ``ap_int`` keeps the hardware at the exact
width of each value.
"""

from __future__ import annotations

import numpy as np

from .....numerics.nonlinear import SoftmaxConfig
from ....ir import Activation, IGelu, Norm, Softmax, TensorType
from ..binding import Array, HlsOptions, KernelCall
from .common import c_bool, c_name, io_types, kernel_call, signed_bits, sint, uint, unsigned_bits


def _signed(lo: int, hi: int, what: str) -> str:
    return sint(signed_bits(lo, hi), what)


def _corners(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """The range of ``x * y`` for ``x`` in ``a`` and ``y`` in ``b``."""
    products = [x * y for x in a for y in b]
    return min(products), max(products)


def _io(node, x: TensorType, options: HlsOptions) -> list[str]:
    rows = x.size // x.shape[-1]
    return [*io_types(node, x),
            f"typedef ap_int<{node.config.in_bits}> x_t;",
            f"static const unsigned n = {x.size}, row_len = {x.shape[-1]}, rows = {rows};",
            f"static const unsigned reuse_factor = {options.reuse};"]


def exp_struct(c: SoftmaxConfig, what: str) -> list[str]:
    """``struct exp_cfg`` of ``nonlinear::exp_stage`` for the exponent constants of ``c``.

    Both methods' types are declared (the kernel compiles both branches).  Bounds:
    ``n <= max_neg``, ``scaled <= max_neg << frac_shift``; i-exp: ``z <= scaled // q_ln2``,
    ``t <= q_b``, ``t*t + q_c <= exp_max``; Shiftmax: ``|v| <= 1.5 |d| + 1 < 2**(bits(d)+1)``.
    """
    shift = c.frac - c.in_frac
    scaled = c.max_neg << shift
    z_mult, z_shift = c.z_reciprocal
    lines = [f"// n = max - x in [0, {c.max_neg}], scaled = n << {shift}, e in [0, {c.exp_max}]",
             f"typedef ap_uint<{c.in_bits}> neg_t;",
             f"typedef {uint(unsigned_bits(scaled), what)} scaled_t;",
             f"typedef ap_uint<{c.exp_bits + 1}> exp_t;",
             f"static const bool shiftmax = {c_bool(c.method == 'shiftmax')};",
             f"static const int frac = {c.frac}, frac_shift = {shift};",
             f"static const int max_shift = {c.max_shift};",
             f"static const unsigned long long exp_max = {c.exp_max}ULL;",
             "// i-exp: z = (n * z_mult) >> z_shift = scaled // q_ln2 (exact over neg_t)",
             f"typedef ap_uint<{unsigned_bits(z_mult)}> zmult_t;",
             f"static const unsigned long long z_mult = {z_mult}ULL;",
             f"static const int z_shift = {z_shift};",
             f"typedef ap_uint<{unsigned_bits(c.max_neg * z_mult)}> zprod_t;",
             f"typedef ap_uint<{unsigned_bits(scaled // c.q_ln2)}> z_t;",
             f"typedef ap_uint<{unsigned_bits(c.q_ln2)}> ln2_t;",
             f"static const unsigned long long q_ln2 = {c.q_ln2}ULL;",
             f"typedef ap_uint<{unsigned_bits(c.q_b)}> t_t;",
             f"static const unsigned long long q_b = {c.q_b}ULL, q_c = {c.q_c}ULL;",
             "// Shiftmax: d = -scaled, v = d + (d >> 1) - (d >> 4)",
             f"typedef ap_int<{unsigned_bits(scaled) + 3}> v_t;"]
    return ["struct exp_cfg {", *(f"    {line}" for line in lines), "};"]


def bind_softmax(node: Softmax, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    (x,) = in_types
    c = node.config
    length = x.shape[-1]
    shift = c.norm_shift
    factor_max = (1 << shift) // c.exp_max          # the sum is at least exp_max
    config = [f"// {node.name}: {c.method} softmax of rows of {length}"
              f"{', BiViT binarized' if c.binarize else ''}",
              *_io(node, x, options), *exp_struct(c, node.name),
              f"typedef ap_uint<{unsigned_bits(length * c.exp_max)}> sum_t;",
              f"static const int norm_shift = {shift};",
              f"typedef {uint(shift + 1, node.name)} num_t;",
              f"typedef ap_uint<{unsigned_bits(factor_max)}> factor_t;",
              f"typedef {uint(unsigned_bits(c.exp_max * factor_max), node.name)} prod_t;",
              f"typedef ap_uint<{c.out_bits}> prob_t;",
              f"static const int round_shift = {shift - c.out_bits};",
              f"static const bool binarize = {c_bool(c.binarize)};"]
    return kernel_call("ng_nonlinear.h", "softmax", config)


def bind_norm(node: Norm, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    (x,) = in_types
    c = node.config
    n = x.shape[-1]
    lo, hi = -(1 << (c.in_bits - 1)), (1 << (c.in_bits - 1)) - 1
    s1_lo, s1_hi = (n * lo, n * hi) if c.kind == "layernorm" else (0, 0)
    s2_max = n * lo * lo
    var_max = (n * s2_max) << (2 * c.guard)             # n S2 - S1^2 <= n S2
    var_bits = unsigned_bits(var_max)
    root_bits = (var_bits + 1) // 2
    factor_max = 1 << (c.norm_shift - c.guard)          # a non-zero root is >= 2^guard
    c_lo, c_hi = n * lo - s1_hi, n * hi - s1_lo
    v_lo, v_hi = _corners((c_lo, c_hi), (0, factor_max))
    what = f"{node.name}: Norm"
    config = [f"// {node.name}: {c.kind} of rows of {n}{' with gamma/beta' if c.affine else ''}",
              *_io(node, x, options),
              f"static const bool layernorm = {c_bool(c.kind == 'layernorm')};",
              f"static const bool affine = {c_bool(c.affine)};",
              f"typedef {_signed(s1_lo, s1_hi, what)} s1_t;",
              f"typedef ap_uint<{unsigned_bits(s2_max)}> s2_t;",
              f"typedef {_signed(-max(s1_lo * s1_lo, s1_hi * s1_hi), n * s2_max, what)} wide_t;",
              f"// variance << 2*guard <= {var_max}",
              f"typedef {uint(var_bits, what)} var_t;",
              f"static const int guard2 = {2 * c.guard}, root_bits = {root_bits};",
              f"typedef ap_uint<{root_bits}> root_t;",
              f"static const int norm_shift = {c.norm_shift};",
              f"typedef {uint(c.norm_shift + 1, what)} num_t;",
              f"typedef ap_uint<{unsigned_bits(factor_max)}> factor_t;",
              f"typedef {_signed(c_lo, c_hi, what)} c_t;",
              f"typedef {_signed(v_lo, v_hi, what)} val_t;",
              f"static const int affine_shift = {c.affine_shift};"]
    if not c.affine:
        config += ["typedef ap_int<2> gamma_t;", "typedef ap_int<2> beta_t;",
                   "typedef val_t aff_t;"]
        return kernel_call("ng_nonlinear.h", "norm", config)
    g = 1 << (c.gamma_bits - 1)
    b = 1 << (c.out_bits - 1)
    vg_lo, vg_hi = _corners((v_lo, v_hi), (-g, g - 1))
    shift = c.affine_shift
    aff_lo, aff_hi = vg_lo + (-b << shift), vg_hi + ((b - 1) << shift)
    aff_bits = max(signed_bits(aff_lo, aff_hi), signed_bits(vg_lo, vg_hi),
                   signed_bits(-b << shift, (b - 1) << shift))
    gamma_t, beta_t = f"ap_int<{c.gamma_bits}>", f"ap_int<{c.out_bits}>"
    config += [f"typedef {gamma_t} gamma_t;", f"typedef {beta_t} beta_t;",
               f"typedef {sint(aff_bits, what)} aff_t;"]
    name = c_name(node.name)
    beta = c.beta[:n] if c.beta is not None else [0] * n
    arrays = (Array(f"{name}_gamma", gamma_t, np.array(c.gamma[:n], dtype=np.int64)),
              Array(f"{name}_beta", beta_t, np.array(beta, dtype=np.int64)))
    return kernel_call("ng_nonlinear.h", "norm", config, arrays=arrays)


def bind_activation(node: Activation, in_types: list[TensorType],
                    options: HlsOptions) -> KernelCall:
    (x,) = in_types
    c = node.config
    e = c.exp
    p = c.sigmoid_frac
    lo, hi = -(1 << (c.in_bits - 1)), (1 << (c.in_bits - 1)) - 1
    what = f"{node.name}: Activation"
    a_lo, a_hi = lo, hi
    if c.function == "shiftgelu":       # monotone; the floor shifts add up to -3 below x
        a_lo, a_hi = (v + (v >> 1) + (v >> 3) + (v >> 4) for v in (lo, hi))
    config = [f"// {node.name}: {c.function} ({c.method} exponent)",
              *_io(node, x, options),
              f"typedef {_signed(a_lo, a_hi, what)} a_t;  // a in [{a_lo}, {a_hi}]",
              *exp_struct(e, what),
              f"static const bool shiftgelu = {c_bool(c.function == 'shiftgelu')};",
              f"static const bool sigmoid = {c_bool(c.function == 'sigmoid')};",
              f"static const int sigmoid_frac = {p};",
              f"typedef ap_uint<{unsigned_bits(e.exp_max << p)}> num_t;",
              f"typedef ap_uint<{unsigned_bits(2 * e.exp_max)}> den_t;",
              f"typedef ap_uint<{p + 1}> s_t;  // s in [0, 2^{p}]",
              f"typedef {_signed(lo << p, hi << p, what)} prod_t;",
              f"static const int product_shift = {c.product_shift};"]
    return kernel_call("ng_nonlinear.h", "activation", config)


def bind_igelu(node: IGelu, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    (x,) = in_types
    c = node.config
    shift = c.frac - c.in_frac
    u_lo, u_hi = -(1 << (c.in_bits - 1)) << shift, ((1 << (c.in_bits - 1)) - 1) << shift
    poly_lo, poly_hi = c.q_c, c.q_b * c.q_b + c.q_c     # (min(|u|, -q_b) + q_b)^2 in [0, q_b^2]
    erf_max = max(-poly_lo, abs(poly_hi))
    t_lo, t_hi = -erf_max + c.q_c, erf_max + c.q_c
    q_lo, q_hi = _corners((u_lo, u_hi), (t_lo, t_hi))
    w_lo, w_hi = _corners((-q_hi, -q_lo), (c.scale, c.scale))
    what = f"{node.name}: IGelu"
    config = [f"// {node.name}: i-GELU at {c.frac} internal fractional bits",
              *_io(node, x, options),
              f"static const int frac_shift = {shift};",
              f"typedef ap_int<{c.u_bits}> u_t;",
              f"typedef ap_uint<{c.u_bits}> mag_t;",
              f"static const long long q_b = {c.q_b}LL, q_c = {c.q_c}LL;",
              f"typedef ap_uint<{unsigned_bits(-c.q_b)}> clip_t;",
              f"typedef {_signed(c.q_b, 0, what)} d_t;",
              f"typedef {_signed(poly_lo, poly_hi, what)} poly_t;",
              f"typedef {_signed(-erf_max, erf_max, what)} erf_t;",
              f"typedef {_signed(t_lo, t_hi, what)} t_t;",
              f"typedef {_signed(q_lo, q_hi, what)} q_t;",
              f"typedef ap_uint<{unsigned_bits(c.scale)}> scale_t;",
              f"static const unsigned long long scale = {c.scale}ULL;",
              f"typedef {_signed(w_lo, w_hi, what)} w_t;",
              f"static const int out_shift = {c.out_shift};"]
    return kernel_call("ng_nonlinear.h", "igelu", config)


BINDINGS = {
    Softmax: bind_softmax,
    Norm: bind_norm,
    Activation: bind_activation,
    IGelu: bind_igelu,
}
