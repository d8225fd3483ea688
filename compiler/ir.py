"""The typed graph every front-end produces and every pass and backend consumes.

A ``Graph`` is a tuple of nodes in topological order.  Each node is a frozen dataclass
with named, typed fields; it names the nodes it reads (``inputs``) and carries the
type of the value it produces (``out``: shape and number format).  Parameters are
read-only NumPy integer arrays holding the *integer* representation of the values;
the scale lives in the format (``IntFormat.frac``).

Integer semantics (the golden interpreter in ``neurogate.sim.golden`` is their spec):

* ``Dense``: ``acc = W @ x + b`` computed exactly, then wrapped to ``acc_fmt.width`` bits
  (two's complement), as a hardware accumulator does.
* ``Requantize``: rounding arithmetic shift right by ``shift`` then saturation to
  ``out.fmt`` (hls4ml's ``AP_RND``/``AP_TRN`` with ``AP_SAT``).
* ``Relu``: ``max(x, 0)``.
* ``DenseLayer``: the three above fused, made by ``passes.fuse_dense_layers``.
* ``FloatDense``: floating point (values are *codes*, bit patterns of a ``FloatFormat``):
  for each output, ``acc <- fma(acc, x[k], W[n, k])`` for ``k = 0, 1, ...`` starting
  from the bias, each step one multiply-add unit with normalization ``norm`` (exact,
  or one of the approximate settings of ``hw.fp.format.ApproxNorm``).  This is the
  chaining order of the floating-point systolic array.
* ``FloatConvert``: round to nearest, ties to even, into another float format.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

import numpy as np

from ..hw.fp.format import ApproxNorm, FloatFormat
from .formats import IntFormat

NumberFormat = Union[IntFormat, FloatFormat]


class IRError(ValueError):
    """The graph breaks an IR invariant; the message names the node and the field."""


class Rounding(enum.Enum):
    """How a right shift drops bits."""

    FLOOR = "floor"      # truncate towards -inf (hls4ml AP_TRN)
    HALF_UP = "half_up"  # round to nearest, ties towards +inf (hls4ml AP_RND)


@dataclass(frozen=True)
class TensorType:
    shape: tuple[int, ...]
    fmt: NumberFormat

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


def frozen_array(values) -> np.ndarray:
    """An int64 (or object, for huge values) array that cannot be modified in place."""
    array = np.array(values)
    if array.dtype.kind not in "iu" and array.dtype != object:
        if array.size and not np.all(np.equal(np.mod(array, 1), 0)):
            raise IRError("parameters must be integers (the integer representation of the values)")
        array = array.astype(np.int64)
    if array.dtype.kind in "iu":
        array = array.astype(np.int64)
    array.setflags(write=False)
    return array


class _ReadsOne:
    """A node reading exactly one value, named by its ``input`` field."""

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)


@dataclass(frozen=True, eq=False)
class Input:
    name: str
    out: TensorType

    @property
    def inputs(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, eq=False)
class Dense(_ReadsOne):
    name: str
    input: str
    weights: np.ndarray   # (out_features, in_features), integers in weight_fmt
    bias: np.ndarray      # (out_features,), integers in the accumulator scale
    weight_fmt: IntFormat
    out: TensorType       # the accumulator: its fmt.width is the wrap width


@dataclass(frozen=True, eq=False)
class Requantize(_ReadsOne):
    name: str
    input: str
    shift: int
    rounding: Rounding
    out: TensorType


@dataclass(frozen=True, eq=False)
class Relu(_ReadsOne):
    name: str
    input: str
    out: TensorType


@dataclass(frozen=True, eq=False)
class DenseLayer(_ReadsOne):
    """Dense, then requantize, then (optionally) ReLU: one pass of the matrix engine."""

    name: str
    input: str
    weights: np.ndarray
    bias: np.ndarray
    weight_fmt: IntFormat
    acc_fmt: IntFormat
    shift: int
    rounding: Rounding
    relu: bool
    out: TensorType


@dataclass(frozen=True, eq=False)
class FloatDense(_ReadsOne):
    name: str
    input: str
    weights: np.ndarray   # (out, in) codes in the input's float format
    bias: np.ndarray      # (out,) codes in the accumulator format (+0 is code 0)
    norm: ApproxNorm
    out: TensorType       # its fmt is the accumulator format


@dataclass(frozen=True, eq=False)
class FloatConvert(_ReadsOne):
    name: str
    input: str
    out: TensorType


Node = Union[Input, Dense, Requantize, Relu, DenseLayer, FloatDense, FloatConvert]


@dataclass(frozen=True, eq=False)
class Graph:
    name: str
    nodes: tuple[Node, ...]
    outputs: tuple[str, ...]

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise IRError(f"graph {self.name!r} has no node named {name!r}")

    @property
    def inputs(self) -> tuple[Input, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Input))

    def type_of(self, name: str) -> TensorType:
        return self.node(name).out

    def consumers(self, name: str) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if name in n.inputs)
