"""Frozen configuration objects for the integer matrix engine.

One ``AcceleratorConfig`` drives the RTL generators, the golden cycle model, the cocotb
parameters and the report.  Make variants with ``dataclasses.replace``.  Its ``timing``
(an ``EngineTiming``) is the engine's pipeline depths, read by the RTL, the cycle model
and the mapper alike.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields

from ..numerics.checks import check_int


class Dataflow(enum.Enum):
    """How a dense layer is mapped onto the array.

    ``WEIGHT_STREAMING``: every PE receives a new weight each cycle from its column's
    weight memory; activations are broadcast down the columns (each is reused by all
    rows); partial sums move systolically along each row and are accumulated over
    k-tiles at the row's end.  Every PE does a useful MAC every cycle even at batch 1.
    (Output-stationary, with weight reuse across a batch, is the planned second member.)
    """

    WEIGHT_STREAMING = "weight_streaming"


@dataclass(frozen=True)
class ArrayShape:
    rows: int
    cols: int

    def __post_init__(self):
        check_int("array rows", self.rows, low=1, high=256)
        check_int("array cols", self.cols, low=1, high=256)

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def __str__(self) -> str:
        return f"{self.rows}x{self.cols}"

    @classmethod
    def parse(cls, text: str) -> "ArrayShape":
        parts = str(text).lower().split("x")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"array must look like ROWSxCOLS (for example 8x8), not {text!r}")
        return cls(int(parts[0]), int(parts[1]))


@dataclass(frozen=True)
class Widths:
    """Datapath widths in bits (all two's complement)."""

    act_bits: int = 8
    weight_bits: int = 8
    acc_bits: int = 32
    out_bits: int = 8

    def __post_init__(self):
        check_int("activation width", self.act_bits, low=2, high=32)
        check_int("weight width", self.weight_bits, low=2, high=32)
        check_int("accumulator width", self.acc_bits, low=2, high=64)
        check_int("output width", self.out_bits, low=2, high=64)
        if self.out_bits < self.act_bits:
            raise ValueError(f"output width ({self.out_bits}) must be at least the activation "
                             f"width ({self.act_bits})")
        if self.out_bits > self.acc_bits:
            raise ValueError(f"output width ({self.out_bits}) must not exceed the accumulator "
                             f"width ({self.acc_bits})")


@dataclass(frozen=True)
class MemoryDepths:
    """Words in each on-chip memory (sized by the compiler to the program)."""

    weight_words: int = 1
    bias_words: int = 1
    act_chunks: int = 1
    layers: int = 1
    tile_banks: int = 2   # finished n-tiles the collector can hold while they drain

    def __post_init__(self):
        for name in ("weight_words", "bias_words", "act_chunks", "layers"):
            check_int(name, getattr(self, name), low=1, high=1 << 24)
        check_int("tile_banks", self.tile_banks, low=2, high=16)


@dataclass(frozen=True)
class EngineTiming:
    """The engine's latencies in cycles, for one ``AcceleratorConfig`` (``config.timing``).

    Each field is taken from the one place the RTL builds that delay; the accelerator
    sizes its control delay line from ``pipeline``, and the cycle model
    (``sim.perf.engine_cycles``) and the mapper read the rest, so a deeper pipeline
    anywhere changes all three.  A tile's last chunk is *decided* (the sequencer commits
    to issuing it) at cycle ``d``; then:

    ``load_to_run``    last input chunk transferred -> first decision (``Accelerator.LOAD_TO_RUN``)
    ``issue``          decision -> issue registers (``Accelerator.ISSUE_STAGES``)
    ``operand_read``   synchronous weight/activation/bias read (``Accelerator.OPERAND_READ``)
    ``matrix_unit``    column-0 operands -> row sums (the datapath seam's ``latency``)
    ``capture``        row sums with ``last`` -> the tile's first row leaving its bank
                       (``TileCollector.CAPTURE_LATENCY``)
    ``credit_return``  a bank's credit pulse -> the sequencer counting the free bank
                       (``Accelerator.CREDIT_RETURN``)
    ``requantize``     a value leaving the bank -> leaving the requantizer
                       (``Requantizer.LATENCY``)
    ``layer_switch``   a layer's last output -> the next layer's first decision
                       (``Accelerator.LAYER_SWITCH``)
    """

    load_to_run: int
    issue: int
    operand_read: int
    matrix_unit: int
    capture: int
    credit_return: int
    requantize: int
    layer_switch: int

    def __post_init__(self):
        for f in fields(self):
            check_int(f"timing.{f.name}", getattr(self, f.name), low=0)

    @property
    def pipeline(self) -> int:
        """Issue registers -> row sums at the tile collector's input
        (``Accelerator.pipeline_latency``)."""
        return self.operand_read + self.matrix_unit

    @property
    def capture_delay(self) -> int:
        """Decision of a tile's last chunk -> the tile's first row leaving its bank (when
        the serializer is free)."""
        return self.issue + self.pipeline + self.capture


@dataclass(frozen=True)
class AcceleratorConfig:
    array: ArrayShape = field(default_factory=lambda: ArrayShape(8, 8))
    widths: Widths = field(default_factory=Widths)
    memory: MemoryDepths = field(default_factory=MemoryDepths)
    dataflow: Dataflow = Dataflow.WEIGHT_STREAMING

    def __post_init__(self):
        if not isinstance(self.dataflow, Dataflow):
            raise ValueError(f"dataflow must be a Dataflow, not {self.dataflow!r}")

    @property
    def datapath(self):
        """The matrix unit's config (the datapath seam): integer, at these widths."""
        from .datapath import IntegerDatapath  # local: keeps this module free of Amaranth
        return IntegerDatapath(act_bits=self.widths.act_bits,
                               weight_bits=self.widths.weight_bits, acc_bits=self.widths.acc_bits)

    @property
    def timing(self) -> EngineTiming:
        """The engine's latencies, read from the blocks that build them (no hardware is
        elaborated)."""
        # Local imports: the blocks import this module.
        from .accelerator import Accelerator
        from .collector import TileCollector
        from .requant import Requantizer
        rows, cols = self.array.rows, self.array.cols
        return EngineTiming(
            load_to_run=Accelerator.LOAD_TO_RUN, issue=Accelerator.ISSUE_STAGES,
            operand_read=Accelerator.OPERAND_READ,
            matrix_unit=self.datapath.latency(rows, cols),
            capture=TileCollector.CAPTURE_LATENCY, credit_return=Accelerator.CREDIT_RETURN,
            requantize=Requantizer.LATENCY, layer_switch=Accelerator.LAYER_SWITCH)
