"""Seeded synthetic CNN layers for shape-driven models (no training data involved).

Weights are uniform over their format; each requantize shift is calibrated on four
seeded random inputs (run through the golden model as the network is built) so that
the 99th percentile of the accumulator lands near the top of the 8-bit output range:
activations keep a spread of values through a deep network instead of saturating or
dying out.  Activations are unsigned 8-bit after a ReLU, signed 8-bit otherwise.
"""

from __future__ import annotations

import numpy as np

from ..compiler.builder import GraphBuilder
from ..compiler.interpreter import run_node
from ..compiler.ir import Input
from ..numerics.formats import IntFormat
from ..sim.golden.vectors import make_vectors

WEIGHTS = IntFormat(8, frac=7)
SIGNED, UNSIGNED = IntFormat(8, frac=4), IntFormat(8, signed=False, frac=4)


class SyntheticCnn:
    def __init__(self, name: str, seed: int):
        self.b = GraphBuilder(name)
        self.rng = np.random.default_rng(seed)
        self.values: dict[str, np.ndarray] = {}     # the calibration batch's values

    def _value(self, name: str) -> np.ndarray:
        """``name``'s value on the calibration batch (nodes evaluated as they appear)."""
        graph = self.b.build([name])
        for node in graph.nodes:
            if node.name in self.values:
                continue
            if isinstance(node, Input):
                self.values[node.name] = make_vectors(node.out.shape, node.out.fmt, 16,
                                                         seed=1)[-4:]
            else:
                self.values[node.name] = run_node(node, [self.values[i] for i in node.inputs],
                                                  [graph.type_of(i) for i in node.inputs])
        return self.values[name]

    def _requant(self, acc: str, fan_in: int, relu: bool) -> str:
        fmt = self.b.type_of(acc).fmt
        values = self._value(acc)
        top = np.percentile(np.maximum(values, 0) if relu else np.abs(values), 99)
        shift = max(0, int(np.ceil(np.log2(max(top, 1) / (255 if relu else 127)))))
        out = UNSIGNED if relu else SIGNED
        out = IntFormat(8, signed=out.signed, frac=fmt.frac - shift)
        return self.b.requantize(acc, shift=shift, out_fmt=out, rounding="half_even")

    def conv(self, x: str, channels: int, *, kernel: int = 3, stride: int = 1,
             groups: int = 1, relu: bool = True, name: str | None = None) -> str:
        c = self.b.type_of(x).shape[2]
        if groups > 1:
            channels = c
        w = self.rng.integers(-127, 128, (kernel, kernel, c // groups, channels))
        bias = self.rng.integers(-2000, 2000, channels)
        acc = self.b.conv2d(x, w, bias, weight_fmt=WEIGHTS, stride=stride, padding="same",
                            acc_width=32, groups=groups, name=name)
        return self._requant(acc, kernel * kernel * c // groups, relu)

    def dense(self, x: str, units: int, *, relu: bool, name: str | None = None) -> str:
        k = self.b.type_of(x).shape[-1]
        acc = self.b.dense(x, self.rng.integers(-127, 128, (units, k)),
                           self.rng.integers(-2000, 2000, units), weight_fmt=WEIGHTS,
                           acc_width=32, name=name)
        return self._requant(acc, k, relu)

    def add_relu(self, a: str, b: str, name: str | None = None) -> str:
        fa, fb = self.b.type_of(a).fmt, self.b.type_of(b).fmt
        out = IntFormat(8, signed=False, frac=min(fa.frac, fb.frac))
        return self.b.relu(self.b.add(a, b, out_fmt=out, rounding="half_even", name=name))
