"""Fuse ``Dense -> [Requantize] -> [Relu]`` (either order of the last two) into ``DenseLayer``.

Requantize and ReLU commute here: the rounding shift is monotone and maps 0 to 0, and
every saturation range contains 0.  A value read by more than one node, or that is a
graph output, ends the chain there.

Only what one pass of the matrix engine computes is fused: a Dense on a vector (rank-1
input), and a Requantize without multiplier, with saturation (and any rounding: the
engine's requantizer has them all).  Any other Dense or Requantize stays as it is (and
the backend refuses it by name).
"""

from __future__ import annotations

from ...numerics.formats import IntFormat
from ...numerics.rounding import Overflow, Rounding
from ..ir import Dense, DenseLayer, Graph, Relu, Requantize, replace_inputs
from ..verifier import verify


def _single_reader(graph: Graph, name: str):
    readers = graph.consumers(name)
    if len(readers) == 1 and name not in graph.outputs:
        return readers[0]
    return None


def _engine_requantize(node) -> bool:
    return (isinstance(node, Requantize) and node.multiplier is None
            and node.overflow is Overflow.SATURATE and isinstance(node.out.fmt, IntFormat))


def fuse_dense_layers(graph: Graph) -> Graph:
    absorbed: dict[str, str] = {}     # removed node -> the fused node that replaces it
    fused: dict[str, DenseLayer] = {}
    for node in graph.nodes:
        if not isinstance(node, Dense) or len(graph.type_of(node.input).shape) != 1:
            continue
        shift, rounding, relu, out, tail = 0, Rounding.FLOOR, False, node.out, node
        chain = []
        nxt = _single_reader(graph, tail.name)
        while nxt is not None:
            if _engine_requantize(nxt) and not any(isinstance(c, Requantize) for c in chain):
                shift, rounding, out = nxt.shift, nxt.rounding, nxt.out
            elif isinstance(nxt, Relu) and not relu:
                relu = True
            else:
                break
            chain.append(nxt)
            tail = nxt
            nxt = _single_reader(graph, tail.name)
        for absorbed_node in chain:
            absorbed[absorbed_node.name] = node.name
        fused[node.name] = DenseLayer(
            name=node.name, input=node.input, weights=node.weights, bias=node.bias,
            weight_fmt=node.weight_fmt, acc_fmt=node.out.fmt, shift=shift, rounding=rounding,
            relu=relu, out=out)
    nodes = []
    for node in graph.nodes:
        if node.name in absorbed:
            continue
        nodes.append(replace_inputs(fused.get(node.name, node), absorbed))
    outputs = tuple(absorbed.get(o, o) for o in graph.outputs)
    return verify(Graph(name=graph.name, nodes=tuple(nodes), outputs=outputs))
