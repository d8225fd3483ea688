"""A graph as engine steps: each a MATMUL, POOL or ADD over whole tensors.

Conv2D and Dense are fused with the Requantize after them (and a ReLU or Clip after
that) into one MATMUL; ReLU and Clip fold into the output stage of the step that
produces their input; Flatten and other storage-keeping Reshapes are views.  Whatever
the engine cannot run is refused here, naming the layer and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ....hw.engine.config import EngineConfig
from ....hw.engine.isa import MAX_LSHIFT, RSHIFT_BITS
from ....numerics.errors import NeurogateError
from ....numerics.formats import IntFormat
from ....numerics.rounding import Overflow, Rounding
from ...ir import (
    Add,
    AvgPool2D,
    Clip,
    Concat,
    Conv2D,
    Dense,
    GlobalAvgPool,
    Graph,
    Input,
    MaxPool2D,
    Relu,
    Requantize,
    Reshape,
    ZeroPad2D,
)
from .layout import Layout, layout_of


class EngineMappingError(NeurogateError):
    """The engine cannot run a layer (the message names it and says why)."""


@dataclass(frozen=True)
class Stage:
    """The output stage: ``clip(round_shift(v << lshift, rshift, rounding), lo, hi)``."""

    lshift: int = 0
    rshift: int = 0
    rounding: Rounding = Rounding.FLOOR
    lo: int = 0
    hi: int = 0
    wrap: bool = False           # keep the low lane bits instead of clipping

    def clipped(self, lo: int, hi: int) -> "Stage":
        return replace(self, lo=max(self.lo, lo), hi=min(self.hi, hi))


@dataclass
class Tensor:
    """A value in the scratchpad; ``storage`` names the tensor whose words it uses (itself
    unless it is a view)."""

    name: str
    shape: tuple[int, ...]
    fmt: IntFormat
    layout: Layout
    storage: str
    planes: int = 1               # >1: a wide value, one byte plane after the other


@dataclass(frozen=True)
class Window:
    """The loop of a MATMUL or POOL over an (ih, iw) input."""

    out_hw: tuple[int, int]
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    pad: tuple[int, int] = (0, 0)          # top, left


@dataclass
class MatmulStep:
    layer: str
    input: str
    output: str
    window: Window | None        # None: a dense layer over all of its input's words
    weights: np.ndarray          # (tiles, chunks_per_tile, N cols, N rows)
    biases: np.ndarray           # (tiles, N)
    stage: Stage
    macs: int                    # useful multiply-accumulates per image
    planes: int = 1              # a wide output: one pass per plane of lane_bits
    wide: bool = False           # a wide (two-plane) input


@dataclass
class PoolStep:
    layer: str
    input: str
    output: str
    window: Window
    pool_max: bool
    stage: Stage
    out_group: int = 0           # first channel group written (a Concat's slice)


@dataclass
class AddStep:
    layer: str
    a: str
    b: str
    output: str
    la: int
    lb: int
    stage: Stage


Step = MatmulStep | PoolStep | AddStep


@dataclass
class Lowered:
    graph: Graph
    config: EngineConfig
    inputs: list[str]
    outputs: list[str]
    tensors: dict[str, Tensor] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)


def _refuse(layer: str, reason: str):
    raise EngineMappingError(f"layer {layer!r}: {reason}")


def _stage_for_shift(layer: str, shift: int, rounding, fmt: IntFormat) -> Stage:
    """``overflow(round(v / 2**shift))`` into ``fmt`` (a negative shift multiplies)."""
    if shift < -MAX_LSHIFT or shift >= 1 << RSHIFT_BITS:
        _refuse(layer, f"a shift of {shift} is outside the output stage's "
                       f"-{MAX_LSHIFT} .. {(1 << RSHIFT_BITS) - 1}")
    return Stage(lshift=max(0, -shift), rshift=max(0, shift),
                 rounding=Rounding.coerce(rounding, field="rounding"), lo=fmt.min, hi=fmt.max)


def _overflow_stage(layer: str, stage: Stage, overflow, fmt: IntFormat, lanes: int) -> Stage:
    """Saturation is the clip; wrap-around keeps the low bits, which is the format's own
    wrap only when it fills a lane."""
    if Overflow(overflow) is Overflow.SATURATE:
        return stage
    if fmt.width != lanes:
        _refuse(layer, f"wrap-around overflow into {fmt.width} bits is supported only for "
                       f"{lanes}-bit formats (the lane width)")
    return replace(stage, wrap=True)


def _shift_of(rq: Requantize) -> int:
    """The requantize's scale as a power of two: its shift less a per-tensor power-of-two
    multiplier's exponent (``x * 2**k / 2**s`` is ``x / 2**(s - k)`` exactly); any other
    multiplier is refused."""
    if rq.multiplier is None:
        return rq.shift
    m = np.asarray(rq.multiplier)
    first = int(m.reshape(-1)[0])
    if np.any(m != first) or first < 1 or first & (first - 1):
        _refuse(rq.name, "a Requantize multiplier that is not one power of two for the "
                         "whole tensor is not supported yet (the output stage shifts, it "
                         "does not multiply)")
    return rq.shift - (first.bit_length() - 1)


def _identity(fmt: IntFormat) -> Stage:
    return Stage(lo=fmt.min, hi=fmt.max)


class _Lowering:
    def __init__(self, graph: Graph, config: EngineConfig):
        self.graph, self.config = graph, config
        self.n = config.array
        self.out = Lowered(graph, config, [i.name for i in graph.inputs], list(graph.outputs))
        self.fused: set[str] = set()      # nodes folded into an earlier step

    # --- helpers ---------------------------------------------------------------------------

    def consumers(self, name: str):
        return self.graph.consumers(name)

    def sole_consumer(self, name: str, kinds):
        """The one consumer of ``name`` if it is of ``kinds`` and ``name`` is no output."""
        users = self.consumers(name)
        if len(users) == 1 and isinstance(users[0], kinds) and name not in self.graph.outputs:
            return users[0]
        return None

    def lane_format(self, layer: str, fmt, planes: int = 1) -> IntFormat:
        lanes = self.config.lane_bits
        if not isinstance(fmt, IntFormat):
            _refuse(layer, f"the engine's lanes hold integers, not {fmt.describe()}")
        if fmt.width > lanes * planes:
            more = (" (graph inputs of up to twice the lane width are split into byte planes"
                    "; computed values are not)") if planes == 1 else ""
            _refuse(layer, f"its {fmt.width}-bit {fmt.describe()} values do not fit the "
                           f"engine's {lanes}-bit lanes{more}")
        return fmt

    def add_tensor(self, layer: str, name: str, shape, fmt, layout: Layout | None = None,
                   storage: str | None = None) -> Tensor:
        layout = layout or layout_of(tuple(shape), self.n)
        if layout is None:
            _refuse(layer, f"a rank-{len(shape)} tensor has no scratchpad layout")
        t = Tensor(name, tuple(shape), self.lane_format(layer, fmt), layout, storage or name)
        self.out.tensors[name] = t
        return t

    def tensor(self, layer: str, name: str) -> Tensor:
        try:
            return self.out.tensors[name]
        except KeyError:
            _refuse(layer, f"its input {name!r} is not an engine tensor")

    def natural(self, layer: str, t: Tensor, wide_ok: bool = False) -> Tensor:
        """``t``, required to be stored in its own shape's natural layout."""
        if t.layout.planes > 1 and not wide_ok:
            _refuse(layer, f"its input {t.name!r} is {t.fmt.width}-bit, held in byte planes, "
                           "which only Dense and Conv2D layers read")
        if t.layout != layout_of(t.shape, self.n, t.layout.planes):
            _refuse(layer, f"its input {t.name!r} is a reshaped view the engine can only "
                           "feed to a Dense layer or a graph output")
        return t

    def fold_activation(self, name: str, stage: Stage) -> tuple[str, Stage]:
        """Fold a following sole ReLU or Clip into ``stage``; the value name written."""
        act = self.sole_consumer(name, (Relu, Clip))
        while act is not None:
            self.fused.add(act.name)
            stage = stage.clipped(0, stage.hi) if isinstance(act, Relu) \
                else stage.clipped(act.lo, act.hi)
            name = act.name
            act = self.sole_consumer(name, (Relu, Clip))
        return name, stage

    # --- the walk ---------------------------------------------------------------------------

    def run(self) -> Lowered:
        for node in self.graph.nodes:
            if node.name in self.fused:
                continue
            handler = getattr(self, "_" + type(node).__name__.lower(), None)
            if handler is None:
                _refuse(node.name, f"op {type(node).__name__} does not run on the engine (it "
                                   "runs Dense, Conv2D incl. depthwise, Max/Avg/GlobalAvg "
                                   "pooling, ZeroPad2D, Add, Concat on channels, Reshape, "
                                   "Requantize, ReLU and Clip)")
            handler(node)
        for name in self.out.outputs:
            if name not in self.out.tensors:
                _refuse(name, "a graph output must be a requantized tensor, not an "
                              "accumulator")
        return self.out

    def _input(self, node: Input):
        fmt = self.lane_format(node.name, node.out.fmt, planes=2)
        planes = 2 if fmt.width > self.config.lane_bits else 1
        if planes > 1 and node.name in self.graph.outputs:
            _refuse(node.name, "a wide input cannot also be a graph output")
        layout = layout_of(tuple(node.out.shape), self.n, planes)
        if layout is None:
            _refuse(node.name, f"a rank-{len(node.out.shape)} input has no scratchpad layout")
        self.out.tensors[node.name] = Tensor(node.name, tuple(node.out.shape), fmt, layout,
                                             node.name)

    def _requantized(self, node) -> tuple[str, Stage]:
        """The Requantize after an accumulator (and any activation after it)."""
        rq = self.sole_consumer(node.name, (Requantize,))
        if rq is None:
            _refuse(node.name, "the engine requantizes every accumulator: its output must "
                               "feed exactly one Requantize")
        shift = _shift_of(rq)
        self.fused.add(rq.name)
        self.lane_format(rq.name, rq.out.fmt)
        stage = _overflow_stage(rq.name, _stage_for_shift(rq.name, shift, rq.rounding,
                                                          rq.out.fmt),
                                rq.overflow, rq.out.fmt, self.config.lane_bits)
        if stage.wrap:
            return rq.name, stage
        return self.fold_activation(rq.name, stage)

    def _accumulator_output(self, node) -> tuple[str, Stage, int] | None:
        """A Dense or Conv2D whose accumulator is itself a graph output (logits, say) and
        read by nothing else: stored whole, as ``acc_bits / lane_bits`` byte planes."""
        if node.name in self.graph.outputs and not self.consumers(node.name):
            planes = -(-self.config.acc_bits // self.config.lane_bits)
            return node.name, Stage(wrap=True), planes
        return None

    def _result(self, node) -> tuple[str, Stage, int]:
        """The value a MATMUL writes, its output stage and its plane count."""
        wide = self._accumulator_output(node)
        if wide is not None:
            return wide
        return (*self._requantized(node), 1)

    def _matmul_tensor(self, node, name: str, planes: int):
        t = self.graph.type_of(name)
        if planes == 1:
            return self.add_tensor(node.name, name, t.shape, t.fmt)
        layout = layout_of(t.shape, self.n)
        wide = Tensor(name, tuple(t.shape), t.fmt, layout, name, planes=planes)
        self.out.tensors[name] = wide
        return wide

    def _check_accumulator(self, node, weights: np.ndarray, bias: np.ndarray, x: Tensor):
        """The engine wraps sums to ``acc_bits``; the IR to ``node.out.fmt.width``.  They
        agree when the widths are equal or when no sum can reach either limit."""
        acc = self.config.acc_bits
        width = node.out.fmt.width
        if width == acc:
            return
        largest = max(abs(x.fmt.min), abs(x.fmt.max))
        w = np.abs(weights.reshape(-1, weights.shape[-1]).astype(object))
        bound = int((w.sum(axis=0) * largest + np.abs(bias.astype(object))).max()) \
            if w.size else 0
        if bound >= 1 << (min(width, acc) - 1):
            _refuse(node.name, f"its {width}-bit accumulator wraps differently from the "
                               f"engine's {acc}-bit one (sums reach {bound})")

    def _check_weights(self, node, weights: np.ndarray, bias: np.ndarray):
        wb, ab = self.config.weight_bits, self.config.acc_bits
        if weights.size and (weights.min() < -(1 << (wb - 1)) or weights.max() >= 1 << (wb - 1)):
            _refuse(node.name, f"weights from {weights.min()} to {weights.max()} do not fit "
                               f"the engine's {wb}-bit weights")
        if bias.size and (bias.min() < -(1 << (ab - 1)) or bias.max() >= 1 << (ab - 1)):
            _refuse(node.name, f"a bias does not fit the engine's {ab}-bit accumulator")

    def _tile_weights(self, dense_w: np.ndarray, chunk_slots: np.ndarray, n_out: int):
        """(tiles, chunks, N cols, N rows) weight tiles.  ``dense_w[k, o]`` is the weight of
        input element ``k`` to output ``o``; ``chunk_slots[j, lane]`` the input element in
        lane ``lane`` of chunk ``j`` (-1: a spare lane)."""
        n = self.n
        tiles = -(-n_out // n)
        padded = np.zeros((dense_w.shape[0] + 1, tiles * n), dtype=np.int64)
        padded[:-1, :n_out] = dense_w
        gathered = padded[chunk_slots]               # (chunks, N lanes, tiles*N); -1 -> zeros
        return gathered.reshape(len(chunk_slots), n, tiles, n).transpose(2, 0, 1, 3)

    def _biases(self, bias: np.ndarray, n_out: int) -> np.ndarray:
        tiles = -(-n_out // self.n)
        out = np.zeros(tiles * self.n, dtype=np.int64)
        out[:n_out] = bias
        return out.reshape(tiles, self.n)

    def _conv2d(self, node: Conv2D):
        x = self.natural(node.name, self.tensor(node.name, node.input), wide_ok=True)
        if len(x.shape) != 3:
            _refuse(node.name, "Conv2D needs an (H, W, C) input")
        kh, kw, cpg, cout = node.weights.shape
        for what, values in (("kernel", (kh, kw)), ("stride", node.stride),
                             ("dilation", node.dilation), ("padding", node.padding[::2])):
            if max(values) > 15:
                _refuse(node.name, f"{what} {values} exceeds the engine's 4-bit field (15)")
        weights, bias = np.asarray(node.weights), np.asarray(node.bias)
        self._check_weights(node, weights, bias)
        self._check_accumulator(node, weights, bias, x)
        cin = x.shape[2]
        # Grouped and depthwise convolutions run as dense ones with zero weights across
        # groups (one useful lane in N for depthwise).
        dense = np.zeros((kh, kw, cin, cout), dtype=np.int64)
        og = cout // node.groups
        for g in range(node.groups):
            dense[:, :, g * cpg:(g + 1) * cpg, g * og:(g + 1) * og] = \
                weights[:, :, :, g * og:(g + 1) * og]
        # chunk (ky, kx, c): word c of the pixel (every plane's groups) at that tap
        pixel = x.layout.word_elements()[:x.layout.pixel_words]        # (words, N) channels
        spare = pixel >= cin
        flat = np.arange(kh * kw)[:, None, None] * cin + np.where(spare, 0, pixel)[None]
        slots = np.where(spare[None], kh * kw * cin, flat).reshape(-1, self.n)
        tiles = self._tile_weights(dense.reshape(-1, cout), slots, cout)
        name, stage, planes = self._result(node)
        ho, wo = node.out.shape[:2]
        self._matmul_tensor(node, name, planes)
        self.out.steps.append(MatmulStep(
            node.name, x.name, name,
            Window((ho, wo), (kh, kw), node.stride, node.dilation,
                   (node.padding[0], node.padding[2])),
            tiles, self._biases(bias, cout), stage, macs=ho * wo * kh * kw * cpg * cout,
            planes=planes, wide=x.layout.planes > 1))

    def _dense(self, node: Dense):
        x = self.tensor(node.name, node.input)
        if x.layout.planes > 1 and len(x.shape) == 1 and x.layout.pixels != (1, 1):
            _refuse(node.name, f"a wide input {x.name!r} stored over several pixels")
        weights, bias = np.asarray(node.weights), np.asarray(node.bias)
        self._check_weights(node, weights, bias)
        self._check_accumulator(node, weights.T, bias, x)
        n_out, n_in = weights.shape
        name, stage, planes = self._result(node)
        if len(x.shape) == 2:                      # (T, F): a 1 x 1 convolution over T
            x = self.natural(node.name, x, wide_ok=True)
            slots = x.layout.word_elements()[:x.layout.pixel_words]
            slots = np.where(slots >= n_in, n_in, slots)
            window = Window((1, x.shape[0]))
            macs = x.shape[0] * n_in * n_out
        else:
            slots = x.layout.word_elements()           # every word of the image
            window, macs = None, n_in * n_out
        tiles = self._tile_weights(weights.T, slots, n_out)
        self._matmul_tensor(node, name, planes)
        self.out.steps.append(MatmulStep(node.name, x.name, name, window, tiles,
                                         self._biases(bias, n_out), stage, macs=macs,
                                         planes=planes, wide=x.layout.planes > 1))

    def _pool(self, node, x: Tensor, window: Window, pool_max: bool, stage: Stage):
        name, stage = self.fold_activation(node.name, stage)
        out_shape = self.graph.type_of(name).shape
        self.add_tensor(node.name, name, out_shape, self.graph.type_of(name).fmt)
        self.out.steps.append(PoolStep(node.name, x.name, name, window, pool_max, stage))

    def _window_of(self, node, x: Tensor, pool, stride, padding, out_hw) -> Window:
        if max(*pool, *stride, padding[0], padding[2]) > 15:
            _refuse(node.name, f"window {pool}, stride {stride} or padding {padding} exceeds "
                               "the engine's 4-bit fields (15)")
        return Window(tuple(out_hw), tuple(pool), tuple(stride), (1, 1),
                      (padding[0], padding[2]))

    def _maxpool2d(self, node: MaxPool2D):
        x = self.natural(node.name, self.tensor(node.name, node.input))
        window = self._window_of(node, x, node.pool, node.stride, node.padding,
                                 node.out.shape[:2])
        self._pool(node, x, window, True, _identity(self.lane_format(node.name, node.out.fmt)))

    def _average(self, node, x: Tensor, cells: int) -> Stage:
        if cells & (cells - 1):
            _refuse(node.name, f"an average over {cells} cells needs a division the engine "
                               "does not have (power-of-two windows only)")
        out = self.lane_format(node.name, node.out.fmt)
        scale = out.frac - x.fmt.frac - (cells.bit_length() - 1)
        return _stage_for_shift(node.name, -scale, node.rounding, out)

    def _avgpool2d(self, node: AvgPool2D):
        x = self.natural(node.name, self.tensor(node.name, node.input))
        if any(node.padding):
            _refuse(node.name, "an average pool with padding divides border windows by "
                               "other counts; only unpadded average pools run")
        window = self._window_of(node, x, node.pool, node.stride, node.padding,
                                 node.out.shape[:2])
        stage = self._average(node, x, node.pool[0] * node.pool[1])
        self._pool(node, x, window, False, stage)

    def _globalavgpool(self, node: GlobalAvgPool):
        x = self.natural(node.name, self.tensor(node.name, node.input))
        h, w = x.layout.pixels
        if max(h, w) > 15:
            _refuse(node.name, f"a {h}x{w} global pool exceeds the engine's 15x15 window")
        stage = self._average(node, x, h * w)
        self._pool(node, x, Window((1, 1), (h, w)), False, stage)

    def _zeropad2d(self, node: ZeroPad2D):
        x = self.natural(node.name, self.tensor(node.name, node.input))
        window = self._window_of(node, x, (1, 1), (1, 1), node.padding, node.out.shape[:2])
        self._pool(node, x, window, False, _identity(self.lane_format(node.name, node.out.fmt)))

    def _copy(self, node, stage: Stage):
        x = self.natural(node.name, self.tensor(node.name, node.input))
        self._pool(node, x, Window(tuple(x.layout.pixels)), False, stage)

    def _relu(self, node: Relu):
        fmt = self.lane_format(node.name, node.out.fmt)
        self._copy(node, _identity(fmt).clipped(0, fmt.max))

    def _clip(self, node: Clip):
        fmt = self.lane_format(node.name, node.out.fmt)
        self._copy(node, _identity(fmt).clipped(node.lo, node.hi))

    def _requantize(self, node: Requantize):
        fmt = self.lane_format(node.name, node.out.fmt)
        stage = _stage_for_shift(node.name, _shift_of(node), node.rounding, fmt)
        self._copy(node, _overflow_stage(node.name, stage, node.overflow, fmt,
                                                self.config.lane_bits))

    def _add(self, node: Add):
        a = self.natural(node.name, self.tensor(node.name, node.a))
        b = self.natural(node.name, self.tensor(node.name, node.b))
        if a.layout != b.layout:
            _refuse(node.name, f"operands of shapes {a.shape} and {b.shape} (broadcasting "
                               "is not supported)")
        out = self.lane_format(node.name, node.out.fmt)
        frac = max(a.fmt.frac, b.fmt.frac)
        la, lb = frac - a.fmt.frac, frac - b.fmt.frac
        if max(la, lb) > MAX_LSHIFT:
            _refuse(node.name, f"aligning the operands needs a shift of {max(la, lb)}")
        stage = _overflow_stage(node.name,
                                _stage_for_shift(node.name, frac - out.frac, node.rounding, out),
                                node.overflow, out, self.config.lane_bits)
        name, stage = (node.name, stage) if stage.wrap else self.fold_activation(node.name, stage)
        self.add_tensor(node.name, name, self.graph.type_of(name).shape,
                        self.graph.type_of(name).fmt)
        self.out.steps.append(AddStep(node.name, a.name, b.name, name, la, lb, stage))

    def _concat(self, node: Concat):
        sources = [self.natural(node.name, self.tensor(node.name, s)) for s in node.sources]
        rank = len(node.out.shape)
        if node.axis not in (-1, rank - 1):
            _refuse(node.name, "only a Concat along the channel (last) axis runs")
        for s in sources[:-1]:
            if s.shape[-1] % self.n:
                _refuse(node.name, f"source {s.name!r} has {s.shape[-1]} channels; every "
                                   f"source but the last needs a multiple of {self.n}")
        out = self.add_tensor(node.name, node.name, node.out.shape, node.out.fmt)
        group = 0
        for s in sources:
            if s.fmt != out.fmt:
                _refuse(node.name, f"source {s.name!r} is {s.fmt.describe()}, the result "
                                   f"{out.fmt.describe()}")
            self.out.steps.append(PoolStep(node.name, s.name, out.name,
                                           Window(tuple(s.layout.pixels)), False,
                                           _identity(out.fmt), out_group=group))
            group += s.layout.groups

    def _reshape(self, node: Reshape):
        x = self.tensor(node.name, node.input)
        natural = layout_of(node.out.shape, self.n)
        if natural == x.layout or natural is not None and natural.channels == x.layout.channels \
                and natural.words == x.layout.words:
            layout = natural                       # the same words in the same order
        else:
            layout = x.layout                      # a view: Dense and outputs only
        self.add_tensor(node.name, node.name, node.out.shape, node.out.fmt, layout=layout,
                        storage=x.storage)


def lower(graph: Graph, config: EngineConfig) -> Lowered:
    """The engine steps of a verified graph, or ``EngineMappingError`` naming the layer."""
    return _Lowering(graph, config).run()
