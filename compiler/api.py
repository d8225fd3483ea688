"""The Python API: what the command line does, callable from scripts and sweeps.

    from neurogate.compiler import api
    graph = api.load("models/mlp_digits.py")
    for array in ("4x4", "8x8", "16x8"):
        print(array, api.estimate(graph, array))           # no RTL: tiling + cycle model
    folder = api.compile(graph, array="8x8", target="ecp5-85k", out="build/mlp")
    api.verify(folder, vectors=200)                         # Verilator + cocotb vs golden
    api.synth(folder)                                       # yosys + nextpnr numbers

``estimate`` runs the first steps of ``compile`` (legalize, plan) and stops before RTL.
"""

from __future__ import annotations

from pathlib import Path

from ..hw.config import ArrayShape
from ..numerics.errors import NeurogateError
from . import driver
from .backends.amaranth.emit import AmaranthEngine
from .backends.base import Backend, CompileOptions, Estimate
from .backends.hls.backend import HlsBackend, HlsEstimate
from .backends.hls.binding import HlsOptions
from .design import Design, HlsDesign
from .flows.synth import synth_design
from .flows.verify import verify_design
from .ir import Graph
from .modelfile import load_model
from .targets import get_target

__all__ = ["Estimate", "compile", "compile_design", "estimate", "load", "synth", "verify"]

BACKENDS: dict[str, type[Backend]] = {"amaranth": AmaranthEngine, HlsBackend.name: HlsBackend}
ALIASES = {AmaranthEngine.name: "amaranth"}


def load(model: str | Path) -> Graph:
    return load_model(model)


def _options(array: str | ArrayShape, target: str, hls: HlsOptions | None) -> CompileOptions:
    if not isinstance(array, ArrayShape):
        try:
            array = ArrayShape.parse(array)
        except ValueError as error:
            raise NeurogateError(f"--array: {error}") from None
    return CompileOptions(target=get_target(target), array=array, backend_options=hls)


def _backend(name: str) -> Backend:
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


def estimate(graph: Graph, array: str | ArrayShape = "8x8", *, target: str = "ecp5-85k",
             backend: str = "amaranth", io: str = "parallel", reuse: int = 1,
             strategy: str = "latency") -> Estimate | HlsEstimate:
    """The first steps of ``compile`` (legalize, plan), no RTL or C++ written."""
    return driver.estimate(graph, _backend(backend),
                           _options(array, target, _hls(io, reuse, strategy)))


def compile_design(graph: Graph, *, array: str | ArrayShape = "8x8", target: str = "ecp5-85k",
                   out: str | Path, backend: str = "amaranth", io: str = "parallel",
                   reuse: int = 1, strategy: str = "latency") -> Design | HlsDesign:
    """Like ``compile``, returning the typed design written to ``design.json``.

    ``backend="amaranth"``: the matrix engine (``array``, ``target``); ``backend="hls"``:
    an HLS C++ project (``io`` "parallel" or "stream", ``reuse`` factor, ``strategy``
    "latency" or "resource")."""
    return driver.compile(graph, _backend(backend),
                          _options(array, target, _hls(io, reuse, strategy)), Path(out))


def compile(graph: Graph, *, array: str | ArrayShape = "8x8", target: str = "ecp5-85k",
            out: str | Path, backend: str = "amaranth", io: str = "parallel", reuse: int = 1,
            strategy: str = "latency") -> Path:
    compile_design(graph, array=array, target=target, out=out, backend=backend, io=io,
                   reuse=reuse, strategy=strategy)
    return Path(out)


def verify(folder: str | Path, *, vectors: int = 200, seed: int = 0,
           dataset: str | Path | None = None, protocol: bool = False,
           jobs: int | None = None) -> dict:
    """The RTL against the golden model: the compiled Verilator harness, or with
    ``protocol`` the cocotb bench (idle cycles, back-pressure)."""
    return verify_design(Path(folder), vectors=vectors, seed=seed, dataset=dataset,
                         protocol=protocol, jobs=jobs)


def synth(folder: str | Path, *, target: str | None = None, mhz: float | None = None,
          asic: bool = False) -> dict:
    return synth_design(Path(folder), target=target, mhz=mhz, asic=asic)
