"""Drive the accelerator in Amaranth's simulator (fast unit tests; cocotb is the RTL regression)."""

from __future__ import annotations

import numpy as np
from amaranth.sim import Simulator
from neurogate.hw.accelerator import Accelerator
from neurogate.hw.program import Program


def run_engine(program: Program, vectors: np.ndarray, *, out_ready_every: int = 1,
               in_gap: int = 0, max_cycles: int = 200_000):
    """Run each input vector; return (outputs (batch, n_out), cycles per inference list)."""
    dut = Accelerator(program=program)
    cols = program.config.array.cols
    n_out = program.output_size
    outputs, cycles = [], []

    async def bench(ctx):
        for vec in vectors:
            chunks = np.zeros(program.input_size, dtype=np.int64)
            chunks[:len(vec)] = vec
            chunks = chunks.reshape(-1, cols)
            got, start, cycle = [], None, 0
            sent = 0
            while len(got) < n_out:
                if sent < len(chunks) and (in_gap == 0 or cycle % (in_gap + 1) == 0):
                    ctx.set(dut.i.valid, 1)
                    ctx.set(dut.i.payload, [int(v) for v in chunks[sent]])
                else:
                    ctx.set(dut.i.valid, 0)
                ready = 1 if out_ready_every <= 1 else int(cycle % out_ready_every == 0)
                ctx.set(dut.o.ready, ready)
                await ctx.delay(1e-9)
                i_fire = ctx.get(dut.i.valid) and ctx.get(dut.i.ready)
                o_fire = ctx.get(dut.o.valid) and ready
                if o_fire:
                    payload = ctx.get(dut.o.payload)
                    got.append(payload.data)
                    assert payload.last == (len(got) == n_out), "last flag misplaced"
                await ctx.tick()
                cycle += 1
                if i_fire:
                    if start is None:
                        start = cycle - 1
                    sent += 1
                if cycle > max_cycles:
                    raise TimeoutError(f"no result after {max_cycles} cycles ({len(got)} of {n_out})")
            ctx.set(dut.i.valid, 0)
            outputs.append(got)
            cycles.append(cycle - start)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(outputs, dtype=np.int64), cycles
