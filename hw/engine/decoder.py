"""The decoder: fetches instructions, checks them (``isa.check`` in hardware) and issues
each to its unit once the unit, the units named in its wait bits and the
shared-port hazards (docs/isa.md, "The machine") allow."""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from . import isa
from .config import EngineConfig
from .isa import Error, Memory, Opcode, Unit

PC_BITS = 17     # one more than a RUN's pc field: "past the end" of a 2**16-word memory


def times_constant(value, factor: int):
    """``value * factor`` for a constant ``factor`` as a sum of shifts (no multiplier)."""
    total = Const(0, 1)
    for b in range(factor.bit_length()):
        if factor >> b & 1:
            total = total + (value << b)
    return total


def check_word(m: Module, word, config: EngineConfig) -> Signal:
    """``isa.check`` of the 384-bit ``word`` as logic in ``m``: an ``Error`` code, valid
    one cycle after ``word`` (the sums of the range checks are
    registered, then compared)."""
    ops = {op: data.View(isa.layout(op), word) for op in Opcode}
    load, store, window = ops[Opcode.LOAD], ops[Opcode.STORE], ops[Opcode.MATMUL]

    def registered(value, name):
        reg = Signal.like(value, name=name)
        m.d.sync += reg.eq(value)
        return reg

    load_end = registered(load.addr + load.count, "load_end")
    store_end = registered(store.addr + store.count, "store_end")
    # addr + ceil(count / N) > depth  <=>  addr > depth or count > N * (depth - addr)
    room = (config.wbuf_words - load.addr)[:isa.ADDR_BITS]
    wbuf_addr_past_end = registered(load.addr > config.wbuf_words, "wbuf_addr_past_end")
    wbuf_room = registered(times_constant(room, config.array), "wbuf_room")
    load_past_end = Signal(name="load_past_end")
    with m.Switch(load.mem):
        with m.Case(Memory.SPAD):
            m.d.comb += load_past_end.eq(load_end > config.spad_words)
        with m.Case(Memory.WBUF):
            m.d.comb += load_past_end.eq(wbuf_addr_past_end | (load.count > wbuf_room))
        with m.Default():
            m.d.comb += load_past_end.eq(load_end > config.bias_words)
    zero_bound = ((window.oh == 0) | (window.ow == 0) | (window.tiles == 0) |
                  (window.kh == 0) | (window.kw == 0) | (window.chunks == 0))

    verdict = Signal(4, name="verdict")
    with m.Switch(ops[Opcode.SYNC].opcode):
        with m.Case(Opcode.LOAD):
            with m.If((load.mem == 3) | (load.count == 0)):
                m.d.comb += verdict.eq(Error.BAD_FIELD)
            with m.Elif(load_past_end):
                m.d.comb += verdict.eq(Error.BAD_RANGE)
        with m.Case(Opcode.STORE):
            with m.If(store.count == 0):
                m.d.comb += verdict.eq(Error.BAD_FIELD)
            with m.Elif(store_end > config.spad_words):
                m.d.comb += verdict.eq(Error.BAD_RANGE)
        with m.Case(Opcode.MATMUL):
            odd_wide = window.wide & window.chunks[0]
            m.d.comb += verdict.eq(Mux(zero_bound | odd_wide, Error.BAD_FIELD, Error.NONE))
        with m.Case(Opcode.POOL):
            m.d.comb += verdict.eq(Mux(zero_bound, Error.BAD_FIELD, Error.NONE))
        with m.Case(Opcode.ADD):
            m.d.comb += verdict.eq(Mux(ops[Opcode.ADD].count == 0, Error.BAD_FIELD,
                                       Error.NONE))
        with m.Case(Opcode.SYNC, Opcode.END):
            pass
        with m.Default():
            m.d.comb += verdict.eq(Error.ILLEGAL_OPCODE)
    return verdict


class Decoder(wiring.Component):
    """Runs the program from ``start_pc`` (given with ``start``) to END.

    Timing: ``start`` at cycle ``r`` -> the first instruction may issue at
    ``r + FIRST_ISSUE`` (``prog_addr`` is a register: the read waits a cycle for it);
    an instruction issued at ``t`` lets the next one issue at
    ``t + ISSUE_INTERVAL`` (the read, the instruction register, the check's two
    registers), later when it waits.  A unit
    started at ``t`` reports ``busy`` from ``t + 1``.  The issue condition (units idle,
    wait bits, hazards) is registered: an instruction that waits for a unit issues
    ``IDLE_TO_ISSUE`` cycles after the first cycle the unit is idle.  END issues when
    every unit is idle, with a ``done`` pulse; ``running`` is
    low from the next cycle.  A failed check, or a pc past the program memory,
    stops the run with ``fault`` (one cycle) and the code and pc on ``fault_code`` and
    ``fault_pc``; units already started finish.
    """

    FIRST_ISSUE = 5
    ISSUE_INTERVAL = 4
    IDLE_TO_ISSUE = 1

    def __init__(self, config: EngineConfig):
        self.config = config
        self.addr_bits = max(1, (config.prog_words - 1).bit_length())
        super().__init__({
            "start": In(1), "start_pc": In(16),
            "prog_addr": Out(self.addr_bits), "prog_data": In(isa.INSTR_BITS),
            "ins": Out(isa.INSTR_BITS),
            "issue": Out(data.ArrayLayout(1, len(Unit))),
            "unit_busy": In(data.ArrayLayout(1, len(Unit))),
            "load_spad_busy": In(1),
            "running": Out(1), "done": Out(1),
            "fault": Out(1), "fault_code": Out(4), "fault_pc": Out(16),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        pc = Signal(PC_BITS)
        pc_next = Signal(PC_BITS)       # pc + 1, registered: the next fetch address
        verdict = Signal(4)
        head = data.View(isa.header_layout(), self.ins)
        load = data.View(isa.layout(Opcode.LOAD), self.ins)
        busy = self.unit_busy
        waits = head.wait
        waited = ~((waits[Unit.LOAD] & busy[Unit.LOAD]) | (waits[Unit.EXEC] & busy[Unit.EXEC])
                   | (waits[Unit.STORE] & busy[Unit.STORE]))
        exec_op = ((head.opcode == Opcode.MATMUL) | (head.opcode == Opcode.POOL)
                   | (head.opcode == Opcode.ADD))
        ready = Signal()
        with m.Switch(head.opcode):
            with m.Case(Opcode.LOAD):
                m.d.comb += ready.eq(~busy[Unit.LOAD] & ((load.mem != Memory.SPAD)
                                                         | ~busy[Unit.EXEC]))
            with m.Case(Opcode.STORE):
                m.d.comb += ready.eq(~busy[Unit.STORE] & ~busy[Unit.EXEC])
            with m.Case(Opcode.MATMUL, Opcode.POOL, Opcode.ADD):
                m.d.comb += ready.eq(~busy[Unit.EXEC] & ~self.load_spad_busy
                                     & ~busy[Unit.STORE])
            with m.Case(Opcode.END):
                m.d.comb += ready.eq(~busy.as_value().any())
            with m.Default():
                m.d.comb += ready.eq(1)
        # Registered: only this decoder starts units, so a unit idle in the cycle before
        # an ISSUE cycle is still idle in it.
        ready_seen = Signal()
        m.d.sync += ready_seen.eq(ready & waited)

        # The check of the instruction register, registered.
        word_verdict = check_word(m, self.ins, cfg)

        def fault(code, at):
            return [self.fault.eq(1), self.fault_code.eq(code), self.fault_pc.eq(at)]

        def fetch(at, then="DECODE"):
            """Go on to the instruction at ``at`` (or stop past the program memory) in
            state ``then``.  The program memory reads at ``prog_addr``, a register: ``at``
            is on it in this cycle (``ISSUE``: ``pc_next``, loaded while the instruction
            was decoded) or the next (``IDLE``: ``start_pc``, hence ``LAUNCH``)."""
            m.d.sync += [pc.eq(at), pc_next.eq(at + 1)]
            with m.If(at >= cfg.prog_words):
                m.d.comb += fault(Error.PC_OVERFLOW, at)
                m.next = "IDLE"
            with m.Else():
                m.next = then

        # The read address is a register: it crosses the die to every block RAM of the
        # program memory.  It follows ``start_pc`` while idle and ``pc_next`` after.
        with m.If(self.running):
            m.d.sync += self.prog_addr.eq(pc_next)
        with m.Else():
            m.d.sync += self.prog_addr.eq(self.start_pc)

        with m.FSM(name="decoder"):
            with m.State("IDLE"):
                with m.If(self.start):
                    fetch(self.start_pc, then="LAUNCH")
            with m.State("LAUNCH"):       # the read at start_pc
                m.d.comb += self.running.eq(1)
                m.next = "DECODE"
            with m.State("DECODE"):
                m.d.comb += self.running.eq(1)
                m.d.sync += self.ins.eq(self.prog_data)
                m.next = "CHECK"
            with m.State("CHECK"):        # the range sums register
                m.d.comb += self.running.eq(1)
                m.next = "VERDICT"
            with m.State("VERDICT"):
                m.d.comb += self.running.eq(1)
                m.d.sync += verdict.eq(word_verdict)
                m.next = "ISSUE"
            with m.State("ISSUE"):
                m.d.comb += self.running.eq(1)
                with m.If(verdict != Error.NONE):
                    m.d.comb += fault(verdict, pc)
                    m.next = "IDLE"
                with m.Elif(ready_seen):
                    m.d.comb += [self.issue[Unit.LOAD].eq(head.opcode == Opcode.LOAD),
                                 self.issue[Unit.EXEC].eq(exec_op),
                                 self.issue[Unit.STORE].eq(head.opcode == Opcode.STORE)]
                    with m.If(head.opcode == Opcode.END):
                        m.d.comb += self.done.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        fetch(pc_next)
        return m
