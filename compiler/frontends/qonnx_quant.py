"""QONNX quantizers (``Quant``, ``BipolarQuant``, ``Trunc``) as IR requantizes and sign
binarizations.

QONNX ``Quant`` computes ``y = rnd(clamp(x / s + z, qmin, qmax)) - z`` in float32 and
outputs ``y * s``.  With ``x = q * s_x`` this is ``rnd(clamp(q * s_x / s))`` (for an
integer zero point ``z`` and a rounding that commutes with adding it: FLOOR, CEIL, and
ROUND/HALF_EVEN for an even ``z``; ``[qmin, qmax]`` shifts by ``-z``).  QONNX clamps
*before* rounding, the IR's ``Requantize`` rounds then saturates (as QKeras does): with
integer bounds and a monotone rounding that keeps integers, the two agree.  The ratio
``s_x / s`` becomes the requantize's ``multiplier / 2**shift``: exact when it is ``m /
2**k`` (always for power-of-two scales), otherwise the nearest 31-bit multiplier, recorded
as an approximation.  Narrow range and zero points give a ``Clip`` after the requantize.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ...numerics.rounding import Rounding
from .common import multiplier_and_shift, power_of_two_exponent
from .qonnx_values import (
    FLOAT32_MANTISSA_BITS,
    HALF_OFFSET_MODES,
    MULTIPLIER_BITS,
    Constant,
    Value,
    as_scale,
    dyadic,
    frac_of,
    int_format,
    rounding_for,
)

TRANSLATION_INVARIANT = (Rounding.FLOOR, Rounding.CEIL)


class QuantOps:
    """Mixin of ``qonnx_convert.Converter``: the quantizer nodes."""

    # --- parameters -------------------------------------------------------------------------
    def quant_scale(self, node, index: int = 1) -> np.ndarray:
        """The scale input as a 0-d or per-channel (ONNX axis 1) ``Fraction`` array."""
        real = self.constant(node, index, "scale").real
        if not np.all(np.isfinite(real)) or np.any(real <= 0):
            raise self.refuse(node, "scale must be finite and positive")
        if real.size == 1:
            return as_scale(real.reshape(()))
        rank = len(self.model.get_tensor_shape(node.input[0]))
        shape = (1,) * (rank - real.ndim) + real.shape
        varying = [axis for axis, size in enumerate(shape) if size > 1]
        if varying != [1] or rank < 2:
            raise self.refuse(node, f"scale of shape {real.shape} varies along axes "
                                    f"{varying}: only per-tensor or per-channel (axis 1) scales")
        return as_scale(real.reshape(-1))

    def quant_params(self, node) -> tuple[int, bool, bool, int]:
        """``(bits, signed, narrow, zero_point)`` of a ``Quant`` node, checked."""
        self.only_attributes(node, {"signed": (0, 1), "narrow": (0, 1), "rounding_mode": None})
        bits = self.constant(node, 3, "bit width").real
        if bits.size != 1 or bits.reshape(-1)[0] != int(bits.reshape(-1)[0]) or \
                not 1 <= bits.reshape(-1)[0] <= 32:
            raise self.refuse(node, f"bit width must be one integer from 1 to 32, not "
                                    f"{bits.reshape(-1).tolist()}")
        zero = self.constant(node, 2, "zero point").real
        if zero.size != 1 or zero.reshape(-1)[0] != int(zero.reshape(-1)[0]):
            raise self.refuse(node, "zero point must be one integer (per-tensor)")
        signed = bool(self.attribute(node, "signed", 1))
        narrow = bool(self.attribute(node, "narrow", 0))
        return int(bits.reshape(-1)[0]), signed, narrow, int(zero.reshape(-1)[0])

    @staticmethod
    def quant_bounds(bits: int, signed: bool, narrow: bool, zero: int) -> tuple[int, int]:
        """The output integers' range ``[qmin - z, qmax - z]`` (QONNX min_int / max_int)."""
        from qonnx.custom_op.general.quant import max_int, min_int

        return int(min_int(signed, narrow, bits)) - zero, int(max_int(signed, narrow, bits)) - zero

    def quant_rounding(self, node) -> tuple[Rounding, str]:
        mode = str(self.attribute(node, "rounding_mode", "ROUND"))
        rounding = rounding_for(mode)
        if isinstance(rounding, str):
            raise self.refuse(node, rounding)
        return rounding, mode.upper()

    # --- nodes ------------------------------------------------------------------------------
    def op_Quant(self, node) -> None:
        if node.input[0] in self.constants:
            self.constants[node.output[0]] = self.constant_quant(node)
            return
        v = self.value(node)
        scale = self.quant_scale(node)
        bits, signed, narrow, zero = self.quant_params(node)
        rounding, mode = self.quant_rounding(node)
        if bits == 1 and signed:
            if zero:
                raise self.refuse(node, "a 1-bit signed (bipolar) Quant needs zero point 0")
            self.values[node.output[0]] = self.binarize(node, v, scale)
            return
        if zero and not (rounding in TRANSLATION_INVARIANT or
                         (rounding is Rounding.HALF_EVEN and zero % 2 == 0)):
            raise self.refuse(node, f"zero point {zero} with rounding_mode {mode} cannot be "
                                    "reproduced exactly (only FLOOR, CEIL, or an even zero "
                                    "point with ROUND)")
        lo, hi = self.quant_bounds(bits, signed, narrow, zero)
        ratio = self.ratio(v.scale, scale)
        self.values[node.output[0]] = self.rescale(node, v, ratio, scale, (lo, hi), rounding,
                                                   mode, node.name)

    def op_BipolarQuant(self, node) -> None:
        self.only_attributes(node, {})
        if node.input[0] in self.constants:
            real = self.constant(node, 0, "input").real
            scale = self.constant(node, 1, "scale").real.astype(np.float32)
            ints = np.where(real >= 0, 1, -1).astype(np.int64)
            out = (ints.astype(np.float32) * scale).astype(np.float64)
            self.constants[node.output[0]] = Constant(out, ints, scale.astype(np.float64),
                                                      "binary", 1)
            return
        v = self.value(node)
        self.values[node.output[0]] = self.binarize(node, v, self.quant_scale(node))

    def op_Trunc(self, node) -> None:
        """QONNX ``Trunc`` (v1 before QONNX opset 2, v2 from it): ``y = round_half_even(x /
        s)``, divided by ``2**t`` and rounded with ``rounding_mode`` (v2 clamps first to its
        output bit width; v2 outputs ``y * output_scale``, v1 ``y * s``)."""
        from qonnx.util.basic import get_preferred_qonnx_opset

        version = self.opsets.get(node.domain, get_preferred_qonnx_opset())
        allowed = {"rounding_mode": None}
        if version >= 2:
            allowed.update(signed=(0, 1), narrow=(0, 1))
        self.only_attributes(node, allowed)
        v = self.value(node)
        scale = self.quant_scale(node)
        zero = self.constant(node, 2, "zero point").real
        if np.any(zero != 0):
            raise self.refuse(node, "only zero point 0 is supported")
        if scale.ndim or v.per_channel:
            raise self.refuse(node, "only per-tensor scales are supported")
        rounding, mode = self.quant_rounding(node)
        in_bits = float(self.constant(node, 3, "input bit width").real.reshape(-1)[0])
        if version >= 2:
            out_scale = self.quant_scale(node, 4)
            out_bits = float(self.constant(node, 5, "output bit width").real.reshape(-1)[0])
            s32 = np.float32(scale[()])
            trunc = np.float32(2.0) ** np.round(np.log2(np.float32(out_scale[()]) / s32))
            shift = power_of_two_exponent(float(trunc))
            signed = bool(self.attribute(node, "signed", 1))
            narrow = bool(self.attribute(node, "narrow", 0))
            bounds = self.quant_bounds(int(out_bits), signed, narrow, 0)
        else:
            out_bits = float(self.constant(node, 4, "output bit width").real.reshape(-1)[0])
            shift, out_scale, bounds = int(in_bits - out_bits), scale, None
        if shift is None or shift < 0:
            raise self.refuse(node, "the truncation must drop a whole number of bits")
        grid = self.ratio(v.scale, scale)
        if grid[()].denominator != 1:    # not on the input grid: QONNX rounds half to even
            v = self.rescale(node, v, grid, scale, None, Rounding.HALF_EVEN, "ROUND",
                             f"{node.name}_grid")
            grid = np.array(Fraction(1), dtype=object)
        ratio = np.array(grid[()] / (1 << shift), dtype=object)
        self.values[node.output[0]] = self.rescale(node, v, ratio, out_scale, bounds, rounding,
                                                   mode, node.name)

    # --- helpers ----------------------------------------------------------------------------
    def constant_quant(self, node) -> Constant:
        """A ``Quant`` of a constant (weights, biases), computed as QONNX does (float32)."""
        from qonnx.custom_op.general.quant import max_int, min_int, resolve_rounding_mode

        bits, signed, narrow, zero = self.quant_params(node)
        _, mode = self.quant_rounding(node)
        x = self.constant(node, 0, "input").real.astype(np.float32)
        scale = self.constant(node, 1, "scale").real.astype(np.float32)
        if np.any(scale <= 0) or not np.all(np.isfinite(scale)):
            raise self.refuse(node, "scale must be finite and positive")
        y = x / scale + np.float32(zero)
        if bits == 1 and signed:
            ints, kind = np.where(y >= 0, 1, -1).astype(np.int64), "binary"
        else:
            y = np.clip(y, np.float32(min_int(signed, narrow, bits)),
                        np.float32(max_int(signed, narrow, bits)))
            ints = resolve_rounding_mode(mode)(y).astype(np.int64) - zero
            kind = "ternary" if bits == 2 and signed and narrow and not zero else "int"
        real = (ints.astype(np.float32) * scale).astype(np.float64)
        return Constant(real, ints, scale.astype(np.float64), kind, bits)

    @staticmethod
    def ratio(scale_in: np.ndarray, scale_out: np.ndarray) -> np.ndarray:
        """``scale_in / scale_out`` per channel (0-d when both are per tensor)."""
        if scale_in.ndim == 0 and scale_out.ndim == 0:
            return np.array(scale_in[()] / scale_out[()], dtype=object)
        size = max(scale_in.size if scale_in.ndim else 1, scale_out.size if scale_out.ndim else 1)
        a = scale_in if scale_in.ndim else np.array([scale_in[()]] * size, dtype=object)
        b = scale_out if scale_out.ndim else np.array([scale_out[()]] * size, dtype=object)
        if a.size != b.size:
            raise ValueError(f"{a.size} channel scales against {b.size}")
        return np.array([x / y for x, y in zip(a, b)], dtype=object)

    def multiplier(self, node, ratio: np.ndarray, bound: int, mode: str, bounds):
        """``(m, k)``: per-channel (or 0-d) integers and one shift with ``m / 2**k`` the
        ratio; exact when dyadic, else the nearest 31-bit multipliers (recorded)."""
        flat = ratio.reshape(-1)
        pairs = [dyadic(r) for r in flat]
        if all(p is not None for p in pairs):
            k = max(p[1] for p in pairs)
            m = np.array([p[0] << (k - p[1]) for p in pairs], dtype=object)
            if all(abs(int(x)) < 1 << (MULTIPLIER_BITS - 1) for x in m):
                self.check_float_quotient(node, m, k, bound, mode, bounds)
                return m.astype(np.int64).reshape(ratio.shape), k
        m, k = multiplier_and_shift(np.array([float(r) for r in flat]), bits=MULTIPLIER_BITS)
        error = max(abs(float(Fraction(int(a), 1 << k) / r - 1)) if k >= 0 else 0.0
                    for a, r in zip(m, flat))
        self.approximate(node, f"scale ratio {float(flat[0]):.9g} is not an integer over a "
                               f"power of two: multiplier {int(m[0])} / 2**{k} (relative error "
                               f"up to {error:.2e}), then the node's rounding")
        return m.reshape(ratio.shape), k

    def check_float_quotient(self, node, m, k: int, bound: int, mode: str, bounds) -> None:
        """Record where QONNX's float32 ``x / s`` (or the ``+0.5`` of HALF_UP/HALF_DOWN)
        can round although the exact ratio is dyadic."""
        peak = max(abs(int(x)) for x in m)
        if bound * peak >= 1 << FLOAT32_MANTISSA_BITS:
            self.approximate(node, f"QONNX's float32 quotient of inputs up to {bound} times "
                                   f"{peak} / 2**{k} can round (over 24 bits)")
        if mode in HALF_OFFSET_MODES and bounds is not None:
            top = max(abs(bounds[0]), abs(bounds[1])).bit_length()
            if top + k + 1 > FLOAT32_MANTISSA_BITS:
                self.approximate(node, f"QONNX's float32 |x| + 0.5 of {mode} can round "
                                       f"({top} integer and {k} fraction bits)")

    def rescale(self, node, v: Value, ratio: np.ndarray, scale_out: np.ndarray, bounds,
                rounding: Rounding, mode: str, base: str) -> Value:
        """``clamp(rnd(q * ratio), bounds)`` as a Requantize (and a Clip where ``bounds``
        is narrower than the output format); ``bounds`` None: no clamp."""
        per_channel = ratio.ndim == 1
        if per_channel:
            v = self.channels_last(v, base)
        m, k = self.multiplier(node, ratio, v.bound, mode, bounds)
        flat = [Fraction(int(x), 1 << k) for x in np.asarray(m).reshape(-1)]
        lo_t = min(math.floor(v.lo * r) for r in flat)
        hi_t = max(math.ceil(v.hi * r) for r in flat)
        lo, hi = (lo_t, hi_t) if bounds is None else bounds
        lo_out, hi_out = max(lo, min(lo_t, hi)), min(hi, max(hi_t, lo))
        out_frac = frac_of(scale_out)
        identity = not per_channel and int(m) == 1 and k == 0
        if identity and lo <= v.lo and v.hi <= hi:
            return Value(v.ir, v.lo, v.hi, scale_out, v.perm, v.flat_of)
        fmt = int_format(lo, hi, out_frac)
        in_fmt = self.fmt(v.ir)
        plain_shift = not per_channel and int(m) == 1 and in_fmt.frac - k == out_frac \
            and k <= in_fmt.width - 1
        if plain_shift:
            multiplier = None
        elif per_channel and v.flat_of is not None:
            multiplier = np.asarray(m)[v.ir_order()]
        else:
            multiplier = m
        ir = self.emit("requantize", v.ir, shift=k, out_fmt=fmt, rounding=rounding,
                       multiplier=multiplier, name=self.ir_name(base))
        if (lo, hi) != (fmt.min, fmt.max):
            ir = self.emit("clip", ir, lo, hi, name=self.ir_name(f"{base}_clip"))
        return Value(ir, lo_out, hi_out, scale_out, v.perm, v.flat_of)

    def binarize(self, node, v: Value, scale: np.ndarray) -> Value:
        """``+1`` where the (positively scaled) input is ``>= 0``, else ``-1``."""
        ir = self.emit("sign_binarize", v.ir, frac=frac_of(scale), name=self.ir_name(node.name))
        return Value(ir, -1, 1, scale, v.perm, v.flat_of)

