import numpy as np

from graphs import random_mlp
from neurogate.compiler import serialize
from neurogate.sim.golden.interpreter import run_single_output


def test_round_trip_is_exact_and_deterministic():
    g = random_mlp([9, 7, 4], seed=3)
    text = serialize.dumps(g)
    back = serialize.loads(text)
    assert serialize.dumps(back) == text
    x = np.random.default_rng(0).integers(-128, 128, (20, 9))
    np.testing.assert_equal(run_single_output(back, x), run_single_output(g, x))
