"""The HLS C++ backend: every node of the graph becomes one kernel call in a top
function; the project is written for Vitis HLS and C-simulated here with g++.

Folder contents (deterministic for the same model and options)::

    firmware/<top>.cpp, <top>.h, parameters.h, weights/*.h, kernels/*.h
    tb/<top>_test.cpp, tb_data/ (inputs.bin and expected.bin, written by verify)
    build_prj.tcl, README.md
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import jinja2
import numpy as np

from ....numerics.errors import NeurogateError
from ...design import HLS_BACKEND, HlsDesign, TensorPort
from ...ir import Conv2D, Dense, Graph, Input, MatMul, TensorType
from ...verifier import verify
from ..base import Backend, CompileOptions, c_identifier
from . import gxx
from .binding import HlsOptions, KernelCall, Unsupported, ctype, scale_comment
from .bindings import BINDINGS

DEFAULT_PART = "xcu250-figd2104-2L-e"
DEFAULT_CLOCK_NS = 5.0

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("neurogate.compiler.backends.hls", "templates"),
    keep_trailing_newline=True, undefined=jinja2.StrictUndefined, trim_blocks=False)


def native_type(values: list[int]) -> str | None:
    """The narrowest ``<cstdint>`` type holding every value (None beyond 64 bits)."""
    lo, hi = (min(values), max(values)) if values else (0, 0)
    for bits in (8, 16, 32, 64):
        if -(1 << (bits - 1)) <= lo and hi < (1 << (bits - 1)):
            return f"int{bits}_t"
    return None


@dataclass(frozen=True, eq=False)
class HlsPlan:
    graph: Graph
    calls: dict[str, KernelCall]       # node name -> its kernel call
    options: HlsOptions


@dataclass(frozen=True)
class HlsEstimate:
    """What the graph needs before any C++ is written (no HLS synthesis runs here)."""

    layers: int
    macs: int                # multiply-accumulates per inference
    parameter_bits: int      # bits of every weight, bias and table


def _macs(node, graph: Graph) -> int:
    if isinstance(node, Dense):
        rows = int(np.prod(node.out.shape[:-1], dtype=np.int64))
        return rows * int(node.weights.size)
    if isinstance(node, Conv2D):
        kh, kw, cin, _ = node.weights.shape
        return int(np.prod(node.out.shape, dtype=np.int64)) * kh * kw * cin
    if isinstance(node, MatMul):
        a = graph.type_of(node.a).shape
        return int(np.prod(node.out.shape, dtype=np.int64)) * a[-1]
    return 0


class HlsBackend(Backend):
    name = HLS_BACKEND
    tools = ("hls4ml",)

    def legalize(self, graph: Graph) -> Graph:
        return verify(graph)

    def plan(self, graph: Graph, options: CompileOptions) -> HlsPlan:
        hls = options.backend_options or HlsOptions()
        calls = {}
        for node in graph.nodes:
            if isinstance(node, Input):
                continue
            op = type(node).__name__
            bind = BINDINGS.get(type(node))
            if bind is None:
                raise NeurogateError(f"layer {node.name!r}: op {op} has no HLS kernel")
            try:
                call = bind(node, [graph.type_of(v) for v in node.inputs], hls)
            except Unsupported as why:
                raise NeurogateError(f"layer {node.name!r}: op {op} is not supported by the "
                                     f"HLS backend: {why}") from None
            if hls.io == "parallel" and call.stream:
                raise NeurogateError(f"layer {node.name!r}: its binding gave a stream kernel "
                                     "for io_parallel")
            calls[node.name] = call
        for port in (*graph.inputs, *(graph.node(o) for o in graph.outputs)):
            try:
                ctype(port.out.fmt)
            except TypeError as error:
                raise NeurogateError(f"{port.name!r}: {error}") from None
        return HlsPlan(graph=graph, calls=calls, options=hls)

    def estimate(self, plan: HlsPlan, options: CompileOptions) -> HlsEstimate:
        bits = 0
        for call in plan.calls.values():
            for array in call.arrays:
                width = int(re.search(r"<(\d+)>", array.ctype).group(1))
                bits += width * len(array.values)
        return HlsEstimate(layers=len(plan.calls),
                           macs=sum(_macs(n, plan.graph) for n in plan.graph.nodes),
                           parameter_bits=bits)

    def check_fits(self, plan: HlsPlan, options: CompileOptions) -> None:
        """No device check: the part's resources are Vitis HLS's to judge."""

    def emit(self, plan: HlsPlan, options: CompileOptions, folder: Path) -> HlsDesign:
        project = _Project(plan, top=c_identifier(plan.graph.name))
        project.write(folder)
        return project.design()


class _Project:
    """Renders the templates for one plan."""

    def __init__(self, plan: HlsPlan, *, top: str):
        self.plan, self.graph, self.top = plan, plan.graph, top
        self.version = metadata.version("neurogate")
        self.inputs = [self._port(n.name, n.out, f"in_{c_identifier(n.name)}")
                       for n in self.graph.inputs]
        self.outputs = [self._port(o, self.graph.type_of(o), f"out_{c_identifier(o)}")
                        for o in self.graph.outputs]
        offset = 0
        for port in self.inputs:
            port["offset"], offset = offset, offset + port["size"]
        offset = 0
        for port in self.outputs:
            port["offset"], offset = offset, offset + port["size"]

    @staticmethod
    def _port(source: str, t: TensorType, name: str) -> dict:
        return {"source": source, "name": name, "ctype": ctype(t.fmt), "size": t.size,
                "shape": tuple(t.shape), "comment": scale_comment(t), "type": t}

    @property
    def stream(self) -> bool:
        return self.plan.options.io == "stream"

    def _signature(self) -> str:
        if self.stream:
            ports = [f"hls::stream<{p['name']}_t> &{p['name']}" for p in
                     self.inputs + self.outputs]
        else:
            ports = [f"const {p['name']}_t {p['name']}[{p['size']}]" for p in self.inputs]
            ports += [f"{p['name']}_t {p['name']}[{p['size']}]" for p in self.outputs]
        return ", ".join(ports)

    def _interface(self) -> list[str]:
        if self.stream:
            lines = [f"#pragma HLS INTERFACE axis port={p['name']}"
                     for p in self.inputs + self.outputs]
            return lines + ["#pragma HLS DATAFLOW"]
        lines = [f"#pragma HLS ARRAY_PARTITION variable={p['name']} complete"
                 for p in self.inputs + self.outputs]
        if self.plan.options.strategy == "latency":
            lines.append("#pragma HLS PIPELINE")
        return lines

    def _steps(self) -> list[dict]:
        """Each node: declare its output, call its kernel; then copy to the outputs.

        io_parallel: every value is an array.  io_stream: a stream kernel's output stays a
        stream when its only reader is another stream kernel; otherwise adapters convert
        between streams and arrays (a stream is read once, so a stream value with several
        readers, or read by an array kernel, is first made an array).
        """
        graph = self.graph
        readers = {n.name: 0 for n in graph.nodes}
        for node in graph.nodes:
            for v in node.inputs:
                readers[v] += 1
        for o in graph.outputs:
            readers[o] += 1
        arrays: dict[str, str] = {}
        streams: dict[str, str] = {}
        steps = []

        def as_array(v: str, lines: list[str]) -> str:
            if v not in arrays:
                src_t = graph.type_of(v)
                name = f"{c_identifier(v)}_a"
                lines.append(f"{ctype(src_t.fmt)} {name}[{src_t.size}];")
                lines.append(f"ng::stream_to_array<{src_t.size}>({streams.pop(v)}, {name});")
                arrays[v] = name
            return arrays[v]

        for p in self.inputs:
            if self.stream:
                streams[p["source"]] = p["name"]
            else:
                arrays[p["source"]] = p["name"]
        for node in graph.nodes:
            if isinstance(node, Input):
                continue
            call = self.plan.calls[node.name]
            var = c_identifier(node.name)
            t = node.out
            lines: list[str] = []
            args = {"config": f"{var}_config"}
            for i, v in enumerate(node.inputs):
                if call.stream and v in streams and readers[v] == 1:
                    args[f"in{i}"] = streams.pop(v)
                elif call.stream:
                    array = as_array(v, lines)
                    name = f"{var}_in{i}"
                    lines.append(f"hls::stream<{ctype(graph.type_of(v).fmt)}> {name};")
                    lines.append(f"ng::array_to_stream<{graph.type_of(v).size}>({array}, "
                                 f"{name});")
                    args[f"in{i}"] = name
                else:
                    args[f"in{i}"] = as_array(v, lines)
            if call.stream:
                lines.append(f"hls::stream<{ctype(t.fmt)}> {var};")
                streams[node.name] = var
            else:
                lines.append(f"{ctype(t.fmt)} {var}[{t.size}];")
                if not self.stream:
                    lines.append(f"#pragma HLS ARRAY_PARTITION variable={var} complete")
                arrays[node.name] = var
            args["out"] = var
            lines.append(call.call.format(**args))
            steps.append({"comment": f"{node.name}: {type(node).__name__} -> "
                                     f"{scale_comment(t)}", "lines": lines})
        out_lines: list[str] = []
        for p in self.outputs:
            src = as_array(p["source"], out_lines)
            if self.stream:
                out_lines.append(f"ng::array_to_stream<{p['size']}>({src}, {p['name']});")
            else:
                out_lines.append(f"for (unsigned i = 0; i < {p['size']}; i++) "
                                 f"{p['name']}[i] = {src}[i];")
        steps.append({"comment": "outputs", "lines": out_lines})
        return steps

    def _layers(self) -> list[dict]:
        layers = []
        for node in self.graph.nodes:
            if isinstance(node, Input):
                continue
            call = self.plan.calls[node.name]
            layers.append({"name": c_identifier(node.name), "config": call.config,
                           "arrays": call.arrays,
                           "comment": f"{node.name}: {type(node).__name__}, "
                                      f"{scale_comment(node.out)}"})
        return layers

    def _render(self, template: str, **extra) -> str:
        opts = self.plan.options
        return _templates.get_template(template).render(
            name=self.graph.name, top=self.top, version=self.version, io=opts.io,
            strategy=opts.strategy, reuse=opts.reuse, inputs=self.inputs, outputs=self.outputs,
            layers=self._layers(), part=DEFAULT_PART, clock_ns=DEFAULT_CLOCK_NS, **extra)

    def write(self, folder: Path) -> None:
        firmware = folder / "firmware"
        (firmware / "weights").mkdir(parents=True)
        (folder / "tb").mkdir()
        (folder / "tb_data").mkdir()
        kernels = firmware / "kernels"
        kernels.mkdir()
        headers = sorted({call.header for call in self.plan.calls.values()}
                         | {"ng_params.h"}
                         | ({"ng_stream.h", "hls_stream.h"} if self.stream else set()))
        for header in sorted(p.name for p in gxx.KERNELS.glob("*.h")):
            shutil.copyfile(gxx.KERNELS / header, kernels / header)
        guard = f"{self.top.upper()}_H_"
        (firmware / f"{self.top}.h").write_text(self._render(
            "top.h.j2", guard=guard, signature=self._signature()))
        (firmware / f"{self.top}.cpp").write_text(self._render(
            "top.cpp.j2", signature=self._signature(), interface=self._interface(),
            steps=self._steps()))
        (firmware / "parameters.h").write_text(self._render(
            "parameters.h.j2", guard=f"{self.top.upper()}_PARAMETERS_H_", headers=headers))
        for layer in self._layers():
            for array in layer["arrays"]:
                ints = [int(v) for v in np.asarray(array.values).ravel()]
                values = [f"{v}LL" if not -2**31 <= v < 2**31 else str(v) for v in ints]
                rows = [", ".join(values[i:i + 16]) for i in range(0, len(values), 16)]
                (firmware / "weights" / f"{array.name}.h").write_text(
                    _templates.get_template("weights.h.j2").render(
                        array=array, rows=rows, version=self.version, count=len(ints),
                        raw_type=native_type(ints), macro=f"NG_{array.name.upper()}_VALUES",
                        guard=f"NG_W_{array.name.upper()}_H_"))
        total_in = sum(p["size"] for p in self.inputs)
        total_out = sum(p["size"] for p in self.outputs)
        ports = self.inputs + self.outputs
        (folder / "tb" / f"{self.top}_test.cpp").write_text(self._render(
            "testbench.cpp.j2", in_total=total_in, out_total=total_out,
            array_args=", ".join(p["name"] for p in ports),
            stream_args=", ".join(f"{p['name']}_stream" for p in ports)))
        (folder / "build_prj.tcl").write_text(self._render("build_prj.tcl.j2"))
        (folder / "README.md").write_text(self._render("README.md.j2"))

    def design(self) -> HlsDesign:
        opts = self.plan.options

        def port(p):
            fmt = p["type"].fmt
            return TensorPort(name=p["name"], shape=p["shape"], ctype=p["ctype"],
                              width=fmt.width, signed=fmt.signed, frac=getattr(fmt, "frac", 0))

        return HlsDesign(
            name=self.graph.name, backend=HLS_BACKEND, top=self.top, part=DEFAULT_PART,
            io=opts.io, strategy=opts.strategy, reuse=opts.reuse,
            inputs=tuple(port(p) for p in self.inputs),
            outputs=tuple(port(p) for p in self.outputs),
            layers=tuple(n.name for n in self.graph.nodes if not isinstance(n, Input)),
            useful_macs=max(1, sum(_macs(n, self.graph) for n in self.graph.nodes)))
