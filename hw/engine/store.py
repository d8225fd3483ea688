"""The store unit (STORE): scratchpad words out on the output stream."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, unsigned
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from . import isa
from .config import EngineConfig
from .window import bits_for


def output_layout(config: EngineConfig) -> data.StructLayout:
    return data.StructLayout({"data": unsigned(config.spad_bits), "last": unsigned(1)})


class StoreUnit(wiring.Component):
    """Sends scratchpad words ``addr ..< addr + count`` on ``o`` (``ins``, a STORE,
    sampled at ``start``), the final one with ``last`` when the instruction says so.

    Reads run ahead of ``o`` into a ``FIFO_DEPTH``-word FIFO (a read is issued only when
    the FIFO will have room for its word), so back-pressure on ``o`` loses nothing and
    an always-ready ``o`` takes a word every cycle.  Timing: ``start`` at ``s``; reads
    from ``s + 1``; the word read at ``t`` is registered at ``t + 1`` (the memory's
    output goes straight to a flip-flop: a block RAM's clock-to-output is most of a
    cycle), enters the FIFO at ``t + 2`` and is on ``o`` from ``t + 3``.  ``busy`` is
    high from ``s + 1`` to the cycle the final word is
    transferred: ``count + FIRST_WORD`` cycles with an always-ready ``o``.
    """

    FIFO_DEPTH = 4
    #: ``start + 1`` (the first read) -> the first word on ``o``.
    FIRST_WORD = 3

    def __init__(self, config: EngineConfig):
        self.config = config
        super().__init__({
            "start": In(1),
            "ins": In(isa.layout(isa.Opcode.STORE)),
            "busy": Out(1),
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
        # A word read at t is in flight at t + 1 (in the memory's output) and t + 2 (in
        # ``word``).
        in_flight, in_flight_last = Signal(), Signal()
        registered, registered_last = Signal(), Signal()
        word = Signal(cfg.spad_bits, reset_less=True)
        read = Signal()
        room = q.w_level + in_flight + registered < self.FIFO_DEPTH
        m.d.comb += [read.eq((remaining != 0) & room), self.rd_addr.eq(addr)]
        m.d.sync += [in_flight.eq(read), in_flight_last.eq(read & last & (remaining == 1)),
                     registered.eq(in_flight), registered_last.eq(in_flight_last),
                     word.eq(self.rd_data)]
        with m.If(self.start):
            m.d.sync += [remaining.eq(self.ins.count), addr.eq(self.ins.addr),
                         last.eq(self.ins.last)]
        with m.Elif(read):
            m.d.sync += [remaining.eq(remaining - 1), addr.eq(addr + 1)]
        m.d.comb += [q.w_en.eq(registered), q.w_data.eq(word),
                     q.w_data[-1].eq(registered_last)]
        m.d.comb += [self.o.valid.eq(q.r_rdy), self.o.payload.eq(q.r_data),
                     q.r_en.eq(self.o.ready)]
        m.d.comb += self.busy.eq((remaining != 0) | in_flight | registered | q.r_rdy)
        return m
