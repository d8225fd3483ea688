"""The output stage shared by MATMUL, POOL and ADD (docs/isa.md, "The output stage").

Each lane's value ``v`` becomes ``clip(round_shift(v << lshift, rshift, rounding), lo,
hi)``; its low ``lane_bits`` bits are what the scratchpad keeps.  The clip is
``min(max(x, lo), hi)`` (so ``hi`` wins when ``lo > hi``, as in the ISS), and skipped
with ``wrap``.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..arith import IntegerArithmetic, RoundingCode, round_up
from . import isa


def stage_layout() -> data.StructLayout:
    """The output-stage fields of an instruction (the names ``isa.FIELDS`` gives them)."""
    return data.StructLayout({"lshift": unsigned(4), "rshift": unsigned(isa.RSHIFT_BITS),
                              "rounding": unsigned(3), "lo": signed(isa.LIMIT_BITS),
                              "hi": signed(isa.LIMIT_BITS), "wrap": unsigned(1)})


def stage_fields(ins):
    """The output-stage fields of the instruction view ``ins``, as one ``stage_layout``
    value."""
    layout = stage_layout()
    return Cat(*(getattr(ins, name) for name, _ in layout))


def dropped(value, shift) -> object:
    """Whether ``value >> shift`` drops a set bit (``value``'s bits below ``shift``)."""
    width = len(value)
    mask = ~(Const(-1, signed(width + 1)) << shift)
    return (value.as_unsigned() & mask[:width]).any()


def finish_round(kept, sticky, rounding):
    """``IntegerArithmetic.finish_round`` with the mode chosen by one 8-way selection
    (a balanced mux, not a chain of eight: this stage also has the increment)."""
    kept = kept.as_signed()
    bits = dict(half=kept[0], sticky=sticky, negative=kept[-1], odd=kept[1])
    up = Array(round_up(code, **bits) for code in RoundingCode)[rounding]
    return ((kept >> 1) + up).as_signed()


class OutputStage(wiring.Component):
    """``lanes`` values of ``signed(in_bits)`` -> ``lanes`` values of ``lane_bits``.

    Fully pipelined, no handshake: ``valid``/``addr``/``value`` presented at cycle ``s``
    come out on ``o_valid``/``o_addr``/``o_data`` (registers) at cycle ``s + LATENCY``.
    The stage fields ``cfg`` must be constant while values are in flight and in the
    cycle before the first one (each lane registers its own copy).

    Stages: (1) left shift, (2, 3) the right shift keeping the round bit, by the high
    bits of ``rshift`` then by the low three, each gathering the sticky bit of what it
    drops, (4) the rounding increment, (5) ``x < lo``, (6) ``max(x, lo)``, (7) ``x > hi``,
    (8) ``min(x, hi)`` (neither with ``wrap``).  Each comparison has a cycle of its own:
    ``lo`` and ``hi`` reach every lane, and on the 8x8 engine that route and a
    48-bit comparison did not fit in one 10 ns cycle.
    """

    LATENCY = 8

    def __init__(self, *, lanes: int, in_bits: int, lane_bits: int, addr_bits: int):
        self.lanes, self.in_bits, self.lane_bits = lanes, in_bits, lane_bits
        super().__init__({
            "cfg": In(stage_layout()),
            "valid": In(1),
            "addr": In(unsigned(addr_bits)),
            "value": In(data.ArrayLayout(signed(in_bits), lanes)),
            "o_valid": Out(1),
            "o_addr": Out(unsigned(addr_bits)),
            "o_data": Out(data.ArrayLayout(unsigned(lane_bits), lanes)),
        })

    def elaborate(self, platform):
        m = Module()
        shifted_bits = self.in_bits + isa.MAX_LSHIFT
        # Control beside the lanes: valid and address, LATENCY registers.
        valid, addr = self.valid, self.addr
        for k in range(self.LATENCY - 1):
            v = Signal(name=f"valid_{k}")
            a = Signal.like(addr, name=f"addr_{k}", reset_less=True)
            m.d.sync += [v.eq(valid), a.eq(addr)]
            valid, addr = v, a
        m.d.sync += [self.o_valid.eq(valid), self.o_addr.eq(addr)]

        for lane in range(self.lanes):
            # The lane's own copy of the fields, next to it (``*_dup``: kept apart by
            # synthesis): one register for every lane's shifters and compares spanned
            # the die.
            cfg = Signal(stage_layout(), name=f"cfg_{lane}_dup", reset_less=True)
            m.d.sync += cfg.eq(self.cfg)
            s1 = Signal(signed(shifted_bits), name=f"shifted_{lane}", reset_less=True)
            m.d.sync += s1.eq(self.value[lane] << cfg.lshift)
            # kept = (s1 << 1) >> rshift (the round bit kept); sticky: a dropped bit below
            # it was set.  Coarse then fine, so each stage has half the mux levels.
            coarse, fine = Cat(Const(0, 3), cfg.rshift[3:]), cfg.rshift[:3]
            kept_hi = Signal(signed(shifted_bits + 1), name=f"kept_hi_{lane}", reset_less=True)
            sticky_hi = Signal(name=f"sticky_hi_{lane}", reset_less=True)
            m.d.sync += [kept_hi.eq(IntegerArithmetic.shift_keeping_round_bit(s1, coarse)),
                         sticky_hi.eq(dropped(s1 << 1, coarse))]
            kept = Signal(signed(shifted_bits + 1), name=f"kept_{lane}", reset_less=True)
            sticky = Signal(name=f"sticky_{lane}", reset_less=True)
            m.d.sync += [kept.eq(kept_hi >> fine),
                         sticky.eq(sticky_hi | dropped(kept_hi, fine))]
            rounded = Signal(signed(shifted_bits + 1), name=f"rounded_{lane}", reset_less=True)
            m.d.sync += rounded.eq(finish_round(kept, sticky, cfg.rounding))
            below = Signal(name=f"below_{lane}", reset_less=True)
            checked = Signal(signed(shifted_bits + 1), name=f"checked_{lane}", reset_less=True)
            m.d.sync += [below.eq((rounded < cfg.lo) & ~cfg.wrap), checked.eq(rounded)]
            low = Signal(signed(shifted_bits + 1), name=f"low_{lane}", reset_less=True)
            m.d.sync += low.eq(Mux(below, cfg.lo, checked))
            above = Signal(name=f"above_{lane}", reset_less=True)
            kept_low = Signal(self.lane_bits, name=f"kept_low_{lane}", reset_less=True)
            m.d.sync += [above.eq((low > cfg.hi) & ~cfg.wrap), kept_low.eq(low[:self.lane_bits])]
            m.d.sync += self.o_data[lane].eq(Mux(above, cfg.hi[:self.lane_bits], kept_low))
        return m
