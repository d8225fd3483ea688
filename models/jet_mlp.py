"""The jet-tagging MLP of the hls4ml tutorials: 16-64-32-32-5, ReLU.

Input ``ap_fixed<16,6>`` (``IntFormat(16, frac=10)``), as hls4ml users quantize it;
8-bit weights (``Q1.6``) and 8-bit activations (``Q3.4``, after ReLU), 32-bit
accumulators, 8-bit logits.  The weights and biases are synthetic (seeded Gaussian,
standard deviation ``1/sqrt(fan_in)`` in real units): no jet data set is available
here, so this model is for size, speed and bit-exactness, not for accuracy.
"""

import numpy as np
from neurogate.compiler.builder import GraphBuilder
from neurogate.numerics import IntFormat

SIZES = (16, 64, 32, 32, 5)
INPUT = IntFormat(16, frac=10)
WEIGHT = IntFormat(8, frac=6)
ACT = IntFormat(8, frac=4)


def build_model(seed: int = 2026):
    rng = np.random.default_rng(seed)
    b = GraphBuilder("jet_mlp")
    x = b.input("features", SIZES[0], INPUT)
    frac = INPUT.frac
    for i, (k, n) in enumerate(zip(SIZES, SIZES[1:])):
        real = rng.normal(0.0, 1.0 / np.sqrt(k), (n, k))
        weights = np.clip(np.round(real * 2 ** WEIGHT.frac), WEIGHT.min, WEIGHT.max)
        acc_frac = frac + WEIGHT.frac
        bias = np.round(rng.normal(0.0, 0.1, n) * 2 ** acc_frac)
        name = f"fc{i + 1}"
        x = b.dense(x, weights.astype(np.int64), bias.astype(np.int64), weight_fmt=WEIGHT,
                    acc_width=32, name=name)
        x = b.requantize(x, shift=acc_frac - ACT.frac, out_fmt=IntFormat(8), name=f"{name}_q")
        if i < len(SIZES) - 2:
            x = b.relu(x, name=f"{name}_relu")
        frac = ACT.frac
    return b.build(outputs=[x])
