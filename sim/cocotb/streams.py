"""valid/ready stream driver and monitor for Amaranth ``lib.stream`` ports in cocotb.

Amaranth flattens a stream port ``x`` into ``x__payload``, ``x__valid``, ``x__ready``.
A transfer happens on a rising edge where valid and ready were both high; both sides
sample in the ReadOnly phase before that edge.
"""

from __future__ import annotations

import random

from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge


async def start_clock_and_reset(dut, *, quiet=(), cycles: int = 2, period_ns: int = 10) -> None:
    """Start ``dut.clk``, hold ``dut.rst`` for ``cycles`` cycles with the ``quiet`` inputs at 0."""
    Clock(dut.clk, period_ns, unit="ns").start()
    dut.rst.value = 1
    for signal in quiet:
        signal.value = 0
    await ClockCycles(dut.clk, cycles)
    dut.rst.value = 0


class StreamDriver:
    """Drives words into ``<name>__payload`` with optional idle cycles between them.

    Cycle numbers come from ``counter`` (a ``CycleCounter``)."""

    def __init__(self, dut, name: str, clock, counter, *, idle: float = 0.0, seed: int = 0):
        self.counter = counter
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.clock, self.idle, self.rng = clock, idle, random.Random(seed)
        self.valid.value = 0

    async def send(self, word: int) -> int:
        """Send one word; return the cycle of its transfer."""
        while self.idle and self.rng.random() < self.idle:
            self.valid.value = 0
            await RisingEdge(self.clock)
        self.valid.value = 1
        self.payload.value = word
        while True:
            await ReadOnly()
            fired = int(self.ready.value) == 1
            cycle = self.counter.cycle
            await RisingEdge(self.clock)
            if fired:
                break
        self.valid.value = 0
        return cycle


class StreamMonitor:
    """Collects words from ``<name>__payload``, holding ready low with probability ``stall``.

    ``on_word(word, cycle)`` is called for each transfer with the cycle count of ``counter``.
    """

    def __init__(self, dut, name: str, clock, counter, *, stall: float = 0.0, seed: int = 1):
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.clock, self.counter, self.stall = clock, counter, stall
        self.rng = random.Random(seed)
        self.ready.value = 0

    async def run(self, on_word) -> None:
        while True:
            ready = not (self.stall and self.rng.random() < self.stall)
            self.ready.value = int(ready)
            await ReadOnly()
            if ready and int(self.valid.value) == 1:
                on_word(self.payload.value.to_unsigned(), self.counter.cycle)
            await RisingEdge(self.clock)


class CycleCounter:
    """Counts rising edges since start (``cycle`` is the current cycle number)."""

    def __init__(self, clock):
        self.clock, self.cycle = clock, 0

    async def run(self) -> None:
        while True:
            await RisingEdge(self.clock)
            self.cycle += 1
