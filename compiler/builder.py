"""Build an IR graph from NumPy arrays.

Example::

    from neurogate.compiler.builder import GraphBuilder
    from neurogate.compiler.formats import IntFormat

    b = GraphBuilder("mlp")
    x = b.input("x", 64, IntFormat(8))
    h = b.dense(x, w1, b1, weight_fmt=IntFormat(8), name="fc1")   # int32 accumulator
    h = b.requantize(h, shift=7, out_fmt=IntFormat(8))             # back to int8
    h = b.relu(h)
    graph = b.build(outputs=[h])

Each method returns the name of the node it added; pass it on to the next one.
"""

from __future__ import annotations

from ..hw.fp.format import ApproxNorm, FloatFormat
from .formats import IntFormat
from .ir import (Dense, FloatConvert, FloatDense, Graph, Input, IRError, NumberFormat, Relu,
                 Requantize, Rounding, TensorType, frozen_array)
from .verifier import verify


class GraphBuilder:
    def __init__(self, name: str):
        self.name = name
        self._nodes: list = []
        self._count = 0

    def _fresh(self, kind: str, name: str | None) -> str:
        self._count += 1
        return name if name is not None else f"{kind}{self._count}"

    def _int_type(self, name: str, op: str, node: str) -> TensorType:
        xt = self._type(name)
        if not isinstance(xt.fmt, IntFormat):
            raise IRError(f"{node}: {op} takes integers, not {xt.fmt.describe()} "
                          "(use float_dense / float_convert)")
        return xt

    def _type(self, name: str) -> TensorType:
        for node in self._nodes:
            if node.name == name:
                return node.out
        raise IRError(f"{self.name}: no node named {name!r} to read from")

    def input(self, name: str, size: int, fmt: NumberFormat) -> str:
        self._nodes.append(Input(name=name, out=TensorType((size,), fmt)))
        return name

    def dense(self, x: str, weights, bias=None, *, weight_fmt: IntFormat, acc_width: int = 32,
              name: str | None = None) -> str:
        """``acc = weights @ x + bias`` wrapped to ``acc_width`` bits.

        ``bias`` is in the accumulator scale (input frac + weight frac); zeros if omitted.
        """
        name = self._fresh("dense", name)
        xt = self._int_type(x, "Dense", name)
        weights = frozen_array(weights)
        bias = frozen_array([0] * weights.shape[0] if bias is None else bias)
        acc = IntFormat(acc_width, True, xt.fmt.frac + weight_fmt.frac)
        self._nodes.append(Dense(name=name, input=x, weights=weights, bias=bias,
                                 weight_fmt=weight_fmt, out=TensorType((weights.shape[0],), acc)))
        return name

    def requantize(self, x: str, *, shift: int, out_fmt: IntFormat,
                   rounding: Rounding | str = Rounding.HALF_UP, name: str | None = None) -> str:
        """Rounding shift right by ``shift`` bits, then saturate to ``out_fmt``.

        ``out_fmt.frac`` is derived (input frac - shift); the width and sign are taken from it.
        """
        name = self._fresh("requant", name)
        xt = self._int_type(x, "Requantize", name)
        fmt = IntFormat(out_fmt.width, out_fmt.signed, xt.fmt.frac - shift)
        self._nodes.append(Requantize(name=name, input=x, shift=shift, rounding=Rounding(rounding),
                                      out=TensorType(xt.shape, fmt)))
        return name

    def relu(self, x: str, *, name: str | None = None) -> str:
        name = self._fresh("relu", name)
        self._nodes.append(Relu(name=name, input=x, out=self._type(x)))
        return name

    def float_dense(self, x: str, weights, bias=None, *, acc_fmt: FloatFormat,
                    norm: ApproxNorm = ApproxNorm.exact(), name: str | None = None) -> str:
        """Float dense layer: ``weights`` (out, in) and ``bias`` (out,) are *codes* (bit
        patterns; ``sim.golden.fp.from_float`` makes them), weights in the input's format,
        bias in ``acc_fmt`` (+0 if omitted).  Each output chains one multiply-add per input
        element, in order, with normalization ``norm``."""
        name = self._fresh("float_dense", name)
        weights = frozen_array(weights)
        bias = frozen_array([0] * weights.shape[0] if bias is None else bias)
        self._nodes.append(FloatDense(name=name, input=x, weights=weights, bias=bias, norm=norm,
                                      out=TensorType((weights.shape[0],), acc_fmt)))
        return name

    def float_convert(self, x: str, fmt: FloatFormat, *, name: str | None = None) -> str:
        """Round to ``fmt`` (nearest, ties to even)."""
        name = self._fresh("convert", name)
        self._nodes.append(FloatConvert(name=name, input=x, out=TensorType(self._type(x).shape, fmt)))
        return name

    def build(self, outputs: list[str]) -> Graph:
        return verify(Graph(name=self.name, nodes=tuple(self._nodes), outputs=tuple(outputs)))
