"""The standard ONNX ops of a QONNX graph as IR nodes: Conv, Gemm, MatMul (with a following
constant Add folded into the bias), pooling, Relu, Add, Mul by a constant, and the
shape-only ops (Flatten, Reshape, Transpose, Identity).

Linear layers: the accumulator's scale is the input's times the weights' (per output
channel).  Power-of-two per-channel weight scales are made one per-tensor scale by
shifting the integers up (exact); the bias must be an integer in accumulator units (a
finer accumulator scale is taken when a dyadic bias needs it).  The accumulator width is
derived from the weights and the input range (``[lo, hi]`` of every input integer, zero
padding included) so the IR's wrap never happens; onnxruntime's float32 sums equal the
exact integer sums when every partial sum is a float32, which is checked and otherwise
recorded as an approximation.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ...numerics.formats import BinaryFormat, IntFormat, TernaryFormat, signed_width_for
from .common import exact_binary_grid
from .qonnx_values import (
    Constant,
    Value,
    as_scale,
    float32_exact,
    frac_of,
    int_format,
    power_of_two,
)

MAX_FLOAT_WEIGHT_BITS = 32
MAX_BIAS_REFINE_BITS = 24


class LayerOps:
    """Mixin of ``qonnx_convert.Converter``: the standard ONNX ops."""

    # --- weights and biases ---------------------------------------------------------------
    def weights(self, node, const: Constant, out_axis: int):
        """``(ints, scale, kind)``: integers with ``real == ints * scale[out]``, ``scale``
        one ``Fraction`` per output channel (or 0-d); ``kind`` int / binary / ternary."""
        real = const.real
        if const.ints is None:
            grid = exact_binary_grid(real)
            if grid is None:
                raise self.refuse(node, "weights are not finite")
            ints, frac = grid
            width = signed_width_for(int(np.min(ints)), int(np.max(ints))) if ints.size else 1
            if width > MAX_FLOAT_WEIGHT_BITS:
                raise self.refuse(node, f"weights are unquantized float32 values that need "
                                        f"{width}-bit integers; quantize them (a Quant node)")
            return np.asarray(ints, dtype=np.int64), as_scale(2.0 ** -frac), "int"
        full = np.broadcast_to(const.scale, real.shape)
        per_out = np.moveaxis(full, out_axis, 0).reshape(real.shape[out_axis], -1)
        if not np.all(per_out == per_out[:, :1]):
            raise self.refuse(node, "weight scales must be per tensor or per output channel")
        scale = as_scale(per_out[:, 0])
        exact = np.broadcast_to(const.ints * const.scale.astype(np.float64), real.shape)
        if not np.array_equal(exact, real):
            self.approximate(node, "QONNX's float32 weights (integer times scale) are "
                                   "rounded: the scale needs more than 24 bits")
        return const.ints, scale, const.kind

    @staticmethod
    def unify_power_of_two(ints: np.ndarray, scale: np.ndarray):
        """Per-channel power-of-two scales as one: the integers of coarser channels are
        shifted up to the finest scale (exact, wider weights)."""
        if scale.ndim == 0:
            return ints, scale, False
        exps = [power_of_two(s) for s in scale]
        if any(e is None for e in exps):
            return ints, scale, False
        low = min(exps)
        factor = np.array([1 << (e - low) for e in exps], dtype=np.int64)
        return ints * factor.reshape((-1,) + (1,) * (ints.ndim - 1)), \
            as_scale(2.0 ** low), True

    def bias_ints(self, node, bias_real, acc_scale: np.ndarray, channels: int):
        """``(bias integers, refine)``: bias in accumulator units of ``acc_scale / 2**refine``
        (``refine`` the fewest extra fraction bits making it exact; rounded and recorded if
        none up to 24 does)."""
        if bias_real is None:
            return np.zeros(channels, dtype=np.int64), 0
        bias = np.broadcast_to(np.asarray(bias_real, dtype=np.float64).reshape(-1), (channels,))
        scales = [acc_scale[()]] * channels if acc_scale.ndim == 0 else list(acc_scale)
        units = [Fraction(float(b)) / s for b, s in zip(bias, scales)]
        for refine in range(MAX_BIAS_REFINE_BITS + 1):
            scaled = [u * (1 << refine) for u in units]
            if all(x.denominator == 1 for x in scaled):
                return np.array([int(x) for x in scaled], dtype=np.int64), refine
        self.approximate(node, "the bias is not an integer number of accumulator units "
                               "(rounded to the nearest)")
        return np.array([round(u) for u in units], dtype=np.int64), 0

    def absorb_bias(self, node, out_channels: int):
        """The constant of an ``Add`` that alone reads ``node``'s output (folded into the
        bias), and the name the Add's output takes; else ``(None, node.output[0])``."""
        out = node.output[0]
        consumers = self.model.find_consumers(out)
        graph_outputs = {o.name for o in self.model.graph.output}
        if len(consumers) != 1 or consumers[0].op_type != "Add" or out in graph_outputs:
            return None, out
        add = consumers[0]
        other = add.input[1] if add.input[0] == out else add.input[0]
        if other not in self.constants:
            return None, out
        real = self.constants[other].real
        rank = len(self.model.get_tensor_shape(out))
        shape = (1,) * (rank - real.ndim) + real.shape
        if real.ndim > rank or any(d != 1 for i, d in enumerate(shape) if i != 1) or \
                shape[1] not in (1, out_channels):
            return None, out
        self.absorbed.add(add.name)
        return np.broadcast_to(real.reshape(-1), (out_channels,)), add.output[0]

    @staticmethod
    def weight_format(kind: str, ints: np.ndarray, frac: int):
        if kind == "binary" and np.all(np.abs(ints) == 1):
            return BinaryFormat(frac)
        if kind == "ternary":
            return TernaryFormat(frac)
        lo, hi = (int(np.min(ints)), int(np.max(ints))) if ints.size else (0, 0)
        return IntFormat(max(signed_width_for(lo, hi), 2), True, frac)

    def linear(self, node, v: Value, ints: np.ndarray, w_scale, kind: str, bias_real,
               emit) -> tuple[Value, str]:
        """Shared by Conv/Gemm/MatMul: ``ints`` is ``(out, ...)``; ``emit(ints, bias, fmt,
        acc_width)`` adds the IR node.  Returns the accumulator value and its ONNX name."""
        if v.per_channel:
            raise self.refuse(node, "the input has per-channel scales; only a per-tensor "
                                    "input scale is supported")
        channels = ints.shape[0]
        extra_bias, out_name = self.absorb_bias(node, channels)
        if extra_bias is not None:
            bias_real = extra_bias if bias_real is None else bias_real + extra_bias
        acc_scale = np.array(v.scale[()] * w_scale[()], dtype=object) if w_scale.ndim == 0 \
            else np.array([v.scale[()] * s for s in w_scale], dtype=object)
        bias, refine = self.bias_ints(node, bias_real, acc_scale, channels)
        if refine:
            ints = ints * (1 << refine)
            w_scale = w_scale / (1 << refine) if w_scale.ndim == 0 else \
                np.array([s / (1 << refine) for s in w_scale], dtype=object)
            acc_scale = acc_scale / (1 << refine) if acc_scale.ndim == 0 else \
                np.array([s / (1 << refine) for s in acc_scale], dtype=object)
        flat = ints.reshape(channels, -1).astype(object)
        lo_x, hi_x = min(v.lo, 0), max(v.hi, 0)
        pos, neg = np.where(flat > 0, flat, 0), np.where(flat < 0, flat, 0)
        hi_c = (pos * hi_x + neg * lo_x).sum(axis=1) + bias
        lo_c = (pos * lo_x + neg * hi_x).sum(axis=1) + bias
        lo, hi = int(min(lo_c)), int(max(hi_c))
        width = max(signed_width_for(lo, hi), 2)
        if width > 64:
            raise self.refuse(node, f"the accumulator needs {width} bits (over 64)")
        magnitude = int(max((np.abs(flat).sum(axis=1) * max(-lo_x, hi_x) + np.abs(bias))))
        if not float32_exact(magnitude, acc_scale):
            self.approximate(node, f"onnxruntime's float32 sums (up to {magnitude} units) "
                                   "are not all float32-exact")
        kind = "int" if refine else kind
        fmt = self.weight_format(kind, ints, frac_of(w_scale))
        ir = emit(ints, bias, fmt, width)
        return Value(ir, lo, hi, as_scale(acc_scale), self.values_perm_for(ir)), out_name

    def values_perm_for(self, ir: str) -> tuple[int, ...]:
        rank = len(self.builder.type_of(ir).shape)
        return (0,) if rank == 1 else tuple(range(1, rank)) + (0,)

    # --- linear ops -------------------------------------------------------------------------
    def op_Conv(self, node) -> None:
        self.only_attributes(node, {"auto_pad": ("NOTSET", "VALID"), "dilations": None,
                                    "group": None, "kernel_shape": None, "pads": None,
                                    "strides": None})
        v = self.value(node)
        const = self.constant(node, 1, "weight")
        if const.real.ndim != 4:
            raise self.refuse(node, f"only 2-D convolutions (weights of rank 4, not "
                                    f"{const.real.ndim})")
        bias = self.constant(node, 2, "bias").real if len(node.input) > 2 and node.input[2] \
            else None
        ints, w_scale, kind = self.weights(node, const, 0)
        ints, w_scale, unified = self.unify_power_of_two(ints, w_scale)
        kind = "int" if unified else kind
        pads = self.attribute(node, "pads", [0, 0, 0, 0])
        if self.attribute(node, "auto_pad", "NOTSET") == "VALID":
            pads = [0, 0, 0, 0]
        strides = tuple(self.attribute(node, "strides", [1, 1]))
        dilations = tuple(self.attribute(node, "dilations", [1, 1]))
        groups = int(self.attribute(node, "group", 1))
        v = self.channels_last(v, node.name)
        name = self.ir_name(node.name)

        def emit(w, b, fmt, width):
            return self.emit("conv2d", v.ir, np.transpose(w, (2, 3, 1, 0)), b, weight_fmt=fmt,
                             stride=strides, padding=(pads[0], pads[2], pads[1], pads[3]),
                             dilation=dilations, groups=groups, acc_width=width, name=name)

        out, out_name = self.linear(node, v, ints, w_scale, kind, bias, emit)
        self.values[out_name] = out

    def op_Gemm(self, node) -> None:
        self.only_attributes(node, {"alpha": None, "beta": None, "transA": (0,),
                                    "transB": (0, 1)})
        alpha = float(self.attribute(node, "alpha", 1.0))
        beta = float(self.attribute(node, "beta", 1.0))
        if alpha <= 0:
            raise self.refuse(node, f"alpha must be positive, not {alpha}")
        const = self.constant(node, 1, "weight")
        if self.attribute(node, "transB", 0) == 0:
            const = transposed(const)
        bias = None
        if len(node.input) > 2 and node.input[2]:
            bias = self.constant(node, 2, "bias").real * beta
        self.dense(node, const, bias, Fraction(alpha))

    def op_MatMul(self, node) -> None:
        self.only_attributes(node, {})
        const = self.constant(node, 1, "weight")
        if const.real.ndim != 2:
            raise self.refuse(node, "the weight must be a 2-D constant")
        self.dense(node, transposed(const), None, Fraction(1))

    def dense(self, node, const: Constant, bias, alpha: Fraction) -> None:
        v = self.value(node)
        ints, w_scale, kind = self.weights(node, const, 0)
        ints, w_scale, unified = self.unify_power_of_two(ints, w_scale)
        kind = "int" if unified else kind
        if alpha != 1:
            w_scale = w_scale * alpha if w_scale.ndim == 0 else \
                np.array([s * alpha for s in w_scale], dtype=object)
        if len(v.perm) > 1 or v.flat_of is not None:
            v = self.plain(v, node.name) if len(v.perm) > 1 else v
        order = v.ir_order() if v.flat_of is not None else None
        name = self.ir_name(node.name)

        def emit(w, b, fmt, width):
            w = w if order is None else w[:, order]
            return self.emit("dense", v.ir, w, b, weight_fmt=fmt, acc_width=width, name=name)

        out, out_name = self.linear(node, v, ints, w_scale, kind, bias, emit)
        self.values[out_name] = Value(out.ir, out.lo, out.hi, out.scale,
                                      tuple(range(len(v.perm))))

    # --- pooling ----------------------------------------------------------------------------
    def op_MaxPool(self, node) -> None:
        self.only_attributes(node, {"auto_pad": ("NOTSET", "VALID"), "ceil_mode": (0,),
                                    "dilations": None, "kernel_shape": None, "pads": None,
                                    "storage_order": (0,), "strides": None})
        if len(node.output) > 1 and node.output[1]:
            raise self.refuse(node, "the Indices output is not supported")
        if tuple(self.attribute(node, "dilations", [1, 1])) != (1, 1):
            raise self.refuse(node, "dilated pooling is not supported")
        v = self.channels_last(self.value(node), node.name)
        pool, stride, padding = self.pool_window(node)
        ir = self.emit("max_pool2d", v.ir, pool, stride=stride, padding=padding,
                       name=self.ir_name(node.name))
        self.values[node.output[0]] = Value(ir, v.lo, v.hi, v.scale, v.perm)

    def pool_window(self, node):
        pool = tuple(self.attribute(node, "kernel_shape"))
        if len(pool) != 2:
            raise self.refuse(node, "only 2-D pooling is supported")
        stride = tuple(self.attribute(node, "strides", [1, 1]))
        pads = self.attribute(node, "pads", [0, 0, 0, 0])
        if self.attribute(node, "auto_pad", "NOTSET") == "VALID":
            pads = [0, 0, 0, 0]
        return pool, stride, (pads[0], pads[2], pads[1], pads[3])

    def op_AveragePool(self, node) -> None:
        """Exact when the window holds a power of two of cells: the IR sums the window into a
        ``log2(count)`` bits finer format (no rounding), onnxruntime's float32 divides by a
        power of two (exact)."""
        self.only_attributes(node, {"auto_pad": ("NOTSET", "VALID"), "ceil_mode": (0,),
                                    "count_include_pad": (0, 1), "kernel_shape": None,
                                    "pads": None, "strides": None, "dilations": None})
        pool, stride, padding = self.pool_window(node)
        if any(padding):
            raise self.refuse(node, "padded average pooling is not supported")
        self.average(node, pool[0] * pool[1], lambda ir, fmt, name: self.emit(
            "avg_pool2d", ir, pool, stride=stride, out_fmt=fmt, name=name))

    def op_GlobalAveragePool(self, node) -> None:
        self.only_attributes(node, {})
        h, w = self.onnx_shape(node.input[0])[1:]

        def emit(ir, fmt, name):
            pooled = self.emit("global_avg_pool", ir, out_fmt=fmt, name=name)
            return self.emit("reshape", pooled, (1, 1, self.builder.type_of(ir).shape[-1]),
                             name=self.ir_name(f"{name}_hw"))

        self.average(node, h * w, emit)

    def average(self, node, count: int, emit) -> None:
        log = count.bit_length() - 1
        if count != 1 << log:
            raise self.refuse(node, f"a window of {count} cells: only power-of-two windows "
                                    "average exactly in float32")
        v = self.channels_last(self.value(node), node.name)
        lo, hi = v.lo * count, v.hi * count
        fmt = int_format(lo, hi, self.fmt(v.ir).frac + log)
        ir = emit(v.ir, fmt, self.ir_name(node.name))
        scale = v.scale / count if v.scale.ndim == 0 else \
            np.array([s / count for s in v.scale], dtype=object)
        self.values[node.output[0]] = Value(ir, lo, hi, as_scale(scale), v.perm)

    # --- elementwise ------------------------------------------------------------------------
    def op_Relu(self, node) -> None:
        self.only_attributes(node, {})
        v = self.value(node)
        ir = self.emit("relu", v.ir, name=self.ir_name(node.name))
        self.values[node.output[0]] = Value(ir, max(v.lo, 0), max(v.hi, 0), v.scale, v.perm,
                                            v.flat_of)

    def op_Identity(self, node) -> None:
        if node.input[0] in self.constants:
            self.constants[node.output[0]] = self.constants[node.input[0]]
        else:
            self.values[node.output[0]] = self.value(node)

    def op_Mul(self, node) -> None:
        """Multiplication by a positive constant (per tensor or per channel) only changes
        the scale; QONNX's float32 product is exact while ``|q| * odd(scale)`` fits 24 bits."""
        self.only_attributes(node, {})
        index = 1 if node.input[1] in self.constants else 0
        if node.input[1 - index] in self.constants or node.input[index] not in self.constants:
            raise self.refuse(node, "only a run-time tensor times a constant is supported")
        v = self.values[node.input[1 - index]]
        real = self.constants[node.input[index]].real
        if np.any(real <= 0) or not np.all(np.isfinite(real)):
            raise self.refuse(node, "only multiplication by positive constants is supported")
        factor = self.channel_constant(node, real)
        if factor.ndim == 0 and v.scale.ndim == 0:
            scale = as_scale(np.array(v.scale[()] * factor[()], dtype=object))
        else:
            channels = max(factor.size if factor.ndim else 1, v.scale.size if v.per_channel else 1)
            factors = factor if factor.ndim else np.array([factor[()]] * channels, dtype=object)
            scale = as_scale(np.array([s * f for s, f in zip(v.channel_scale(channels),
                                                               factors)], dtype=object))
        if not float32_exact(v.bound, scale):
            self.approximate(node, "QONNX's float32 product can round")
        self.values[node.output[0]] = Value(v.ir, v.lo, v.hi, scale, v.perm, v.flat_of)

    def channel_constant(self, node, real: np.ndarray) -> np.ndarray:
        """A constant broadcast against the run-time input: 0-d, or per channel (axis 1)."""
        if real.size == 1:
            return as_scale(real.reshape(()))
        rank = len(self.model.get_tensor_shape(node.output[0]))
        shape = (1,) * (rank - real.ndim) + real.shape
        if any(d != 1 for i, d in enumerate(shape) if i != 1):
            raise self.refuse(node, f"a constant of shape {real.shape}: only per-tensor or "
                                    "per-channel (axis 1) constants are supported")
        return as_scale(real.reshape(-1))

    def op_Add(self, node) -> None:
        """Sum of two run-time tensors (a residual): both are brought to one scale by exact
        integer multipliers, then added in a format wide enough for every sum."""
        self.only_attributes(node, {})
        if any(i in self.constants for i in node.input):
            raise self.refuse(node, "adding a constant is only supported right after a Conv, "
                                    "Gemm or MatMul (it becomes the bias)")
        a, b = self.value(node, 0), self.value(node, 1)
        if a.per_channel or b.per_channel:
            raise self.refuse(node, "only per-tensor scales can be added")
        common = gcd_fraction(a.scale[()], b.scale[()])
        ma, mb = int(a.scale[()] / common), int(b.scale[()] / common)
        if max(ma, mb) >= 1 << 16:
            raise self.refuse(node, f"scales {float(a.scale[()])} and {float(b.scale[()])} "
                                    "share no small common unit")
        frac = frac_of(as_scale(float(common)))
        b = self.relayout(b, a.perm, f"{node.name}_b") if b.perm != a.perm or b.flat_of \
            else b
        if a.flat_of is not None:
            a, b = self.plain(a, f"{node.name}_a"), self.plain(b, f"{node.name}_b")
        a_ir = self.aligned(a, ma, frac, f"{node.name}_a")
        b_ir = self.aligned(b, mb, frac, f"{node.name}_b")
        lo, hi = a.lo * ma + b.lo * mb, a.hi * ma + b.hi * mb
        if not float32_exact(max(abs(lo), abs(hi), a.bound * ma, b.bound * mb),
                             np.array(common, dtype=object)):
            self.approximate(node, "onnxruntime's float32 sum can round")
        ir = self.emit("add", a_ir, b_ir, out_fmt=int_format(lo, hi, frac),
                       name=self.ir_name(node.name))
        self.values[node.output[0]] = Value(ir, lo, hi, np.array(common, dtype=object), a.perm)

    def aligned(self, v: Value, multiplier: int, frac: int, base: str) -> str:
        """``v``'s integers times ``multiplier``, labelled with IR ``frac`` (exact)."""
        fmt = self.fmt(v.ir)
        if multiplier == 1 and fmt.frac == frac:
            return v.ir
        out = int_format(v.lo * multiplier, v.hi * multiplier, frac)
        return self.emit("requantize", v.ir, shift=0, out_fmt=out, multiplier=multiplier,
                         name=self.ir_name(f"{base}_align"))

    # --- shapes -----------------------------------------------------------------------------
    def op_Flatten(self, node) -> None:
        self.only_attributes(node, {"axis": (1,)})
        self.flatten(node, self.value(node))

    def flatten(self, node, v: Value) -> None:
        shape = self.onnx_shape(node.input[0])
        size = int(np.prod(shape))
        scale = v.scale
        if v.per_channel and len(shape) > 1:
            scale = np.repeat(v.scale, size // shape[0])
        if len(shape) == 1:
            self.values[node.output[0]] = v
            return
        ir = self.emit("reshape", v.ir, (size,), name=self.ir_name(node.name))
        flat_of = None if v.plain else (shape, v.perm)
        self.values[node.output[0]] = Value(ir, v.lo, v.hi, scale, (0,), flat_of)

    def op_Reshape(self, node) -> None:
        self.only_attributes(node, {"allowzero": (0,)})
        v = self.value(node)
        self.constant(node, 1, "shape")
        target = self.onnx_shape(node.output[0])
        if len(target) == 1:
            self.flatten(node, v)
            return
        if v.per_channel:
            raise self.refuse(node, "reshaping a tensor with per-channel scales")
        v = self.plain(v, node.name)
        ir = self.emit("reshape", v.ir, target, name=self.ir_name(node.name))
        self.values[node.output[0]] = Value(ir, v.lo, v.hi, v.scale,
                                            tuple(range(len(target))))

    def op_Transpose(self, node) -> None:
        """Only relabels the axes: no IR node (the IR keeps its own order)."""
        self.only_attributes(node, {"perm": None})
        v = self.value(node)
        rank = len(v.perm) + 1
        perm = tuple(self.attribute(node, "perm", list(range(rank))[::-1]))
        if perm[0] != 0:
            raise self.refuse(node, "moving the batch axis is not supported")
        onnx_perm = tuple(p - 1 for p in perm[1:])
        if v.per_channel and onnx_perm[0] != 0:
            raise self.refuse(node, "moving the channel axis of per-channel scales")
        if v.flat_of is not None:
            v = self.plain(v, node.name)
        inverse = tuple(onnx_perm.index(j) for j in range(len(onnx_perm)))
        self.values[node.output[0]] = Value(v.ir, v.lo, v.hi, v.scale,
                                            tuple(inverse[p] for p in v.perm))


def transposed(const: Constant) -> Constant:
    """A 2-D constant transposed (scale broadcast along)."""
    scale = None if const.scale is None else \
        np.broadcast_to(const.scale, const.real.shape).T.copy()
    ints = None if const.ints is None else const.ints.T.copy()
    return Constant(const.real.T.copy(), ints, scale, const.kind, const.bits)


def gcd_fraction(a: Fraction, b: Fraction) -> Fraction:
    """The largest ``g`` with ``a / g`` and ``b / g`` integers."""
    den = a.denominator * b.denominator // math.gcd(a.denominator, b.denominator)
    return Fraction(math.gcd(int(a * den), int(b * den)), den)
