"""The compiled Verilator stream harness: payload packing, the cache, bit-exact outputs
and cycle counts of compiled designs against the golden model and the cycle model,
hang and protocol detection, build failures."""

import threading
from pathlib import Path

import numpy as np
import pytest
from graphs import random_mlp
from neurogate.compiler import api
from neurogate.compiler.flows.design_folder import load_design
from neurogate.compiler.interpreter import make_vectors, run_single_output
from neurogate.hw.program import pack_lanes as pack_int
from neurogate.hw.program import unpack_lanes
from neurogate.numerics.errors import NeurogateError
from neurogate.sim.verilator import harness
from neurogate.sim.verilator.harness import (
    build,
    harness_key,
    pack_lanes,
    pack_vectors,
    run,
    unpack_outputs,
)


class Compiled:
    """A compiled design, its harness and the numbers the bench needs."""

    def __init__(self, graph, folder: Path, cache: Path):
        self.graph, self.folder = graph, folder
        self.design = load_design(folder)
        config = self.design.config
        self.cols, self.act_bits = config.array.cols, config.widths.act_bits
        self.out_bits = config.widths.out_bits
        self.chunks = self.design.engine.input_chunks
        self.in_bits = self.cols * self.act_bits
        self.verilog = folder / self.design.verilog
        self.cache = cache
        self.exe = build(self.verilog, self.design.toplevel, in_bits=self.in_bits,
                         out_bits=self.out_bits + 1, cache_dir=cache)

    def run(self, x, work: Path, **overrides):
        words = pack_vectors(x, cols=self.cols, chunks=self.chunks, width=self.act_bits)
        options = dict(chunks=self.chunks, outputs=self.design.output_size,
                       timeout_cycles=20 * self.design.expected_cycles + 1000, work=work)
        return run(self.exe, words, **(options | overrides))


def compiled(tmp_path_factory, graph, array: str) -> Compiled:
    root = tmp_path_factory.mktemp(graph.name)
    folder = api.compile(graph, array=array, out=root / "design")
    return Compiled(graph, folder, root / "cache")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """11-6-5 int8 MLP on a 2x4 array: 3 input chunks of 32 bits, 9-bit outputs."""
    return compiled(tmp_path_factory, random_mlp([11, 6, 5], seed=5), "2x4")


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """30-bit activations on 3 columns: 90-bit input payload, lanes across word edges."""
    graph = random_mlp([13, 6, 4], seed=3, act_bits=30, weight_bits=4, acc_width=48,
                       name="wide")
    return compiled(tmp_path_factory, graph, "2x3")


def check_against_golden(design: Compiled, x, result) -> None:
    data, last = unpack_outputs(result.words, design.out_bits)
    np.testing.assert_equal(data, run_single_output(design.graph, x))
    n_out = design.design.output_size
    np.testing.assert_equal(last, np.broadcast_to(np.arange(n_out) == n_out - 1, last.shape))
    np.testing.assert_equal(result.cycles, design.design.expected_cycles)
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
    assert data.tolist() == [unpack_lanes(p, data_bits, 1)[0] for p in payloads]
    assert last.tolist() == [bool(p >> data_bits) for p in payloads]


def test_pack_vectors_pads_and_chunks():
    words = pack_vectors([[1, -1, 2, 3, 4]], cols=2, chunks=3, width=8)
    assert words.shape == (1, 3, 1)
    assert words[0, :, 0].tolist() == [0xFF01, 0x0302, 0x0004]
    with pytest.raises(ValueError, match="6 features do not fit 2 chunks of 2 lanes"):
        pack_vectors(np.zeros((1, 6)), cols=2, chunks=2, width=8)


def test_bad_run_parameters(small, tmp_path):
    with pytest.raises(ValueError, match="chunks must be an integer from 1 to"):
        run(small.exe, np.zeros((1, 3, 1), np.uint32), chunks=0, outputs=5,
            timeout_cycles=100, work=tmp_path)
    with pytest.raises(ValueError, match=r"packed inputs must be \(vectors, 3, 1\) uint32 words"):
        run(small.exe, np.zeros((1, 3, 2), np.uint32), chunks=3, outputs=5,
            timeout_cycles=100, work=tmp_path)
    with pytest.raises(ValueError, match="payload 4294967296 does not fit 32 unsigned bits"):
        run(small.exe, [[0, 0, 1 << 32]], chunks=3, outputs=5, timeout_cycles=100,
            work=tmp_path)


# --- behaviour -------------------------------------------------------------------------------

def test_small_design_matches_golden_and_cycle_model(small, tmp_path):
    x = make_vectors(small.graph, 300)       # corners first, then random and extremes
    result = small.run(x, tmp_path)
    assert result.vectors == 300 and result.words.shape == (300, 5, 1)
    check_against_golden(small, x, result)
    assert result.payloads.dtype == np.uint64 and result.payloads.shape == (300, 5)


def test_python_int_payloads_equal_packed_words(small, tmp_path):
    x = make_vectors(small.graph, 6, seed=1)
    words = pack_vectors(x, cols=small.cols, chunks=small.chunks, width=small.act_bits)
    as_ints = [[int(w[0]) for w in vector] for vector in words]
    packed = small.run(x, tmp_path / "packed")
    ints = run(small.exe, as_ints, chunks=small.chunks, outputs=small.design.output_size,
               timeout_cycles=2000, work=tmp_path / "ints")
    np.testing.assert_equal(ints.words, packed.words)
    np.testing.assert_equal(ints.cycles, packed.cycles)


def test_wide_payload_design(wide, tmp_path):
    assert wide.in_bits == 90 and wide.chunks > 1
    x = make_vectors(wide.graph, 200)
    result = wide.run(x, tmp_path)
    assert result.words.shape == (200, wide.design.output_size, 1)
    check_against_golden(wide, x, result)


def test_hang_names_vector_cycle_and_last_handshake(small, tmp_path):
    x = make_vectors(small.graph, 4)
    words = pack_vectors(x, cols=small.cols, chunks=small.chunks, width=small.act_bits)
    # The design waits for 3 chunks; sending 1 leaves it waiting for ever.
    expected = (r"^vector 0: no output for 300 cycles \(cycle 300; 1 of 1 input chunks, 0 of 5 "
                r"outputs; last handshake: input chunk 0 of vector 0 at cycle \d+\)")
    with pytest.raises(NeurogateError, match=expected):
        run(small.exe, words[:, :1], chunks=1, outputs=5, timeout_cycles=300, work=tmp_path)
    # Expecting 6 outputs of a 5-output design hangs after the fifth.
    with pytest.raises(NeurogateError, match=r"^vector 0: no output for 300 cycles .* 5 of 6 "
                                             r"outputs; last handshake: output 4 of vector 0"):
        run(small.exe, words, chunks=3, outputs=6, timeout_cycles=300, work=tmp_path)


def test_outputs_out_of_protocol_are_refused(small, tmp_path):
    words = np.zeros((3, 3, 1), np.uint32)
    with pytest.raises(NeurogateError, match=r"^vector 1: output 0 came at cycle \d+ after only "
                                             r"0 of 3 input chunks"):
        run(small.exe, words, chunks=3, outputs=4, timeout_cycles=300, work=tmp_path)


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
    words = pack_vectors(x, cols=small.cols, chunks=small.chunks, width=small.act_bits)
    result = run(results[0], words, chunks=small.chunks, outputs=small.design.output_size,
                 timeout_cycles=2000, work=tmp_path / "work")
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
    with pytest.raises(NeurogateError, match=r"^i__payload of module mlp is 32 bits wide, "
                                             r"not in_bits=40$"):
        build(small.verilog, small.design.toplevel, in_bits=40, out_bits=small.out_bits + 1,
              cache_dir=tmp_path)
    with pytest.raises(NeurogateError, match=r"^o__payload of module mlp is 9 bits wide, "
                                             r"not out_bits=8$"):
        build(small.verilog, small.design.toplevel, in_bits=small.in_bits, out_bits=8,
              cache_dir=tmp_path)
