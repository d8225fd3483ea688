"""``neurogate verify``: the compiled design against the golden model.

Every path shares the vectors' generation and the scoreboard (``sim/scoreboard.py``):
Verilator builds the design with a C++ stream testbench (``sim/verilator``), cached by
the Verilog's hash; inputs go in and outputs come back through files, the golden model
runs vectorized in NumPy, every element is compared, and no Python runs per clock.  The
programmable engine runs its program (``verify_engine``), a spatial design takes an
input every initiation interval, an HLS project runs its g++ C-simulation.  The streams'
idle-input and back-pressure behaviour is tested in ``tests/hw/engine`` and
``tests/rtl``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...numerics.checks import is_integer
from ...numerics.errors import NeurogateError
from ...sim import scoreboard
from ...sim.verilator import harness
from ..backends.hls import csim
from ..design import HlsDesign, SpatialDesign
from ..interpreter import make_input_vectors, run
from ..ir import Graph
from ..progress import step
from ..versions import tool_versions
from .datasets import load_dataset
from .design_folder import load_design, load_graph, update_report
from .verify_engine import verify_engine


class MismatchError(NeurogateError):
    """The RTL's output differs from the golden model's (the message names the first one)."""


def _check_counts(vectors, seed, jobs) -> None:
    if not is_integer(vectors) or vectors < 1:
        raise NeurogateError(f"--vectors must be a positive integer, not {vectors!r}")
    if not is_integer(seed) or seed < 0:
        raise NeurogateError(f"--seed must be a non-negative integer, not {seed!r}")
    if jobs is not None and (not is_integer(jobs) or jobs < 1):
        raise NeurogateError(f"--jobs must be a positive integer, not {jobs!r}")


def verify_design(folder: Path, *, vectors: int = 200, seed: int = 0,
                  dataset: str | Path | None = None, jobs: int | None = None) -> dict:
    """Run golden vectors (corners first; or every input of ``dataset``) through the design
    and update report.json; raise ``MismatchError`` naming the first difference."""
    _check_counts(vectors, seed, jobs)
    folder = Path(folder).resolve()
    design = load_design(folder)
    graph = load_graph(folder)
    if isinstance(design, HlsDesign):
        return _verify_csim(folder, design, graph, vectors=vectors, seed=seed, dataset=dataset)
    given, labels = _given_inputs(graph, vectors=vectors, seed=seed, dataset=dataset)
    if isinstance(design, SpatialDesign):
        return _verify_spatial(folder, design, graph, given, labels, seed=seed,
                               dataset=dataset, jobs=jobs)
    return verify_engine(folder, design, graph, given, labels, dataset, seed, _finish,
                         _verified, jobs=jobs)


def _verified(method: str, outcome: scoreboard.Comparison, dataset, seed: int) -> dict:
    return {"method": method, "vectors": outcome.vectors, "elements": outcome.elements,
            "mismatches": outcome.mismatched_elements,
            "mismatched_vectors": outcome.mismatched_vectors, "first_mismatch": outcome.first,
            "stress_vectors": 0, "dataset": str(dataset) if dataset is not None else None,
            "seed": None if dataset is not None else seed}


def _finish(folder: Path, fields: dict, outcome: scoreboard.Comparison, labels, got,
            expected) -> dict:
    """Write the report (with the accuracy when there are labels); raise on a mismatch."""
    if labels is not None:
        fields["accuracy"] = {"labels": int(len(labels)),
                              "rtl": float(np.mean(np.argmax(got, axis=1) == labels)),
                              "golden": float(np.mean(np.argmax(expected, axis=1) == labels))}
    report = update_report(folder, **fields)
    if not outcome.ok:
        raise MismatchError(f"{outcome.first} ({outcome.mismatched_elements} of "
                            f"{outcome.elements} elements differ)")
    return report


# --- spatial designs: an input every initiation interval through the compiled harness ----

def _given_inputs(graph: Graph, *, vectors: int, seed: int, dataset):
    """The inputs by name, and the labels when a dataset has them."""
    if dataset is None:
        return make_input_vectors(graph, vectors, seed=seed), None
    if len(graph.inputs) != 1:
        raise NeurogateError("--dataset takes models with one input")
    data = load_dataset(dataset, graph.inputs[0])
    return {graph.inputs[0].name: data.inputs}, data.labels


def _flat_vectors(graph: Graph, given: dict) -> tuple[int, np.ndarray, np.ndarray]:
    """The vector count, every input flattened side by side, and the golden outputs
    flattened side by side (in the graph's input and output order)."""
    count = len(next(iter(given.values())))
    flat_in = np.concatenate([given[n.name].reshape(count, -1) for n in graph.inputs], axis=1)
    golden = run(graph, given)
    expected = np.concatenate([golden[o].reshape(count, -1) for o in graph.outputs], axis=1)
    return count, flat_in, expected


def _fields(ports) -> list[harness.Field]:
    return harness.payload_fields((p.size, p.width, p.signed) for p in ports)


def _verify_spatial(folder: Path, design: SpatialDesign, graph: Graph, given, labels, *,
                    seed: int, dataset, jobs) -> dict:
    count, flat_in, expected = _flat_vectors(graph, given)
    start = time.perf_counter()
    with step(f"build the Verilator harness for {design.toplevel}"):
        exe = harness.build(folder / design.verilog, design.toplevel, in_bits=design.in_bits,
                            out_bits=design.out_bits, jobs=jobs)
    build_seconds = time.perf_counter() - start
    words = harness.pack_fields(flat_in, _fields(design.inputs))
    work = folder / "verify"
    work.mkdir(exist_ok=True)
    with step(f"simulate {count} vectors, one per {design.initiation_interval} clock(s)"):
        result = harness.run(exe, words, chunks=1, outputs=1,
                             timeout_cycles=20 * design.latency + 1000, work=work,
                             pipelined=True)
    got = harness.unpack_fields(result.words[:, 0, :], _fields(design.outputs))
    outcome = scoreboard.compare_ports([(p.name, p.size) for p in design.outputs], expected, got)
    latency = int(result.cycles.max())
    interval = (result.total_cycles - latency) / (count - 1) if count > 1 else 1.0
    fields = dict(
        verified=_verified(f"verilator harness, inputs offered every clock (II "
                           f"{design.initiation_interval})", outcome, dataset, seed),
        latency_cycles=latency,
        initiation_interval=round(interval, 3),
        simulation={"inferences_per_second": round(result.inferences_per_second, 1),
                    "clocks_per_second": round(result.clocks_per_second),
                    "run_seconds": round(result.seconds, 3),
                    "build_seconds": round(build_seconds, 2), "total_cycles": result.total_cycles},
        tool_versions=tool_versions("verilator"),
    )
    size = design.outputs[0].size
    return _finish(folder, fields, outcome, labels, got[:, :size], expected[:, :size])


# --- HLS projects: g++ C-simulation ------------------------------------------------------

def _verify_csim(folder: Path, design: HlsDesign, graph: Graph, *, vectors: int, seed: int,
                 dataset) -> dict:
    given, labels = _given_inputs(graph, vectors=vectors, seed=seed, dataset=dataset)
    count, flat_in, expected = _flat_vectors(graph, given)
    start = time.perf_counter()
    with step(f"g++ C-simulation build of {design.top}"):
        exe = csim.build(folder, design)
    build_seconds = time.perf_counter() - start
    with step(f"C-simulate {count} vectors"):
        result = csim.run(exe, folder, flat_in)
    outcome = scoreboard.compare_ports(
        [(port.name.removeprefix("out_"), port.size) for port in design.outputs],
        expected, result.outputs)
    fields = dict(
        verified=_verified("g++ C-simulation", outcome, dataset, seed),
        simulation={"inferences_per_second": round(result.inferences_per_second, 1),
                    "run_seconds": round(result.seconds, 3),
                    "build_seconds": round(build_seconds, 2)},
    )
    size = design.outputs[0].size
    return _finish(folder, fields, outcome, labels, result.outputs[:, :size],
                   expected[:, :size])
