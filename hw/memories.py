"""Delay lines for skewed operands: column ``c`` of a systolic array sees its operands ``c``
cycles after column 0."""

from __future__ import annotations

from amaranth.hdl import Module, Signal


def skew_line(m: Module, first: Signal, count: int, name: str, *,
              reset_less: bool = False) -> list[Signal]:
    """``[first, first delayed 1, ..., delayed count-1]``: column ``c`` sees it ``c``
    cycles late.  ``reset_less``: data that needs no reset value (fewer reset loads)."""
    taps = [first]
    for c in range(1, count):
        tap = Signal.like(first, name=f"{name}_{c}", reset_less=reset_less)
        m.d.sync += tap.eq(taps[-1])
        taps.append(tap)
    return taps
