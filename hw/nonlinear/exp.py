"""The integer exponent datapath shared by softmax, sigmoid, SiLU and ShiftGELU.

``e = exp_pipeline(...)`` computes golden ``softmax_exp(cfg, n)``, an integer
``~ exp_max * exp(-n * 2**-in_frac)`` for ``n >= 0``, with either I-BERT's i-exp or
I-ViT's shift-based exponent.  Every stage register loads only when ``enable`` is high,
so a caller can hold the whole pipeline under back-pressure.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned

from ...numerics.nonlinear import SoftmaxConfig
from ..pipeline import delay


def exp_stages(cfg: SoftmaxConfig) -> int:
    """Registers from ``n`` to ``e``."""
    return 4 if cfg.method == "iexp" else 3


def exp_pipeline(m: Module, cfg: SoftmaxConfig, n, enable, name: str = "exp"):
    """Build the stages; ``n`` is unsigned, at most ``cfg.max_neg``.  Returns ``e``
    (``exp_stages(cfg)`` enabled edges after ``n``)."""
    up = cfg.frac - cfg.in_frac
    e = Signal(unsigned(cfg.exp_bits), name=f"{name}_e")
    z = Signal(range(cfg.max_shift + 1), name=f"{name}_z")
    zero = Signal(name=f"{name}_zero")
    if cfg.method == "iexp":
        recip, k = cfg.z_reciprocal
        n1 = Signal.like(n, name=f"{name}_n1")
        quotient = (n * recip) >> k   # == (n << up) // q_ln2, checked by the config
        t = Signal(unsigned(cfg.q_b.bit_length()), name=f"{name}_t")
        poly = Signal(unsigned(cfg.exp_bits), name=f"{name}_poly")
        # The remainder is in [0, q_ln2) whenever e can be non-zero; when z was clamped,
        # ``zero`` forces e = 0 and the truncated remainder does not matter.
        rem = ((n1 << up) - z * cfg.q_ln2)[:cfg.q_ln2.bit_length()]
        z2 = delay(m, z, 1, enable, f"{name}_z")
        zero2 = delay(m, zero, 1, enable, f"{name}_zero")
        z3 = delay(m, z2, 1, enable, f"{name}_z2")
        zero3 = delay(m, zero2, 1, enable, f"{name}_zero2")
        with m.If(enable):
            m.d.sync += [
                z.eq(Mux(quotient >= cfg.max_shift, cfg.max_shift, quotient)),
                zero.eq(quotient >= cfg.max_shift), n1.eq(n),
                t.eq(cfg.q_b - rem),
                poly.eq(t * t + cfg.q_c),
                e.eq(Mux(zero3, 0, poly >> z3)),
            ]
    else:
        d = Signal(signed(len(n) + up + 1), name=f"{name}_d")
        v = Signal(signed(len(d) + 1), name=f"{name}_v")
        f = Signal(unsigned(cfg.frac), name=f"{name}_f")
        m.d.comb += d.eq(-(n << up))
        whole = -(v >> cfg.frac)  # v = -whole + f / 2**frac
        with m.If(enable):
            m.d.sync += [
                v.eq(d + (d >> 1) - (d >> 4)),  # ~ d * log2(e) with shifts and adds
                z.eq(Mux(whole >= cfg.max_shift, cfg.max_shift, whole)),
                zero.eq(whole >= cfg.max_shift), f.eq(v[:cfg.frac]),
                e.eq(Mux(zero, 0, ((1 << cfg.frac) + f) >> z)),  # 2**f ~ 1 + f
            ]
    return e
