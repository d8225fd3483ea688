import numpy as np
import pytest

from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.formats import IntFormat
from neurogate.compiler.ir import Dense, Graph, IRError, TensorType, frozen_array
from neurogate.compiler.verifier import verify


def small_graph():
    b = GraphBuilder("g")
    x = b.input("x", 3, IntFormat(8))
    y = b.dense(x, [[1, 2, 3], [-4, 5, -6]], [1, -1], weight_fmt=IntFormat(8), name="fc")
    y = b.requantize(y, shift=2, out_fmt=IntFormat(8), name="q")
    return b.build(outputs=[b.relu(y, name="r")])


def test_builder_types():
    g = small_graph()
    assert [n.name for n in g.nodes] == ["x", "fc", "q", "r"]
    assert g.type_of("fc").fmt == IntFormat(32)
    assert g.type_of("q").fmt == IntFormat(8, frac=-2)
    assert g.node("fc").weights.flags.writeable is False


def test_weights_outside_their_format_are_named():
    b = GraphBuilder("g")
    x = b.input("x", 2, IntFormat(8))
    b.dense(x, [[200, 0]], weight_fmt=IntFormat(8), name="fc1")
    with pytest.raises(IRError, match=r"fc1: weights span \[0, 200\], outside int8 \[-128, 127\]"):
        b.build(outputs=["fc1"])


def test_shape_mismatch_is_named():
    b = GraphBuilder("g")
    x = b.input("x", 3, IntFormat(8))
    b.dense(x, [[1, 2]], weight_fmt=IntFormat(8), name="fc1")
    with pytest.raises(IRError, match=r"fc1: weights has shape \(1, 2\), expected \(1, 3\)"):
        b.build(outputs=["fc1"])


def test_shift_out_of_range_is_named():
    b = GraphBuilder("g")
    x = b.input("x", 1, IntFormat(8))
    y = b.dense(x, [[1]], weight_fmt=IntFormat(8), acc_width=16, name="fc")
    b.requantize(y, shift=16, out_fmt=IntFormat(8), name="q")
    with pytest.raises(IRError, match="q: shift must be an integer from 0 to 15, not 16"):
        b.build(outputs=["q"])


def test_undefined_input_and_duplicate_names():
    g = small_graph()
    with pytest.raises(IRError, match="two nodes are named 'fc'"):
        verify(Graph("g", g.nodes + (g.node("fc"),), ("r",)))
    bad = Dense(name="d", input="nope", weights=frozen_array([[1]]), bias=frozen_array([0]),
                weight_fmt=IntFormat(8), out=TensorType((1,), IntFormat(32)))
    with pytest.raises(IRError, match="d: reads 'nope', which is not defined before it"):
        verify(Graph("g", (bad,), ("d",)))


def test_non_integer_parameters_are_refused():
    with pytest.raises(IRError, match="parameters must be integers"):
        frozen_array(np.array([0.5]))
