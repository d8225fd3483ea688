"""Streaming requantize (rounding shift + saturation, ReLU as a lower bound) unit."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int
from .arith import IntegerArithmetic, RoundingCode
from .pipeline import held_pipeline


class Requantizer(wiring.Component):
    """``o = saturate(round_shift(i, shift, rounding), lo, hi)``, one value per cycle.

    Three pipeline stages (input register; shift keeping the round bit, and the sticky
    bit of what lies below it; round and saturate); the whole pipeline holds when ``o``
    is not ready.  ``shift``, ``rounding``, ``lo`` and ``hi`` are quasi-static (change
    them only while empty).  ReLU is ``lo = max(lo, 0)``.

    Ports
    -----
    i : In(stream), payload signed(in_bits)
    o : Out(stream), payload signed(out_bits)
    shift : In, unsigned, ``0 .. in_bits - 1``
    rounding : In, RoundingCode (any ``numerics.Rounding``, ``RoundingCode.of``)
    lo, hi : In, signed(out_bits)
    """

    #: Pipeline stages from ``i`` to ``o`` (the three registers above); the engine's
    #: cycle model reads it through ``AcceleratorConfig.timing``.
    LATENCY = 3

    def __init__(self, *, in_bits: int, out_bits: int):
        self.in_bits = check_int("in_bits", in_bits, low=2, high=128)
        self.out_bits = check_int("out_bits", out_bits, low=1, high=in_bits)
        super().__init__({
            "i": In(stream.Signature(signed(in_bits))),
            "o": Out(stream.Signature(signed(out_bits))),
            "shift": In(unsigned(max(1, (in_bits - 1).bit_length()))),
            "rounding": In(RoundingCode),
            "lo": In(signed(out_bits)),
            "hi": In(signed(out_bits)),
        })

    @property
    def latency(self) -> int:
        return self.LATENCY

    def elaborate(self, platform):
        m = Module()
        advance = held_pipeline(m, self.i, self.o, self.latency)

        # Registering the input keeps the producer's output mux off the shifter's path;
        # splitting the rounding add from the barrel shift halves the logic per stage.
        held = Signal(signed(self.in_bits))
        kept = Signal(signed(self.in_bits + 1))
        sticky = Signal()
        with m.If(advance):
            m.d.sync += [
                held.eq(self.i.payload),
                kept.eq(IntegerArithmetic.shift_keeping_round_bit(held, self.shift)),
                sticky.eq(IntegerArithmetic.sticky_below_round_bit(held, self.shift)),
                self.o.payload.eq(IntegerArithmetic.saturate(
                    IntegerArithmetic.finish_round(kept, sticky, self.rounding),
                    self.lo, self.hi)),
            ]
        return m
