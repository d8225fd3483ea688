"""Regression of every shipped model through the compiled RTL harness (``make regress``).

Each model in ``models/`` (every ``.py`` file defining ``build_model()``) is compiled on
its array and verified with ``vectors`` inputs (corners first, then seeded random)
through the fast path; ``make test`` runs the same with a small count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .. import api

MODELS = Path(__file__).resolve().parents[2] / "models"
ARRAYS = {"dense512": "8x8"}          # every other model: the default below
DEFAULT_ARRAY = "8x8"


@dataclass(frozen=True)
class RegressionResult:
    model: str
    array: str
    vectors: int
    mismatches: int
    cycles: int
    inferences_per_second: float
    seconds: float


def shipped_models() -> list[Path]:
    return sorted(p for p in MODELS.glob("*.py")
                  if p.name != "__init__.py" and "def build_model" in p.read_text())


def regress(out_root: Path, *, vectors: int, seed: int = 0,
            models: list[Path] | None = None) -> list[RegressionResult]:
    results = []
    for model in models or shipped_models():
        array = ARRAYS.get(model.stem, DEFAULT_ARRAY)
        start = time.perf_counter()
        folder = api.compile(api.load(model), array=array, out=Path(out_root) / model.stem)
        report = api.verify(folder, vectors=vectors, seed=seed)
        results.append(RegressionResult(
            model=model.stem, array=array, vectors=report["verified"]["vectors"],
            mismatches=report["verified"]["mismatches"], cycles=report["latency_cycles"],
            inferences_per_second=report["simulation"]["inferences_per_second"],
            seconds=time.perf_counter() - start))
    return results
