import numpy as np
import pytest
from graphs import random_mlp
from neurogate.compiler.backends.amaranth.mapping import derive_widths, plan_program
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.passes.pipeline import lower
from neurogate.hw.config import ArrayShape, Widths
from neurogate.numerics.errors import NeurogateError
from neurogate.numerics.formats import IntFormat


def test_weight_image_layout():
    g = lower(random_mlp([5, 3], seed=0))
    program = plan_program(g, ArrayShape(2, 2))
    w = g.nodes[1].weights
    # word nt*KT + kt of column c, row r holds W[nt*2 + r, kt*2 + c]; padding is zero.
    assert program.weights.shape == (2, 2 * 3, 2)
    assert program.weights[1, 0 * 3 + 2, 0] == 0                  # k = 5 is padding
    assert program.weights[0, 1 * 3 + 2, 0] == w[2, 4]
    assert program.weights[1, 1 * 3 + 0, 1] == 0                  # n = 3 is padding
    assert program.weights[1, 0 * 3 + 1, 1] == w[1, 3]


def test_widths_follow_the_model():
    assert derive_widths(lower(random_mlp([4, 4], weight_bits=4))) == Widths(8, 4, 32, 8)
    b = GraphBuilder("u")
    x = b.input("x", 2, IntFormat(8, signed=False))
    y = b.dense(x, [[1, 1]], weight_fmt=IntFormat(3), acc_width=20, name="fc")
    y = b.requantize(y, shift=1, out_fmt=IntFormat(12), name="q")
    assert derive_widths(lower(b.build([y]))) == Widths(9, 3, 20, 12)


def test_unsupported_op_is_named():
    b = GraphBuilder("g")
    x = b.input("x", 2, IntFormat(8))
    y = b.requantize(x, shift=1, out_fmt=IntFormat(8), name="lonely")
    with pytest.raises(NeurogateError, match="layer 'lonely': op Requantize is not supported"):
        plan_program(lower(b.build([y])), ArrayShape(2, 2))


def test_mixed_accumulator_widths_are_refused():
    b = GraphBuilder("g")
    x = b.input("x", 2, IntFormat(8))
    y = b.dense(x, [[1, 1]], weight_fmt=IntFormat(8), acc_width=32, name="a")
    y = b.requantize(y, shift=0, out_fmt=IntFormat(8))
    y = b.dense(y, [[1]], weight_fmt=IntFormat(8), acc_width=24, name="b")
    with pytest.raises(NeurogateError, match="one accumulator width.*a: 32, b: 24"):
        plan_program(lower(b.build([y])), ArrayShape(2, 2))


def test_images_are_integers():
    program = plan_program(lower(random_mlp([9, 4])), ArrayShape(3, 3))
    assert program.weights.dtype == np.int64 and program.biases.dtype == np.int64


def test_collector_banks_follow_the_engine_timing(monkeypatch):
    from neurogate.hw.collector import TileCollector
    g = lower(random_mlp([16, 8], seed=0))        # 4-chunk k-loops on a 4x4 array
    # ceil((capture_delay + rows) / k_tiles) banks: (8 + 4) / 4, then (12 + 4) / 4.
    assert plan_program(g, ArrayShape(4, 4)).config.memory.tile_banks == 3
    monkeypatch.setattr(TileCollector, "CAPTURE_LATENCY", TileCollector.CAPTURE_LATENCY + 4)
    assert plan_program(g, ArrayShape(4, 4)).config.memory.tile_banks == 4
