"""Devices neurogate synthesizes for, with the capacities used for fit checks."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NeurogateError


@dataclass(frozen=True)
class Target:
    name: str
    family: str          # "ice40" | "ecp5"
    device: str          # nextpnr device flag value
    package: str
    luts: int
    dsps: int            # iCE40 SB_MAC16 / ECP5 MULT18X18D
    bram_bits: int       # block RAM capacity
    ios: int             # user I/O pins in the package
    default_mhz: float


TARGETS = {t.name: t for t in (
    Target("ice40-up5k", "ice40", "up5k", "sg48", luts=5280, dsps=8, bram_bits=30 * 4096,
           ios=39, default_mhz=24.0),
    Target("ecp5-25k", "ecp5", "25k", "CABGA381", luts=24288, dsps=28, bram_bits=56 * 18432,
           ios=197, default_mhz=50.0),
    Target("ecp5-45k", "ecp5", "45k", "CABGA381", luts=43848, dsps=72, bram_bits=108 * 18432,
           ios=203, default_mhz=50.0),
    Target("ecp5-85k", "ecp5", "85k", "CABGA381", luts=83640, dsps=156, bram_bits=208 * 18432,
           ios=205, default_mhz=50.0),
)}


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise NeurogateError(f"unknown target {name!r}; choose one of {', '.join(TARGETS)}") from None
