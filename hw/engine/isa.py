"""The engine's instruction set, defined once (docs/isa.md has the table and the meaning).

Every instruction is one ``INSTR_BITS``-bit word: a 4-bit opcode, 3 wait bits, then the
opcode's fields, packed from bit 0 upwards in the order listed in ``FIELDS``.  From that
one table come

* ``layout(op)``: the ``amaranth.lib.data.StructLayout`` the RTL decoder views the word
  with;
* ``encode``: what the compiler writes;
* ``decode``: what the instruction-level simulator (``sim.engine``) reads;
* ``check``: the malformed-word rules, which the RTL decoder implements bit for bit
  (``hw.engine.decoder``) and the simulator applies.

Field widths do not depend on the engine's size; a program is tied to one engine by the
signature in its header instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from .config import EngineConfig

INSTR_BITS = 384
OPCODE_BITS = 4
ADDR_BITS = 20       # scratchpad addresses and address steps (modulo 2**20)
COUNT_BITS = 20
DIM_BITS = 12        # loop bounds and image sizes
KERNEL_BITS = 4      # kernel size, stride, dilation, padding
LIMIT_BITS = 17      # clip bounds: any signed or unsigned lane of up to 16 bits
MAX_LSHIFT = 15      # output stage: left shift 0..15, right shift 0..63
RSHIFT_BITS = 6


class Opcode(enum.IntEnum):
    """0 and 8..15 are illegal (an all-zero word is never a valid instruction)."""

    LOAD = 1     # host stream -> scratchpad, weight buffer or bias memory (load unit)
    STORE = 2    # scratchpad -> output stream (store unit)
    MATMUL = 3   # window loop on the systolic array, bias, output stage (exec unit)
    POOL = 4     # window loop on the vector unit: max or sum, output stage (exec unit)
    ADD = 5      # elementwise sum of two tensors, output stage (exec unit)
    SYNC = 6     # only waits (its wait bits)
    END = 7      # waits for every unit, then the run is over


class Unit(enum.IntEnum):
    """Wait bit ``i`` (field ``wait``) waits until unit ``i`` is idle before issuing."""

    LOAD = 0
    EXEC = 1
    STORE = 2


WAIT_ALL = 0b111


class Memory(enum.IntEnum):
    """``LOAD.mem``; 3 is illegal."""

    SPAD = 0
    WBUF = 1
    BIAS = 2


class Error(enum.IntEnum):
    """``status.error`` codes (sticky until reset)."""

    NONE = 0
    ILLEGAL_OPCODE = 1   # opcode 0 or 8..15
    BAD_FIELD = 2        # a field out of its range (zero loop bound, mem 3, shift)
    BAD_RANGE = 3        # a LOAD or STORE runs past the end of its memory
    BAD_SIGNATURE = 4    # a PROGRAM header for another engine (the program is not written)
    NO_PROGRAM = 5       # RUN before any program was accepted
    PC_OVERFLOW = 6      # the program counter ran past the program memory
    BAD_COMMAND = 7      # an unknown host command word


U, S = False, True
_HEADER = [("opcode", OPCODE_BITS, U), ("wait", 3, U)]
_OUTPUT_STAGE = [("lshift", 4, U), ("rshift", RSHIFT_BITS, U), ("rounding", 3, U),
                 ("lo", LIMIT_BITS, S), ("hi", LIMIT_BITS, S), ("wrap", 1, U)]
_WINDOW = [
    ("oh", DIM_BITS, U), ("ow", DIM_BITS, U), ("tiles", DIM_BITS, U),
    ("kh", KERNEL_BITS, U), ("kw", KERNEL_BITS, U), ("chunks", DIM_BITS, U),
    ("ih", DIM_BITS, U), ("iw", DIM_BITS, U),
    ("sy", KERNEL_BITS, U), ("sx", KERNEL_BITS, U), ("dy", KERNEL_BITS, U),
    ("dx", KERNEL_BITS, U), ("pt", KERNEL_BITS, U), ("pl", KERNEL_BITS, U),
    ("a_start", ADDR_BITS, U), ("a_oy", ADDR_BITS, U), ("a_ox", ADDR_BITS, U),
    ("a_t", ADDR_BITS, U), ("a_ky", ADDR_BITS, U), ("a_kx", ADDR_BITS, U),
    ("o_base", ADDR_BITS, U), ("o_oy", ADDR_BITS, U), ("o_ox", ADDR_BITS, U),
    ("w_base", 16, U), ("b_base", 12, U), ("a_unsigned", 1, U), ("pool_max", 1, U),
]

#: Fields of each opcode after the header, low bits first: (name, bits, signed).
FIELDS: dict[Opcode, list[tuple[str, int, bool]]] = {
    Opcode.LOAD: [("mem", 2, U), ("addr", ADDR_BITS, U), ("count", COUNT_BITS, U)],
    Opcode.STORE: [("addr", ADDR_BITS, U), ("count", COUNT_BITS, U), ("last", 1, U)],
    Opcode.MATMUL: _WINDOW + _OUTPUT_STAGE + [("wide", 1, U)],
    Opcode.POOL: _WINDOW + _OUTPUT_STAGE,
    Opcode.ADD: [("a_base", ADDR_BITS, U), ("b_base", ADDR_BITS, U), ("o_base", ADDR_BITS, U),
                 ("count", COUNT_BITS, U), ("a_unsigned", 1, U), ("b_unsigned", 1, U),
                 ("la", 4, U), ("lb", 4, U)] + _OUTPUT_STAGE,
    Opcode.SYNC: [],
    Opcode.END: [],
}


def _all_fields(op: Opcode) -> list[tuple[str, int, bool]]:
    return _HEADER + FIELDS[op]


for _op in Opcode:
    assert sum(b for _, b, _ in _all_fields(_op)) <= INSTR_BITS, _op


def layout(op: Opcode) -> data.StructLayout:
    """The RTL's view of an instruction word with opcode ``op`` (``INSTR_BITS`` wide)."""
    members = {name: (signed(bits) if sgn else unsigned(bits))
               for name, bits, sgn in _all_fields(op)}
    used = sum(b for _, b, _ in _all_fields(op))
    members["_unused"] = unsigned(INSTR_BITS - used)
    return data.StructLayout(members)


def header_layout() -> data.StructLayout:
    return layout(Opcode.SYNC)


class EncodeError(ValueError):
    """A field value does not fit its bits (names the opcode and the field)."""


def encode(op: Opcode, **values) -> int:
    """The instruction word; missing fields are 0 (``wait`` too)."""
    op = Opcode(op)
    word, offset = 0, 0
    names = {name for name, _, _ in _all_fields(op)}
    extra = set(values) - names
    if extra:
        raise EncodeError(f"{op.name} has no field {sorted(extra)[0]!r}")
    values = {**values, "opcode": int(op)}
    for name, bits, sgn in _all_fields(op):
        value = int(values.get(name, 0))
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if sgn else (0, (1 << bits) - 1)
        if not low <= value <= high:
            raise EncodeError(f"{op.name}.{name} = {value} does not fit {bits} "
                              f"{'signed' if sgn else 'unsigned'} bits")
        word |= (value & ((1 << bits) - 1)) << offset
        offset += bits
    return word


@dataclass(frozen=True)
class Instruction:
    op: int                 # the raw opcode (an ``Opcode`` when legal)
    fields: dict

    def __getattr__(self, name):
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None


def decode(word: int) -> Instruction:
    """Fields of ``word``; an illegal opcode gives only the header fields."""
    raw = word & ((1 << OPCODE_BITS) - 1)
    op = Opcode(raw) if raw in Opcode._value2member_map_ else None
    fields, offset = {}, 0
    for name, bits, sgn in _all_fields(op if op else Opcode.SYNC):
        value = (word >> offset) & ((1 << bits) - 1)
        if sgn and value >> (bits - 1):
            value -= 1 << bits
        fields[name] = value
        offset += bits
    return Instruction(op if op else raw, fields)


def check(ins: Instruction, config: EngineConfig) -> Error:
    """The decoder's verdict on one instruction (``Error.NONE`` when it may run)."""
    if not isinstance(ins.op, Opcode):
        return Error.ILLEGAL_OPCODE
    f = ins.fields
    if ins.op is Opcode.LOAD:
        if f["mem"] == 3:
            return Error.BAD_FIELD
        if f["count"] == 0:
            return Error.BAD_FIELD
        if f["mem"] == Memory.WBUF:
            end, depth = f["addr"] + -(-f["count"] // config.array), config.wbuf_words
        else:
            depth = config.spad_words if f["mem"] == Memory.SPAD else config.bias_words
            end = f["addr"] + f["count"]
        return Error.BAD_RANGE if end > depth else Error.NONE
    if ins.op is Opcode.STORE:
        if f["count"] == 0:
            return Error.BAD_FIELD
        return Error.BAD_RANGE if f["addr"] + f["count"] > config.spad_words else Error.NONE
    if ins.op in (Opcode.MATMUL, Opcode.POOL):
        if 0 in (f["oh"], f["ow"], f["tiles"], f["kh"], f["kw"], f["chunks"]):
            return Error.BAD_FIELD
        if ins.op is Opcode.MATMUL and f["wide"] and f["chunks"] % 2:
            return Error.BAD_FIELD
    if ins.op is Opcode.ADD and f["count"] == 0:
        return Error.BAD_FIELD
    return Error.NONE


class Command(enum.IntEnum):
    """Host command words, read while no program runs (docs/isa.md, "Host protocol")."""

    PROGRAM = 1   # bits 4..19: instruction count; bits 32..63: the engine's signature
    RUN = 2       # bits 4..19: first pc


def command(cmd: Command, *, count: int = 0, pc: int = 0, signature: int = 0) -> int:
    if cmd is Command.PROGRAM:
        return int(cmd) | (count << 4) | (signature << 32)
    return int(cmd) | (pc << 4)


def words_of(value: int, bits: int, config: EngineConfig) -> list[int]:
    """``value`` (``bits`` wide) as host-stream words, low word first."""
    mask = (1 << config.host_bits) - 1
    return [(value >> (i * config.host_bits)) & mask for i in range(config.host_words(bits))]
