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
shorter rows go at one row per ``solver_cycles``.  A ``pipelined`` solver unrolls the
bit loops into one stage per bit (more area) and takes a row every clock.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ...numerics.checks import check_int
from ..pipeline import delay


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


def row_output(m: Module, o, queue, queue_out, params_queue, params_out):
    """First stage of an output pipeline: take the next queued element once its row's
    parameters are there and the pipeline is not held, and register both (so a block
    RAM's slow clock-to-out does not meet the caller's multiplier in one clock); the
    row's parameters leave their queue with its ``end`` element.

    Returns ``(hold, valid, end, element, params)``: the pipeline must keep its
    registers (``o`` holds a value it cannot pass on), and the registered stage."""
    hold, go = Signal(name="out_hold"), Signal(name="out_go")
    m.d.comb += [
        hold.eq(o.valid & ~o.ready),
        go.eq(queue.r_rdy & params_queue.r_rdy & ~hold),
        queue.r_en.eq(go), params_queue.r_en.eq(go & queue_out.end),
    ]
    valid, end = Signal(name="out_valid"), Signal(name="out_end")
    element = Signal.like(queue_out.data, name="out_element")
    params = Signal.like(params_out, name="out_params")
    with m.If(~hold):
        m.d.sync += [valid.eq(go), end.eq(go & queue_out.end), element.eq(queue_out.data),
                     params.eq(params_out)]
    return hold, valid, end, element, params


def solver_pipeline(m: Module, source, sink, latency: int, name: str = "solver"):
    """Flow control of a pipelined row solver between two FIFOs: an entry is taken from
    ``source`` whenever the pipeline moves, reaches ``sink`` ``latency`` moves later, and
    the whole pipeline holds while ``sink`` is full.  Returns the ``advance`` enable for
    the caller's stages (which must be ``latency`` deep)."""
    out_valid = Signal(name=f"{name}_out_valid")
    advance, take = Signal(name=f"{name}_advance"), Signal(name=f"{name}_take")
    m.d.comb += [advance.eq(~out_valid | sink.w_rdy), take.eq(source.r_rdy & advance),
                 source.r_en.eq(take),
                 out_valid.eq(delay(m, take, latency, advance, f"{name}_valid")),
                 sink.w_en.eq(out_valid)]
    return advance


def reciprocal_step(remainder, divisor):
    """One restoring-division step: ``(next remainder, quotient bit)``."""
    shifted = remainder << 1
    fits = shifted >= divisor
    return Mux(fits, shifted - divisor, shifted), fits


def sqrt_step(pending, remainder, root):
    """One digit-by-digit square-root step: bring down the next two bits of ``pending``
    and try ``root * 4 + 1``; returns ``(next pending, next remainder, next root)``."""
    brought = Cat(pending[-2:], remainder)         # remainder * 4 + next two bits
    trial = Cat(1, 0, root)                        # root * 4 + 1
    fits = brought >= trial
    return pending << 2, Mux(fits, brought - trial, brought), Cat(fits, root)


def _check_reciprocal(shift: int, divisor_bits: int, quotient_bits: int):
    check_int("shift", shift, low=1, high=256)
    check_int("divisor_bits", divisor_bits, low=1, high=256)
    check_int("quotient_bits", quotient_bits, low=1, high=shift)


def reciprocal_pipeline(m: Module, divisor, enable, *, shift: int, quotient_bits: int,
                        name: str = "recip"):
    """``floor(2**shift / divisor)`` unrolled: one stage per quotient bit, a new divisor
    every enabled clock; returns the quotient ``quotient_bits`` enabled clocks after
    ``divisor`` (same precondition as ``SerialReciprocal``)."""
    _check_reciprocal(shift, len(divisor), quotient_bits)
    remainder = Signal(unsigned(len(divisor) + 1), name=f"{name}_rem_in")
    m.d.comb += remainder.eq(1 << (shift - quotient_bits))
    quotient = Const(0, 0)
    for k in range(quotient_bits):
        next_rem, bit = reciprocal_step(remainder, divisor)
        remainder = Signal.like(remainder, name=f"{name}_rem_{k}")
        held = Signal.like(divisor, name=f"{name}_div_{k}")
        next_quotient = Signal(unsigned(k + 1), name=f"{name}_q_{k}")
        with m.If(enable):
            m.d.sync += [remainder.eq(next_rem), held.eq(divisor),
                         next_quotient.eq(Cat(bit, quotient))]
        divisor, quotient = held, next_quotient
    return quotient


def sqrt_pipeline(m: Module, value, enable, *, name: str = "sqrt"):
    """``floor(sqrt(value))`` unrolled: one stage per root bit, a new value every enabled
    clock; returns the root ``(len(value) + 1) // 2`` enabled clocks after ``value``."""
    root_bits = (len(value) + 1) // 2
    pending = Signal(unsigned(2 * root_bits), name=f"{name}_in")
    m.d.comb += pending.eq(value)
    remainder, root = Const(0, root_bits + 2), Const(0, 0)
    for k in range(root_bits):
        next_pending, next_rem, next_root = sqrt_step(pending, remainder, root)
        pending = Signal.like(pending, name=f"{name}_pending_{k}")
        remainder = Signal(unsigned(root_bits + 2), name=f"{name}_rem_{k}")
        root = Signal(unsigned(k + 1), name=f"{name}_root_{k}")
        with m.If(enable):
            m.d.sync += [pending.eq(next_pending), remainder.eq(next_rem), root.eq(next_root)]
    return root


class SerialReciprocal(wiring.Component):
    """``quotient = floor(2**shift / divisor)`` by restoring division, one quotient bit
    per clock: ``cycles`` clocks from ``start`` to ``done`` (a one-cycle pulse; the
    result then stays until the next start).

    The caller guarantees ``divisor > 2**(shift - quotient_bits)``, which makes the
    quotient fit ``quotient_bits``; the start remainder ``2**(shift - quotient_bits)``
    is then below the divisor, as restoring division needs.
    """

    def __init__(self, *, shift: int, divisor_bits: int, quotient_bits: int):
        _check_reciprocal(shift, divisor_bits, quotient_bits)
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
        next_rem, bit = reciprocal_step(remainder, divisor)
        m.d.sync += self.done.eq(steps == 1)
        with m.If(self.start):
            m.d.sync += [remainder.eq(1 << (self.shift - self.quotient_bits)),
                         divisor.eq(self.divisor), self.quotient.eq(0),
                         steps.eq(self.quotient_bits)]
        with m.Elif(steps != 0):
            m.d.sync += [remainder.eq(next_rem), self.quotient.eq(Cat(bit, self.quotient)),
                         steps.eq(steps - 1)]
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
        next_pending, next_rem, next_root = sqrt_step(pending, remainder, self.root)
        m.d.sync += self.done.eq(steps == 1)
        with m.If(self.start):
            m.d.sync += [pending.eq(self.value), remainder.eq(0), self.root.eq(0),
                         steps.eq(self.root_bits)]
        with m.Elif(steps != 0):
            m.d.sync += [remainder.eq(next_rem), self.root.eq(next_root),
                         pending.eq(next_pending), steps.eq(steps - 1)]
        return m
