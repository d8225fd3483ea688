"""The Python API: what the command line does, callable from scripts and sweeps.

    from neurogate.compiler import api
    graph = api.load("models/residual_cnn.py")
    for array in ("4x4", "8x8", "16x16"):
        print(array, api.estimate(graph, array))           # no RTL: program + cycle model
    folder = api.compile(graph, array="8x8", target="ecp5-85k", out="build/cnn")
    api.verify(folder, vectors=200)                         # the engine on Verilator vs golden
    api.synth(folder)                                       # yosys + nextpnr numbers

``estimate`` runs the first steps of ``compile`` (legalize, plan) and stops before RTL.
"""

from __future__ import annotations

from pathlib import Path

from ..hw.config import ArrayShape
from ..hw.engine.config import EngineConfig
from ..numerics.errors import NeurogateError
from ..numerics.formats import IntFormat
from . import driver, frontends
from .backends.base import Backend, CompileOptions, Estimate
from .backends.engine.backend import EngineBackend, EngineOptions, default_engine
from .backends.hls.backend import HlsBackend, HlsEstimate
from .backends.hls.binding import HlsOptions
from .backends.spatial.backend import SpatialBackend, SpatialEstimate, SpatialOptions
from .design import HlsDesign, ProgramDesign, SpatialDesign
from .flows.synth import synth_design
from .flows.verify import verify_design
from .ir import Graph
from .modelfile import load_model
from .targets import get_target

__all__ = ["Estimate", "compile", "compile_design", "estimate", "load", "synth", "verify"]

BACKENDS: dict[str, type[Backend]] = {"amaranth": EngineBackend, HlsBackend.name: HlsBackend,
                                      SpatialBackend.name: SpatialBackend}
ALIASES = {EngineBackend.name: "amaranth"}
#: engine: the programmable engine (docs/engine.md); spatial: the network unrolled.
STYLES = ("engine", "spatial")


def load(model, *, input_format: IntFormat | str | None = None) -> Graph:
    """The IR graph of ``model``: a model file (``.py`` with ``build_model()``, a QKeras /
    Keras ``.h5``/``.keras``, a QONNX ``.onnx``) or an in-memory tf_keras model, ONNX
    ``ModelProto`` or qonnx ``ModelWrapper``.  ``input_format`` (an ``IntFormat`` or
    hls4ml's spelling, ``"ap_fixed<16,6>"``) declares a Keras model's input quantization."""
    if isinstance(input_format, str):
        try:
            input_format = frontends.parse_input_format(input_format)
        except ValueError as error:
            raise NeurogateError(str(error)) from None
    if isinstance(model, (str, Path)):
        return load_model(model, input_format=input_format)
    if isinstance(model, Graph):
        return model
    return frontends.load_object(model, input_format=input_format)


def _array(array: str | ArrayShape) -> ArrayShape:
    if isinstance(array, ArrayShape):
        return array
    try:
        return ArrayShape.parse(array)
    except ValueError as error:
        raise NeurogateError(f"--array: {error}") from None


def _options(array: str | ArrayShape, target: str, backend_options) -> CompileOptions:
    return CompileOptions(target=get_target(target), array=_array(array),
                          backend_options=backend_options)


def _backend(name: str, style: str = "engine") -> Backend:
    if style not in STYLES:
        raise NeurogateError(f"--style must be one of {', '.join(STYLES)}, not {style!r}")
    if style == "spatial":
        if ALIASES.get(name, name) not in ("amaranth", SpatialBackend.name):
            raise NeurogateError("--style spatial is an Amaranth style; it does not go with "
                                 f"--backend {name}")
        name = SpatialBackend.name
    try:
        return BACKENDS[ALIASES.get(name, name)]()
    except KeyError:
        raise NeurogateError(f"unknown backend {name!r}; choose one of "
                             f"{', '.join(BACKENDS)}") from None


def _hls(io: str, reuse: int, strategy: str) -> HlsOptions:
    try:
        return HlsOptions(io=io, reuse=reuse, strategy=strategy)
    except ValueError as error:
        raise NeurogateError(str(error)) from None


def engine_config(array: str | ArrayShape = "8x8", *, spad_words: int | None = None,
                  wbuf_words: int | None = None) -> EngineConfig:
    """The engine of an ``array`` (``"NxN"``) with the default or the given memory
    depths: one ``EngineConfig`` to compile several models for (``compile(engine=...)``)."""
    return default_engine(_array(array), spad_words=spad_words, wbuf_words=wbuf_words)


def _backend_options(backend: Backend, io: str, reuse: int | dict, strategy: str,
                     levels_per_stage: int, weights: str, tmr: bool, engine=None, batch: int = 1,
                     weight_loading: str = "auto"):
    if isinstance(backend, EngineBackend):
        return EngineOptions(engine=engine, batch=batch, weights=weight_loading)
    if engine is not None or batch != 1 or weight_loading != "auto":
        raise NeurogateError("engine, batch and weight_loading are options of the "
                             "programmable engine (style engine)")
    if isinstance(backend, SpatialBackend):
        try:
            return SpatialOptions(levels_per_stage=levels_per_stage, weights=weights, tmr=tmr,
                                  reuse=reuse)
        except ValueError as error:
            raise NeurogateError(str(error)) from None
    return _hls(io, reuse, strategy)


def estimate(graph: Graph, array: str | ArrayShape = "8x8", *, target: str = "ecp5-85k",
             backend: str = "amaranth", style: str = "engine", io: str = "parallel",
             reuse: int | dict = 1, strategy: str = "latency", levels_per_stage: int = 2,
             weights: str = "constants", tmr: bool = False, engine=None, batch: int = 1,
             weight_loading: str = "auto") -> Estimate | HlsEstimate | SpatialEstimate:
    """The first steps of ``compile`` (legalize, plan), no RTL or C++ written."""
    chosen = _backend(backend, style)
    return driver.estimate(graph, chosen, _options(array, target, _backend_options(
        chosen, io, reuse, strategy, levels_per_stage, weights, tmr, engine, batch,
        weight_loading)))


def compile_design(graph: Graph, *, array: str | ArrayShape = "8x8", target: str = "ecp5-85k",
                   out: str | Path, backend: str = "amaranth", style: str = "engine",
                   io: str = "parallel", reuse: int | dict = 1, strategy: str = "latency",
                   levels_per_stage: int = 2, weights: str = "constants",
                   tmr: bool = False, engine=None, batch: int = 1, weight_loading: str = "auto",
                   ) -> ProgramDesign | HlsDesign | SpatialDesign:
    """Like ``compile``, returning the typed design written to ``design.json``.

    ``backend="amaranth"``: the programmable engine (``array`` NxN, ``target``; or
    ``engine``, an ``hw.engine.config.EngineConfig``, to compile several models for one
    engine; ``batch`` images per run; ``weight_loading`` "auto", "resident" or
    "streamed"), or with
    ``style="spatial"`` the whole network unrolled at one inference per clock
    (``levels_per_stage`` adder levels between registers; ``weights="registers"`` keeps
    weights in registers rewritable through the ``cfg`` bus; ``tmr`` triples every
    register behind majority voters; ``reuse`` shares each Dense/Conv2D layer's
    multipliers over that many clocks, one factor or a dict layer name -> factor, and the
    design then takes an input every max-factor clocks); ``backend="hls"``: an HLS C++
    project (``io`` "parallel" or "stream", ``reuse`` factor, ``strategy`` "latency" or
    "resource")."""
    chosen = _backend(backend, style)
    return driver.compile(graph, chosen, _options(array, target, _backend_options(
        chosen, io, reuse, strategy, levels_per_stage, weights, tmr, engine, batch,
        weight_loading)), Path(out))


def compile(graph: Graph, *, out: str | Path, **options) -> Path:
    """``compile_design`` (same options), returning the build folder."""
    compile_design(graph, out=out, **options)
    return Path(out)


def verify(folder: str | Path, *, vectors: int = 200, seed: int = 0,
           dataset: str | Path | None = None, jobs: int | None = None) -> dict:
    """The design against the golden model on the compiled Verilator harness (the HLS
    project by its g++ C-simulation)."""
    return verify_design(Path(folder), vectors=vectors, seed=seed, dataset=dataset, jobs=jobs)


def synth(folder: str | Path, *, target: str | None = None, mhz: float | None = None,
          asic: bool = False, seeds: int = 1) -> dict:
    return synth_design(Path(folder), target=target, mhz=mhz, asic=asic, seeds=seeds)
