"""One 512x512 int8 dense layer with seeded random weights: the utilization benchmark."""

import numpy as np
from neurogate.compiler.builder import GraphBuilder
from neurogate.numerics.formats import IntFormat


def build_model():
    rng = np.random.default_rng(512)
    b = GraphBuilder("dense512")
    x = b.input("x", 512, IntFormat(8))
    y = b.dense(x, rng.integers(-128, 128, (512, 512)), rng.integers(-2**16, 2**16, 512),
                weight_fmt=IntFormat(8), name="fc")
    y = b.requantize(y, shift=12, out_fmt=IntFormat(8), name="fc_q")
    return b.build(outputs=[y])
