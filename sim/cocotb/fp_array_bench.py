"""cocotb bench of ``FloatSystolicArray`` against ``golden.fp.matmul_chain`` (bit-exact).

Parameters come from the environment (set by ``tests/hw/fp/test_fp_array.py``):
``FP_IN``, ``FP_ACC`` (preset names), ``FP_NORM`` (``lz_window,guard_bits,sticky``, with
``-`` for no window), ``FP_ROWS``, ``FP_COLS``, ``FP_VECTORS``, ``FP_SEED``.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge
from neurogate.numerics.floats import PRESETS, ApproxNorm
from neurogate.sim.golden import fp as gfp


def config():
    lz, guard, sticky = os.environ["FP_NORM"].split(",")
    norm = ApproxNorm(lz_window=None if lz == "-" else int(lz), guard_bits=int(guard),
                      sticky=sticky == "1")
    return (PRESETS[os.environ["FP_IN"]], PRESETS[os.environ["FP_ACC"]], norm,
            int(os.environ["FP_ROWS"]), int(os.environ["FP_COLS"]),
            int(os.environ["FP_VECTORS"]), int(os.environ["FP_SEED"]))


def pack(codes, width: int) -> int:
    return sum(int(c) << (width * n) for n, c in enumerate(codes))


def unpack(value: int, width: int, count: int) -> list[int]:
    return [(value >> (width * n)) & ((1 << width) - 1) for n in range(count)]


def operands(fmt, shape, rng):
    """Activations/weights like a layer's: normal values, some zeros, a few specials."""
    x = rng.standard_normal(shape) * 2.0 ** rng.integers(-4, 4, shape)
    codes = gfp.from_float(x, fmt)
    special = rng.random(shape)
    codes = np.where(special < 0.05, 0, codes)
    codes = np.where((special > 0.05) & (special < 0.07), rng.integers(0, 1 << fmt.width, shape),
                     codes)
    return codes.astype(np.int64)


class TB:
    """Owns clock, reset, the weight/input drivers and the output monitor."""

    def __init__(self, dut, in_fmt, acc_fmt, rows, cols, rng):
        self.dut, self.in_fmt, self.acc_fmt = dut, in_fmt, acc_fmt
        self.rows, self.cols, self.rng = rows, cols, rng
        self.received: list[list[int]] = []

    async def reset(self):
        cocotb.start_soon(Clock(self.dut.clk, 10, unit="ns").start())
        for name in ("w__valid", "i__valid", "o__ready"):
            getattr(self.dut, name).value = 0
        self.dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0

    async def load_weights(self, weights):
        for k in range(self.rows):
            self.dut.w__payload.value = pack(weights[k], self.in_fmt.width)
            self.dut.w__valid.value = 1
            await RisingEdge(self.dut.clk)
        self.dut.w__valid.value = 0

    async def send(self, vectors, gap_prob):
        for vec in vectors:
            while self.rng.random() < gap_prob:
                self.dut.i__valid.value = 0
                await RisingEdge(self.dut.clk)
            self.dut.i__payload.value = pack(vec, self.in_fmt.width)
            self.dut.i__valid.value = 1
            while True:
                await ReadOnly()  # ready settles after the monitor's o.ready of this cycle
                fired = bool(self.dut.i__ready.value)
                await RisingEdge(self.dut.clk)
                if fired:
                    break
        self.dut.i__valid.value = 0

    async def collect(self, count, ready_prob):
        while len(self.received) < count:
            ready = int(self.rng.random() < ready_prob)
            self.dut.o__ready.value = ready
            await ReadOnly()
            if ready and self.dut.o__valid.value:
                self.received.append(unpack(self.dut.o__payload.value.to_unsigned(),
                                            self.acc_fmt.width, self.cols))
            await RisingEdge(self.dut.clk)


async def run(dut, gap_prob, ready_prob, seed_offset):
    in_fmt, acc_fmt, norm, rows, cols, count, seed = config()
    rng = np.random.default_rng(seed + seed_offset)
    tb = TB(dut, in_fmt, acc_fmt, rows, cols, random.Random(seed + seed_offset))
    weights = operands(in_fmt, (rows, cols), rng)
    acts = operands(in_fmt, (count, rows), rng)
    await tb.reset()
    await tb.load_weights(weights)
    sender = cocotb.start_soon(tb.send(acts, gap_prob))
    await tb.collect(count, ready_prob)
    await sender
    want = gfp.matmul_chain(acts, weights, in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm)
    got = np.array(tb.received, dtype=np.int64)
    np.testing.assert_equal(got, want)


@cocotb.test()
async def full_rate(dut):
    """Back-to-back vectors, output always ready."""
    await run(dut, gap_prob=0.0, ready_prob=1.0, seed_offset=0)


@cocotb.test()
async def idle_and_backpressure(dut):
    """Random input gaps and random output back-pressure."""
    await run(dut, gap_prob=0.3, ready_prob=0.6, seed_offset=1)
