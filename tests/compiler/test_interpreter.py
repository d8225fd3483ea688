"""The graph interpreter: inputs checked by name, a batch of any-rank values, multi-input
graphs, and each node dispatched to its one golden op."""

import numpy as np
import pytest
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.interpreter import make_input_vectors, run, run_single_output
from neurogate.compiler.ir import IRError
from neurogate.numerics.formats import IntFormat
from neurogate.sim.golden import linear, ops


def two_input_graph():
    b = GraphBuilder("two")
    img = b.input("img", (3, 3, 2), IntFormat(8, frac=2))
    vec = b.input("vec", (2,), IntFormat(6, signed=False, frac=3))
    gap = b.global_avg_pool(img, rounding="half_even", name="gap")
    s = b.add(gap, vec, out_fmt=IntFormat(8, frac=1), rounding="half_away", name="sum")
    return b.build(outputs=[s, gap])


def test_multi_input_graphs_run_every_node_on_the_batch():
    g = two_input_graph()
    inputs = make_input_vectors(g, 7, seed=2)
    assert inputs["img"].shape == (7, 3, 3, 2) and inputs["vec"].shape == (7, 2)
    values = run(g, inputs, keep_all=True)
    assert list(values) == ["img", "vec", "gap", "sum"]
    want = ops.add(values["gap"], inputs["vec"], a_fmt=g.type_of("gap").fmt,
                           b_fmt=g.type_of("vec").fmt, out_fmt=IntFormat(8, frac=1),
                           rounding=g.node("sum").rounding, overflow_mode=g.node("sum").overflow)
    np.testing.assert_equal(values["sum"], want)
    assert list(run(g, inputs)) == ["sum", "gap"]


def test_run_single_output_keeps_the_shape():
    b = GraphBuilder("conv")
    x = b.input("x", (4, 4, 1), IntFormat(8))
    g = b.build([b.conv2d(x, np.ones((2, 2, 1, 3)), weight_fmt=IntFormat(2), name="c")])
    x = np.arange(-16, 16).reshape(2, 4, 4, 1)
    np.testing.assert_equal(run_single_output(g, x), linear.conv2d(
        x, np.ones((2, 2, 1, 3)), np.zeros(3), stride=(1, 1), padding=(0, 0, 0, 0),
        dilation=(1, 1), groups=1, acc_width=32))


def test_bad_inputs_are_named():
    g = two_input_graph()
    good = make_input_vectors(g, 2)
    with pytest.raises(IRError, match="no value given for graph input 'vec'"):
        run(g, {"img": good["img"]})
    with pytest.raises(IRError, match=r"input 'img' must have shape \(batch, 3, 3, 2\), not "
                                      r"\(2, 18\)"):
        run(g, {**good, "img": good["img"].reshape(2, 18)})
    with pytest.raises(IRError, match=r"input 'vec' has values outside uint6\(frac=3\)"):
        run(g, {**good, "vec": -good["vec"] - 1})
    with pytest.raises(IRError, match="input 'vec' must hold integers, not float64"):
        run(g, {**good, "vec": good["vec"] + 0.5})
