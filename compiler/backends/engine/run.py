"""Compile a graph for an engine and run it on the instruction-level simulator."""

from __future__ import annotations

import numpy as np

from ....hw.engine.config import EngineConfig
from ....sim.engine.iss import EngineSim
from ...ir import Graph
from ...verifier import verify
from .lower import lower
from .program import EngineProgram, build_program


def compile_program(graph: Graph, config: EngineConfig, *, batch: int = 1,
                    weights: str = "auto") -> EngineProgram:
    return build_program(lower(verify(graph), config), batch=batch, weights=weights)


def run_on_iss(program: EngineProgram, inputs: dict[str, np.ndarray],
               sim: EngineSim | None = None) -> dict[str, np.ndarray]:
    """Every image of ``inputs`` (any count; the last batch is padded) through a fresh (or
    the given) simulated engine; the outputs by name."""
    sim = sim or EngineSim(program.config)
    count = len(next(iter(inputs.values())))
    result = sim.run(program.host_stream(program.batches(inputs)))
    if result.error:
        raise RuntimeError(f"the simulated engine stopped: {result.error.name} at pc "
                           f"{result.error_pc}")
    return program.decode_runs([w for w, _ in result.outputs], count)
