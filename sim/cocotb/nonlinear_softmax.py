"""cocotb regression of ``Softmax``: random and edge rows, idle cycles, back-pressure.

Parameters from the environment (the pytest wrapper sets them from the config that
built the RTL): ``NG_IN_BITS``, ``NG_IN_FRAC``, ``NG_OUT_BITS``, ``NG_MAX_LEN``,
``NG_METHOD``, ``NG_BINARIZE``, ``NG_ROWS``, ``NG_SEED``.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge, Timer

from neurogate.hw.nonlinear.config import SoftmaxConfig
from neurogate.sim.cocotb.streams import start_clock_and_reset
from neurogate.sim.golden.nonlinear import softmax_row


class TB:
    """Clock, reset, a row driver with idle cycles, a monitor with random ``o.ready``
    and an in-order scoreboard (each row's outputs vs the golden row)."""

    def __init__(self, dut, seed: int):
        self.dut = dut
        self.cfg = SoftmaxConfig(
            in_bits=int(os.environ["NG_IN_BITS"]), in_frac=int(os.environ["NG_IN_FRAC"]),
            out_bits=int(os.environ["NG_OUT_BITS"]), max_len=int(os.environ["NG_MAX_LEN"]),
            method=os.environ["NG_METHOD"], binarize=os.environ["NG_BINARIZE"] == "1")
        self.rng = np.random.default_rng(seed)
        self.rows_checked = 0

    async def start(self):
        await start_clock_and_reset(self.dut, quiet=(self.dut.i__valid, self.dut.o__ready))

    async def run(self, rows, *, p_valid: float, p_ready: float):
        in_bits = self.cfg.in_bits
        queue = [(r, k) for r in range(len(rows)) for k in range(len(rows[r]))]
        sent, current, cycles = 0, [], 0
        while self.rows_checked < len(rows):
            await RisingEdge(self.dut.clk)
            await Timer(1, unit="ns")
            # Handshake outcome of the cycle that just ended is read before new values.
            offer = sent < len(queue) and self.rng.random() < p_valid
            ready = self.rng.random() < p_ready
            i_ready = int(self.dut.i__ready.value)
            o_valid = int(self.dut.o__valid.value)
            payload = self.dut.o__payload.value.to_unsigned()
            width = self.cfg.out_width
            if offer:
                r, k = queue[sent]
                data = int(rows[r][k]) & ((1 << in_bits) - 1)
                last = int(k == len(rows[r]) - 1)
                self.dut.i__payload.value = data | (last << in_bits)
            self.dut.i__valid.value = int(offer)
            self.dut.o__ready.value = int(ready)
            if offer and i_ready:
                sent += 1
            if o_valid and ready:
                current.append(payload & ((1 << width) - 1))
                if payload >> width:
                    self.check(rows[self.rows_checked], current)
                    current = []
            cycles += 1
            assert cycles < 100 * sum(len(r) + 40 for r in rows), "unit stalled"

    def check(self, row, got):
        np.testing.assert_equal(got, softmax_row(self.cfg, row),
                                err_msg=f"row {self.rows_checked}: {list(row)}")
        self.rows_checked += 1


def _edge_rows(cfg):
    lo, hi = -(1 << (cfg.in_bits - 1)), (1 << (cfg.in_bits - 1)) - 1
    n = cfg.max_len
    return [[lo] * n, [hi] * n, [lo] * (n - 1) + [hi], [hi] + [lo] * (n - 1), [0], [lo],
            [lo, hi], [hi, hi - 1, lo]]


@cocotb.test()
async def random_rows_with_backpressure(dut):
    tb = TB(dut, int(os.environ.get("NG_SEED", "1")))
    await tb.start()
    lo, hi = -(1 << (tb.cfg.in_bits - 1)), 1 << (tb.cfg.in_bits - 1)
    rows = [list(tb.rng.integers(lo, hi, size=tb.rng.integers(1, tb.cfg.max_len + 1)))
            for _ in range(int(os.environ.get("NG_ROWS", "40")))]
    await tb.run(rows, p_valid=0.7, p_ready=0.6)


@cocotb.test()
async def edge_rows_full_rate(dut):
    tb = TB(dut, 2)
    await tb.start()
    await tb.run(_edge_rows(tb.cfg), p_valid=1.0, p_ready=1.0)
