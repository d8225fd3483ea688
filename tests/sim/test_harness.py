"""The compiled Verilator stream harness: payload packing, the cache, bit-exact outputs
and cycle counts of compiled designs against the golden model and the cycle model,
hang and protocol detection, build failures."""

import threading
from pathlib import Path

import numpy as np
import pytest
from graphs import random_mlp
from neurogate.compiler import api
from neurogate.compiler.backends.engine.host import echo_table
from neurogate.compiler.flows.design_folder import load_design
from neurogate.compiler.flows.verify_engine import output_payloads, rebuild_program
from neurogate.compiler.interpreter import make_vectors, run_single_output
from neurogate.hw.engine.config import EngineConfig
from neurogate.numerics.errors import NeurogateError
from neurogate.sim.engine.cycles import program_cycles
from neurogate.sim.engine.iss import Echo, EngineSim
from neurogate.sim.verilator import harness
from neurogate.sim.verilator.harness import (
    build,
    harness_key,
    pack_lanes,
    pack_vectors,
    run,
    unpack_outputs,
)


def pack_int(lanes, width: int) -> int:
    return sum((int(v) & ((1 << width) - 1)) << (i * width) for i, v in enumerate(lanes))


def unpack_int(word: int, width: int) -> int:
    value = word & ((1 << width) - 1)
    return value - (1 << width) if value >> (width - 1) else value


class Compiled:
    """A model compiled for a small programmable engine, as a harness design: each vector
    is a whole host stream (PROGRAM, the setup run, one inference run), so every vector
    has the same number of chunks and outputs."""

    def __init__(self, graph, folder: Path, cache: Path):
        self.graph, self.folder = graph, folder
        self.design = load_design(folder)
        self.program = rebuild_program(folder, self.design, graph)
        engine = self.design.engine
        self.in_bits, self.out_bits = engine.host_bits, engine.spad_bits
        self.outputs = self.program.output_words
        self.chunks = len(self.stream(make_vectors(graph, 1)[0]))
        self.verilog = folder / self.design.verilog
        self.cache = cache
        p = self.program
        self.expected_cycles = (len(p.program_stream())
                                + program_cycles(engine, p.instructions[:p.inference_pc])
                                + program_cycles(engine, p.instructions[p.inference_pc:]))
        self.exe = build(self.verilog, self.design.toplevel, in_bits=self.in_bits,
                         out_bits=self.out_bits + 1, cache_dir=cache)

    def stream(self, x) -> list[int]:
        name = self.graph.inputs[0].name
        p = self.program
        return p.program_stream() + p.setup_stream() + p.inference_stream({name: x[None]})

    def words(self, x) -> np.ndarray:
        streams = np.array([self.stream(v) for v in x], dtype=object)
        return harness.ints_to_words(streams, self.in_bits)

    def run(self, x, work: Path, **overrides):
        options = dict(chunks=self.chunks, outputs=self.outputs,
                       timeout_cycles=20 * self.expected_cycles + 1000, work=work)
        return run(self.exe, self.words(x), **(options | overrides))


def compiled(tmp_path_factory, graph, engine: EngineConfig, target="ecp5-85k") -> Compiled:
    root = tmp_path_factory.mktemp(graph.name)
    folder = api.compile(graph, engine=engine, out=root / "design", target=target)
    return Compiled(graph, folder, root / "cache")


SMALL = dict(spad_words=64, wbuf_words=64, bias_words=16, prog_words=16)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """11-6-5 int8 MLP on a 2x2 engine: 64-bit host words, 17-bit outputs."""
    return compiled(tmp_path_factory, random_mlp([11, 6, 5], seed=5), EngineConfig(2, **SMALL))


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """12-bit lanes on an 8-lane engine: 96-bit host words, 97-bit outputs across word
    edges."""
    graph = random_mlp([13, 6, 4], seed=3, act_bits=12, weight_bits=4, name="wide")
    return compiled(tmp_path_factory, graph, EngineConfig(8, lane_bits=12, **SMALL),
                    target="asic")          # more I/O pins than an ECP5 package


def check_against_golden(design: Compiled, x, result) -> None:
    for vector, words in enumerate(result.words):
        data, last = output_payloads(words, design.out_bits)
        got = design.program.decode_runs(data, 1)
        name = design.graph.outputs[0]
        want = run_single_output(design.graph, x[vector:vector + 1])[0]
        np.testing.assert_equal(got[name][0], want)
        assert last == [i == design.outputs - 1 for i in range(design.outputs)]
    # the cycle model of loading the program, the setup run and one inference run (which
    # ends a few cycles after the last output: its END)
    assert np.all(np.abs(result.cycles - design.expected_cycles) <= 8)
    assert result.total_cycles >= int(result.cycles.sum())


# --- construction and bad parameters ---------------------------------------------------------

def test_bad_build_parameters(tmp_path):
    verilog = tmp_path / "x.v"
    verilog.write_text("module x; endmodule\n")
    with pytest.raises(ValueError, match="in_bits must be an integer of at least 1, not 0"):
        build(verilog, "x", in_bits=0, out_bits=9, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="toplevel must be a Verilog identifier, not 'a b'"):
        build(verilog, "a b", in_bits=8, out_bits=9, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="jobs must be an integer of at least 1, not -3"):
        build(verilog, "x", in_bits=8, out_bits=9, cache_dir=tmp_path, jobs=-3)
    with pytest.raises(NeurogateError, match="missing.v: cannot be read"):
        build(tmp_path / "missing.v", "x", in_bits=8, out_bits=9, cache_dir=tmp_path)


def test_bad_jobs_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROGATE_BUILD_JOBS", "many")
    with pytest.raises(NeurogateError, match="NEUROGATE_BUILD_JOBS must be a positive integer, "
                                             "not 'many'"):
        build(tmp_path / "x.v", "x", in_bits=8, out_bits=9, cache_dir=tmp_path)


def test_cache_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROGATE_CACHE_DIR", str(tmp_path))
    assert harness.cache_root() == tmp_path
    monkeypatch.delenv("NEUROGATE_CACHE_DIR")
    assert harness.cache_root() == Path.home() / ".cache" / "neurogate"


@pytest.mark.parametrize("width", [1, 3, 8, 12, 16, 30, 32, 33, 64])
def test_pack_lanes_matches_the_integer_packer(width):
    rng = np.random.default_rng(width)
    values = rng.integers(-(1 << (width - 1)), (1 << (width - 1)) - 1, (7, 2, 5), endpoint=True)
    words = pack_lanes(values, width)
    assert words.dtype == np.uint32 and words.shape == (7, 2, (5 * width + 31) // 32)
    for index in np.ndindex(7, 2):
        packed = sum(int(w) << (32 * k) for k, w in enumerate(words[index]))
        assert packed == pack_int(values[index].tolist(), width)


@pytest.mark.parametrize("data_bits", [1, 8, 31, 40])
def test_unpack_outputs_matches_the_integer_unpacker(data_bits):
    rng = np.random.default_rng(data_bits)
    payloads = [int(v) for v in rng.integers(0, 1 << (data_bits + 1), 50)]
    words = np.array([[(p >> 32 * k) & 0xFFFFFFFF for k in range((data_bits + 32) // 32)]
                      for p in payloads], dtype=np.uint32)
    data, last = unpack_outputs(words, data_bits)
    assert data.tolist() == [unpack_int(p, data_bits) for p in payloads]
    assert last.tolist() == [bool(p >> data_bits) for p in payloads]


def test_pack_vectors_pads_and_chunks():
    words = pack_vectors([[1, -1, 2, 3, 4]], cols=2, chunks=3, width=8)
    assert words.shape == (1, 3, 1)
    assert words[0, :, 0].tolist() == [0xFF01, 0x0302, 0x0004]
    with pytest.raises(ValueError, match="6 features do not fit 2 chunks of 2 lanes"):
        pack_vectors(np.zeros((1, 6)), cols=2, chunks=2, width=8)


def test_bad_run_parameters(small, tmp_path):
    with pytest.raises(ValueError, match="chunks must be an integer from 1 to"):
        run(small.exe, np.zeros((1, 3, 2), np.uint32), chunks=0, outputs=5,
            timeout_cycles=100, work=tmp_path)
    with pytest.raises(ValueError, match=r"packed inputs must be \(vectors, 3, 2\) uint32 words"):
        run(small.exe, np.zeros((1, 3, 1), np.uint32), chunks=3, outputs=5,
            timeout_cycles=100, work=tmp_path)
    with pytest.raises(ValueError, match="payload 18446744073709551616 does not fit 64 "
                                         "unsigned bits"):
        run(small.exe, [[0, 0, 1 << 64]], chunks=3, outputs=5, timeout_cycles=100,
            work=tmp_path)


# --- behaviour -------------------------------------------------------------------------------

def test_small_design_matches_golden_and_cycle_model(small, tmp_path):
    x = make_vectors(small.graph, 300)       # corners first, then random and extremes
    result = small.run(x, tmp_path)
    assert result.vectors == 300 and result.words.shape == (300, small.outputs, 1)
    check_against_golden(small, x, result)
    assert result.payloads.dtype == np.uint64 and result.payloads.shape == (300, small.outputs)


def test_python_int_payloads_equal_packed_words(small, tmp_path):
    x = make_vectors(small.graph, 6, seed=1)
    as_ints = np.array([small.stream(v) for v in x], dtype=object)
    packed = small.run(x, tmp_path / "packed")
    ints = run(small.exe, as_ints, chunks=small.chunks, outputs=small.outputs,
               timeout_cycles=20_000, work=tmp_path / "ints")
    np.testing.assert_equal(ints.words, packed.words)
    np.testing.assert_equal(ints.cycles, packed.cycles)


def test_wide_payload_design(wide, tmp_path):
    assert wide.in_bits == 96 and wide.out_bits + 1 == 97
    x = make_vectors(wide.graph, 200)
    result = wide.run(x, tmp_path)
    assert result.words.shape == (200, wide.outputs, 4)
    check_against_golden(wide, x, result)


def test_echoed_chunks_are_the_outputs_sent_back(small, tmp_path):
    """A second run whose first input words echo the first run's outputs (the way the
    engine's spilled tensors come back): the harness fills them as the instruction-level
    simulator does, once they have arrived, without the output's ``last`` bit."""
    p, name = small.program, small.graph.inputs[0].name
    x = make_vectors(small.graph, 2, seed=3)
    first = small.stream(x[0])
    second = p.inference_stream({name: x[1][None]})
    echoed = min(p.output_words, p.tensors[name].layout.words)
    second[1:1 + echoed] = [Echo(k) for k in range(echoed)]    # after the RUN word
    stream = first + second
    want = EngineSim(p.config).run(stream).outputs
    words, echoes = echo_table(stream)
    assert echoes == [(len(first) + 1, 0, echoed)]
    result = run(small.exe, np.array([words], dtype=object), chunks=len(stream),
                 outputs=len(want), timeout_cycles=20_000, work=tmp_path, echoes=echoes,
                 echo_bits=small.out_bits)
    data, last = output_payloads(result.words[0], small.out_bits)
    assert list(zip(data, last)) == want
    # the echo changed the second run's input: its outputs are not those of x[1]
    plain = EngineSim(p.config).run(first + p.inference_stream({name: x[1][None]})).outputs
    assert plain[p.output_words:] != want[p.output_words:]


def test_bad_echo_tables_are_refused(small, tmp_path):
    words = np.zeros((1, 4, 2), np.uint32)
    common = dict(chunks=4, outputs=3, timeout_cycles=100, work=tmp_path, echo_bits=16)
    for echoes in ([(2, 0, 3)], [(0, 2, 2)], [(2, 0, 1), (1, 0, 1)], [(0, 0, 0)]):
        with pytest.raises(ValueError, match="runs must be in chunk order, within the 4 "
                                             "chunks and 3 outputs"):
            run(small.exe, words, echoes=echoes, **common)
    with pytest.raises(ValueError, match="echoes need the unpipelined protocol"):
        run(small.exe, words, echoes=[(0, 0, 1)], pipelined=True, **common)


def test_hang_names_vector_cycle_and_last_handshake(small, tmp_path):
    x = make_vectors(small.graph, 4)
    words = small.words(x)
    # The engine waits for the rest of the program; sending its first word leaves it
    # waiting for ever.
    expected = (r"^vector 0: no output for 300 cycles \(cycle 300; 1 of 1 input chunks, 0 of 2 "
                r"outputs; last handshake: input chunk 0 of vector 0 at cycle \d+\)")
    with pytest.raises(NeurogateError, match=expected):
        run(small.exe, words[:, :1], chunks=1, outputs=2, timeout_cycles=300, work=tmp_path)
    # Expecting one output more than the program stores hangs after the last.
    n = small.outputs
    with pytest.raises(NeurogateError, match=rf"^vector 0: no output for 300 cycles .* {n} of "
                                             rf"{n + 1} outputs; last handshake: output {n - 1} "
                                             r"of vector 0"):
        run(small.exe, words, chunks=small.chunks, outputs=n + 1, timeout_cycles=300,
            work=tmp_path)


def test_outputs_out_of_protocol_are_refused(small, tmp_path):
    # Two vectors, each one run's stream with one word of padding after it: the engine's
    # outputs come before the vector's last chunk.
    x = make_vectors(small.graph, 2)
    padded = [small.stream(v) + [0] for v in x]
    with pytest.raises(NeurogateError, match=rf"^vector 0: output {small.outputs - 1} came at "
                                             rf"cycle \d+ after only {small.chunks} of "
                                             rf"{small.chunks + 1} input chunks"):
        run(small.exe, np.array(padded, dtype=object), chunks=small.chunks + 1,
            outputs=small.outputs, timeout_cycles=3000, work=tmp_path)


def test_cache_hit_and_key(small, monkeypatch):
    def no_build(*args, **kwargs):
        raise AssertionError("built again")

    monkeypatch.setattr(harness, "_build_in", no_build)
    again = build(small.verilog, small.design.toplevel, in_bits=small.in_bits,
                  out_bits=small.out_bits + 1, cache_dir=small.cache)
    assert again == small.exe
    assert again.parent.parent == small.cache / "verilator"
    assert {p.name for p in again.parent.iterdir()} >= {"stream_tb", "harness.json", "build.log"}
    source = small.verilog.read_bytes()
    key = harness_key(source, small.design.toplevel, in_bits=small.in_bits,
                      out_bits=small.out_bits + 1)
    assert again.parent.name == key
    assert harness_key(source + b"// changed\n", small.design.toplevel, in_bits=small.in_bits,
                       out_bits=small.out_bits + 1) != key
    assert harness_key(source, small.design.toplevel, in_bits=small.in_bits + 1,
                       out_bits=small.out_bits + 1) != key
    monkeypatch.setattr(harness, "MAKE_FLAGS", ("OPT_FAST=-O1",))
    assert harness_key(source, small.design.toplevel, in_bits=small.in_bits,
                       out_bits=small.out_bits + 1) != key


def test_concurrent_builds_share_one_result(small, tmp_path):
    verilog = tmp_path / "copy.v"
    verilog.write_bytes(small.verilog.read_bytes() + b"// another key\n")
    calls, results, errors = [], [], []
    real = harness._build_in

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    def one():
        try:
            results.append(build(verilog, small.design.toplevel, in_bits=small.in_bits,
                                 out_bits=small.out_bits + 1, cache_dir=tmp_path / "cache"))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    harness._build_in = counting
    try:
        threads = [threading.Thread(target=one) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        harness._build_in = real
    assert not errors and len(results) == 2 and results[0] == results[1]
    assert len(calls) == 1
    leftovers = [p.name for p in (tmp_path / "cache" / "verilator").iterdir()
                 if p.is_dir() and p != results[0].parent]
    assert leftovers == []
    x = make_vectors(small.graph, 20)
    result = run(results[0], small.words(x), chunks=small.chunks, outputs=small.outputs,
                 timeout_cycles=20_000, work=tmp_path / "work")
    check_against_golden(small, x, result)


def test_build_failure_names_log_and_last_lines(tmp_path):
    verilog = tmp_path / "broken.v"
    verilog.write_text("module broken(input clk);\n  wire x = ;\nendmodule\n")
    with pytest.raises(NeurogateError) as caught:
        build(verilog, "broken", in_bits=8, out_bits=9, cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert message.startswith("Verilator build of broken failed (exit status ")
    log = Path(message.split("log: ")[1].split(";")[0])
    assert log.is_file() and log.name.endswith(".failed.log")
    assert "%Error" in message.split("last lines:\n")[1]
    # Nothing half-built is left in the cache.
    assert [p for p in (tmp_path / "cache" / "verilator").iterdir() if p.is_dir()] == []


def test_payload_width_mismatch_is_refused_before_compiling(small, tmp_path):
    with pytest.raises(NeurogateError, match=r"^i__payload of module ng_engine is 64 bits "
                                             r"wide, not in_bits=40$"):
        build(small.verilog, small.design.toplevel, in_bits=40, out_bits=small.out_bits + 1,
              cache_dir=tmp_path)
    with pytest.raises(NeurogateError, match=r"^o__payload of module ng_engine is 17 bits "
                                             r"wide, not out_bits=8$"):
        build(small.verilog, small.design.toplevel, in_bits=small.in_bits, out_bits=8,
              cache_dir=tmp_path)
