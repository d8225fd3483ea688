"""Graphs the tests share (random MLPs of any shape, built with the public builder) and the
exact reference arithmetic the golden-model tests compare against."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
from neurogate.compiler.builder import GraphBuilder
from neurogate.numerics.formats import BinaryFormat, IntFormat, TernaryFormat, signed_width_for
from neurogate.numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig, SoftmaxConfig
from neurogate.numerics.rounding import Overflow, Rounding


def random_mlp(sizes, *, seed=0, weight_bits=8, act_bits=8, acc_width=32, relu=True,
               rounding="half_up", shifts=None, name="mlp"):
    """Dense -> requantize -> ReLU per layer (no ReLU on the last); weights span their format."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder(name)
    w_fmt, a_fmt = IntFormat(weight_bits), IntFormat(act_bits)
    x = b.input("x", sizes[0], a_fmt)
    for i, (k, n) in enumerate(itertools.pairwise(sizes)):
        w = rng.integers(w_fmt.min, w_fmt.max + 1, (n, k))
        bias = rng.integers(-(1 << 12), 1 << 12, n)
        x = b.dense(x, w, bias, weight_fmt=w_fmt, acc_width=acc_width, name=f"fc{i + 1}")
        shift = shifts[i] if shifts else max(1, (weight_bits + act_bits + k.bit_length()) // 2 + 2)
        x = b.requantize(x, shift=shift, out_fmt=a_fmt, rounding=rounding, name=f"fc{i + 1}_q")
        if relu and i < len(sizes) - 2:
            x = b.relu(x, name=f"fc{i + 1}_relu")
    return b.build(outputs=[x])


def exact_round(value: Fraction, rounding) -> int:
    """The reference rounding of an exact rational, written independently of the golden
    model: ``Fraction``'s own ``round`` is ties-to-even."""
    mode = Rounding(rounding)
    if mode is Rounding.FLOOR:
        return math.floor(value)
    if mode is Rounding.CEIL:
        return math.ceil(value)
    if mode is Rounding.TRUNC:
        return math.trunc(value)
    if mode is Rounding.AWAY:
        return math.ceil(value) if value >= 0 else math.floor(value)
    if mode is Rounding.HALF_UP:
        return math.floor(value + Fraction(1, 2))
    if mode is Rounding.HALF_EVEN:
        return round(value)
    nearest = math.floor(abs(value) + Fraction(1, 2))          # ties away from zero
    if mode is Rounding.HALF_ZERO:
        nearest = math.ceil(abs(value) - Fraction(1, 2))        # ties towards zero
    elif mode is not Rounding.HALF_AWAY:
        raise ValueError(f"no reference for {mode}")
    return -nearest if value < 0 else nearest


# -2.5 -1.5 -0.5 0.5 1.5 2.5 rounded by hand in every mode (the ties tests share it).
ROUNDED_HALVES = {
    Rounding.FLOOR: [-3, -2, -1, 0, 1, 2],
    Rounding.CEIL: [-2, -1, 0, 1, 2, 3],
    Rounding.TRUNC: [-2, -1, 0, 0, 1, 2],
    Rounding.AWAY: [-3, -2, -1, 1, 2, 3],
    Rounding.HALF_UP: [-2, -1, 0, 1, 2, 3],
    Rounding.HALF_EVEN: [-2, -2, 0, 0, 2, 2],
    Rounding.HALF_AWAY: [-3, -2, -1, 1, 2, 3],
    Rounding.HALF_ZERO: [-2, -1, 0, 0, 1, 2],
}


def fit(value: int, fmt, overflow="saturate") -> int:
    """Reference overflow: clamp, or keep the low ``fmt.width`` bits."""
    if Overflow(overflow) is Overflow.SATURATE:
        return min(max(value, fmt.min), fmt.max)
    value %= 1 << fmt.width
    return value - (1 << fmt.width) if fmt.signed and value > fmt.max else value


# --- random DAGs of every integer op ----------------------------------------------------------

class RandomGraph:
    """A seeded random DAG: branches (a value read by several ops) and merges (Add, Mul,
    Concat, MatMul), every integer op, random formats, roundings and overflow modes.
    Small shapes, so a few hundred graphs run in seconds."""

    def __init__(self, seed: int, steps: int = 10):
        self.rng = np.random.default_rng(seed)
        self.b = GraphBuilder(f"random{seed}")
        self.values: list[str] = []
        for i in range(1 + int(self.rng.integers(0, 2))):
            self._input(f"in{i}")
        for _ in range(steps):
            self._step()

    # --- helpers ------------------------------------------------------------------------------
    def _choice(self, seq):
        return seq[int(self.rng.integers(0, len(seq)))]

    def _int(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def type(self, v):
        return self.b.type_of(v)

    def _add(self, v):
        self.values.append(v)
        return v

    def _fmt(self, width_max=10):
        return IntFormat(self._int(2, width_max), bool(self.rng.random() < 0.8), self._int(-3, 6))

    def _input(self, name):
        shape = self._choice([(self._int(1, 5), self._int(1, 5), self._int(1, 4)),
                              (self._int(1, 4), self._int(1, 6)), (self._int(1, 8),)])
        r = self.rng.random()
        fmt = (BinaryFormat(self._int(-2, 2)) if r < 0.1 else
               TernaryFormat(self._int(-2, 2)) if r < 0.2 else self._fmt())
        self._add(self.b.input(name, shape, fmt))

    def _rounding(self):
        return self._choice(list(Rounding))

    def _params(self, fmt, shape):
        return self.rng.integers(fmt.min, fmt.max + 1, shape) if not isinstance(
            fmt, BinaryFormat) else self.rng.choice([-1, 1], shape)

    def _weight_fmt(self):
        r = self.rng.random()
        return (BinaryFormat() if r < 0.2 else TernaryFormat() if r < 0.4
                else IntFormat(self._int(2, 8), True, self._int(0, 4)))

    def _same_shape(self, v):
        """Another value of ``v``'s shape: an existing one, or a new branch off ``v``."""
        others = [w for w in self.values if w != v and self.type(w).shape == self.type(v).shape]
        if others and self.rng.random() < 0.6:
            return self._choice(others)
        return self._requantize(v)

    # --- ops ----------------------------------------------------------------------------------
    def _used_bits(self, v) -> int:
        """Signed bits of the values ``v`` takes on the test vectors (not its format's)."""
        from neurogate.compiler.interpreter import make_input_vectors, run

        graph = self.b.build(outputs=[v])
        values = run(graph, make_input_vectors(graph, 9, seed=0))[v]
        return signed_width_for(int(values.min()), int(values.max()))

    def _requantize(self, v):
        """Shifts near the one that maps the input range onto the output's, so that few
        values are all saturated or all zero."""
        t = self.type(v)
        out = self._fmt()
        rounding, overflow = self._rounding(), self._choice(list(Overflow))
        used = self._used_bits(v)
        if self.rng.random() < 0.3:
            m = (self.rng.integers(-300, 300) if self.rng.random() < 0.5
                 else self.rng.integers(1, 3000, t.shape[-1]))
            shift = used + 10 - out.width + self._int(-2, 2)
            return self._add(self.b.requantize(
                v, shift=min(max(shift, 0), t.fmt.width + 31), out_fmt=out, multiplier=m,
                rounding=rounding, overflow=overflow))
        shift = min(max(used - out.width + self._int(-2, 2), 0), t.fmt.width - 1)
        return self._add(self.b.requantize(v, shift=shift, out_fmt=out, rounding=rounding,
                                           overflow=overflow))

    def _dense(self, v):
        t = self.type(v)
        w_fmt = self._weight_fmt()
        n = self._int(1, 6)
        acc = self._int(8, 40)
        bias_fmt = IntFormat(min(acc, 12))
        h = self.b.dense(v, self._params(w_fmt, (n, t.shape[-1])),
                         self._params(bias_fmt, n), weight_fmt=w_fmt, acc_width=acc)
        self._add(h)
        if len(t.shape) == 1 and self.rng.random() < 0.7:     # a fusable engine layer
            shift = self._int(0, 6) + t.fmt.width // 2
            h = self._add(self.b.requantize(
                h, shift=min(shift, acc - 1), out_fmt=IntFormat(self._int(2, 9)),
                rounding=self._rounding()))
            if self.rng.random() < 0.6:
                h = self._add(self.b.relu(h))
        return h

    def _conv(self, v):
        h, w, c = self.type(v).shape
        groups = self._choice([g for g in range(1, c + 1) if c % g == 0])
        out = groups * self._int(1, 3)
        kh, kw = self._int(1, 3), self._int(1, 3)
        padding = self._choice(["same", "valid", (self._int(0, 2), self._int(0, 1),
                                                  self._int(0, 1), self._int(0, 2))])
        dilation = (self._int(1, 2), self._int(1, 2))
        pads = (0, 0, 0, 0) if padding in ("same", "valid") else padding
        if padding != "same" and (h + pads[0] + pads[1] < (kh - 1) * dilation[0] + 1 or
                                  w + pads[2] + pads[3] < (kw - 1) * dilation[1] + 1):
            padding = "same"        # the window must fit
        w_fmt = self._weight_fmt()
        return self._add(self.b.conv2d(
            v, self._params(w_fmt, (kh, kw, c // groups, out)), self._params(IntFormat(10), out),
            weight_fmt=w_fmt, stride=(self._int(1, 2), self._int(1, 2)), padding=padding,
            dilation=dilation, groups=groups, acc_width=self._int(10, 32)))

    def _pool(self, v):
        pool = (self._int(1, 3), self._int(1, 3))
        stride = (self._int(1, 3), self._int(1, 3))
        kind = self._int(0, 2)
        if kind == 0:
            return self._add(self.b.max_pool2d(v, pool, stride=stride, padding="same"))
        if kind == 1:
            return self._add(self.b.avg_pool2d(v, pool, stride=stride, padding="same",
                                               out_fmt=self._fmt(), rounding=self._rounding()))
        if isinstance(self.type(v).fmt, BinaryFormat):        # no zero to pad with
            return self._add(self.b.max_pool2d(v, pool, stride=stride, padding="same"))
        pad = tuple(self._int(0, 2) for _ in range(4))
        return self._add(self.b.zero_pad2d(v, pad))

    def _merge(self, v):
        t = self.type(v)
        other = self._same_shape(v)
        kind = self._int(0, 2)
        if kind == 2:       # concat needs one format: a clipped branch keeps v's type
            other = self._add(self.b.clip(v, t.fmt.min, t.fmt.max))
            return self._add(self.b.concat([v, other] if self.rng.random() < 0.5 else
                                           [other, v, v], axis=self._int(0, len(t.shape) - 1)))
        op = self.b.add if kind == 0 else self.b.mul   # the two scales usually differ
        return self._add(op(v, other, out_fmt=self._fmt(12), rounding=self._rounding(),
                            overflow=self._choice(list(Overflow))))

    def _matmul(self, v):
        t = self.type(v)
        if self.rng.random() < 0.5:          # Q x K^T
            return self._add(self.b.matmul(v, self._same_shape(v), transpose_b=True,
                                           acc_width=self._int(12, 40)))
        perm = tuple(range(len(t.shape) - 2)) + (len(t.shape) - 1, len(t.shape) - 2)
        return self._add(self.b.matmul(v, self._add(self.b.transpose(v, perm)),
                                       acc_width=self._int(12, 40)))

    def _movement(self, v):
        t = self.type(v)
        kind = self._int(0, 3)
        if kind == 0:
            return self._add(self.b.flatten(v))
        if kind == 1 and len(t.shape) >= 2:
            perm = tuple(int(p) for p in self.rng.permutation(len(t.shape)))
            return self._add(self.b.transpose(v, perm))
        axis = self._int(0, len(t.shape) - 1)
        if t.shape[axis] >= 2 and kind == 2:
            cut = self._int(1, t.shape[axis] - 1)
            pieces = self.b.split(v, [cut, t.shape[axis] - cut], axis=axis)
            for p in pieces:
                self._add(p)
            return pieces[-1]
        if kind == 3 and t.size % 2 == 0:
            return self._add(self.b.reshape(v, (2, t.size // 2)))
        start = self._int(0, t.shape[axis] - 1)
        return self._add(self.b.slice(v, axis=axis, start=start,
                                      stop=self._int(start + 1, t.shape[axis])))

    def _unit(self, v):
        t = self.type(v)
        fmt, row = t.fmt, t.shape[-1]
        in_bits = max(signed_width_for(fmt.min, fmt.max), 2)
        kind = self._int(0, 3)
        if in_bits > 16:
            return self._requantize(v)
        if kind == 2:
            gamma = tuple(int(g) for g in self.rng.integers(-100, 100, row)) \
                if self.rng.random() < 0.5 else None
            beta = tuple(int(g) for g in self.rng.integers(-128, 128, row)) \
                if gamma and self.rng.random() < 0.5 else None
            cfg = NormConfig(kind=self._choice(["layernorm", "rmsnorm"]), in_bits=in_bits,
                             max_len=row, gamma=gamma, beta=beta, out_frac=self._int(0, 6))
            return self._add(self.b.norm(v, cfg))
        if not 0 <= fmt.frac <= 12 or in_bits > 15:
            return self._add(self.b.relu(v)) if fmt.contains(0) else self._requantize(v)
        if kind == 0:
            cfg = SoftmaxConfig(in_bits=in_bits, in_frac=fmt.frac, max_len=row + self._int(0, 3),
                                method=self._choice(["iexp", "shiftmax"]),
                                binarize=bool(self.rng.random() < 0.3))
            return self._add(self.b.softmax(v, cfg))
        if kind == 1:
            cfg = ActivationConfig(function=self._choice(["sigmoid", "silu", "shiftgelu"]),
                                   in_bits=in_bits, in_frac=fmt.frac,
                                   method=self._choice(["iexp", "shiftmax"]))
            return self._add(self.b.activation(v, cfg))
        return self._add(self.b.igelu(v, IGeluConfig(in_bits=in_bits, in_frac=fmt.frac)))

    def _elementwise(self, v):
        t = self.type(v)
        kind = self._int(0, 2)
        if kind == 0 and t.fmt.contains(0):
            return self._add(self.b.relu(v))
        if kind == 1:
            lo = self._int(t.fmt.min, t.fmt.max)
            if isinstance(t.fmt, BinaryFormat):
                lo = self._choice([-1, 1])
            hi = self._choice([lo, 1]) if isinstance(t.fmt, BinaryFormat) else \
                self._int(lo, t.fmt.max)
            return self._add(self.b.clip(v, lo, hi))
        return self._add(self.b.sign_binarize(v, frac=self._int(-1, 1)))

    def _step(self):
        recent = self.values[-4:]
        v = self._choice(recent if self.rng.random() < 0.7 else self.values)
        t = self.type(v)
        ops = [self._requantize, self._dense, self._merge, self._movement, self._elementwise,
               self._unit]
        if len(t.shape) == 3:
            ops += [self._conv, self._conv, self._pool, self._pool]
        if len(t.shape) >= 2:
            ops += [self._matmul, lambda x: self._add(self.b.global_avg_pool(
                x, out_fmt=self._fmt(), rounding=self._rounding()))]
        self._choice(ops)(v)

    def build(self):
        """The graph; its outputs are every value nobody reads, and sometimes one more."""
        graph = self.b.build(outputs=[self.values[-1]])
        read = {s for node in graph.nodes for s in node.inputs}
        sinks = [n.name for n in graph.nodes if n.name not in read]
        extra = [self._choice(self.values)] if self.rng.random() < 0.5 else []
        return self.b.build(outputs=list(dict.fromkeys(sinks + extra)))


def random_graph(seed: int, steps: int = 10):
    return RandomGraph(seed, steps).build()
