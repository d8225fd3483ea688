"""A signed multiplier with a register at its operands, inside and at its product: the
shape of an FPGA DSP block with all its pipeline registers on.

Simulation and most synthesis flows take it as written (yosys maps the ``*`` to a DSP
block and leaves the registers in the fabric).  On the ECP5, ``neurogate synth``
replaces every instance by a ``MULT18X18D`` with its input, pipeline and output
registers on (``compiler/flows/ecp5_dsp.py``), so that no path crosses the block's
3.9 ns of multiplier: the routing into the DSP row and out of it each get a cycle of
their own.  The replacement is proved equal to this module (``tests/flows``).
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int


class PipelinedMultiplier(wiring.Component):
    """``p`` is ``a * b`` of ``LATENCY`` cycles before (signed operands and product).

    The operand register of ``a`` is named ``a_dup``: every PE of a column multiplies the
    same ``a``, and synthesis keeps each PE's copy (``toolchain.KEEP_DUPLICATES``) so it
    can sit at its own DSP block.  No register has a reset (data only).

    Ports
    -----
    a : In, signed(a_bits)
    b : In, signed(b_bits)
    p : Out, signed(a_bits + b_bits), registered
    """

    #: Submodule name the ECP5 flow looks for (``compiler/flows/ecp5_dsp.py``).
    NAME = "pipelined_mul"
    #: Cycles from operands at ``a``, ``b`` to their product at ``p``.
    LATENCY = 3

    def __init__(self, *, a_bits: int, b_bits: int):
        self.a_bits = check_int("a_bits", a_bits, low=1, high=64)
        self.b_bits = check_int("b_bits", b_bits, low=1, high=64)
        super().__init__({"a": In(signed(a_bits)), "b": In(signed(b_bits)),
                          "p": Out(signed(a_bits + b_bits))})

    def elaborate(self, platform):
        m = Module()
        a = Signal.like(self.a, name="a_dup", reset_less=True)
        b = Signal.like(self.b, name="b_reg", reset_less=True)
        product = Signal.like(self.p, name="product", reset_less=True)
        p = Signal.like(self.p, name="p_reg", reset_less=True)
        m.d.sync += [a.eq(self.a), b.eq(self.b), product.eq(a * b), p.eq(product)]
        m.d.comb += self.p.eq(p)
        return m
