"""The typed description of one compiled design: ``design.json``, written by the backend
and read back as the same object by the bench, the report and the synthesis flow
(``load_design_json``): ``ProgramDesign`` (the programmable engine), ``SpatialDesign``
or ``HlsDesign``.

Each quantity is stored once: the engine's size and memory depths are its
``EngineConfig``; the program itself is rebuilt from ``graph.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..hw.engine.config import EngineConfig
from ..numerics.checks import check_int
from ..numerics.errors import NeurogateError
from ..numerics.records import from_data, to_data

SCHEMA = 5     # 4: spatial designs carry reuse factors and multiplier bits;
               # 5: programmable-engine designs (the dense-chain engine's records retired)
HLS_BACKEND = "hls"
SPATIAL_BACKEND = "spatial"
ENGINE_BACKEND = "engine"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_record(record, backends: tuple[str, ...], top_field: str,
                  verilog: bool = True) -> None:
    """What every design record checks: the schema, the backend, the top-level name (an
    identifier) and, for RTL designs, the Verilog file name (inside the build folder)."""
    if record.schema != SCHEMA:
        raise ValueError(f"schema {record.schema} is not this neurogate's ({SCHEMA}); "
                         "compile the model again")
    if record.backend not in backends:
        raise ValueError(f"backend must be one of {', '.join(backends)}, not "
                         f"{record.backend!r}")
    top = getattr(record, top_field)
    if not _IDENTIFIER.match(top):
        raise ValueError(f"{top_field} must be an identifier, not {top!r}")
    name = getattr(record, "verilog", ".v") if verilog else ".v"
    if verilog and ("/" in name or name.startswith(".") or not name.endswith(".v")):
        raise ValueError(f"verilog must be a .v file name in the build folder, not {name!r}")


def load_design_json(text: str, *, where: str = "design.json"):
    """The typed design record of a ``design.json`` (its ``backend`` picks the class)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise NeurogateError(f"{where}: not valid JSON ({error.msg} at line {error.lineno} "
                             f"column {error.colno})") from None
    if isinstance(data, dict) and data.get("schema", SCHEMA) != SCHEMA:
        # before the fields: an older design.json may not decode at all
        raise NeurogateError(f"{where}: schema {data['schema']!r} is not this neurogate's "
                             f"({SCHEMA}); compile the model again")
    if not isinstance(data, dict):
        raise NeurogateError(f"{where}: expected an object, not {type(data).__name__}")
    kinds = {HLS_BACKEND: HlsDesign, SPATIAL_BACKEND: SpatialDesign,
             ENGINE_BACKEND: ProgramDesign}
    backend = data.get("backend")
    if backend not in kinds:
        raise NeurogateError(f"{where}: backend must be one of {', '.join(kinds)}, not "
                             f"{backend!r}")
    return from_data(kinds[backend], data, where=where)


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
        _check_record(self, (HLS_BACKEND,), "top", verilog=False)
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


@dataclass(frozen=True)
class SpatialCost:
    """What the unrolled network is built from (counted by the generator)."""

    adders: int              # two-input additions and subtractions (shift-add products)
    adder_bits: int          # their summed widths
    multipliers: int         # variable x variable products (MatMul, Mul, shared layers)
    multiplier_bits: int     # their summed operand-width products
    mux_bits: int            # phase multiplexers of shared layers: width x (choices - 1)
    comparators: int         # max pooling
    comparator_bits: int
    register_bits: int       # pipeline registers, valid bits excluded

    @property
    def fpga_luts(self) -> int:
        """A rough count of ECP5 TRELLIS_COMB (LUT4 slots, carry cells included) after
        nextpnr packing: 1.32 per adder bit, 2/3 per multiplexer input bit, two per
        comparator bit (compare and select); multipliers not included (see
        ``multiplier_luts``).  Calibrated on the ECON-T encoder: 77,568 adder bits took
        102,546 (unrolled); 41,182 adder and 29,081 multiplexer bits 73,877 (reuse 4);
        at reuse 8 this estimate is 7% above the 56,541 measured."""
        return (132 * self.adder_bits) // 100 + (2 * self.mux_bits) // 3 \
            + 2 * self.comparator_bits

    @property
    def multiplier_luts(self) -> int:
        """LUT4 of the multipliers when built from logic (``synth_ecp5 -nodsp``): 3.3 per
        partial-product bit (yosys + nextpnr: 751 multipliers of 32,840 such bits, with
        their operand multiplexers, took about 110,000 TRELLIS_COMB)."""
        return (10 * self.multiplier_bits) // 3

    def multipliers_in_dsps(self, dsps: int) -> bool:
        """Whether the multipliers go to a device's ``dsps`` DSP blocks: when there are
        enough (one each); otherwise synthesis builds them from LUTs (``-nodsp``), since
        yosys would map every one to a DSP block."""
        return self.multipliers <= dsps


@dataclass(frozen=True)
class SpatialDesign:
    """A build folder holding a spatial design (``--style spatial``): every layer its own
    unrolled, pipelined hardware, one inference accepted per clock (or every
    ``initiation_interval`` clocks where ``reuse`` shares a layer's multipliers)."""

    name: str
    backend: str
    target: str
    toplevel: str
    verilog: str
    inputs: tuple[TensorPort, ...]     # packed, in order, into the ``i`` payload
    outputs: tuple[TensorPort, ...]    # packed, in order, into the ``o`` payload
    latency: int                       # clocks from an input transfer to its output
    initiation_interval: int           # clocks between inputs (1: fully unrolled)
    levels_per_stage: int              # adder-tree levels between pipeline registers
    useful_macs: int
    cost: SpatialCost
    weights: str                       # "constants" or "registers" (rewritable over I2C)
    tmr: bool                          # triplicated registers, majority voted
    weight_register_bytes: int         # the register map's size (0 for constants)
    reuse: dict[str, int]              # layer -> clocks its multipliers are shared over (> 1)
    schema: int = SCHEMA

    def __post_init__(self):
        _check_record(self, (SPATIAL_BACKEND,), "toplevel")
        for name in ("latency", "initiation_interval", "levels_per_stage"):
            check_int(name, getattr(self, name), low=1)
        for layer, factor in self.reuse.items():
            check_int(f"reuse[{layer}]", factor, low=2)
        if not self.inputs or not self.outputs:
            raise ValueError("a spatial design needs at least one input and one output")

    @property
    def in_bits(self) -> int:
        return sum(p.width * p.size for p in self.inputs)

    @property
    def out_bits(self) -> int:
        return sum(p.width * p.size for p in self.outputs)

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.outputs)

    def to_json(self) -> str:
        return json.dumps(to_data(self), indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class ProgramDesign:
    """A model compiled for the programmable engine (``compiler/backends/engine``): the
    engine's Verilog depends only on ``engine``; the model is the program and the weight
    stream, rebuilt bit for bit from ``graph.json`` by ``neurogate verify``."""

    name: str
    backend: str
    target: str
    toplevel: str
    verilog: str
    engine: EngineConfig
    batch: int                         # images per inference run
    weights: str                       # "resident" (loaded once) or "streamed" (every run)
    inputs: tuple[TensorPort, ...]
    outputs: tuple[TensorPort, ...]
    instructions: int
    program_bytes: int                 # the PROGRAM command and its instructions
    setup_bytes: int                   # resident weights and biases, loaded once
    weight_stream_bytes: int           # weights and biases per inference run (streamed)
    input_bytes: int                   # per inference run
    output_bytes: int                  # per inference run (the graph's outputs)
    spad_words_used: int               # peak of live tensors
    wbuf_words_used: int               # per column
    expected_cycles: int               # per inference run, by the cycle model
    useful_macs: int                   # per image
    host_tensors: tuple[str, ...] = () # spilled to host memory (spatial tiling)
    spill_bytes_out: int = 0           # per inference run: spilled bands stored to the host
    spill_bytes_in: int = 0            # ... and loaded back from it
    program_pages: int = 0             # >0: longer than the program memory, sent in pages
                                       # (PROGRAM, RUN) every run
    schema: int = SCHEMA

    def __post_init__(self):
        _check_record(self, (ENGINE_BACKEND,), "toplevel")
        for name in ("batch", "instructions", "expected_cycles"):
            check_int(name, getattr(self, name), low=1)
        if self.weights not in ("resident", "streamed"):
            raise ValueError(f"weights must be resident or streamed, not {self.weights!r}")

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.outputs)

    def to_json(self) -> str:
        return json.dumps(to_data(self), indent=2, sort_keys=True) + "\n"
