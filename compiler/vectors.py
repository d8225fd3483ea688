"""``vectors.json``: golden test vectors of a build folder (corners first, then seeded
random), written by the backend at compile time and by ``verify --protocol``."""

from __future__ import annotations

from pathlib import Path

from .atomic import write_json_atomic
from .interpreter import make_vectors, run_single_output
from .ir import Graph


def write_vectors(folder: Path, graph: Graph, count: int, seed: int = 0) -> None:
    inputs = make_vectors(graph, count, seed=seed)
    expected = run_single_output(graph, inputs)
    write_json_atomic(Path(folder) / "vectors.json",
                      {"seed": seed, "inputs": inputs.tolist(), "expected": expected.tolist()})
