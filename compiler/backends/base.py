"""The interface every backend implements, and the options a compile is given.

A backend turns a verified graph into a project in four steps, which the
backend-neutral driver (``compiler.driver``) calls in order:

1. ``legalize(graph)``: the passes that bring the graph to the form this backend maps;
   an op it cannot map is refused here, naming the layer and the op.
2. ``plan(graph, options)``: tiling, scheduling and memory sizes; no RTL is built.
3. ``estimate(plan, options)`` / ``check_fits(plan, options)``: cycles and sizes from the
   plan; refuse, naming the resource, a plan that cannot fit the target.
4. ``emit(plan, options, folder)``: write the project files into a (staging)
   folder and return the typed design record that becomes ``design.json``.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ...hw.config import ArrayShape
from ..design import HlsDesign, ProgramDesign, SpatialDesign
from ..ir import Graph
from ..targets import Target


def c_identifier(name: str) -> str:
    """``name`` as a C (and Verilog) identifier: every other character becomes ``_``, and
    a name that does not start with a letter gets the prefix ``ng_``."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if name[:1].isalpha() else f"ng_{name}"


@dataclass(frozen=True)
class CompileOptions:
    target: Target
    array: ArrayShape
    backend_options: object = None     # e.g. the HLS backend's ``HlsOptions``


@dataclass(frozen=True)
class Estimate:
    """A design point before any RTL is built."""

    array: str
    cycles: int              # per inference
    utilization: float       # useful MACs / (PEs x cycles)
    pes: int
    memory_bits: int
    io_pins: int


class Backend(abc.ABC):
    name: ClassVar[str]
    tools: ClassVar[tuple[str, ...]] = ()   # packages whose versions go into report.json

    @abc.abstractmethod
    def legalize(self, graph: Graph) -> Graph: ...

    @abc.abstractmethod
    def plan(self, graph: Graph, options: CompileOptions): ...

    @abc.abstractmethod
    def estimate(self, plan, options: CompileOptions):
        """A backend-specific summary (``Estimate`` for the matrix engine)."""

    @abc.abstractmethod
    def check_fits(self, plan, options: CompileOptions) -> None: ...

    @abc.abstractmethod
    def emit(self, plan, options: CompileOptions,
             folder: Path) -> ProgramDesign | SpatialDesign | HlsDesign:
        ...
