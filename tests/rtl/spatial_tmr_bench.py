"""cocotb bench: single-bit upsets injected into one copy of a triplicated register on every
clock (in the middle of the clock, between two edges) while vectors stream through a
``--tmr`` spatial design at one per clock.

Environment: NEUROGATE_DESIGN (the build folder), NEUROGATE_VECTORS, NEUROGATE_SEED,
NEUROGATE_RESULTS (a JSON file the bench writes: outputs compared, mismatches,
injections, injections the ``upset`` flag reported, and deposits into copies Verilator had
folded into constants, which are not counted as upsets).
"""

import json
import os
import random
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from neurogate.compiler.flows.design_folder import load_graph
from spatial_vectors import golden_vectors, output_elements


def handle(dut, path: str):
    for part in path.split("."):
        dut = getattr(dut, part)
    return dut


@cocotb.test()
async def upsets_in_one_copy_are_masked_and_reported(dut):
    folder = Path(os.environ["NEUROGATE_DESIGN"])
    graph = load_graph(folder)
    count = int(os.environ["NEUROGATE_VECTORS"])
    rng = random.Random(int(os.environ["NEUROGATE_SEED"]))
    registers = json.loads((folder / "tmr_registers.json").read_text())
    payloads, expected = golden_vectors(graph, count, seed=rng.randrange(1 << 30))

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.i__valid.value = 0
    dut.o__ready.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    received, injected, reported, folded, sent, missed = [], 0, 0, 0, 0, []
    while len(received) < count:
        if sent < count:
            dut.i__payload.value = payloads[sent]
            dut.i__valid.value = 1
        else:
            dut.i__valid.value = 0
        await ReadOnly()
        if int(dut.o__valid.value):
            received.append(int(dut.o__payload.value))
        # The upset strikes in the middle of the clock: one bit of one copy.
        await FallingEdge(dut.clk)
        copies = registers[rng.randrange(len(registers))]
        target = handle(dut, copies[rng.randrange(3)])
        flipped = int(target.value) ^ (1 << rng.randrange(len(target)))
        target.value = flipped
        await ReadOnly()
        # A copy Verilator folded into a constant (a register whose input never changes)
        # takes no deposit: it is no flip-flop, and no upset.
        if int(target.value) == flipped:
            injected += 1
            seen = int(dut.upset.value)
            reported += seen
            if not seen:
                missed.append([target._path, sent, len(received)])
        else:
            folded += 1
        await RisingEdge(dut.clk)
        sent += sent < count
    await RisingEdge(dut.clk)
    await ReadOnly()
    counted = int(dut.upset_count.value)
    got = output_elements(graph, received)
    mismatches = int(np.sum(got != expected))
    Path(os.environ["NEUROGATE_RESULTS"]).write_text(json.dumps({
        "vectors": count, "elements": int(expected.size), "mismatches": mismatches,
        "injected": injected, "reported": reported, "counted": counted, "folded": folded,
        "missed": missed[:20]}))
    assert mismatches == 0, f"{mismatches} output elements differ under injected upsets"
    assert reported == injected, f"the upset flag saw {reported} of {injected} upsets"
    assert counted == injected, f"upset_count counted {counted} of {injected} upsets"
