"""Print a build folder's report.json as a table."""

from __future__ import annotations

from pathlib import Path

from ..numerics.errors import NeurogateError
from .design import HlsDesign, ProgramDesign, SpatialDesign
from .flows.design_folder import load_design, load_report


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def report_rows(folder) -> list[tuple[str, str]]:
    design, report = load_design(folder), load_report(folder)
    try:
        return _rows(design, report)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise NeurogateError(f"{Path(folder) / 'report.json'}: unexpected content ({error}); "
                             "delete it and run verify/synth again") from None


def _hls_rows(design: HlsDesign, report: dict) -> list[tuple[str, str]]:
    verified = report.get("verified", {})
    sim = report.get("simulation", {})
    ports = ", ".join(f"{p.name} {p.size} x {p.ctype}" for p in design.inputs + design.outputs)
    rows = [
        ("design", design.name),
        ("backend", f"HLS C++ project (io_{design.io}, {design.strategy}, reuse {design.reuse})"),
        ("part", design.part),
        ("layers", ", ".join(design.layers)),
        ("ports", ports),
        ("useful_macs", _fmt(design.useful_macs)),
        ("verified", f"{verified.get('vectors')} vectors by g++ C-simulation, "
                     f"{verified.get('mismatches')} mismatches"
         if verified else "not yet (neurogate verify)"),
        ("csim rate", f"{sim['inferences_per_second']:,.0f} inferences/s"
         if "inferences_per_second" in sim else "-"),
        ("synthesis", "not run here: vitis_hls -f build_prj.tcl"),
    ]
    versions = report.get("tool_versions", {})
    rows.append(("tools", ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))))
    return rows


def _implementation_rows(report: dict) -> list[tuple[str, str]]:
    """Fit, resources, Fmax and the ASIC estimate: the same for every RTL design."""
    resources = report.get("resources", {})
    asic = report.get("asic", {})
    rows = [
        ("fits", _fmt(report.get("fits"))),
        ("lut / carry / ff", f"{_fmt(resources.get('lut'))} / {_fmt(resources.get('carry'))} / "
                             f"{_fmt(resources.get('ff'))}"),
        ("dsp / bram / lutram", f"{_fmt(resources.get('dsp'))} / {_fmt(resources.get('bram'))} / "
                                f"{_fmt(resources.get('lutram'))}"),
        ("fmax_mhz", _fmt(report.get("fmax_mhz"))),
        ("timing_met", _fmt(report.get("timing_met"))),
    ]
    if asic:
        rows.append(("asic transistors", f"{asic.get('transistors')} (+{asic.get('memory_bits')} "
                                         "memory bits as macros)"))
    versions = report.get("tool_versions", {})
    rows.append(("tools", ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))))
    return rows


def _spatial_rows(design: SpatialDesign, report: dict) -> list[tuple[str, str]]:
    verified = report.get("verified", {})
    c = design.cost
    ports = ", ".join(f"{p.name} {p.size} x {p.ctype}" for p in design.inputs + design.outputs)
    return [
        ("design", design.name),
        ("target", report.get("target", design.target)),
        ("style", f"spatial: unrolled, II {design.initiation_interval}, latency "
                  f"{design.latency} clocks ({design.levels_per_stage} adder levels per stage)"
                  + (", reuse " + ", ".join(f"{k} {v}" for k, v in design.reuse.items())
                     if design.reuse else "")),
        ("ports", ports),
        ("built from", f"{c.adders} adders ({c.adder_bits} bits), {c.multipliers} multipliers, "
                       f"{c.mux_bits} multiplexer bits, "
                       f"{c.comparators} comparators, {c.register_bits} register bits"),
        ("verified", f"{verified.get('vectors')} vectors at one per "
                     f"{design.initiation_interval} clock(s), "
                     f"{verified.get('mismatches')} mismatches, measured II "
                     f"{_fmt(report.get('initiation_interval'))}"
         if verified else "not yet (neurogate verify)"),
    ] + _implementation_rows(report)


def _paging(design: ProgramDesign) -> str:
    if not design.program_pages:
        return ""
    return (f" per run: {design.program_pages} pages of at most {design.engine.prog_words} "
            "instructions, sent with every run")


def _engine_rows(design: ProgramDesign, report: dict) -> list[tuple[str, str]]:
    verified = report.get("verified", {})
    cycles = report.get("engine_cycles", {})
    c = design.engine
    macs = design.useful_macs * design.batch
    util = macs / (c.array ** 2 * design.expected_cycles)
    return [
        ("design", design.name),
        ("target", report.get("target", design.target)),
        ("engine", f"{c.array}x{c.array}, {c.lane_bits}-bit lanes, {c.weight_bits}-bit "
                   f"weights, {c.acc_bits}-bit accumulators"),
        ("memories", f"scratchpad {c.spad_words} words ({design.spad_words_used} used), "
                     f"weight buffer {c.wbuf_words} words per column "
                     f"({design.wbuf_words_used} used), bias {c.bias_words}, program "
                     f"{c.prog_words} ({min(design.instructions, c.prog_words)} used)"),
        ("program", f"{design.instructions} instructions, {design.program_bytes} bytes"
                    f"{_paging(design)}; "
                    f"{design.weights} weights: {design.setup_bytes} bytes once, "
                    f"{design.weight_stream_bytes} per run"),
        ("per run", f"batch {design.batch}: {design.input_bytes} bytes in, "
                    f"{design.output_bytes} bytes out, {design.expected_cycles} cycles by "
                    f"the cycle model ({util:.1%} useful MACs / (PEs x cycles))"),
        ("spatial tiling", f"{len(design.host_tensors)} tensors in host memory "
                           f"({', '.join(design.host_tensors)}): {design.spill_bytes_out} "
                           f"bytes stored and {design.spill_bytes_in} loaded back per run"
         if design.host_tensors else "none: every tensor stays in the scratchpad"),
        ("verified", f"{verified.get('vectors')} vectors, {verified.get('mismatches')} "
                     f"mismatches; {_fmt(cycles.get('total'))} RTL cycles for "
                     f"{_fmt(cycles.get('runs'))} run(s) (model {_fmt(cycles.get('model_total'))})"
         if verified else "not yet (neurogate verify)"),
    ] + _implementation_rows(report)


def _rows(design, report: dict) -> list[tuple[str, str]]:
    if isinstance(design, HlsDesign):
        return _hls_rows(design, report)
    if isinstance(design, SpatialDesign):
        return _spatial_rows(design, report)
    return _engine_rows(design, report)


def format_table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
