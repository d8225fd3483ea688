"""A rows x cols weight-streaming array of floating-point multiply-add PEs.

The float member of the datapath seam (``datapath.FloatDatapath``): ports and timing are
``MatrixUnitSignature``'s, like the integer arrays, with every PE a ``FloatMultiplyAdd``.
Row ``r``'s partial sum enters column 0 as +0 (code 0) and moves along the row; PE
``(r, c)`` computes ``psum_out = fma(psum_in, act[c], weight[c][r])``, so a chunk's row
``r`` is the ordered chain ``acc <- fma(acc, a[k], w[r][k])``, ``k = 0 .. cols - 1``:
``neurogate.sim.golden.fp.matmul_chain`` with ``init`` +0, bit for bit, for every
``ApproxNorm`` setting.

A partial sum needs ``stages`` cycles to cross a PE, so the skew between columns is
``stages`` (not 1 as in the integer arrays) and ``latency = stages * cols``.  Weights are
not held: every chunk brings its own, a column word per cycle, which is what the engine's
weight memories deliver.  (``array.FloatSystolicArray`` is the stream-handshaked,
weight-stationary array of the same units, chained down columns.)
"""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ...numerics.checks import check_int
from ...numerics.floats import EXACT, ApproxNorm, FloatFormat
from ..datapath import FloatDatapath, MatrixUnitSignature
from ..systolic import chain_pes
from .fma import FloatMultiplyAdd


class FloatPE(wiring.Component):
    """``psum_out = psum_in + act * weight`` (one ``FloatMultiplyAdd``), ``stages`` cycles later.

    The multiply-add unit under the port names ``systolic.chain_pes`` wires.

    Ports
    -----
    act, weight : In, ``in_fmt.layout``
    psum_in : In, ``acc_fmt.layout``
    psum_out : Out, ``acc_fmt.layout``, registered
    """

    def __init__(self, *, in_fmt: FloatFormat, acc_fmt: FloatFormat,
                 norm: ApproxNorm = EXACT, stages: int = 3):
        self.unit = FloatMultiplyAdd(in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm, stages=stages)
        super().__init__({
            "act": In(in_fmt.layout), "weight": In(in_fmt.layout),
            "psum_in": In(acc_fmt.layout), "psum_out": Out(acc_fmt.layout),
        })

    @property
    def latency(self) -> int:
        return self.unit.latency

    def elaborate(self, platform):
        m = Module()
        m.submodules.fma = unit = self.unit
        m.d.comb += [unit.a.eq(self.act), unit.b.eq(self.weight), unit.acc.eq(self.psum_in),
                     self.psum_out.eq(unit.result)]
        return m


class FloatStreamArray(wiring.Component):
    """Row ``r`` computes the chain ``acc <- fma(acc, act[c], weight[c][r])`` over the columns.

    Parameters
    ----------
    rows, cols : int
        Array size, 1 to 256 each.
    in_fmt, acc_fmt : FloatFormat
        Operand and accumulator/result formats (see ``FloatMultiplyAdd``).
    norm : ApproxNorm
        The setting of every unit (exact or approximate normalization).
    stages : int
        Pipeline registers of each unit, 1 to 6; also the skew between columns.

    Ports
    -----
    act : In, ArrayLayout(in_fmt.layout, cols)
    weight : In, ArrayLayout(ArrayLayout(in_fmt.layout, rows), cols)
        ``weight[c][r]``: a column's weights are one word of that column's memory.
    result : Out, ArrayLayout(acc_fmt.layout, rows)
    """

    def __init__(self, *, rows: int, cols: int, in_fmt: FloatFormat, acc_fmt: FloatFormat,
                 norm: ApproxNorm = EXACT, stages: int = 3):
        self.rows = check_int("array rows", rows, low=1, high=256)
        self.cols = check_int("array cols", cols, low=1, high=256)
        self._pe_args = dict(in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm, stages=stages)
        FloatDatapath(**self._pe_args)  # the config's checks, by field name
        self.in_fmt, self.acc_fmt, self.norm, self.stages = in_fmt, acc_fmt, norm, stages
        super().__init__(self.signature_for(rows=rows, cols=cols, **self._pe_args))

    @staticmethod
    def signature_for(*, rows: int, cols: int, in_fmt: FloatFormat, acc_fmt: FloatFormat,
                      norm: ApproxNorm, stages: int) -> MatrixUnitSignature:
        """(``norm`` changes the arithmetic, not the ports.)"""
        return MatrixUnitSignature(rows=rows, cols=cols, act_lane=in_fmt.layout,
                                   weight_lane=data.ArrayLayout(in_fmt.layout, rows),
                                   result_lane=acc_fmt.layout, pe_latency=stages, skew=stages)

    @property
    def latency(self) -> int:
        """Cycles from column 0's operands to the row results (``stages * cols``)."""
        return self.signature.latency

    def elaborate(self, platform):
        m = Module()
        chain_pes(m, self, make_pe=lambda c: FloatPE(**self._pe_args),
                  feed_weight=lambda pe, c, r: pe.weight.eq(self.weight[c][r]))
        return m
