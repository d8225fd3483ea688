"""Run an IR graph on integer inputs: the specification every design is checked against."""

from __future__ import annotations

import numpy as np

from ...compiler.ir import Dense, DenseLayer, Graph, Input, IRError, Relu, Requantize
from . import arith


def run_node(node, x: np.ndarray | None) -> np.ndarray:
    """One node on a batch: ``x`` is (batch, *input shape); returns (batch, *output shape)."""
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
            if not node.out.fmt.contains(x):
                raise IRError(f"input {node.name!r} has values outside {node.out.fmt.describe()}")
            values[node.name] = x.astype(np.int64)
        else:
            values[node.name] = run_node(node, values[node.inputs[0]])
    names = [n.name for n in graph.nodes] if keep_all else list(graph.outputs)
    return {name: values[name] for name in names}


def run_single_output(graph: Graph, x: np.ndarray) -> np.ndarray:
    """Convenience for single-input, single-output graphs: (batch, in) -> (batch, out)."""
    (inp,) = graph.inputs
    (out,) = graph.outputs
    return run(graph, {inp.name: x})[out]
