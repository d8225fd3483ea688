"""Instruction-level simulator of the programmable engine (docs/isa.md).

It reads the same host stream the RTL reads (command words, program, the words each
LOAD consumes, ``Echo`` entries filled with its own earlier output words) and produces
the same output words, one ``(word, last)`` per STORE'd scratchpad word, or the same
error.  Bit-exact to the RTL by definition of the ISA: the
cocotb tests compare the two, and the compiler's tests compare it with the golden
interpreter.  No timing here (``sim.engine.cycles`` counts cycles).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...hw.engine import isa
from ...hw.engine.config import EngineConfig
from ...hw.engine.isa import Command, Error, Memory, Opcode
from ...numerics.rounding import Rounding
from ..golden.arith import round_shift

ROUNDINGS = list(Rounding)


@dataclass(frozen=True)
class Echo:
    """A host-stream entry that is output word ``index`` of the same stream (counted from
    the stream's start), sent back: how a host returns a spilled tensor to the engine."""

    index: int


class EngineError(RuntimeError):
    def __init__(self, code: Error, pc: int):
        super().__init__(f"engine error {code.name} at pc {pc}")
        self.code, self.pc = code, pc


@dataclass
class RunResult:
    outputs: list[tuple[int, bool]] = field(default_factory=list)
    error: Error = Error.NONE
    error_pc: int = 0
    instructions: int = 0


def signed_lanes(raw: np.ndarray, bits: int, unsigned: bool) -> np.ndarray:
    raw = raw.astype(np.int64)
    return raw if unsigned else np.where(raw >= 1 << (bits - 1), raw - (1 << bits), raw)


def wrap(values: np.ndarray, bits: int) -> np.ndarray:
    values = values & ((1 << bits) - 1)
    return np.where(values >= 1 << (bits - 1), values - (1 << bits), values)


class EngineSim:
    """One engine's memories and program; ``run(host_words)`` consumes a host stream."""

    def __init__(self, config: EngineConfig):
        self.config = c = config
        n = c.array
        self.spad = np.zeros((c.spad_words, n), dtype=np.int64)     # raw lane bits
        self.wbuf = np.zeros((n, c.wbuf_words, n), dtype=np.int64)  # [col, word, row]
        self.bias = np.zeros((c.bias_words, n), dtype=np.int64)
        self.program = [0] * c.prog_words
        self.has_program = False
        self.error = Error.NONE
        self.error_pc = 0

    # --- host stream ---------------------------------------------------------------------

    def run(self, host_words) -> RunResult:
        """Consume every word of ``host_words`` (commands and LOAD data)."""
        self._words = iter(host_words)
        result = RunResult()
        self._result = result
        for word in self._words:
            if self.error:
                continue                       # an engine in error drains its input
            cmd = word & 0xF
            if cmd == Command.PROGRAM:
                self._program(word)
            elif cmd == Command.RUN:
                self._execute((word >> 4) & 0xFFFF)
            else:
                self._fail(Error.BAD_COMMAND, 0)
        result.error, result.error_pc = self.error, self.error_pc
        return result

    def _next(self) -> int:
        try:
            word = next(self._words)
        except StopIteration:
            raise EOFError("the host stream ended inside a LOAD or a PROGRAM") from None
        if isinstance(word, Echo):
            outputs = self._result.outputs
            if word.index >= len(outputs):
                raise EOFError(f"the host stream echoes output word {word.index} when only "
                               f"{len(outputs)} have been output")
            word = outputs[word.index][0]
        return word

    def _memory_word(self, bits: int) -> int:
        value = 0
        for i in range(self.config.host_words(bits)):
            value |= (self._next() & ((1 << self.config.host_bits) - 1)) \
                << (i * self.config.host_bits)
        return value & ((1 << bits) - 1)

    def _program(self, word: int):
        count, signature = (word >> 4) & 0xFFFF, (word >> 32) & 0xFFFFFFFF
        ok = signature == self.config.signature and count <= self.config.prog_words
        for i in range(count):
            value = self._memory_word(isa.INSTR_BITS)
            if ok:
                self.program[i] = value
        if ok:
            self.has_program = True
        else:
            self._fail(Error.BAD_SIGNATURE, 0)

    def _fail(self, code: Error, pc: int):
        if not self.error:
            self.error, self.error_pc = code, pc

    # --- execution -----------------------------------------------------------------------

    def _execute(self, pc: int):
        if not self.has_program:
            return self._fail(Error.NO_PROGRAM, pc)
        while True:
            if pc >= self.config.prog_words:
                return self._fail(Error.PC_OVERFLOW, pc)
            ins = isa.decode(self.program[pc])
            verdict = isa.check(ins, self.config)
            if verdict:
                return self._fail(verdict, pc)
            self._result.instructions += 1
            if ins.op is Opcode.END:
                return
            getattr(self, "_" + ins.op.name.lower())(ins.fields)
            pc += 1

    def _sync(self, f):
        pass

    def _load(self, f):
        c, n = self.config, self.config.array
        for j in range(f["count"]):
            if f["mem"] == Memory.SPAD:
                word = self._memory_word(c.spad_bits)
                self.spad[f["addr"] + j] = [(word >> (i * c.lane_bits)) & ((1 << c.lane_bits) - 1)
                                            for i in range(n)]
            elif f["mem"] == Memory.WBUF:
                word = self._memory_word(c.wbuf_bits)
                lanes = [(word >> (i * c.weight_bits)) & ((1 << c.weight_bits) - 1)
                         for i in range(n)]
                self.wbuf[j % n, f["addr"] + j // n] = signed_lanes(np.array(lanes),
                                                                    c.weight_bits, False)
            else:
                word = self._memory_word(c.bias_bits)
                lanes = [(word >> (i * c.acc_bits)) & ((1 << c.acc_bits) - 1) for i in range(n)]
                self.bias[f["addr"] + j] = signed_lanes(np.array(lanes), c.acc_bits, False)

    def _store(self, f):
        c = self.config
        for j in range(f["count"]):
            lanes = self.spad[f["addr"] + j]
            word = sum(int(v) << (i * c.lane_bits) for i, v in enumerate(lanes))
            self._result.outputs.append((word, bool(f["last"]) and j == f["count"] - 1))

    def _output_stage(self, values: np.ndarray, f) -> np.ndarray:
        """``clip(round_shift(v << lshift, rshift, rounding), lo, hi)`` as raw lanes (no
        clip when ``wrap``: the low bits are kept)."""
        values = np.asarray(values, dtype=np.int64) << f["lshift"]
        values = np.asarray(round_shift(values, f["rshift"], ROUNDINGS[f["rounding"]]))
        if not f["wrap"]:
            values = np.minimum(np.maximum(values, f["lo"]), f["hi"])
        values = values.astype(np.int64)
        return values & ((1 << self.config.lane_bits) - 1)

    def _window(self, f):
        """Addresses ``(oh, ow, tiles, kh*kw*chunks)`` and their in-bounds mask."""
        oy, ox, t, ky, kx, ch = np.meshgrid(
            np.arange(f["oh"]), np.arange(f["ow"]), np.arange(f["tiles"]),
            np.arange(f["kh"]), np.arange(f["kw"]), np.arange(f["chunks"]), indexing="ij")
        addr = (f["a_start"] + oy * f["a_oy"] + ox * f["a_ox"] + t * f["a_t"]
                + ky * f["a_ky"] + kx * f["a_kx"] + ch) % (1 << isa.ADDR_BITS)
        addr %= self.config.spad_words
        iy = oy * f["sy"] - f["pt"] + ky * f["dy"]
        ix = ox * f["sx"] - f["pl"] + kx * f["dx"]
        real = (iy >= 0) & (iy < f["ih"]) & (ix >= 0) & (ix < f["iw"])
        shape = (f["oh"], f["ow"], f["tiles"], -1)
        return addr.reshape(shape), real.reshape(shape)

    def _outputs(self, f) -> np.ndarray:
        oy, ox, t = np.meshgrid(np.arange(f["oh"]), np.arange(f["ow"]), np.arange(f["tiles"]),
                                indexing="ij")
        return (f["o_base"] + oy * f["o_oy"] + ox * f["o_ox"] + t) % (1 << isa.ADDR_BITS) \
            % self.config.spad_words

    def _matmul(self, f):
        c = self.config
        addr, real = self._window(f)
        acts = signed_lanes(self.spad[addr], c.lane_bits, f["a_unsigned"])
        if f["wide"]:      # chunks < chunks/2: low bytes (unsigned); the rest: high bytes
            low = (np.arange(addr.shape[-1]) % f["chunks"]) < f["chunks"] // 2
            acts = np.where(low[:, None], self.spad[addr], acts << c.lane_bits)
        acts = acts * real[..., None]                                   # (oh, ow, T, K, N)
        k = addr.shape[-1]
        w_addr = (f["w_base"] + np.arange(f["tiles"])[:, None] * k + np.arange(k)[None, :]) \
            % c.wbuf_words
        weights = self.wbuf[:, w_addr, :]                               # (col, T, K, row)
        acc = np.einsum("yxtkc,ctkr->yxtr", acts, weights)
        bias = self.bias[(f["b_base"] + np.arange(f["tiles"])) % c.bias_words]   # (T, row)
        values = wrap(acc + bias[None, None], c.acc_bits)
        self.spad[self._outputs(f)] = self._output_stage(values, f)

    def _pool(self, f):
        c = self.config
        addr, real = self._window(f)
        vals = signed_lanes(self.spad[addr], c.lane_bits, f["a_unsigned"])  # (oh,ow,T,K,N)
        mask = real[..., None]
        if f["pool_max"]:
            low = np.iinfo(np.int64).min
            best = np.where(mask, vals, low).max(axis=3)
            values = np.where(best == low, 0, best)
        else:
            values = (vals * mask).sum(axis=3)
        self.spad[self._outputs(f)] = self._output_stage(values, f)

    def _add(self, f):
        c = self.config
        idx = np.arange(f["count"])
        a = signed_lanes(self.spad[(f["a_base"] + idx) % c.spad_words], c.lane_bits,
                         f["a_unsigned"])
        b = signed_lanes(self.spad[(f["b_base"] + idx) % c.spad_words], c.lane_bits,
                         f["b_unsigned"])
        values = (a << f["la"]) + (b << f["lb"])
        self.spad[(f["o_base"] + idx) % c.spad_words] = self._output_stage(values, f)
