"""I2C target (slave) for run-time register configuration, in the system clock domain.

``I2CTarget`` turns I2C transfers into accesses on a ``RegisterBusSignature`` (see
``hw.regfile``); ``RegisterFile`` is the matching register file.  docs/i2c.md has the
protocol, the timing limits and the error behaviour.
"""

from __future__ import annotations

import enum

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int
from .regfile import RegisterBusSignature

#: Flip-flops of the synchronizer on each of SCL and SDA.
SYNC_STAGES = 2


class GlitchFilter(wiring.Component):
    """``o`` follows ``i`` once ``i`` has held a new value for ``cycles`` consecutive clocks.

    Pulses shorter than ``cycles`` clocks never reach ``o``; a level that lasts at least
    ``cycles`` clocks appears on ``o`` ``cycles`` clocks after it appears on ``i``.
    ``i`` must already be synchronous (``o`` and ``i`` idle at 1, like an I2C line).
    """

    def __init__(self, cycles: int):
        self.cycles = check_int("cycles", cycles, low=1, high=1024)
        super().__init__({"i": In(1, init=1), "o": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        count = Signal(range(self.cycles))
        with m.If(self.i == self.o):
            m.d.sync += count.eq(0)
        with m.Elif(count == self.cycles - 1):
            m.d.sync += [self.o.eq(self.i), count.eq(0)]
        with m.Else():
            m.d.sync += count.eq(count + 1)
        return m


class _State(enum.Enum):
    IDLE = 0        # off the bus until the next START
    RX = 1          # receiving a byte (device address, register address or data)
    RX_ACK = 2      # driving the ACK bit of a received byte, then ``after_ack``
    TX = 3          # sending a byte to the controller
    TX_ACK = 4      # the controller's ACK bit of a sent byte
    TX_NEXT = 5     # next byte fetched: send it from the next SCL falling edge


class _Kind(enum.Enum):
    DEVICE = 0      # device address + R/W
    REG_HI = 1      # register address, high byte
    REG_LO = 2      # register address, low byte
    DATA = 3        # a data byte to write


class I2CTarget(wiring.Component):
    """I2C target with a 7-bit ``address`` and a 16-bit register address space.

    Protocol (big-endian register address, auto-increment):

    * write: ``S, address+W, reg_hi, reg_lo, data0, data1, ..., P``: each data byte is
      written to the current register address, which then increments;
    * read: ``S, address+R, data0, data1, ..., P`` (typically after a write of just the
      two register-address bytes and a repeated START): each byte comes from the current
      register address, which increments after each byte fetched.  The register
      address persists across transfers.

    Errors: **an I2C write to an address that does not exist is acknowledged as an
    error by the design.**  A data byte written to an address for which the register
    file's ``bus.addr_valid`` is 0 is not written and not acknowledged (the target
    NACKs it), the ``error`` flag rises and stays high until the next START, and
    ``error_count`` (saturating) counts one.  A read that reaches an address outside the
    map does the same (no byte is driven, the controller reads 0xFF).  After such an
    error, and after a device address that is not ours, the target stays off the bus
    until the next START; a STOP or START anywhere abandons the byte in progress.  The
    register address stays at the refused address.

    Pins are open-drain: ``sda_oe`` = 1 pulls SDA low, 0 releases it; SCL is an input
    only (no clock stretching).  ``scl_i`` and ``sda_i`` may be asynchronous: each goes
    through a ``SYNC_STAGES``-flip-flop synchronizer and a ``GlitchFilter`` of
    ``filter_cycles`` clocks, and SDA is delayed one clock more than SCL so that a
    controller's SDA change right after SCL falls (zero hold time) is not taken for a
    START or STOP.

    Timing, in system clocks (``N = filter_cycles``; the synchronizers' one-clock
    uncertainty included).  The controller must give: SDA setup to SCL rising >= 2,
    START hold (SDA falling to SCL falling) >= 3, STOP and repeated-START setup (SCL
    rising to SDA edge) >= 1, SDA hold >= 0, SCL high and low >= N + 1.  The target
    changes SDA at most ``N + 4`` clocks after SCL falls (``N + 3`` for inputs
    synchronous to the clock), so SCL low must also last ``N + 4`` clocks plus the SDA
    rise time and the controller's setup.  Spikes of at most ``N - 1`` clocks are always
    ignored, levels of ``N + 1`` clocks always pass (the I2C 50 ns spike limit needs
    ``(N - 1) / f_clk >= 50 ns``).  Minimum clock ratio: for a controller with 50% duty
    cycle that changes SDA in the middle of SCL low (and holds START for a quarter
    period), ``f_clk >= max(2 * (N + 5), 12) * f_SCL`` (18x with the default N = 4).
    With the minimum timings of the I2C specification (t_SU;DAT: 250 ns Standard-mode,
    100 ns Fast-mode, 50 ns Fast-mode Plus), f_clk >= 8, 20 and 40 MHz.

    Parameters
    ----------
    address : int
        7-bit device address, 0x08 to 0x77 (the others are reserved by I2C).
    filter_cycles : int
        Length of the glitch filter, in system clocks.
    count_bits : int
        Width of ``error_count``.

    Ports
    -----
    scl_i, sda_i : In(1), the bus lines (idle high)
    sda_oe : Out(1), 1 drives SDA low
    bus : Out(RegisterBusSignature), the register side
    error : Out(1), sticky error flag, cleared by the next START
    error_count : Out(count_bits), refused accesses since reset, saturating
    """

    def __init__(self, address: int, *, filter_cycles: int = 4, count_bits: int = 8):
        self.address = check_int("address", address, low=0x08, high=0x77)
        self.filter_cycles = check_int("filter_cycles", filter_cycles, low=1, high=1024)
        self.count_bits = check_int("count_bits", count_bits, low=1, high=32)
        super().__init__({
            "scl_i": In(1, init=1),
            "sda_i": In(1, init=1),
            "sda_oe": Out(1),
            "bus": Out(RegisterBusSignature()),
            "error": Out(1),
            "error_count": Out(count_bits),
        })

    def _conditioned(self, m: Module, pin, name: str, extra_delay: int):
        """``pin`` synchronized, glitch-filtered and delayed ``extra_delay`` clocks."""
        synced = Signal(init=1, name=f"{name}_sync")
        m.submodules[f"{name}_sync"] = FFSynchronizer(pin, synced, init=1, stages=SYNC_STAGES)
        m.submodules[f"{name}_filter"] = flt = GlitchFilter(self.filter_cycles)
        m.d.comb += flt.i.eq(synced)
        value = flt.o
        for k in range(extra_delay):
            delayed = Signal(init=1, name=f"{name}_d{k}")
            m.d.sync += delayed.eq(value)
            value = delayed
        return value

    def elaborate(self, platform):
        m = Module()
        bus = self.bus

        scl = self._conditioned(m, self.scl_i, "scl", 0)
        sda = self._conditioned(m, self.sda_i, "sda", 1)
        scl_prev, sda_prev = Signal(init=1), Signal(init=1)
        m.d.sync += [scl_prev.eq(scl), sda_prev.eq(sda)]
        scl_rise, scl_fall = Signal(), Signal()
        start, stop = Signal(), Signal()
        m.d.comb += [
            scl_rise.eq(scl & ~scl_prev),
            scl_fall.eq(~scl & scl_prev),
            start.eq(scl & scl_prev & sda_prev & ~sda),
            stop.eq(scl & scl_prev & ~sda_prev & sda),
        ]

        state = Signal(_State)
        after_ack = Signal(_State)          # RX, TX (send the fetched byte) or IDLE
        kind = Signal(_Kind)
        shreg = Signal(8)                   # byte received, MSB first
        tx = Signal(8)                      # byte being sent, MSB first
        bits = Signal(range(9))
        addr_hi = Signal(8)
        fetching = Signal()                 # r_stb was high last cycle: r_data is valid

        def count_error():
            m.d.sync += self.error.eq(1)
            with m.If(self.error_count != (1 << self.count_bits) - 1):
                m.d.sync += self.error_count.eq(self.error_count + 1)

        def fetch(valid_next, invalid_next):
            """Read the byte at ``addr`` into ``tx``; outside the map, count an error."""
            with m.If(bus.addr_valid):
                m.d.comb += bus.r_stb.eq(1)
                m.d.sync += [fetching.eq(1), valid_next]
            with m.Else():
                count_error()
                m.d.sync += invalid_next

        def send_first_bit():
            m.d.sync += [self.sda_oe.eq(~tx[7]), tx.eq(tx << 1), bits.eq(1),
                         state.eq(_State.TX)]

        ack = [self.sda_oe.eq(1), state.eq(_State.RX_ACK)]
        leave = [self.sda_oe.eq(0), state.eq(_State.IDLE)]

        m.d.comb += bus.w_data.eq(shreg)
        m.d.sync += fetching.eq(0)
        with m.If(fetching):
            m.d.sync += [tx.eq(bus.r_data), bus.addr.eq(bus.addr + 1)]

        with m.If(start):
            m.d.sync += [state.eq(_State.RX), kind.eq(_Kind.DEVICE), bits.eq(0),
                         self.sda_oe.eq(0), self.error.eq(0)]
        with m.Elif(stop):
            m.d.sync += leave

        with m.Elif(state == _State.RX):
            with m.If(scl_rise):
                m.d.sync += [shreg.eq(Cat(sda, shreg[:7])), bits.eq(bits + 1)]
            # The SCL falling edge after the 8th bit: act on the byte, drive its ACK.
            with m.If(scl_fall & (bits == 8)):
                with m.Switch(kind):
                    with m.Case(_Kind.DEVICE):
                        with m.If(shreg[1:] != self.address):
                            m.d.sync += leave
                        with m.Elif(shreg[0]):      # read: fetch the first byte now
                            m.d.sync += ack
                            fetch(after_ack.eq(_State.TX), after_ack.eq(_State.IDLE))
                        with m.Else():
                            m.d.sync += ack + [after_ack.eq(_State.RX), kind.eq(_Kind.REG_HI)]
                    with m.Case(_Kind.REG_HI):
                        m.d.sync += ack + [after_ack.eq(_State.RX), addr_hi.eq(shreg),
                                           kind.eq(_Kind.REG_LO)]
                    with m.Case(_Kind.REG_LO):
                        m.d.sync += ack + [after_ack.eq(_State.RX),
                                           bus.addr.eq(Cat(shreg, addr_hi)), kind.eq(_Kind.DATA)]
                    with m.Case(_Kind.DATA):
                        with m.If(bus.addr_valid):
                            m.d.comb += bus.w_stb.eq(1)
                            m.d.sync += ack + [after_ack.eq(_State.RX),
                                               bus.addr.eq(bus.addr + 1)]
                        with m.Else():              # NACK: sda_oe stays 0
                            count_error()
                            m.d.sync += leave

        with m.Elif(state == _State.RX_ACK):
            with m.If(scl_fall):
                with m.If(after_ack == _State.TX):
                    send_first_bit()
                with m.Else():
                    m.d.sync += [self.sda_oe.eq(0), bits.eq(0), state.eq(after_ack)]

        with m.Elif(state == _State.TX):
            with m.If(scl_fall):
                with m.If(bits == 8):
                    m.d.sync += [self.sda_oe.eq(0), state.eq(_State.TX_ACK)]
                with m.Else():
                    m.d.sync += [self.sda_oe.eq(~tx[7]), tx.eq(tx << 1), bits.eq(bits + 1)]

        with m.Elif(state == _State.TX_ACK):
            with m.If(scl_rise):
                with m.If(sda):                     # NACK: the controller has read enough
                    m.d.sync += state.eq(_State.IDLE)
                with m.Else():
                    fetch(state.eq(_State.TX_NEXT), state.eq(_State.IDLE))

        with m.Elif(state == _State.TX_NEXT):
            with m.If(scl_fall):
                send_first_bit()
        return m
