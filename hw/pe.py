"""The multiply-accumulate processing element of the weight-streaming systolic array."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int
from .arith import IntegerArithmetic


class ProcessingElement(wiring.Component):
    """``psum_out <= psum_in + product``, ``product <= act * weight`` (two registers).

    The product register lets the multiplier (a DSP block on FPGAs) and the accumulator
    adder each have a full cycle; every PE of an array has it, so the skew between
    neighbours is unchanged.

    Ports
    -----
    act : In, signed(act_bits)
    weight : In, signed(weight_bits)
    psum_in : In, signed(acc_bits)
    psum_out : Out, signed(acc_bits), registered
    """

    #: Cycles from operands at the inputs to their product inside ``psum_out`` (the
    #: product register, then the accumulator register).
    LATENCY = 2

    def __init__(self, *, act_bits: int, weight_bits: int, acc_bits: int):
        check_int("act_bits", act_bits, low=1, high=64)
        check_int("weight_bits", weight_bits, low=1, high=64)
        check_int("acc_bits", acc_bits, low=1, high=128)
        self.arith = IntegerArithmetic(a_bits=act_bits, b_bits=weight_bits, acc_bits=acc_bits)
        super().__init__({
            "act": In(signed(act_bits)),
            "weight": In(signed(weight_bits)),
            "psum_in": In(self.arith.acc_shape),
            "psum_out": Out(self.arith.acc_shape),
        })

    @property
    def latency(self) -> int:
        """Cycles from operands at the inputs to their product inside ``psum_out``."""
        return self.LATENCY

    def elaborate(self, platform):
        m = Module()
        product = Signal(self.arith.product_shape)
        m.d.sync += product.eq(self.arith.multiply(self.act, self.weight))
        m.d.sync += self.psum_out.eq(self.arith.accumulate(self.psum_in, product))
        return m
