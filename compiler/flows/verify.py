"""``neurogate verify``: the compiled RTL on Verilator under cocotb, against the golden model."""

from __future__ import annotations

import json
from pathlib import Path

from ...numerics.checks import is_integer
from ...numerics.errors import NeurogateError
from ...sim.cocotb.runner import run_cocotb
from ..backends.amaranth.emit import write_vectors
from ..progress import step
from ..versions import tool_versions
from .design_folder import load_design, load_graph, update_report


def verify_design(folder: Path, *, vectors: int, seed: int = 0) -> dict:
    """Run ``vectors`` golden vectors (corners first) through the RTL; update report.json.

    Raises ``NeurogateError`` naming the layer and first differing element on a mismatch
    (``MismatchError``, so the command line can give it its own exit status).
    """
    if not is_integer(vectors) or vectors < 1:
        raise NeurogateError(f"--vectors must be a positive integer, not {vectors!r}")
    if not is_integer(seed) or seed < 0:
        raise NeurogateError(f"--seed must be a non-negative integer, not {seed!r}")
    folder = Path(folder).resolve()
    design = load_design(folder)
    graph = load_graph(folder)
    tb = folder / f"tb_{design.toplevel}.py"
    if not tb.is_file():
        raise NeurogateError(f"{tb}: missing from the build folder; compile the model again "
                             "with `neurogate compile`")
    write_vectors(folder, graph, vectors, seed=seed)
    results_base = folder / "sim_results.json"
    for stale in folder.glob("sim_results.*.json"):
        stale.unlink()
    progress_file = folder / "sim_build" / "progress.txt"
    progress_file.parent.mkdir(exist_ok=True)
    progress_file.write_text("building the simulator")
    with step(f"verify {design.name} on Verilator", watch=progress_file):
        sim = run_cocotb(
            sources=[folder / design.verilog], toplevel=design.toplevel,
            test_module=f"tb_{design.toplevel}", test_dir=folder, build_dir=folder / "sim_build",
            check=False,
            extra_env={"NEUROGATE_DESIGN": str(folder), "NEUROGATE_VECTORS": str(folder / "vectors.json"),
                       "NEUROGATE_RESULTS": str(results_base),
                       "NEUROGATE_PROGRESS_FILE": str(progress_file)})
    runs = {}
    for tag in ("all", "stress"):
        path = results_base.with_suffix(f".{tag}.json")
        if path.is_file():
            runs[tag] = json.loads(path.read_text())
    if "all" not in runs:
        raise NeurogateError(f"{design.toplevel}: the simulation produced no results "
                             f"({'; '.join(sim.failures) or 'see sim_build/sim.log'})")
    main = runs["all"]
    mismatches = main["mismatches"] + runs.get("stress", {}).get("mismatches", 0)
    first = main["first_mismatch"] or runs.get("stress", {}).get("first_mismatch")
    cycles = max(main["cycles"])
    pes = design.config.array.pes
    report = update_report(
        folder,
        verified={"vectors": main["vectors"], "mismatches": mismatches, "first_mismatch": first,
                  "stress_vectors": runs.get("stress", {}).get("vectors", 0),
                  "cocotb_tests": sim.tests, "cocotb_failures": len(sim.failures)},
        latency_cycles=cycles,
        utilization=round(design.useful_macs / (pes * cycles), 4),
        tool_versions=tool_versions("cocotb", "verilator"),
    )
    if first:
        raise MismatchError(first)
    if sim.failures:
        raise NeurogateError("; ".join(sim.failures))
    return report


class MismatchError(NeurogateError):
    """The RTL's output differs from the golden model's (the message names the first one)."""
