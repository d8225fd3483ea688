"""Streaming sigmoid, SiLU and ShiftGELU: one element per clock, integer only.

``e = exp(-|a|)`` from the shared exponent datapath, then a pipelined restoring divider
(one quotient bit per stage, so the unit still takes an element every clock) for
``q = e / (1 + e)``; the sign of ``a`` picks ``s = q`` or ``1 - q``, and SiLU/GELU
multiply by ``x`` once at the end.
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...numerics.nonlinear import ActivationConfig, IGeluConfig
from ..arith import IntegerArithmetic, RoundingCode
from ..pipeline import delay, held_pipeline
from .exp import exp_pipeline, exp_stages


class Activation(wiring.Component):
    """``o = f(i)`` for ``f`` in sigmoid / SiLU / ShiftGELU (golden
    ``sim.golden.nonlinear.activation``); see ``ActivationConfig`` for the formats.

    The whole pipeline holds when ``o`` is not ready; after ``latency`` cycles it
    delivers one result per clock.

    Parameters
    ----------
    function, in_bits, in_frac, out_bits, out_frac, method
        As in ``ActivationConfig`` (validated there).

    Ports
    -----
    i : In(stream), payload signed(in_bits)
    o : Out(stream), payload unsigned(out_bits) for sigmoid, else signed(out_bits)
    """

    def __init__(self, *, function: str = "sigmoid", in_bits: int = 8, in_frac: int = 4,
                 out_bits: int = 8, out_frac: int = 4, method: str = "iexp"):
        self.config = ActivationConfig(function=function, in_bits=in_bits,
                                       in_frac=in_frac, out_bits=out_bits,
                                       out_frac=out_frac, method=method)
        out = unsigned(out_bits) if function == "sigmoid" else signed(out_bits)
        super().__init__({
            "i": In(stream.Signature(signed(in_bits))),
            "o": Out(stream.Signature(out)),
        })

    @property
    def latency(self) -> int:
        """Cycles from an input transfer to its result on ``o`` (no back-pressure)."""
        return 1 + exp_stages(self.config.exp) + self.config.sigmoid_frac + 2

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        advance = held_pipeline(m, self.i, self.o, self.latency)

        x = self.i.payload
        if cfg.function == "shiftgelu":
            a = x + (x >> 1) + (x >> 3) + (x >> 4)   # 1.6875 x ~ 1.702 x
        else:
            a = x
        n = Signal(unsigned(cfg.in_bits + 1))
        neg = Signal()
        x1 = Signal(signed(cfg.in_bits))
        with m.If(advance):
            m.d.sync += [n.eq(Mux(a < 0, -a, a)), neg.eq(a < 0), x1.eq(x)]
        e = exp_pipeline(m, cfg.exp, n, advance)
        stages = exp_stages(cfg.exp)
        neg, x1 = delay(m, neg, stages, advance, "neg"), delay(m, x1, stages, advance, "x")

        # Pipelined long division q = floor(e * 2**P / (exp_max + e)); e < divisor
        # unless e = 0, so the integer part is zero and P stages give the fraction.
        p = cfg.sigmoid_frac
        divisor = Signal(unsigned(cfg.exp.exp_bits + 1))
        m.d.comb += divisor.eq(cfg.exp.exp_max + e)
        rem, quot = e, 0
        for k in range(p):
            shifted = rem << 1
            fits = shifted >= divisor
            next_rem = Signal(unsigned(cfg.exp.exp_bits + 1), name=f"div_rem_{k}")
            next_quot = Signal(unsigned(k + 1), name=f"div_q_{k}")
            next_div = Signal.like(divisor, name=f"div_d_{k}")
            with m.If(advance):
                m.d.sync += [next_rem.eq(Mux(fits, shifted - divisor, shifted)),
                             next_quot.eq((quot << 1) | fits), next_div.eq(divisor)]
            rem, quot, divisor = next_rem, next_quot, next_div
        neg, x1 = delay(m, neg, p, advance, "neg_div"), delay(m, x1, p, advance, "x_div")

        s = Signal(unsigned(p + 1))
        x2 = delay(m, x1, 1, advance, "x_s")
        with m.If(advance):
            m.d.sync += s.eq(Mux(neg, quot, (1 << p) - quot))
            if cfg.function == "sigmoid":
                rounded = (s + 2) >> 2
                top = (1 << cfg.out_bits) - 1
                m.d.sync += self.o.payload.eq(Mux(rounded > top, top, rounded))
            else:
                product = x2 * s   # signed x unsigned: one multiplier, once per element
                shifted = IntegerArithmetic.round_shift(product, Const(cfg.product_shift),
                                                        RoundingCode.HALF_UP)
                lo, hi = -(1 << (cfg.out_bits - 1)), (1 << (cfg.out_bits - 1)) - 1
                m.d.sync += self.o.payload.eq(IntegerArithmetic.saturate(
                    shifted, Const(lo, signed(cfg.out_bits)), Const(hi, signed(cfg.out_bits))))
        return m



class IGelu(wiring.Component):
    """I-BERT i-GELU, one element per clock (golden ``sim.golden.nonlinear.igelu``).

    Five pipeline stages (clip, square, sign, multiply by ``u``, scale/round/saturate)
    that hold together when ``o`` is not ready.  No division and no exponent: the erf
    polynomial's constants absorb the scales (see ``IGeluConfig``).

    Parameters
    ----------
    in_bits, in_frac, out_bits, out_frac
        As in ``IGeluConfig`` (validated there).

    Ports
    -----
    i : In(stream), payload signed(in_bits)
    o : Out(stream), payload signed(out_bits)
    """

    def __init__(self, *, in_bits: int = 8, in_frac: int = 4, out_bits: int = 8,
                 out_frac: int = 4):
        self.config = IGeluConfig(in_bits=in_bits, in_frac=in_frac, out_bits=out_bits,
                                  out_frac=out_frac)
        super().__init__({
            "i": In(stream.Signature(signed(in_bits))),
            "o": Out(stream.Signature(signed(out_bits))),
        })

    @property
    def latency(self) -> int:
        return 5

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        advance = held_pipeline(m, self.i, self.o, self.latency)

        u = Signal(signed(cfg.u_bits))
        m.d.comb += u.eq(self.i.payload << (cfg.frac - cfg.in_frac))
        clipped = Signal(unsigned((-cfg.q_b).bit_length()))
        square = Signal(unsigned(2 * len(clipped)))
        erf = Signal(signed(len(square) + 2))
        product = Signal(signed(cfg.u_bits + len(erf) + 1))
        u1 = delay(m, u, 1, advance, "u")
        u3 = delay(m, u1, 2, advance, "u2")
        neg2 = delay(m, u1 < 0, 1, advance, "neg")
        magnitude = Mux(u < 0, -u, u)
        poly = square + cfg.q_c   # q_c < 0, so poly <= 0 for |x| at the clip point
        lo, hi = -(1 << (cfg.out_bits - 1)), (1 << (cfg.out_bits - 1)) - 1
        with m.If(advance):
            m.d.sync += [
                clipped.eq(Mux(magnitude > -cfg.q_b, -cfg.q_b, magnitude)),
                square.eq((clipped + cfg.q_b) * (clipped + cfg.q_b)),
                erf.eq(Mux(neg2, -poly, poly) + cfg.q_c),
                product.eq(u3 * erf),
                self.o.payload.eq(IntegerArithmetic.saturate(
                    IntegerArithmetic.round_shift(-(product * cfg.scale), Const(cfg.out_shift),
                                                  RoundingCode.HALF_UP),
                    Const(lo, signed(cfg.out_bits)), Const(hi, signed(cfg.out_bits)))),
            ]
        return m
