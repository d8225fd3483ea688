"""Requantizer in Amaranth's simulator against the golden round_shift/saturate, with stalls."""

import numpy as np
import pytest
from amaranth.sim import Simulator
from neurogate.hw.requant import Requantizer
from neurogate.numerics.rounding import Rounding
from neurogate.sim.golden import arith


def test_bad_widths():
    with pytest.raises(ValueError, match="out_bits must be an integer from 1 to 16, not 17"):
        Requantizer(in_bits=16, out_bits=17)


@pytest.mark.parametrize("shift,half_up,lo,hi", [(0, 1, -128, 127), (5, 1, 0, 127),
                                                 (5, 0, -128, 127), (31, 1, -8, 7)])
def test_stream_matches_golden(shift, half_up, lo, hi):
    dut = Requantizer(in_bits=32, out_bits=8)
    rng = np.random.default_rng(shift)
    values = np.concatenate([[-(2**31), 2**31 - 1, 0, -1, 1, (1 << max(shift - 1, 0)),
                              -(1 << max(shift - 1, 0))], rng.integers(-2**31, 2**31, 200)])
    rounding = Rounding.HALF_UP if half_up else Rounding.FLOOR
    expected = arith.saturate(arith.round_shift(values.astype(object), shift, rounding), lo, hi)
    got = []

    async def source(ctx):
        ctx.set(dut.shift, shift)
        ctx.set(dut.half_up, half_up)
        ctx.set(dut.lo, lo)
        ctx.set(dut.hi, hi)
        for i, v in enumerate(values):
            ctx.set(dut.i.valid, i % 3 != 2)       # idle every third cycle
            ctx.set(dut.i.payload, int(v))
            if i % 3 == 2:
                await ctx.tick()
                ctx.set(dut.i.valid, 1)
            await ctx.tick().until(dut.i.ready)
        ctx.set(dut.i.valid, 0)

    async def sink(ctx):
        cycle = 0
        while len(got) < len(values):
            ready = cycle % 4 != 1                 # back-pressure every fourth cycle
            ctx.set(dut.o.ready, ready)
            await ctx.delay(1e-10)
            if ready and ctx.get(dut.o.valid):
                got.append(ctx.get(dut.o.payload))
            await ctx.tick()
            cycle += 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(source)
    sim.add_testbench(sink)
    sim.run()
    np.testing.assert_equal(np.array(got), expected.astype(np.int64))
