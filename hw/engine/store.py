"""The store unit (STORE): scratchpad words out on the output stream."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal, unsigned
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from . import isa
from .config import SPAD_PORT_DELAY, SPAD_READ_DELAY, EngineConfig
from .window import bits_for


def output_layout(config: EngineConfig) -> data.StructLayout:
    return data.StructLayout({"data": unsigned(config.spad_bits), "last": unsigned(1)})


class StoreUnit(wiring.Component):
    """Sends scratchpad words ``addr ..< addr + count`` on ``o`` (``ins``, a STORE,
    sampled at ``start``), the final one with ``last`` when the instruction says so.

    Reads run ahead of ``o`` into a ``FIFO_DEPTH``-word FIFO (a read is issued only when
    the FIFO will have room for its word), so back-pressure on ``o`` loses nothing and
    an always-ready ``o`` takes a word every cycle.  Timing: ``start`` at ``s``; reads
    from ``s + 1``; the address given at ``t`` reaches the memory at ``t +
    SPAD_PORT_DELAY`` (the top's port registers), its word is registered next to the
    bank (``SPAD_READ_DELAY``: a block RAM's clock-to-output is most of a cycle), then
    here (``word``), enters the FIFO at ``t + IN_FLIGHT`` and is on
    ``o`` from the cycle after.  ``busy`` is high from ``s + 1`` to the cycle the final
    word is transferred: ``count + FIRST_WORD`` cycles with an always-ready ``o``.
    ``reading`` (a register) is high while reads are due: the scratchpad's read port is
    the store unit's then.
    """

    #: A read -> its word in the FIFO: the port registers, the read, the bank's read
    #: register, ``word``.
    IN_FLIGHT = SPAD_PORT_DELAY + SPAD_READ_DELAY + 2
    #: Room for the words in flight and one on ``o``: a read every cycle when ``o`` is
    #: always ready.
    FIFO_DEPTH = IN_FLIGHT + 2
    #: ``start + 1`` (the first read) -> the first word on ``o``.
    FIRST_WORD = IN_FLIGHT + 1

    def __init__(self, config: EngineConfig):
        self.config = config
        super().__init__({
            "start": In(1),
            "ins": In(isa.layout(isa.Opcode.STORE)),
            "busy": Out(1),
            "reading": Out(1),
            "rd_addr": Out(bits_for(config.spad_words)),
            "rd_data": In(config.spad_bits),
            "o": Out(stream.Signature(output_layout(config))),
        })

    @classmethod
    def cycles(cls, count: int) -> int:
        """``busy`` cycles of a STORE of ``count`` words with an always-ready ``o``."""
        return count + cls.FIRST_WORD

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        m.submodules.fifo = q = fifo.SyncFIFO(width=cfg.spad_bits + 1,
                                            depth=self.FIFO_DEPTH)
        remaining = Signal(isa.COUNT_BITS)
        addr = Signal(bits_for(cfg.spad_words))
        last = Signal()
        # A word read at t is in flight through the scratchpad's port registers, its read,
        # the bank's read register and ``word``, and enters the FIFO at t + IN_FLIGHT.
        flight = [Signal(name=f"in_flight_{k}") for k in range(self.IN_FLIGHT)]
        flight_last = [Signal(name=f"in_flight_last_{k}") for k in range(self.IN_FLIGHT)]
        word = Signal(cfg.spad_bits, reset_less=True)
        read = Signal()
        # Free FIFO places not yet claimed by a read in flight: FIFO_DEPTH - (the FIFO's
        # level + the reads in flight), kept as a register (a read takes one, a word
        # leaving on ``o`` gives one back), so the read decision is one compare.
        credits = Signal(range(self.FIFO_DEPTH + 1), init=self.FIFO_DEPTH)
        m.d.sync += credits.eq(credits - read + (self.o.valid & self.o.ready))
        m.d.comb += [read.eq(self.reading & (credits != 0)), self.rd_addr.eq(addr)]
        m.d.sync += [flight[0].eq(read), flight_last[0].eq(read & last & (remaining == 1)),
                     word.eq(self.rd_data)]
        for k in range(1, self.IN_FLIGHT):
            m.d.sync += [flight[k].eq(flight[k - 1]), flight_last[k].eq(flight_last[k - 1])]
        with m.If(self.start):
            m.d.sync += [remaining.eq(self.ins.count), addr.eq(self.ins.addr),
                         last.eq(self.ins.last), self.reading.eq(self.ins.count != 0)]
        with m.Elif(read):
            m.d.sync += [remaining.eq(remaining - 1), addr.eq(addr + 1),
                         self.reading.eq(remaining != 1)]
        m.d.comb += [q.w_en.eq(flight[-1]), q.w_data.eq(word),
                     q.w_data[-1].eq(flight_last[-1])]
        m.d.comb += [self.o.valid.eq(q.r_rdy), self.o.payload.eq(q.r_data),
                     q.r_en.eq(self.o.ready)]
        m.d.comb += self.busy.eq(self.reading | Cat(*flight).any() | q.r_rdy)
        return m
