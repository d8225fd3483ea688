"""A compiled Verilator harness for one-in/one-out stream designs: no Python per clock.

Verilator builds the design together with ``stream_tb.cpp``, which reads input payload
words from a file, honours the valid/ready handshakes, and writes output payloads and
per-vector cycle counts to a file.  ``build`` caches the executable by content;
``run`` writes the input file, runs it and reads the results back.

    exe = build(folder / design.verilog, design.toplevel, in_bits=cols * act_bits,
                out_bits=out_bits + 1)
    words = pack_vectors(x, cols=cols, chunks=design.engine.input_chunks, width=act_bits)
    result = run(exe, words, chunks=..., outputs=design.output_size,
                 timeout_cycles=20 * design.expected_cycles + 1000, work=folder / "harness")
    data, last = unpack_outputs(result.words, data_bits=out_bits)

Files (all little-endian): the input file is 8 uint32 header words (magic ``NGI1``,
in_bits, words per chunk, chunks, outputs, vectors, timeout cycles, flags) and then
vectors x chunks x ceil(in_bits / 32) uint32 words, least significant word first, then
the echo table if flags bit 1 is set (``run``'s ``echoes``; ``stream_tb.cpp``).  The
output file is 16 uint64 header words (``OUTPUT_HEADER``), ``done`` uint64 cycle counts
and done x outputs x ceil(out_bits / 32) uint32 words.

Cache: ``$NEUROGATE_CACHE_DIR/verilator/<key>/`` (default ``~/.cache/neurogate``) holds
``stream_tb`` (the executable), ``harness.json`` and ``build.log``; ``<key>`` is the
sha256 of the Verilog bytes, the testbench source, the parameters, the Verilator
version and the flags.  A build happens in a temporary folder beside it, renamed into
place when done, so concurrent builds never see each other's half-written files; a
failed build leaves ``<key>.failed.log``.

Waveforms: ``build(..., trace=True)`` adds Verilator ``--trace`` and ``-DNG_TRACE`` (a
cache entry of its own; the default build's flags and parameters are unchanged), and
``run(..., vcd=path, vcd_cycles=n)`` then writes a VCD of the first ``n`` cycles after
reset (``compiler/flows/asic.py`` takes switching activity from it).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version as _package_version
from pathlib import Path

import numpy as np

from ...numerics.checks import check_int
from ...numerics.errors import NeurogateError
from .. import buildcache
from ..cocotb.runner import verilator_environment

TB_SOURCE = Path(__file__).with_name("stream_tb.cpp")
EXECUTABLE = "stream_tb"
INPUT_MAGIC = 0x3149474E      # "NGI1"
OUTPUT_MAGIC = 0x314F474E     # "NGO1"
OUTPUT_HEADER = ("magic", "version", "status", "done", "total_cycles", "sim_ns", "out_words",
                 "fail_vector", "fail_cycle", "fail_outputs", "fail_chunks", "last_kind",
                 "last_vector", "last_index", "last_cycle", "reserved")
_STATUS_HANG, _STATUS_PROTOCOL = 1, 2

# Verilator flags.  Amaranth output trips WIDTHEXPAND/WIDTHTRUNC (harmless).  X handling
# "fast" and no assertions (the design resets what it reads and has none): +8% clocks/s;
# --no-timing: Amaranth emits no delays, so no coroutine runtime is needed.
VERILATOR_FLAGS = ("-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "--x-assign", "fast",
                   "--x-initial", "fast", "--noassert", "--no-timing")
# C++ optimisation goes to Verilator's make: OPT_FAST (model code run every clock, and
# stream_tb.cpp), OPT_SLOW (construction, initial blocks), OPT_GLOBAL (the Verilator
# runtime, which eval() calls into every clock).  The wheel's default is -Os for all.
# Measured on this 2-core machine (g++ 12, 2 jobs, other builds running beside, so
# build seconds are +-1 s), digits MLP on 8x8 (8224 lines of Verilog, 136 cycles per
# inference), 10^5 vectors; build s / Mclocks/s / inferences/s:
#   -Os everywhere (wheel default)     8.1 / 4.2 / 30,000
#   FAST -O1, SLOW -O0, GLOBAL -O1     4.7 / 4.8 / 34,000
#   FAST -O2, SLOW -O0, GLOBAL -O0    *6.5 / 4.0 / 29,000   (the runtime matters)
#   FAST -O2, SLOW -O0, GLOBAL -O1     4.3 / 5.7 / 41,000   <- chosen (*7.3 s)
#   FAST -O2, SLOW -O0, GLOBAL -O2    *7.7 / 5.7 / 41,000
#   FAST -O3, SLOW -O0, GLOBAL -O1    *7.1 / 5.6 / 41,000   (no gain over -O2)
#   chosen, without the X/assert flags *8.0 / 5.2 / 37,000
# (* built earlier by `verilator --build` while the machine was busier: compare those
# with the chosen row's 7.3 s.)  The 16-64-32-32-5 MLP on 8x8: 5.6 s, 5.3 Mclocks/s,
# 24,000 inferences/s; digits on 12x12 (14368 lines): *8.5 s, 2.7 Mclocks/s (-Os: *9.3 s,
# 2.3).  10^6 digits vectors: 32 s, 4.4 Mclocks/s, 31,000 inferences/s.
MAKE_FLAGS = ("OPT_FAST=-O2", "OPT_SLOW=-O0", "OPT_GLOBAL=-O1")
# ``build(trace=True)`` only: a VCD of every signal, however wide (a spatial design's
# payloads are thousands of bits), for switching activity (``compiler/flows/asic.py``).
TRACE_FLAGS = ("--trace", "--trace-underscore", "--trace-max-width", "1048576")
TRACE_DEFAULT_CYCLES = 10_000


@dataclass(frozen=True, eq=False)
class HarnessResult:
    """What one ``run`` produced.

    ``words[v, j]`` is output ``j`` of vector ``v`` as uint32 words (least significant
    first); ``cycles[v]`` counts the clock cycles from vector ``v``'s first input transfer
    to its last output transfer inclusive; ``total_cycles`` every clock after reset;
    ``seconds`` the wall time of ``run`` (process, files and all), ``sim_seconds`` that
    of the clock loop alone.
    """

    words: np.ndarray
    cycles: np.ndarray
    total_cycles: int
    seconds: float
    sim_seconds: float
    out_bits: int

    @property
    def vectors(self) -> int:
        return len(self.cycles)

    @property
    def payloads(self) -> np.ndarray:
        """The output payloads as a (vectors, outputs) uint64 array (up to 64 bits wide)."""
        if self.out_bits > 64:
            raise NeurogateError(f"output payloads of {self.out_bits} bits do not fit uint64; "
                                 "use HarnessResult.words")
        words = self.words.astype(np.uint64)
        if words.shape[-1] == 1:
            return words[..., 0]
        return words[..., 0] | (words[..., 1] << np.uint64(32))

    @property
    def inferences_per_second(self) -> float:
        return self.vectors / self.seconds if self.seconds > 0 else float("inf")

    @property
    def clocks_per_second(self) -> float:
        return self.total_cycles / self.sim_seconds if self.sim_seconds > 0 else float("inf")


# --- payload packing -------------------------------------------------------------------------

def words_for(bits: int) -> int:
    return (bits + 31) // 32


def pack_lanes(values, width: int) -> np.ndarray:
    """Pack signed lanes of ``width`` bits, lane 0 in the low bits, into uint32 words.

    ``values`` is (..., lanes) of integers; the result is (..., ceil(lanes * width / 32))
    uint32: each row's lanes as one integer, cut into 32-bit words.
    """
    width = check_int("lane width", width, low=1, high=64)
    values = np.asarray(values)
    if values.ndim == 0:
        raise ValueError("values must have a lane axis, not be a scalar")
    lanes = values.shape[-1]
    n_words = words_for(lanes * width)
    if width in (8, 16, 32) and values.dtype.kind in "iu":
        # Two's complement bytes are the packed lanes already.
        lane = np.dtype(f"<i{width // 8}")
        packed = np.ascontiguousarray(values.astype(lane, copy=False))
        pad = (-lanes * width // 8) % 4
        if pad:
            packed = np.concatenate(
                [packed.view(np.uint8), np.zeros(values.shape[:-1] + (pad,), np.uint8)], axis=-1)
        return np.ascontiguousarray(packed).view("<u4").reshape(values.shape[:-1] + (n_words,))
    mask = np.uint64((1 << width) - 1)
    unsigned = values.astype(np.int64).astype(np.uint64) & mask
    out = np.zeros(values.shape[:-1] + (n_words,), np.uint64)
    low32 = np.uint64(0xFFFFFFFF)
    for i in range(lanes):
        offset = i * width
        lane = unsigned[..., i]
        for w in range(offset // 32, (offset + width - 1) // 32 + 1):
            shift = 32 * w - offset
            piece = lane >> np.uint64(shift) if shift >= 0 else lane << np.uint64(-shift)
            out[..., w] |= piece & low32
    return out.astype("<u4")


def pack_vectors(x, *, cols: int, chunks: int, width: int) -> np.ndarray:
    """Input vectors (vectors, features) -> stream words (vectors, chunks, words per chunk).

    Features are zero-padded to ``chunks * cols`` and cut into chunks of ``cols`` lanes
    of ``width`` bits, as the cocotb bench sends them.
    """
    cols = check_int("cols", cols, low=1)
    chunks = check_int("chunks", chunks, low=1)
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"input vectors must be a (vectors, features) array, not shape {x.shape}")
    if x.shape[1] > chunks * cols:
        raise ValueError(f"{x.shape[1]} features do not fit {chunks} chunks of {cols} lanes")
    padded = np.zeros((x.shape[0], chunks * cols), dtype=np.int64)
    padded[:, :x.shape[1]] = x
    return pack_lanes(padded.reshape(x.shape[0], chunks, cols), width)


@dataclass(frozen=True)
class Field:
    """One element of a wide payload: its bit offset, width and signedness."""

    offset: int
    width: int
    signed: bool


def payload_fields(parts) -> list[Field]:
    """The fields of ``parts`` packed back to back, element 0 lowest: each part is
    ``(elements, width, signed)``."""
    fields, offset = [], 0
    for size, width, is_signed in parts:
        for _ in range(size):
            fields.append(Field(offset, width, is_signed))
            offset += width
    return fields


def pack_fields(columns, fields) -> np.ndarray:
    """(vectors, elements) integers -> (vectors, 1, words) uint32 payloads, element ``e`` in
    the bits ``fields[e].offset ...`` of width ``fields[e].width`` (two's complement)."""
    columns = np.asarray(columns, dtype=np.int64)
    total = max((f.offset + f.width for f in fields), default=1)
    out = np.zeros((columns.shape[0], words_for(total)), np.uint64)
    low32 = np.uint64(0xFFFFFFFF)
    for e, f in enumerate(fields):
        lane = columns[:, e].astype(np.uint64) & np.uint64((1 << f.width) - 1)
        for w in range(f.offset // 32, (f.offset + f.width - 1) // 32 + 1):
            shift = 32 * w - f.offset
            piece = lane >> np.uint64(shift) if shift >= 0 else lane << np.uint64(-shift)
            out[:, w] |= piece & low32
    return out.astype("<u4")[:, None, :]


def unpack_fields(words, fields) -> np.ndarray:
    """(vectors, words) uint32 payloads -> (vectors, elements) int64, the inverse of
    ``pack_fields`` (each field read back signed or unsigned by ``fields[e].signed``)."""
    words = np.asarray(words, dtype=np.uint64)
    out = np.zeros((words.shape[0], len(fields)), np.int64)
    for e, f in enumerate(fields):
        value = np.zeros(words.shape[0], np.uint64)
        for w in range(f.offset // 32, (f.offset + f.width - 1) // 32 + 1):
            shift = 32 * w - f.offset
            piece = words[:, w] << np.uint64(shift) if shift >= 0 else \
                words[:, w] >> np.uint64(-shift)
            value |= piece
        value &= np.uint64((1 << f.width) - 1)
        signed = value.astype(np.int64)
        if f.signed:
            half = np.int64(1 << (f.width - 1))
            signed = (signed ^ half) - half
        out[:, e] = signed
    return out


def ints_to_words(values, bits: int) -> np.ndarray:
    """Python-int payloads (any shape) -> (..., ceil(bits / 32)) uint32 words."""
    bits = check_int("payload bits", bits, low=1)
    values = np.asarray(values, dtype=object)
    n_words = words_for(bits)
    flat = values.reshape(-1)
    if bits <= 64:                  # fast path; a value out of range takes the loop below
        try:
            wide = np.fromiter((int(v) for v in flat), dtype=np.uint64, count=len(flat))
        except OverflowError:
            wide = None
        if wide is not None and not (bits < 64 and (wide >> np.uint64(bits)).any()):
            pairs = wide.astype("<u8").view("<u4").reshape(-1, 2)[:, :n_words]
            return np.ascontiguousarray(pairs).reshape(values.shape + (n_words,))
    out = np.zeros((len(flat), n_words), dtype="<u4")
    for i, value in enumerate(flat):
        value = int(value)
        if value < 0 or value >> bits:
            raise ValueError(f"payload {value} does not fit {bits} unsigned bits")
        for w in range(n_words):
            out[i, w] = (value >> (32 * w)) & 0xFFFFFFFF
    return out.reshape(values.shape + (n_words,))


def unpack_outputs(words, data_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Output payload words (..., out_words) -> (signed data int64, last flag bool).

    The payload holds signed data in its low ``data_bits`` bits and ``last`` above them.
    """
    data_bits = check_int("data_bits", data_bits, low=1, high=63)
    words = np.asarray(words, dtype=np.uint64)
    if words.shape[-1] < words_for(data_bits + 1):
        raise ValueError(f"{words.shape[-1]} words per payload cannot hold {data_bits + 1} bits")
    value = words[..., 0]
    if words.shape[-1] > 1:
        value = value | (words[..., 1] << np.uint64(32))
    last = ((words[..., data_bits // 32] >> np.uint64(data_bits % 32)) & np.uint64(1)).astype(bool)
    raw = (value & np.uint64((1 << data_bits) - 1)).astype(np.int64)
    half = np.int64(1 << (data_bits - 1))
    return (raw ^ half) - half, last


# --- build -----------------------------------------------------------------------------------

def cache_root(cache_dir: Path | None = None) -> Path:
    return Path(cache_dir) if cache_dir is not None else buildcache.cache_root()


def _default_jobs() -> int:
    text = os.environ.get("NEUROGATE_BUILD_JOBS", "2")
    try:
        return check_int("NEUROGATE_BUILD_JOBS", int(text), low=1)
    except ValueError:
        raise NeurogateError(f"NEUROGATE_BUILD_JOBS must be a positive integer, "
                             f"not {text!r}") from None


def _parameters(toplevel: str, in_bits: int, out_bits: int, trace: bool = False) -> dict:
    parameters = {"toplevel": toplevel, "in_bits": in_bits, "out_bits": out_bits,
                  "verilator": _package_version("verilator"),
                  "verilator_flags": list(VERILATOR_FLAGS), "make_flags": list(MAKE_FLAGS)}
    if trace:     # absent otherwise: the untraced build keeps its key
        parameters["trace_flags"] = list(TRACE_FLAGS)
    return parameters


def harness_key(verilog: bytes, toplevel: str, *, in_bits: int, out_bits: int,
                trace: bool = False) -> str:
    """The cache key: sha256 of the Verilog, the testbench, parameters, version, flags."""
    digest = hashlib.sha256()
    for part in (verilog, TB_SOURCE.read_bytes(),
                 json.dumps(_parameters(toplevel, in_bits, out_bits, trace),
                            sort_keys=True).encode()):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").rstrip().splitlines()
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text[-lines:])


def build(verilog: Path, toplevel: str, *, in_bits: int, out_bits: int,
          cache_dir: Path | None = None, jobs: int | None = None, trace: bool = False) -> Path:
    """Build (or find in the cache) the stream harness for ``verilog``; return the executable.

    ``trace`` builds it with VCD tracing (Verilator ``--trace``, ``-DNG_TRACE``): ``run``
    with ``vcd=`` then writes the waveforms of the first cycles after reset.

    ``in_bits``/``out_bits`` are the widths of ``i__payload``/``o__payload`` of module
    ``toplevel``.  Raises ``NeurogateError`` with the log path and its last lines when
    Verilator or the C++ compiler fails.
    """
    verilog = Path(verilog)
    if not isinstance(toplevel, str) or not toplevel.isidentifier():
        raise ValueError(f"toplevel must be a Verilog identifier, not {toplevel!r}")
    in_bits = check_int("in_bits", in_bits, low=1)
    out_bits = check_int("out_bits", out_bits, low=1)
    jobs = _default_jobs() if jobs is None else check_int("jobs", jobs, low=1)
    try:
        source = verilog.read_bytes()
    except OSError as error:
        raise NeurogateError(f"{verilog}: cannot be read ({error.strerror})") from None
    key = harness_key(source, toplevel, in_bits=in_bits, out_bits=out_bits, trace=trace)
    root = cache_root(cache_dir) / "verilator"
    final = root / key
    exe = final / EXECUTABLE
    if exe.is_file():
        return exe
    root.mkdir(parents=True, exist_ok=True)
    with buildcache.build_lock(root / f".{key}.lock"):
        if exe.is_file():     # another process built it while we waited
            return exe
        for stale in root.glob(f".{key[:16]}.*"):
            if stale.is_dir():    # left by a builder that was killed (we hold the lock)
                shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{key[:16]}.", dir=root))
        try:
            _build_in(work, source, toplevel, in_bits=in_bits, out_bits=out_bits, jobs=jobs,
                      failed_log=root / f"{key}.failed.log", trace=trace)
            (work / "harness.json").write_text(json.dumps(
                {**_parameters(toplevel, in_bits, out_bits, trace), "key": key,
                 "source": str(verilog)}, indent=2, sort_keys=True) + "\n")
            work.chmod(0o755)
            try:
                os.rename(work, final)
            except OSError:
                if not exe.is_file():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    (root / f"{key}.failed.log").unlink(missing_ok=True)
    return exe


def _build_in(work: Path, source: bytes, toplevel: str, *, in_bits: int, out_bits: int,
              jobs: int, failed_log: Path, trace: bool = False) -> None:
    # Build from copies, so the executable matches the bytes that were hashed.
    (work / "design.v").write_bytes(source)
    shutil.copyfile(TB_SOURCE, work / TB_SOURCE.name)
    # Two steps, so the port widths are checked before the C++ compiler runs.
    verilate = ["verilator", "--cc", "--exe", "--prefix", "Vtop", "--top-module", toplevel,
                "-Mdir", "obj", "-o", EXECUTABLE, *VERILATOR_FLAGS,
                *(TRACE_FLAGS if trace else ()),
                "-CFLAGS", f"-std=c++20 -DNG_IN_BITS={in_bits} -DNG_OUT_BITS={out_bits}"
                           + (" -DNG_TRACE" if trace else ""),
                TB_SOURCE.name, "design.v"]
    make = ["make", f"-j{jobs}", "-C", "obj", "-f", "Vtop.mk", *MAKE_FLAGS]
    log = work / "build.log"
    env = {**os.environ, **verilator_environment()}
    started = time.perf_counter()

    def fail(status) -> NeurogateError:
        shutil.copyfile(log, failed_log)
        return NeurogateError(f"Verilator build of {toplevel} failed (exit status {status}); "
                              f"log: {failed_log}; last lines:\n{_tail(failed_log)}")

    with open(log, "w") as handle:
        for command in (verilate, make):
            handle.write(" ".join(command) + "\n\n")
            handle.flush()
            try:
                status = subprocess.run(command, cwd=work, stdout=handle,
                                        stderr=subprocess.STDOUT, env=env).returncode
            except OSError as error:
                status = f"cannot start {command[0]}: {error.strerror}"
                handle.write(status + "\n")
            if status != 0:
                handle.close()
                raise fail(status)
            if command is verilate:
                _check_widths(work / "obj" / "Vtop.h", toplevel, {"i": in_bits, "o": out_bits})
        handle.write(f"\nbuild seconds: {time.perf_counter() - started:.1f}\n")
    built = work / "obj" / EXECUTABLE
    if not built.is_file():
        raise fail(0)
    os.replace(built, work / EXECUTABLE)
    shutil.rmtree(work / "obj", ignore_errors=True)


def _check_widths(header: Path, toplevel: str, widths: dict[str, int]) -> None:
    """The payload ports must be exactly as wide as the harness was told (a narrower
    port would silently drop bits)."""
    text = header.read_text(errors="replace")
    for port, bits in widths.items():
        found = re.search(rf"VL_(?:IN|OUT)\w*\(&{port}___05Fpayload,(\d+),0", text)
        if found is None:
            raise NeurogateError(f"module {toplevel} has no {port}__payload port")
        if int(found.group(1)) + 1 != bits:
            name = "in_bits" if port == "i" else "out_bits"
            raise NeurogateError(f"{port}__payload of module {toplevel} is "
                                 f"{int(found.group(1)) + 1} bits wide, not {name}={bits}")


# --- run -------------------------------------------------------------------------------------

def harness_info(exe: Path) -> dict:
    """The parameters an executable was built with (its ``harness.json``)."""
    path = Path(exe).with_name("harness.json")
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        raise NeurogateError(f"{path}: missing or damaged; build the harness again") from None


def _as_words(inputs, in_bits: int, chunks: int) -> np.ndarray:
    n_words = words_for(in_bits)
    array = np.asarray(inputs)
    if array.dtype == object or array.ndim == 2:
        if array.ndim != 2 or array.shape[1] != chunks:
            raise ValueError(f"inputs must be (vectors, {chunks}) payload integers, "
                             f"not shape {array.shape}")
        return ints_to_words(array, in_bits)
    if array.ndim != 3 or array.shape[1:] != (chunks, n_words):
        raise ValueError(f"packed inputs must be (vectors, {chunks}, {n_words}) uint32 words, "
                         f"not shape {array.shape}")
    if array.dtype.kind not in "iu" or (array.size and (array.min() < 0 or array.max() >> 32)):
        raise ValueError("packed inputs must be uint32 words")
    words = np.ascontiguousarray(array, dtype="<u4")
    spare = in_bits % 32
    if spare and words.size and (words[..., -1] >> np.uint32(spare)).any():
        raise ValueError(f"packed inputs set bits above the {in_bits}-bit payload")
    return words


def run(exe: Path, inputs, *, chunks: int, outputs: int, timeout_cycles: int,
        work: Path, pipelined: bool = False, vcd: Path | None = None,
        vcd_cycles: int = TRACE_DEFAULT_CYCLES, echoes=(), echo_bits: int = 0) -> HarnessResult:
    """Stream ``inputs`` through the design: ``chunks`` input transfers, then ``outputs``
    output transfers per vector, the next vector after the last output (``pipelined``:
    right after the last input chunk, for designs that take a new input every clock).
    ``vcd`` (an executable built with ``trace=True``) writes the waveforms of the first
    ``vcd_cycles`` clock cycles after reset to that file.  ``echoes`` are ``(chunk,
    output, length)`` runs: input chunks ``chunk ..< chunk + length`` of each vector are
    that vector's outputs ``output ..< output + length`` (their low ``echo_bits`` bits),
    offered once they have arrived, the way a host returns what a design stored
    (``compiler/backends/engine/host.py``); the words of ``inputs`` there are ignored.

    ``inputs`` is (vectors, chunks) of payload integers or, faster, (vectors, chunks,
    ceil(in_bits / 32)) uint32 words (``pack_vectors``).  Raises ``NeurogateError`` when no
    output arrives for ``timeout_cycles`` cycles while one is outstanding (naming the
    vector, the cycle and the last handshake), or when outputs come before a vector's
    inputs are all in.
    """
    started = time.perf_counter()
    exe = Path(exe)
    chunks = check_int("chunks", chunks, low=1, high=2**32 - 1)
    outputs = check_int("outputs", outputs, low=1, high=2**32 - 1)
    timeout_cycles = check_int("timeout_cycles", timeout_cycles, low=1, high=2**32 - 1)
    info = harness_info(exe)
    in_bits, out_bits = info["in_bits"], info["out_bits"]
    env = None
    if vcd is not None:
        if "trace_flags" not in info:
            raise NeurogateError(f"{exe} was built without tracing; build it with trace=True "
                                 "to write a VCD")
        vcd_cycles = check_int("vcd_cycles", vcd_cycles, low=1)
        env = {**os.environ, "NG_TRACE_VCD": str(Path(vcd).resolve()),
               "NG_TRACE_CYCLES": str(vcd_cycles)}
    words = _as_words(inputs, in_bits, chunks)
    vectors = words.shape[0]
    if vectors >= 2**32:
        raise ValueError(f"at most {2**32 - 1} vectors per run, not {vectors}")
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    in_path, out_path = work / "inputs.bin", work / "outputs.bin"
    table = _echo_table(echoes, echo_bits, chunks=chunks, outputs=outputs, pipelined=pipelined)
    header = np.array([INPUT_MAGIC, in_bits, words_for(in_bits), chunks, outputs, vectors,
                       timeout_cycles, int(bool(pipelined)) | (2 if len(table) else 0)],
                      dtype="<u4")
    with open(in_path, "wb") as handle:
        handle.write(header.tobytes())
        handle.write(words.tobytes())
        handle.write(table.tobytes())
    out_path.unlink(missing_ok=True)
    done = subprocess.run([str(exe), str(in_path), str(out_path)], capture_output=True,
                          text=True, env=env)
    if done.returncode not in (0, 1) or not out_path.is_file():
        raise NeurogateError(f"{exe} failed (exit status {done.returncode}): "
                             f"{done.stderr.strip() or 'no message'}")
    head = np.fromfile(out_path, "<u8", count=len(OUTPUT_HEADER))
    if len(head) != len(OUTPUT_HEADER) or head[0] != OUTPUT_MAGIC:
        raise NeurogateError(f"{out_path}: not a harness output file")
    head = dict(zip(OUTPUT_HEADER, head.tolist()))
    if head["status"]:
        raise NeurogateError(_failure(head, chunks=chunks, outputs=outputs,
                                      timeout=timeout_cycles))
    n, out_words = head["done"], head["out_words"]
    offset = 8 * len(OUTPUT_HEADER)
    cycles = np.fromfile(out_path, "<u8", count=n, offset=offset).astype(np.int64)
    payload = np.fromfile(out_path, "<u4", count=n * outputs * out_words, offset=offset + 8 * n)
    if n != vectors or len(cycles) != n or len(payload) != n * outputs * out_words:
        raise NeurogateError(f"{out_path}: truncated ({n} of {vectors} vectors)")
    return HarnessResult(words=payload.reshape(n, outputs, out_words), cycles=cycles,
                         total_cycles=head["total_cycles"],
                         seconds=time.perf_counter() - started,
                         sim_seconds=head["sim_ns"] / 1e9, out_bits=out_bits)


def _echo_table(echoes, echo_bits: int, *, chunks: int, outputs: int,
                pipelined: bool) -> np.ndarray:
    """The input file's echo table (empty without echoes), the runs checked."""
    runs = [tuple(int(v) for v in run) for run in echoes]
    if not runs:
        return np.zeros(0, dtype="<u4")
    if pipelined:
        raise ValueError("echoes need the unpipelined protocol (pipelined=False)")
    echo_bits = check_int("echo_bits", echo_bits, low=1, high=2**32 - 1)
    end = 0
    for chunk, output, length in runs:
        if length < 1 or chunk < end or chunk + length > chunks or output < 0 \
                or output + length > outputs:
            raise ValueError(f"echo ({chunk}, {output}, {length}): runs must be in chunk "
                             f"order, within the {chunks} chunks and {outputs} outputs")
        end = chunk + length
    return np.array([len(runs), echo_bits, *(v for run in runs for v in run)], dtype="<u4")


def _failure(head: dict, *, chunks: int, outputs: int, timeout: int) -> str:
    kind = head["last_kind"]
    if kind == 1:
        last = (f"input chunk {head['last_index']} of vector {head['last_vector']} "
                f"at cycle {head['last_cycle']}")
    elif kind == 2:
        last = (f"output {head['last_index']} of vector {head['last_vector']} "
                f"at cycle {head['last_cycle']}")
    else:
        last = "none"
    v, cycle = head["fail_vector"], head["fail_cycle"]
    progress = (f"{head['fail_chunks']} of {chunks} input chunks, "
                f"{head['fail_outputs']} of {outputs} outputs")
    if head["status"] == _STATUS_HANG:
        return (f"vector {v}: no output for {timeout} cycles (cycle {cycle}; {progress}; "
                f"last handshake: {last})")
    return (f"vector {v}: output {head['fail_outputs'] - 1} came at cycle {cycle} after only "
            f"{progress.split(',')[0]} (last handshake: {last})")
