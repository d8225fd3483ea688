"""The pass pipeline, in order, each step with its reason."""

from __future__ import annotations

from ..ir import Graph
from ..verifier import verify
from .fuse_dense_layers import fuse_dense_layers


def lower(graph: Graph) -> Graph:
    """Bring a front-end graph to the form the matrix-engine backend maps."""
    graph = verify(graph)                 # reject malformed input before touching it
    graph = fuse_dense_layers(graph)      # the engine runs dense+requantize+ReLU as one pass
    return graph
