"""A byte-addressed register file of named fields, written and read over a register bus.

The register bus is the synchronous interface between a bus target (``hw.i2c.I2CTarget``)
and a register file: the target drives the 16-bit address, the write data with a
one-cycle write strobe and a read request; the register file answers ``addr_valid``
combinationally for the address on the bus and the read data one cycle after the read
request.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Shape, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int, is_integer

#: Width of a register address on the bus (the I2C target sends it as two bytes).
ADDR_BITS = 16


class RegisterBusSignature(wiring.Signature):
    """The register side of a bus target, seen from the target (the initiator).

    Members
    -------
    addr : Out(16)
        Byte address of the register accessed.
    w_data : Out(8)
        Byte to write; meaningful while ``w_stb``.
    w_stb : Out(1)
        One-cycle write strobe: write ``w_data`` to ``addr`` at this clock edge.
    r_stb : Out(1)
        Read request for ``addr``; ``r_data`` holds the byte from the next cycle on.
    r_data : In(8)
        Byte read, valid the cycle after ``r_stb`` (and held until the next ``r_stb``).
    addr_valid : In(1)
        Combinational: ``addr`` is inside the register map.
    """

    def __init__(self):
        super().__init__({
            "addr": Out(ADDR_BITS),
            "w_data": Out(8),
            "w_stb": Out(1),
            "r_stb": Out(1),
            "r_data": In(8),
            "addr_valid": In(1),
        })


@dataclass(frozen=True)
class Field:
    """One field of a register map: ``shape`` bits stored little-endian in ``size`` bytes
    from byte address ``address``."""

    name: str
    shape: Shape
    address: int
    init: int

    @property
    def size(self) -> int:
        return (self.shape.width + 7) // 8


def layout_fields(fields, *, base: int = 0, init=None) -> list[Field]:
    """Place ``fields`` (a list of ``(name, width)``; the width an ``int`` for unsigned
    fields, or an Amaranth ``Shape`` such as ``signed(12)``) in consecutive byte
    addresses from ``base``, each field in ``ceil(width / 8)`` bytes, little-endian.
    ``init`` maps field names to initial values (0 for the others)."""
    init = dict(init or {})
    base = check_int("base", base, low=0, high=(1 << ADDR_BITS) - 1)
    placed, names, address = [], set(), base
    for entry in fields:
        if not (isinstance(entry, tuple) and len(entry) == 2):
            raise ValueError(f"a register field must be a (name, width) pair, not {entry!r}")
        name, width = entry
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"register field name must be an identifier, not {name!r}")
        if name in names or name in _RESERVED_NAMES:
            raise ValueError(f"register field name {name!r} is used twice or reserved")
        shape = Shape.cast(width) if not is_integer(width) else unsigned(
            check_int(f"width of field {name!r}", width, low=1, high=64))
        check_int(f"width of field {name!r}", shape.width, low=1, high=64)
        value = init.pop(name, 0)
        low, high = ((-(1 << (shape.width - 1)), (1 << (shape.width - 1)) - 1) if shape.signed
                     else (0, (1 << shape.width) - 1))
        check_int(f"init of field {name!r}", value, low=low, high=high)
        field = Field(name, shape, address, int(value))
        if address + field.size > 1 << ADDR_BITS:
            raise ValueError(f"register field {name!r} ends past address 0xffff")
        placed.append(field)
        names.add(name)
        address += field.size
    if not placed:
        raise ValueError("a register file needs at least one field")
    if init:
        raise ValueError(f"init names fields that do not exist: {sorted(init)}")
    return placed


_RESERVED_NAMES = {"bus", "signature"}


class RegisterFile(wiring.Component):
    """Named fields behind a byte-wide register bus.

    Each field (see ``layout_fields``) is an output port of the same name and shape that
    holds the value written; the bytes of a field sit at consecutive addresses, least
    significant byte first, and fields follow each other without gaps from ``base``.
    In the top byte of a field whose width is not a multiple of 8, the unused bits are
    dropped on write and read back as 0.  Every address of the map reads back what was
    written (or the initial value); ``bus.addr_valid`` is 1 exactly for the addresses of
    the map, and a read request outside it returns 0.

    A field wider than 8 bits is *not* updated atomically: each byte takes effect on its
    own write strobe, so between the bytes of one multi-byte write the field holds a
    mixture of old and new bytes.  Change such fields while the logic that uses them is
    idle (or stage them in the consumer).

    With ``tmr`` every field is held three times: a write goes to all three copies, the
    port is their bitwise majority, and on every clock each copy is reloaded with the
    majority (scrubbing), so a single upset is outvoted at once and repaired at the next
    clock.  ``upset`` is high on a clock where any copy disagrees.

    Ports
    -----
    bus : In(RegisterBusSignature)
    <field name> : Out(field shape), one per field
    upset : Out(1), with ``tmr`` only
    """

    def __init__(self, fields, *, base: int = 0, init=None, tmr: bool = False):
        self.fields = layout_fields(fields, base=base, init=init)
        self.base = self.fields[0].address
        self.end = self.fields[-1].address + self.fields[-1].size
        self.tmr = bool(tmr)
        super().__init__({
            "bus": In(RegisterBusSignature()),
            **{f.name: Out(f.shape, init=f.init) for f in self.fields},
            **({"upset": Out(1)} if self.tmr else {}),
        })
        # ``keep``: synthesis must not merge the three copies (they hold the same value).
        self.copies = {f.name: [Signal(f.shape, init=f.init, name=f"{f.name}_copy{k}",
                                       attrs={"keep": 1})
                                for k in range(3)] for f in self.fields} if self.tmr else {}

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        m.d.comb += bus.addr_valid.eq((bus.addr >= self.base) & (bus.addr < self.end))

        upsets = []
        for f in self.fields if self.tmr else ():
            a, b, c = self.copies[f.name]
            port = getattr(self, f.name)
            m.d.comb += port.eq((a & b) | (a & c) | (b & c))
            upsets.append((a != b) | (a != c))
            # Scrubbing; a write below overrides the bytes it writes (later wins).
            m.d.sync += [copy.eq(port) for copy in self.copies[f.name]]
        if self.tmr:
            m.d.comb += self.upset.eq(Cat(*upsets).any())

        # Writes: one decoded strobe per byte, so each register's logic (and the Verilog
        # written for it) stays small however many fields there are.
        for f in self.fields:
            storage = self.copies[f.name] if self.tmr else [getattr(self, f.name)]
            for k in range(f.size):
                with m.If(bus.w_stb & (bus.addr == f.address + k)):
                    for bits in storage:
                        part = bits[8 * k:8 * (k + 1)]
                        m.d.sync += part.eq(bus.w_data[:len(part)])

        read = Signal(8)
        with m.Switch(bus.addr):
            for f in self.fields:
                port = getattr(self, f.name)
                for k in range(f.size):
                    with m.Case(f.address + k):
                        m.d.comb += read.eq(port[8 * k:8 * (k + 1)])
            with m.Default():
                m.d.comb += read.eq(0)
        with m.If(bus.r_stb):
            m.d.sync += bus.r_data.eq(read)
        return m


def field_bytes(field: Field, value: int) -> list[int]:
    """The bytes of ``value`` in ``field``, as written on the bus (least significant
    first; a negative value of a signed field in two's complement)."""
    value &= (1 << field.shape.width) - 1
    return [(value >> (8 * k)) & 0xFF for k in range(field.size)]
