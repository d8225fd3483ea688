"""Graphs for the programmable-engine tests: random CNNs inside what the engine runs
(imported as a top-level module)."""

from __future__ import annotations

import numpy as np
from neurogate.compiler.builder import GraphBuilder
from neurogate.numerics.formats import IntFormat
from neurogate.numerics.rounding import Rounding

ROUNDINGS = list(Rounding)


class RandomCnn:
    """Conv (stride, dilation, padding, groups), pools, zero padding, residual adds,
    channel concats, flatten and dense, signed and unsigned 8-bit activations (or
    narrower), every rounding.  Shifts are chosen from the weights so values spread over
    the output range (saturation happens, but not everywhere)."""

    def __init__(self, seed: int, lanes: int = 4):
        self.rng = np.random.default_rng(seed)
        self.lanes = lanes
        self.b = GraphBuilder(f"cnn{seed}")

    def fmt(self, unsigned=None) -> IntFormat:
        unsigned = self.rng.random() < 0.4 if unsigned is None else unsigned
        width = int(self.rng.choice([8, 8, 8, 6, 4]))
        return IntFormat(width, signed=not unsigned, frac=int(self.rng.integers(-2, 6)))

    def rounding(self) -> Rounding:
        return ROUNDINGS[int(self.rng.integers(len(ROUNDINGS)))]

    def requant(self, acc: str, fan_in: int, x_fmt: IntFormat, w_bits: int,
                relu: bool) -> str:
        out = self.fmt(unsigned=relu and self.rng.random() < 0.7)
        shift = max(0, (x_fmt.width + w_bits + fan_in.bit_length()) // 2 + 1 - (8 - out.width))
        y = self.b.requantize(acc, shift=shift, out_fmt=out, rounding=self.rounding())
        return self.b.relu(y) if relu and out.signed else y

    def conv(self, x: str, channels: int | None = None, **kw) -> str:
        t = self.b.type_of(x)
        h, w, c = t.shape
        k = int(self.rng.choice([1, 2, 3])) if "kernel" not in kw else kw.pop("kernel")
        groups = kw.pop("groups", 1)
        out_c = channels or int(self.rng.integers(1, 3 * self.lanes))
        if groups > 1:
            out_c = c
        stride = kw.pop("stride", int(self.rng.choice([1, 1, 2])))
        dilation = kw.pop("dilation", int(self.rng.choice([1, 1, 2])) if stride == 1 else 1)
        if (k - 1) * dilation + 1 > min(h, w):
            k, dilation = 1, 1
        padding = kw.pop("padding", str(self.rng.choice(["same", "valid"])))
        w_bits = int(self.rng.choice([8, 4, 2]))
        wf = IntFormat(w_bits, frac=w_bits - 1)
        weights = self.rng.integers(wf.min, wf.max + 1, (k, k, c // groups, out_c))
        bias = self.rng.integers(-300, 300, out_c)
        acc = self.b.conv2d(x, weights, bias, weight_fmt=wf, stride=stride, padding=padding,
                            dilation=dilation, groups=groups, acc_width=32)
        return self.requant(acc, k * k * c // groups, t.fmt, w_bits, self.rng.random() < 0.8)

    def dense(self, x: str, n: int, relu: bool) -> str:
        t = self.b.type_of(x)
        wf = IntFormat(8, frac=7)
        fan_in = t.shape[-1]
        acc = self.b.dense(x, self.rng.integers(-128, 128, (n, fan_in)),
                           self.rng.integers(-999, 999, n), weight_fmt=wf, acc_width=32)
        return self.requant(acc, fan_in, t.fmt, 8, relu)

    def build(self):
        rng, b = self.rng, self.b
        size = int(rng.choice([6, 7, 8]))
        x = b.input("x", (size, size, int(rng.integers(1, 2 * self.lanes))), self.fmt())
        h = self.conv(x, channels=self.lanes * int(rng.integers(1, 3)), padding="same",
                      stride=1)
        outputs = []
        for _ in range(int(rng.integers(2, 5))):
            kind = rng.choice(["conv", "residual", "depthwise", "pool", "avg", "pad",
                               "concat"])
            t = b.type_of(h)
            if kind == "conv":
                h = self.conv(h)
            elif kind == "residual":
                branch = self.conv(h, channels=t.shape[2], kernel=3, padding="same", stride=1,
                                   dilation=1)
                branch_frac = b.type_of(branch).fmt.frac
                if abs(branch_frac - t.fmt.frac) < 12:
                    out = self.fmt()
                    frac = min(t.fmt.frac, branch_frac) + int(rng.integers(-3, 3))
                    h = b.add(h, branch, out_fmt=IntFormat(out.width, out.signed, frac),
                              rounding=self.rounding())
            elif kind == "depthwise":
                h = self.conv(h, groups=t.shape[2], kernel=3, padding="same", stride=1)
            elif kind == "pool" and min(t.shape[:2]) >= 2:
                h = b.max_pool2d(h, 2, stride=int(rng.choice([1, 2])),
                                 padding=str(rng.choice(["same", "valid"])))
            elif kind == "avg" and min(t.shape[:2]) >= 2:
                h = b.avg_pool2d(h, 2, stride=2, out_fmt=self.fmt(), rounding=self.rounding())
            elif kind == "pad":
                h = b.zero_pad2d(h, tuple(int(v) for v in rng.integers(0, 3, 4)))
            elif kind == "concat" and t.shape[2] % self.lanes == 0:
                other = self.conv(h, kernel=1, padding="valid", stride=1)
                shift = b.type_of(other).fmt.frac - t.fmt.frac
                if shift >= 0:
                    other = b.requantize(other, shift=shift, out_fmt=t.fmt,
                                         rounding=self.rounding())
                    h = b.concat([h, other])
            if rng.random() < 0.2:
                outputs.append(h)
        t = b.type_of(h)
        if t.shape[0] * t.shape[1] in (1, 2, 4, 8, 16, 32, 64) and rng.random() < 0.5:
            h = b.global_avg_pool(h, out_fmt=self.fmt(), rounding=self.rounding())
        else:
            h = b.flatten(h)
        h = self.dense(h, int(rng.integers(3, 12)), relu=True)
        if rng.random() < 0.3:       # the logits' accumulator itself is the output
            t = b.type_of(h)
            n = int(rng.integers(2, 11))
            h = b.dense(h, rng.integers(-128, 128, (n, t.shape[-1])),
                        rng.integers(-999, 999, n), weight_fmt=IntFormat(8, frac=7),
                        acc_width=int(rng.choice([32, 20])))
        else:
            h = self.dense(h, int(rng.integers(2, 11)), relu=False)
        return b.build(list(dict.fromkeys(outputs + [h])))


def random_cnn(seed: int, lanes: int = 4):
    return RandomCnn(seed, lanes).build()
