"""Behavioural model of ``hw.i2c.I2CTarget`` in front of ``hw.regfile.RegisterFile``.

Byte-level: the caller plays the I2C controller (``start``, ``stop``, ``write_byte``,
``read_byte``) and the model answers as the RTL does, ACK for ACK and byte for byte, and
keeps the register contents, the register address, the ``error`` flag and
``error_count``.  It is written from docs/i2c.md, independently of the RTL (it imports
nothing of ``hw``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelField:
    name: str
    width: int
    signed: bool
    address: int

    @property
    def size(self) -> int:
        return (self.width + 7) // 8


class RegisterMapModel:
    """Fields ``(name, width)`` packed little-endian into consecutive bytes from ``base``;
    ``width`` is an ``int`` (unsigned) or anything with ``.width`` and ``.signed`` (an
    Amaranth ``Shape``)."""

    def __init__(self, fields, *, base: int = 0, init=None):
        self.fields: list[ModelField] = []
        address = base
        for name, width in fields:
            bits, signed = (width, False) if isinstance(width, int) else (width.width,
                                                                          width.signed)
            self.fields.append(ModelField(name, bits, signed, address))
            address += (bits + 7) // 8
        self.base, self.end = base, address
        self.bytes = dict.fromkeys(range(base, address), 0)
        for name, value in (init or {}).items():
            self.set_field(name, value)

    def valid(self, address: int) -> bool:
        return self.base <= address < self.end

    def _owner(self, address: int) -> tuple[ModelField, int]:
        for f in self.fields:
            if f.address <= address < f.address + f.size:
                return f, address - f.address
        raise KeyError(address)

    def write(self, address: int, byte: int) -> None:
        field, k = self._owner(address)
        used = min(8, field.width - 8 * k)          # the top byte may be partly unused
        self.bytes[address] = byte & ((1 << used) - 1)

    def read(self, address: int) -> int:
        return self.bytes[address] if self.valid(address) else 0

    def field(self, name: str) -> int:
        f = next(f for f in self.fields if f.name == name)
        value = sum(self.bytes[f.address + k] << (8 * k) for k in range(f.size))
        if f.signed and value >> (f.width - 1):
            value -= 1 << f.width
        return value

    def set_field(self, name: str, value: int) -> None:
        f = next(f for f in self.fields if f.name == name)
        value &= (1 << f.width) - 1
        for k in range(f.size):
            self.bytes[f.address + k] = (value >> (8 * k)) & 0xFF

    def address_of(self, name: str) -> int:
        return next(f.address for f in self.fields if f.name == name)


class I2CTargetModel:
    """The target's answers to a byte-level I2C controller (see the module docstring).

    States: ``idle`` (off the bus until START), ``device`` (the device-address byte is
    next), ``reg_hi``/``reg_lo`` (register address bytes), ``data`` (bytes to write) and
    ``read`` (the target sends the fetched byte ``self.fetched``)."""

    def __init__(self, address: int, regs: RegisterMapModel, *, count_bits: int = 8):
        self.address, self.regs, self.count_max = address, regs, (1 << count_bits) - 1
        self.state = "idle"
        self.pointer = 0
        self.error = False
        self.error_count = 0
        self.fetched = 0
        self._hi = 0

    def _count_error(self) -> None:
        self.error = True
        self.error_count = min(self.error_count + 1, self.count_max)

    def _fetch(self) -> bool:
        if not self.regs.valid(self.pointer):
            self._count_error()
            self.state = "idle"
            return False
        self.fetched = self.regs.read(self.pointer)
        self.pointer = (self.pointer + 1) & 0xFFFF
        self.state = "read"
        return True

    def start(self) -> None:
        self.error = False
        self.state = "device"

    def stop(self) -> None:
        self.state = "idle"

    def write_byte(self, byte: int) -> bool:
        """The controller sends ``byte``; True when the target ACKs it."""
        state = self.state
        if state == "device":
            if byte >> 1 != self.address:
                self.state = "idle"
                return False
            if byte & 1:
                self._fetch()
            else:
                self.state = "reg_hi"
            return True
        if state == "reg_hi":
            self._hi, self.state = byte, "reg_lo"
            return True
        if state == "reg_lo":
            self.pointer, self.state = (self._hi << 8) | byte, "data"
            return True
        if state == "data":
            if not self.regs.valid(self.pointer):
                self._count_error()
                self.state = "idle"
                return False
            self.regs.write(self.pointer, byte)
            self.pointer = (self.pointer + 1) & 0xFFFF
            return True
        if state == "read":
            raise ValueError("the controller writes while the target is sending")
        return False

    def read_byte(self, ack: bool) -> int:
        """The controller reads a byte and then ACKs it (``ack``) or NACKs it."""
        if self.state != "read":
            return 0xFF                              # nobody drives SDA
        value = self.fetched
        if ack:
            self._fetch()
        else:
            self.state = "idle"
        return value
