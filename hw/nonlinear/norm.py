"""Row-streaming integer LayerNorm / RMSNorm with a Newton integer square root.

Protocol as ``Softmax``: elements on ``i`` with ``last`` closing a row (or ``max_len``
elements), buffered; then, once per row, ``V = n*S2 - S1**2`` (two multipliers),
``r = isqrt(V << 2*guard)`` by Newton iteration (I-BERT IntSqrt) and ``factor =
floor(2**M / r)``, both on one sequential divider (``div_bits`` cycles per division);
then the row streams out at one element per clock (``c = n*x - S1``, ``c * factor``,
round and saturate), holding under back-pressure.  See ``NormConfig`` for the numbers
and for the zero-variance result (all zeros).

A row of ``n`` elements takes ``row_cycles(n, divisions) = 2 * n + divisions * (div_bits
+ 1) + row_overhead`` cycles with an always-valid input and an always-ready output, where
``divisions`` is the Newton step count (golden ``isqrt_newton``) plus one, or 0 for a
zero-variance row.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ..arith import IntegerArithmetic
from .config import NormConfig


class Norm(wiring.Component):
    """Integer LayerNorm or RMSNorm over rows of up to ``max_len`` elements.

    Parameters
    ----------
    kind, in_bits, out_bits, out_frac, max_len
        As in ``NormConfig`` (validated there).

    Ports
    -----
    i : In(stream), payload StructLayout(data: signed(in_bits), last: 1)
    o : Out(stream), payload StructLayout(data: signed(out_bits), last: 1)
    """

    def __init__(self, *, kind: str = "layernorm", in_bits: int = 8, out_bits: int = 8,
                 out_frac: int = 5, max_len: int = 64):
        self.config = NormConfig(kind=kind, in_bits=in_bits, out_bits=out_bits,
                                 out_frac=out_frac, max_len=max_len)
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({"data": signed(in_bits), "last": 1}))),
            "o": Out(stream.Signature(data.StructLayout({"data": signed(out_bits), "last": 1}))),
        })

    @property
    def div_bits(self) -> int:
        """Quotient bits (and cycles) of one division."""
        return max(self.config.root_bits, self.config.factor_bits)

    @property
    def row_overhead(self) -> int:
        """Measured in the tests against the RTL (see the module text)."""
        return 6

    def row_cycles(self, n: int, divisions: int) -> int:
        return 2 * n + divisions * (self.div_bits + 1) + self.row_overhead

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        m.submodules.xbuf = xbuf = memory.Memory(shape=signed(cfg.in_bits), depth=cfg.max_len,
                                                 init=[])
        x_wr, x_rd = xbuf.write_port(), xbuf.read_port()

        count = Signal(range(cfg.max_len + 1))
        ptr = Signal(range(cfg.max_len + 1))
        s1 = Signal(signed(cfg.sum_bits))
        s2 = Signal(unsigned(cfg.square_sum_bits))
        var = Signal(unsigned(cfg.var_bits))
        root = Signal(unsigned(cfg.root_bits + 1))
        factor = Signal(unsigned(cfg.factor_bits))

        # One sequential long divider: quotient = dividend // divisor over ``q`` bits,
        # valid because every use has dividend < divisor * 2**q (see NormConfig).
        q = self.div_bits
        dividend_bits = max(cfg.var_bits, cfg.norm_shift + 1)
        low = Signal(unsigned(q))                  # dividend bits still to bring down
        rem = Signal(unsigned(cfg.root_bits + 2))      # below the divisor, then doubled
        divisor = Signal(unsigned(cfg.root_bits + 1))
        quotient = Signal(unsigned(q))
        steps = Signal(range(q + 1))
        for_root = Signal()                        # Newton step (1) or reciprocal (0)

        m.d.comb += [x_wr.addr.eq(count), x_wr.data.eq(self.i.payload.data), x_rd.addr.eq(ptr)]

        # Streaming pass (read, centre, multiply, round) held together by ``advance``.
        advance = ~self.o.valid | self.o.ready
        issue = Signal()
        m.d.comb += x_rd.en.eq(advance)
        read_valid, read_last = Signal(), Signal()
        centered = Signal(signed(cfg.centered_bits))
        c_valid, c_last = Signal(), Signal()
        product = Signal(signed(cfg.centered_bits + cfg.factor_bits + 1))
        p_valid, p_last = Signal(), Signal()
        shift = cfg.norm_shift - cfg.guard - cfg.out_frac
        lo, hi = -(1 << (cfg.out_bits - 1)), (1 << (cfg.out_bits - 1)) - 1
        with m.If(advance):
            m.d.sync += [
                read_valid.eq(issue), read_last.eq(issue & (ptr == count - 1)),
                centered.eq(count * x_rd.data - s1), c_valid.eq(read_valid), c_last.eq(read_last),
                product.eq(centered * factor), p_valid.eq(c_valid), p_last.eq(c_last),
                self.o.payload.data.eq(IntegerArithmetic.saturate(
                    IntegerArithmetic.round_shift(product, Const(shift), Const(1)),
                    Const(lo, signed(cfg.out_bits)), Const(hi, signed(cfg.out_bits)))),
                self.o.valid.eq(p_valid), self.o.payload.last.eq(p_last),
            ]

        dividend_in = Signal(unsigned(dividend_bits))
        divisor_in = Signal(unsigned(cfg.root_bits + 1))
        go = Signal()
        with m.If(go):
            m.d.sync += [rem.eq(dividend_in >> q), low.eq(dividend_in[:q]),
                         divisor.eq(divisor_in), quotient.eq(0), steps.eq(q)]

        with m.FSM():
            with m.State("LOAD"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    x = self.i.payload.data
                    m.d.comb += x_wr.en.eq(1)
                    m.d.sync += [count.eq(count + 1), s2.eq(s2 + x * x)]
                    if cfg.kind == "layernorm":
                        m.d.sync += s1.eq(s1 + x)
                    with m.If(self.i.payload.last | (count == cfg.max_len - 1)):
                        m.next = "VARIANCE"
            with m.State("VARIANCE"):
                m.d.sync += var.eq((count * s2 - s1 * s1) << (2 * cfg.guard))
                m.next = "SEED"
            with m.State("SEED"):
                # Newton starts at 2**ceil(bits(var) / 2), at or above the root.
                bits = Signal(range(cfg.var_bits + 1))
                for k in range(cfg.var_bits):
                    with m.If(var[k]):
                        m.d.comb += bits.eq(k + 1)
                seed = Const(1, cfg.root_bits + 1) << ((bits + 1) >> 1)
                with m.If(var == 0):
                    m.d.sync += [root.eq(0), factor.eq(0), ptr.eq(0)]
                    m.next = "NORM"
                with m.Else():
                    m.d.sync += [root.eq(seed), for_root.eq(1)]
                    m.d.comb += [go.eq(1), dividend_in.eq(var), divisor_in.eq(seed)]
                    m.next = "DIVIDE"
            with m.State("DIVIDE"):
                shifted = Cat(low[-1], rem)
                fits = shifted >= divisor
                m.d.sync += [rem.eq(Mux(fits, shifted - divisor, shifted)), low.eq(low << 1),
                             quotient.eq(Cat(fits, quotient)), steps.eq(steps - 1)]
                with m.If(steps == 1):
                    m.next = "DIVIDED"
            with m.State("DIVIDED"):
                with m.If(for_root):
                    step = (root + quotient) >> 1
                    with m.If(step >= root):
                        # Converged: root is floor(sqrt(var)); now factor = 2**M // root.
                        m.d.sync += for_root.eq(0)
                        m.d.comb += [go.eq(1), dividend_in.eq(1 << cfg.norm_shift),
                                     divisor_in.eq(root)]
                    with m.Else():
                        m.d.sync += root.eq(step)
                        m.d.comb += [go.eq(1), dividend_in.eq(var), divisor_in.eq(step)]
                    m.next = "DIVIDE"
                with m.Else():
                    m.d.sync += [factor.eq(quotient), ptr.eq(0)]
                    m.next = "NORM"
            with m.State("NORM"):
                with m.If(advance & (ptr < count)):
                    m.d.comb += issue.eq(1)
                    m.d.sync += ptr.eq(ptr + 1)
                with m.If(self.o.valid & self.o.ready & self.o.payload.last):
                    m.d.sync += [count.eq(0), s1.eq(0), s2.eq(0)]
                    m.next = "LOAD"
        return m
