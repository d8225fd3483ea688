import numpy as np

from graphs import random_mlp
from neurogate.sim.golden.vectors import make_vectors


def test_corners_first_then_random_within_format():
    g = random_mlp([10, 4], seed=0)
    v = make_vectors(g, 50, seed=3)
    assert v.shape == (50, 10)
    np.testing.assert_equal(v[0], 127)
    np.testing.assert_equal(v[1], -128)
    np.testing.assert_equal(v[2], 0)
    assert v.min() >= -128 and v.max() <= 127
    np.testing.assert_equal(make_vectors(g, 50, seed=3), v)
