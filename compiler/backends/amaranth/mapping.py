"""Map a lowered graph (a chain of ``DenseLayer``) onto the matrix engine: sizes and images.

Tiling: layer ``(N, K)`` on an ``R x C`` array runs ``ceil(N/R)`` n-tiles of
``ceil(K/C)`` chunks.  Weight word ``w_base + nt*KT + kt`` of column ``c`` holds
``W[nt*R + r, kt*C + c]`` for each row ``r``; entries past ``N`` or ``K`` are zero, so
whatever sits in the padded lanes of the activation buffer contributes nothing.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ....hw.config import AcceleratorConfig, ArrayShape, MemoryDepths, Widths
from ....hw.program import LayerDescriptor, Program
from ....numerics.errors import NeurogateError
from ....numerics.formats import signed_width_for
from ...ir import DenseLayer, Graph, Input


def _chain(graph: Graph) -> tuple[Input, list[DenseLayer]]:
    (inp, *rest) = graph.nodes
    if not isinstance(inp, Input) or len(graph.inputs) != 1:
        raise NeurogateError(f"{graph.name}: the matrix engine takes graphs with exactly one input")
    layers, prev = [], inp.name
    for node in rest:
        if not isinstance(node, DenseLayer):
            raise NeurogateError(
                f"layer {node.name!r}: op {type(node).__name__} is not supported by the amaranth "
                "backend (it runs dense layers, each optionally followed by requantize and ReLU)")
        if node.input != prev:
            raise NeurogateError(f"layer {node.name!r}: the amaranth backend runs a chain of "
                                 f"layers; it reads {node.input!r}, not the previous layer "
                                 f"{prev!r}")
        layers.append(node)
        prev = node.name
    if not layers:
        raise NeurogateError(f"{graph.name}: no dense layer to run")
    if graph.outputs != (prev,):
        raise NeurogateError(f"{graph.name}: the only graph output must be the last layer {prev!r}")
    return inp, layers


def _bounds(layer: DenseLayer) -> tuple[int, int]:
    fmt = layer.out.fmt
    return (max(fmt.min, 0) if layer.relu else fmt.min), fmt.max


def derive_widths(graph: Graph) -> Widths:
    """The narrowest datapath that runs every layer of ``graph`` exactly."""
    inp, layers = _chain(graph)
    acc = {layer.acc_fmt.width for layer in layers}
    if len(acc) != 1:
        raise NeurogateError(
            "the matrix engine has one accumulator width; the dense layers use "
            + ", ".join(f"{layer.name}: {layer.acc_fmt.width}" for layer in layers))
    act = [signed_width_for(inp.out.fmt.min, inp.out.fmt.max)]
    act += [signed_width_for(*_bounds(layer)) for layer in layers[:-1]]
    weight = max(signed_width_for(layer.weight_fmt.min, layer.weight_fmt.max)
                 for layer in layers)
    act_bits = max(max(act), 2)
    out_bits = max(signed_width_for(*_bounds(layers[-1])), act_bits)
    return Widths(act_bits=act_bits, weight_bits=max(weight, 2), acc_bits=acc.pop(),
                  out_bits=out_bits)


def check_widths(graph: Graph, widths: Widths):
    inp, layers = _chain(graph)
    act = inp.out.fmt
    if not act.fits_in(width=widths.act_bits):
        raise NeurogateError(f"input {inp.name!r}: {act.describe()} does not fit the "
                             f"{widths.act_bits}-bit activation datapath")
    for i, layer in enumerate(layers):
        if not layer.weight_fmt.fits_in(width=widths.weight_bits):
            raise NeurogateError(f"layer {layer.name!r}: weights {layer.weight_fmt.describe()} "
                                 f"do not fit the {widths.weight_bits}-bit weight datapath")
        if layer.acc_fmt.width != widths.acc_bits:
            raise NeurogateError(f"layer {layer.name!r}: accumulates in {layer.acc_fmt.width} "
                                 f"bits, the datapath in {widths.acc_bits}")
        lo, hi = _bounds(layer)
        limit = widths.out_bits if i == len(layers) - 1 else widths.act_bits
        if lo < -(1 << (limit - 1)) or hi > (1 << (limit - 1)) - 1:
            raise NeurogateError(f"layer {layer.name!r}: outputs in [{lo}, {hi}] do not fit "
                                 f"{limit} signed bits")


def plan_program(graph: Graph, array: ArrayShape, widths: Widths | None = None) -> Program:
    """Tile every layer of ``graph`` onto ``array`` and build the memory images."""
    _, layers = _chain(graph)
    widths = widths or derive_widths(graph)
    check_widths(graph, widths)
    rows, cols = array.rows, array.cols
    tiles = [(math.ceil(layer.weights.shape[0] / rows), math.ceil(layer.weights.shape[1] / cols))
             for layer in layers]
    # Enough collector banks that short k-loops are not held up by tiles still in the
    # pipeline (a tile reaches its bank timing.capture_delay cycles after its last chunk,
    # draining takes rows).  The timing does not depend on the depths sized here.
    engine = AcceleratorConfig(array=array, widths=widths)
    in_flight = engine.timing.capture_delay + rows
    banks = min(4, max(2, math.ceil(in_flight / min(kt for _, kt in tiles))))
    depths = MemoryDepths(weight_words=sum(nt * kt for nt, kt in tiles),
                          bias_words=sum(nt for nt, _ in tiles),
                          act_chunks=max(kt for _, kt in tiles),
                          layers=len(layers), tile_banks=banks)
    config = dataclasses.replace(engine, memory=depths)
    weights = np.zeros((cols, depths.weight_words, rows), dtype=np.int64)
    biases = np.zeros((depths.bias_words, rows), dtype=np.int64)
    descriptors, w_base, b_base = [], 0, 0
    for i, (layer, (n_tiles, k_tiles)) in enumerate(zip(layers, tiles)):
        n, k = layer.weights.shape
        padded = np.zeros((n_tiles * rows, k_tiles * cols), dtype=np.int64)
        padded[:n, :k] = layer.weights
        # (nt, r, kt, c) -> (c, nt, kt, r): column-major words, rows inside a word.
        blocks = padded.reshape(n_tiles, rows, k_tiles, cols).transpose(3, 0, 2, 1)
        weights[:, w_base:w_base + n_tiles * k_tiles, :] = blocks.reshape(cols, -1, rows)
        bias = np.zeros(n_tiles * rows, dtype=np.int64)
        bias[:n] = layer.bias
        biases[b_base:b_base + n_tiles] = bias.reshape(n_tiles, rows)
        lo, hi = _bounds(layer)
        descriptors.append(LayerDescriptor(
            k_tiles=k_tiles, n_tiles=n_tiles, n_out=n, w_base=w_base, b_base=b_base,
            shift=layer.shift, rounding=layer.rounding, lo=lo, hi=hi,
            last=i == len(layers) - 1))
        w_base += n_tiles * k_tiles
        b_base += n_tiles
    return Program(config=config, layers=tuple(descriptors), weights=weights, biases=biases)
