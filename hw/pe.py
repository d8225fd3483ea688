"""The multiply-accumulate processing element of the weight-streaming systolic array."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int
from .arith import IntegerArithmetic


class ProcessingElement(wiring.Component):
    """``psum_out <= psum_in + product``, the product of ``act`` and ``weight`` through
    four registers: the operands, the product, the product again, the sum.

    The multiplier (a DSP block on FPGAs) gets a cycle of its own between registers,
    and so do the broadcast of ``act`` to a column and the way from the multiplier to
    the accumulator adder: on the ECP5-85k the 8x8 engine's multipliers sit in DSP rows
    far from the adders, and without the operand and second product registers these
    paths took 13.4 ns.  Every PE of an array has them, so the skew between neighbours
    is unchanged.

    Ports
    -----
    act : In, signed(act_bits)
    weight : In, signed(weight_bits)
    psum_in : In, signed(acc_bits)
    psum_out : Out, signed(acc_bits), registered
    """

    #: Cycles from operands at the inputs to their product inside ``psum_out``.
    LATENCY = 4

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
        # Data only (no reset): the array's results are used where a valid bit beside it
        # says so, and a 64-PE array would otherwise load the reset with 3,000 registers.
        # Named ``*_dup``: every PE of a column registers the same ``act``, and synthesis
        # keeps each copy (compiler/flows/toolchain.py) so it can sit at its own DSP.
        act = Signal.like(self.act, name="act_dup", reset_less=True)
        weight = Signal.like(self.weight, reset_less=True)
        product = Signal(self.arith.product_shape, reset_less=True)
        product_on = Signal(self.arith.product_shape, reset_less=True)
        psum = Signal(self.arith.acc_shape, reset_less=True)
        m.d.sync += [act.eq(self.act), weight.eq(self.weight),
                     product.eq(self.arith.multiply(act, weight)), product_on.eq(product),
                     psum.eq(self.arith.accumulate(self.psum_in, product_on))]
        m.d.comb += self.psum_out.eq(psum)
        return m
