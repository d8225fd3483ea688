"""The ``neurogate`` command: compile, verify, synth, report.

Exit status (also in ``neurogate --help`` and docs/cli.md):

* 0: success (for ``synth``, also a design that fits but misses its clock: the report
  says ``timing_met: no``);
* 1: an error in the input (model file, option value, build folder, output path) or a
  tool that failed; one line on stderr names the problem;
* 2: a malformed command line (unknown command or option, a value of the wrong type);
* 3: ``verify`` found outputs that differ from the golden model (the first is named);
* 4: ``synth``: the design does not fit the device (the over-used resource is named).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ..numerics.errors import NeurogateError
from .flows.verify import MismatchError
from .ir import IRError

EXIT_ERROR, EXIT_USAGE, EXIT_MISMATCH, EXIT_NO_FIT = 1, 2, 3, 4


def _fail(message: str, status: int = EXIT_ERROR) -> None:
    click.echo(f"neurogate: error: {message}", err=True)
    sys.exit(status)


class _Group(click.Group):
    """Every refusal is one line on stderr and a documented exit status (module doc)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            click.echo(error.ctx.get_help())
            sys.exit(0)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx else "neurogate"
            _fail(f"{error.format_message()} (see `{command} --help`)", EXIT_USAGE)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code or EXIT_ERROR)
        except click.Abort:
            _fail("interrupted", 130)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MismatchError as error:
            _fail(f"verification failed: {error}", EXIT_MISMATCH)
        except (NeurogateError, IRError, ValueError) as error:
            _fail(str(error))
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            _fail(f"{where}{error.strerror or error}")


@click.group(cls=_Group, epilog="Exit status: 0 success, 1 error in the input or a tool, "
             "2 malformed command line, 3 verify found mismatches, 4 synth: does not fit.")
@click.version_option(package_name="neurogate")
def main():
    """Compile quantized networks to verified, synthesized hardware."""


def _rate(simulation: dict, vectors: int) -> str:
    """Inferences per second, or seconds per inference when that is under one."""
    rate = simulation["inferences_per_second"]
    if rate >= 1:
        return f"{rate:,.0f} inferences/s"
    seconds = simulation["run_seconds"] / max(1, vectors)
    return (f"{seconds:,.1f} s per inference in the simulator "
            f"({simulation['clocks_per_second']:,.0f} clocks/s)")


def _spilled(design) -> str:
    """``, N tensors in host memory`` when the program tiles spatially."""
    n = len(design.host_tensors)
    return f" ({n} tensor{'s' * (n != 1)} in host memory, row bands)" if n else ""


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--target", default="ecp5-85k", show_default=True,
              help="ice40-up5k, ecp5-25k, ecp5-45k, ecp5-85k or asic (no device limits)")
@click.option("--array", "array_text", default="8x8", show_default=True, help="ROWSxCOLS")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="build folder (created; replaced only if an earlier compile made it)")
@click.option("--backend", type=click.Choice(["amaranth", "hls"]), default="amaranth",
              show_default=True, help="amaranth: the matrix engine in Verilog; hls: an HLS C++ "
                                      "project for Vitis HLS")
@click.option("--input-format", default=None,
              help="a Keras model's input quantization in hls4ml's spelling, e.g. "
                   "'ap_fixed<16,6>' (default: read from a leading QActivation)")
@click.option("--style", type=click.Choice(["engine", "spatial"]), default="engine",
              show_default=True, help="amaranth: the programmable engine (any CNN; program and "
                                      "weights loaded at run time), or the network unrolled "
                                      "layer by layer at one inference per clock")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
              help="engine: images per inference run (weights loaded once per run)")
@click.option("--weight-loading", type=click.Choice(["auto", "resident", "streamed"]),
              default="auto", show_default=True,
              help="engine: weights loaded once (resident) or with every run (streamed, "
                   "double-buffered); auto keeps them resident when they fit")
@click.option("--spad-words", type=click.IntRange(min=1), default=None,
              help="engine: scratchpad depth, words of N lanes (a power of two; default "
                   "8192)")
@click.option("--wbuf-words", type=click.IntRange(min=1), default=None,
              help="engine: weight-buffer depth, words per column (a power of two; default "
                   "2048)")
@click.option("--levels-per-stage", type=click.IntRange(min=1), default=2, show_default=True,
              help="spatial: adder-tree levels between pipeline registers")
@click.option("--weights", type=click.Choice(["constants", "registers"]), default="constants",
              show_default=True, help="spatial: weights built into the logic, or held in "
                                      "registers rewritable at run time (cfg bus / I2C)")
@click.option("--tmr", is_flag=True, help="spatial: triple every register behind majority "
                                          "voters (radiation tolerance); an `upset` output")
@click.option("--io", type=click.Choice(["parallel", "stream"]), default="parallel",
              show_default=True, help="hls: arrays or hls::stream between layers")
@click.option("--reuse", type=click.IntRange(min=1), default=1, show_default=True,
              help="hls: reuse factor of the resource strategy; spatial: every Dense/Conv2D "
                   "layer's multipliers shared over R clocks (an input every R clocks)")
@click.option("--strategy", type=click.Choice(["latency", "resource"]), default="latency",
              show_default=True, help="hls: fully unrolled layers, or --reuse-shared multipliers")
def compile(model: Path, target: str, array_text: str, out: Path, backend: str,
            input_format: str | None, style: str, batch: int, weight_loading: str,
            spad_words: int | None, wbuf_words: int | None, levels_per_stage: int,
            weights: str, tmr: bool, io: str, reuse: int, strategy: str):
    """Compile MODEL (a .py file defining build_model(), a QKeras/Keras .h5 or .keras, or a
    QONNX .onnx) into a build folder."""
    from . import api

    start = time.perf_counter()
    engine_options = {}
    if style == "engine" and backend == "amaranth":
        engine_options = {"batch": batch, "weight_loading": weight_loading}
        if spad_words is not None or wbuf_words is not None:
            engine_options["engine"] = api.engine_config(array_text, spad_words=spad_words,
                                                         wbuf_words=wbuf_words)
    elif spad_words is not None or wbuf_words is not None:
        raise NeurogateError("--spad-words and --wbuf-words are options of the programmable "
                             "engine (--style engine, --backend amaranth)")
    graph = api.load(model, input_format=input_format)
    design = api.compile_design(graph, array=array_text, target=target, out=out,
                                backend=backend, style=style, io=io, reuse=reuse,
                                strategy=strategy, levels_per_stage=levels_per_stage,
                                weights=weights, tmr=tmr, **engine_options)
    seconds = time.perf_counter() - start
    if style == "spatial":
        c = design.cost
        rate = "one inference per clock" if design.initiation_interval == 1 else \
            f"one inference every {design.initiation_interval} clocks (reuse)"
        click.echo(f"compiled {design.name} unrolled: {rate}, latency "
                   f"{design.latency} clocks; {c.adders} adders, {c.multipliers} multipliers, "
                   f"{c.register_bits} register bits -> {out}/{design.verilog} ({seconds:.1f} s)")
        return
    if backend != "hls":
        n = design.engine.array
        click.echo(f"compiled {design.name} for the {n}x{n} engine ({design.target}): "
                   f"{design.instructions} instructions, {design.weights} weights "
                   f"({design.weight_stream_bytes} weight-stream bytes per run), "
                   f"scratchpad {design.spad_words_used}/{design.engine.spad_words} "
                   f"words{_spilled(design)}, {design.expected_cycles} cycles per run by "
                   f"the cycle model -> "
                   f"{out}/{design.verilog} ({seconds:.1f} s)")
        return
    if backend == "hls":
        click.echo(f"compiled {design.name}: {len(design.layers)} layers into an HLS project "
                   f"(io_{design.io}, {design.strategy}, reuse {design.reuse}) -> "
                   f"{out}/firmware/{design.top}.cpp ({seconds:.1f} s)")
        return



@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--vectors", type=click.IntRange(min=1), default=200, show_default=True,
              help="test vectors (corner cases first, then seeded random)")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help=".npz with inputs `x` (integers in the input format) and optional labels `y`:"
                   " every input through the RTL, accuracy reported")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="parallel C++ compile jobs for the simulator build (default 2)")
def verify(folder: Path, vectors: int, seed: int, dataset: Path | None, jobs: int | None):
    """Simulate FOLDER's RTL on Verilator against the golden model, every output element.

    The simulator is built once per design (cached); later runs start at once.
    """
    from . import api

    report = api.verify(folder, vectors=vectors, seed=seed, dataset=dataset, jobs=jobs)
    v = report["verified"]
    s = report["simulation"]
    if v["method"] == "g++ C-simulation":
        click.echo(f"verified {v['vectors']} vectors by g++ C-simulation of the HLS project: "
                   f"{v['mismatches']} of {v['elements']} elements differ; "
                   f"{s['inferences_per_second']:,.0f} inferences/s")
    elif "engine_cycles" in report:
        e = report["engine_cycles"]
        click.echo(f"verified {v['vectors']} vectors on the Verilated engine running the "
                   f"program: {v['mismatches']} of {v['elements']} elements differ; "
                   f"{e['total']:,} cycles for {e['runs']} run(s) incl. loading the program "
                   f"(cycle model: {e['model_per_run']:,} per run); {_rate(s, v['vectors'])}")
    else:
        click.echo(f"verified {v['vectors']} vectors on the compiled Verilator harness, an "
                   f"input offered every clock: {v['mismatches']} of {v['elements']} elements "
                   f"differ; "
                   f"latency {report['latency_cycles']} cycles, initiation interval "
                   f"{report['initiation_interval']:g}; {s['inferences_per_second']:,.0f} "
                   f"inferences/s, {s['clocks_per_second']:,.0f} clocks/s")
    if "accuracy" in report and dataset is not None:
        a = report["accuracy"]
        click.echo(f"accuracy on {a['labels']} labelled inputs: RTL {a['rtl']:.2%}, golden model "
                   f"{a['golden']:.2%}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--target", default=None, help="override the compile target")
@click.option("--mhz", type=click.FloatRange(min=0, min_open=True), default=None,
              help="clock constraint in MHz (default per target)")
@click.option("--asic", is_flag=True, help="ASIC flow instead of an FPGA run: transistor count, "
              "and with the OSU 0.18 um cells (make asic-extras) area, timing and power")
@click.option("--seeds", type=click.IntRange(1, 16), default=1, show_default=True,
              help="place and route with nextpnr seeds 1..N (as many at once as there are "
              "cores) and keep the fastest")
def synth(folder: Path, target: str | None, mhz: float | None, asic: bool, seeds: int):
    """Synthesize FOLDER: yosys + nextpnr resources and Fmax, or an ASIC estimate.

    Takes a few minutes (the first yowasp call also compiles the tools, about a minute).
    """
    from . import api

    result = api.synth(folder, target=target, mhz=mhz, asic=asic, seeds=seeds)
    if "transistors" in result:
        click.echo(f"asic estimate: {result['transistors']} transistors of logic, "
                   f"{result['memory_bits']} memory bits as macros")
        cells = result.get("standard_cells")
        if cells:
            click.echo(f"{cells['library']} ({cells['corner']}): {cells['area_um2']:,.0f} um2, "
                       f"{cells['cells']} cells; critical path {cells['critical_path_ns']} ns "
                       f"(fmax {cells['fmax_mhz']:.1f} MHz, {cells['clock_mhz']:g} MHz "
                       f"{'closes' if cells['closes_40mhz'] else 'does NOT close'}); "
                       f"power {cells['power_mw']:.2f} mW at {cells['clock_mhz']:g} MHz")
        else:
            click.echo(result.get("standard_cells_missing") or "no standard-cell figures")
        return
    r = result["resources"]
    if not result["fits"]:
        _fail(f"{result['target']}: does not fit: {result.get('misfit') or 'see the synth log'}",
              EXIT_NO_FIT)
    click.echo(f"{result['target']}: {r['lut']} LUT4, {r['carry']} carry, {r['ff']} FF, "
               f"{r['dsp']} DSP, {r['bram']} BRAM; fmax {result['fmax_mhz']} MHz "
               f"(constraint {result['constraint_mhz']} MHz, "
               f"{'met' if result['timing_met'] else 'NOT met'})")
    if result.get("seed_fmax_mhz"):
        swept = ", ".join(f"seed {k}: {v} MHz" for k, v in result["seed_fmax_mhz"].items())
        click.echo(f"nextpnr seed {result['seed']} kept ({swept})")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
def report(folder: Path):
    """Print FOLDER's report.json as a table."""
    from .report import format_table, report_rows

    click.echo(format_table(report_rows(folder)))


if __name__ == "__main__":
    main()
