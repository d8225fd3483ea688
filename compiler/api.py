"""The Python API: what the command line does, callable from scripts and sweeps.

    from neurogate.compiler import api
    graph = api.load("models/mlp_digits.py")
    for array in ("4x4", "8x8", "16x8"):
        print(array, api.estimate(graph, array))           # no RTL: tiling + cycle model
    folder = api.compile(graph, array="8x8", target="ecp5-85k", out="build/mlp")
    api.verify(folder, vectors=200)                         # Verilator + cocotb vs golden
    api.synth(folder)                                       # yosys + nextpnr numbers
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..hw.config import ArrayShape
from ..sim.perf.engine_cycles import inference_cycles
from .backends.amaranth.emit import compile_graph
from .backends.amaranth.mapping import plan_program
from .fit import io_pins, memory_bits
from .flows.synth import synth_design
from .flows.verify import verify_design
from .ir import DenseLayer, Graph
from .modelfile import load_model
from .passes.pipeline import lower
from .targets import get_target


@dataclass(frozen=True)
class Estimate:
    """A design point before any RTL is built (the cycle model is exact for this engine)."""

    array: str
    cycles: int
    utilization: float
    pes: int
    memory_bits: int
    io_pins: int


def load(model: str | Path) -> Graph:
    return load_model(model)


def _array(array: str | ArrayShape) -> ArrayShape:
    return array if isinstance(array, ArrayShape) else ArrayShape.parse(array)


def estimate(graph: Graph, array: str | ArrayShape) -> Estimate:
    shape = _array(array)
    lowered = lower(graph)
    program = plan_program(lowered, shape)
    cycles = inference_cycles(program)
    macs = sum(n.weights.size for n in lowered.nodes if isinstance(n, DenseLayer))
    return Estimate(array=str(shape), cycles=cycles, utilization=macs / (shape.pes * cycles),
                    pes=shape.pes, memory_bits=memory_bits(program.config),
                    io_pins=io_pins(program.config))


def compile(graph: Graph, *, array: str | ArrayShape = "8x8", target: str = "ecp5-85k",
            out: str | Path) -> Path:
    compile_graph(graph, target=get_target(target), array=_array(array), out=Path(out))
    return Path(out)


def verify(folder: str | Path, *, vectors: int = 200, seed: int = 0) -> dict:
    return verify_design(Path(folder), vectors=vectors, seed=seed)


def synth(folder: str | Path, *, target: str | None = None, mhz: float | None = None,
          asic: bool = False) -> dict:
    return synth_design(Path(folder), target=target, mhz=mhz, asic=asic)
