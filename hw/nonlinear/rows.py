"""Pieces shared by the row units (``Softmax``, ``Norm``).

A row unit is three stages joined by FIFOs, so that consecutive rows overlap:

    i -> [row input: element queue + row statistics] -> [serial row solver] ->
         [row output: per-element transform, held under back-pressure] -> o

The input stage stores each element with an ``end`` flag (the row's ``last``, or the
``max_len``-th element) and pushes the row's statistics when the row ends; the solver
turns statistics into per-row parameters (a reciprocal, a square root) a bit per clock;
the output stage takes a row from the element queue once its parameters are there.  The
element queue is deep enough to hold a row plus everything that arrives while the solver
works on it, so rows at least ``solver_cycles`` long stream at one element per clock;
shorter rows go at one row per ``solver_cycles``.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ...compiler.formats import check_int


def element_layout(shape) -> data.StructLayout:
    """One queued element: its value and whether it closes its row."""
    return data.StructLayout({"data": shape, "end": 1})


def element_queue(m: Module, name: str, shape, depth: int):
    """A block-RAM friendly FIFO of ``element_layout(shape)`` entries; returns
    ``(fifo, write view, read view)``."""
    layout = element_layout(shape)
    fifo = SyncFIFOBuffered(width=layout.size, depth=depth)
    m.submodules[name] = fifo
    return fifo, data.View(layout, fifo.w_data), data.View(layout, fifo.r_data)


def row_input(m: Module, i, max_len: int, queue, queue_in, stats_queue):
    """Accept ``i`` into ``queue`` (``queue_in`` is its write view) while both it and
    ``stats_queue`` have room; a row ends on ``last`` or at ``max_len`` elements.

    Returns ``(accept, end, first)``: an element is taken this cycle, it closes its row
    (``stats_queue`` is written then; the caller drives its ``w_data``), it opens one."""
    count = Signal(range(max_len), name="row_count")
    accept, end = Signal(name="row_accept"), Signal(name="row_end")
    m.d.comb += [
        i.ready.eq(queue.w_rdy & stats_queue.w_rdy),
        accept.eq(i.valid & i.ready),
        end.eq(i.payload.last | (count == max_len - 1)),
        queue_in.data.eq(i.payload.data), queue_in.end.eq(end), queue.w_en.eq(accept),
        stats_queue.w_en.eq(accept & end),
    ]
    with m.If(accept):
        m.d.sync += count.eq(Mux(end, 0, count + 1))
    return accept, end, count == 0


def row_output(m: Module, o, queue, queue_out, params_queue):
    """Take the next queued element once its row's parameters are there and the output
    pipeline is not held; the row's parameters are dropped with its ``end`` element.

    Returns ``(hold, go)``: the pipeline must keep its registers (``o`` holds a value it
    cannot pass on), an element enters it this cycle."""
    hold, go = Signal(name="out_hold"), Signal(name="out_go")
    m.d.comb += [
        hold.eq(o.valid & ~o.ready),
        go.eq(queue.r_rdy & params_queue.r_rdy & ~hold),
        queue.r_en.eq(go), params_queue.r_en.eq(go & queue_out.end),
    ]
    return hold, go


class SerialReciprocal(wiring.Component):
    """``quotient = floor(2**shift / divisor)`` by restoring division, one quotient bit
    per clock: ``cycles`` clocks from ``start`` to ``done`` (a one-cycle pulse; the
    result then stays until the next start).

    The caller guarantees ``divisor > 2**(shift - quotient_bits)``, which makes the
    quotient fit ``quotient_bits``; the start remainder ``2**(shift - quotient_bits)``
    is then below the divisor, as restoring division needs.
    """

    def __init__(self, *, shift: int, divisor_bits: int, quotient_bits: int):
        check_int("shift", shift, low=1, high=256)
        check_int("divisor_bits", divisor_bits, low=1, high=256)
        check_int("quotient_bits", quotient_bits, low=1, high=shift)
        self.shift, self.quotient_bits = shift, quotient_bits
        super().__init__({
            "start": In(1), "divisor": In(unsigned(divisor_bits)),
            "done": Out(1), "quotient": Out(unsigned(quotient_bits)),
        })

    @property
    def cycles(self) -> int:
        return self.quotient_bits

    def elaborate(self, platform):
        m = Module()
        width = len(self.divisor) + 1
        remainder = Signal(unsigned(width))
        divisor = Signal.like(self.divisor)
        steps = Signal(range(self.quotient_bits + 1))
        shifted = remainder << 1
        fits = shifted >= divisor
        m.d.sync += self.done.eq(steps == 1)
        with m.If(self.start):
            m.d.sync += [remainder.eq(1 << (self.shift - self.quotient_bits)),
                         divisor.eq(self.divisor), self.quotient.eq(0),
                         steps.eq(self.quotient_bits)]
        with m.Elif(steps != 0):
            m.d.sync += [remainder.eq(Mux(fits, shifted - divisor, shifted)),
                         self.quotient.eq(Cat(fits, self.quotient)), steps.eq(steps - 1)]
        return m


class SerialSqrt(wiring.Component):
    """``root = floor(sqrt(value))`` by the digit-by-digit (restoring) method, one root
    bit per clock: ``cycles`` clocks from ``start`` to ``done`` (a one-cycle pulse).

    Same result as I-BERT's Newton iteration (golden ``isqrt_newton``, tested equal to
    ``math.isqrt``), but with a fixed latency and no divider in the loop.
    """

    def __init__(self, *, value_bits: int):
        check_int("value_bits", value_bits, low=1, high=256)
        self.root_bits = (value_bits + 1) // 2
        super().__init__({
            "start": In(1), "value": In(unsigned(value_bits)),
            "done": Out(1), "root": Out(unsigned(self.root_bits)),
        })

    @property
    def cycles(self) -> int:
        return self.root_bits

    def elaborate(self, platform):
        m = Module()
        bits = 2 * self.root_bits
        pending = Signal(unsigned(bits))               # value bits not yet brought down
        remainder = Signal(unsigned(self.root_bits + 2))
        steps = Signal(range(self.root_bits + 1))
        brought = Cat(pending[-2:], remainder)         # remainder * 4 + next two bits
        trial = Cat(1, 0, self.root)                   # root * 4 + 1
        fits = brought >= trial
        m.d.sync += self.done.eq(steps == 1)
        with m.If(self.start):
            m.d.sync += [pending.eq(self.value), remainder.eq(0), self.root.eq(0),
                         steps.eq(self.root_bits)]
        with m.Elif(steps != 0):
            m.d.sync += [remainder.eq(Mux(fits, brought - trial, brought)),
                         self.root.eq(Cat(fits, self.root)), pending.eq(pending << 2),
                         steps.eq(steps - 1)]
        return m
