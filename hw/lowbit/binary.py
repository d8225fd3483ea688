"""A rows x cols weight-streaming array of XNOR-popcount PEs (binarized ViT layers).

Each PE takes a ``width``-bit slice of the activation and weight vectors.  Bits encode
+1 (1) and -1 (0), so a dot product is ``2 * popcount(xnor(a, w)) - width``.  The
``and`` mode serves BiViT's attention-times-V, where the binarized attention
probability is in {0, 1} and V is +-1: ``sum_{a_i = 1} w_i = 2 * popcount(a & w) -
popcount(a)``.  Per-output-channel scale and bias follow accumulation, in
``OutputScale(per_channel=True)``, so they are applied once per output.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ...numerics.checks import check_int
from ...numerics.formats import signed_width_for
from ..arith import IntegerArithmetic
from ..datapath import BINARY_MODES, MatrixUnitSignature
from ..systolic import chain_pes

MODES = BINARY_MODES


def popcount(m: Module, value, name: str):
    """Balanced adder tree over the bits of ``value`` (log depth, not a ripple chain)."""
    terms = [value[i] for i in range(len(value))]
    while len(terms) > 1:
        pairs = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        terms = pairs + ([terms[-1]] if len(terms) % 2 else [])
    # Signed (one spare bit) so that ``2 * count - n`` below is signed arithmetic.
    count = Signal(signed(len(value).bit_length() + 1), name=name)
    m.d.comb += count.eq(terms[0])
    return count


def _check_mode(mode):
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


class BinaryPE(wiring.Component):
    """``psum_out <= psum_in + dot(act, weight)`` over ``width``-bit binary vectors.

    Ports
    -----
    act : In, unsigned(width), bit ``i`` is element ``i`` (1 = +1 / 0 = -1; ``and``
        mode: 1 / 0)
    weight : In, unsigned(width), bit ``i`` is element ``i`` (1 = +1, 0 = -1)
    psum_in : In, signed(acc_bits)
    psum_out : Out, signed(acc_bits), registered, wraps modulo ``2**acc_bits``
    """

    #: One register after the popcount.
    LATENCY = 1

    def __init__(self, *, width: int, acc_bits: int, mode: str = "xnor"):
        self.width = check_int("vector width", width, low=1, high=1024)
        self.acc_bits = check_int("acc_bits", acc_bits, low=2, high=64)
        self.mode = _check_mode(mode)
        self.arith = IntegerArithmetic(a_bits=1, b_bits=1, acc_bits=acc_bits)
        super().__init__({
            "act": In(unsigned(width)),
            "weight": In(unsigned(width)),
            "psum_in": In(signed(acc_bits)),
            "psum_out": Out(signed(acc_bits)),
        })

    @property
    def latency(self) -> int:
        return self.LATENCY

    def elaborate(self, platform):
        m = Module()
        if self.mode == "xnor":
            agree = popcount(m, ~(self.act ^ self.weight), "agree")
            dot = (agree << 1) - self.width
        else:
            plus = popcount(m, self.act & self.weight, "plus")
            active = popcount(m, self.act, "active")
            dot = (plus << 1) - active
        m.d.sync += self.psum_out.eq(self.arith.accumulate(self.psum_in, dot))
        return m


class BinaryArray(wiring.Component):
    """Row ``r`` computes ``sum_c dot(act[c], weight[c][r])`` over binary vectors.

    The binary member of the datapath seam (``datapath.BinaryDatapath``): ports and
    timing (skew by column, ``latency``, a chunk per cycle) are ``MatrixUnitSignature``'s,
    with ``pe_latency = BinaryPE.LATENCY``.  One chunk covers ``cols * width`` input
    elements.

    Parameters
    ----------
    rows, cols : int
        Array size, 1 to 256 each.
    width : int
        Vector width per PE (input elements per PE per cycle), 1 to 1024.
    acc_bits : int
        Partial-sum width, 2 to 64 (wraps modulo ``2**acc_bits``).
    mode : str
        ``"xnor"`` (+-1 x +-1) or ``"and"`` ({0,1} activations x +-1 weights).

    Ports
    -----
    act : In, ArrayLayout(unsigned(width), cols)
    weight : In, ArrayLayout(ArrayLayout(unsigned(width), rows), cols)
    result : Out, ArrayLayout(signed(acc_bits), rows)
    """

    def __init__(self, *, rows: int, cols: int, width: int, acc_bits: int = 32,
                 mode: str = "xnor"):
        self.rows = check_int("array rows", rows, low=1, high=256)
        self.cols = check_int("array cols", cols, low=1, high=256)
        self.width = check_int("vector width", width, low=1, high=1024)
        self.acc_bits = check_int("acc_bits", acc_bits, low=2, high=64)
        self.mode = _check_mode(mode)
        super().__init__(self.signature_for(rows=rows, cols=cols, width=width,
                                            acc_bits=acc_bits, mode=mode))

    @staticmethod
    def signature_for(*, rows: int, cols: int, width: int, acc_bits: int,
                      mode: str) -> MatrixUnitSignature:
        """(``mode`` changes the arithmetic, not the ports.)"""
        return MatrixUnitSignature(rows=rows, cols=cols, act_lane=unsigned(width),
                                   weight_lane=data.ArrayLayout(unsigned(width), rows),
                                   acc_bits=acc_bits, pe_latency=BinaryPE.LATENCY)

    @property
    def latency(self) -> int:
        """Cycles from column 0's operands to the row results (one register per column)."""
        return self.signature.latency

    def column_bits(self, c: int) -> int:
        """Partial-sum width after column ``c``: ``|sum| <= (c + 1) * width``, at most
        ``acc_bits`` (below it nothing wraps, so sign extension is exact)."""
        reach = (c + 1) * self.width
        return min(self.acc_bits, signed_width_for(-reach, reach))

    def elaborate(self, platform):
        m = Module()
        chain_pes(m, self, make_pe=lambda c: BinaryPE(width=self.width, mode=self.mode,
                                                      acc_bits=self.column_bits(c)),
                  feed_weight=lambda pe, c, r: pe.weight.eq(self.weight[c][r]))
        return m
