"""Weights and biases held in registers, rewritable at run time through the byte-wide
register bus of ``neurogate.hw.regfile`` (what the I2C target, ``neurogate.hw.i2c``,
drives).

The register map is fixed by the graph: every weight and bias of every Dense / Conv2D
layer, in graph order (a layer's weights in row-major order of its weight array, then
its biases), each a signed field of ``ceil(width / 8)`` bytes, little-endian, at
consecutive byte addresses from 0 (``hw.regfile.layout_fields``).  A weight field is as
wide as the layer's weight format (2 bits for a binary one); a bias field as wide as its
accumulator.  ``weight_bytes(graph)`` gives the bytes that load a graph's parameters, and
``with_parameters`` the graph whose golden model the hardware computes once they are
written.  A multi-byte field changes byte by byte (not atomically).  With ``tmr`` the
register file keeps three scrubbed copies of every field (``RegisterFile(tmr=True)``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from amaranth.hdl import signed

from ....hw.regfile import RegisterFile, field_bytes, layout_fields
from ...ir import Conv2D, Dense, DenseLayer, Graph
from ..base import c_identifier


@dataclass(frozen=True)
class Parameter:
    """One weight (``kind`` "w") or bias ("b") of a layer, and its register field."""

    layer: str
    kind: str
    index: tuple[int, ...]
    width: int
    value: int

    @property
    def key(self) -> tuple[str, str, tuple[int, ...]]:
        return self.layer, self.kind, self.index

    @property
    def field_name(self) -> str:
        return c_identifier(f"{self.layer}_{self.kind}_{'_'.join(map(str, self.index))}")


def _layers(graph: Graph):
    return [n for n in graph.nodes if isinstance(n, (Dense, DenseLayer, Conv2D))]


def parameters(graph: Graph) -> list[Parameter]:
    """Every weight and bias of ``graph``, in register-map order."""
    out = []
    for node in _layers(graph):
        acc = node.acc_fmt if isinstance(node, DenseLayer) else node.out.fmt
        for kind, array, width in (("w", node.weights, max(node.weight_fmt.width, 2)),
                                   ("b", node.bias, acc.width)):
            for index in np.ndindex(*array.shape):
                out.append(Parameter(node.name, kind, tuple(int(i) for i in index), width,
                                     int(array[index])))
    return out


def register_file(graph: Graph, *, tmr: bool = False) -> RegisterFile:
    """The registers holding ``graph``'s parameters, initialized to them."""
    params = parameters(graph)
    return RegisterFile([(p.field_name, signed(p.width)) for p in params],
                        init={p.field_name: p.value for p in params}, tmr=tmr)


def weight_bytes(graph: Graph) -> bytes:
    """The register bytes that hold ``graph``'s weights and biases, from address 0."""
    params = parameters(graph)
    fields = layout_fields([(p.field_name, signed(p.width)) for p in params])
    return bytes(b for f, p in zip(fields, params) for b in field_bytes(f, p.value))


def with_parameters(graph: Graph, new: dict[str, tuple[np.ndarray, np.ndarray]]) -> Graph:
    """``graph`` with some layers' ``(weights, bias)`` replaced (same shapes): the golden
    model of the hardware after those registers are written."""
    nodes = []
    for node in graph.nodes:
        if node.name in new:
            weights, bias = new[node.name]
            if np.shape(weights) != node.weights.shape or np.shape(bias) != node.bias.shape:
                raise ValueError(f"layer {node.name!r}: new parameters must keep the shapes "
                                 f"{node.weights.shape} and {node.bias.shape}")
            node = replace(node, weights=weights, bias=bias)
        nodes.append(node)
    return Graph(name=graph.name, nodes=tuple(nodes), outputs=graph.outputs)
