"""A rows x cols array of floating-point multiply-add units, chained down each column.

Dataflow (weight-stationary): unit ``(k, j)`` holds weight ``B[k, j]``; the partial sum of
column ``j`` enters row 0 as +0 and leaves row ``k`` as ``acc + A[i, k] * B[k, j]``, so
``C[i, j]`` is ``neurogate.sim.golden.fp.matmul_chain`` exactly (same order, same
rounding after each step).  ``A[i, k]`` is broadcast along row ``k`` after a delay of
``k * unit latency`` cycles, so that it meets the partial sum coming down; every column
therefore finishes in the same cycle and the output vector needs no de-skew.

Back-pressure freezes the whole array (one clock enable), so the output payload stays
stable while ``o.valid`` is high and ``o.ready`` low, as a stream demands.

Relation to ``stream_array.FloatStreamArray``, the float member of the engine's datapath
seam (``datapath.FloatDatapath``): both chain the same ``FloatMultiplyAdd`` units and
compute the same chain (``matmul_chain`` from +0), but this array is a self-contained
block with stream handshakes and *stationary* weights (loaded once, reused for every
vector, the sum running down a column), while ``FloatStreamArray`` has the seam's ports
and timing (``MatrixUnitSignature``: no handshake, fresh weights every chunk, the sum
running along a row, columns ``stages`` cycles apart).  This one serves the fp-study
and its own cocotb bench; the engine selects the other.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ...numerics.checks import check_int
from ...numerics.floats import EXACT, ApproxNorm, FloatFormat
from .fma import FloatMultiplyAdd


class FloatSystolicArray(wiring.Component):
    """``o = i @ W`` for a stream of row vectors ``i`` (length ``rows``), ``W`` rows x cols.

    Parameters
    ----------
    rows, cols : int
        Array size, 1 to 32 each; ``rows`` is the reduction (chain) length.
    in_fmt, acc_fmt : FloatFormat
        Operand and accumulator/result formats (see ``FloatMultiplyAdd``).
    norm : ApproxNorm
        The setting of every unit (exact or approximate normalization).
    stages : int
        Pipeline registers of each unit, 1 to 6.

    Ports
    -----
    w : In, stream of ``ArrayLayout(in_fmt.layout, cols)``; the n-th transfer (modulo
        ``rows``) loads weight row ``n mod rows``; always ready.  Load weights only while
        no vector is in flight.
    i : In, stream of ``ArrayLayout(in_fmt.layout, rows)``, one activation vector.
    o : Out, stream of ``ArrayLayout(acc_fmt.layout, cols)``, one result vector per input
        vector, in order, ``latency`` cycles later when never stalled.
    """

    def __init__(self, *, rows: int, cols: int, in_fmt: FloatFormat, acc_fmt: FloatFormat,
                 norm: ApproxNorm = EXACT, stages: int = 3):
        check_int("array rows", rows, low=1, high=32)
        check_int("array cols", cols, low=1, high=32)
        # build one unit now so that format/stage errors surface at construction
        FloatMultiplyAdd(in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm, stages=stages)
        self.rows, self.cols, self.stages = rows, cols, stages
        self.in_fmt, self.acc_fmt, self.norm = in_fmt, acc_fmt, norm
        super().__init__({
            "w": In(stream.Signature(data.ArrayLayout(in_fmt.layout, cols))),
            "i": In(stream.Signature(data.ArrayLayout(in_fmt.layout, rows))),
            "o": Out(stream.Signature(data.ArrayLayout(acc_fmt.layout, cols))),
        })

    @property
    def latency(self) -> int:
        """Cycles from an accepted input vector to its result on ``o`` (no stalls)."""
        return self.rows * self.stages

    def elaborate(self, platform):
        m = Module()
        rows, cols, lat = self.rows, self.cols, self.stages

        # weights: a row counter writes the stationary registers
        weights = [[Signal(self.in_fmt.width, name=f"w_{k}_{j}") for j in range(cols)]
                   for k in range(rows)]
        load_row = Signal(range(rows), name="load_row")
        m.d.comb += self.w.ready.eq(1)
        with m.If(self.w.valid):
            m.d.sync += load_row.eq(Mux(load_row == rows - 1, 0, load_row + 1))
            for k in range(rows):
                with m.If(load_row == k):
                    m.d.sync += [weights[k][j].eq(self.w.payload[j].as_value())
                                 for j in range(cols)]

        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]

        # row k sees its activation k * latency cycles late, when the partial sum arrives
        acts = []
        for k in range(rows):
            value = self.i.payload[k].as_value()
            for t in range(k * lat):
                reg = Signal(self.in_fmt.width, name=f"a_{k}_d{t}")
                with m.If(advance):
                    m.d.sync += reg.eq(value)
                value = reg
            acts.append(value)

        bottom = []
        for j in range(cols):
            psum, valid = 0, self.i.valid
            for k in range(rows):
                unit = FloatMultiplyAdd(in_fmt=self.in_fmt, acc_fmt=self.acc_fmt,
                                        norm=self.norm, stages=lat)
                m.submodules[f"pe_{k}_{j}"] = unit
                m.d.comb += [unit.a.eq(acts[k]), unit.b.eq(weights[k][j]),
                             unit.acc.eq(psum), unit.valid_in.eq(valid), unit.ce.eq(advance)]
                psum, valid = unit.result.as_value(), unit.valid_out
            bottom.append(psum)
            if j == 0:
                m.d.comb += self.o.valid.eq(valid)
        for j in range(cols):
            m.d.comb += self.o.payload[j].eq(bottom[j])
        return m

