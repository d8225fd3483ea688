"""The ``neurogate`` command: compile, verify, synth, report."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from .errors import NeurogateError
from .ir import IRError


def _fail(message: str) -> None:
    click.echo(f"neurogate: error: {message}", err=True)
    sys.exit(1)


class _Group(click.Group):
    """Turns our errors (and bad parameters) into one line and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (NeurogateError, IRError, ValueError) as error:
            _fail(str(error))


@click.group(cls=_Group)
@click.version_option(package_name="neurogate")
def main():
    """Compile quantized networks to verified, synthesized hardware."""


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--target", default="ecp5-85k", show_default=True,
              help="ice40-up5k, ecp5-25k, ecp5-45k or ecp5-85k")
@click.option("--array", "array_text", default="8x8", show_default=True, help="ROWSxCOLS")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="build folder")
def compile(model: Path, target: str, array_text: str, out: Path):
    """Compile MODEL (a .py file defining build_model()) into a build folder."""
    from ..hw.config import ArrayShape
    from .backends.amaranth.emit import compile_graph
    from .modelfile import load_model
    from .targets import get_target

    start = time.perf_counter()
    target_obj = get_target(target)
    array = ArrayShape.parse(array_text)
    graph = load_model(model)
    design = compile_graph(graph, target=target_obj, array=array, out=out)
    click.echo(f"compiled {design['name']}: {len(design['layers'])} layers on a {array} array "
               f"for {target} -> {out}/{design['verilog']} "
               f"({design['expected_cycles']} cycles/inference by the cycle model, "
               f"{time.perf_counter() - start:.1f} s)")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--vectors", default=200, show_default=True, help="test vectors (corner cases first)")
@click.option("--seed", default=0, show_default=True)
def verify(folder: Path, vectors: int, seed: int):
    """Simulate FOLDER's RTL on Verilator (cocotb) against the golden model."""
    from .flows.verify import verify_design

    report = verify_design(folder, vectors=vectors, seed=seed)
    v = report["verified"]
    click.echo(f"verified {v['vectors']} vectors (+{v['stress_vectors']} with idle cycles and "
               f"back-pressure): {v['mismatches']} mismatches; {report['latency_cycles']} "
               f"cycles/inference, utilization {report['utilization']:.1%}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--target", default=None, help="override the compile target")
@click.option("--mhz", type=float, default=None, help="clock constraint (default per target)")
@click.option("--asic", is_flag=True, help="CMOS transistor estimate instead of an FPGA run")
def synth(folder: Path, target: str | None, mhz: float | None, asic: bool):
    """Synthesize FOLDER: yosys + nextpnr resources and Fmax, or an ASIC estimate."""
    from .flows.synth import synth_design

    result = synth_design(folder, target=target, mhz=mhz, asic=asic)
    if asic:
        click.echo(f"asic estimate: {result['transistors']} transistors of logic, "
                   f"{result['memory_bits']} memory bits as macros")
        return
    r = result["resources"]
    if not result["fits"]:
        used = ", ".join(f"{k} {u}/{a}" for k, (u, a) in result["utilization"].items())
        click.echo(f"{result['target']}: does NOT fit ({used or 'see synth log'})")
        sys.exit(2)
    click.echo(f"{result['target']}: {r['lut']} LUT4, {r['carry']} carry, {r['ff']} FF, "
               f"{r['dsp']} DSP, {r['bram']} BRAM; fmax {result['fmax_mhz']} MHz "
               f"(constraint {result['constraint_mhz']} MHz, "
               f"{'met' if result['timing_met'] else 'NOT met'})")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
def report(folder: Path):
    """Print FOLDER's report.json as a table."""
    from .report import format_table, report_rows

    click.echo(format_table(report_rows(folder)))


if __name__ == "__main__":
    main()
