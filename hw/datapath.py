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
=================  =======================================  ==================================

The golden model of every member's chunk product is ``wrap(w @ a, acc_bits)`` on the
*logical* integers (the values the packers take): ``sim.golden.arith.dense`` (integer),
``sim.golden.lowbit.ternary_chunk`` and ``binary_chunk``.

The packers live here, not in ``numerics``: only the hardware's ports consume packed words
(the golden models compute on logical integers), and ``hw`` may not import
``sim.golden.lowbit``, whose ``pack_ternary``/``pack_bits`` encode the same words and are
kept as the independent check in ``tests/hw/test_datapath.py``.

The arrays build their ports from ``MatrixUnitSignature``, so they import this module;
the configs therefore import the arrays where they build them (a module-level import
here would be circular).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Shape, ShapeCastable, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int

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
    result : Out, ArrayLayout(signed(acc_bits), rows)
        ``result[r]``: row ``r``'s dot product over the chunk, wrapped to ``acc_bits``.

    Timing (the contract every member keeps)
    ----------------------------------------
    * Skew: a chunk's operands for column ``c`` are presented ``c`` cycles after those
      for column 0, each for one cycle.
    * Latency: the chunk whose column-0 operands were presented at cycle ``s`` has its
      row results on ``result`` at cycle ``s + latency`` (for that cycle only), with
      ``latency = pe_latency + cols - 1``: the registers of one PE, then one per further
      column that the partial sum crosses.
    * Throughput: a new chunk every cycle.  Chunks are independent (each starts from a
      zero partial sum); accumulating over chunks is the caller's business.
    * No handshake: there is no valid/ready, so control travels beside the unit,
      delayed by ``latency``.

    Parameters
    ----------
    rows, cols : int
        Array size, 1 to 256 each.
    act_lane, weight_lane : shape-castable
        One column's activation and weight lanes.
    acc_bits : int
        Result width, 1 to 128.
    pe_latency : int
        Cycles from a column's operands to its contribution in the partial sum leaving it.
    """

    def __init__(self, *, rows: int, cols: int, act_lane, weight_lane, acc_bits: int,
                 pe_latency: int):
        self._rows = check_int("array rows", rows, low=1, high=256)
        self._cols = check_int("array cols", cols, low=1, high=256)
        for name, lane in (("act_lane", act_lane), ("weight_lane", weight_lane)):
            if not isinstance(lane, (Shape, ShapeCastable)):
                raise TypeError(f"{name} must be a shape or a layout, not {lane!r}")
        self._act_lane, self._weight_lane = act_lane, weight_lane
        self._acc_bits = check_int("acc_bits", acc_bits, low=1, high=128)
        self._pe_latency = check_int("pe_latency", pe_latency, low=1, high=64)
        super().__init__({
            "act": In(data.ArrayLayout(act_lane, cols)),
            "weight": In(data.ArrayLayout(weight_lane, cols)),
            "result": Out(data.ArrayLayout(signed(acc_bits), rows)),
        })

    rows = property(lambda self: self._rows)
    cols = property(lambda self: self._cols)
    act_lane = property(lambda self: self._act_lane)
    weight_lane = property(lambda self: self._weight_lane)
    acc_bits = property(lambda self: self._acc_bits)
    pe_latency = property(lambda self: self._pe_latency)

    @property
    def latency(self) -> int:
        """Cycles from column 0's operands of a chunk to its row results."""
        return self._pe_latency + self._cols - 1

    @property
    def act_lane_bits(self) -> int:
        return Shape.cast(self._act_lane).width

    @property
    def weight_lane_bits(self) -> int:
        return Shape.cast(self._weight_lane).width

    def _key(self):
        return (self._rows, self._cols, self._act_lane, self._weight_lane, self._acc_bits,
                self._pe_latency)

    def __eq__(self, other):
        return type(other) is MatrixUnitSignature and self._key() == other._key()

    __hash__ = None

    def __repr__(self):
        return (f"MatrixUnitSignature(rows={self._rows}, cols={self._cols}, "
                f"act_lane={self._act_lane!r}, weight_lane={self._weight_lane!r}, "
                f"acc_bits={self._acc_bits}, pe_latency={self._pe_latency})")


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


class _Datapath:
    """What every member provides; the members are frozen dataclasses over this."""

    #: Input elements one column takes per chunk (a chunk covers ``cols * column_inputs``).
    column_inputs = 1

    def _array(self):
        raise NotImplementedError

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

    def pack_weights(self, weights) -> np.ndarray:
        """``weights[..., rows, cols * column_inputs]`` (logical integers, row ``r`` of the
        tile is output ``r``) -> ``[..., cols]`` Python-integer words for ``weight[c]``."""
        raise NotImplementedError

    def pack_acts(self, acts) -> np.ndarray:
        """``acts[..., cols * column_inputs]`` (logical integers) -> ``[..., cols]``
        Python-integer words for ``act[c]``."""
        raise NotImplementedError


@dataclass(frozen=True)
class IntegerDatapath(_Datapath):
    """Two's-complement multiply-accumulate (``SystolicArray``), one product register per PE.

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
