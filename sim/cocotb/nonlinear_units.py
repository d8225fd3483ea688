"""cocotb regression of the streaming non-linear units against their golden models.

Row units (``Softmax``, ``Norm``: ``data``/``last`` payloads) are checked row by row;
elementwise units (``Activation``, ``IGelu``: bare payloads) element by element.  The
pytest wrapper sets, from the object that built the RTL: ``NG_UNIT`` (``softmax``,
``norm``, ``activation``, ``igelu``), ``NG_CONFIG`` (the config's fields as JSON),
``NG_SOLVER_CYCLES`` (row units), ``NG_ROWS``, ``NG_SEED``.
"""

from __future__ import annotations

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge, Timer
from neurogate.numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig, SoftmaxConfig
from neurogate.sim.cocotb.streams import start_clock_and_reset
from neurogate.sim.golden.nonlinear import activation, igelu, norm_row, softmax_row

# unit -> (config class, golden function of one row or of an element array, framed)
UNITS = {
    "softmax": (SoftmaxConfig, softmax_row, True),
    "norm": (NormConfig, norm_row, True),
    "activation": (ActivationConfig, activation, False),
    "igelu": (IGeluConfig, igelu, False),
}


def _out_format(unit: str, cfg) -> tuple[int, bool]:
    """(payload data width, signed)"""
    if unit == "softmax":
        return cfg.out_width, False
    if unit == "activation" and cfg.function == "sigmoid":
        return cfg.out_bits, False
    return cfg.out_bits, True


class TB:
    """Clock, reset, a driver offering inputs with probability ``p_valid``, a monitor
    with random ``o.ready``, and an in-order scoreboard against the golden model."""

    def __init__(self, dut, seed: int):
        self.dut = dut
        self.unit = os.environ["NG_UNIT"]
        config_cls, self.golden, self.framed = UNITS[self.unit]
        self.cfg = config_cls(**json.loads(os.environ["NG_CONFIG"]))
        self.out_bits, self.out_signed = _out_format(self.unit, self.cfg)
        self.rng = np.random.default_rng(seed)

    @property
    def in_range(self) -> tuple[int, int]:
        return -(1 << (self.cfg.in_bits - 1)), (1 << (self.cfg.in_bits - 1)) - 1

    async def start(self):
        await start_clock_and_reset(self.dut, quiet=(self.dut.i__valid, self.dut.o__ready))

    async def run(self, rows, *, p_valid: float, p_ready: float) -> list[int]:
        """Send ``rows`` (an elementwise unit gets them concatenated) and check every
        output; returns the cycle number of every output transfer."""
        in_bits, out_bits = self.cfg.in_bits, self.out_bits
        queue = [(int(rows[r][k]), k == len(rows[r]) - 1)
                 for r in range(len(rows)) for k in range(len(rows[r]))]
        expected = [list(self.golden(self.cfg, row)) for row in rows]
        flat = [v for row in expected for v in row]
        sent, outputs, row_ends, times, cycle = 0, [], [], [], 0
        while len(outputs) < len(flat):
            await RisingEdge(self.dut.clk)
            await Timer(1, unit="ns")
            offer = sent < len(queue) and self.rng.random() < p_valid
            if offer:
                value, last = queue[sent]
                word = value & ((1 << in_bits) - 1)
                self.dut.i__payload.value = word | (last << in_bits) if self.framed else word
            self.dut.i__valid.value = int(offer)
            ready = self.rng.random() < p_ready
            self.dut.o__ready.value = int(ready)
            # Let i.ready settle (it may follow o.ready), then note the transfers that
            # the coming edge makes.
            await Timer(1, unit="ns")
            if offer and int(self.dut.i__ready.value):
                sent += 1
            if ready and int(self.dut.o__valid.value):
                word = self.dut.o__payload.value.to_unsigned()
                value = word & ((1 << out_bits) - 1)
                if self.out_signed and value >> (out_bits - 1):
                    value -= 1 << out_bits
                outputs.append(value)
                times.append(cycle)
                if self.framed and word >> out_bits:
                    row_ends.append(len(outputs))
            cycle += 1
            assert cycle < 100 * (len(flat) + 100), "unit stalled"
        for r, want in enumerate(expected):
            start = sum(len(row) for row in expected[:r])
            np.testing.assert_equal(outputs[start:start + len(want)], want,
                                    err_msg=f"{self.unit} row {r}: {list(rows[r])}")
        if self.framed:
            assert row_ends == list(np.cumsum([len(row) for row in expected])), \
                f"{self.unit}: rows framed at {row_ends}"
        return times

    def random_rows(self, count: int) -> list[list[int]]:
        lo, hi = self.in_range
        if not self.framed:
            return [list(self.rng.integers(lo, hi + 1, size=64)) for _ in range(count)]
        return [list(self.rng.integers(lo, hi + 1, size=self.rng.integers(1, self.cfg.max_len + 1)))
                for _ in range(count)]

    def edge_rows(self) -> list[list[int]]:
        lo, hi = self.in_range
        if not self.framed:
            return [list(range(lo, hi + 1))]            # every input value
        n = self.cfg.max_len
        return [[lo] * n, [hi] * n, [lo] * (n - 1) + [hi], [hi] + [lo] * (n - 1), [0], [lo],
                [lo, hi], [hi, hi - 1, lo], [0] * n, [1] + [0] * (n - 1)]


@cocotb.test()
async def random_inputs_with_backpressure(dut):
    tb = TB(dut, int(os.environ.get("NG_SEED", "1")))
    await tb.start()
    await tb.run(tb.random_rows(int(os.environ.get("NG_ROWS", "40"))), p_valid=0.7, p_ready=0.6)


@cocotb.test()
async def edge_inputs_full_rate(dut):
    """Edge rows back to back, then (row units) rows of ``solver_cycles`` elements: those
    must leave at one element per clock with no bubble."""
    tb = TB(dut, 2)
    await tb.start()
    await tb.run(tb.edge_rows(), p_valid=1.0, p_ready=1.0)
    if tb.framed:
        n = min(int(os.environ["NG_SOLVER_CYCLES"]), tb.cfg.max_len)
        lo, hi = tb.in_range
        rows = [list(tb.rng.integers(lo, hi + 1, size=n)) for _ in range(6)]
        times = await tb.run(rows, p_valid=1.0, p_ready=1.0)
        if n == int(os.environ["NG_SOLVER_CYCLES"]):
            assert times[-1] - times[0] == len(times) - 1, "bubbles in a full-rate stream"
    else:
        times = await tb.run(tb.edge_rows(), p_valid=1.0, p_ready=1.0)
        assert times[-1] - times[0] == len(times) - 1, "bubbles in a full-rate stream"
