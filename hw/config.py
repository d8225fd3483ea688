"""The array shape the command line and the compile options speak of (``--array 8x8``).

The programmable engine's full configuration is ``hw.engine.config.EngineConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..numerics.checks import check_int


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
