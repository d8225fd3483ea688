"""A rows x cols weight-streaming systolic array of multiply-accumulate PEs."""

from __future__ import annotations

from amaranth.hdl import Module, signed
from amaranth.lib import data, wiring

from ..numerics.checks import check_int
from .datapath import MatrixUnitSignature
from .pe import ProcessingElement


class SystolicArray(wiring.Component):
    """Row ``r`` computes ``sum_c act[c] * weight[c][r]`` with partial sums moving along it.

    The integer member of the datapath seam (``datapath.IntegerDatapath``): ports and
    timing (skew by column, ``latency``, a chunk per cycle) are ``MatrixUnitSignature``'s,
    with ``pe_latency = ProcessingElement.LATENCY``.  ``act[c]`` is broadcast to every row
    of column ``c``.

    Ports
    -----
    act : In, ArrayLayout(signed(act_bits), cols)
    weight : In, ArrayLayout(ArrayLayout(signed(weight_bits), rows), cols)
        ``weight[c][r]``: a column's weights are one word of that column's memory.
    result : Out, ArrayLayout(signed(acc_bits), rows)
    """

    def __init__(self, *, rows: int, cols: int, act_bits: int, weight_bits: int, acc_bits: int):
        self.rows = check_int("array rows", rows, low=1, high=256)
        self.cols = check_int("array cols", cols, low=1, high=256)
        self.act_bits, self.weight_bits, self.acc_bits = act_bits, weight_bits, acc_bits
        self._pe_args = dict(act_bits=act_bits, weight_bits=weight_bits, acc_bits=acc_bits)
        check_int("act_bits", act_bits, low=1, high=64)
        check_int("weight_bits", weight_bits, low=1, high=64)
        check_int("acc_bits", acc_bits, low=1, high=128)
        super().__init__(self.signature_for(rows=rows, cols=cols, act_bits=act_bits,
                                            weight_bits=weight_bits, acc_bits=acc_bits))

    @staticmethod
    def signature_for(*, rows: int, cols: int, act_bits: int, weight_bits: int,
                      acc_bits: int) -> MatrixUnitSignature:
        return MatrixUnitSignature(rows=rows, cols=cols, act_lane=signed(act_bits),
                                   weight_lane=data.ArrayLayout(signed(weight_bits), rows),
                                   acc_bits=acc_bits, pe_latency=ProcessingElement.LATENCY)

    @property
    def latency(self) -> int:
        """Cycles from column 0's operands to the row results (``cols + 1``)."""
        return self.signature.latency

    def elaborate(self, platform):
        m = Module()
        chain_pes(m, self, make_pe=lambda c: ProcessingElement(**self._pe_args),
                  feed_weight=lambda pe, c, r: pe.weight.eq(self.weight[c][r]))
        return m


def chain_pes(m: Module, array, *, make_pe, feed_weight) -> None:
    """Wire ``array.rows x array.cols`` PEs the way every weight-streaming array does.

    ``array.act[c]`` goes to every PE of column ``c``, partial sums run along each row from
    ``psum_in = 0`` at column 0, and the last column's ``psum_out`` is ``array.result[r]``.
    ``make_pe(c)`` builds the PE of column ``c`` (ports ``act``, ``psum_in``, ``psum_out``);
    ``feed_weight(pe, c, r)`` returns the statement driving its weight input.
    """
    for r in range(array.rows):
        psum = 0
        for c in range(array.cols):
            pe = make_pe(c)
            m.submodules[f"pe_{r}_{c}"] = pe
            m.d.comb += [pe.act.eq(array.act[c]), feed_weight(pe, c, r), pe.psum_in.eq(psum)]
            psum = pe.psum_out
        m.d.comb += array.result[r].eq(psum)
