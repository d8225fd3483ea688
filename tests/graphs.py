"""Graphs the tests share: random MLPs of any shape, built with the public builder."""

from __future__ import annotations

import numpy as np

from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.formats import IntFormat


def random_mlp(sizes, *, seed=0, weight_bits=8, act_bits=8, acc_width=32, relu=True,
               rounding="half_up", shifts=None, name="mlp"):
    """Dense -> requantize -> ReLU per layer (no ReLU on the last); weights span their format."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder(name)
    w_fmt, a_fmt = IntFormat(weight_bits), IntFormat(act_bits)
    x = b.input("x", sizes[0], a_fmt)
    for i, (k, n) in enumerate(zip(sizes, sizes[1:])):
        w = rng.integers(w_fmt.min, w_fmt.max + 1, (n, k))
        bias = rng.integers(-(1 << 12), 1 << 12, n)
        x = b.dense(x, w, bias, weight_fmt=w_fmt, acc_width=acc_width, name=f"fc{i + 1}")
        shift = shifts[i] if shifts else max(1, (weight_bits + act_bits + k.bit_length()) // 2 + 2)
        x = b.requantize(x, shift=shift, out_fmt=a_fmt, rounding=rounding, name=f"fc{i + 1}_q")
        if relu and i < len(sizes) - 2:
            x = b.relu(x, name=f"fc{i + 1}_relu")
    return b.build(outputs=[x])
