"""Fuse ``Dense -> [Requantize] -> [Relu]`` (either order of the last two) into ``DenseLayer``.

Requantize and ReLU commute here: the rounding shift is monotone and maps 0 to 0, and
every saturation range contains 0.  A value read by more than one node, or that is a
graph output, ends the chain there.
"""

from __future__ import annotations

from dataclasses import replace

from ..ir import Dense, DenseLayer, Graph, Relu, Requantize, Rounding
from ..verifier import verify


def _single_reader(graph: Graph, name: str):
    readers = graph.consumers(name)
    if len(readers) == 1 and name not in graph.outputs:
        return readers[0]
    return None


def fuse_dense_layers(graph: Graph) -> Graph:
    absorbed: dict[str, str] = {}     # removed node -> the fused node that replaces it
    fused: dict[str, DenseLayer] = {}
    for node in graph.nodes:
        if not isinstance(node, Dense):
            continue
        shift, rounding, relu, out, tail = 0, Rounding.FLOOR, False, node.out, node
        chain = []
        nxt = _single_reader(graph, tail.name)
        while nxt is not None:
            if isinstance(nxt, Requantize) and not any(isinstance(c, Requantize) for c in chain):
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
        node = fused.get(node.name, node)
        if node.inputs and node.inputs[0] in absorbed:
            node = replace(node, input=absorbed[node.inputs[0]])
        nodes.append(node)
    outputs = tuple(absorbed.get(o, o) for o in graph.outputs)
    return verify(Graph(name=graph.name, nodes=tuple(nodes), outputs=outputs))
