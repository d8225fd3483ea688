"""The C-sim harness of the HLS kernel tests (tests/compiler/hls/test_kernels_*.py).

A ``Case`` is one node of a graph bound to its kernel with some ``HlsOptions`` and run on
a batch of inputs.  ``csim`` renders the cases into one C++ program (one g++ run, cached
by ``gxx.build``) that reads every case's batch of inputs from a file, calls the kernels
and writes their outputs, and returns each case's outputs as Python integers.  Stream
cases (``KernelCall.stream``) push the inputs into ``hls::stream``s and check that the
kernel drained its input and wrote exactly its output.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from string import Template

import numpy as np
from neurogate.compiler.backends.hls import gxx
from neurogate.compiler.backends.hls.binding import HlsOptions, KernelCall, ctype
from neurogate.compiler.backends.hls.bindings import BINDINGS
from neurogate.compiler.backends.hls.bindings.common import int_literal
from neurogate.compiler.interpreter import run
from neurogate.compiler.ir import Graph, TensorType

PROGRAM = Template("""#include <cstdlib>
#include <fstream>
#include <iostream>
#include "ap_int.h"
#include "hls_stream.h"
$includes

template <int W> void get(std::istream &s, ap_int<W> &v) { long long t; s >> t; v = t; }
template <int W> void get(std::istream &s, ap_uint<W> &v) { unsigned long long t; s >> t; v = t; }
template <int W> void put(std::ostream &s, const ap_int<W> &v) { s << v.to_int64() << '\\n'; }
template <int W> void put(std::ostream &s, const ap_uint<W> &v) { s << v.to_uint64() << '\\n'; }
template <class T> void drained(hls::stream<T> &s, const char *what) {
    if (!s.empty()) { std::cerr << what << ": " << s.size() << " elements left\\n"; std::exit(3); }
}
$cases
int main(int argc, char **argv) {
    std::ifstream in(argv[1]);
    std::ofstream out(argv[2]);
$calls    return 0;
}
""")

ARRAY_CASE = Template("""
struct ${name}_config {
$config
};
$arrays
static void run_$name(std::istream &in, std::ostream &out) {
$declare    for (int b = 0; b < $batch; b++) {
$read        $call
        for (unsigned i = 0; i < $n_out; i++) put(out, y[i]);
    }
}
""")

STREAM_CASE = Template("""
struct ${name}_config {
$config
};
$arrays
static void run_$name(std::istream &in, std::ostream &out) {
    for (int b = 0; b < $batch; b++) {
$declare$read        $call
        for (unsigned i = 0; i < $n_out; i++) put(out, y.read());
$drained    }
}
""")


@dataclass(eq=False)
class Case:
    """Node ``name`` of ``graph`` bound with ``options`` and run on ``inputs`` (graph
    input -> its batch, ``(batch, *shape)``)."""

    name: str
    graph: Graph
    inputs: dict
    options: HlsOptions = HlsOptions()

    @property
    def node(self):
        return self.graph.node(self.name)

    @property
    def types(self) -> list[TensorType]:
        return [self.graph.type_of(v) for v in self.node.inputs]

    @property
    def batch(self) -> int:
        return len(next(iter(self.inputs.values())))

    def bind(self) -> KernelCall:
        return BINDINGS[type(self.node)](self.node, self.types, self.options)

    def golden(self) -> np.ndarray:
        """The golden interpreter's output, ``(batch, *out.shape)``."""
        return run(self.graph, self.inputs)[self.name]

    def cpp(self) -> str:
        node, kc, types = self.node, self.bind(), self.types
        arrays = "".join(f"static const {a.ctype} {a.name}[{a.values.size}] = "
                         f"{{{', '.join(int_literal(v) for v in a.values.flat)}}};\n"
                         for a in kc.arrays)
        call = kc.call.format(**{f"in{i}": f"in{i}" for i in range(len(types))}, out="y",
                              config=f"{self.name}_config")
        fields = dict(name=self.name, config="\n".join(f"    {line}" for line in kc.config),
                      arrays=arrays, batch=self.batch, call=call, n_out=node.out.size)
        out_t = ctype(node.out.fmt)
        if kc.stream:
            declare = "".join(f'        hls::stream<{ctype(t.fmt)}> in{i}("in{i}");\n'
                              for i, t in enumerate(types))
            declare += f'        hls::stream<{out_t}> y("y");\n'
            read = "".join(f"        for (unsigned i = 0; i < {t.size}; i++) "
                           f"{{ {ctype(t.fmt)} v; get(in, v); in{i}.write(v); }}\n"
                           for i, t in enumerate(types))
            drained = "".join(f'        drained(in{i}, "{self.name}: in{i}");\n'
                              for i in range(len(types)))
            drained += f'        drained(y, "{self.name}: y");\n'
            return STREAM_CASE.substitute(fields, declare=declare, read=read, drained=drained)
        declare = "".join(f"    static {ctype(t.fmt)} in{i}[{t.size}];\n"
                          for i, t in enumerate(types))
        declare += f"    static {out_t} y[{node.out.size}];\n"
        read = "".join(f"        for (unsigned i = 0; i < {t.size}; i++) get(in, in{i}[i]);\n"
                       for i, t in enumerate(types))
        return ARRAY_CASE.substitute(fields, declare=declare, read=read)

    def data(self) -> list[str]:
        arrays = [np.asarray(self.inputs[v]).reshape(self.batch, -1) for v in self.node.inputs]
        return [str(int(v)) for b in range(self.batch) for a in arrays for v in a[b]]


def csim(cases: list[Case], tmp_path, name: str) -> dict[str, np.ndarray]:
    """Build the program of ``cases``, run it once, return each case's outputs
    (``(batch, *out.shape)`` arrays of Python integers: a uint64 does not fit in int64)."""
    headers = sorted({case.bind().header for case in cases})
    source = PROGRAM.substitute(
        includes="\n".join(f'#include "{h}"' for h in headers),
        cases="".join(case.cpp() for case in cases),
        calls="".join(f"    run_{case.name}(in, out);\n" for case in cases))
    src = tmp_path / f"{name}.cpp"
    src.write_text(source)
    # C++14: what the generated build_prj.tcl gives Vitis HLS
    exe = gxx.build([src], name=name, extra_flags=("-std=c++14",))
    (tmp_path / "in.txt").write_text("\n".join(v for case in cases for v in case.data()) + "\n")
    done = subprocess.run([str(exe), str(tmp_path / "in.txt"), str(tmp_path / "out.txt")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    values = [int(v) for v in (tmp_path / "out.txt").read_text().split()]
    results, at = {}, 0
    for case in cases:
        shape = (case.batch, *case.node.out.shape)
        n = case.batch * case.node.out.size
        results[case.name] = np.array(values[at:at + n], dtype=object).reshape(shape)
        at += n
    assert at == len(values)
    return results
