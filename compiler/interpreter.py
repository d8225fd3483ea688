"""Run an IR graph on a batch of integers: the specification every design is checked against.

Each node type maps to exactly one pure-NumPy op of the golden model
(``neurogate.sim.golden``); the op's docstring states its rounding, saturation and
padding.  This module only unpacks node fields into op arguments: it adds no arithmetic.
"""

from __future__ import annotations

import numpy as np

from ..sim.golden import fp, linear, nonlinear, ops, pool, vectors
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

# node type -> op(node, values read (in node.inputs order), their types)
_OPS = {
    Dense: lambda n, v, t: linear.dense(v[0], n.weights, n.bias, acc_width=n.out.fmt.width),
    Conv2D: lambda n, v, t: linear.conv2d(
        v[0], n.weights, n.bias, stride=n.stride, padding=n.padding, dilation=n.dilation,
        groups=n.groups, acc_width=n.out.fmt.width),
    MatMul: lambda n, v, t: linear.matmul(v[0], v[1], transpose_b=n.transpose_b,
                                          acc_width=n.out.fmt.width),
    DenseLayer: lambda n, v, t: linear.dense_layer(
        v[0], n.weights, n.bias, acc_width=n.acc_fmt.width, shift=n.shift,
        rounding=n.rounding, relu=n.relu, out_fmt=n.out.fmt),
    ZeroPad2D: lambda n, v, t: pool.zero_pad2d(v[0], padding=n.padding),
    MaxPool2D: lambda n, v, t: pool.max_pool2d(v[0], pool=n.pool, stride=n.stride,
                                               padding=n.padding),
    AvgPool2D: lambda n, v, t: pool.avg_pool2d(
        v[0], pool=n.pool, stride=n.stride, padding=n.padding, rounding=n.rounding,
        in_fmt=t[0].fmt, out_fmt=n.out.fmt),
    GlobalAvgPool: lambda n, v, t: pool.global_avg_pool(
        v[0], rounding=n.rounding, in_fmt=t[0].fmt, out_fmt=n.out.fmt),
    Requantize: lambda n, v, t: ops.requantize(
        v[0], shift=n.shift, rounding=n.rounding, overflow_mode=n.overflow, out_fmt=n.out.fmt,
        multiplier=n.multiplier),
    Relu: lambda n, v, t: ops.relu(v[0]),
    Clip: lambda n, v, t: ops.clip(v[0], lo=n.lo, hi=n.hi),
    SignBinarize: lambda n, v, t: ops.sign_binarize(v[0]),
    Add: lambda n, v, t: ops.add(
        v[0], v[1], a_fmt=t[0].fmt, b_fmt=t[1].fmt, out_fmt=n.out.fmt, rounding=n.rounding,
        overflow_mode=n.overflow),
    Mul: lambda n, v, t: ops.mul(
        v[0], v[1], a_fmt=t[0].fmt, b_fmt=t[1].fmt, out_fmt=n.out.fmt, rounding=n.rounding,
        overflow_mode=n.overflow),
    Concat: lambda n, v, t: ops.concat(v, axis=n.axis),
    Reshape: lambda n, v, t: ops.reshape(v[0], shape=n.out.shape),
    Transpose: lambda n, v, t: ops.transpose(v[0], perm=n.perm),
    Slice: lambda n, v, t: ops.slice_axis(v[0], axis=n.axis, start=n.start, stop=n.stop),
    Softmax: lambda n, v, t: nonlinear.softmax(n.config, v[0]),
    Norm: lambda n, v, t: nonlinear.norm(n.config, v[0]),
    Activation: lambda n, v, t: nonlinear.activation(n.config, v[0]),
    IGelu: lambda n, v, t: nonlinear.igelu(n.config, v[0]),
    FloatDense: lambda n, v, t: fp.float_dense(v[0], n.weights, n.bias, in_fmt=t[0].fmt,
                                               acc_fmt=n.out.fmt, norm=n.norm),
    FloatConvert: lambda n, v, t: fp.float_convert(v[0], in_fmt=t[0].fmt, out_fmt=n.out.fmt),
}


def _check_input(node: Input, x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != len(node.out.shape) + 1 or x.shape[1:] != node.out.shape:
        want = ", ".join(str(d) for d in node.out.shape)
        raise IRError(f"input {node.name!r} must have shape (batch, {want}), not {x.shape}")
    if x.size and x.dtype.kind not in "iu" and not (
            x.dtype == object or np.all(np.mod(x, 1) == 0)):
        raise IRError(f"input {node.name!r} must hold integers, not {x.dtype}")
    fmt = node.out.fmt
    if isinstance(fmt, INTEGER_FORMATS) and not fmt.contains(x):
        raise IRError(f"input {node.name!r} has values outside {fmt.describe()}")
    if not isinstance(fmt, INTEGER_FORMATS) and x.size and (
            x.min() < 0 or x.max() >= 1 << (1 + fmt.exp_bits + fmt.man_bits)):
        raise IRError(f"input {node.name!r} has values that are not {fmt.describe()} codes")
    return x.astype(np.int64)


def run_node(node, values: list[np.ndarray], types: list[TensorType]) -> np.ndarray:
    """One node on a batch: ``values`` are the (batch, *shape) values it reads, in
    ``node.inputs`` order, ``types`` their types; returns (batch, *out.shape) int64."""
    op = _OPS.get(type(node))
    if op is None:
        raise IRError(f"{node.name}: the golden model cannot run {type(node).__name__}")
    return np.asarray(op(node, values, types), dtype=np.int64)


def run(graph: Graph, inputs: dict[str, np.ndarray], *,
        keep_all: bool = False) -> dict[str, np.ndarray]:
    """Evaluate ``graph`` on a batch.

    ``inputs`` maps each input name to a ``(batch, *shape)`` integer array (codes for a
    float format).  Returns the graph outputs by name (every node's value with
    ``keep_all``), each ``(batch, *shape)`` int64.
    """
    values: dict[str, np.ndarray] = {}
    for node in graph.nodes:
        if isinstance(node, Input):
            if node.name not in inputs:
                raise IRError(f"no value given for graph input {node.name!r}")
            values[node.name] = _check_input(node, inputs[node.name])
        else:
            values[node.name] = run_node(node, [values[s] for s in node.inputs],
                                         [graph.type_of(s) for s in node.inputs])
    names = [n.name for n in graph.nodes] if keep_all else list(graph.outputs)
    return {name: values[name] for name in names}


def run_single_output(graph: Graph, x: np.ndarray) -> np.ndarray:
    """Convenience for single-input, single-output graphs: (batch, *in) -> (batch, *out)."""
    (inp,) = graph.inputs
    (out,) = graph.outputs
    return run(graph, {inp.name: x})[out]


def make_vectors(graph: Graph, count: int, *, seed: int = 0) -> np.ndarray:
    """``count`` test inputs for the graph's single integer input: corners, then random
    (``sim.golden.vectors.make_vectors``)."""
    (inp,) = graph.inputs
    if not isinstance(inp.out.fmt, INTEGER_FORMATS):
        raise IRError(f"input {inp.name!r}: test vectors need an integer format, not "
                      f"{inp.out.fmt.describe()}")
    return vectors.make_vectors(inp.out.shape, inp.out.fmt, count, seed=seed)


def make_input_vectors(graph: Graph, count: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Vectors for every input of ``graph`` (input ``i`` seeded with ``seed + i``)."""
    return {inp.name: vectors.make_vectors(inp.out.shape, inp.out.fmt, count, seed=seed + i)
            for i, inp in enumerate(graph.inputs)}
