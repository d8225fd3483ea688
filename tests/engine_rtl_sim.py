"""Drive the programmable engine's RTL (``hw.engine.top.Engine``) in Amaranth's simulator
with a host word list, and build host streams for it (tests/hw/engine)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from amaranth.sim import Simulator
from neurogate.hw.engine import isa
from neurogate.hw.engine.config import EngineConfig
from neurogate.hw.engine.isa import Command, Memory, Opcode
from neurogate.hw.engine.top import Engine
from neurogate.sim.engine.iss import Echo, EngineSim

#: A small engine that simulates fast.
SMALL = EngineConfig(array=4, spad_words=256, wbuf_words=64, bias_words=16, prog_words=32)


@dataclass
class RtlResult:
    outputs: list[tuple[int, bool]] = field(default_factory=list)
    error: int = 0
    error_pc: int = 0
    #: For each RUN: cycles from the RUN word's transfer to the first cycle ``busy``
    #: is low again.
    run_cycles: list[int] = field(default_factory=list)
    cycles: int = 0
    first_word_at: int = 0        # the cycle the first word was taken
    runs_end_at: int = 0          # the first cycle not busy after the last run


def run_rtl(config: EngineConfig, words: list[int], *, gaps: float = 0.0,
            stalls: float = 0.0, seed: int = 0, quiet: int = 80,
            max_cycles: int = 200_000) -> RtlResult:
    """Feed ``words`` (valid dropped with probability ``gaps`` each cycle, ``o.ready``
    with ``stalls``) until all are taken and the engine has been quiet (not busy, no
    output) for ``quiet`` cycles.  An ``Echo`` word is the output word of its index,
    offered once it has arrived."""
    dut = Engine(config)
    rng = random.Random(seed)
    result = RtlResult()

    async def bench(ctx):
        sent, cycle, still, was_busy, run_at = 0, 0, 0, 0, None
        while True:
            word = words[sent] if sent < len(words) else None
            if isinstance(word, Echo):
                word = result.outputs[word.index][0] if word.index < len(result.outputs) \
                    else None
            valid = word is not None and rng.random() >= gaps
            ctx.set(dut.i.valid, valid)
            if valid:
                ctx.set(dut.i.payload, word)
            ready = rng.random() >= stalls
            ctx.set(dut.o.ready, ready)
            i_fire = valid and ctx.get(dut.i.ready)
            o_fire = ready and ctx.get(dut.o.valid)
            if o_fire:
                payload = ctx.get(dut.o.payload)
                result.outputs.append((int(payload.data), bool(payload.last)))
            busy = ctx.get(dut.busy)
            if i_fire and sent == 0:
                result.first_word_at = cycle
            if busy and not was_busy:
                run_at = cycle - 1
            if was_busy and not busy:
                result.run_cycles.append(cycle - run_at)
                result.runs_end_at = cycle
            was_busy = busy
            if i_fire:
                sent += 1
            still = still + 1 if (sent == len(words) and not busy and not o_fire) else 0
            if still >= quiet:
                break
            await ctx.tick()
            cycle += 1
            if cycle > max_cycles:
                raise TimeoutError(f"engine not done after {max_cycles} cycles "
                                   f"({sent} of {len(words)} words taken)")
        result.error = ctx.get(dut.error)
        result.error_pc = ctx.get(dut.error_pc)
        result.cycles = cycle

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return result


def compare(config: EngineConfig, words: list[int], **drive) -> RtlResult:
    """Run ``words`` on the RTL and on the ISS; assert equal outputs and errors."""
    got = run_rtl(config, words, **drive)
    want = EngineSim(config).run(words)
    assert got.error == want.error and got.error_pc == want.error_pc, (
        f"error: RTL {isa.Error(got.error).name}@{got.error_pc}, "
        f"ISS {want.error.name}@{want.error_pc}")
    assert len(got.outputs) == len(want.outputs), (len(got.outputs), len(want.outputs))
    for k, (g, w) in enumerate(zip(got.outputs, want.outputs)):
        assert g == w, f"output word {k}: RTL {g[0]:#x} last={g[1]}, ISS {w[0]:#x} last={w[1]}"
    return got


# --- host streams ------------------------------------------------------------------------

class Stream:
    """A host word list: a PROGRAM, RUNs, and the data of the LOADs of each run."""

    def __init__(self, config: EngineConfig):
        self.config, self.words = config, []

    def program(self, instructions: list[int], signature: int | None = None,
                count: int | None = None) -> Stream:
        sig = self.config.signature if signature is None else signature
        n = len(instructions) if count is None else count
        self.words.append(isa.command(Command.PROGRAM, count=n, signature=sig))
        for word in instructions:
            self.words += isa.words_of(word, isa.INSTR_BITS, self.config)
        return self

    def run(self, pc: int = 0, loads: list[list[int]] | None = None,
            mems: list[Memory] | None = None) -> Stream:
        """RUN from ``pc``; ``loads[k]`` are the memory words of the run's k-th LOAD into
        ``mems[k]``."""
        self.words.append(isa.command(Command.RUN, pc=pc))
        for values, mem in zip(loads or [], mems or []):
            self.words += load_words(self.config, mem, values)
        return self


def word_bits(config: EngineConfig, mem: Memory) -> int:
    return {Memory.SPAD: config.spad_bits, Memory.WBUF: config.wbuf_bits,
            Memory.BIAS: config.bias_bits}[Memory(mem)]


def load_words(config: EngineConfig, mem: Memory, values: list[int]) -> list[int]:
    words = []
    for v in values:
        words += isa.words_of(v, word_bits(config, mem), config)
    return words


def pack(lanes, bits: int) -> int:
    """Lanes (any integers) -> one word, lane ``i`` at bits ``[i*bits, (i+1)*bits)``."""
    return sum((int(v) & ((1 << bits) - 1)) << (i * bits) for i, v in enumerate(lanes))


def encode(op: Opcode, **fields) -> int:
    return isa.encode(op, **fields)
