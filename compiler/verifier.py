"""Checks every IR invariant; run after building and between passes.

``verify(graph)`` checks the graph; ``check_node(node, input_types)`` checks one node
against the types of the values it reads (the builder calls it as each node is added, so
a bad argument is reported at once).  Every message names the node and the field.
"""

from __future__ import annotations

import re

import numpy as np

from ..numerics.checks import is_integer
from ..numerics.floats import ApproxNorm, FloatFormat
from ..numerics.formats import BinaryFormat, IntFormat
from ..numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig, SoftmaxConfig
from ..numerics.rounding import Overflow, Rounding
from .ir import (
    INTEGER_FORMATS,
    Activation,
    Add,
    AvgPool2D,
    Clip,
    Concat,
    Conv2D,
    Dense,
    DenseLayer,
    FloatConvert,
    FloatDense,
    GlobalAvgPool,
    Graph,
    IGelu,
    Input,
    IRError,
    MatMul,
    MaxPool2D,
    Mul,
    Norm,
    Relu,
    Requantize,
    Reshape,
    SignBinarize,
    Slice,
    Softmax,
    TensorType,
    Transpose,
    ZeroPad2D,
)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NUMBER_FORMATS = INTEGER_FORMATS + (FloatFormat,)


# --- field checks -----------------------------------------------------------------------------


def _fail(node, message: str):
    raise IRError(f"{node.name}: {message}")


def _int(node, field: str, value, low: int, high: int | None = None) -> int:
    if type(value) is not int or value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        _fail(node, f"{field} must be an integer {span}, not {value!r}")
    return value


def _ints(node, field: str, value, count: int, low: int) -> tuple[int, ...]:
    if not isinstance(value, tuple) or len(value) != count or any(
            type(v) is not int or v < low for v in value):
        _fail(node, f"{field} must be {count} integers of at least {low}, not {value!r}")
    return value


def _enum(node, field: str, value, cls):
    if not isinstance(value, cls):
        choices = ", ".join(repr(m.value) for m in cls)
        _fail(node, f"{field} must be a {cls.__name__} ({choices}), not {value!r}")


def _array(node, field: str, values) -> np.ndarray:
    if not isinstance(values, np.ndarray) or values.dtype not in (np.int64, object):
        _fail(node, f"{field} must be an integer array (see ir.frozen_array), not "
                    f"{type(values).__name__}")
    return values


def _params(node, field: str, values, fmt, shape: tuple[int, ...]):
    _array(node, field, values)
    if values.shape != shape:
        _fail(node, f"{field} has shape {values.shape}, expected {shape}")
    if not fmt.contains(values):
        _fail(node, f"{field} span [{values.min()}, {values.max()}], outside {fmt.describe()} "
                    f"[{fmt.min}, {fmt.max}]")


def _integer(node, t: TensorType, op: str | None = None, field: str = "input"):
    if not isinstance(t.fmt, INTEGER_FORMATS):
        _fail(node, f"{op or type(node).__name__} takes integers, not {t.fmt.describe()} "
                    f"as {field} (use FloatDense / FloatConvert)")


def _rank(node, t: TensorType, ranks, field: str = "input"):
    if len(t.shape) not in ranks:
        want = " or ".join(str(r) for r in ranks) if len(ranks) < 4 else f"at least {ranks[0]}"
        _fail(node, f"{field} must have rank {want} (shape without the batch axis), "
                    f"not shape {t.shape}")


def _out(node, shape: tuple[int, ...], fmt=None):
    if node.out.shape != tuple(shape):
        _fail(node, f"out shape must be {tuple(shape)}, not {node.out.shape}")
    if fmt is not None and node.out.fmt != fmt:
        _fail(node, f"out format must be {fmt.describe()}, not {node.out.fmt.describe()}")


def _accumulator(node, acc, frac: int, field: str = "accumulator"):
    if not isinstance(acc, IntFormat) or not acc.signed or acc.frac != frac:
        got = acc.describe() if hasattr(acc, "describe") else repr(acc)
        _fail(node, f"{field} must be signed with frac = input frac + weight frac = {frac}, "
                    f"not {got}")


def _weight_fmt(node, fmt):
    if not isinstance(fmt, INTEGER_FORMATS):
        _fail(node, f"weight_fmt must be an IntFormat, BinaryFormat or TernaryFormat, not "
                    f"{fmt!r}")


def _int_out(node):
    if not isinstance(node.out.fmt, IntFormat):
        _fail(node, f"out format must be an IntFormat, not {node.out.fmt.describe()}")


# --- ops --------------------------------------------------------------------------------------


def _dense_core(node, x: TensorType, weights, bias, weight_fmt, acc):
    _integer(node, x, "Dense")
    _weight_fmt(node, weight_fmt)
    _array(node, "weights", weights)
    if weights.ndim != 2 or weights.shape[0] < 1:
        _fail(node, f"weights must be a 2-D (out, in) array, not of shape {weights.shape}")
    _params(node, "weights", weights, weight_fmt, (weights.shape[0], x.shape[-1]))
    _accumulator(node, acc, x.fmt.frac + weight_fmt.frac)
    _params(node, "bias", bias, acc, (weights.shape[0],))


def _check_dense(node: Dense, x: TensorType):
    _rank(node, x, range(1, 65))
    _dense_core(node, x, node.weights, node.bias, node.weight_fmt, node.out.fmt)
    _out(node, x.shape[:-1] + (node.weights.shape[0],))


def _window(node, x: TensorType, kernel, stride, dilation, padding) -> tuple[int, int]:
    sizes = []
    for axis, (n, k, s, d, lo, hi) in enumerate(zip(
            x.shape[:2], kernel, stride, dilation, padding[::2], padding[1::2])):
        size = (n + lo + hi - (k - 1) * d - 1) // s + 1
        if size < 1:
            extent = (k - 1) * d + 1
            _fail(node, f"window of {extent} does not fit axis {axis} of size {n} with padding "
                        f"{lo} + {hi}")
        sizes.append(size)
    return sizes[0], sizes[1]


def _check_conv(node: Conv2D, x: TensorType):
    _rank(node, x, (3,))
    _integer(node, x)
    _weight_fmt(node, node.weight_fmt)
    stride = _ints(node, "stride", node.stride, 2, 1)
    dilation = _ints(node, "dilation", node.dilation, 2, 1)
    padding = _ints(node, "padding", node.padding, 4, 0)
    weights = _array(node, "weights", node.weights)
    if weights.ndim != 4 or 0 in weights.shape:
        _fail(node, "weights must be a 4-D (kh, kw, in_channels // groups, out_channels) "
                    f"array, not of shape {weights.shape}")
    kh, kw, _, out_ch = weights.shape
    channels = x.shape[2]
    groups = _int(node, "groups", node.groups, 1)
    if channels % groups or out_ch % groups:
        _fail(node, f"groups = {groups} must divide the input channels ({channels}) and the "
                    f"output channels ({out_ch})")
    _params(node, "weights", weights, node.weight_fmt, (kh, kw, channels // groups, out_ch))
    _accumulator(node, node.out.fmt, x.fmt.frac + node.weight_fmt.frac)
    _params(node, "bias", node.bias, node.out.fmt, (out_ch,))
    ho, wo = _window(node, x, (kh, kw), stride, dilation, padding)
    _out(node, (ho, wo, out_ch))


def _check_matmul(node: MatMul, a: TensorType, b: TensorType):
    _integer(node, a, field="a")
    _integer(node, b, field="b")
    if not isinstance(node.transpose_b, bool):
        _fail(node, f"transpose_b must be True or False, not {node.transpose_b!r}")
    if len(a.shape) < 2 or len(a.shape) != len(b.shape) or a.shape[:-2] != b.shape[:-2]:
        _fail(node, f"a and b must have the same rank (at least 2) and the same leading axes, "
                    f"not {a.shape} and {b.shape}")
    k_b, n = (b.shape[-1], b.shape[-2]) if node.transpose_b else b.shape[-2:]
    if a.shape[-1] != k_b:
        _fail(node, f"a has {a.shape[-1]} columns but b{'^T' if node.transpose_b else ''} "
                    f"has {k_b} rows")
    _accumulator(node, node.out.fmt, a.fmt.frac + b.fmt.frac)
    _out(node, a.shape[:-1] + (n,))


def _check_zero_pad(node: ZeroPad2D, x: TensorType):
    _rank(node, x, (3,))
    padding = _ints(node, "padding", node.padding, 4, 0)
    if isinstance(x.fmt, BinaryFormat):
        _fail(node, "zero padding of a binary {-1,+1} value leaves its format")
    h, w, c = x.shape
    _out(node, (h + padding[0] + padding[1], w + padding[2] + padding[3], c), x.fmt)


def _pool_window(node, x: TensorType) -> tuple[int, int]:
    _rank(node, x, (3,))
    _integer(node, x)
    pool = _ints(node, "pool", node.pool, 2, 1)
    stride = _ints(node, "stride", node.stride, 2, 1)
    padding = _ints(node, "padding", node.padding, 4, 0)
    for pad, size, side in zip(padding, (pool[0], pool[0], pool[1], pool[1]),
                               ("top", "bottom", "left", "right")):
        if pad >= size:
            _fail(node, f"padding ({side} {pad}) must be smaller than the pool window ({size}), "
                        "so that every window holds a real cell")
    return _window(node, x, pool, stride, (1, 1), padding)


def _check_max_pool(node: MaxPool2D, x: TensorType):
    ho, wo = _pool_window(node, x)
    _out(node, (ho, wo, x.shape[2]), x.fmt)


def _check_avg_pool(node: AvgPool2D, x: TensorType):
    ho, wo = _pool_window(node, x)
    _enum(node, "rounding", node.rounding, Rounding)
    _int_out(node)
    _out(node, (ho, wo, x.shape[2]))


def _check_global_avg_pool(node: GlobalAvgPool, x: TensorType):
    _rank(node, x, range(2, 65))
    _integer(node, x)
    _enum(node, "rounding", node.rounding, Rounding)
    _int_out(node)
    _out(node, (x.shape[-1],))


def _check_requantize(node: Requantize, x: TensorType):
    _integer(node, x, "Requantize")
    _enum(node, "rounding", node.rounding, Rounding)
    _enum(node, "overflow", node.overflow, Overflow)
    _int_out(node)
    extra = 0
    if node.multiplier is not None:
        m = _array(node, "multiplier", node.multiplier)
        if m.shape not in ((), (x.shape[-1],)):
            _fail(node, f"multiplier must be one integer or one per channel of the last axis "
                        f"({x.shape[-1]}), not of shape {m.shape}")
        _params(node, "multiplier", m, IntFormat(32), m.shape)
        extra = IntFormat(32).width
    _int(node, "shift", node.shift, 0, x.fmt.width + extra - 1)
    if node.multiplier is None and node.out.fmt.frac != x.fmt.frac - node.shift:
        _fail(node, f"output frac must be {x.fmt.frac - node.shift}, not {node.out.fmt.frac}")
    _out(node, x.shape)


def _check_relu(node: Relu, x: TensorType):
    _integer(node, x, "Relu")
    if not x.fmt.contains(0):
        _fail(node, f"relu of {x.fmt.describe()} leaves its format")
    if node.out != x:
        _fail(node, "relu keeps the type of its input")


def _check_clip(node: Clip, x: TensorType):
    _integer(node, x)
    lo = _int(node, "lo", node.lo, x.fmt.min, x.fmt.max)
    _int(node, "hi", node.hi, lo, x.fmt.max)
    if not x.fmt.contains([lo, node.hi]):
        _fail(node, f"lo and hi must be values of {x.fmt.describe()}, not {lo} and {node.hi}")
    if node.out != x:
        _fail(node, "clip keeps the type of its input")


def _check_sign(node: SignBinarize, x: TensorType):
    _integer(node, x)
    if not isinstance(node.out.fmt, BinaryFormat):
        _fail(node, f"out format must be a BinaryFormat, not {node.out.fmt.describe()}")
    _out(node, x.shape)


def _check_elementwise(node, a: TensorType, b: TensorType):
    _integer(node, a, field="a")
    _integer(node, b, field="b")
    if a.shape != b.shape:
        _fail(node, f"a and b must have the same shape, not {a.shape} and {b.shape}")
    _enum(node, "rounding", node.rounding, Rounding)
    _enum(node, "overflow", node.overflow, Overflow)
    _int_out(node)
    _out(node, a.shape)


def _axis(node, value, rank: int) -> int:
    return _int(node, "axis", value, 0, rank - 1)


def _check_concat(node: Concat, *parts: TensorType):
    if not parts:
        _fail(node, "concat needs at least one source")
    first = parts[0]
    axis = _axis(node, node.axis, len(first.shape))
    for name, t in zip(node.sources[1:], parts[1:]):
        if t.fmt != first.fmt:
            _fail(node, f"sources must share one format: {node.sources[0]!r} is "
                        f"{first.fmt.describe()}, {name!r} is {t.fmt.describe()}")
        if len(t.shape) != len(first.shape) or any(
                d != e for i, (d, e) in enumerate(zip(t.shape, first.shape)) if i != axis):
            _fail(node, f"sources must match but along axis {axis}: {first.shape} and "
                        f"{t.shape} ({name!r})")
    shape = list(first.shape)
    shape[axis] = sum(t.shape[axis] for t in parts)
    _out(node, tuple(shape), first.fmt)


def _check_reshape(node: Reshape, x: TensorType):
    if node.out.size != x.size or node.out.fmt != x.fmt:
        _fail(node, f"reshape keeps the size ({x.size}) and the format ({x.fmt.describe()}), "
                    f"not {node.out.shape} of {node.out.fmt.describe()}")


def _check_transpose(node: Transpose, x: TensorType):
    perm = node.perm
    if not isinstance(perm, tuple) or sorted(perm) != list(range(len(x.shape))):
        _fail(node, f"perm must be a permutation of 0 to {len(x.shape) - 1}, not {perm!r}")
    _out(node, tuple(x.shape[p] for p in perm), x.fmt)


def _check_slice(node: Slice, x: TensorType):
    axis = _axis(node, node.axis, len(x.shape))
    start = _int(node, "start", node.start, 0, x.shape[axis] - 1)
    stop = _int(node, "stop", node.stop, start + 1, x.shape[axis])
    shape = list(x.shape)
    shape[axis] = stop - start
    _out(node, tuple(shape), x.fmt)


def unit_out_fmt(config) -> IntFormat:
    """The output format of a non-linear unit, from its config."""
    if isinstance(config, SoftmaxConfig):
        return IntFormat(config.out_width, signed=False, frac=0 if config.binarize
                         else config.out_bits)
    if isinstance(config, ActivationConfig) and config.function == "sigmoid":
        return IntFormat(config.out_bits, signed=False, frac=config.out_bits)
    return IntFormat(config.out_bits, signed=True, frac=config.out_frac)


_CONFIGS = {Softmax: SoftmaxConfig, Norm: NormConfig, Activation: ActivationConfig,
            IGelu: IGeluConfig}


def _check_unit(node, x: TensorType):
    cfg = node.config
    if not isinstance(cfg, _CONFIGS[type(node)]):
        _fail(node, f"config must be a {_CONFIGS[type(node)].__name__}, not a "
                    f"{type(cfg).__name__}")
    _integer(node, x)
    if not x.fmt.fits_in(width=cfg.in_bits):
        _fail(node, f"input {x.fmt.describe()} does not fit the unit's {cfg.in_bits}-bit "
                    "signed input (config.in_bits)")
    if not isinstance(cfg, NormConfig) and x.fmt.frac != cfg.in_frac:
        _fail(node, f"input frac {x.fmt.frac} differs from config.in_frac = {cfg.in_frac}")
    if isinstance(cfg, (SoftmaxConfig, NormConfig)) and x.shape[-1] > cfg.max_len:
        _fail(node, f"rows (the last axis) of {x.shape[-1]} exceed config.max_len = "
                    f"{cfg.max_len}")
    _out(node, x.shape, unit_out_fmt(cfg))


def _check_dense_layer(node: DenseLayer, x: TensorType):
    _rank(node, x, (1,))
    _dense_core(node, x, node.weights, node.bias, node.weight_fmt, node.acc_fmt)
    if not isinstance(node.acc_fmt, IntFormat):
        _fail(node, "acc_fmt must be an IntFormat")
    _int(node, "shift", node.shift, 0, node.acc_fmt.width - 1)
    _enum(node, "rounding", node.rounding, Rounding)
    if not isinstance(node.relu, bool):
        _fail(node, f"relu must be True or False, not {node.relu!r}")
    _int_out(node)
    if node.out.fmt.frac != node.acc_fmt.frac - node.shift:
        _fail(node, f"output frac must be {node.acc_fmt.frac - node.shift}, "
                    f"not {node.out.fmt.frac}")
    _out(node, (node.weights.shape[0],))


def _codes(node, field: str, codes, fmt: FloatFormat, shape: tuple[int, ...]):
    _array(node, field, codes)
    if codes.shape != shape:
        _fail(node, f"{field} has shape {codes.shape}, expected {shape}")
    limit = 1 << (1 + fmt.exp_bits + fmt.man_bits)
    if codes.size and (codes.min() < 0 or codes.max() >= limit):
        _fail(node, f"{field} must be codes of {fmt.describe()} (0 to {limit - 1})")


def _check_float_dense(node: FloatDense, x: TensorType):
    if not isinstance(x.fmt, FloatFormat) or len(x.shape) != 1:
        _fail(node, f"float dense takes a float vector, not {x.shape} of {x.fmt.describe()}")
    acc = node.out.fmt
    if not isinstance(acc, FloatFormat):
        _fail(node, "the accumulator must be a float format")
    if acc.man_bits < x.fmt.man_bits or acc.exp_bits < x.fmt.exp_bits:
        _fail(node, f"accumulator {acc.describe()} is narrower than the inputs "
                    f"{x.fmt.describe()}")
    if not isinstance(node.norm, ApproxNorm):
        _fail(node, f"norm must be an ApproxNorm, not {node.norm!r}")
    n = node.weights.shape[0] if getattr(node.weights, "ndim", 0) == 2 else 0
    _codes(node, "weights", node.weights, x.fmt, (n, x.shape[0]))
    _codes(node, "bias", node.bias, acc, (n,))
    _out(node, (n,))


def _check_float_convert(node: FloatConvert, x: TensorType):
    if not isinstance(x.fmt, FloatFormat) or not isinstance(node.out.fmt, FloatFormat):
        _fail(node, "float convert goes from a float format to another")
    _out(node, x.shape)


_CHECKS = {
    Input: lambda node: None, Dense: _check_dense, Conv2D: _check_conv, MatMul: _check_matmul,
    ZeroPad2D: _check_zero_pad, MaxPool2D: _check_max_pool, AvgPool2D: _check_avg_pool,
    GlobalAvgPool: _check_global_avg_pool, Requantize: _check_requantize, Relu: _check_relu,
    Clip: _check_clip, SignBinarize: _check_sign, Add: _check_elementwise,
    Mul: _check_elementwise, Concat: _check_concat, Reshape: _check_reshape,
    Transpose: _check_transpose, Slice: _check_slice, Softmax: _check_unit, Norm: _check_unit,
    Activation: _check_unit, IGelu: _check_unit, DenseLayer: _check_dense_layer,
    FloatDense: _check_float_dense, FloatConvert: _check_float_convert,
}


def check_node(node, input_types: tuple[TensorType, ...]) -> None:
    """Check ``node`` given the types of the values it reads (in ``node.inputs`` order)."""
    if not isinstance(node.name, str) or not _NAME.match(node.name):
        raise IRError(f"node name {node.name!r} is not an identifier")
    check = _CHECKS.get(type(node))
    if check is None:
        _fail(node, f"unknown node kind {type(node).__name__}")
    for field in node.INPUT_FIELDS:
        value = getattr(node, field)
        names = value if isinstance(value, tuple) else (value,)
        if not all(isinstance(v, str) for v in names) or (
                field == "sources" and not isinstance(value, tuple)):
            _fail(node, f"{field} must name values, not {value!r}")
    out = node.out
    if not isinstance(out, TensorType) or not isinstance(out.fmt, NUMBER_FORMATS):
        _fail(node, "out must be a TensorType with an IntFormat, BinaryFormat, TernaryFormat "
                    "or FloatFormat")
    if not isinstance(out.shape, tuple) or not out.shape or any(
            not is_integer(d) or d < 1 for d in out.shape):
        _fail(node, f"shape must be one or more positive integers, not {out.shape}")
    check(node, *input_types)


def verify(graph: Graph) -> Graph:
    """Raise ``IRError`` naming the first broken invariant; return the graph unchanged."""
    if not graph.nodes:
        raise IRError(f"graph {graph.name!r} has no nodes")
    seen: dict[str, TensorType] = {}
    for node in graph.nodes:
        if getattr(node, "name", None) in seen:
            raise IRError(f"two nodes are named {node.name!r}")
        for src in getattr(node, "inputs", ()):
            if src not in seen:
                raise IRError(f"{node.name}: reads {src!r}, which is not defined before it")
        check_node(node, tuple(seen[src] for src in node.inputs))
        seen[node.name] = node.out
    if not graph.outputs:
        raise IRError(f"graph {graph.name!r} has no outputs")
    for out in graph.outputs:
        if out not in seen:
            raise IRError(f"graph output {out!r} is not a node")
    return graph
