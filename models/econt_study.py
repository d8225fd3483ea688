"""The ECON-T study (issue 13): the encoder's latent and weight widths against its EMD and
its area, timing and power in standard cells, with and without TMR.

    from neurogate.models import econt_study
    records = econt_study.study(out=None)                                  # counts, no RTL
    records = econt_study.study(out="build/econt-study")                   # + the Verilog
    records = econt_study.study(out="build/econt-study", synthesize=True)  # + OSU 0.18 um

For every configuration (``Config``: latent bits, weight bits; the inputs are 8 bits
throughout) and every ``tmr`` setting, ``study``:

1. loads the saved encoder (``models/data/econt_encoder.h5`` for the shipped 9-bit latent,
   6-bit weights; ``econt_encoder_l{latent}_w{weights}.h5`` for the others, saved by
   ``models/train_econt.py --sweep``) through the QKeras front-end;
2. compiles it in the spatial style for the ``asic`` target (``api.compile_design``, constant
   weights, optionally ``tmr``) into ``out/<name>[_tmr]/``;
3. takes the EMD from the training metrics (``econt_metrics.json``): for the shipped encoder
   the golden-model figure (``emd_quantized``), for the sweep encoders ``emd_golden`` (the
   golden model of the saved file; it equals the Keras figure ``emd_mean``, the training
   script refuses to write the metrics otherwise).  TMR does not change the function, so
   both settings have the same EMD;
4. with ``synthesize`` and a standard-cell library (``asic.find_liberty``), runs the
   standard-cell flow of ``neurogate synth --asic`` (``asic.standard_cells``: yosys cell
   mapping, OpenSTA timing and power from a Verilator VCD) on the folder, in
   ``out/<name>[_tmr]/synth/asic/``.

Energy per inference: the design takes one map every ``initiation_interval`` clocks
(1: fully unrolled), so ``energy_nj = power_mw * initiation_interval / clock_mhz`` (mW /
MHz = nJ; at 40 MHz and II 1, ``power_mw / 40``).

Without a library, ``synthesize=True`` gives the resource counts only, and every record's
``synthesis`` field holds the one line of ``asic.missing_library()`` (printed once); with a
library but no OpenSTA, the area without timing and power (``asic.missing_sta()``).  No
figure is ever filled in that a tool did not report.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from neurogate.compiler import api
from neurogate.compiler.backends.spatial.backend import useful_macs
from neurogate.compiler.flows import asic, toolchain
from neurogate.compiler.flows.design_folder import load_design, load_graph
from neurogate.compiler.frontends.keras import load_keras
from neurogate.compiler.ir import Graph
from neurogate.models import econt

MHZ = 40.0                 # the LHC bunch-crossing clock: one map per clock


@dataclass(frozen=True, order=True)
class Config:
    """One encoder of the sweep: its latent and weight widths in bits."""

    latent_bits: int
    weight_bits: int

    @property
    def shipped(self) -> bool:
        return self == SHIPPED

    @property
    def name(self) -> str:
        return f"econt_l{self.latent_bits}_w{self.weight_bits}"

    @property
    def encoder_path(self) -> Path:
        """The saved Keras encoder (``train_econt.py`` names the sweep's files so)."""
        if self.shipped:
            return econt.ENCODER_PATH
        return econt.DATA / f"econt_encoder_l{self.latent_bits}_w{self.weight_bits}.h5"

    def describe(self) -> str:
        return f"latent {self.latent_bits} bits, weights {self.weight_bits} bits" + \
            (" (shipped)" if self.shipped else "")


SHIPPED = Config(9, 6)
# The widths models/train_econt.py --sweep trains: the latent at 6-bit weights, the weights
# at the 9-bit latent.
CONFIGS = (Config(3, 6), Config(5, 6), Config(7, 6), SHIPPED, Config(9, 4), Config(9, 8))


def parse_config(text: str) -> Config:
    """``"l9w6"`` (or ``"9,6"``) as ``Config(9, 6)``."""
    digits = text.lower().replace("l", " ").replace("w", " ").replace(",", " ").split()
    if len(digits) != 2 or not all(d.isdigit() for d in digits):
        raise ValueError(f"a configuration is latent and weight bits, e.g. l9w6, not {text!r}")
    return Config(int(digits[0]), int(digits[1]))


def load_encoder(config: Config) -> Graph:
    """The IR graph of ``config``'s saved encoder (8-bit inputs, ``econt.INPUT``)."""
    if not config.encoder_path.is_file():
        raise FileNotFoundError(f"{config.encoder_path}: no such encoder; "
                                "`python models/train_econt.py --sweep` saves the sweep's")
    name = "econt_encoder" if config.shipped else f"econt_encoder_{config.name[6:]}"
    return load_keras(config.encoder_path, input_format=econt.INPUT, name=name)


def read_metrics() -> dict:
    return json.loads(econt.METRICS_PATH.read_text())


def emd_of(config: Config, metrics: dict) -> tuple[float, str]:
    """The held-out mean EMD of ``config`` in ``metrics`` (``econt_metrics.json``) and
    which figure it is."""
    if config.shipped:
        return metrics["emd_quantized"], "golden model (econt_metrics.json emd_quantized)"
    for entry in metrics["sweep"]:
        if (entry["latent_bits"], entry["weight_bits"]) == (config.latent_bits,
                                                            config.weight_bits):
            if "emd_golden" in entry:
                return entry["emd_golden"], "golden model (econt_metrics.json sweep emd_golden)"
            return entry["emd_mean"], "Keras encoder (econt_metrics.json sweep emd_mean)"
    raise KeyError(f"{econt.METRICS_PATH}: no sweep entry for {config.describe()}")


@dataclass
class Record:
    """One design of the study.  Standard-cell fields are None unless synthesized."""

    latent_bits: int
    weight_bits: int
    tmr: bool
    emd: float                     # held-out mean EMD, cell pitches
    emd_float: float               # the float encoder's, for reference
    emd_source: str
    adders: int                    # the spatial design's counts (SpatialCost)
    adder_bits: int
    multipliers: int
    register_bits: int             # with TMR, all three copies
    latency: int                   # clocks
    initiation_interval: int       # clocks between maps
    useful_macs: int
    folder: str | None             # the build folder (None: planned only, no Verilog)
    compile_seconds: float
    synthesis: str = "not requested"   # what was run, or why not
    area_um2: float | None = None
    sequential_area_um2: float | None = None
    cells: int | None = None
    flip_flops: int | None = None
    worst_slack_ns: float | None = None    # at MHZ
    critical_path_ns: float | None = None
    fmax_mhz: float | None = None
    closes: bool | None = None             # the MHZ clock
    worst_path: str | None = None
    power_mw: float | None = None          # at MHZ, from the VCD's activity
    power_breakdown_mw: dict | None = None
    activity_cycles: int | None = None
    synth_seconds: float | None = None
    synth_reused: bool = False             # read back from an earlier run (``reuse``)

    @property
    def config(self) -> Config:
        return Config(self.latent_bits, self.weight_bits)

    @property
    def energy_nj(self) -> float | None:
        """Energy per inference: ``power_mw * initiation_interval / MHZ`` (mW / MHz = nJ)."""
        if self.power_mw is None:
            return None
        return self.power_mw * self.initiation_interval / MHZ

    @property
    def emd_vs_float(self) -> float:
        return self.emd / self.emd_float - 1

    def to_dict(self) -> dict:
        return {**asdict(self), "energy_nj": self.energy_nj}


def compile_record(config: Config, tmr: bool, out: Path | None, metrics: dict,
                   graph: Graph | None = None) -> Record:
    """Compile ``config`` (with ``tmr``) into ``out/<name>[_tmr]`` and record its counts
    and EMD; with ``out`` None, only plan it (``api.estimate``: the same counts, no
    Verilog, a second or two instead of 10 to 30 s, and nothing to synthesize)."""
    graph = graph if graph is not None else load_encoder(config)
    options = dict(style="spatial", target="asic", tmr=tmr)
    folder = None if out is None else Path(out) / (config.name + ("_tmr" if tmr else ""))
    start = time.perf_counter()
    if folder is None:
        design = api.estimate(graph, **options)
        macs = useful_macs(graph)
    else:
        design = api.compile_design(graph, out=folder, **options)
        macs = design.useful_macs
    seconds = time.perf_counter() - start
    emd, source = emd_of(config, metrics)
    cost = design.cost
    return Record(latent_bits=config.latent_bits, weight_bits=config.weight_bits, tmr=tmr,
                  emd=emd, emd_float=metrics["emd_float"], emd_source=source,
                  adders=cost.adders, adder_bits=cost.adder_bits, multipliers=cost.multipliers,
                  register_bits=cost.register_bits, latency=design.latency,
                  initiation_interval=design.initiation_interval, useful_macs=macs,
                  folder=None if folder is None else str(folder),
                  compile_seconds=round(seconds, 1))


def cells_key(folder: Path, library_path: Path, mhz: float) -> dict:
    """What a standard-cell result depends on: the Verilog's bytes, the library, the clock
    and the yosys and OpenSTA builds."""
    design = load_design(folder)
    verilog = (Path(folder) / design.verilog).read_bytes()
    return {"verilog_sha256": hashlib.sha256(verilog).hexdigest(),
            "liberty": str(library_path), "mhz": mhz,
            "yosys": toolchain.yosys_version(),
            "opensta": asic.sta_version() if asic.find_sta() else None}


def standard_cells(folder: Path, library_path: Path, *, mhz: float = MHZ,
                   cache: Path | None = None, reuse: bool = False) -> tuple[dict, float, bool]:
    """``asic.standard_cells`` on the build folder (the flow of ``neurogate synth --asic``
    without the transistor estimate), in ``folder/synth/asic``: (its entry, seconds, whether
    it came from ``cache``).

    ``cache``: a JSON file the entry is written to with its ``cells_key``; with ``reuse``,
    an entry found there under the same key is returned instead of running the flow.
    """
    folder = Path(folder)
    key = cells_key(folder, library_path, mhz) if cache is not None else None
    if reuse and cache is not None and cache.is_file():
        saved = json.loads(cache.read_text())
        if saved.get("key") == key:
            return saved["entry"], saved["seconds"], True
    design = load_design(folder)
    start = time.perf_counter()
    entry = asic.standard_cells(folder, design, load_graph(folder), folder / "synth" / "asic",
                                mhz=mhz, library_path=library_path)
    seconds = round(time.perf_counter() - start, 1)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, "entry": entry, "seconds": seconds},
                                    indent=1) + "\n")
    return entry, seconds, False


def fill_cells(record: Record, entry: dict, library: asic.Library, mhz: float = MHZ) -> Record:
    """``record`` with the figures of an ``asic.standard_cells`` entry."""
    record.area_um2 = entry["area_um2"]
    record.sequential_area_um2 = entry["sequential_area_um2"]
    record.cells = entry["cells"]
    record.flip_flops = sum(n for kind, n in entry["cells_by_type"].items()
                            if kind in library.sequential)
    if "timing_power_missing" in entry:
        record.synthesis = f"{entry['area_method']}; {entry['timing_power_missing']}"
        return record
    record.synthesis = f"{entry['area_method']}; {entry['power_method']}"
    record.worst_slack_ns = entry["worst_slack_ns"]
    record.critical_path_ns = entry["critical_path_ns"]
    record.fmax_mhz = entry["fmax_mhz"]
    record.closes = entry[f"closes_{mhz:g}mhz"]
    record.worst_path = entry["worst_path"]
    record.power_mw = entry["power_mw"]
    record.power_breakdown_mw = entry["power_breakdown_mw"]
    record.activity_cycles = entry["activity"]["cycles"]
    return record


def study(configs=CONFIGS, tmr=(False, True), *, out: str | Path | None = "build/econt-study",
          synthesize: bool = False, synthesize_only=None, reuse: bool = False,
          log=print) -> list[Record]:
    """The study's records, one per configuration and ``tmr`` setting, in that order.

    Every design is compiled first (10 to 30 s each; with ``out`` None only planned, for
    the counts, and nothing can be synthesized), then, with ``synthesize``, the standard
    cells run one design at a time (5 to 10 min per ECON-T design without TMR, 14 to 45
    min with it, on the project's 2-core machine; see ``docs/econt-study.md``).

    ``synthesize_only``: a set of ``(Config, tmr)`` pairs to synthesize (default all); the
    others keep their counts only (``synthesis`` says so).  Each standard-cell result is
    written to ``out/cells/<folder name>.json``; with ``reuse`` one whose Verilog,
    library, clock and tools are unchanged is read back instead of rerun
    (``synth_seconds`` is then the original run's).  ``log``: a function taking one line
    of progress (``print`` by default).
    """
    if synthesize and out is None:
        raise ValueError("synthesis needs the Verilog: give a build folder `out`")
    out = None if out is None else Path(out)
    metrics = read_metrics()
    records = []
    for config in configs:
        graph = load_encoder(config)
        for setting in tmr:
            record = compile_record(config, setting, out, metrics, graph)
            log(f"{'planned' if out is None else 'compiled'} {config.describe()}"
                f"{', TMR' if setting else ''}: "
                f"{record.adders} adders, {record.register_bits} register bits "
                f"({record.compile_seconds} s)")
            records.append(record)
    if not synthesize:
        return records
    library_path = asic.find_liberty()
    if library_path is None:
        line = asic.missing_library()
        print(line, file=sys.stderr)
        for record in records:
            record.synthesis = line
        return records
    library = asic.read_library(library_path)
    for record in records:
        label = f"{record.config.describe()}{', TMR' if record.tmr else ''}"
        if synthesize_only is not None and (record.config, record.tmr) not in synthesize_only:
            record.synthesis = "not synthesized in this run"
            log(f"standard cells: {label}: not in this run")
            continue
        log(f"standard cells: {label} ...")
        folder = Path(record.folder)
        entry, seconds, cached = standard_cells(
            folder, library_path, cache=out / "cells" / f"{folder.name}.json", reuse=reuse)
        fill_cells(record, entry, library)
        record.synth_seconds, record.synth_reused = seconds, cached
        power = "no power" if record.power_mw is None else f"{record.power_mw:.1f} mW"
        log(f"  {record.area_um2:,.0f} um2, {power} "
            f"({'reused, ' if cached else ''}{seconds} s)")
    return records
