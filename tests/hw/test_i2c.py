"""I2C target + register file: bit-banged in Amaranth's simulator against the behavioural
model (sim/i2c_model.py), and on Verilator with cocotbext-i2c's I2cMaster."""

import json
from pathlib import Path

import neurogate.sim.cocotb as bench_pkg
import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.hdl import Module, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator
from neurogate.hw.i2c import GlitchFilter, I2CTarget
from neurogate.hw.regfile import RegisterFile, field_bytes, layout_fields
from neurogate.sim.cocotb.runner import run_cocotb
from neurogate.sim.i2c_model import I2CTargetModel, RegisterMapModel

ADDRESS = 0x2A
BASE = 0x0100
# 1 + 2 + 1 + 3 bytes at 0x100..0x106: a 12-bit field leaves 4 bits of its top byte unused.
FIELDS = [("gain", 8), ("threshold", 12), ("mode", 3), ("weight", signed(20))]
INIT = {"gain": 0x11, "threshold": 0x234, "mode": 5, "weight": -3}
END = BASE + 7


class I2CRegisters(wiring.Component):
    """Bench top: target + register file on one open-drain bus.  The controller drives
    ``scl_o``/``sda_o`` (1 releases the line); ``scl``/``sda`` are the wired-AND lines."""

    def __init__(self, *, address=ADDRESS, fields=FIELDS, base=BASE, init=INIT,
                 filter_cycles=4):
        self.target = I2CTarget(address, filter_cycles=filter_cycles)
        self.regs = RegisterFile(fields, base=base, init=init)
        super().__init__({
            "scl_o": In(1, init=1), "sda_o": In(1, init=1),
            "scl": Out(1), "sda": Out(1),
            "error": Out(1), "error_count": Out(8),
            **{f.name: Out(f.shape) for f in self.regs.fields},
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.target, m.submodules.regs = target, regs = self.target, self.regs
        wiring.connect(m, target.bus, regs.bus)
        m.d.comb += [
            self.scl.eq(self.scl_o),
            self.sda.eq(self.sda_o & ~target.sda_oe),
            target.scl_i.eq(self.scl),
            target.sda_i.eq(self.sda),
            self.error.eq(target.error),
            self.error_count.eq(target.error_count),
        ]
        for f in regs.fields:
            m.d.comb += getattr(self, f.name).eq(getattr(regs, f.name))
        return m


class Controller:
    """Bit-banged I2C controller in Amaranth's simulator.  SCL is low for ``low`` clocks
    (SDA changes after ``low // 2`` of them, and is sampled at the end) and high for
    ``high`` clocks; START hold and STOP / repeated-START setup are ``high // 2``."""

    def __init__(self, ctx, top, *, low=12, high=12):
        self.ctx, self.top = ctx, top
        self.a, self.b, self.high = low // 2, low - low // 2, high
        self.active = False

    async def wait(self, cycles):
        if cycles:
            await self.ctx.tick().repeat(cycles)

    def set_sda(self, value):
        self.ctx.set(self.top.sda_o, value)

    def set_scl(self, value):
        self.ctx.set(self.top.scl_o, value)

    async def start(self):
        if self.active:                     # repeated START: SCL is low
            await self.wait(self.a)
            self.set_sda(1)
            await self.wait(self.b)
            self.set_scl(1)
            await self.wait(self.high // 2)
        self.set_sda(0)
        await self.wait(self.high // 2)
        self.set_scl(0)
        self.active = True

    async def stop(self):
        await self.wait(self.a)
        self.set_sda(0)
        await self.wait(self.b)
        self.set_scl(1)
        await self.wait(self.high // 2)
        self.set_sda(1)
        await self.wait(self.high)
        self.active = False

    async def bit(self, value, *, during_high=None):
        """Send ``value`` (1 releases SDA); return SDA as sampled at the end of SCL low.
        ``during_high`` (an async callable) runs while SCL is high, in place of the wait."""
        await self.wait(self.a)
        self.set_sda(value)
        await self.wait(self.b)
        seen = self.ctx.get(self.top.sda)
        self.set_scl(1)
        if during_high is None:
            await self.wait(self.high)
        else:
            await during_high()
        self.set_scl(0)
        return seen

    async def write_byte(self, byte):
        """True when the target ACKs."""
        for k in range(8):
            await self.bit((byte >> (7 - k)) & 1)
        return await self.bit(1) == 0

    async def read_byte(self, ack):
        value = 0
        for _ in range(8):
            value = value << 1 | await self.bit(1)
        await self.bit(0 if ack else 1)
        return value

    async def write(self, register, data, *, device=ADDRESS, stop=True):
        """``S, device+W, register (2 bytes), data..., [P]``; the ACK of each byte."""
        await self.start()
        acks = [await self.write_byte(device << 1)]
        for byte in [register >> 8, register & 0xFF, *data]:
            acks.append(await self.write_byte(byte))
        if stop:
            await self.stop()
        return acks

    async def read(self, count, *, device=ADDRESS):
        """``S (or Sr), device+R, count bytes (the last NACKed), P``."""
        await self.start()
        ack = await self.write_byte(device << 1 | 1)
        data = [await self.read_byte(k < count - 1) for k in range(count)]
        await self.stop()
        return ack, data


def simulate(script, *, top=None, **timing):
    """Run ``script(controller, ctx, top)`` on a fresh bench top; return the top."""
    top = top or I2CRegisters()

    async def bench(ctx):
        await ctx.tick().repeat(4)
        await script(Controller(ctx, top, **timing), ctx, top)

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return top


def fields_of(ctx, top):
    return {f.name: ctx.get(getattr(top, f.name)) for f in top.regs.fields}


# --- Register file --------------------------------------------------------------------------

def test_register_map_layout():
    fields = layout_fields(FIELDS, base=BASE, init=INIT)
    assert [(f.name, f.address, f.size) for f in fields] == [
        ("gain", 0x100, 1), ("threshold", 0x101, 2), ("mode", 0x103, 1), ("weight", 0x104, 3)]
    assert field_bytes(fields[3], -3) == [0xFD, 0xFF, 0x0F]
    model = RegisterMapModel(FIELDS, base=BASE, init=INIT)
    assert [f.address for f in model.fields] == [f.address for f in fields]
    assert (model.base, model.end) == (BASE, END)


@pytest.mark.parametrize("fields, kwargs, message", [
    ([("a", 8), ("a", 4)], {}, "'a' is used twice"),
    ([("bus", 8)], {}, "'bus' is used twice or reserved"),
    ([("a b", 8)], {}, "must be an identifier"),
    ([("a", 0)], {}, "width of field 'a' must be an integer from 1 to 64, not 0"),
    ([("a", 4)], {"init": {"a": 16}}, "init of field 'a' must be an integer from 0 to 15"),
    ([("a", signed(4))], {"init": {"a": -9}}, "from -8 to 7, not -9"),
    ([("a", 4)], {"init": {"b": 1}}, r"init names fields that do not exist: \['b'\]"),
    ([("a", 16)], {"base": 0xFFFF}, "'a' ends past address 0xffff"),
    ([], {}, "at least one field"),
])
def test_register_map_refusals(fields, kwargs, message):
    with pytest.raises(ValueError, match=message):
        RegisterFile(fields, **kwargs)


def test_register_file_bus():
    """Byte writes, read-back one cycle after r_stb, addr_valid, unused top bits."""
    regs = RegisterFile(FIELDS, base=BASE, init=INIT)
    bus = regs.bus
    got = {}

    async def bench(ctx):
        for address in range(BASE - 2, END + 2):
            ctx.set(bus.addr, address)
            got[address, "valid"] = ctx.get(bus.addr_valid)
        writes = {0x100: 0xA5, 0x101: 0xFF, 0x102: 0xFF, 0x103: 0xFE, 0x106: 0x80}
        for address, byte in writes.items():
            ctx.set(bus.addr, address)
            ctx.set(bus.w_data, byte)
            ctx.set(bus.w_stb, 1)
            await ctx.tick()
        ctx.set(bus.w_stb, 0)
        for address in range(BASE - 1, END + 1):
            ctx.set(bus.addr, address)
            ctx.set(bus.r_stb, 1)
            await ctx.tick()
            ctx.set(bus.r_stb, 0)
            ctx.set(bus.addr, 0)                    # r_data holds without r_stb
            await ctx.tick()
            got[address, "read"] = ctx.get(bus.r_data)
        got["fields"] = {f.name: ctx.get(getattr(regs, f.name)) for f in regs.fields}

    sim = Simulator(regs)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert [got[a, "valid"] for a in range(BASE - 2, END + 2)] == [0, 0] + [1] * 7 + [0, 0]
    assert [got[a, "read"] for a in range(BASE - 1, END + 1)] == [
        0, 0xA5, 0xFF, 0x0F, 0x06, 0xFD, 0xFF, 0x00, 0]
    assert got["fields"] == {"gain": 0xA5, "threshold": 0xFFF, "mode": 6, "weight": 0x0FFFD}


# --- Target: parameters and input conditioning ----------------------------------------------

@pytest.mark.parametrize("address", [0x07, 0x78, -1])
def test_reserved_device_addresses_are_refused(address):
    with pytest.raises(ValueError, match="address must be an integer from 8 to 119"):
        I2CTarget(address)


@pytest.mark.parametrize("cycles", [1, 3])
def test_glitch_filter(cycles):
    flt = GlitchFilter(cycles)
    trace = []
    pattern = [1] * 3 + [0] * (cycles - 1) + [1] * 3 + [0] * cycles + [0] * 3 + [1] * (
        cycles - 1) + [0] * 3 + [1] * (cycles + 3)

    async def bench(ctx):
        for value in pattern:
            ctx.set(flt.i, value)
            await ctx.tick()
            trace.append(ctx.get(flt.o))

    sim = Simulator(flt)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    # o is i delayed by `cycles`, minus the pulses shorter than `cycles`.
    want, shown = [], 1
    for k in range(len(pattern)):
        window = pattern[max(0, k - cycles + 1):k + 1]
        if len(window) == cycles and len(set(window)) == 1:
            shown = window[0]
        want.append(shown)
    assert trace == want
    changes = sum(a != b for a, b in zip(trace, trace[1:]))
    assert changes == 2                            # only the long low level gets through


@pytest.mark.parametrize("filter_cycles", [1, 4])
def test_sda_answers_filter_plus_three_clocks_after_scl_falls(filter_cycles):
    """The ACK of the device address appears filter_cycles + 3 clocks after SCL falls
    (synchronous inputs; an asynchronous SCL can add one clock: docs/i2c.md)."""
    seen = {}

    async def script(c, ctx, top):
        await c.start()
        for k in range(8):
            await c.bit((ADDRESS << 1 >> (7 - k)) & 1)
        c.set_sda(1)
        for cycle in range(1, 20):
            await ctx.tick()
            if not ctx.get(top.sda):
                seen["latency"] = cycle
                break

    simulate(script, top=I2CRegisters(filter_cycles=filter_cycles))
    assert seen["latency"] == filter_cycles + 3


# --- Target: protocol ------------------------------------------------------------------------

def test_write_read_back_and_auto_increment():
    got = {}

    async def script(c, ctx, top):
        got["init"] = fields_of(ctx, top)
        got["acks"] = await c.write(BASE + 1, [0x78, 0x0A, 0x02, 0x01, 0x02, 0x83])
        got["fields"] = fields_of(ctx, top)
        # Point at the threshold, repeated START, read 5 bytes; then go on reading.
        got["acks_ptr"] = await c.write(BASE + 1, [], stop=False)
        got["read"] = await c.read(5)
        got["more"] = await c.read(1)
        got["error"] = ctx.get(top.error), ctx.get(top.error_count)

    simulate(script)
    assert got["init"] == {"gain": 0x11, "threshold": 0x234, "mode": 5, "weight": -3}
    assert got["acks"] == [True] * 9
    assert got["fields"] == {"gain": 0x11, "threshold": 0xA78, "mode": 2, "weight": 0x30201}
    assert got["acks_ptr"] == [True] * 3
    assert got["read"] == (True, [0x78, 0x0A, 0x02, 0x01, 0x02])
    assert got["more"] == (True, [0x03])                # pointer continued; top bits dropped
    assert got["error"] == (0, 0)


def test_write_to_a_missing_address_is_nacked_and_flagged():
    got = {}

    async def script(c, ctx, top):
        # Last valid byte, then two bytes past the end of the map.
        got["acks"] = await c.write(END - 1, [0x05, 0x66, 0x77])
        got["after"] = ctx.get(top.error), ctx.get(top.error_count), fields_of(ctx, top)
        got["below"] = await c.write(BASE - 1, [0x99])   # below the map
        got["flag"] = ctx.get(top.error), ctx.get(top.error_count)
        got["clean"] = await c.write(BASE, [0x42])        # the next START clears the flag
        got["cleared"] = ctx.get(top.error), ctx.get(top.error_count), ctx.get(top.gain)

    simulate(script)
    # The first refused byte is NACKed and counted; the target then stays off the bus.
    assert got["acks"] == [True, True, True, True, False, False]
    error, count, fields = got["after"]
    assert (error, count) == (1, 1)
    assert fields["weight"] == 0x5FFFD                      # only the valid byte written
    assert got["below"] == [True, True, True, False]
    assert got["flag"] == (1, 2)
    assert got["clean"] == [True] * 4
    assert got["cleared"] == (0, 2, 0x42)


def test_read_past_the_map_is_flagged():
    got = {}

    async def script(c, ctx, top):
        await c.write(END - 2, [], stop=False)
        got["read"] = await c.read(4)
        got["flag"] = ctx.get(top.error), ctx.get(top.error_count)
        await c.write(0x0000, [], stop=False)
        got["outside"] = await c.read(1)
        got["flag2"] = ctx.get(top.error), ctx.get(top.error_count)

    simulate(script)
    assert got["read"] == (True, [0xFF, 0x0F, 0xFF, 0xFF])  # weight's top bytes, then nothing
    assert got["flag"] == (1, 1)
    assert got["outside"] == (True, [0xFF])
    assert got["flag2"] == (1, 2)


def test_other_device_address_is_not_acknowledged():
    got = {}

    async def script(c, ctx, top):
        got["acks"] = await c.write(BASE, [0x00], device=ADDRESS + 1)
        got["read"] = await c.read(1, device=ADDRESS ^ 0x40)
        got["state"] = ctx.get(top.gain), ctx.get(top.error), ctx.get(top.error_count)

    simulate(script)
    assert got["acks"] == [False] * 4
    assert got["read"] == (False, [0xFF])
    assert got["state"] == (0x11, 0, 0)


def test_stop_in_the_middle_abandons_the_byte():
    got = {}

    async def script(c, ctx, top):
        await c.start()
        assert await c.write_byte(ADDRESS << 1)
        assert await c.write_byte(BASE >> 8)
        assert await c.write_byte(BASE & 0xFF)
        for k in range(5):                                # 5 bits of a data byte, then P
            await c.bit((0xA0 >> (7 - k)) & 1)
        await c.stop()
        got["after_stop"] = ctx.get(top.gain)
        # A register address cut after its high byte leaves the pointer where it was.
        await c.write(BASE + 3, [])
        await c.start()
        assert await c.write_byte(ADDRESS << 1)
        assert await c.write_byte(0x00)
        await c.stop()
        got["read"] = await c.read(1)
        got["write"] = await c.write(BASE, [0x5A])
        got["gain"] = ctx.get(top.gain)

    simulate(script)
    assert got["after_stop"] == 0x11
    assert got["read"] == (True, [5])                      # still at BASE + 3 (mode)
    assert got["write"] == [True] * 4 and got["gain"] == 0x5A


def test_repeated_start_between_two_writes_and_a_read():
    got = {}

    async def script(c, ctx, top):
        got["a"] = await c.write(BASE, [0x01], stop=False)
        got["b"] = await c.write(BASE + 3, [0x07], stop=False)
        got["c"] = await c.write(BASE, [], stop=False)
        got["read"] = await c.read(4)

    simulate(script)
    assert got["a"] == got["b"] == [True] * 4 and got["c"] == [True] * 3
    assert got["read"] == (True, [0x01, 0x34, 0x02, 0x07])


def _spike(c, line, cycles, *, after=6):
    """Invert ``line`` for ``cycles`` clocks, ``after`` clocks into SCL high (late enough
    that the SCL rise itself has passed the filter)."""
    async def during_high():
        await c.wait(after)
        set_line = c.set_sda if line == "sda" else c.set_scl
        current = c.ctx.get(c.top.sda_o if line == "sda" else c.top.scl_o)
        set_line(1 - current)
        await c.wait(cycles)
        set_line(current)
        await c.wait(c.high - after - cycles)
    return during_high


@pytest.mark.parametrize("line", ["sda", "scl"])
def test_spikes_shorter_than_the_filter_are_ignored(line):
    """A spike of filter_cycles - 1 clocks during SCL high changes nothing; one of
    filter_cycles clocks on SDA is a START then a STOP (the byte is lost), on SCL an
    extra clock (the target takes 0xC1 = 1100_0001 for 0xC3 and ACKs a bit early)."""
    got = {}

    async def transfer(c, ctx, top, spike_cycles):
        await c.start()
        acks = [await c.write_byte(b) for b in (ADDRESS << 1, BASE >> 8, BASE & 0xFF)]
        byte = 0x3C if line == "sda" else 0xC3           # spike on a 1 bit of SDA (SCL)
        for k in range(8):
            value = (byte >> (7 - k)) & 1
            spiked = k == 3
            await c.bit(value, during_high=_spike(c, line, spike_cycles) if spiked else None)
        acks.append(await c.bit(1) == 0)
        await c.stop()
        return acks, ctx.get(top.gain)

    async def script(c, ctx, top):
        got["short"] = await transfer(c, ctx, top, 3)
        await c.write(BASE, [0x11])
        got["long"] = await transfer(c, ctx, top, 4)

    simulate(script, high=16)
    assert got["short"] == ([True] * 4, 0x3C if line == "sda" else 0xC3)
    acks, gain = got["long"]
    assert gain == (0x11 if line == "sda" else 0xC1)
    assert acks[:3] == [True] * 3 and not acks[3]


@pytest.mark.parametrize("filter_cycles, low, high, seed", [
    (4, 9, 9, 1),            # the minimum ratio of I2CTarget's docstring: 2 * (N + 5) = 18
    (1, 6, 6, 2),            # its floor, 12 clocks (START hold 3, SDA setup 3)
    (2, 30, 50, 3),          # a slow, asymmetric clock
])
def test_random_transfers_match_the_model(filter_cycles, low, high, seed):
    rng = np.random.default_rng(seed)
    model = I2CTargetModel(ADDRESS, RegisterMapModel(FIELDS, base=BASE, init=INIT))
    log = []

    async def start(c):
        await c.start()
        model.start()

    async def stop(c):
        await c.stop()
        model.stop()

    async def send(c, byte):
        ack = await c.write_byte(byte)
        assert ack == model.write_byte(byte), (log, byte)

    async def receive(c, ack):
        byte = await c.read_byte(ack)
        assert byte == model.read_byte(ack), log

    async def script(c, ctx, top):
        for _ in range(24):
            kind = rng.choice(["write", "read", "pointer_read", "other_device"])
            device = ADDRESS if kind != "other_device" else int(rng.choice([0x10, 0x2B]))
            register = int(rng.integers(BASE - 2, END + 2))
            log.append((kind, hex(register)))
            await start(c)
            if kind == "read":
                await send(c, device << 1 | 1)
                for k in range(n := int(rng.integers(1, 5))):
                    await receive(c, k < n - 1)
            else:
                await send(c, device << 1)
                await send(c, register >> 8)
                await send(c, register & 0xFF)
                if kind == "pointer_read":
                    await start(c)
                    await send(c, device << 1 | 1)
                    for k in range(n := int(rng.integers(1, 4))):
                        await receive(c, k < n - 1)
                else:
                    for _ in range(int(rng.integers(0, 4))):
                        await send(c, int(rng.integers(0, 256)))
            if rng.random() < 0.8:
                await stop(c)
            assert (ctx.get(top.error), ctx.get(top.error_count)) == (
                model.error, model.error_count), log
        if c.active:
            await stop(c)
        got = fields_of(ctx, top)
        assert got == {f.name: model.regs.field(f.name) for f in model.regs.fields}
        assert model.error_count > 0            # the sequence did reach outside the map

    simulate(script, top=I2CRegisters(filter_cycles=filter_cycles), low=low, high=high)


# --- Verilator + cocotbext-i2c -----------------------------------------------------------------

def test_i2c_registers_on_verilator(tmp_path):
    top = I2CRegisters()
    source = tmp_path / "i2c_top.v"
    source.write_text(verilog.convert(top, name="i2c_top"))
    fields = [[f.name, f.shape.width, f.shape.signed] for f in top.regs.fields]
    result = run_cocotb(
        sources=[source], toplevel="i2c_top", test_module="i2c_bench",
        test_dir=Path(bench_pkg.__file__).parent, build_dir=tmp_path / "build",
        extra_env={"NG_I2C_ADDRESS": str(ADDRESS), "NG_I2C_BASE": str(BASE),
                   "NG_I2C_FIELDS": json.dumps(fields), "NG_I2C_INIT": json.dumps(INIT),
                   "NG_I2C_SPEEDS": "400e3,10.5e6"})
    assert result.tests == 3 and not result.failures, result
