"""The datapath seam: one signature for the engine's matrix unit, one config per member.

A *matrix unit* turns one *chunk* (an activation vector and a weight tile) into ``rows``
wrapped dot products, with the port shape and timing of ``MatrixUnitSignature``.  Its
members, each a frozen config that builds the unit and packs weights for it:

=================  =======================================  ==================================
config             unit                                     weight lane (one column's word)
=================  =======================================  ==================================
IntegerDatapath    ``systolic.SystolicArray`` (DSP MACs)     ``rows`` x ``signed(weight_bits)``
TernaryDatapath    ``lowbit.ternary.TernaryArray``           ``unsigned(2 * rows)``, 2-bit codes
BinaryDatapath     ``lowbit.binary.BinaryArray``             ``rows`` x ``unsigned(width)``
FloatDatapath      ``fp.stream_array.FloatStreamArray``      ``rows`` x ``in_fmt`` code
=================  =======================================  ==================================

The golden model of every integer member's chunk product is ``wrap(w @ a, acc_bits)`` on
the *logical* integers (the values the packers take): ``sim.golden.arith.dense``
(integer), ``sim.golden.lowbit.ternary_chunk`` and ``binary_chunk``.  The float member's
is ``sim.golden.fp.matmul_chain(a[None], w.T, ...)`` from +0 on the codes: each row the
ordered chain of multiply-adds, rounded after every step as the units round.  The float
member differs from the others in two fields of ``MatrixUnitSignature``: its result
lanes are ``acc_fmt`` codes, and its columns are ``stages`` cycles apart (``skew``).

The packers live here, not in ``numerics``: only the hardware's ports consume packed words
(the golden models compute on logical integers), and ``hw`` may not import
``sim.golden.lowbit``, whose ``pack_ternary``/``pack_bits`` encode the same words and are
kept as the independent check in ``tests/hw/test_datapath.py``.

The arrays build their ports from ``MatrixUnitSignature``, so they import this module;
the configs therefore import the arrays where they build them (a module-level import
here would be circular).
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Shape, ShapeCastable, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int
from ..numerics.floats import EXACT, ApproxNorm, FloatFormat
from .fp.fma import MAX_ACC_MAN_BITS, STEPS

BINARY_MODES = ("xnor", "and")


class MatrixUnitSignature(wiring.Signature):
    """Ports and timing of a weight-streaming matrix unit of ``rows x cols`` PEs.

    Ports
    -----
    act : In, ArrayLayout(act_lane, cols)
        ``act[c]``: column ``c``'s activation lane (one value, or a packed vector).
    weight : In, ArrayLayout(weight_lane, cols)
        ``weight[c]``: column ``c``'s weights for every row, in the member's packed layout
        (one word of that column's weight memory).
    result : Out, ArrayLayout(result_lane, rows)
        ``result[r]``: row ``r``'s dot product over the chunk: ``signed(acc_bits)``,
        wrapped to ``acc_bits``, for the integer members; a code of the accumulator
        format (``FloatFormat.layout``) for the float member.

    Timing (the contract every member keeps)
    ----------------------------------------
    * Skew: a chunk's operands for column ``c`` are presented ``c * skew`` cycles after
      those for column 0, each for one cycle (``skew`` is 1 for the integer members,
      the multiply-add unit's ``stages`` for the float member).
    * Latency: the chunk whose column-0 operands were presented at cycle ``s`` has its
      row results on ``result`` at cycle ``s + latency`` (for that cycle only), with
      ``latency = pe_latency + (cols - 1) * skew``: the registers of one PE, then those
      of every further column that the partial sum crosses.
    * Throughput: a new chunk every cycle.  Chunks are independent (each starts from a
      zero partial sum, +0 for floats); accumulating over chunks is the caller's business.
    * No handshake: there is no valid/ready, so control travels beside the unit,
      delayed by ``latency``.

    Parameters
    ----------
    rows, cols : int
        Array size, 1 to 256 each.
    act_lane, weight_lane : shape-castable
        One column's activation and weight lanes.
    acc_bits : int
        Integer members: result width, 1 to 128 (the result lane is ``signed(acc_bits)``).
    result_lane : shape-castable
        Other members: one row's result lane, instead of ``acc_bits`` (give exactly one).
    pe_latency : int
        Cycles from a column's operands to its contribution in the partial sum leaving it,
        1 to 64.
    skew : int
        Cycles between successive columns' operands, 1 to 64 (at most ``pe_latency``: the
        partial sum must have left a PE when the next column's operands meet it).
    """

    def __init__(self, *, rows: int, cols: int, act_lane, weight_lane,
                 acc_bits: int | None = None, result_lane=None, pe_latency: int,
                 skew: int = 1):
        self._rows = check_int("array rows", rows, low=1, high=256)
        self._cols = check_int("array cols", cols, low=1, high=256)
        if (acc_bits is None) == (result_lane is None):
            raise TypeError("give exactly one of acc_bits and result_lane")
        if acc_bits is not None:
            result_lane = signed(check_int("acc_bits", acc_bits, low=1, high=128))
        for name, lane in (("act_lane", act_lane), ("weight_lane", weight_lane),
                           ("result_lane", result_lane)):
            if not isinstance(lane, (Shape, ShapeCastable)):
                raise TypeError(f"{name} must be a shape or a layout, not {lane!r}")
        self._act_lane, self._weight_lane = act_lane, weight_lane
        self._result_lane = result_lane
        self._pe_latency = check_int("pe_latency", pe_latency, low=1, high=64)
        self._skew = check_int("skew", skew, low=1, high=self._pe_latency)
        super().__init__({
            "act": In(data.ArrayLayout(act_lane, cols)),
            "weight": In(data.ArrayLayout(weight_lane, cols)),
            "result": Out(data.ArrayLayout(result_lane, rows)),
        })

    rows = property(lambda self: self._rows)
    cols = property(lambda self: self._cols)
    act_lane = property(lambda self: self._act_lane)
    weight_lane = property(lambda self: self._weight_lane)
    result_lane = property(lambda self: self._result_lane)
    pe_latency = property(lambda self: self._pe_latency)
    skew = property(lambda self: self._skew)

    @property
    def result_lane_bits(self) -> int:
        """Bits of one row's result lane."""
        return Shape.cast(self._result_lane).width

    @property
    def acc_bits(self) -> int:
        """``result_lane_bits``, under the integer members' name for it."""
        return self.result_lane_bits

    @property
    def latency(self) -> int:
        """Cycles from column 0's operands of a chunk to its row results."""
        return self._pe_latency + (self._cols - 1) * self._skew

    @property
    def act_lane_bits(self) -> int:
        return Shape.cast(self._act_lane).width

    @property
    def weight_lane_bits(self) -> int:
        return Shape.cast(self._weight_lane).width

    def _key(self):
        return (self._rows, self._cols, self._act_lane, self._weight_lane, self._result_lane,
                self._pe_latency, self._skew)

    def __eq__(self, other):
        return type(other) is MatrixUnitSignature and self._key() == other._key()

    __hash__ = None

    def __repr__(self):
        return (f"MatrixUnitSignature(rows={self._rows}, cols={self._cols}, "
                f"act_lane={self._act_lane!r}, weight_lane={self._weight_lane!r}, "
                f"result_lane={self._result_lane!r}, pe_latency={self._pe_latency}, "
                f"skew={self._skew})")


def _integers(name: str, values) -> np.ndarray:
    """``values`` as an array of Python integers, or ``ValueError`` naming ``name``."""
    array = np.asarray(values)
    if array.dtype.kind not in "iuO" or (array.dtype.kind == "O" and not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in array.flat)):
        raise ValueError(f"{name} must be integers, not {array.dtype}")
    return array.astype(object)


def _require(name: str, values: np.ndarray, allowed: str, predicate) -> None:
    """``ValueError`` naming ``name`` and the first value failing ``predicate``."""
    ok = np.vectorize(predicate, otypes=[bool])(values)
    if not ok.all():
        raise ValueError(f"{name} must be {allowed}, not {values[~ok].flat[0]}")


def _in_range(name: str, values: np.ndarray, bits: int) -> None:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    _require(name, values, f"integers from {lo} to {hi}", lambda v: lo <= v <= hi)


def _pack(fields: np.ndarray, bits: int) -> np.ndarray:
    """``fields[..., n]`` -> words holding field ``i`` at bits ``[i*bits, (i+1)*bits)``
    (two's complement, masked to ``bits``)."""
    mask = (1 << bits) - 1
    words = np.zeros(fields.shape[:-1], dtype=object)
    for i in range(fields.shape[-1]):
        words = words + ((fields[..., i] & mask) << (i * bits))
    return words


def _tile(name: str, values, column_inputs: int, min_dims: int) -> np.ndarray:
    array = _integers(name, values)
    if array.ndim < min_dims:
        raise ValueError(f"{name} needs at least {min_dims} dimensions, not shape {array.shape}")
    if array.shape[-1] == 0 or array.shape[-1] % column_inputs:
        raise ValueError(f"{name} has {array.shape[-1]} inputs per chunk, not a positive "
                         f"multiple of {column_inputs} (inputs per column)")
    return array


class _Datapath(abc.ABC):
    """What every member provides; the members are frozen dataclasses over this and
    implement the three abstract methods (the array class and the two packers)."""

    #: Input elements one column takes per chunk (a chunk covers ``cols * column_inputs``).
    column_inputs = 1

    @abc.abstractmethod
    def _array(self):
        """The member's array component class (imported where the member needs it)."""

    def _params(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def signature(self, rows: int, cols: int) -> MatrixUnitSignature:
        """The ``MatrixUnitSignature`` of the ``rows x cols`` unit."""
        return self._array().signature_for(rows=rows, cols=cols, **self._params())

    def build(self, rows: int, cols: int) -> wiring.Component:
        """The ``rows x cols`` unit; its ``signature`` is ``self.signature(rows, cols)``."""
        return self._array()(rows=rows, cols=cols, **self._params())

    def latency(self, rows: int, cols: int) -> int:
        """``MatrixUnitSignature.latency`` of the ``rows x cols`` unit."""
        return self.signature(rows, cols).latency

    def weight_lane_bits(self, rows: int) -> int:
        """Bits of one column's weight word (the width of each weight memory)."""
        return self.signature(rows, 1).weight_lane_bits

    @property
    def act_lane_bits(self) -> int:
        return self.signature(1, 1).act_lane_bits

    @abc.abstractmethod
    def pack_weights(self, weights) -> np.ndarray:
        """``weights[..., rows, cols * column_inputs]`` (logical integers, row ``r`` of the
        tile is output ``r``) -> ``[..., cols]`` Python-integer words for ``weight[c]``."""

    @abc.abstractmethod
    def pack_acts(self, acts) -> np.ndarray:
        """``acts[..., cols * column_inputs]`` (logical integers) -> ``[..., cols]``
        Python-integer words for ``act[c]``."""


@dataclass(frozen=True)
class IntegerDatapath(_Datapath):
    """Two's-complement multiply-accumulate (``SystolicArray``), a pipelined multiplier per PE.

    Fields: ``act_bits`` 1 to 64, ``weight_bits`` 1 to 64, ``acc_bits`` 1 to 128.
    """

    act_bits: int = 8
    weight_bits: int = 8
    acc_bits: int = 32

    def __post_init__(self):
        check_int("act_bits", self.act_bits, low=1, high=64)
        check_int("weight_bits", self.weight_bits, low=1, high=64)
        check_int("acc_bits", self.acc_bits, low=1, high=128)

    def _array(self):
        from .systolic import SystolicArray  # local: see the module docstring
        return SystolicArray

    def pack_weights(self, weights) -> np.ndarray:
        """Row ``r`` of column ``c``'s word at bits ``[r*weight_bits, (r+1)*weight_bits)``."""
        w = _tile("weights", weights, 1, 2)
        _in_range("weights", w, self.weight_bits)
        return _pack(np.swapaxes(w, -1, -2), self.weight_bits)

    def pack_acts(self, acts) -> np.ndarray:
        a = _tile("activations", acts, 1, 1)
        _in_range("activations", a, self.act_bits)
        return a & ((1 << self.act_bits) - 1)


@dataclass(frozen=True)
class TernaryDatapath(_Datapath):
    """Add/subtract/skip by weights in {-1, 0, +1} (``TernaryArray``, no multiplier).

    Fields: ``act_bits`` 2 to 32, ``acc_bits`` 2 to 64.  Weight codes are 2-bit two's
    complement (``00`` = 0, ``01`` = +1, ``11`` = -1), row ``r`` at bits ``[2r, 2r+1]``.
    """

    act_bits: int = 8
    acc_bits: int = 32

    def __post_init__(self):
        check_int("act_bits", self.act_bits, low=2, high=32)
        check_int("acc_bits", self.acc_bits, low=2, high=64)

    def _array(self):
        from .lowbit.ternary import TernaryArray  # local: see the module docstring
        return TernaryArray

    def pack_weights(self, weights) -> np.ndarray:
        w = _tile("weights", weights, 1, 2)
        _require("ternary weights", w, "-1, 0 or +1", lambda v: v in (-1, 0, 1))
        return _pack(np.swapaxes(w, -1, -2), 2)

    def pack_acts(self, acts) -> np.ndarray:
        a = _tile("activations", acts, 1, 1)
        _in_range("activations", a, self.act_bits)
        return a & ((1 << self.act_bits) - 1)


@dataclass(frozen=True)
class BinaryDatapath(_Datapath):
    """XNOR-popcount (``xnor``: +-1 x +-1) or AND-popcount (``and``: {0, 1} x +-1) over
    ``width``-element vectors per PE (``BinaryArray``).

    Fields: ``width`` 1 to 1024 (input elements per column per chunk), ``acc_bits`` 2 to
    64, ``mode`` ``"xnor"`` or ``"and"``.  A logical +1 travels as bit 1, -1 as bit 0
    (an ``and``-mode activation is its own bit); element ``i`` of a column's chunk is bit
    ``i`` of its lane, and row ``r``'s vector sits at bits ``[r*width, (r+1)*width)`` of
    the weight word.
    """

    width: int = 32
    acc_bits: int = 32
    mode: str = "xnor"

    def __post_init__(self):
        check_int("width", self.width, low=1, high=1024)
        check_int("acc_bits", self.acc_bits, low=2, high=64)
        if self.mode not in BINARY_MODES:
            raise ValueError(f"mode must be one of {', '.join(BINARY_MODES)}, not {self.mode!r}")

    @property
    def column_inputs(self) -> int:
        return self.width

    def _array(self):
        from .lowbit.binary import BinaryArray  # local: see the module docstring
        return BinaryArray

    def _bits(self, name: str, values: np.ndarray, zero_one: bool) -> np.ndarray:
        """Logical values -> bits, grouped ``[..., cols, width]``."""
        if zero_one:
            _require(name, values, "0 or 1", lambda v: v in (0, 1))
            bits = values
        else:
            _require(name, values, "-1 or +1", lambda v: v in (-1, 1))
            bits = (values + 1) // 2
        return bits.reshape(values.shape[:-1] + (-1, self.width))

    def pack_weights(self, weights) -> np.ndarray:
        w = _tile("weights", weights, self.width, 2)
        bits = np.swapaxes(self._bits("binary weights", w, False), -2, -3)  # [.., cols, rows, w]
        return _pack(_pack(bits, 1), self.width)

    def pack_acts(self, acts) -> np.ndarray:
        a = _tile("activations", acts, self.width, 1)
        name = "and-mode activations" if self.mode == "and" else "binary activations"
        return _pack(self._bits(name, a, self.mode == "and"), 1)


@dataclass(frozen=True, kw_only=True)
class FloatDatapath(_Datapath):
    """Floating-point multiply-add chains (``fp.stream_array.FloatStreamArray``).

    Fields: ``in_fmt`` (activations and weights) and ``acc_fmt`` (partial sums and
    results), ``FloatFormat``s with ``in_fmt.man_bits <= acc_fmt.man_bits <= 23``;
    ``norm``, the ``ApproxNorm`` of every unit (exact by default); ``stages``, each
    unit's pipeline registers, 1 to 6, which are also the skew between columns.  Lanes
    hold float codes: an activation lane one ``in_fmt`` code, a weight word row ``r``'s
    code at bits ``[r * in_fmt.width, (r + 1) * in_fmt.width)``, a result lane one
    ``acc_fmt`` code.
    """

    in_fmt: FloatFormat
    acc_fmt: FloatFormat
    norm: ApproxNorm = EXACT
    stages: int = 3

    def __post_init__(self):
        for name in ("in_fmt", "acc_fmt"):
            if not isinstance(getattr(self, name), FloatFormat):
                raise TypeError(f"{name} must be a FloatFormat, not {getattr(self, name)!r}")
        check_int("acc_fmt mantissa bits (at least in_fmt's)", self.acc_fmt.man_bits,
                  low=self.in_fmt.man_bits, high=MAX_ACC_MAN_BITS)
        if not isinstance(self.norm, ApproxNorm):
            raise TypeError(f"norm must be an ApproxNorm, not {self.norm!r}")
        check_int("stages", self.stages, low=1, high=STEPS)

    def _array(self):
        from .fp.stream_array import FloatStreamArray  # local: see the module docstring
        return FloatStreamArray

    def _codes(self, name: str, values, min_dims: int) -> np.ndarray:
        codes = _tile(name, values, 1, min_dims)
        top = (1 << self.in_fmt.width) - 1
        _require(name, codes, f"in_fmt codes from 0 to {top}", lambda v: 0 <= v <= top)
        return codes

    def pack_weights(self, weights) -> np.ndarray:
        """Row ``r``'s code of column ``c``'s word at bits ``[r*width, (r+1)*width)``."""
        return _pack(np.swapaxes(self._codes("weights", weights, 2), -1, -2),
                     self.in_fmt.width)

    def pack_acts(self, acts) -> np.ndarray:
        return self._codes("activations", acts, 1)
