"""cocotb regression of ``OutputScale`` against golden ``output_scale``.

Parameters from the environment (the pytest wrapper sets them from the values that
built the RTL): ``NG_LANES``, ``NG_ACC_BITS``, ``NG_SCALE_BITS``, ``NG_OUT_BITS``,
``NG_PER_CHANNEL``, ``NG_SEED``.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge
from neurogate.hw.arith import RoundingCode
from neurogate.numerics.rounding import Rounding
from neurogate.sim.cocotb.streams import (
    CycleCounter,
    StreamDriver,
    StreamMonitor,
    start_clock_and_reset,
)
from neurogate.sim.golden.lowbit import output_scale


def _pack(values, bits: int) -> int:
    return sum((int(v) & ((1 << bits) - 1)) << (k * bits) for k, v in enumerate(values))


def _unpack(word: int, bits: int, count: int) -> list[int]:
    out = []
    for k in range(count):
        v = (word >> (k * bits)) & ((1 << bits) - 1)
        out.append(v - (1 << bits) if v >> (bits - 1) else v)
    return out


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.lanes = int(os.environ["NG_LANES"])
        self.acc_bits = int(os.environ["NG_ACC_BITS"])
        self.scale_bits = int(os.environ["NG_SCALE_BITS"])
        self.out_bits = int(os.environ["NG_OUT_BITS"])
        self.per_channel = os.environ["NG_PER_CHANNEL"] == "1"
        self.product_bits = self.acc_bits + self.scale_bits
        self.rng = np.random.default_rng(int(os.environ.get("NG_SEED", "1")))

    def limits(self, bits):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    async def run(self, acc, scale, bias, shift, rounding, lo, hi, *, idle, stall):
        """Stream ``acc[vectors, lanes]`` through with the given quasi-static settings."""
        dut = self.dut
        channels = self.lanes if self.per_channel else 1
        used = slice(0, channels)                 # per-tensor: lane 0's values only
        dut.scale.value = _pack(scale[used], self.scale_bits)
        dut.bias.value = _pack(bias[used], self.product_bits)
        dut.shift.value, dut.rounding.value = shift, RoundingCode.of(rounding).value
        dut.lo.value, dut.hi.value = _pack([lo], self.out_bits), _pack([hi], self.out_bits)
        counter = CycleCounter(dut.clk)
        cocotb.start_soon(counter.run())
        got = []
        monitor = StreamMonitor(dut, "o", dut.clk, counter, stall=stall, seed=3)
        task = cocotb.start_soon(monitor.run(
            lambda word, _cycle: got.append(_unpack(word, self.out_bits, self.lanes))))
        driver = StreamDriver(dut, "i", dut.clk, counter, idle=idle, seed=4)
        for vector in acc:
            await driver.send(_pack(vector, self.acc_bits))
        for _ in range(200):
            if len(got) == len(acc):
                break
            await RisingEdge(dut.clk)
        task.cancel()
        s = np.array(scale[used]) if self.per_channel else int(scale[0])
        b = np.array(bias[used]) if self.per_channel else int(bias[0])
        want = output_scale(np.array(acc), s, b, shift, rounding, lo, hi)
        np.testing.assert_equal(np.array(got, dtype=np.int64), want)


@cocotb.test()
async def random_vectors_with_backpressure(dut):
    tb = TB(dut)
    await start_clock_and_reset(dut, quiet=(dut.i__valid, dut.o__ready))
    a_lo, a_hi = tb.limits(tb.acc_bits)
    s_lo, s_hi = tb.limits(tb.scale_bits)
    acc = tb.rng.integers(a_lo, a_hi + 1, size=(300, tb.lanes))
    scale = tb.rng.integers(s_lo, s_hi + 1, size=tb.lanes)
    reach = 1 << (tb.product_bits - 3)
    bias = tb.rng.integers(-reach, reach, size=tb.lanes)
    o_lo, o_hi = tb.limits(tb.out_bits)
    shift = tb.product_bits - tb.out_bits - 2
    rounding = list(Rounding)[int(tb.rng.integers(len(Rounding)))]
    await tb.run(acc, scale, bias, shift, rounding, o_lo, o_hi, idle=0.3, stall=0.4)


@cocotb.test()
async def edge_vectors(dut):
    """Most negative times most negative (the largest product), shift 0 and the widest
    shift, a narrow clamp window; every rounding mode."""
    tb = TB(dut)
    await start_clock_and_reset(dut, quiet=(dut.i__valid, dut.o__ready))
    a_lo, a_hi = tb.limits(tb.acc_bits)
    s_lo, s_hi = tb.limits(tb.scale_bits)
    o_lo, o_hi = tb.limits(tb.out_bits)
    acc = np.array([[a_lo] * tb.lanes, [a_hi] * tb.lanes, [0] * tb.lanes, [-1] * tb.lanes,
                    [1] * tb.lanes, [a_lo, a_hi] * (tb.lanes // 2) + [0] * (tb.lanes % 2)])
    for scale, shift, lo, hi in (
            ([s_lo] * tb.lanes, tb.product_bits - 1, o_lo, o_hi),
            ([s_hi] * tb.lanes, 0, o_lo, o_hi),
            ([s_lo] * tb.lanes, 3, -3, 5),
            ([-1] * tb.lanes, 1, o_lo, o_hi)):
        for rounding in Rounding:
            await tb.run(acc, scale, [0] * tb.lanes, shift, rounding, lo, hi, idle=0.0,
                         stall=0.0)
