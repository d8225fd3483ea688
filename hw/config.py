"""Frozen configuration objects for the integer matrix engine.

One ``AcceleratorConfig`` drives the RTL generators, the golden cycle model, the cocotb
parameters and the report.  Make variants with ``dataclasses.replace``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

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
            raise ValueError(f"output width ({self.out_bits}) must be at least the activation width "
                             f"({self.act_bits})")
        if self.out_bits > self.acc_bits:
            raise ValueError(f"output width ({self.out_bits}) must not exceed the accumulator width "
                             f"({self.acc_bits})")


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
class AcceleratorConfig:
    array: ArrayShape = field(default_factory=lambda: ArrayShape(8, 8))
    widths: Widths = field(default_factory=Widths)
    memory: MemoryDepths = field(default_factory=MemoryDepths)
    dataflow: Dataflow = Dataflow.WEIGHT_STREAMING

    def __post_init__(self):
        if not isinstance(self.dataflow, Dataflow):
            raise ValueError(f"dataflow must be a Dataflow, not {self.dataflow!r}")
