"""A compiled engine program and its host side: the host stream that carries program,
weights, inputs and echoed spills, and the decoding of the output stream.

The output stream of one inference run is the STOREs' words in program order: the bands
of spilled tensors as they are made, the graph outputs band by band or whole at the end
(``EngineProgram.stores`` says which words are which).  A LOAD of a spilled tensor reads
words the engine stored earlier in the same run; in the host stream they are ``Echo``
entries, which the host (the instruction-level simulator, the Verilator harness) fills
with the output word of that index once it has arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ....hw.engine import isa
from ....hw.engine.command import CommandUnit
from ....hw.engine.config import EngineConfig
from ....hw.engine.isa import Memory, Opcode
from ....numerics.errors import NeurogateError
from ....numerics.formats import IntFormat
from ....sim.engine.cycles import program_cycles
from ....sim.engine.iss import Echo
from .layout import pack_images, unpack_images
from .lower import Tensor


@dataclass
class Load:
    """A LOAD and the memory words it reads from the host stream: literal ``words``
    (weights, biases), or ``count`` words of ``source`` from word ``offset``: a graph
    input's packed words, or a spilled tensor's, echoed from output positions ``echo``
    (``(first output word of the run, count)`` pieces)."""

    mem: Memory
    addr: int
    words: list[int] | None
    count: int
    source: str | None = None
    offset: int = 0
    echo: list[tuple[int, int]] | None = None


@dataclass
class EngineProgram:
    config: EngineConfig
    batch: int
    resident: bool
    instructions: list[int] = field(default_factory=list)
    loads: list[tuple[int, Load]] = field(default_factory=list)   # (pc, load)
    stores: list[tuple[str, int, int]] = field(default_factory=list)  # storage, offset, count
    inference_pc: int = 0
    tensors: dict[str, Tensor] = field(default_factory=dict)
    bases: dict[str, int] = field(default_factory=dict)
    offchip: set[str] = field(default_factory=set)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    layer_pcs: list[tuple[str, int]] = field(default_factory=list)  # each step's first pc
    spad_peak: int = 0
    wbuf_used: int = 0
    useful_macs: int = 0          # per image

    # --- pages ------------------------------------------------------------------------------

    @property
    def paged(self) -> bool:
        """The program is longer than the engine's program memory: each run sends it in
        pages (PROGRAM, RUN) instead of once."""
        return len(self.instructions) > self.config.prog_words

    @property
    def pages(self) -> int:
        """Program pages per inference run (1: the program is sent once)."""
        return len(self._pages(self.inference_pc, len(self.instructions))) if self.paged else 1

    def _pages(self, start: int, stop: int) -> list[tuple[range, list[int]]]:
        """The section ``[start, stop)`` cut into pages that fit the program memory:
        each page's pcs and instruction words, every page but the last closed by an END
        (the section's own END closes the last)."""
        room = self.config.prog_words if stop - start <= self.config.prog_words \
            else self.config.prog_words - 1
        pages = []
        for a in range(start, stop, room):
            pcs = range(a, min(a + room, stop))
            words = self.instructions[pcs.start:pcs.stop]
            if pcs.stop != stop:
                words = words + [isa.encode(Opcode.END, wait=isa.WAIT_ALL)]
            pages.append((pcs, words))
        return pages

    def _program_command(self, words: list[int]) -> list[int]:
        c = self.config
        out = [isa.command(isa.Command.PROGRAM, count=len(words), signature=c.signature)]
        for ins in words:
            out += isa.words_of(ins, isa.INSTR_BITS, c)
        return out

    def _section(self, start: int, stop: int, packed, first_output: int) -> list:
        """A section of the program as runs: one RUN from ``start`` when the program is
        sent once, else each page's PROGRAM and RUN; every run followed by its loads'
        data."""
        pages = self._pages(start, stop) if self.paged else [(range(start, stop), [])]
        out: list = []
        for pcs, words in pages:
            if self.paged:
                out += self._program_command(words)
            out.append(isa.command(isa.Command.RUN, pc=0 if self.paged else start))
            for pc, load in self.loads:
                if pc in pcs:
                    out += self._load_words(load, packed, first_output)
        return out

    def page_cycles(self, start: int, stop: int) -> int:
        """Cycles of a section by the cycle model: its runs, and each page's PROGRAM
        words (one a cycle) when it is paged."""
        if not self.paged:
            return program_cycles(self.config, self.instructions[start:stop])
        return sum(program_load_cycles(self._program_command(words))
                   + program_cycles(self.config, words)
                   for _, words in self._pages(start, stop))

    @property
    def page_words(self) -> int:
        """Host words of the PROGRAM commands one inference run sends (0: not paged)."""
        if not self.paged:
            return 0
        return sum(len(self._program_command(words))
                   for _, words in self._pages(self.inference_pc, len(self.instructions)))

    @property
    def run_cycles(self) -> int:
        """Cycles of one inference run by the cycle model, from its first host word."""
        return self.page_cycles(self.inference_pc, len(self.instructions))

    @property
    def setup_cycles(self) -> int:
        return self.page_cycles(0, self.inference_pc) if self.resident else 0

    # --- host stream ------------------------------------------------------------------------

    def program_stream(self) -> list[int]:
        """The PROGRAM command and the instruction words, sent once (empty when the
        program is paged: each run sends its pages)."""
        return [] if self.paged else self._program_command(self.instructions)

    def _load_words(self, load: Load, packed: dict[str, list[int]], first_output: int) -> list:
        c = self.config
        if load.echo is not None:
            return [Echo(first_output + at + k) for at, count in load.echo for k in range(count)]
        bits = {Memory.SPAD: c.spad_bits, Memory.WBUF: c.wbuf_bits, Memory.BIAS: c.bias_bits}
        values = load.words if load.source is None else \
            packed[load.source][load.offset:load.offset + load.count]
        out = []
        for v in values:
            out += isa.words_of(v, bits[load.mem], c)
        return out

    def setup_stream(self) -> list[int]:
        """Resident weights: the setup section's run(s) and data (empty if streamed)."""
        return self._section(0, self.inference_pc, {}, 0) if self.resident else []

    def inference_stream(self, inputs: dict[str, np.ndarray], first_output: int = 0) -> list:
        """The inference section's run(s) and data for one batch of ``inputs``; spilled
        words are ``Echo`` entries counted from output word ``first_output`` (the words
        the stream's earlier runs output)."""
        packed = {}
        for name in self.inputs:
            x = np.asarray(inputs[name])
            if x.shape[0] != self.batch:
                raise NeurogateError(f"input {name!r}: the program runs batches of "
                                     f"{self.batch}, not {x.shape[0]}")
            packed[name] = pack_images(x, self.tensors[name].layout, self.config)
        return self._section(self.inference_pc, len(self.instructions), packed, first_output)

    def host_stream(self, batches: list[dict[str, np.ndarray]], first_output: int = 0) -> list:
        words = self.program_stream() + self.setup_stream()
        for k, inputs in enumerate(batches):
            words += self.inference_stream(inputs, first_output + k * self.output_words)
        return words

    @property
    def output_words(self) -> int:
        """Output-stream words per batch (spilled bands included)."""
        return sum(count for _, _, count in self.stores)

    @property
    def spill_words(self) -> tuple[int, int]:
        """Scratchpad words per run stored to the host as spills and loaded back."""
        outs = {self.tensors[o].storage for o in self.outputs}
        stored = sum(n for s, _, n in self.stores if s not in outs)
        loaded = sum(load.count for pc, load in self.loads if load.echo is not None)
        return stored, loaded

    def _assemble(self, words: list[int], storage: str) -> list[int]:
        """A stored tensor's words (all images, every plane) from one run's output."""
        t = self.tensors[storage]
        out: list = [None] * (t.layout.words * t.planes * self.batch)
        at = 0
        for name, offset, count in self.stores:
            if name == storage:
                out[offset:offset + count] = words[at:at + count]
            at += count
        return out

    def decode_outputs(self, words: list[int]) -> dict[str, np.ndarray]:
        """One batch's output words (in STORE order) as arrays by output name; a wide
        value's byte planes are put back together and wrapped to its format's width."""
        out = {}
        lanes = self.config.lane_bits
        for name in self.outputs:
            t = self.tensors[name]
            whole = self._assemble(words, t.storage)
            count = t.layout.words * self.batch
            if t.planes == 1:
                out[name] = unpack_images(whole, t.layout, t.fmt, t.shape, self.config)
                continue
            raw = IntFormat(lanes, signed=False)
            value = sum(unpack_images(whole[k * count:(k + 1) * count], t.layout, raw,
                                      t.shape, self.config) << (k * lanes)
                        for k in range(t.planes))
            width = t.fmt.width
            value &= (1 << width) - 1
            out[name] = np.where(value >= 1 << (width - 1), value - (1 << width), value)
        return out

    def batches(self, given: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
        """Inputs (any count of images) cut into this program's batches, the last one
        padded by repeating its last image."""
        count = len(next(iter(given.values())))
        out = []
        for start in range(0, count, self.batch):
            batch = {}
            for name, x in given.items():
                part = np.asarray(x)[start:start + self.batch]
                if len(part) < self.batch:
                    part = np.concatenate([part, np.repeat(part[-1:], self.batch - len(part),
                                                           axis=0)])
                batch[name] = part
            out.append(batch)
        return out

    def decode_runs(self, words: list[int], count: int) -> dict[str, np.ndarray]:
        """The outputs of consecutive runs' output words, by name, cut to ``count`` images."""
        per = self.output_words
        runs = [self.decode_outputs(words[i * per:(i + 1) * per])
                for i in range(len(words) // per)]
        return {name: np.concatenate([r[name] for r in runs])[:count] for name in self.outputs}

    @property
    def weight_stream_words(self) -> int:
        """Host words of weights and biases per inference run (0 when resident)."""
        c = self.config
        bits = {Memory.WBUF: c.wbuf_bits, Memory.BIAS: c.bias_bits}
        return sum(load.count * c.host_words(bits[load.mem]) for pc, load in self.loads
                   if load.mem != Memory.SPAD and pc >= self.inference_pc)


def program_load_cycles(words: list[int]) -> int:
    """Cycles a PROGRAM command's host words (``words``) hold the engine's input, one word
    a cycle, before the next command is taken (0 for no words)."""
    return len(words) + CommandUnit.PROGRAM_TAIL if words else 0


def echo_table(stream: list) -> tuple[list[int], list[tuple[int, int, int]]]:
    """A host stream as plain words (0 where echoed) and its echoes as ``(word index,
    output index, count)`` runs, for a host that fills them in (the Verilator harness)."""
    words, runs = [], []
    for i, w in enumerate(stream):
        if isinstance(w, Echo):
            if runs and runs[-1][0] + runs[-1][2] == i and runs[-1][1] + runs[-1][2] == w.index:
                runs[-1] = (runs[-1][0], runs[-1][1], runs[-1][2] + 1)
            else:
                runs.append((i, w.index, 1))
            words.append(0)
        else:
            words.append(w)
    return words, runs
