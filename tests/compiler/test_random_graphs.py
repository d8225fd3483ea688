"""Random DAGs of every integer op (branches, merges, random formats, roundings and overflow
modes): the golden interpreter gives identical integers after a trip through graph.json and
after every pass (design rule 8)."""

import collections

import numpy as np
import pytest
from graphs import random_graph
from neurogate.compiler import serialize
from neurogate.compiler.interpreter import make_input_vectors, run
from neurogate.compiler.ir import NODE_TYPES
from neurogate.compiler.passes.fuse_dense_layers import fuse_dense_layers
from neurogate.compiler.passes.pipeline import lower
from neurogate.numerics.rounding import Rounding

GRAPHS = 400
CHUNK = 50


def outputs_by_position(graph, inputs):
    values = run(graph, inputs)
    return [values[name] for name in graph.outputs]


def assert_same(before, after, inputs):
    assert len(before.outputs) == len(after.outputs)
    for want, got in zip(outputs_by_position(before, inputs), outputs_by_position(after, inputs)):
        np.testing.assert_equal(got, want)


@pytest.mark.parametrize("first", range(0, GRAPHS, CHUNK))
def test_serialization_and_passes_keep_the_integers(first):
    for seed in range(first, first + CHUNK):
        graph = random_graph(seed)
        inputs = make_input_vectors(graph, 9, seed=seed)
        expected = run(graph, inputs, keep_all=True)
        text = serialize.dumps(graph)
        back = serialize.loads(text)
        assert serialize.dumps(back) == text, seed
        got = run(back, inputs, keep_all=True)
        assert got.keys() == expected.keys()
        for name in expected:
            np.testing.assert_equal(got[name], expected[name], err_msg=f"seed {seed}: {name}")
        assert_same(graph, fuse_dense_layers(graph), inputs)
        assert_same(graph, lower(graph), inputs)


def test_the_random_graphs_cover_every_integer_op_with_branches_and_merges():
    kinds, branches, roundings = collections.Counter(), 0, set()
    fused = 0
    for seed in range(GRAPHS):
        graph = random_graph(seed)
        kinds.update(type(n).__name__ for n in graph.nodes)
        branches += any(len(graph.consumers(n.name)) > 1 for n in graph.nodes)
        roundings.update(n.rounding for n in graph.nodes if hasattr(n, "rounding"))
        fused += sum(type(n).__name__ == "DenseLayer" for n in lower(graph).nodes)
    float_or_fused = {"DenseLayer", "FloatDense", "FloatConvert"}
    for cls in NODE_TYPES:
        if cls.__name__ not in float_or_fused:
            assert kinds[cls.__name__] >= 20, (cls.__name__, kinds)
    assert branches > GRAPHS // 2 and fused > 50 and roundings == set(Rounding)
