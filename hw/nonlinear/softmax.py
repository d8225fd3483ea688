"""Row-streaming integer softmax (I-BERT i-exp or I-ViT Shiftmax), optionally BiViT-binarized.

Protocol: logits arrive on ``i`` one per transfer, the row's final one flagged ``last``
(a row also ends at ``max_len`` elements; that element is then treated as last).
The unit buffers the row and makes three passes over it, each at one element per clock:

1. LOAD: store ``x`` and track the row maximum (``i.ready`` is high only here);
2. EXP: ``e = exp_unit(max - x)`` into a second buffer, summed on the way;
   then one restoring division ``factor = floor(2**M / sum)`` (``factor_bits`` cycles)
   and one cycle for the binarization threshold;
3. NORM: ``p = min(round(e * factor / 2**(M - out_bits)), 2**out_bits - 1)`` streamed on
   ``o`` with the input's row framing (``last`` on the row's final element); this pass
   holds under back-pressure.

A row of ``n`` elements, with ``i`` always valid and ``o`` always ready, takes
``row_cycles(n) = 3 * n + row_overhead`` cycles from its first input transfer to the
cycle after its last output transfer.  Rows do not overlap, so the sustained rate is
about one element per three clocks; each pass is one element per clock.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .config import SoftmaxConfig
from .exp import exp_pipeline, exp_stages


class Softmax(wiring.Component):
    """Integer softmax over rows of up to ``max_len`` signed logits; see the module text.

    Parameters
    ----------
    in_bits, in_frac, out_bits, max_len, method, binarize
        As in ``SoftmaxConfig`` (validated there, messages name the parameter).

    Ports
    -----
    i : In(stream), payload StructLayout(data: signed(in_bits), last: 1)
    o : Out(stream), payload StructLayout(data: unsigned(out_bits) or unsigned(1) when
        ``binarize``, last: 1)
    """

    def __init__(self, *, in_bits: int = 8, in_frac: int = 4, out_bits: int = 8,
                 max_len: int = 64, method: str = "iexp", binarize: bool = False):
        self.config = cfg = SoftmaxConfig(in_bits=in_bits, in_frac=in_frac, out_bits=out_bits,
                                          max_len=max_len, method=method, binarize=binarize)
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({"data": signed(in_bits), "last": 1}))),
            "o": Out(stream.Signature(data.StructLayout({"data": unsigned(cfg.out_width),
                                                         "last": 1}))),
        })

    @property
    def exp_latency(self) -> int:
        """Pipeline stages of the exponent unit after the buffer read."""
        return exp_stages(self.config) + 1

    @property
    def row_overhead(self) -> int:
        """``row_cycles(n) - 3 * n`` (measured in the tests against the RTL)."""
        return self.exp_latency + self.config.factor_bits + 6

    def row_cycles(self, n: int) -> int:
        return 3 * n + self.row_overhead

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        m.submodules.xbuf = xbuf = memory.Memory(shape=signed(cfg.in_bits), depth=cfg.max_len,
                                                 init=[])
        m.submodules.ebuf = ebuf = memory.Memory(shape=unsigned(cfg.exp_bits),
                                                 depth=cfg.max_len, init=[])
        x_wr, x_rd = xbuf.write_port(), xbuf.read_port()
        e_wr, e_rd = ebuf.write_port(), ebuf.read_port()

        count = Signal(range(cfg.max_len + 1))
        ptr = Signal(range(cfg.max_len + 1))
        row_max = Signal(signed(cfg.in_bits))
        total = Signal(unsigned(cfg.sum_bits))
        factor = Signal(unsigned(cfg.factor_bits))
        remainder = Signal(unsigned(cfg.sum_bits + 1))
        steps = Signal(range(cfg.factor_bits + 1))
        p_max = Signal(unsigned(cfg.out_bits))
        norm_shift = cfg.norm_shift - cfg.out_bits
        out_max = (1 << cfg.out_bits) - 1

        # EXP pass: read x, n = max - x (one stage), exponent pipeline, write e.
        issue = Signal()
        read_valid = Signal()
        m.d.sync += read_valid.eq(issue)
        n = Signal(unsigned(cfg.in_bits))
        n_valid = Signal()
        m.d.sync += [n.eq(row_max - x_rd.data), n_valid.eq(read_valid)]
        e = exp_pipeline(m, cfg, n, 1)
        valids = [n_valid]
        for k in range(exp_stages(cfg)):
            valids.append(Signal(name=f"exp_valid_{k}"))
            m.d.sync += valids[-1].eq(valids[-2])
        e_addr = Signal.like(ptr)
        exp_busy = Signal()
        m.d.comb += exp_busy.eq(Cat(read_valid, *valids[:-1]).any())
        with m.If(valids[-1]):
            m.d.sync += [e_addr.eq(e_addr + 1), total.eq(total + e)]
        m.d.comb += [e_wr.addr.eq(e_addr), e_wr.data.eq(e), e_wr.en.eq(valids[-1])]

        # NORM pass: a three-stage pipeline (read, multiply, round/saturate) that holds
        # as a whole when ``o`` is not ready.
        advance = ~self.o.valid | self.o.ready
        norm_issue = Signal()
        norm_valid, norm_last = Signal(), Signal()
        product = Signal(unsigned(cfg.exp_bits + cfg.factor_bits + 1))
        prod_valid, prod_last = Signal(), Signal()
        m.d.comb += [e_rd.addr.eq(ptr), e_rd.en.eq(advance)]
        with m.If(advance):
            m.d.sync += [
                norm_valid.eq(norm_issue), norm_last.eq(norm_issue & (ptr == count - 1)),
                product.eq(e_rd.data * factor + (1 << (norm_shift - 1))),
                prod_valid.eq(norm_valid), prod_last.eq(norm_last),
                self.o.valid.eq(prod_valid), self.o.payload.last.eq(prod_last),
            ]
            rounded = product >> norm_shift
            p = Mux(rounded > out_max, out_max, rounded)
            if cfg.binarize:
                m.d.sync += self.o.payload.data.eq(p >= (p_max >> 2))
            else:
                m.d.sync += self.o.payload.data.eq(p)

        m.d.comb += [x_wr.addr.eq(count), x_wr.data.eq(self.i.payload.data), x_rd.addr.eq(ptr)]
        with m.FSM():
            with m.State("LOAD"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    x = self.i.payload.data
                    m.d.comb += x_wr.en.eq(1)
                    m.d.sync += [count.eq(count + 1),
                                 row_max.eq(Mux((count == 0) | (x > row_max), x, row_max))]
                    with m.If(self.i.payload.last | (count == cfg.max_len - 1)):
                        m.d.sync += [ptr.eq(0), e_addr.eq(0), total.eq(0)]
                        m.next = "EXP"
            with m.State("EXP"):
                with m.If(ptr < count):
                    m.d.comb += issue.eq(1)
                    m.d.sync += ptr.eq(ptr + 1)
                with m.Elif(~exp_busy & ~valids[-1]):
                    m.d.sync += [remainder.eq(1 << (cfg.norm_shift - cfg.factor_bits)),
                                 factor.eq(0), steps.eq(cfg.factor_bits)]
                    m.next = "DIVIDE"
            with m.State("DIVIDE"):
                # Restoring division of 2**M by the row sum, one quotient bit per cycle;
                # the start remainder 2**(M - factor_bits) is below any possible sum.
                shifted = remainder << 1
                fits = shifted >= total
                m.d.sync += [remainder.eq(Mux(fits, shifted - total, shifted)),
                             factor.eq((factor << 1) | fits), steps.eq(steps - 1)]
                with m.If(steps == 1):
                    m.next = "THRESHOLD"
            with m.State("THRESHOLD"):
                # The row maximum's probability, for the BiViT threshold p_max >> 2.
                top = (cfg.exp_max * factor + (1 << (norm_shift - 1))) >> norm_shift
                m.d.sync += [p_max.eq(Mux(top > out_max, out_max, top)), ptr.eq(0)]
                m.next = "NORM"
            with m.State("NORM"):
                with m.If(advance & (ptr < count)):
                    m.d.comb += norm_issue.eq(1)
                    m.d.sync += ptr.eq(ptr + 1)
                with m.If(self.o.valid & self.o.ready & self.o.payload.last):
                    m.d.sync += count.eq(0)
                    m.next = "LOAD"
        return m
