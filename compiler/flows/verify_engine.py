"""``neurogate verify`` of a programmable-engine design: the engine's Verilog on Verilator,
fed the host stream (program, weights, every input), against the golden model.

The Verilator build is keyed by the Verilog's bytes, and the engine's Verilog depends
only on its ``EngineConfig``: every model compiled for one engine reuses one build.
The program is rebuilt from ``graph.json`` and must equal ``program.hex`` (the folder
is checked, not trusted).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...numerics.errors import NeurogateError
from ...sim import scoreboard
from ...sim.verilator import harness
from ..backends.engine.host import echo_table, program_load_cycles
from ..backends.engine.lower import lower
from ..backends.engine.program import EngineProgram, build_program
from ..design import ProgramDesign
from ..interpreter import run
from ..ir import Graph
from ..progress import step
from ..versions import tool_versions


def rebuild_program(folder: Path, design: ProgramDesign, graph: Graph) -> EngineProgram:
    program = build_program(lower(graph, design.engine), batch=design.batch,
                            weights=design.weights)
    digits = design.engine.host_bits // 4
    sent_once = program.program_stream() + program.setup_stream()
    if (folder / "program.hex").read_text() != "".join(f"{w:0{digits}x}\n" for w in sent_once):
        raise NeurogateError(f"{folder / 'program.hex'} is not the program graph.json "
                             "compiles to; compile the model again")
    return program


def output_payloads(words, data_bits: int) -> tuple[list[int], list[bool]]:
    """One vector's output (data, last) pairs from the harness's uint32 words
    (``result.words[v]``: outputs x words, least significant word first)."""
    words = np.asarray(words, dtype=object)
    values = [sum(int(w) << (32 * i) for i, w in enumerate(row)) for row in words]
    mask = (1 << data_bits) - 1
    return [v & mask for v in values], [bool(v >> data_bits & 1) for v in values]


def harness_stream(design: ProgramDesign, program: EngineProgram, batches: list[dict]):
    """The host stream of ``batches`` as the harness's input words and protocol (one
    vector: the whole stream; echoes for the spilled tensors)."""
    c = design.engine
    stream, echoes = echo_table(program.host_stream(batches))
    words = harness.ints_to_words(np.array([stream], dtype=object), c.host_bits)
    return words, dict(chunks=len(stream), outputs=program.output_words * len(batches),
                       timeout_cycles=min(20 * design.expected_cycles + 100_000,
                                          2**32 - 1),    # cycles without an output
                       echoes=echoes, echo_bits=c.spad_bits)


def run_engine_rtl(folder: Path, design: ProgramDesign, program: EngineProgram,
                   batches: list[dict], *, jobs=None):
    """The host stream of ``batches`` through the Verilated engine: (output words, last
    flags, harness result, build seconds)."""
    c = design.engine
    start = time.perf_counter()
    with step(f"build the Verilator harness for the {c.array}x{c.array} engine"):
        exe = harness.build(folder / design.verilog, design.toplevel, in_bits=c.host_bits,
                            out_bits=c.spad_bits + 1, jobs=jobs)
    build_seconds = time.perf_counter() - start
    words, protocol = harness_stream(design, program, batches)
    work = folder / "verify"
    work.mkdir(exist_ok=True)
    with step(f"simulate {len(batches)} inference run(s), {protocol['chunks']} host words"):
        result = harness.run(exe, words, work=work, **protocol)
    data, last = output_payloads(result.words[0], c.spad_bits)
    return data, last, result, build_seconds


def verify_engine(folder: Path, design: ProgramDesign, graph: Graph, given: dict, labels,
                  dataset, seed: int, finish, verified, jobs=None) -> dict:
    program = rebuild_program(folder, design, graph)
    count = len(next(iter(given.values())))
    batches = program.batches(given)
    data, last, result, build_seconds = run_engine_rtl(folder, design, program, batches,
                                                       jobs=jobs)
    per = program.output_words
    expected_last = [(i + 1) % per == 0 for i in range(len(data))]
    if last != expected_last:
        first = next(i for i, (a, b) in enumerate(zip(last, expected_last)) if a != b)
        raise NeurogateError(f"output word {first}: last is {int(last[first])}, expected "
                             f"{int(expected_last[first])}")
    got = program.decode_runs(data, count)
    golden = run(graph, given)
    expected = np.concatenate([golden[o].reshape(count, -1) for o in graph.outputs], axis=1)
    flat = np.concatenate([got[o].reshape(count, -1) for o in graph.outputs], axis=1)
    outcome = scoreboard.compare_ports([(p.name, int(np.prod(p.shape))) for p in design.outputs],
                                       expected, flat)
    runs = len(batches)
    model_total = program_load_cycles(program.program_stream()) + program.setup_cycles \
        + runs * design.expected_cycles
    fields = dict(
        verified=verified(f"verilator harness, the {design.engine.array}x"
                          f"{design.engine.array} engine running the program", outcome,
                          dataset, seed),
        engine_cycles={"total": int(result.total_cycles), "runs": runs,
                       "model_per_run": design.expected_cycles, "model_total": model_total},
        simulation={"inferences_per_second": round(count / max(result.seconds, 1e-9), 1),
                    "clocks_per_second": round(result.clocks_per_second),
                    "run_seconds": round(result.seconds, 3),
                    "build_seconds": round(build_seconds, 2),
                    "total_cycles": int(result.total_cycles)},
        tool_versions=tool_versions("verilator"),
    )
    size = int(np.prod(design.outputs[0].shape))
    return finish(folder, fields, outcome, labels, flat[:, :size], expected[:, :size])
