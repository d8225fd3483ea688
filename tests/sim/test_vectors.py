import numpy as np
from graphs import random_mlp
from neurogate.compiler.interpreter import make_vectors as graph_vectors
from neurogate.numerics.formats import BinaryFormat, IntFormat, TernaryFormat
from neurogate.sim.golden.vectors import make_vectors


def test_corners_first_then_random_within_format():
    v = make_vectors(10, IntFormat(8), 50, seed=3)
    assert v.shape == (50, 10)
    np.testing.assert_equal(v[0], 127)
    np.testing.assert_equal(v[1], -128)
    np.testing.assert_equal(v[2], 0)
    assert v.min() >= -128 and v.max() <= 127
    np.testing.assert_equal(make_vectors(10, IntFormat(8), 50, seed=3), v)


def test_the_graph_wrapper_uses_the_graph_input():
    g = random_mlp([10, 4], seed=0)
    np.testing.assert_equal(graph_vectors(g, 50, seed=3), make_vectors(10, IntFormat(8), 50,
                                                                       seed=3))


def test_shapes_and_low_bit_formats():
    v = make_vectors((2, 3, 4), IntFormat(4, signed=False), 9, seed=1)
    assert v.shape == (9, 2, 3, 4) and v.min() == 0 and v.max() == 15
    np.testing.assert_equal(v[0], 15)
    b = make_vectors((5,), BinaryFormat(), 20, seed=2)
    assert set(np.unique(b)) == {-1, 1}                # no zero rows, no zeros
    t = make_vectors(5, TernaryFormat(), 20, seed=2)
    assert set(np.unique(t)) == {-1, 0, 1}
