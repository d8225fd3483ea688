"""Engine steps as a program: weight tiling, instructions, and the loads and stores of
the host stream (the scratchpad plan is ``tiling.py``, the host side ``host.py``).

Weights are either *resident* (a setup run loads every layer once; each inference
loads only its input) or *streamed* (each inference loads them group by group, into
alternate halves of the weight buffer, so a group loads while the one before computes).
``weights="auto"`` keeps them resident when they fit.

A step runs in *rounds*: one round over every image when it touches only on-chip
tensors, otherwise one round per image and band (``tiling.py``): the round LOADs the
host-memory rows it reads into its staging region, runs its instructions (every
weight group, every plane) and STOREs the rows it made that live in host memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from ....hw.engine import isa
from ....hw.engine.config import EngineConfig
from ....hw.engine.isa import Memory, Opcode, Unit
from ....numerics.errors import NeurogateError
from ....numerics.rounding import Rounding
from .host import EngineProgram, Load
from .lower import AddStep, Lowered, MatmulStep, PoolStep, Stage, Tensor, Window
from .tiling import EngineFitError, Geometry, plan

__all__ = ["EngineFitError", "EngineProgram", "WEIGHT_MODES", "build_program"]

ADDR_MASK = (1 << isa.ADDR_BITS) - 1
WAIT_LOAD, WAIT_EXEC, WAIT_STORE = 1 << Unit.LOAD, 1 << Unit.EXEC, 1 << Unit.STORE
WEIGHT_MODES = ("auto", "resident", "streamed")


def _stage_fields(stage: Stage) -> dict:
    return {"lshift": stage.lshift, "rshift": stage.rshift,
            "rounding": list(type(stage.rounding)).index(stage.rounding),
            "lo": stage.lo, "hi": stage.hi, "wrap": int(stage.wrap)}


@dataclass(frozen=True)
class Round:
    """One round of a step: output rows ``rows`` of ``image`` (a window), words
    ``rows`` of every image (an addition), one image (a dense layer), or everything
    (``image`` None, ``rows`` None)."""

    image: int | None
    rows: tuple[int, int] | None


class _Emitter:
    def __init__(self, low: Lowered, config: EngineConfig, batch: int, weights: str):
        if weights not in WEIGHT_MODES:
            raise NeurogateError(f"weights must be one of {', '.join(WEIGHT_MODES)}, "
                                 f"not {weights!r}")
        self.low, self.c, self.batch = low, config, batch
        self.plan = plan(low, batch)
        self.storage = {name: t.storage for name, t in low.tensors.items()}
        self.prog = EngineProgram(config, batch, False, tensors=low.tensors,
                                  inputs=low.inputs, outputs=low.outputs,
                                  spad_peak=self.plan.peak, offchip=set(self.plan.offchip))
        self.prog.bases = {name: self.plan.bases[s] for name, s in self.storage.items()
                           if s in self.plan.bases}
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
        self.stored_at: dict[str, list[tuple[int, int, int]]] = {}  # (offset, count, output)
        self.outputs_so_far = 0
        self.last_store: tuple[int, dict] | None = None
        self.weight_cache: dict[tuple[str, int, int], tuple[list[int], list[int]]] = {}
        self.storing: list[tuple[int, int]] = []     # STOREs that may be in flight

    # --- instructions ---------------------------------------------------------------------

    def emit(self, op: Opcode, *, load: Load | None = None, **fields):
        if load is not None:
            self.prog.loads.append((len(self.prog.instructions), load))
        try:
            self.prog.instructions.append(isa.encode(op, **fields))
        except isa.EncodeError as e:
            raise NeurogateError(f"a field does not fit the instruction set: {e}") from None
        # an exec instruction, or one that waits for the store unit, issues with no
        # STORE in flight (docs/isa.md): the scratchpad words they read are free again
        if op in (Opcode.MATMUL, Opcode.POOL, Opcode.ADD) or fields.get("wait", 0) & WAIT_STORE:
            self.storing.clear()

    def load(self, mem: Memory, addr: int, words: list[int] | None, count: int, wait: int = 0,
             source: str | None = None, offset: int = 0):
        """A LOAD; into the scratchpad it waits for the store unit when it reads a spilled
        tensor back (those words must have left) or would overwrite words a STORE may
        still be sending: the hardware keeps a scratchpad LOAD apart from the exec unit
        only."""
        echo = None
        if source is not None and source not in self.low.inputs:
            echo = self.echo_of(source, offset, count)
            wait |= WAIT_STORE
        if mem == Memory.SPAD and any(addr < at + n and at < addr + count
                                      for at, n in self.storing):
            wait |= WAIT_STORE
        self.emit(Opcode.LOAD, wait=wait, mem=mem, addr=addr, count=count,
                  load=Load(mem, addr, words, count, source, offset, echo))

    def echo_of(self, storage: str, offset: int, count: int) -> list[tuple[int, int]]:
        """The output positions (this run) of words ``offset ..< offset + count`` of a
        spilled tensor, in order."""
        pieces = sorted((max(off, offset), min(off + n, offset + count) - max(off, offset),
                         at + max(off, offset) - off)
                        for off, n, at in self.stored_at.get(storage, [])
                        if max(off, offset) < min(off + n, offset + count))
        covered = offset
        for start, n, _ in pieces:
            if start != covered:
                break
            covered += n
        if covered != offset + count:
            raise AssertionError(f"words {covered} .. of {storage!r} are loaded before stored")
        return [(at, n) for _, n, at in pieces]

    def store(self, storage: str, addr: int, offset: int, count: int):
        fields = dict(wait=WAIT_EXEC, addr=addr, count=count)
        self.last_store = (len(self.prog.instructions), fields)
        self.emit(Opcode.STORE, **fields, last=0)
        self.storing.append((addr, count))
        self.prog.stores.append((storage, offset, count))
        self.stored_at.setdefault(storage, []).append((offset, count, self.outputs_so_far))
        self.outputs_so_far += count

    def weight_words(self, step: MatmulStep, tiles: range) -> tuple[list[int], list[int]]:
        """The weight-buffer and bias words of ``tiles`` (made once: every band of a
        streamed layer loads the same groups)."""
        key = (step.layer, tiles.start, tiles.stop)
        if key not in self.weight_cache:
            self.weight_cache[key] = self._weight_words(step, tiles)
        return self.weight_cache[key]

    def _weight_words(self, step: MatmulStep, tiles: range) -> tuple[list[int], list[int]]:
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
            if name not in self.plan.offchip:
                self.load(Memory.SPAD, self.plan.bases[name], None,
                          self.low.tensors[name].layout.words * self.batch, source=name)
        later = {m for members in self.plan.groups.values() for m in members[1:]}
        for i, step in enumerate(self.low.steps):
            if i in later:                # banded with the first of its Concat's copies
                continue
            self.prog.layer_pcs.append((step.layer, len(self.prog.instructions)))
            if isinstance(step, MatmulStep):
                self.matmul(i, step, resident_at.get(step.layer))
            elif isinstance(step, PoolStep):
                self.pool(i, step)
            else:
                self.add(i, step)
        for name in self.low.outputs:
            t = self.low.tensors[name]
            if t.storage not in self.plan.offchip:
                self.store(t.storage, self.plan.bases[t.storage], 0,
                           t.layout.words * t.planes * self.batch)
        pc, fields = self.last_store
        self.prog.instructions[pc] = isa.encode(Opcode.STORE, **fields, last=1)
        self.emit(Opcode.END, wait=isa.WAIT_ALL)
        return self.prog

    # --- rounds -----------------------------------------------------------------------------

    def rounds(self, i: int) -> list[Round]:
        g = self.plan.geometry[i]
        if not g.banded:
            return [Round(None, None)]
        if g.kind == "dense":
            return [Round(image, None) for image in range(self.batch)]
        band = self.plan.bands[i]
        if g.kind == "add":
            return [Round(None, (k, min(k + band, g.out_rows)))
                    for k in range(0, g.out_rows, band)]
        return [Round(image, (y, min(y + band, g.out_rows))) for image in range(self.batch)
                for y in range(0, g.out_rows, band)]

    def operand(self, i: int, tensor: Tensor, offset: int, count: int, slot: int = 0) -> int:
        """Where words ``offset ..< offset + count`` of ``tensor`` are for step ``i``:
        loaded into its staging region (slot ``slot`` of ``count`` words) when the tensor
        lives in host memory."""
        storage = self.storage[tensor.name]
        if storage not in self.plan.offchip:
            return self.plan.bases[storage] + offset
        at = self.plan.staging[i] + slot
        if count:
            self.load(Memory.SPAD, at, None, count, source=storage, offset=offset)
        return at

    def result(self, i: int, y: Tensor, offset: int, count: int, planes: int,
               stores: list) -> tuple[int, int]:
        """(first word, words between planes) where step ``i`` writes words ``offset ..<
        offset + count`` of each plane of ``y``; staged rows are queued on ``stores``."""
        storage = self.storage[y.name]
        plane_words = y.layout.words * self.batch
        if storage not in self.plan.offchip:
            return self.plan.bases[storage] + offset, plane_words
        at = self.plan.staged_out[i]
        stores += [(storage, at + p * count, p * plane_words + offset, count)
                   for p in range(planes)]
        return at, count

    def window_fields(self, i: int, x: Tensor, y: Tensor, w: Window, image: int,
                      rows: tuple[int, int], planes: int, stores: list) -> tuple[dict, int]:
        """The window fields of output rows ``rows`` of ``image`` (loading the input rows
        they reach when the input is in host memory) and the words between planes."""
        (ih, iw), g = x.layout.pixels, x.layout.pixel_words
        row = iw * g
        (y0, y1), sy, pt = rows, w.stride[0], w.pad[0]
        r0 = max(0, y0 * sy - pt)
        r1 = max(r0, min(ih, (y1 - 1) * sy - pt + (w.kernel[0] - 1) * w.dilation[0] + 1))
        top = pt - y0 * sy + r0                   # the band's own top padding
        base = self.operand(i, x, image * x.layout.words + r0 * row, (r1 - r0) * row)
        ow, og = w.out_hw[1], y.layout.pixel_words
        o_base, plane_step = self.result(i, y, image * y.layout.words + y0 * ow * og,
                                         (y1 - y0) * ow * og, planes, stores)
        return dict(oh=y1 - y0, ow=ow, kh=w.kernel[0], kw=w.kernel[1], ih=r1 - r0, iw=iw,
                    sy=sy, sx=w.stride[1], dy=w.dilation[0], dx=w.dilation[1],
                    pt=top, pl=w.pad[1], a_start=(base - top * row - w.pad[1] * g) & ADDR_MASK,
                    a_oy=sy * row, a_ox=w.stride[1] * g, a_ky=w.dilation[0] * row,
                    a_kx=w.dilation[1] * g, o_base=o_base, o_oy=ow * og,
                    o_ox=og), plane_step

    def window_items(self, i: int, x: Tensor, y: Tensor, w: Window, rnd: Round, planes: int,
                     stores: list) -> list[tuple[dict, int]]:
        images = range(self.batch) if rnd.image is None else [rnd.image]
        rows = rnd.rows or (0, w.out_hw[0])
        return [self.window_fields(i, x, y, w, image, rows, planes, stores) for image in images]

    def finish_round(self, stores: list):
        for storage, addr, offset, count in stores:
            self.store(storage, addr, offset, count)

    # --- steps ------------------------------------------------------------------------------

    def weight_groups(self, step: MatmulStep) -> list[range]:
        """The streamed weights' groups of output tiles: as many as half the weight
        buffer holds."""
        tiles, chunks = step.weights.shape[:2]
        half_w, half_b = self.c.wbuf_words // 2, self.c.bias_words // 2
        if chunks > half_w:
            raise EngineFitError(f"layer {step.layer!r}: one output tile needs {chunks} "
                                 f"weight words per column and half the weight buffer has "
                                 f"{half_w}; splitting the reduction is not done yet")
        per_group = min(half_w // chunks, half_b)
        self.prog.wbuf_used = max(self.prog.wbuf_used, self.c.wbuf_words)
        return [range(first, min(tiles, first + per_group))
                for first in range(0, tiles, per_group)]

    def load_group(self, step: MatmulStep, group: range) -> tuple[int, int]:
        """A streamed group's weights and biases into the next half of their memories."""
        ww, bw = self.weight_words(step, group)
        w_at, b_at = self.half * (self.c.wbuf_words // 2), self.half * (self.c.bias_words // 2)
        self.half ^= 1
        self.load(Memory.WBUF, w_at, ww, len(ww))
        self.load(Memory.BIAS, b_at, bw, len(bw))
        return w_at, b_at

    def matmul_items(self, i: int, step: MatmulStep, rnd: Round, stores: list):
        x, y = self.low.tensors[step.input], self.low.tensors[step.output]
        if step.window is not None:
            return self.window_items(i, x, y, step.window, rnd, step.planes, stores), \
                x.layout.pixel_words
        images = range(self.batch) if rnd.image is None else range(rnd.image, rnd.image + 1)
        xw, yw = x.layout.words, y.layout.words          # dense: the images along ow
        a_start = self.operand(i, x, images.start * xw, len(images) * xw)
        o_base, plane_step = self.result(i, y, images.start * yw, len(images) * yw,
                                         step.planes, stores)
        fields = dict(oh=1, ow=len(images), kh=1, kw=1, ih=1, iw=1, a_start=a_start,
                      a_ox=x.layout.words, o_base=o_base, o_ox=y.layout.words)
        return [(fields, plane_step)], x.layout.words

    def matmul(self, i: int, step: MatmulStep, resident: tuple[int, int] | None):
        """Every round: its input rows, then each weight group's MATMULs.  Streamed
        weights of one group load once for all the rounds; of several, each round loads
        them again, its first group while the round before computes its last."""
        x = self.low.tensors[step.input]
        rounds = self.rounds(i)
        groups = [range(step.weights.shape[0])] if resident else self.weight_groups(step)
        loaded = {0: resident} if resident else {}
        for r, rnd in enumerate(rounds):
            stores: list = []
            items, chunks = self.matmul_items(i, step, rnd, stores)
            for g, group in enumerate(groups):
                if g not in loaded:
                    loaded[g] = self.load_group(step, group)
                w_at, b_at = loaded[g]
                wait = 0 if resident else WAIT_LOAD
                for plane in range(step.planes):
                    stage = step.stage if step.planes == 1 else Stage(
                        rshift=plane * self.c.lane_bits, rounding=Rounding.FLOOR, wrap=True)
                    for fields, plane_step in items:
                        f = dict(fields, o_base=fields["o_base"] + plane * plane_step
                                 + group.start)
                        self.emit(Opcode.MATMUL, wait=wait, **f, chunks=chunks,
                                  tiles=len(group), w_base=w_at, b_base=b_at,
                                  wide=int(step.wide), a_unsigned=int(not x.fmt.signed),
                                  **_stage_fields(stage))
                        wait = 0
                if len(groups) > 1:
                    del loaded[g]
                    if g == len(groups) - 1 and r + 1 < len(rounds):
                        # the next round's first group, into the half the group before
                        # this one used (its MATMULs are over: this one has issued)
                        loaded[0] = self.load_group(step, groups[0])
            self.finish_round(stores)

    def pool(self, i: int, step: PoolStep):
        """A POOL step, or every copy of a Concat whose output is in host memory: each
        band of it is stored once all of them have written their channels."""
        members = self.plan.groups.get(i, [i])
        for rnd in self.rounds(i):
            stores: list = []
            for m in members:
                s = self.low.steps[m]
                x, y = self.low.tensors[s.input], self.low.tensors[s.output]
                queue = stores if m == members[0] else []
                for fields, _ in self.window_items(m, x, y, s.window, rnd, 1, queue):
                    fields["o_base"] += s.out_group
                    self.emit(Opcode.POOL, **fields, tiles=x.layout.groups, chunks=1, a_t=1,
                              a_unsigned=int(not x.fmt.signed), pool_max=int(s.pool_max),
                              **_stage_fields(s.stage))
            self.finish_round(stores)

    def add(self, i: int, step: AddStep):
        a, b, y = (self.low.tensors[n] for n in (step.a, step.b, step.output))
        g: Geometry = self.plan.geometry[i]
        for rnd in self.rounds(i):
            k0, k1 = rnd.rows or (0, y.layout.words * self.batch)
            stores: list = []
            bases = {}
            for t in (a, b):
                s = self.storage[t.name]
                if s not in bases:
                    slot = g.inputs.index(s) * (k1 - k0) if s in g.inputs else 0
                    bases[s] = self.operand(i, t, k0, k1 - k0, slot)
            o_base, _ = self.result(i, y, k0, k1 - k0, 1, stores)
            self.emit(Opcode.ADD, a_base=bases[self.storage[a.name]],
                      b_base=bases[self.storage[b.name]], o_base=o_base, count=k1 - k0,
                      a_unsigned=int(not a.fmt.signed), b_unsigned=int(not b.fmt.signed),
                      la=step.la, lb=step.lb, **_stage_fields(step.stage))
            self.finish_round(stores)


def build_program(low: Lowered, *, batch: int = 1, weights: str = "auto") -> EngineProgram:
    if not isinstance(batch, int) or batch < 1:
        raise NeurogateError(f"batch must be a positive integer, not {batch!r}")
    return _Emitter(low, low.config, batch, weights).build()
