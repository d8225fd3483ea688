"""The load unit (LOAD) and the host-word assembler it shares with the command unit."""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from . import isa
from .config import EngineConfig
from .window import bits_for


class WordAssembler:
    """Memory words of up to ``bits`` from host words, low word first.

    ``take(parts)`` (inside the caller's ``m.If(fire)``): the host word ``payload`` is
    part ``index`` of ``parts``; returns whether it is the final one.  The assembled
    word ``word`` is a register, complete the cycle after its final part (the parts
    beyond the word's own width are stale: callers slice).
    """

    def __init__(self, m: Module, config: EngineConfig, bits: int, name: str):
        self.m, self.config = m, config
        self.max_parts = config.host_words(bits)
        self.slots = [Signal(config.host_bits, name=f"{name}_slot{k}", reset_less=True)
                      for k in range(self.max_parts)]
        self.index = Signal(range(self.max_parts + 1), name=f"{name}_index")
        self.word = Cat(*self.slots)

    def take(self, payload, parts):
        m = self.m
        for k, slot in enumerate(self.slots):
            with m.If(self.index == k):
                m.d.sync += slot.eq(payload)
        final = Signal(name="assembler_final")
        m.d.comb += final.eq(self.index == parts - 1)
        m.d.sync += self.index.eq(Mux(final, 0, self.index + 1))
        return final

    def reset(self):
        return self.index.eq(0)


class LoadUnit(wiring.Component):
    """Reads ``count`` memory words from ``i`` into the scratchpad, the weight buffer or
    the bias memory (``ins``, a LOAD, sampled at ``start``).

    ``i.ready`` is high while words are still due (never back-pressured otherwise);
    the memory word whose final host word is transferred at cycle ``t`` is written at
    ``t + 1``.  ``busy`` is high from ``start + 1`` to the cycle of the last write, so a
    LOAD of ``count`` words over an always-valid stream keeps it ``count * parts + 1``
    cycles (``parts = config.host_words(word bits)``), ``WRITE_DELAY`` being the one.
    ``spad_busy`` is ``busy`` for a scratchpad LOAD (the exec unit's hazard).
    """

    WRITE_DELAY = 1

    def __init__(self, config: EngineConfig):
        self.config = config
        n = config.array
        super().__init__({
            "i": In(stream.Signature(config.host_bits)),
            "start": In(1),
            "ins": In(isa.layout(isa.Opcode.LOAD)),
            "abort": In(1),
            "busy": Out(1),
            "spad_busy": Out(1),
            "spad_en": Out(1), "spad_addr": Out(bits_for(config.spad_words)),
            "spad_data": Out(config.spad_bits),
            "wbuf_en": Out(data.ArrayLayout(1, n)),
            "wbuf_addr": Out(bits_for(config.wbuf_words)), "wbuf_data": Out(config.wbuf_bits),
            "bias_en": Out(1), "bias_addr": Out(bits_for(config.bias_words)),
            "bias_data": Out(config.bias_bits),
        })

    @staticmethod
    def parts(config: EngineConfig, mem: isa.Memory) -> int:
        bits = {isa.Memory.SPAD: config.spad_bits, isa.Memory.WBUF: config.wbuf_bits,
                isa.Memory.BIAS: config.bias_bits}[mem]
        return config.host_words(bits)

    @classmethod
    def cycles(cls, config: EngineConfig, mem: isa.Memory, count: int) -> int:
        """``busy`` cycles of a LOAD over an always-valid host stream."""
        return count * cls.parts(config, mem) + cls.WRITE_DELAY

    def elaborate(self, platform):
        m = Module()
        cfg, n = self.config, self.config.array
        widest = max(cfg.spad_bits, cfg.wbuf_bits, cfg.bias_bits)
        asm = WordAssembler(m, cfg, widest, "load")
        mem = Signal(2)
        remaining = Signal(isa.COUNT_BITS)
        # ``remaining != 0`` as a register of its own: it is ``i.ready``, and the host
        # word's transfer enables every slot register of the assembler.
        due = Signal()
        addr = Signal(isa.ADDR_BITS)                        # row address (wbuf) or word
        col = Signal(range(n))
        pending = Signal()                                  # a write in this cycle
        w_mem, w_addr, w_col = Signal(2), Signal(isa.ADDR_BITS), Signal(range(n))
        parts = Array(self.parts(cfg, mm) for mm in isa.Memory)[mem]

        m.d.comb += [self.busy.eq(due | pending),
                     self.spad_busy.eq(self.busy & (mem == isa.Memory.SPAD)),
                     self.i.ready.eq(due)]
        m.d.sync += pending.eq(0)
        # A host word is taken only while words are due, and the decoder starts a LOAD
        # only when the unit is idle (nothing due): ``start`` and a transfer never meet,
        # so the transfer's enables do not wait for the decoder's issue.
        with m.If(self.i.valid & self.i.ready & ~self.abort):
            with m.If(asm.take(self.i.payload, parts)):
                m.d.sync += [pending.eq(1), w_mem.eq(mem), w_addr.eq(addr), w_col.eq(col),
                             remaining.eq(remaining - 1), due.eq(remaining != 1)]
                with m.If((mem != isa.Memory.WBUF) | (col == n - 1)):
                    m.d.sync += [addr.eq(addr + 1), col.eq(0)]
                with m.Else():
                    m.d.sync += col.eq(col + 1)
        with m.Elif(self.abort):
            m.d.sync += [remaining.eq(0), due.eq(0)]
        with m.If(self.start):
            m.d.sync += [mem.eq(self.ins.mem), remaining.eq(self.ins.count),
                         due.eq(self.ins.count != 0), addr.eq(self.ins.addr), col.eq(0),
                         asm.reset()]

        word = asm.word
        m.d.comb += [
            self.spad_en.eq(pending & (w_mem == isa.Memory.SPAD)),
            self.spad_addr.eq(w_addr), self.spad_data.eq(word[:cfg.spad_bits]),
            self.wbuf_addr.eq(w_addr), self.wbuf_data.eq(word[:cfg.wbuf_bits]),
            self.bias_en.eq(pending & (w_mem == isa.Memory.BIAS)),
            self.bias_addr.eq(w_addr), self.bias_data.eq(word[:cfg.bias_bits]),
        ]
        for c in range(n):
            m.d.comb += self.wbuf_en[c].eq(pending & (w_mem == isa.Memory.WBUF) & (w_col == c))
        return m
