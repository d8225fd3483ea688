"""Requantizer in Amaranth's simulator against the golden round_shift/saturate, with stalls,
in every rounding mode; the rounding logic itself exhaustively on small values."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.sim import Simulator
from neurogate.hw.arith import IntegerArithmetic, RoundingCode
from neurogate.hw.requant import Requantizer
from neurogate.numerics.rounding import Rounding
from neurogate.sim.golden import arith

ROUNDINGS = list(Rounding)


def test_bad_widths():
    with pytest.raises(ValueError, match="out_bits must be an integer from 1 to 16, not 17"):
        Requantizer(in_bits=16, out_bits=17)


def test_rounding_codes_follow_the_rounding_order():
    assert [c.name for c in RoundingCode] == [r.name for r in ROUNDINGS]
    assert [RoundingCode.of(r).value for r in ROUNDINGS] == list(range(len(ROUNDINGS)))
    assert RoundingCode.of("half_zero") is RoundingCode.HALF_ZERO
    with pytest.raises(ValueError, match="rounding must be one of 'floor', "):
        RoundingCode.of("nearest")


def test_round_shift_logic_is_exhaustively_the_golden():
    """Every 7-bit value, every shift 0..7 and every mode chosen at run time."""
    value, shift = Signal(signed(7)), Signal(unsigned(3))
    rounding = Signal(RoundingCode)
    m = Module()
    result = Signal(signed(8))
    m.d.comb += result.eq(IntegerArithmetic.round_shift(value, shift, rounding))
    values = np.arange(-64, 64)
    got = {}

    async def bench(ctx):
        for r in ROUNDINGS:
            ctx.set(rounding, RoundingCode.of(r))
            for s in range(8):
                ctx.set(shift, s)
                for v in values:
                    ctx.set(value, int(v))
                    got[r, s, int(v)] = ctx.get(result)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    for r in ROUNDINGS:
        for s in range(8):
            want = arith.round_shift(values, s, r)
            assert [got[r, s, int(v)] for v in values] == want.tolist(), (r, s)


SETTINGS = [(0, -128, 127), (1, -128, 127), (5, 0, 127), (5, -128, 127), (31, -8, 7),
            (31, -128, 127)]


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=[r.value for r in ROUNDINGS])
@pytest.mark.parametrize("shift,lo,hi", SETTINGS)
def test_stream_matches_golden(shift, lo, hi, rounding):
    dut = Requantizer(in_bits=32, out_bits=8)
    rng = np.random.default_rng(shift)
    half = 1 << max(shift - 1, 0)
    ties = [k * (1 << shift) + d for k in (-3, -2, -1, 0, 1, 2) for d in (half, half - 1,
                                                                          half + 1, 0)]
    values = np.concatenate([[-(2**31), 2**31 - 1, -(2**31) + 1, 0, -1, 1],
                             [t for t in ties if -(2**31) <= t < 2**31],
                             rng.integers(-2**31, 2**31, 150),
                             rng.integers(-2**min(shift + 8, 31), 2**min(shift + 8, 31), 50)])
    expected = arith.saturate(arith.round_shift(values.astype(object), shift, rounding), lo, hi)
    got = []

    async def source(ctx):
        ctx.set(dut.shift, shift)
        ctx.set(dut.rounding, RoundingCode.of(rounding))
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
