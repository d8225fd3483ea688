"""Checks every IR invariant; run after building and between passes."""

from __future__ import annotations

import re

import numpy as np

from ..hw.fp.format import ApproxNorm, FloatFormat
from .formats import IntFormat
from .ir import (Dense, DenseLayer, FloatConvert, FloatDense, Graph, Input, IRError, Relu,
                 Requantize, Rounding, TensorType)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_params(node, field: str, values: np.ndarray, fmt: IntFormat, shape: tuple[int, ...]):
    if values.shape != shape:
        raise IRError(f"{node.name}: {field} has shape {values.shape}, expected {shape}")
    if not fmt.contains(values):
        raise IRError(
            f"{node.name}: {field} span [{values.min()}, {values.max()}], "
            f"outside {fmt.describe()} [{fmt.min}, {fmt.max}]"
        )


def _check_dense_core(node, x: TensorType, weights, bias, weight_fmt: IntFormat, acc: IntFormat):
    if len(x.shape) != 1:
        raise IRError(f"{node.name}: dense input must be a vector, not of shape {x.shape}")
    if weights.ndim != 2 or weights.shape[0] < 1:
        raise IRError(f"{node.name}: weights must be a 2-D (out, in) array, not {weights.shape}")
    _check_params(node, "weights", weights, weight_fmt, (weights.shape[0], x.shape[0]))
    if acc.frac != x.fmt.frac + weight_fmt.frac or not acc.signed:
        raise IRError(
            f"{node.name}: accumulator must be signed with frac = input frac + weight frac "
            f"= {x.fmt.frac + weight_fmt.frac}, not {acc.describe()}"
        )
    _check_params(node, "bias", bias, acc, (weights.shape[0],))


def _check_requant(node, acc: IntFormat, shift: int, rounding, out: IntFormat):
    if isinstance(shift, bool) or not isinstance(shift, int) or not 0 <= shift < acc.width:
        raise IRError(f"{node.name}: shift must be an integer from 0 to {acc.width - 1}, not {shift!r}")
    if not isinstance(rounding, Rounding):
        raise IRError(f"{node.name}: rounding must be a Rounding, not {rounding!r}")
    if out.frac != acc.frac - shift:
        raise IRError(f"{node.name}: output frac must be {acc.frac - shift}, not {out.frac}")


def _check_codes(node, field: str, codes: np.ndarray, fmt: FloatFormat, shape: tuple[int, ...]):
    if codes.shape != shape:
        raise IRError(f"{node.name}: {field} has shape {codes.shape}, expected {shape}")
    limit = 1 << (1 + fmt.exp_bits + fmt.man_bits)
    if codes.size and (codes.min() < 0 or codes.max() >= limit):
        raise IRError(f"{node.name}: {field} must be codes of {fmt.describe()} (0 to {limit - 1})")


def _check_float_dense(node, x: TensorType):
    if not isinstance(x.fmt, FloatFormat) or len(x.shape) != 1:
        raise IRError(f"{node.name}: float dense takes a float vector, not {x.shape} of "
                      f"{x.fmt.describe()}")
    acc = node.out.fmt
    if not isinstance(acc, FloatFormat):
        raise IRError(f"{node.name}: the accumulator must be a float format")
    if acc.man_bits < x.fmt.man_bits or acc.exp_bits < x.fmt.exp_bits:
        raise IRError(f"{node.name}: accumulator {acc.describe()} is narrower than the inputs "
                      f"{x.fmt.describe()}")
    if not isinstance(node.norm, ApproxNorm):
        raise IRError(f"{node.name}: norm must be an ApproxNorm, not {node.norm!r}")
    n = node.weights.shape[0] if node.weights.ndim == 2 else 0
    _check_codes(node, "weights", node.weights, x.fmt, (n, x.shape[0]))
    _check_codes(node, "bias", node.bias, acc, (n,))
    if node.out.shape != (n,):
        raise IRError(f"{node.name}: out shape must be ({n},)")


def verify(graph: Graph) -> Graph:
    """Raise ``IRError`` naming the first broken invariant; return the graph unchanged."""
    if not graph.nodes:
        raise IRError(f"graph {graph.name!r} has no nodes")
    seen: dict[str, TensorType] = {}
    for node in graph.nodes:
        if not isinstance(node.name, str) or not _NAME.match(node.name):
            raise IRError(f"node name {node.name!r} is not an identifier")
        if node.name in seen:
            raise IRError(f"two nodes are named {node.name!r}")
        for src in node.inputs:
            if src not in seen:
                raise IRError(f"{node.name}: reads {src!r}, which is not defined before it")
        if not isinstance(node.out, TensorType) or not isinstance(node.out.fmt,
                                                                 (IntFormat, FloatFormat)):
            raise IRError(f"{node.name}: out must be a TensorType with an IntFormat or FloatFormat")
        if any(not isinstance(d, int) or d < 1 for d in node.out.shape):
            raise IRError(f"{node.name}: shape must be positive integers, not {node.out.shape}")
        x = seen[node.inputs[0]] if node.inputs else None
        integer_op = isinstance(node, (Dense, Requantize, Relu, DenseLayer))
        if integer_op and not isinstance(x.fmt, IntFormat):
            raise IRError(f"{node.name}: {type(node).__name__} takes integers, not "
                          f"{x.fmt.describe()} (use FloatDense / FloatConvert)")
        if isinstance(node, Input):
            pass
        elif isinstance(node, Dense):
            _check_dense_core(node, x, node.weights, node.bias, node.weight_fmt, node.out.fmt)
            if node.out.shape != (node.weights.shape[0],):
                raise IRError(f"{node.name}: out shape must be ({node.weights.shape[0]},)")
        elif isinstance(node, Requantize):
            _check_requant(node, x.fmt, node.shift, node.rounding, node.out.fmt)
            if node.out.shape != x.shape:
                raise IRError(f"{node.name}: requantize keeps the shape {x.shape}")
        elif isinstance(node, Relu):
            if node.out != x:
                raise IRError(f"{node.name}: relu keeps the type of its input")
        elif isinstance(node, DenseLayer):
            _check_dense_core(node, x, node.weights, node.bias, node.weight_fmt, node.acc_fmt)
            _check_requant(node, node.acc_fmt, node.shift, node.rounding, node.out.fmt)
            if node.out.shape != (node.weights.shape[0],):
                raise IRError(f"{node.name}: out shape must be ({node.weights.shape[0]},)")
        elif isinstance(node, FloatDense):
            _check_float_dense(node, x)
        elif isinstance(node, FloatConvert):
            if not isinstance(x.fmt, FloatFormat) or not isinstance(node.out.fmt, FloatFormat):
                raise IRError(f"{node.name}: float convert goes from a float format to another")
            if node.out.shape != x.shape:
                raise IRError(f"{node.name}: float convert keeps the shape {x.shape}")
        else:
            raise IRError(f"{node.name}: unknown node kind {type(node).__name__}")
        seen[node.name] = node.out
    if not graph.outputs:
        raise IRError(f"graph {graph.name!r} has no outputs")
    for out in graph.outputs:
        if out not in seen:
            raise IRError(f"graph output {out!r} is not a node")
    return graph
