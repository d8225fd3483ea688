"""The command unit: reads host command words while no program runs (docs/isa.md, "Host
protocol"), writes PROGRAM's instructions to the program memory, starts RUNs, routes
the host stream to the load unit during a run and holds the sticky error."""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from . import isa
from .config import EngineConfig
from .isa import Command, Error
from .loader import WordAssembler


class CommandUnit(wiring.Component):
    """Host words on ``i``: commands, program words, and (during a run) LOAD words, which
    go out on ``load`` unchanged.

    Timing: a RUN word transferred at cycle ``r`` pulses ``run_start`` (with
    ``run_pc``, both registers) at ``r + RUN_START_DELAY``; the run lasts until
    ``run_done``.  A program's
    instruction is written the cycle after its final host word; the next command is
    taken after that write.  After an error (its own, or ``fault`` from the decoder)
    ``error``/``error_pc`` hold it, ``i`` is drained (ready high) and ``abort`` is high.
    """

    #: The RUN word -> ``run_start``: registered, the decoder's first fetch address comes
    #: from the host word otherwise.
    RUN_START_DELAY = 1
    #: Cycles after a PROGRAM's final host word before the next command word is taken
    #: (the final instruction's write).
    PROGRAM_TAIL = 1

    def __init__(self, config: EngineConfig):
        self.config = config
        self.addr_bits = max(1, (config.prog_words - 1).bit_length())
        super().__init__({
            "i": In(stream.Signature(config.host_bits)),
            "load": Out(stream.Signature(config.host_bits)),
            "prog_en": Out(1), "prog_addr": Out(self.addr_bits),
            "prog_data": Out(isa.INSTR_BITS),
            "run_start": Out(1), "run_pc": Out(16), "run_done": In(1),
            "fault": In(1), "fault_code": In(4), "fault_pc": In(16),
            "error": Out(4), "error_pc": Out(16), "abort": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        word = self.i.payload
        fire = Signal()
        m.d.comb += fire.eq(self.i.valid & self.i.ready)
        has_program = Signal()
        remaining = Signal(16)
        asm = WordAssembler(m, cfg, isa.INSTR_BITS, "prog")
        waddr = Signal(self.addr_bits)
        m.d.comb += [self.prog_data.eq(asm.word[:isa.INSTR_BITS]), self.prog_addr.eq(waddr)]
        m.d.sync += [self.prog_en.eq(0), self.run_start.eq(0)]

        # ``abort`` is ``error != 0`` as a register of its own, set with ``error``: it
        # gates the load stream and the load unit, away from the error's output pins.
        def fail(code, pc=0):
            with m.If(self.error == 0):
                m.d.sync += [self.error.eq(code), self.error_pc.eq(pc), self.abort.eq(1)]

        with m.If(self.fault):
            fail(self.fault_code, self.fault_pc)

        with m.FSM(name="command"):
            with m.State("COMMAND"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(fire & (self.error == 0)):
                    count, signature = word[4:20], word[32:64]
                    with m.Switch(word[:4]):
                        with m.Case(Command.PROGRAM):
                            with m.If((signature != cfg.signature) | (count > cfg.prog_words)):
                                fail(Error.BAD_SIGNATURE)
                            with m.Else():
                                m.d.sync += [remaining.eq(count), waddr.eq(0), asm.reset()]
                                m.next = "PROGRAM"
                        with m.Case(Command.RUN):
                            with m.If(~has_program):
                                fail(Error.NO_PROGRAM, word[4:20])
                            with m.Else():
                                m.d.sync += [self.run_start.eq(1), self.run_pc.eq(word[4:20])]
                                m.next = "RUN"
                        with m.Default():
                            fail(Error.BAD_COMMAND)
            with m.State("PROGRAM"):
                # Back to commands once the final instruction's write is under way.
                m.d.comb += self.i.ready.eq(remaining != 0)
                with m.If(remaining == 0):
                    m.d.sync += has_program.eq(1)
                    m.next = "COMMAND"
                with m.Elif(fire):
                    with m.If(asm.take(word, asm.max_parts)):
                        m.d.sync += [self.prog_en.eq(1), remaining.eq(remaining - 1)]
                with m.If(self.prog_en):
                    m.d.sync += waddr.eq(waddr + 1)
            with m.State("RUN"):
                m.d.comb += [self.load.valid.eq(self.i.valid),
                             self.load.payload.eq(word), self.i.ready.eq(self.load.ready)]
                with m.If(self.run_done | self.fault):
                    m.next = "COMMAND"
        # An engine in error drains its input and nothing else.
        with m.If(self.abort):
            m.d.comb += [self.i.ready.eq(1), self.load.valid.eq(0)]
        return m
