"""The typed graph every front-end produces and every pass and backend consumes.

A ``Graph`` is a tuple of nodes in topological order.  Each node is a frozen dataclass
with named, typed fields; it names the values it reads (the ``inputs`` property: one
``input`` field for single-input ops, ``a`` and ``b`` for two-operand ops, ``sources``
for Concat) and carries the type of the one value it produces (``out``: shape and number
format).  Shapes exclude the batch axis: images are ``(H, W, C)`` (NHWC), sequences
``(tokens, features)``, vectors ``(features,)``; the interpreter runs a batch, every value
being ``(batch, *shape)``.  Axis numbers in nodes (``axis``, ``perm``) count the axes of
that shape.  Parameters are read-only NumPy integer arrays holding the *integer*
representation of the values; the scale lives in the format (``frac``).

Integer semantics: each op is defined once, by one function of the golden model
(``neurogate.sim.golden``), whose docstring states rounding, saturation and padding;
``neurogate.compiler.interpreter`` maps node to function.  In short:

* ``Dense``, ``Conv2D``, ``MatMul``: exact sums of products, wrapped to the accumulator
  width (``out.fmt``, two's complement) as a hardware accumulator does (``linear``).
* ``Requantize``: ``overflow(round(x * multiplier / 2**shift))`` (``ops``).
* ``Add``, ``Mul``: operands aligned by shifts, exact, then rounded and fitted to
  ``out.fmt`` (``ops``); ``Relu``, ``Clip``, ``SignBinarize`` likewise.
* ``MaxPool2D``, ``AvgPool2D``, ``GlobalAvgPool``, ``ZeroPad2D`` (``pool``);
  ``Concat``, ``Reshape``, ``Transpose``, ``Slice`` (``ops``).
* ``Softmax``, ``Norm``, ``Activation``, ``IGelu``: the integer non-linear units, each
  carrying its config from ``numerics.nonlinear`` (``nonlinear``; rows = last axis).
* ``DenseLayer``: Dense + Requantize + ReLU fused (``passes.fuse_dense_layers``), the
  unit of work of the matrix engine.
* ``FloatDense``, ``FloatConvert``: floating point on codes (``fp``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

import numpy as np

from ..numerics.checks import is_integer
from ..numerics.floats import ApproxNorm, FloatFormat
from ..numerics.formats import BinaryFormat, IntFormat, TernaryFormat
from ..numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig, SoftmaxConfig
from ..numerics.rounding import Overflow, Rounding

IntegerFormat = IntFormat | BinaryFormat | TernaryFormat
NumberFormat = IntFormat | BinaryFormat | TernaryFormat | FloatFormat
INTEGER_FORMATS = (IntFormat, BinaryFormat, TernaryFormat)


class IRError(ValueError):
    """The graph breaks an IR invariant; the message names the node and the field."""


def _plain_ints(values):
    return tuple(int(v) if is_integer(v) else v for v in values)


@dataclass(frozen=True)
class TensorType:
    shape: tuple[int, ...]
    fmt: NumberFormat

    def __post_init__(self):
        if isinstance(self.shape, (list, tuple)):
            object.__setattr__(self, "shape", _plain_ints(self.shape))

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def rank(self) -> int:
        return len(self.shape)


def frozen_array(values, what: str = "parameters") -> np.ndarray:
    """An int64 (or object, for values beyond int64) array that cannot be modified in place.

    Integer-valued floats are accepted; anything else raises ``IRError`` naming ``what``
    (e.g. ``"fc1: weights"``).
    """
    try:
        array = np.array(values)
    except ValueError:
        raise IRError(f"{what} must be a rectangular array of integers") from None
    kind = array.dtype.kind
    if kind in "US":
        raise IRError(f"{what} must be integers, not strings (dtype {array.dtype})")
    if kind == "O":
        if not all(is_integer(v) for v in array.flat):
            bad = next(v for v in array.flat if not is_integer(v))
            raise IRError(f"{what} must be integers, not {bad!r}")
        ints = [int(v) for v in array.flat]
        fits = all(-(1 << 63) <= v < (1 << 63) for v in ints)
        array = np.array(ints, dtype=np.int64 if fits else object).reshape(array.shape)
    elif kind == "f":
        if array.size and not np.all(np.isfinite(array) & (np.mod(array, 1) == 0)):
            bad = array[~(np.isfinite(array) & (np.mod(array, 1) == 0))].flat[0]
            raise IRError(f"{what} must be integers (the integer representation of the "
                          f"values), not {float(bad)}")
        array = array.astype(np.int64)
    elif kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
        array = np.array([int(v) for v in array.flat], dtype=object).reshape(array.shape)
    elif kind in "iub":
        array = array.astype(np.int64)
    else:
        raise IRError(f"{what} must be integers, not {array.dtype}")
    array.setflags(write=False)
    return array


class _Node:
    """Shared by every node: the value names it reads, and field normalization.

    ``__post_init__`` stores NumPy integers as ``int``, lists of integers as tuples of
    ``int`` and parameter arrays as frozen arrays, so that ``graph.json`` is the same
    whoever built the node.  It never refuses a value: the verifier names bad fields.
    """

    INPUT_FIELDS: ClassVar[tuple[str, ...]] = ("input",)

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            kind = str(f.type)
            if kind == "int" and is_integer(value):
                value = int(value)
            elif kind == "bool" and isinstance(value, np.bool_):
                value = bool(value)
            elif kind.startswith("tuple") and isinstance(value, (list, tuple)):
                value = _plain_ints(value)
            elif "np.ndarray" in kind and value is not None and not (
                    isinstance(value, np.ndarray) and not value.flags.writeable):
                try:
                    value = frozen_array(value)
                except IRError:
                    pass
            object.__setattr__(self, f.name, value)

    @property
    def inputs(self) -> tuple[str, ...]:
        names: list[str] = []
        for name in self.INPUT_FIELDS:
            value = getattr(self, name)
            names.extend(value if isinstance(value, tuple) else (value,))
        return tuple(names)


def replace_inputs(node, renames: dict[str, str]):
    """``node`` reading ``renames.get(v, v)`` for every value ``v`` it reads."""
    changes = {}
    for name in node.INPUT_FIELDS:
        value = getattr(node, name)
        new = tuple(renames.get(v, v) for v in value) if isinstance(value, tuple) \
            else renames.get(value, value)
        if new != value:
            changes[name] = new
    if not changes:
        return node
    values = {f.name: getattr(node, f.name) for f in fields(node)}
    return type(node)(**{**values, **changes})


def _node(cls):
    return dataclass(frozen=True, eq=False)(cls)


# --- sources and linear ops ---------------------------------------------------------------


@_node
class Input(_Node):
    INPUT_FIELDS: ClassVar[tuple[str, ...]] = ()
    name: str
    out: TensorType


@_node
class Dense(_Node):
    """Over the last axis, any leading axes; ``out.fmt`` is the accumulator."""

    name: str
    input: str
    weights: np.ndarray   # (out_features, in_features), integers in weight_fmt
    bias: np.ndarray      # (out_features,), integers in the accumulator scale
    weight_fmt: IntegerFormat
    out: TensorType       # the accumulator: its fmt.width is the wrap width


@_node
class Conv2D(_Node):
    """NHWC convolution; ``padding`` is (top, bottom, left, right) zero cells."""

    name: str
    input: str
    weights: np.ndarray   # (kh, kw, in_channels // groups, out_channels)
    bias: np.ndarray      # (out_channels,), accumulator scale
    weight_fmt: IntegerFormat
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    dilation: tuple[int, int]
    groups: int
    out: TensorType       # (Ho, Wo, out_channels), the accumulator format


@_node
class MatMul(_Node):
    """``a @ b`` (``b`` transposed on its last two axes with ``transpose_b``)."""

    INPUT_FIELDS: ClassVar[tuple[str, ...]] = ("a", "b")
    name: str
    a: str
    b: str
    transpose_b: bool
    out: TensorType       # the accumulator


# --- pooling and padding --------------------------------------------------------------------


@_node
class ZeroPad2D(_Node):
    name: str
    input: str
    padding: tuple[int, int, int, int]
    out: TensorType


@_node
class MaxPool2D(_Node):
    name: str
    input: str
    pool: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]   # padded cells never count
    out: TensorType


@_node
class AvgPool2D(_Node):
    name: str
    input: str
    pool: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]   # padded cells are not counted
    rounding: Rounding
    out: TensorType


@_node
class GlobalAvgPool(_Node):
    """Average over every axis but the last: (H, W, C) -> (C,), (T, F) -> (F,)."""

    name: str
    input: str
    rounding: Rounding
    out: TensorType


# --- elementwise ----------------------------------------------------------------------------


@_node
class Requantize(_Node):
    """``overflow(round(x * multiplier / 2**shift))``; ``multiplier`` None means 1, a
    0-d array is per tensor, a 1-d array per channel of the last axis."""

    name: str
    input: str
    shift: int
    rounding: Rounding
    out: TensorType
    overflow: Overflow = Overflow.SATURATE
    multiplier: np.ndarray | None = None


@_node
class Relu(_Node):
    name: str
    input: str
    out: TensorType


@_node
class Clip(_Node):
    """``min(max(x, lo), hi)``, ``lo`` and ``hi`` integers of the input format."""

    name: str
    input: str
    lo: int
    hi: int
    out: TensorType


@_node
class SignBinarize(_Node):
    """``x >= 0 -> +1``, else ``-1``; ``out.fmt`` is a ``BinaryFormat``."""

    name: str
    input: str
    out: TensorType


@_node
class Add(_Node):
    INPUT_FIELDS: ClassVar[tuple[str, ...]] = ("a", "b")
    name: str
    a: str
    b: str
    rounding: Rounding
    overflow: Overflow
    out: TensorType


@_node
class Mul(_Node):
    INPUT_FIELDS: ClassVar[tuple[str, ...]] = ("a", "b")
    name: str
    a: str
    b: str
    rounding: Rounding
    overflow: Overflow
    out: TensorType


# --- data movement --------------------------------------------------------------------------


@_node
class Concat(_Node):
    INPUT_FIELDS: ClassVar[tuple[str, ...]] = ("sources",)
    name: str
    sources: tuple[str, ...]
    axis: int
    out: TensorType


@_node
class Reshape(_Node):
    """Row-major reshape to ``out.shape`` (Flatten is a Reshape to ``(size,)``)."""

    name: str
    input: str
    out: TensorType


@_node
class Transpose(_Node):
    name: str
    input: str
    perm: tuple[int, ...]
    out: TensorType


@_node
class Slice(_Node):
    """Elements ``start ... stop-1`` along ``axis``: one output of a Split."""

    name: str
    input: str
    axis: int
    start: int
    stop: int
    out: TensorType


# --- non-linear units (rows are the last axis) ----------------------------------------------


@_node
class Softmax(_Node):
    name: str
    input: str
    config: SoftmaxConfig
    out: TensorType


@_node
class Norm(_Node):
    """LayerNorm or RMSNorm, by ``config.kind``."""

    name: str
    input: str
    config: NormConfig
    out: TensorType


@_node
class Activation(_Node):
    """Sigmoid, SiLU or ShiftGELU, by ``config.function``."""

    name: str
    input: str
    config: ActivationConfig
    out: TensorType


@_node
class IGelu(_Node):
    name: str
    input: str
    config: IGeluConfig
    out: TensorType


# --- fused and floating-point ops -------------------------------------------------------------


@_node
class DenseLayer(_Node):
    """Dense, then requantize, then (optionally) ReLU: one pass of the matrix engine."""

    name: str
    input: str
    weights: np.ndarray
    bias: np.ndarray
    weight_fmt: IntegerFormat
    acc_fmt: IntFormat
    shift: int
    rounding: Rounding
    relu: bool
    out: TensorType


@_node
class FloatDense(_Node):
    name: str
    input: str
    weights: np.ndarray   # (out, in) codes in the input's float format
    bias: np.ndarray      # (out,) codes in the accumulator format (+0 is code 0)
    norm: ApproxNorm
    out: TensorType       # its fmt is the accumulator format


@_node
class FloatConvert(_Node):
    name: str
    input: str
    out: TensorType


NODE_TYPES = (Input, Dense, Conv2D, MatMul, ZeroPad2D, MaxPool2D, AvgPool2D, GlobalAvgPool,
              Requantize, Relu, Clip, SignBinarize, Add, Mul, Concat, Reshape, Transpose, Slice,
              Softmax, Norm, Activation, IGelu, DenseLayer, FloatDense, FloatConvert)

Node = (Input | Dense | Conv2D | MatMul | ZeroPad2D | MaxPool2D | AvgPool2D | GlobalAvgPool
        | Requantize | Relu | Clip | SignBinarize | Add | Mul | Concat | Reshape | Transpose
        | Slice | Softmax | Norm | Activation | IGelu | DenseLayer | FloatDense | FloatConvert)


@dataclass(frozen=True, eq=False)
class Graph:
    name: str
    nodes: tuple[Node, ...]
    outputs: tuple[str, ...]
    _index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", {n.name: n for n in self.nodes})

    def node(self, name: str) -> Node:
        try:
            return self._index[name]
        except (KeyError, TypeError):
            raise IRError(f"graph {self.name!r} has no node named {name!r}") from None

    @property
    def inputs(self) -> tuple[Input, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Input))

    def type_of(self, name: str) -> TensorType:
        return self.node(name).out

    def consumers(self, name: str) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if name in n.inputs)
