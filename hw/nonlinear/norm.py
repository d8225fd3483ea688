"""Row-streaming integer LayerNorm / RMSNorm with an integer square root.

Protocol as ``Softmax``: elements on ``i`` with ``last`` closing a row (or ``max_len``
elements), results on ``o`` in the same order and framing.  Three stages joined by FIFOs
(``rows.py``) work on different rows at once:

1. input: queue ``x``; accumulate ``S1 = sum(x)`` (LayerNorm only) and ``S2 = sum(x*x)``;
2. solver, once per row: ``V = n*S2 - S1**2``, ``r = isqrt(V << 2*guard)`` digit by digit
   (one root bit per clock; the same value as I-BERT's Newton IntSqrt, golden
   ``isqrt_newton``), ``factor = floor(2**M / r)`` (one quotient bit per clock), or 0
   when ``r = 0``: ``solver_cycles`` clocks per row, whatever the data;
3. output: ``c = n*x - S1``, ``c * factor``, round and saturate, one element per clock,
   held under back-pressure.

See ``NormConfig`` for the numbers and for the zero-variance result (all zeros).  With
``i`` always valid and ``o`` always ready a lone row of ``n`` takes ``row_cycles(n) = 2
* n + row_overhead`` clocks from its first input transfer to the clock after its last
output transfer; back-to-back rows of at least ``solver_cycles`` elements stream at one
element per clock, shorter ones at one row per ``solver_cycles`` (``row_interval``).
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from ...numerics.nonlinear import NormConfig
from ..arith import IntegerArithmetic, RoundingCode
from ..pipeline import delay
from .rows import (
    SerialReciprocal,
    SerialSqrt,
    element_queue,
    reciprocal_pipeline,
    row_input,
    row_output,
    solver_pipeline,
    sqrt_pipeline,
)


class Norm(wiring.Component):
    """Integer LayerNorm or RMSNorm over rows of up to ``max_len`` elements.

    Parameters
    ----------
    kind, in_bits, out_bits, out_frac, max_len, gamma, beta, gamma_bits, gamma_frac, solver
        As in ``NormConfig`` (validated there); ``gamma``/``beta`` are held in ROMs
        indexed by the element's position in its row.

    Ports
    -----
    i : In(stream), payload StructLayout(data: signed(in_bits), last: 1)
    o : Out(stream), payload StructLayout(data: signed(out_bits), last: 1)
    """

    def __init__(self, *, kind: str = "layernorm", in_bits: int = 8, out_bits: int = 8,
                 out_frac: int = 5, max_len: int = 64, gamma=None, beta=None,
                 gamma_bits: int = 8, gamma_frac: int = 6, solver: str = "serial"):
        self.config = NormConfig(kind=kind, in_bits=in_bits, out_bits=out_bits,
                                 out_frac=out_frac, max_len=max_len, gamma=gamma, beta=beta,
                                 gamma_bits=gamma_bits, gamma_frac=gamma_frac, solver=solver)
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({"data": signed(in_bits), "last": 1}))),
            "o": Out(stream.Signature(data.StructLayout({"data": signed(out_bits), "last": 1}))),
        })

    @property
    def root_bits(self) -> int:
        """Bits of ``r`` (the digit-by-digit root of a ``var_bits`` value)."""
        return (self.config.var_bits + 1) // 2

    @property
    def solver_cycles(self) -> int:
        """Clocks between rows the solver can take: serial, take the statistics,
        variance, square root (one clock per root bit, one to see it done), reciprocal
        (likewise), hand over; pipelined, 1."""
        if self.config.solver == "serial":
            return self.root_bits + self.config.factor_bits + 6
        return 1

    @property
    def solver_latency(self) -> int:
        """Clocks from taking a row's statistics to handing over its parameters."""
        if self.config.solver == "serial":
            return self.solver_cycles
        return self.root_bits + self.config.factor_bits + 4   # 3 + R + Q stages, 1 to pop

    @property
    def row_overhead(self) -> int:
        """``row_cycles(n) - 2 * n`` (checked against the RTL by the tests)."""
        return self.solver_latency + 4 + self.config.affine

    def row_cycles(self, n: int) -> int:
        """Latency of a lone row (input pass, solver, output pass)."""
        return 2 * n + self.row_overhead

    def row_interval(self, n: int) -> int:
        """Clocks between consecutive rows of ``n`` in a back-to-back stream."""
        return max(n, self.solver_cycles)

    @property
    def queue_depth(self) -> int:
        """A row plus what arrives while the solver works on it."""
        return self.config.max_len + self.solver_latency + 8

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        xq, xq_in, xq_out = element_queue(m, "xq", signed(cfg.in_bits), self.queue_depth)
        stats = data.StructLayout({"n": unsigned(cfg.len_bits), "s1": signed(cfg.sum_bits),
                                   "s2": unsigned(cfg.square_sum_bits)})
        params = data.StructLayout({"n": unsigned(cfg.len_bits), "s1": signed(cfg.sum_bits),
                                    "factor": unsigned(cfg.factor_bits)})
        m.submodules.statq = statq = SyncFIFO(width=stats.size, depth=2)
        m.submodules.parq = parq = SyncFIFO(width=params.size, depth=2)

        # 1. Input: queue x, running n, S1, S2; the row's totals go to the solver.
        accept, end, first = row_input(m, self.i, cfg.max_len, xq, xq_in, statq)
        count = Signal(unsigned(cfg.len_bits))
        s1 = Signal(signed(cfg.sum_bits))
        s2 = Signal(unsigned(cfg.square_sum_bits))
        x = self.i.payload.data
        new_n = Mux(first, 1, count + 1)
        new_s1 = Mux(first, 0, s1) + x if cfg.kind == "layernorm" else Const(0)
        new_s2 = Mux(first, 0, s2) + x * x
        stat_in = data.View(stats, statq.w_data)
        m.d.comb += [stat_in.n.eq(new_n), stat_in.s1.eq(new_s1), stat_in.s2.eq(new_s2)]
        with m.If(accept):
            m.d.sync += [count.eq(new_n), s1.eq(new_s1), s2.eq(new_s2)]

        # 2. Solver: variance, digit-by-digit root, reciprocal of the root.
        stat_out, par_in = data.View(stats, statq.r_data), data.View(params, parq.w_data)
        if cfg.solver == "serial":
            self.serial_solver(m, statq, parq, stat_out, par_in)
        else:
            stages = self.root_bits + cfg.factor_bits
            advance = solver_pipeline(m, statq, parq, stages + 3)
            row = delay(m, stat_out, 1, advance, "row")
            var = delay(m, self.variance(row), 1, advance, "var")
            root = sqrt_pipeline(m, var, advance)
            quotient = reciprocal_pipeline(m, root, advance, shift=cfg.norm_shift,
                                           quotient_bits=cfg.factor_bits)
            zero = delay(m, root == 0, cfg.factor_bits, advance, "zero")
            row = delay(m, row, stages + 1, advance, "row_late")
            with m.If(advance):
                m.d.sync += [par_in.n.eq(row.n), par_in.s1.eq(row.s1),
                             par_in.factor.eq(Mux(zero, 0, quotient))]

        # 3. Output: centre, multiply, (affine), round and saturate; held by back-pressure.
        hold, first_valid, first_end, x_out, par_out = row_output(
            m, self.o, xq, xq_out, parq, data.View(params, parq.r_data))
        centered = Signal(signed(cfg.centered_bits))
        factor = Signal(unsigned(cfg.factor_bits))
        value = Signal(signed(cfg.centered_bits + cfg.factor_bits + 1))
        with m.If(~hold):
            m.d.sync += [centered.eq(par_out.n * x_out - par_out.s1),
                         factor.eq(par_out.factor), value.eq(centered * factor)]
        valid = delay(m, first_valid, 2, ~hold, "c_valid")
        last = delay(m, first_end, 2, ~hold, "c_last")
        if cfg.affine:
            value = self.affine(m, value, first_valid, first_end, ~hold)
            valid, last = delay(m, valid, 1, ~hold, "a_valid"), delay(m, last, 1, ~hold, "a_last")
        lo, hi = -(1 << (cfg.out_bits - 1)), (1 << (cfg.out_bits - 1)) - 1
        with m.If(~hold):
            m.d.sync += [
                self.o.payload.data.eq(IntegerArithmetic.saturate(
                    IntegerArithmetic.round_shift(value, Const(cfg.affine_shift),
                                                  RoundingCode.HALF_UP),
                    Const(lo, signed(cfg.out_bits)), Const(hi, signed(cfg.out_bits)))),
                self.o.valid.eq(valid), self.o.payload.last.eq(last),
            ]
        return m

    def affine(self, m: Module, value, valid, end, enable):
        """``value * gamma[j] + beta[j] * 2**T`` one stage after ``value`` (which is two
        enabled clocks behind the stage that holds ``valid``/``end``; ``j`` counts that
        stage's elements in a row)."""
        cfg = self.config
        position = Signal(range(cfg.max_len), name="position")
        with m.If(valid & enable):
            m.d.sync += position.eq(Mux(end, 0, position + 1))
        beta = cfg.beta or (0,) * cfg.max_len
        m.submodules.gamma = gamma = memory.Memory(shape=signed(cfg.gamma_bits),
                                                   depth=cfg.max_len, init=cfg.gamma)
        m.submodules.beta = betas = memory.Memory(shape=signed(cfg.out_bits),
                                                  depth=cfg.max_len, init=beta)
        g_rd, b_rd = gamma.read_port(), betas.read_port()
        m.d.comb += [g_rd.addr.eq(position), b_rd.addr.eq(position),
                     g_rd.en.eq(enable), b_rd.en.eq(enable)]
        g, b = delay(m, g_rd.data, 1, enable, "gamma"), delay(m, b_rd.data, 1, enable, "beta")
        width = max(len(value) + cfg.gamma_bits, cfg.out_bits + cfg.affine_shift) + 1
        scaled = Signal(signed(width), name="scaled")
        with m.If(enable):
            m.d.sync += scaled.eq(value * g + (b << cfg.affine_shift))
        return scaled

    def variance(self, row):
        """``(n * S2 - S1**2) << 2*guard`` of a row's statistics."""
        guard = self.config.guard
        return ((row.n * row.s2 - row.s1 * row.s1) << (2 * guard))[:self.config.var_bits]

    def serial_solver(self, m: Module, statq, parq, stat_out, par_in):
        cfg = self.config
        m.submodules.sqrt = sqrt = SerialSqrt(value_bits=cfg.var_bits)
        m.submodules.recip = recip = SerialReciprocal(
            shift=cfg.norm_shift, divisor_bits=self.root_bits, quotient_bits=cfg.factor_bits)
        row = Signal.like(stat_out, name="row")
        var = Signal(unsigned(cfg.var_bits))
        m.d.comb += [sqrt.value.eq(var), recip.divisor.eq(sqrt.root),
                     par_in.n.eq(row.n), par_in.s1.eq(row.s1),
                     par_in.factor.eq(Mux(sqrt.root == 0, 0, recip.quotient))]
        with m.FSM(name="solver"):
            with m.State("IDLE"):
                m.d.comb += statq.r_en.eq(statq.r_rdy)
                with m.If(statq.r_rdy):
                    m.d.sync += row.eq(stat_out)
                    m.next = "VARIANCE"
            with m.State("VARIANCE"):
                m.d.sync += var.eq(self.variance(row))
                m.next = "ROOT"
            with m.State("ROOT"):
                m.d.comb += sqrt.start.eq(1)
                m.next = "ROOTING"
            with m.State("ROOTING"):
                with m.If(sqrt.done):
                    m.d.comb += recip.start.eq(1)
                    m.next = "DIVIDING"
            with m.State("DIVIDING"):
                with m.If(recip.done):
                    m.next = "HAND_OVER"
            with m.State("HAND_OVER"):
                m.d.comb += parq.w_en.eq(1)
                with m.If(parq.w_rdy):
                    m.next = "IDLE"
