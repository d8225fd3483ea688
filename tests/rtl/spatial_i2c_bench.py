"""cocotb bench: a spatial network with weights in registers, rewritten over I2C.

cocotbext-i2c's I2cMaster drives the open-drain bus of the bench top (``scl_o``/``sda_o``,
wired-AND ``scl``/``sda``).  The bench streams vectors and compares them with the golden
model of the compiled weights, writes a second set of weights and biases through I2C (one
write, auto-incrementing register addresses), reads every byte back, streams again and
compares with the golden model of the new weights (same RTL), then writes past the end
of the register map and checks the NACK and the error flag.

Environment: NEUROGATE_GRAPHS (a JSON list of two graph.json paths: the compiled weights
and the new ones), NEUROGATE_I2C_ADDRESS, NEUROGATE_VECTORS, NEUROGATE_RESULTS.
"""

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, Timer
from cocotbext.i2c import I2cMaster
from neurogate.compiler import serialize
from neurogate.compiler.backends.spatial.weights import weight_bytes
from spatial_vectors import golden_vectors, output_elements

SPEED = 1e6


async def stream(dut, graph, count: int, seed: int) -> int:
    """``count`` vectors at one per clock; returns the output elements that differ."""
    payloads, expected = golden_vectors(graph, count, seed)
    received, sent = [], 0
    await RisingEdge(dut.clk)      # inputs change just after an edge (the I2C master's
    #                                timers leave the bench anywhere in a clock)
    while len(received) < count:
        dut.i__valid.value = int(sent < count)
        if sent < count:
            dut.i__payload.value = payloads[sent]
        await ReadOnly()
        if int(dut.o__valid.value):
            received.append(int(dut.o__payload.value))
        await RisingEdge(dut.clk)
        sent += sent < count
    dut.i__valid.value = 0
    got = output_elements(graph, received)
    return int(np.sum(got != expected))


@cocotb.test()
async def weights_rewritten_over_i2c(dut):
    first, second = [serialize.loads(Path(p).read_text())
                     for p in json.loads(os.environ["NEUROGATE_GRAPHS"])]
    address = int(os.environ["NEUROGATE_I2C_ADDRESS"])
    count = int(os.environ["NEUROGATE_VECTORS"])
    dut.scl_o.value = 1
    dut.sda_o.value = 1
    dut.i__valid.value = 0
    dut.o__ready.value = 1
    await Timer(3, unit="ns")
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    results = {"before": await stream(dut, first, count, seed=1)}

    master = I2cMaster(sda=dut.sda, sda_o=dut.sda_o, scl=dut.scl, scl_o=dut.scl_o,
                       speed=SPEED)
    image = weight_bytes(second)
    await master.write(address, bytes([0, 0]) + image)
    await master.send_stop()
    await master.write(address, bytes([0, 0]))
    back = await master.read(address, len(image))
    await master.send_stop()
    results["read_back_equal"] = bytes(back) == image
    results["after"] = await stream(dut, second, count, seed=2)

    end = len(image)
    await master.send_start()
    acks = [not await master.send_byte(address << 1),
            not await master.send_byte(end >> 8), not await master.send_byte(end & 0xFF),
            not await master.send_byte(0x5A)]
    await master.send_stop()
    await ClockCycles(dut.clk, 10)
    results["past_end_acks"] = acks
    results["error_count"] = int(dut.i2c_error_count.value)
    results["bytes"] = len(image)
    Path(os.environ["NEUROGATE_RESULTS"]).write_text(json.dumps(results))
    assert results["before"] == 0 and results["after"] == 0
    assert results["read_back_equal"]
    assert acks == [True, True, True, False], f"ACKs {acks}: the byte past the map needs a NACK"
    assert results["error_count"] == 1
