"""Every pass keeps the golden model's integers identical (the interpreter is the spec)."""

import numpy as np
import pytest
from graphs import random_mlp
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.interpreter import make_vectors, run_single_output
from neurogate.compiler.ir import DenseLayer
from neurogate.compiler.passes.fuse_dense_layers import fuse_dense_layers
from neurogate.numerics.formats import IntFormat
from neurogate.numerics.rounding import Rounding


def assert_same_integers(before, after):
    x = make_vectors(before, 64, seed=1)
    np.testing.assert_equal(run_single_output(after, x), run_single_output(before, x))


@pytest.mark.parametrize("rounding", [r.value for r in Rounding])
def test_fuse_mlp(rounding):
    g = random_mlp([13, 11, 6, 3], seed=2, rounding=rounding)
    fused = fuse_dense_layers(g)
    assert [type(n).__name__ for n in fused.nodes] == ["Input"] + ["DenseLayer"] * 3
    assert [n.relu for n in fused.nodes[1:]] == [True, True, False]
    assert {n.rounding for n in fused.nodes[1:]} == {Rounding(rounding)}
    assert_same_integers(g, fused)


def test_relu_before_requantize_fuses_to_the_same_integers():
    rng = np.random.default_rng(4)
    b = GraphBuilder("g")
    x = b.input("x", 10, IntFormat(8))
    y = b.dense(x, rng.integers(-128, 128, (5, 10)), weight_fmt=IntFormat(8), name="fc")
    y = b.relu(y, name="r")
    y = b.requantize(y, shift=9, out_fmt=IntFormat(4, signed=False), name="q")
    g = b.build(outputs=[y])
    fused = fuse_dense_layers(g)
    (layer,) = [n for n in fused.nodes if isinstance(n, DenseLayer)]
    assert layer.relu and layer.shift == 9 and fused.outputs == ("fc",)
    assert_same_integers(g, fused)


def test_dense_alone_keeps_the_accumulator():
    b = GraphBuilder("g")
    x = b.input("x", 4, IntFormat(8))
    g = b.build(outputs=[b.dense(x, [[1, -2, 3, -4]], [5], weight_fmt=IntFormat(8), name="fc")])
    fused = fuse_dense_layers(g)
    layer = fused.node("fc")
    assert layer.shift == 0 and not layer.relu and layer.out.fmt == IntFormat(32)
    assert_same_integers(g, fused)


def test_a_value_read_twice_ends_the_chain():
    b = GraphBuilder("g")
    x = b.input("x", 2, IntFormat(8))
    y = b.dense(x, [[1, 1]], weight_fmt=IntFormat(8), name="fc")
    q = b.requantize(y, shift=1, out_fmt=IntFormat(8), name="q")
    g = b.build(outputs=[q, y])
    fused = fuse_dense_layers(g)
    assert [type(n).__name__ for n in fused.nodes] == ["Input", "DenseLayer", "Requantize"]


@pytest.mark.parametrize("requant", [{"overflow": "wrap"}, {"multiplier": 3}],
                         ids=["wrap", "multiplier"])
def test_only_what_the_engine_computes_is_fused(requant):
    b = GraphBuilder("g")
    x = b.input("x", 6, IntFormat(8))
    y = b.dense(x, np.arange(-9, 9).reshape(3, 6), weight_fmt=IntFormat(8), name="fc")
    y = b.requantize(y, shift=3, out_fmt=IntFormat(6), name="q", **requant)
    g = b.build(outputs=[b.relu(y, name="r")])
    fused = fuse_dense_layers(g)
    assert [type(n).__name__ for n in fused.nodes] == ["Input", "DenseLayer", "Requantize",
                                                       "Relu"]
    assert fused.node("fc").shift == 0 and fused.node("q").input == "fc"
    assert_same_integers(g, fused)


def test_dense_over_a_sequence_is_not_fused():
    b = GraphBuilder("g")
    x = b.input("x", (3, 4), IntFormat(8))
    y = b.dense(x, np.ones((2, 4)), weight_fmt=IntFormat(8), name="fc")
    g = b.build(outputs=[b.requantize(y, shift=1, out_fmt=IntFormat(8), name="q")])
    assert fuse_dense_layers(g).node("fc") is g.node("fc")


def test_readers_of_a_fused_chain_read_the_fused_layer():
    b = GraphBuilder("g")
    x = b.input("x", 4, IntFormat(8))
    rng = np.random.default_rng(5)
    h = b.relu(b.requantize(b.dense(x, rng.integers(-50, 50, (4, 4)), weight_fmt=IntFormat(8),
                                    name="fc"), shift=4, out_fmt=IntFormat(8), name="q"),
               name="r")
    other = b.requantize(x, shift=0, out_fmt=IntFormat(8), name="skip")
    s = b.add(h, other, out_fmt=IntFormat(8, frac=-4), rounding="half_even", name="sum")
    c = b.concat([h, s], name="cat")
    g = b.build(outputs=[c])
    fused = fuse_dense_layers(g)
    assert fused.node("sum").a == "fc" and fused.node("cat").sources == ("fc", "sum")
    assert_same_integers(g, fused)
