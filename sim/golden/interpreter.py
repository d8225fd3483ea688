"""Run an IR graph on integer inputs: the specification every design is checked against."""

from __future__ import annotations

import numpy as np

from ...compiler.formats import IntFormat
from ...compiler.ir import (Dense, DenseLayer, FloatConvert, FloatDense, Graph, Input, IRError,
                            Relu, Requantize)
from . import arith, fp


def run_node(node, x: np.ndarray | None, in_fmt=None) -> np.ndarray:
    """One node on a batch: ``x`` is (batch, *input shape) in ``in_fmt`` (the format of the
    node's input); returns (batch, *output shape)."""
    if isinstance(node, Dense):
        return arith.dense(x, node.weights, node.bias, node.out.fmt.width)
    if isinstance(node, Requantize):
        fmt = node.out.fmt
        return arith.saturate(arith.round_shift(x, node.shift, node.rounding), fmt.min, fmt.max)
    if isinstance(node, Relu):
        return np.maximum(x, 0)
    if isinstance(node, DenseLayer):
        acc = arith.dense(x, node.weights, node.bias, node.acc_fmt.width)
        fmt = node.out.fmt
        lo = max(fmt.min, 0) if node.relu else fmt.min
        return arith.saturate(arith.round_shift(acc, node.shift, node.rounding), lo, fmt.max)
    if isinstance(node, FloatDense):
        init = np.broadcast_to(node.bias, (x.shape[0], node.bias.shape[0]))
        return fp.matmul_chain(x, node.weights.T, in_fmt=in_fmt, acc_fmt=node.out.fmt,
                               norm=node.norm, init=init)
    if isinstance(node, FloatConvert):
        # float64 holds every value of formats up to FP32 exactly: one rounding, RNE.
        return fp.from_float(fp.to_float(x, in_fmt), node.out.fmt)
    raise IRError(f"{node.name}: the golden model cannot run {type(node).__name__}")


def run(graph: Graph, inputs: dict[str, np.ndarray], *, keep_all: bool = False) -> dict[str, np.ndarray]:
    """Evaluate ``graph`` on a batch.

    ``inputs`` maps each input name to a (batch, size) integer array.  Returns the graph
    outputs by name (every node's value with ``keep_all``).
    """
    values: dict[str, np.ndarray] = {}
    for node in graph.nodes:
        if isinstance(node, Input):
            if node.name not in inputs:
                raise IRError(f"no value given for graph input {node.name!r}")
            x = np.asarray(inputs[node.name])
            if x.ndim != 2 or x.shape[1:] != node.out.shape:
                raise IRError(f"input {node.name!r} must have shape (batch, {node.out.size}), not {x.shape}")
            fmt = node.out.fmt
            if isinstance(fmt, IntFormat) and not fmt.contains(x):
                raise IRError(f"input {node.name!r} has values outside {fmt.describe()}")
            if not isinstance(fmt, IntFormat) and x.size and (
                    x.min() < 0 or x.max() >= 1 << (1 + fmt.exp_bits + fmt.man_bits)):
                raise IRError(f"input {node.name!r} has values that are not {fmt.describe()} codes")
            values[node.name] = x.astype(np.int64)
        else:
            src = node.inputs[0]
            values[node.name] = run_node(node, values[src], graph.type_of(src).fmt)
    names = [n.name for n in graph.nodes] if keep_all else list(graph.outputs)
    return {name: values[name] for name in names}


def run_single_output(graph: Graph, x: np.ndarray) -> np.ndarray:
    """Convenience for single-input, single-output graphs: (batch, in) -> (batch, out)."""
    (inp,) = graph.inputs
    (out,) = graph.outputs
    return run(graph, {inp.name: x})[out]
