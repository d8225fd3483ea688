"""The typed description of one compiled design: ``design.json``, written by the backend
and read back as the same object by the bench, the cycle model, the report and the
synthesis flow (``Design.from_json``).

Each quantity is stored once: the engine's shape, widths and memory depths are its
``AcceleratorConfig``; the per-layer schedule is the descriptor the sequencer runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..hw.config import AcceleratorConfig
from ..hw.program import LayerDescriptor
from ..numerics.checks import check_int
from ..numerics.errors import NeurogateError
from ..numerics.records import from_data, to_data

SCHEMA = 2
BACKENDS = ("amaranth-engine",)
HLS_BACKEND = "hls"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class LayerSchedule:
    """One dense layer of the program: its shape and the descriptor the sequencer runs."""

    name: str
    out_features: int
    in_features: int
    descriptor: LayerDescriptor


@dataclass(frozen=True)
class EngineDesign:
    """The matrix engine a design runs on, and what the program needs of it."""

    config: AcceleratorConfig
    layers: tuple[LayerSchedule, ...]
    input_chunks: int       # input stream words (of ``cols`` lanes) per inference
    io_pins: int
    memory_bits: int

    def __post_init__(self):
        if not self.layers:
            raise ValueError("engine.layers must name at least one layer")

    @property
    def descriptors(self) -> tuple[LayerDescriptor, ...]:
        """What the sequencer runs, layer by layer (with ``config``, all the cycle model
        needs)."""
        return tuple(layer.descriptor for layer in self.layers)


@dataclass(frozen=True)
class Design:
    """A build folder's design: what was compiled, for what, and how it is scheduled."""

    name: str
    backend: str
    target: str
    toplevel: str
    verilog: str            # file name of the Verilog inside the build folder
    input_size: int
    output_size: int
    expected_cycles: int    # cycles per inference by the cycle model
    useful_macs: int
    engine: EngineDesign
    schema: int = SCHEMA

    def __post_init__(self):
        if self.schema != SCHEMA:
            raise ValueError(f"schema {self.schema} is not this neurogate's ({SCHEMA}); "
                             "compile the model again")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if not _IDENTIFIER.match(self.toplevel):
            raise ValueError(f"toplevel must be an identifier, not {self.toplevel!r}")
        if "/" in self.verilog or self.verilog.startswith(".") or not self.verilog.endswith(".v"):
            raise ValueError(f"verilog must be a .v file name in the build folder, "
                             f"not {self.verilog!r}")
        for name in ("input_size", "output_size", "expected_cycles", "useful_macs"):
            check_int(name, getattr(self, name), low=1)

    @property
    def config(self) -> AcceleratorConfig:
        return self.engine.config

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.engine.layers)

    def to_json(self) -> str:
        return json.dumps(to_data(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, where: str = "design.json") -> Design:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise NeurogateError(f"{where}: not valid JSON ({error.msg} at line {error.lineno} "
                                 f"column {error.colno})") from None
        if isinstance(data, dict) and data.get("backend") == HLS_BACKEND and cls is Design:
            return from_data(HlsDesign, data, where=where)
        return from_data(cls, data, where=where)


@dataclass(frozen=True)
class TensorPort:
    """One input or output array of an HLS top function."""

    name: str
    shape: tuple[int, ...]
    ctype: str           # e.g. "ap_int<8>"
    width: int
    signed: bool
    frac: int

    @property
    def size(self) -> int:
        size = 1
        for d in self.shape:
            size *= d
        return size


@dataclass(frozen=True)
class HlsDesign:
    """A build folder holding an HLS C++ project (``neurogate compile --backend hls``)."""

    name: str
    backend: str
    top: str                 # the top function
    part: str                # the FPGA part written into build_prj.tcl
    io: str                  # "parallel" or "stream"
    strategy: str            # "latency" or "resource"
    reuse: int
    inputs: tuple[TensorPort, ...]
    outputs: tuple[TensorPort, ...]
    layers: tuple[str, ...]  # the nodes, in the order the top function runs them
    useful_macs: int
    schema: int = SCHEMA

    def __post_init__(self):
        if self.schema != SCHEMA:
            raise ValueError(f"schema {self.schema} is not this neurogate's ({SCHEMA}); "
                             "compile the model again")
        if self.backend != HLS_BACKEND:
            raise ValueError(f"backend must be {HLS_BACKEND!r}, not {self.backend!r}")
        if not _IDENTIFIER.match(self.top):
            raise ValueError(f"top must be an identifier, not {self.top!r}")
        if not self.inputs or not self.outputs:
            raise ValueError("an HLS design needs at least one input and one output")

    @property
    def target(self) -> str:
        return f"vitis-hls:{self.part}"

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.layers

    def to_json(self) -> str:
        return json.dumps(to_data(self), indent=2, sort_keys=True) + "\n"
