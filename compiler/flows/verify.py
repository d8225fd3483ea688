"""``neurogate verify``: the compiled RTL on Verilator under cocotb, against the golden model."""

from __future__ import annotations

import json
from pathlib import Path

from ...sim.cocotb.runner import run_cocotb
from .. import serialize
from ..backends.amaranth.emit import tool_versions, write_vectors
from ..errors import NeurogateError
from .design_folder import load_design, update_report


def verify_design(folder: Path, *, vectors: int, seed: int = 0) -> dict:
    """Run ``vectors`` golden vectors (corners first) through the RTL; update report.json.

    Raises ``NeurogateError`` naming the layer and first differing element on a mismatch.
    """
    folder = Path(folder).resolve()
    design = load_design(folder)
    if vectors < 1:
        raise NeurogateError(f"--vectors must be at least 1, not {vectors}")
    graph = serialize.loads((folder / "graph.json").read_text())
    write_vectors(folder, graph, vectors, seed=seed)
    results_base = folder / "sim_results.json"
    for stale in folder.glob("sim_results.*.json"):
        stale.unlink()
    toplevel = design["toplevel"]
    sim = run_cocotb(
        sources=[folder / design["verilog"]], toplevel=toplevel, test_module=f"tb_{toplevel}",
        test_dir=folder, build_dir=folder / "sim_build", check=False,
        extra_env={"NEUROGATE_DESIGN": str(folder), "NEUROGATE_VECTORS": str(folder / "vectors.json"),
                   "NEUROGATE_RESULTS": str(results_base)})
    runs = {}
    for tag in ("all", "stress"):
        path = results_base.with_suffix(f".{tag}.json")
        if path.is_file():
            runs[tag] = json.loads(path.read_text())
    if "all" not in runs:
        raise NeurogateError(f"{toplevel}: the simulation produced no results "
                             f"({'; '.join(sim.failures) or 'see sim_build/sim.log'})")
    main = runs["all"]
    mismatches = main["mismatches"] + runs.get("stress", {}).get("mismatches", 0)
    first = main["first_mismatch"] or runs.get("stress", {}).get("first_mismatch")
    cycles = max(main["cycles"])
    report = update_report(
        folder,
        verified={"vectors": main["vectors"], "mismatches": mismatches, "first_mismatch": first,
                  "stress_vectors": runs.get("stress", {}).get("vectors", 0),
                  "cocotb_tests": sim.tests, "cocotb_failures": len(sim.failures)},
        latency_cycles=cycles,
        utilization=round(design["useful_macs"] / (design["array"]["rows"] * design["array"]["cols"]
                                                    * cycles), 4),
        tool_versions=tool_versions("cocotb", "verilator"),
    )
    if first or sim.failures:
        raise NeurogateError(first or "; ".join(sim.failures))
    return report
