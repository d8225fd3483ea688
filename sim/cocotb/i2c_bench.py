"""cocotb regression of ``I2CTarget`` + ``RegisterFile`` driven by cocotbext-i2c's I2cMaster.

The top (tests/hw/test_i2c.py, ``I2CRegisters``) models the open-drain bus: the master
drives ``scl_o``/``sda_o`` (1 releases the line) and reads the wired-AND lines
``scl``/``sda``, the connection cocotbext-i2c documents (``sda``/``sda_o``,
``scl``/``scl_o``).  ``I2cMaster.write`` and ``read`` only log a NACK; the ACK bits are
checked through ``send_byte``, which returns True for a NACK.

Parameters from the environment: ``NG_I2C_ADDRESS``, ``NG_I2C_BASE``, ``NG_I2C_FIELDS``
(JSON ``[[name, width, signed], ...]``), ``NG_I2C_INIT`` (JSON ``{name: value}``),
``NG_I2C_SPEEDS`` (comma-separated I2cMaster ``speed`` values; its SCL period is two bit
times).  The system clock is 100 MHz, started 3 ns off the master's time grid.
"""

from __future__ import annotations

import json
import os
import random
from types import SimpleNamespace

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Timer
from cocotbext.i2c import I2cMaster
from neurogate.sim.i2c_model import I2CTargetModel, RegisterMapModel

CLOCK_NS = 10


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.address = int(os.environ["NG_I2C_ADDRESS"])
        self.base = int(os.environ["NG_I2C_BASE"])
        self.fields = [(name, SimpleNamespace(width=width, signed=bool(is_signed)))
                       for name, width, is_signed in json.loads(os.environ["NG_I2C_FIELDS"])]
        init = json.loads(os.environ["NG_I2C_INIT"])
        self.regs = RegisterMapModel(self.fields, base=self.base, init=init)
        self.model = I2CTargetModel(self.address, self.regs)
        self.speeds = [float(s) for s in os.environ["NG_I2C_SPEEDS"].split(",")]

    async def reset(self):
        dut = self.dut
        dut.scl_o.value = 1
        dut.sda_o.value = 1
        await Timer(3, unit="ns")
        Clock(dut.clk, CLOCK_NS, unit="ns").start()
        dut.rst.value = 1
        await ClockCycles(dut.clk, 2)
        dut.rst.value = 0
        await ClockCycles(dut.clk, 2)

    def master(self, speed):
        dut = self.dut
        return I2cMaster(sda=dut.sda, sda_o=dut.sda_o, scl=dut.scl, scl_o=dut.scl_o,
                         speed=speed)

    def field_values(self):
        values = {}
        for name, shape in self.fields:
            value = getattr(self.dut, name).value
            values[name] = value.to_signed() if shape.signed else value.to_unsigned()
        return values

    def expected_fields(self):
        return {name: self.regs.field(name) for name, _ in self.fields}

    def flags(self):
        return int(self.dut.error.value), int(self.dut.error_count.value)

    async def write_checked(self, master, register, data, *, device=None):
        """``S, device+W, register, data, P`` byte by byte; assert each ACK bit against
        the model (``send_byte`` returns True for a NACK)."""
        device = self.address if device is None else device
        await master.send_start()
        self.model.start()
        for byte in [device << 1, register >> 8, register & 0xFF, *data]:
            nack = await master.send_byte(byte)
            assert (not nack) == self.model.write_byte(byte), (hex(register), byte)
        await master.send_stop()
        self.model.stop()


@cocotb.test()
async def writes_and_reads_back(dut):
    """Every register written through I2cMaster.write, read back with a repeated START,
    at each speed; the field outputs and the bytes read match the model."""
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(5)
    size = tb.regs.end - tb.base
    for speed in tb.speeds:
        master = tb.master(speed)
        data = [rng.randrange(256) for _ in range(size)]
        await master.write(tb.address, [tb.base >> 8, tb.base & 0xFF, *data])
        await master.send_stop()
        tb.model.start()
        for byte in [tb.address << 1, tb.base >> 8, tb.base & 0xFF, *data]:
            assert tb.model.write_byte(byte)
        tb.model.stop()
        assert tb.field_values() == tb.expected_fields(), speed

        # Point at the second byte, repeated START, read to the end of the map.
        register = tb.base + 1
        await master.write(tb.address, [register >> 8, register & 0xFF])
        got = await master.read(tb.address, size - 1)
        await master.send_stop()
        tb.model.start()
        for byte in [tb.address << 1, register >> 8, register & 0xFF]:
            tb.model.write_byte(byte)
        tb.model.start()
        tb.model.write_byte(tb.address << 1 | 1)
        want = [tb.model.read_byte(k < size - 2) for k in range(size - 1)]
        tb.model.stop()
        assert list(got) == want, (speed, list(got), want)
        assert tb.flags() == (0, 0)


@cocotb.test()
async def invalid_address_write_is_nacked(dut):
    """A data byte to an address outside the map is NACKed, sets ``error`` and counts in
    ``error_count``; the registers keep their values; the next START clears ``error``."""
    tb = TB(dut)
    await tb.reset()
    for k, speed in enumerate(tb.speeds):
        master = tb.master(speed)
        before = tb.field_values()
        assert before == tb.expected_fields()
        await tb.write_checked(master, tb.regs.end, [0x5A, 0xA5])
        assert tb.flags() == (1, 2 * k + 1) == (int(tb.model.error), tb.model.error_count)
        # I2cMaster.write only logs the NACK: the design's flag and count are the record.
        await master.write(tb.address, [0xFF, 0xFF, 0x01])
        await master.send_stop()
        assert tb.flags() == (1, 2 * k + 2)
        tb.model.start()
        for byte in [tb.address << 1, 0xFF, 0xFF, 0x01]:
            tb.model.write_byte(byte)
        tb.model.stop()
        assert tb.field_values() == before
        # Valid write: flag cleared by its START, count kept.
        await tb.write_checked(master, tb.base, [0x3C])
        assert tb.flags() == (0, 2 * k + 2)
        assert tb.field_values() == tb.expected_fields()


@cocotb.test()
async def other_device_is_not_acknowledged(dut):
    tb = TB(dut)
    await tb.reset()
    master = tb.master(tb.speeds[-1])
    before = tb.field_values()
    for device in (tb.address ^ 1, tb.address ^ 0x40):
        await master.send_start()
        assert await master.send_byte(device << 1), f"device 0x{device:02x} was ACKed"
        assert await master.send_byte(tb.base >> 8)
        await master.send_stop()
    got = await master.read(tb.address ^ 2, 2)
    await master.send_stop()
    assert list(got) == [0xFF, 0xFF]
    assert tb.field_values() == before and tb.flags() == (0, 0)
