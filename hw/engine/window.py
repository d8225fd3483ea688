"""The MATMUL/POOL loop nest (docs/isa.md, "The window fields") as an address generator.

Incremental adders only: every level of the nest keeps its partial address in a
register and adds its step when it advances; no multiplier.  Counters count down, each
level's "at its last value" flag is a register, and so are the loop's decisions (which
level advances, which reload), computed a cycle ahead from the flags' next values.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from . import isa
from .config import EngineConfig

#: Signed width of ``iy``/``ix``: ``oy*sy + ky*dy`` (< 2**16 + 2**8) minus ``pt``.
COORD_BITS = isa.DIM_BITS + isa.KERNEL_BITS + 2


def bits_for(depth: int) -> int:
    """Address bits of a power-of-two memory of ``depth`` words."""
    return max(1, (depth - 1).bit_length())


def element_layout(config: EngineConfig) -> data.StructLayout:
    """One cell of the loop nest, as the generator emits it (and the exec unit carries).

    ``first``/``last``: the window's first/last cell (an output word starts/ends);
    ``final``: the instruction's last cell; ``shift``/``unsigned``: how the cell's lanes
    are extended (ADD's ``la``/``lb``; 0 and ``a_unsigned`` for MATMUL/POOL, unsigned
    for the low-byte chunks of a ``wide`` MATMUL); ``high``: a high-byte chunk of a
    ``wide`` MATMUL (its products count ``2**lane_bits`` times).
    """
    return data.StructLayout({
        "valid": 1, "first": 1, "last": 1, "final": 1, "real": 1, "high": 1,
        "unsigned": 1, "shift": unsigned(4),
        "addr": unsigned(bits_for(config.spad_words)),
        "w_addr": unsigned(bits_for(config.wbuf_words)),
        "b_addr": unsigned(bits_for(config.bias_words)),
        "o_addr": unsigned(bits_for(config.spad_words)),
    })


class _Level:
    """One loop counter counting ``bound - 1`` down to 0 with a registered ``last`` flag."""

    def __init__(self, name: str, bound, width: int):
        self.bound = bound
        self.rem = Signal(width, name=f"{name}_rem")
        self.last = Signal(name=f"{name}_last")

    def load(self):
        return [self.rem.eq(self.bound - 1), self.last.eq(self.bound == 1)]

    def step(self):
        return [self.rem.eq(self.rem - 1), self.last.eq(self.rem == 1)]


class WindowGenerator(wiring.Component):
    """Walks the loop nest of the instruction ``ins`` (MATMUL or POOL view).

    Timing: ``start`` (one cycle, ``ins`` valid from then on and constant until ``busy``
    falls) at cycle ``s``; the first cell is on ``cell`` at cycle ``s + START_LATENCY``,
    then one cell per cycle without a gap; the cell with ``final`` set is the last
    (``busy`` is high from ``s + 1`` up to the cycle before it).  ``cell`` is a
    register.

    ``real`` is the bounds check of the cell; ``w_addr``/``b_addr`` the weight word and
    bias word of its tile; ``o_addr`` the output word (meaningful with ``last``);
    ``high`` (a ``wide`` MATMUL) is ``c >= chunks / 2``.
    """

    #: ``start`` -> the first cell: the counters load, then the cell register.
    START_LATENCY = 2

    def __init__(self, config: EngineConfig):
        self.config = config
        super().__init__({
            "start": In(1),
            "ins": In(isa.layout(isa.Opcode.MATMUL)),
            "busy": Out(1),
            "cell": Out(element_layout(config)),
        })

    def elaborate(self, platform):
        m = Module()
        f, cfg = self.ins, self.config
        a_bits = bits_for(cfg.spad_words)
        running = Signal()
        m.d.comb += self.busy.eq(running)

        levels = {name: _Level(name, getattr(f, bound), width) for name, bound, width in [
            ("oy", "oh", isa.DIM_BITS), ("ox", "ow", isa.DIM_BITS),
            ("t", "tiles", isa.DIM_BITS), ("ky", "kh", isa.KERNEL_BITS),
            ("kx", "kw", isa.KERNEL_BITS), ("c", "chunks", isa.DIM_BITS)]}
        order = list(levels)          # outermost first

        def carries(lasts):
            """From each level's "at its last value" flag: carry[name] (every level from
            this one inwards is at its last value) and advance[name] (this level steps:
            every level inside it is at its last value, it is not).  At most one level
            advances."""
            carry, inner = {}, 1
            for name in reversed(order):
                carry[name] = inner & lasts[name]
                inner = carry[name]
            advance = {name: (carry[order[k + 1]] if k + 1 < len(order) else 1) & ~lasts[name]
                       for k, name in enumerate(order)}
            return carry, advance

        # Registers, computed a cycle ahead from the flags' next values: the loop's
        # decisions start from flip-flops, not from a chain of ANDs.
        carry = {name: Signal(name=f"carry_{name}") for name in order}
        advance = {name: Signal(name=f"advance_{name}") for name in order}
        next_last = {name: Signal(name=f"{name}_next_last") for name in order}
        for name in order:
            lv = levels[name]
            m.d.comb += next_last[name].eq(Mux(advance[name], lv.rem == 1,
                                               Mux(carry[name], lv.bound == 1, lv.last)))

        def decide(lasts):
            carry_of, advance_of = carries(lasts)
            return ([carry[n].eq(carry_of[n]) for n in order]
                    + [advance[n].eq(advance_of[n]) for n in order])

        done = carry["oy"]

        # Partial addresses: p[level] = a_start + the steps of every level down to it.
        steps = {"oy": f.a_oy, "ox": f.a_ox, "t": f.a_t, "ky": f.a_ky, "kx": f.a_kx, "c": 1}
        p = {name: Signal(a_bits, name=f"p_{name}") for name in order}
        # Input coordinates: iy = oy*sy - pt + ky*dy, ix = ox*sx - pl + kx*dx.
        qy, iy = Signal(signed(COORD_BITS)), Signal(signed(COORD_BITS))
        qx, ix = Signal(signed(COORD_BITS)), Signal(signed(COORD_BITS))
        w = Signal(bits_for(cfg.wbuf_words))
        b = Signal(bits_for(cfg.bias_words))
        o_oy, o_ox, o = Signal(a_bits), Signal(a_bits), Signal(a_bits)
        first = Signal()
        # wide: chunk c >= chunks // 2 is a high byte; c = chunks - 1 - rem, and c = 0 is
        # a low byte (a wide MATMUL has an even chunks, or it does not run).
        wide = Signal()
        m.d.comb += wide.eq(f.wide & (f.opcode == isa.Opcode.MATMUL))
        high, high_from = Signal(), Signal(isa.DIM_BITS)

        # While idle every register follows the instruction's first cell (``ins`` holds
        # from ``start`` on), so ``start`` only sets ``running``: it does not select
        # between loading and stepping in front of every register.
        with m.If(~running):
            m.d.sync += running.eq(self.start)
            m.d.sync += [s for lv in levels.values() for s in lv.load()]
            m.d.sync += decide({name: levels[name].bound == 1 for name in order})
            m.d.sync += [p[name].eq(f.a_start) for name in order]
            m.d.sync += [qy.eq(-f.pt), iy.eq(-f.pt), qx.eq(-f.pl), ix.eq(-f.pl),
                         w.eq(f.w_base), b.eq(f.b_base), o_oy.eq(f.o_base),
                         o_ox.eq(f.o_base), o.eq(f.o_base), first.eq(1), high.eq(0),
                         high_from.eq(f.chunks - (f.chunks >> 1))]
        with m.Else():
            m.d.sync += decide(next_last)
            m.d.sync += first.eq(carry["ky"])
            with m.If(done):
                m.d.sync += running.eq(0)
            # Each level: its own step, or reloaded from the level that advances.
            for name in order:
                lv = levels[name]
                with m.If(advance[name]):
                    m.d.sync += lv.step()
                with m.Elif(carry[name]):
                    m.d.sync += lv.load()
            # A partial address takes the step of the level that advances, when that is
            # its own or one outside it.  At most one level advances in a cycle, so the
            # choice is an AND-OR of the sums, not a chain of priority muxes.
            for k, inner_name in enumerate(order):
                outer = order[:k + 1]
                value = 0
                for name in outer:
                    value = value | Mux(advance[name], p[name] + steps[name], 0)
                with m.If(Cat(*(advance[name] for name in outer)).any()):
                    m.d.sync += p[inner_name].eq(value)
            with m.If(advance["c"]):
                m.d.sync += high.eq(wide & (levels["c"].rem <= high_from))
            with m.Else():
                m.d.sync += high.eq(0)
            # Coordinates follow the same carries.
            with m.If(advance["oy"]):
                m.d.sync += [qy.eq(qy + f.sy), iy.eq(qy + f.sy)]
            with m.Elif(advance["ox"] | advance["t"]):
                m.d.sync += iy.eq(qy)
            with m.Elif(advance["ky"]):
                m.d.sync += iy.eq(iy + f.dy)
            with m.If(advance["oy"]):
                m.d.sync += [qx.eq(-f.pl), ix.eq(-f.pl)]
            with m.Elif(advance["ox"]):
                m.d.sync += [qx.eq(qx + f.sx), ix.eq(qx + f.sx)]
            with m.Elif(advance["t"] | advance["ky"]):
                m.d.sync += ix.eq(qx)
            with m.Elif(advance["kx"]):
                m.d.sync += ix.eq(ix + f.dx)
            # Weights: consecutive words of one output pixel's tiles; bias and output
            # address: one per tile.
            with m.If(advance["oy"] | advance["ox"]):
                m.d.sync += [w.eq(f.w_base), b.eq(f.b_base)]
            with m.Else():
                m.d.sync += w.eq(w + 1)
                with m.If(advance["t"]):
                    m.d.sync += b.eq(b + 1)
            with m.If(advance["oy"]):
                m.d.sync += [o_oy.eq(o_oy + f.o_oy), o_ox.eq(o_oy + f.o_oy),
                             o.eq(o_oy + f.o_oy)]
            with m.Elif(advance["ox"]):
                m.d.sync += [o_ox.eq(o_ox + f.o_ox), o.eq(o_ox + f.o_ox)]
            with m.Elif(advance["t"]):
                m.d.sync += o.eq(o + 1)

        # The cell register (the bounds check of the registered coordinates).
        cell = self.cell
        m.d.sync += [
            cell.valid.eq(running), cell.first.eq(first), cell.last.eq(carry["ky"]),
            cell.final.eq(done), cell.unsigned.eq(f.a_unsigned | wide & ~high),
            cell.high.eq(high), cell.shift.eq(0),
            cell.real.eq((iy >= 0) & (iy < f.ih) & (ix >= 0) & (ix < f.iw)),
            cell.addr.eq(p["c"]), cell.w_addr.eq(w), cell.b_addr.eq(b), cell.o_addr.eq(o),
        ]
        return m
