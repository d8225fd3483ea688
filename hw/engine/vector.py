"""The vector unit: POOL (max or sum over a window's real cells) and ADD, and ADD's cell
generator.  Both instructions are the same reduction over cells that arrive one per
cycle: a POOL window is ``kh*kw*chunks`` cells, an ADD output word two (``a[i] << la``
then ``b[i] << lb``, the shift done by the exec unit's operand stage).
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..pipeline import delay
from . import isa
from .config import EngineConfig
from .window import bits_for, element_layout

#: A window has at most 15 * 15 * 4095 cells (< 2**20).
WINDOW_CELL_BITS = 20


def operand_bits(config: EngineConfig) -> int:
    """A lane sign/zero-extended (``lane_bits + 1``), then shifted left by up to 15."""
    return config.lane_bits + 1 + isa.MAX_LSHIFT


def sum_bits(config: EngineConfig) -> int:
    """The POOL sum of up to ``2**20`` extended lanes, or ADD's sum of two operands."""
    return max(config.lane_bits + 1 + WINDOW_CELL_BITS, operand_bits(config) + 1)


class AddGenerator(wiring.Component):
    """ADD's cells: for ``i < count``, ``a_base + i`` (``first``, shift ``la``) then
    ``b_base + i`` (``last``, shift ``lb``, output word ``o_base + i``).

    Timing as ``window.WindowGenerator``: ``start`` at ``s``, first cell at
    ``s + START_LATENCY``, then one per cycle (two per output word); ``cell`` is a
    register, the last one has ``final``.
    """

    START_LATENCY = 2

    def __init__(self, config: EngineConfig):
        self.config = config
        super().__init__({
            "start": In(1),
            "ins": In(isa.layout(isa.Opcode.ADD)),
            "busy": Out(1),
            "cell": Out(element_layout(config)),
        })

    def elaborate(self, platform):
        m = Module()
        f, a_bits = self.ins, bits_for(self.config.spad_words)
        a, b, o = Signal(a_bits), Signal(a_bits), Signal(a_bits)
        rem = Signal(isa.COUNT_BITS)
        second = Signal()              # the next cell is b[i]
        running = self.busy
        with m.If(self.start):
            m.d.sync += [running.eq(1), a.eq(f.a_base), b.eq(f.b_base), o.eq(f.o_base),
                         rem.eq(f.count - 1), second.eq(0)]
        with m.Elif(running):
            m.d.sync += second.eq(~second)
            with m.If(second):
                m.d.sync += [a.eq(a + 1), b.eq(b + 1), o.eq(o + 1), rem.eq(rem - 1)]
                with m.If(rem == 0):
                    m.d.sync += running.eq(0)
        cell = self.cell
        m.d.sync += [
            cell.valid.eq(running), cell.first.eq(~second), cell.last.eq(second),
            cell.final.eq(second & (rem == 0)), cell.real.eq(1),
            cell.unsigned.eq(Mux(second, f.b_unsigned, f.a_unsigned)),
            cell.shift.eq(Mux(second, f.lb, f.la)),
            cell.addr.eq(Mux(second, b, a)), cell.o_addr.eq(o),
            cell.w_addr.eq(0), cell.b_addr.eq(0), cell.high.eq(0),
        ]
        return m


class VectorPath(wiring.Component):
    """Per lane, over the cells of one output word: the sum of the (masked, shifted)
    operands, or (``pool_max``) the largest of the real ones, 0 when none is real.

    Timing: the operand of a cell at cycle ``s``; the cell with ``last`` gives the
    output word on ``value``/``o_addr`` with ``valid`` (registers) at ``s + LATENCY``.
    Each lane first registers its operand and its own copy of the cell's ``valid``,
    ``first`` and ``real`` (named ``*_dup``, kept apart by synthesis): the update of a
    lane's sum and maximum then starts from registers next to it, not from one control
    register fanned out to every lane.
    """

    LATENCY = 3

    def __init__(self, config: EngineConfig):
        self.config = config
        n = config.array
        super().__init__({
            "ctl": In(element_layout(config)),
            "lanes": In(data.ArrayLayout(signed(operand_bits(config)), n)),
            "pool_max": In(1),
            "valid": Out(1),
            "o_addr": Out(bits_for(config.spad_words)),
            "value": Out(data.ArrayLayout(signed(sum_bits(config)), n)),
        })

    def elaborate(self, platform):
        m = Module()
        ctl = self.ctl
        valid = delay(m, ctl.valid & ctl.last, self.LATENCY - 1, 1, "valid")
        o_addr = delay(m, ctl.o_addr, self.LATENCY - 1, 1, "o_addr")
        m.d.sync += [self.valid.eq(valid), self.o_addr.eq(o_addr)]
        for lane in range(self.config.array):
            v = Signal.like(self.lanes[lane], name=f"operand_{lane}", reset_less=True)
            on, first, real = (Signal(name=f"{bit}_{lane}_dup")
                               for bit in ("valid", "first", "real"))
            m.d.sync += [v.eq(self.lanes[lane]), on.eq(ctl.valid), first.eq(ctl.first),
                         real.eq(ctl.real)]
            total = Signal(signed(sum_bits(self.config)), name=f"sum_{lane}", reset_less=True)
            # A POOL cell's operand is its lane extended, unshifted (only ADD shifts):
            # the maximum compares lane_bits + 1 bits, not the shifted operand's width.
            best = Signal(signed(self.config.lane_bits + 1), name=f"best_{lane}",
                          reset_less=True)
            have = Signal(name=f"have_{lane}")
            with m.If(on):
                m.d.sync += total.eq(Mux(first, 0, total) + v)
                m.d.sync += have.eq(~first & have | real)
                narrow = v[:len(best)].as_signed()
                with m.If(real & (first | ~have | (narrow > best))):
                    m.d.sync += best.eq(narrow)
            m.d.sync += self.value[lane].eq(
                Mux(self.pool_max, Mux(have, best, 0), total))
        return m
