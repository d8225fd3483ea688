"""The backend-neutral compile: lower, plan, check fit, write the folder atomically.

``estimate`` is a prefix of ``compile``: the same legalize and plan steps, no RTL.
"""

from __future__ import annotations

from pathlib import Path

from . import serialize
from .atomic import check_output_folder, staged_folder, write_json_atomic
from .backends.base import Backend, CompileOptions
from .design import HlsDesign, ProgramDesign, SpatialDesign
from .ir import Graph
from .versions import tool_versions


def estimate(graph: Graph, backend: Backend, options: CompileOptions):
    plan = backend.plan(backend.legalize(graph), options)
    return backend.estimate(plan, options)


def compile(graph: Graph, backend: Backend, options: CompileOptions,
            out: Path) -> ProgramDesign | SpatialDesign | HlsDesign:
    """Compile ``graph`` into the build folder ``out`` (replaced only if it is one)."""
    check_output_folder(out)              # refuse a bad --out before any work
    lowered = backend.legalize(graph)
    plan = backend.plan(lowered, options)
    backend.check_fits(plan, options)
    with staged_folder(out) as stage:
        design = backend.emit(plan, options, stage)
        (stage / "graph.json").write_text(serialize.dumps(lowered))
        (stage / "design.json").write_text(design.to_json())
        report = {"design": design.name, "target": design.target, "backend": design.backend,
                  "useful_macs": design.useful_macs,
                  "tool_versions": tool_versions("neurogate", *backend.tools)}
        if hasattr(design, "expected_cycles"):
            report["model_cycles"] = design.expected_cycles
        write_json_atomic(stage / "report.json", report)
    return design
