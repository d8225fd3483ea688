"""Regression of every shipped model through the compiled RTL harness (``make regress``).

Each model in ``models/`` (every ``.py`` file defining ``build_model()``) is compiled and
verified with ``vectors`` inputs (corners first, then seeded random) on the compiled
Verilator harness: on the programmable engine when it maps the model, otherwise in the
spatial style for the ``asic`` target, one input per clock.  ``make test`` runs the
engine models with a small count (``tests/rtl/test_engine_models.py``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from ...numerics.errors import NeurogateError
from .. import api
from ..backends.base import CompileOptions
from ..backends.engine.backend import EngineBackend
from ..targets import get_target

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


def engine_maps(graph, array: str = DEFAULT_ARRAY) -> bool:
    """Whether the programmable engine runs ``graph`` (and it fits the default engine)."""
    from ...hw.config import ArrayShape

    engine = EngineBackend()
    try:
        engine.plan(engine.legalize(graph), CompileOptions(
            target=get_target("ecp5-85k"), array=ArrayShape.parse(array)))
    except NeurogateError:
        return False
    return True


def shipped_models() -> list[Path]:
    return sorted(p for p in MODELS.glob("*.py")
                  if p.name != "__init__.py" and "def build_model" in p.read_text())


def vector_cap(model: Path) -> int | None:
    """A large model's own limit on its regression vectors (``REGRESS_VECTORS = n`` in
    its file: VGG16 at 224x224 is some 250 million engine cycles an image), else None.
    Such a model is regressed on the engine only."""
    found = re.search(r"^REGRESS_VECTORS = (\d+)", model.read_text(), re.M)
    return int(found.group(1)) if found else None


def regress(out_root: Path, *, vectors: int, seed: int = 0,
            models: list[Path] | None = None, backend: str = "amaranth") -> list[RegressionResult]:
    """Each model compiled (on its array, or as an HLS project) and verified: RTL on the
    compiled Verilator harness, or the HLS project's g++ C-simulation."""
    results = []
    for model in models or shipped_models():
        cap = vector_cap(model)
        if cap is not None and backend != "amaranth":
            continue
        graph = api.load(model)
        array = ARRAYS.get(model.stem, DEFAULT_ARRAY)
        style = "engine" if backend != "amaranth" or engine_maps(graph, array) else "spatial"
        results.append(regress_graph(graph, Path(out_root) / f"{model.stem}_{backend}",
                                     vectors=min(vectors, cap or vectors), seed=seed,
                                     backend=backend, array=array, name=model.stem,
                                     style=style))
    return results


def regress_graph(graph, out: Path, *, vectors: int, seed: int, backend: str,
                  array: str = DEFAULT_ARRAY, io: str = "parallel", name: str | None = None,
                  style: str = "engine") -> RegressionResult:
    start = time.perf_counter()
    spatial = style == "spatial"
    folder = api.compile(graph, array=array, out=out, backend=backend, io=io, style=style,
                         target="asic" if spatial else "ecp5-85k")
    report = api.verify(folder, vectors=vectors, seed=seed)
    return RegressionResult(
        model=name or graph.name,
        array="spatial" if spatial else array if backend == "amaranth" else f"hls/{io}",
        vectors=report["verified"]["vectors"], mismatches=report["verified"]["mismatches"],
        cycles=(report["engine_cycles"]["total"] // report["engine_cycles"]["runs"]
                if "engine_cycles" in report else report.get("latency_cycles", 0)),
        inferences_per_second=report["simulation"]["inferences_per_second"],
        seconds=time.perf_counter() - start)
