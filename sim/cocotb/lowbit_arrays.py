"""cocotb regression of the skewed low-bit arrays (``TernaryArray``, ``BinaryArray``).

Parameters come from the environment (set by the pytest wrapper from the same values
that built the RTL): ``NG_KIND`` (``ternary`` or ``binary``), ``NG_ROWS``, ``NG_COLS``,
``NG_ACT_BITS`` (ternary), ``NG_WIDTH`` and ``NG_MODE`` (binary), ``NG_ACC_BITS``,
``NG_CHUNKS``, ``NG_SEED``.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge, Timer
from neurogate.sim.cocotb.streams import start_clock_and_reset
from neurogate.sim.golden.lowbit import binary_matmul, pack_bits, pack_ternary, ternary_matmul


def _signed(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) else value


class TB:
    """Owns clock, reset, the skewed operand driver and the result monitor.

    ``act[chunks, cols, ...]`` and ``weights[chunks, cols, rows, ...]`` are the golden
    model's operands; ``words`` turns them into per-column port words."""

    def __init__(self, dut):
        self.dut = dut
        self.kind = os.environ["NG_KIND"]
        self.rows = int(os.environ["NG_ROWS"])
        self.cols = int(os.environ["NG_COLS"])
        self.acc_bits = int(os.environ["NG_ACC_BITS"])
        if self.kind == "ternary":
            self.act_bits = int(os.environ["NG_ACT_BITS"])
            self.weight_bits = 2 * self.rows
        else:
            self.width, self.mode = int(os.environ["NG_WIDTH"]), os.environ["NG_MODE"]
            self.act_bits, self.weight_bits = self.width, self.width * self.rows
        self.latency = self.cols  # the arrays' ``latency``

    async def start(self):
        await start_clock_and_reset(self.dut, quiet=(self.dut.act, self.dut.weight))

    def words(self, act, weights):
        """Per-chunk, per-column port words: (act words, weight words)."""
        if self.kind == "ternary":
            return act & ((1 << self.act_bits) - 1), pack_ternary(weights)
        per_row = pack_bits(weights)                       # [chunks, cols, rows]
        weight_words = sum(per_row[..., r] << (r * self.width) for r in range(self.rows))
        return pack_bits(act), weight_words

    def expected(self, act, weights):
        if self.kind == "ternary":
            return np.stack([ternary_matmul(act[k], weights[k], self.acc_bits)
                             for k in range(len(act))])
        return np.stack([binary_matmul(act[k], weights[k], self.mode, self.acc_bits)
                         for k in range(len(act))])

    async def run(self, act, weights):
        act_words, weight_words = self.words(act, weights)
        chunks = len(act)
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
                    a |= int(act_words[k, c]) << (c * self.act_bits)
                    w |= int(weight_words[k, c]) << (c * self.weight_bits)
            self.dut.act.value = a
            self.dut.weight.value = w
        np.testing.assert_equal(np.array(got, dtype=np.int64), self.expected(act, weights))

    def random_operands(self, rng, chunks: int):
        if self.kind == "ternary":
            lo, hi = -(1 << (self.act_bits - 1)), 1 << (self.act_bits - 1)
            return (rng.integers(lo, hi, size=(chunks, self.cols)),
                    rng.integers(-1, 2, size=(chunks, self.cols, self.rows)))
        return (rng.integers(0, 2, size=(chunks, self.cols, self.width)),
                rng.integers(0, 2, size=(chunks, self.cols, self.rows, self.width)))

    def edge_operands(self):
        """Largest sums of either sign, zero weights / all-off activations, alternation."""
        if self.kind == "ternary":
            lo, hi = -(1 << (self.act_bits - 1)), (1 << (self.act_bits - 1)) - 1
            shape = (self.cols, self.rows)
            alternating = [lo if c % 2 == 0 else hi for c in range(self.cols)]
            act = np.array([[lo] * self.cols, [lo] * self.cols, [hi] * self.cols, alternating])
            signs = np.where(np.arange(self.cols)[:, None] % 2 == 0, 1, -1) * np.ones(shape, int)
            weights = np.stack([np.full(shape, -1), np.zeros(shape, int), np.full(shape, -1),
                                signs])
            return act, weights
        a_shape = (self.cols, self.width)
        w_shape = (self.cols, self.rows, self.width)
        act = np.stack([np.ones(a_shape, int), np.ones(a_shape, int), np.zeros(a_shape, int),
                        np.arange(self.cols * self.width).reshape(a_shape) % 2])
        weights = np.stack([np.ones(w_shape, int), np.zeros(w_shape, int),
                            np.ones(w_shape, int),
                            np.arange(self.cols * self.rows * self.width).reshape(w_shape) % 2])
        return act, weights


@cocotb.test()
async def random_chunks(dut):
    tb = TB(dut)
    await tb.start()
    rng = np.random.default_rng(int(os.environ.get("NG_SEED", "1")))
    await tb.run(*tb.random_operands(rng, int(os.environ.get("NG_CHUNKS", "64"))))


@cocotb.test()
async def edge_chunks(dut):
    tb = TB(dut)
    await tb.start()
    await tb.run(*tb.edge_operands())
