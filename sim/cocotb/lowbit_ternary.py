"""cocotb regression of ``TernaryArray``: skewed random chunks and edge chunks vs golden.

Parameters come from the environment (set by the pytest wrapper from the same values
that built the RTL): ``NG_ROWS``, ``NG_COLS``, ``NG_ACT_BITS``, ``NG_ACC_BITS``,
``NG_CHUNKS``, ``NG_SEED``.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge, Timer

from neurogate.sim.cocotb.streams import start_clock_and_reset
from neurogate.sim.golden.lowbit import pack_ternary, ternary_matmul


def _signed(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) else value


class TB:
    """Owns clock, reset, the skewed operand driver and the result monitor."""

    def __init__(self, dut):
        self.dut = dut
        self.rows = int(os.environ["NG_ROWS"])
        self.cols = int(os.environ["NG_COLS"])
        self.act_bits = int(os.environ["NG_ACT_BITS"])
        self.acc_bits = int(os.environ["NG_ACC_BITS"])
        self.latency = self.cols  # TernaryArray.latency

    async def start(self):
        await start_clock_and_reset(self.dut, quiet=(self.dut.act, self.dut.weight))

    async def run(self, act, weights):
        """``act[chunks, cols]``, ``weights[chunks, cols, rows]``; returns row results."""
        words = pack_ternary(weights)
        chunks = len(act)
        mask = (1 << self.act_bits) - 1
        got = []
        for t in range(chunks + self.cols + self.latency):
            await RisingEdge(self.dut.clk)
            await Timer(1, unit="ns")
            k = t - self.latency
            if 0 <= k < chunks:
                word = self.dut.result.value.to_unsigned()
                got.append([_signed((word >> (r * self.acc_bits)) & ((1 << self.acc_bits) - 1),
                                    self.acc_bits) for r in range(self.rows)])
            a = w = 0
            for c in range(self.cols):
                k = t - c
                if 0 <= k < chunks:
                    a |= (int(act[k, c]) & mask) << (c * self.act_bits)
                    w |= int(words[k, c]) << (c * 2 * self.rows)
            self.dut.act.value = a
            self.dut.weight.value = w
        return np.array(got, dtype=np.int64)

    def expected(self, act, weights):
        return np.stack([ternary_matmul(act[k], weights[k], self.acc_bits)
                         for k in range(len(act))])


@cocotb.test()
async def random_chunks(dut):
    tb = TB(dut)
    await tb.start()
    rng = np.random.default_rng(int(os.environ.get("NG_SEED", "1")))
    chunks = int(os.environ.get("NG_CHUNKS", "64"))
    lo, hi = -(1 << (tb.act_bits - 1)), 1 << (tb.act_bits - 1)
    act = rng.integers(lo, hi, size=(chunks, tb.cols))
    weights = rng.integers(-1, 2, size=(chunks, tb.cols, tb.rows))
    np.testing.assert_equal(await tb.run(act, weights), tb.expected(act, weights))


@cocotb.test()
async def edge_chunks(dut):
    """Most negative activations against -1 (largest sums), all-zero weights, +-max."""
    tb = TB(dut)
    await tb.start()
    lo, hi = -(1 << (tb.act_bits - 1)), (1 << (tb.act_bits - 1)) - 1
    shape = (tb.cols, tb.rows)
    alternating = [lo if c % 2 == 0 else hi for c in range(tb.cols)]
    act = np.array([[lo] * tb.cols, [lo] * tb.cols, [hi] * tb.cols, alternating])
    signs = np.where(np.arange(tb.cols)[:, None] % 2 == 0, 1, -1) * np.ones(shape, int)
    weights = np.stack([np.full(shape, -1), np.zeros(shape, int), np.full(shape, -1), signs])
    np.testing.assert_equal(await tb.run(act, weights), tb.expected(act, weights))
