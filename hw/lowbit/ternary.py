"""A rows x cols weight-streaming array of multiplier-free ternary PEs (BitLinear).

Weights are {-1, 0, +1}, packed 2 bits each as 2-bit two's complement (``00`` = 0,
``01`` = +1, ``11`` = -1, ``10`` reserved; row ``r`` of a column word at bits
``[2r, 2r+1]``).  Bit 0 enables the add and bit 1 picks subtraction, so a PE is an
adder/subtractor with a clock enable: the netlist has no multiplier.  The reserved code
``10`` has bit 0 clear and therefore acts as 0 (``pack_ternary`` refuses to emit it).
The per-tensor scale is applied once per output by ``OutputScale``, not in the array.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ...numerics.checks import check_int
from ...numerics.formats import signed_width_for
from ..arith import IntegerArithmetic
from ..datapath import MatrixUnitSignature
from ..systolic import chain_pes


class TernaryPE(wiring.Component):
    """``psum_out <= psum_in + (act if code == 01 else -act if code == 11 else 0)``.

    Ports
    -----
    act : In, signed(act_bits)
    code : In, unsigned(2), packed ternary weight
    psum_in : In, signed(acc_bits)
    psum_out : Out, signed(acc_bits), registered, wraps modulo ``2**acc_bits``
    """

    #: One register: without a multiplier there is nothing to split off.
    LATENCY = 1

    def __init__(self, *, act_bits: int, acc_bits: int):
        self.act_bits = check_int("act_bits", act_bits, low=2, high=32)
        self.acc_bits = check_int("acc_bits", acc_bits, low=2, high=64)
        self.arith = IntegerArithmetic(a_bits=act_bits, b_bits=2, acc_bits=acc_bits)
        super().__init__({
            "act": In(signed(act_bits)),
            "code": In(unsigned(2)),
            "psum_in": In(signed(acc_bits)),
            "psum_out": Out(signed(acc_bits)),
        })

    @property
    def latency(self) -> int:
        return self.LATENCY

    def elaborate(self, platform):
        m = Module()
        # act_bits + 1 bits so that -(-2**(act_bits-1)) is representable.
        wide = self.act.as_signed()
        addend = Mux(self.code[0], Mux(self.code[1], -wide, wide), 0)
        m.d.sync += self.psum_out.eq(self.arith.accumulate(self.psum_in, addend))
        return m


class TernaryArray(wiring.Component):
    """Row ``r`` computes ``sum_c act[c] * w[c][r]`` for ternary ``w`` by add/subtract/skip.

    The ternary member of the datapath seam (``datapath.TernaryDatapath``): ports and
    timing (skew by column, ``latency``, a chunk per cycle) are ``MatrixUnitSignature``'s,
    with ``pe_latency = TernaryPE.LATENCY``.  ``act[c]`` is broadcast to every row of
    column ``c``.

    Parameters
    ----------
    rows, cols : int
        Array size, 1 to 256 each.
    act_bits : int
        Signed activation width, 2 to 32 (8 for BitLinear's absmax int8).
    acc_bits : int
        Partial-sum width, 2 to 64; sums wrap modulo ``2**acc_bits``.

    Ports
    -----
    act : In, ArrayLayout(signed(act_bits), cols)
    weight : In, ArrayLayout(unsigned(2 * rows), cols)
        ``weight[c]``: column ``c``'s packed ternary word, row ``r`` at bits ``[2r, 2r+1]``.
    result : Out, ArrayLayout(signed(acc_bits), rows)
    """

    def __init__(self, *, rows: int, cols: int, act_bits: int = 8, acc_bits: int = 32):
        self.rows = check_int("array rows", rows, low=1, high=256)
        self.cols = check_int("array cols", cols, low=1, high=256)
        self.act_bits = check_int("act_bits", act_bits, low=2, high=32)
        self.acc_bits = check_int("acc_bits", acc_bits, low=2, high=64)
        super().__init__(self.signature_for(rows=rows, cols=cols, act_bits=act_bits,
                                            acc_bits=acc_bits))

    @staticmethod
    def signature_for(*, rows: int, cols: int, act_bits: int,
                      acc_bits: int) -> MatrixUnitSignature:
        return MatrixUnitSignature(rows=rows, cols=cols, act_lane=signed(act_bits),
                                   weight_lane=unsigned(2 * rows), acc_bits=acc_bits,
                                   pe_latency=TernaryPE.LATENCY)

    @property
    def latency(self) -> int:
        """Cycles from column 0's operands to the row results (one register per column)."""
        return self.signature.latency

    def column_bits(self, c: int) -> int:
        """Partial-sum width after column ``c``: what ``c + 1`` terms of ``+-act`` can
        reach, at most ``acc_bits``.  Below ``acc_bits`` no wrap can happen, so the
        sign-extended result equals the ``acc_bits`` sum; at ``acc_bits`` it wraps the
        same way.  This halves the adders and registers of an int8 array with a 32-bit
        accumulator (a chunk of 8 columns reaches 12 bits)."""
        reach = (c + 1) << (self.act_bits - 1)
        return min(self.acc_bits, signed_width_for(-reach, reach))

    def elaborate(self, platform):
        m = Module()
        chain_pes(m, self, make_pe=lambda c: TernaryPE(act_bits=self.act_bits,
                                                       acc_bits=self.column_bits(c)),
                  feed_weight=lambda pe, c, r: pe.code.eq(self.weight[c][2 * r:2 * r + 2]))
        return m
