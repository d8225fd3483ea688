"""Small graphs for the spatial-style tests (a test helper, imported as a top-level module)."""

import numpy as np
from neurogate.compiler.builder import GraphBuilder
from neurogate.numerics.formats import IntFormat


def small_cnn():
    """8-bit 4x4 image, 3x3 stride-2 conv (6-bit weights), ReLU, dense 8 -> 3."""
    rng = np.random.default_rng(5)
    b = GraphBuilder("tmr_cnn")
    x = b.input("x", (4, 4, 1), IntFormat(8))
    h = b.conv2d(x, rng.integers(-31, 32, (3, 3, 1, 2)), rng.integers(-200, 200, 2),
                 weight_fmt=IntFormat(6), stride=2, padding="same", acc_width=20)
    h = b.relu(b.requantize(h, shift=6, out_fmt=IntFormat(8), rounding="half_even"))
    h = b.dense(b.flatten(h), rng.integers(-31, 32, (3, 8)), rng.integers(-99, 99, 3),
                weight_fmt=IntFormat(6), acc_width=20)
    return b.build([b.requantize(h, shift=4, out_fmt=IntFormat(9))])
