"""Row-streaming integer softmax (I-BERT i-exp or I-ViT Shiftmax), optionally BiViT-binarized.

Protocol: logits arrive on ``i`` one per transfer, the row's final one flagged ``last``
(a row also ends at ``max_len`` elements; that element is then treated as last), and
the row's probabilities leave on ``o`` in the same order and framing.  Four stages,
joined by FIFOs (``rows.py``), work on different rows at once:

1. input: queue ``x``, track the row maximum;
2. exponent: once a row's maximum is known, ``e = exp_unit(max - x)`` for each element
   (one per clock) into a second queue, summed on the way;
3. solver: ``factor = floor(2**M / sum)`` by restoring division, one bit per clock, and
   the BiViT threshold ``p_max >> 2``: ``solver_cycles`` clocks per row;
4. output: ``p = min(round(e * factor / 2**(M - out_bits)), 2**out_bits - 1)`` (or the
   BiViT bit ``p >= p_max >> 2``), one per clock, held under back-pressure.

With ``i`` always valid and ``o`` always ready, a lone row of ``n`` takes
``row_cycles(n)`` (about ``3 * n + row_overhead``) clocks from its first input transfer
to the clock after its last output transfer, but the stages overlap consecutive rows:
back-to-back rows of at least ``solver_cycles`` elements stream at one element per
clock, shorter ones at one row per ``solver_cycles`` (``row_interval``).
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from ...numerics.nonlinear import SoftmaxConfig
from ..pipeline import delay
from .exp import exp_pipeline, exp_stages
from .rows import (
    SerialReciprocal,
    element_queue,
    reciprocal_pipeline,
    row_input,
    row_output,
    solver_pipeline,
)


class Softmax(wiring.Component):
    """Integer softmax over rows of up to ``max_len`` signed logits; see the module text.

    Parameters
    ----------
    in_bits, in_frac, out_bits, max_len, method, binarize, solver
        As in ``SoftmaxConfig`` (validated there, messages name the parameter).

    Ports
    -----
    i : In(stream), payload StructLayout(data: signed(in_bits), last: 1)
    o : Out(stream), payload StructLayout(data: unsigned(out_bits) or unsigned(1) when
        ``binarize``, last: 1)
    """

    def __init__(self, *, in_bits: int = 8, in_frac: int = 4, out_bits: int = 8,
                 max_len: int = 64, method: str = "iexp", binarize: bool = False,
                 solver: str = "serial"):
        self.config = cfg = SoftmaxConfig(in_bits=in_bits, in_frac=in_frac, out_bits=out_bits,
                                          max_len=max_len, method=method, binarize=binarize,
                                          solver=solver)
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({"data": signed(in_bits), "last": 1}))),
            "o": Out(stream.Signature(data.StructLayout({"data": unsigned(cfg.out_width),
                                                         "last": 1}))),
        })

    @property
    def exp_latency(self) -> int:
        """Registers from the ``x`` queue to ``e``: ``max - x``, then the exponent."""
        return exp_stages(self.config) + 1

    @property
    def solver_cycles(self) -> int:
        """Clocks between rows the solver can take: serial, take the sum, divide (one
        clock per quotient bit, one to see it done), threshold, hand over; pipelined, 1."""
        return self.config.factor_bits + 4 if self.config.solver == "serial" else 1

    @property
    def solver_latency(self) -> int:
        """Clocks from taking a row's sum to handing over its parameters."""
        if self.config.solver == "serial":
            return self.solver_cycles
        return self.config.factor_bits + 2   # factor_bits + 1 stages, 1 to pop

    @property
    def row_overhead(self) -> int:
        """``row_cycles(n) - 3 * n`` for ``n >= 2`` (checked against the RTL by the tests)."""
        return self.exp_latency + self.solver_latency + 3

    def row_cycles(self, n: int) -> int:
        """Latency of a lone row: its three passes (input, exponent, output) follow one
        another because each needs the whole row (the maximum, then the sum).  A
        one-element row waits one clock more for the ``x`` queue's output register."""
        return 3 * n + self.row_overhead + (n == 1)

    def row_interval(self, n: int) -> int:
        """Clocks between consecutive rows of ``n`` in a back-to-back stream."""
        return max(n, self.solver_cycles)

    @property
    def queue_depths(self) -> tuple[int, int]:
        """``(x queue, e queue)``: a row plus what arrives while the next stage waits for
        it (the row's end for the exponent, the solver for the output)."""
        return self.config.max_len + 4, self.config.max_len + self.exp_latency + \
            self.solver_latency + 8

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        x_depth, e_depth = self.queue_depths
        xq, xq_in, xq_out = element_queue(m, "xq", signed(cfg.in_bits), x_depth)
        eq, eq_in, eq_out = element_queue(m, "eq", unsigned(cfg.exp_bits), e_depth)
        m.submodules.maxq = maxq = SyncFIFO(width=cfg.in_bits, depth=4)
        m.submodules.sumq = sumq = SyncFIFO(width=cfg.sum_bits, depth=2)
        fields = {"factor": unsigned(cfg.factor_bits)}
        if cfg.binarize:
            fields["threshold"] = unsigned(cfg.out_bits)
        params = data.StructLayout(fields)
        m.submodules.parq = parq = SyncFIFO(width=params.size, depth=2)

        # 1. Input: queue x, track the running maximum, push it when the row ends.
        accept, end, first = row_input(m, self.i, cfg.max_len, xq, xq_in, maxq)
        row_max = Signal(signed(cfg.in_bits))
        x = self.i.payload.data
        new_max = Mux(first | (x > row_max), x, row_max)
        m.d.comb += maxq.w_data.eq(new_max)
        with m.If(accept):
            m.d.sync += row_max.eq(new_max)

        # 2. Exponent: a pipeline that holds as a whole when its result cannot be queued.
        out_valid, out_end = Signal(), Signal()
        e = Signal(unsigned(cfg.exp_bits))
        taken = eq.w_rdy & (~out_end | sumq.w_rdy)
        advance = ~out_valid | taken
        issue = xq.r_rdy & maxq.r_rdy & advance
        m.d.comb += [xq.r_en.eq(issue), maxq.r_en.eq(issue & xq_out.end)]
        n = Signal(unsigned(cfg.in_bits))
        n_valid, n_end = Signal(), Signal()
        with m.If(advance):
            m.d.sync += [n.eq(maxq.r_data.as_signed() - xq_out.data),
                         n_valid.eq(issue), n_end.eq(issue & xq_out.end)]
        m.d.comb += [
            e.eq(exp_pipeline(m, cfg, n, advance)),
            out_valid.eq(delay(m, n_valid, exp_stages(cfg), advance, "exp_valid")),
            out_end.eq(delay(m, n_end, exp_stages(cfg), advance, "exp_end")),
        ]
        total = Signal(unsigned(cfg.sum_bits))
        row_sum = total + e
        m.d.comb += [eq_in.data.eq(e), eq_in.end.eq(out_end), eq.w_en.eq(out_valid & taken),
                     sumq.w_data.eq(row_sum), sumq.w_en.eq(out_valid & out_end & taken)]
        with m.If(out_valid & taken):
            m.d.sync += total.eq(Mux(out_end, 0, row_sum))

        # 3. Solver: factor = 2**M // sum, then the row maximum's probability.
        par_in = data.View(params, parq.w_data)
        if cfg.solver == "serial":
            self.serial_solver(m, sumq, parq, par_in)
        else:
            advance = solver_pipeline(m, sumq, parq, cfg.factor_bits + 1)
            quotient = reciprocal_pipeline(m, sumq.r_data, advance, shift=cfg.norm_shift,
                                           quotient_bits=cfg.factor_bits)
            with m.If(advance):
                m.d.sync += par_in.factor.eq(quotient)
                if cfg.binarize:
                    m.d.sync += par_in.threshold.eq(self.threshold(quotient))

        # 4. Output: multiply, then round/saturate (or threshold); held by back-pressure.
        norm_shift = cfg.norm_shift - cfg.out_bits
        out_max = (1 << cfg.out_bits) - 1
        hold, valid, end, e_out, par_out = row_output(
            m, self.o, eq, eq_out, parq, data.View(params, parq.r_data))
        product = Signal(unsigned(cfg.exp_bits + cfg.factor_bits + 1))
        threshold = Signal(unsigned(cfg.out_bits))
        prod_valid, prod_last = Signal(), Signal()
        with m.If(~hold):
            if cfg.binarize:
                m.d.sync += threshold.eq(par_out.threshold)
            m.d.sync += [
                product.eq(e_out * par_out.factor + (1 << (norm_shift - 1))),
                prod_valid.eq(valid), prod_last.eq(end),
                self.o.valid.eq(prod_valid), self.o.payload.last.eq(prod_last),
            ]
            rounded = product >> norm_shift
            p = Mux(rounded > out_max, out_max, rounded)
            m.d.sync += self.o.payload.data.eq(p >= threshold if cfg.binarize else p)
        return m

    def threshold(self, factor):
        """BiViT's ``p_max >> 2``: the probability of the row maximum (``e = exp_max``)."""
        cfg = self.config
        shift = cfg.norm_shift - cfg.out_bits
        out_max = (1 << cfg.out_bits) - 1
        top = (cfg.exp_max * factor + (1 << (shift - 1))) >> shift
        return Mux(top > out_max, out_max, top) >> 2

    def serial_solver(self, m: Module, sumq, parq, par_in):
        cfg = self.config
        m.submodules.recip = recip = SerialReciprocal(
            shift=cfg.norm_shift, divisor_bits=cfg.sum_bits, quotient_bits=cfg.factor_bits)
        with m.FSM(name="solver"):
            with m.State("IDLE"):
                m.d.comb += [recip.divisor.eq(sumq.r_data), recip.start.eq(sumq.r_rdy),
                             sumq.r_en.eq(sumq.r_rdy)]
                with m.If(sumq.r_rdy):
                    m.next = "DIVIDE"
            with m.State("DIVIDE"):
                with m.If(recip.done):
                    m.next = "THRESHOLD"
            with m.State("THRESHOLD"):
                if cfg.binarize:
                    m.d.sync += par_in.threshold.eq(self.threshold(recip.quotient))
                m.next = "HAND_OVER"
            with m.State("HAND_OVER"):
                m.d.comb += [par_in.factor.eq(recip.quotient), parq.w_en.eq(1)]
                with m.If(parq.w_rdy):
                    m.next = "IDLE"
