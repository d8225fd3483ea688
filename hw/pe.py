"""The multiply-accumulate processing element of the weight-streaming systolic array."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int
from .arith import IntegerArithmetic
from .multiplier import PipelinedMultiplier


class ProcessingElement(wiring.Component):
    """``psum_out <= psum_in + product``, the product of ``act`` and ``weight`` from a
    ``PipelinedMultiplier`` (registers at the operands, inside and at the product),
    then one register for the sum.

    The multiplier (a DSP block on FPGAs) gets a cycle of its own between registers,
    and so do the broadcast of ``act`` to a column and the way from the multiplier to
    the accumulator adder: on the ECP5-85k the 8x8 engine's multipliers sit in DSP rows
    far from the adders, and without the operand and output registers these
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
    LATENCY = PipelinedMultiplier.LATENCY + 1

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
        m.submodules[PipelinedMultiplier.NAME] = mul = PipelinedMultiplier(
            a_bits=self.arith.a_bits, b_bits=self.arith.b_bits)
        # Data only (no reset): the array's results are used where a valid bit beside it
        # says so, and a 64-PE array would otherwise load the reset with 3,000 registers.
        psum = Signal(self.arith.acc_shape, reset_less=True)
        m.d.comb += [mul.a.eq(self.act), mul.b.eq(self.weight)]
        m.d.sync += psum.eq(self.arith.accumulate(self.psum_in, mul.p))
        m.d.comb += self.psum_out.eq(psum)
        return m
