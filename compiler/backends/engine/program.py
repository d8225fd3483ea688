"""Engine steps as a program: scratchpad allocation, weight tiling, instructions, and the
host stream that carries program, weights and inputs.

Weights are either *resident* (a setup run loads every layer once; each inference
loads only its input) or *streamed* (each inference loads them group by group, into
alternate halves of the weight buffer, so a group loads while the one before computes).
``weights="auto"`` keeps them resident when they fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ....hw.engine import isa
from ....hw.engine.config import EngineConfig
from ....hw.engine.isa import Memory, Opcode, Unit
from ....numerics.errors import NeurogateError
from ....numerics.formats import IntFormat
from ....numerics.rounding import Rounding
from .layout import pack_images, unpack_images
from .lower import AddStep, Lowered, MatmulStep, PoolStep, Stage, Tensor, Window

ADDR_MASK = (1 << isa.ADDR_BITS) - 1
WAIT_LOAD, WAIT_EXEC = 1 << Unit.LOAD, 1 << Unit.EXEC
WEIGHT_MODES = ("auto", "resident", "streamed")


class EngineFitError(NeurogateError):
    """The program does not fit the engine's memories (the message gives the sizes)."""


@dataclass
class Load:
    """A LOAD and the memory words it reads from the host stream (``None``: the input)."""

    mem: Memory
    addr: int
    words: list[int] | None
    count: int


@dataclass
class EngineProgram:
    config: EngineConfig
    batch: int
    resident: bool
    instructions: list[int] = field(default_factory=list)
    loads: list[tuple[int, Load]] = field(default_factory=list)   # (pc, load)
    inference_pc: int = 0
    tensors: dict[str, Tensor] = field(default_factory=dict)
    bases: dict[str, int] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    spad_peak: int = 0
    wbuf_used: int = 0
    useful_macs: int = 0          # per image

    # --- host stream ------------------------------------------------------------------------

    def program_stream(self) -> list[int]:
        """The PROGRAM command and the instruction words."""
        c = self.config
        words = [isa.command(isa.Command.PROGRAM, count=len(self.instructions),
                             signature=c.signature)]
        for ins in self.instructions:
            words += isa.words_of(ins, isa.INSTR_BITS, c)
        return words

    def _load_words(self, load: Load, inputs) -> list[int]:
        c = self.config
        bits = {Memory.SPAD: c.spad_bits, Memory.WBUF: c.wbuf_bits, Memory.BIAS: c.bias_bits}
        values = load.words
        if values is None:
            name, x = inputs.pop(0)
            values = pack_images(x, self.tensors[name].layout, c)
        out = []
        for v in values:
            out += isa.words_of(v, bits[load.mem], c)
        return out

    def setup_stream(self) -> list[int]:
        """Resident weights: RUN of the setup section and its data (empty if streamed)."""
        if not self.resident:
            return []
        words = [isa.command(isa.Command.RUN, pc=0)]
        for pc, load in self.loads:
            if pc < self.inference_pc:
                words += self._load_words(load, [])
        return words

    def inference_stream(self, inputs: dict[str, np.ndarray]) -> list[int]:
        """RUN of the inference section and its data for one batch of ``inputs``."""
        for name in self.inputs:
            x = np.asarray(inputs[name])
            if x.shape[0] != self.batch:
                raise NeurogateError(f"input {name!r}: the program runs batches of "
                                     f"{self.batch}, not {x.shape[0]}")
        queue = [(name, inputs[name]) for name in self.inputs]
        words = [isa.command(isa.Command.RUN, pc=self.inference_pc)]
        for pc, load in self.loads:
            if pc >= self.inference_pc:
                words += self._load_words(load, queue)
        return words

    def host_stream(self, batches: list[dict[str, np.ndarray]]) -> list[int]:
        words = self.program_stream() + self.setup_stream()
        for inputs in batches:
            words += self.inference_stream(inputs)
        return words

    @property
    def output_words(self) -> int:
        """Output-stream words per batch."""
        return sum(self.tensors[o].layout.words * self.tensors[o].planes
                   for o in self.outputs) * self.batch

    def decode_outputs(self, words: list[int]) -> dict[str, np.ndarray]:
        """One batch's output words (in STORE order) as arrays by output name; a wide
        value's byte planes are put back together and wrapped to its format's width."""
        out, at = {}, 0
        lanes = self.config.lane_bits
        for name in self.outputs:
            t = self.tensors[name]
            count = t.layout.words * self.batch
            if t.planes == 1:
                out[name] = unpack_images(words[at:at + count], t.layout, t.fmt, t.shape,
                                          self.config)
            else:
                raw = IntFormat(lanes, signed=False)
                value = sum(unpack_images(words[at + k * count:at + (k + 1) * count], t.layout,
                                          raw, t.shape, self.config) << (k * lanes)
                            for k in range(t.planes))
                width = t.fmt.width
                value &= (1 << width) - 1
                out[name] = np.where(value >= 1 << (width - 1), value - (1 << width), value)
            at += count * t.planes
        return out

    def batches(self, given: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
        """Inputs (any count of images) cut into this program's batches, the last one
        padded by repeating its last image."""
        count = len(next(iter(given.values())))
        out = []
        for start in range(0, count, self.batch):
            batch = {}
            for name, x in given.items():
                part = np.asarray(x)[start:start + self.batch]
                if len(part) < self.batch:
                    part = np.concatenate([part, np.repeat(part[-1:], self.batch - len(part),
                                                           axis=0)])
                batch[name] = part
            out.append(batch)
        return out

    def decode_runs(self, words: list[int], count: int) -> dict[str, np.ndarray]:
        """The outputs of consecutive runs' output words, by name, cut to ``count`` images."""
        per = self.output_words
        runs = [self.decode_outputs(words[i * per:(i + 1) * per])
                for i in range(len(words) // per)]
        return {name: np.concatenate([r[name] for r in runs])[:count] for name in self.outputs}

    @property
    def weight_stream_words(self) -> int:
        """Host words of weights and biases per inference run (0 when resident)."""
        c = self.config
        bits = {Memory.WBUF: c.wbuf_bits, Memory.BIAS: c.bias_bits}
        return sum(load.count * c.host_words(bits[load.mem]) for pc, load in self.loads
                   if load.mem != Memory.SPAD and pc >= self.inference_pc)


def _lifetimes(low: Lowered) -> dict[str, tuple[int, int]]:
    """Storage name -> (first step writing it, last step reading it); inputs start at -1,
    outputs end after the last step."""
    spans: dict[str, list[int]] = {}
    storage = {name: t.storage for name, t in low.tensors.items()}
    for name in low.inputs:
        spans[name] = [-1, -1]
    end = len(low.steps)
    for i, step in enumerate(low.steps):
        reads = (step.a, step.b) if isinstance(step, AddStep) else (step.input,)
        for r in reads:
            spans[storage[r]][1] = max(spans[storage[r]][1], i)
        w = storage[step.output]
        if w not in spans:
            spans[w] = [i, i]
        spans[w][1] = max(spans[w][1], i)
    for name in low.outputs:
        spans[storage[name]][1] = end
    return {k: (v[0], v[1]) for k, v in spans.items()}


def allocate(low: Lowered, batch: int) -> tuple[dict[str, int], int]:
    """First-fit scratchpad bases for every stored tensor; refuses, with the sizes, a
    program whose live tensors do not fit."""
    spans = _lifetimes(low)
    size = {name: low.tensors[name].layout.words * low.tensors[name].planes * batch
            for name in spans}
    placed: list[tuple[str, int]] = []
    bases: dict[str, int] = {}
    for name in sorted(spans, key=lambda n: (spans[n][0], n)):
        lo, hi = spans[name]
        busy = sorted((bases[o], bases[o] + size[o]) for o, _ in placed
                      if not (spans[o][1] < lo or hi < spans[o][0]))
        at = 0
        for start, stop in busy:
            if at + size[name] <= start:
                break
            at = max(at, stop)
        bases[name] = at
        placed.append((name, at))
    peak = max((bases[n] + size[n] for n in bases), default=0)
    words = low.config.spad_words
    if peak > words:
        worst = max(range(-1, len(low.steps) + 1), key=lambda i: sum(
            size[n] for n in spans if spans[n][0] <= i <= spans[n][1]))
        live = [n for n in spans if spans[n][0] <= worst <= spans[n][1]]
        layer = {step.output: step.layer for step in low.steps}
        listed = ", ".join(f"{layer.get(n, n)} ({size[n]} words)" for n in live)
        raise EngineFitError(
            f"the live tensors need {peak} scratchpad words and the engine has {words} "
            f"(batch {batch}; live at once: {listed}); spatial tiling is not done yet: "
            "use an engine with a larger scratchpad or a smaller batch")
    return bases, peak


def _stage_fields(stage: Stage) -> dict:
    return {"lshift": stage.lshift, "rshift": stage.rshift,
            "rounding": list(type(stage.rounding)).index(stage.rounding),
            "lo": stage.lo, "hi": stage.hi, "wrap": int(stage.wrap)}


class _Emitter:
    def __init__(self, low: Lowered, config: EngineConfig, batch: int, weights: str):
        if weights not in WEIGHT_MODES:
            raise NeurogateError(f"weights must be one of {', '.join(WEIGHT_MODES)}, "
                                 f"not {weights!r}")
        self.low, self.c, self.batch = low, config, batch
        self.bases, peak = allocate(low, batch)
        self.prog = EngineProgram(config, batch, False, tensors=low.tensors,
                                  inputs=low.inputs, outputs=low.outputs, spad_peak=peak)
        self.bases_of = {name: self.bases[t.storage] for name, t in low.tensors.items()}
        self.prog.bases = self.bases_of
        matmuls = [s for s in low.steps if isinstance(s, MatmulStep)]
        need_w = sum(s.weights.shape[0] * s.weights.shape[1] for s in matmuls)
        need_b = sum(s.weights.shape[0] for s in matmuls)
        fits = need_w <= config.wbuf_words and need_b <= config.bias_words
        if weights == "resident" and not fits:
            raise EngineFitError(f"resident weights need {need_w} weight-buffer words per "
                                 f"column and {need_b} bias words; the engine has "
                                 f"{config.wbuf_words} and {config.bias_words}")
        self.prog.resident = weights == "resident" or (weights == "auto" and fits)
        self.half = 0
        self.prog.useful_macs = sum(s.macs for s in matmuls)

    def emit(self, op: Opcode, *, load: Load | None = None, **fields):
        if load is not None:
            self.prog.loads.append((len(self.prog.instructions), load))
        try:
            self.prog.instructions.append(isa.encode(op, **fields))
        except isa.EncodeError as e:
            raise NeurogateError(f"a field does not fit the instruction set: {e}") from None

    def load(self, mem: Memory, addr: int, words: list[int] | None, count: int, wait: int = 0):
        self.emit(Opcode.LOAD, wait=wait, mem=mem, addr=addr, count=count,
                  load=Load(mem, addr, words, count))

    def weight_words(self, step: MatmulStep, tiles: range) -> tuple[list[int], list[int]]:
        c = self.c
        wmask, bmask = (1 << c.weight_bits) - 1, (1 << c.acc_bits) - 1
        ww = []
        for t in tiles:
            for row in step.weights[t].reshape(-1, c.array):        # (chunks*cols, rows)
                ww.append(sum((int(v) & wmask) << (i * c.weight_bits) for i, v in enumerate(row)))
        bw = [sum((int(v) & bmask) << (i * c.acc_bits) for i, v in enumerate(step.biases[t]))
              for t in tiles]
        return ww, bw

    # --- the program ------------------------------------------------------------------------

    def build(self) -> EngineProgram:
        resident_at: dict[str, tuple[int, int]] = {}
        if self.prog.resident:
            w_at = b_at = 0
            for step in self.low.steps:
                if isinstance(step, MatmulStep):
                    ww, bw = self.weight_words(step, range(step.weights.shape[0]))
                    self.load(Memory.WBUF, w_at, ww, len(ww))
                    self.load(Memory.BIAS, b_at, bw, len(bw))
                    resident_at[step.layer] = (w_at, b_at)
                    w_at += len(ww) // self.c.array
                    b_at += len(bw)
            self.prog.wbuf_used = w_at
            self.emit(Opcode.END)
            self.prog.inference_pc = len(self.prog.instructions)
        for name in self.low.inputs:
            t = self.low.tensors[name]
            self.load(Memory.SPAD, self.bases[name], None, t.layout.words * self.batch)
        for step in self.low.steps:
            if isinstance(step, MatmulStep):
                self.matmul(step, resident_at.get(step.layer))
            elif isinstance(step, PoolStep):
                self.pool(step)
            else:
                self.add(step)
        outputs = self.low.outputs
        for i, name in enumerate(outputs):
            t = self.low.tensors[name]
            self.emit(Opcode.STORE, wait=WAIT_EXEC, addr=self.bases_of[name],
                      count=t.layout.words * t.planes * self.batch, last=int(i == len(outputs) - 1))
        self.emit(Opcode.END, wait=isa.WAIT_ALL)
        if len(self.prog.instructions) > self.c.prog_words:
            raise EngineFitError(f"the program has {len(self.prog.instructions)} instructions "
                                 f"and the engine's program memory {self.c.prog_words}")
        return self.prog

    def matmul(self, step: MatmulStep, resident: tuple[int, int] | None):
        tiles, chunks = step.weights.shape[:2]
        if resident is not None:
            self.matmul_group(step, range(tiles), *resident, wait=0)
            return
        half_w, half_b = self.c.wbuf_words // 2, self.c.bias_words // 2
        if chunks > half_w:
            raise EngineFitError(f"layer {step.layer!r}: one output tile needs {chunks} "
                                 f"weight words per column and half the weight buffer has "
                                 f"{half_w}; splitting the reduction is not done yet")
        per_group = min(half_w // chunks, half_b)
        self.prog.wbuf_used = max(self.prog.wbuf_used, self.c.wbuf_words)
        for first in range(0, tiles, per_group):
            group = range(first, min(tiles, first + per_group))
            ww, bw = self.weight_words(step, group)
            w_at, b_at = self.half * half_w, self.half * half_b
            self.half ^= 1
            self.load(Memory.WBUF, w_at, ww, len(ww))
            self.load(Memory.BIAS, b_at, bw, len(bw))
            self.matmul_group(step, group, w_at, b_at, wait=WAIT_LOAD)

    def matmul_group(self, step: MatmulStep, group: range, w_at: int, b_at: int, wait: int):
        for plane in range(step.planes):
            stage = step.stage if step.planes == 1 else Stage(
                rshift=plane * self.c.lane_bits, rounding=Rounding.FLOOR, wrap=True)
            offset = plane * self.low.tensors[step.output].layout.words * self.batch
            self.matmul_pass(step, group, w_at, b_at, wait, stage, offset)
            wait = 0

    def matmul_pass(self, step: MatmulStep, group: range, w_at: int, b_at: int, wait: int,
                    stage: Stage, offset: int):
        x, y = self.low.tensors[step.input], self.low.tensors[step.output]
        common = dict(tiles=len(group), w_base=w_at, b_base=b_at, wide=int(step.wide),
                      a_unsigned=int(not x.fmt.signed), **_stage_fields(stage))
        if step.window is None:                      # dense: the batch along ow
            self.emit(Opcode.MATMUL, wait=wait, oh=1, ow=self.batch, kh=1, kw=1,
                      chunks=x.layout.words, ih=1, iw=1, a_start=self.bases_of[x.name],
                      a_ox=x.layout.words,
                      o_base=self.bases_of[y.name] + offset + group.start,
                      o_ox=y.layout.words, **common)
            return
        for image in range(self.batch):
            fields = self.window_fields(x, y, step.window, image, out_group=group.start)
            fields["o_base"] += offset
            self.emit(Opcode.MATMUL, wait=wait, **fields, chunks=x.layout.pixel_words, **common)
            wait = 0

    def window_fields(self, x: Tensor, y: Tensor, w: Window, image: int, out_group: int):
        (ih, iw), g = x.layout.pixels, x.layout.pixel_words
        row = iw * g
        start = self.bases_of[x.name] + image * x.layout.words - w.pad[0] * row - w.pad[1] * g
        (oh, ow), og = w.out_hw, y.layout.pixel_words
        return dict(oh=oh, ow=ow, kh=w.kernel[0], kw=w.kernel[1], ih=ih, iw=iw,
                    sy=w.stride[0], sx=w.stride[1], dy=w.dilation[0], dx=w.dilation[1],
                    pt=w.pad[0], pl=w.pad[1], a_start=start & ADDR_MASK,
                    a_oy=w.stride[0] * row, a_ox=w.stride[1] * g, a_ky=w.dilation[0] * row,
                    a_kx=w.dilation[1] * g,
                    o_base=self.bases_of[y.name] + image * y.layout.words + out_group,
                    o_oy=ow * og, o_ox=og)

    def pool(self, step: PoolStep):
        x, y = self.low.tensors[step.input], self.low.tensors[step.output]
        for image in range(self.batch):
            self.emit(Opcode.POOL, **self.window_fields(x, y, step.window, image,
                                                         out_group=step.out_group),
                      tiles=x.layout.groups, chunks=1, a_t=1,
                      a_unsigned=int(not x.fmt.signed), pool_max=int(step.pool_max),
                      **_stage_fields(step.stage))

    def add(self, step: AddStep):
        a, b, y = (self.low.tensors[n] for n in (step.a, step.b, step.output))
        self.emit(Opcode.ADD, a_base=self.bases_of[a.name], b_base=self.bases_of[b.name],
                  o_base=self.bases_of[y.name], count=y.layout.words * self.batch,
                  a_unsigned=int(not a.fmt.signed), b_unsigned=int(not b.fmt.signed),
                  la=step.la, lb=step.lb, **_stage_fields(step.stage))


def build_program(low: Lowered, *, batch: int = 1, weights: str = "auto") -> EngineProgram:
    if not isinstance(batch, int) or batch < 1:
        raise NeurogateError(f"batch must be a positive integer, not {batch!r}")
    return _Emitter(low, low.config, batch, weights).build()
