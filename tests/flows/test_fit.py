"""The compile-time fit check agrees with synthesis: DSP blocks are counted the way yosys
maps multipliers, and a design needing more than the device has is refused up front."""

import pytest
from amaranth.back import verilog
from neurogate.compiler import api
from neurogate.compiler.fit import check_fits, dsp_blocks, lut_lower_bound
from neurogate.compiler.flows import toolchain
from neurogate.compiler.targets import FAMILIES, get_target
from neurogate.hw.config import AcceleratorConfig, ArrayShape, Widths
from neurogate.hw.pe import ProcessingElement
from neurogate.models.digits import build_digits_mlp
from neurogate.numerics.errors import NeurogateError


def config(rows, cols, act=8, weight=8, acc=32):
    return AcceleratorConfig(array=ArrayShape(rows, cols),
                             widths=Widths(act_bits=act, weight_bits=weight, acc_bits=acc,
                                           out_bits=act))


# (act bits, weight bits): (MULT18X18D, SB_MAC16) per signed multiplier, as counted by
# yosys 0.70 synth_ecp5 / synth_ice40 -dsp on hw/pe.py (stat -json).
YOSYS_COUNTS = {(2, 2): (1, 0), (4, 4): (1, 0), (6, 5): (1, 1), (8, 2): (1, 0), (8, 8): (1, 1),
                (16, 8): (1, 1), (16, 16): (1, 1), (17, 8): (1, 1), (18, 18): (1, 3),
                (19, 8): (1, 2), (19, 19): (1, 3), (20, 3): (2, 1), (24, 8): (2, 2),
                (32, 8): (2, 2), (32, 32): (4, 4), (36, 18): (2, 5)}


@pytest.mark.parametrize("widths,blocks", YOSYS_COUNTS.items())
def test_dsp_blocks_per_multiplier_follow_yosys(widths, blocks):
    assert (FAMILIES["ecp5"].dsp_blocks(*widths), FAMILIES["ice40"].dsp_blocks(*widths)) == blocks
    assert (FAMILIES["ecp5"].dsp_blocks(*widths[::-1]),
            FAMILIES["ice40"].dsp_blocks(*widths[::-1])) == blocks


@pytest.mark.parametrize("act,weight", [(16, 8), (24, 8), (18, 18)])
def test_dsp_rule_against_this_yosys(tmp_path, act, weight):
    # yosys only (no place and route): the rule above must hold for the installed tools.
    source = tmp_path / "pe.v"
    source.write_text(verilog.convert(ProcessingElement(act_bits=act, weight_bits=weight,
                                                        acc_bits=act + weight + 4),
                                      name="pe", emit_src=False))
    for target in ("ecp5-25k", "ice40-up5k"):
        t = get_target(target)
        net = toolchain.synth_netlist([source], "pe", t, tmp_path / target)
        assert net.cells.get(t.arch.dsp_cell, 0) == t.arch.dsp_blocks(act, weight), target


def test_more_multipliers_than_dsp_blocks_is_refused():
    with pytest.raises(NeurogateError) as error:
        check_fits(config(8, 8), get_target("ecp5-25k"))
    assert str(error.value) == (
        "array 8x8 does not fit ecp5-25k: 64 multipliers need 64 MULT18X18D DSP blocks, the "
        "device has 28 (try --array 5x5 or --target ecp5-45k)")
    check_fits(config(5, 5), get_target("ecp5-25k"))
    check_fits(config(8, 8), get_target("ecp5-45k"))


def test_wide_operands_count_every_block():
    # 16-bit activations x 8-bit weights: one MULT18X18D each; 24 x 8: two.
    assert dsp_blocks(config(4, 4, act=16), get_target("ecp5-25k")) == 16
    check_fits(config(4, 4, act=16), get_target("ecp5-25k"))
    with pytest.raises(NeurogateError, match=r"^array 4x4 does not fit ecp5-25k: 16 multipliers "
                       r"of 24x8 bits \(2 blocks each\) need 32 MULT18X18D DSP blocks, the "
                       r"device has 28 \(try --array 3x3 or --target ecp5-45k\)$"):
        check_fits(config(4, 4, act=24), get_target("ecp5-25k"))


def test_ice40_dsp_refusal_and_soft_multipliers():
    with pytest.raises(NeurogateError, match=r"^array 9x1 does not fit ice40-up5k: 9 multipliers "
                       r"need 9 SB_MAC16 DSP blocks, the device has 8 \(try --array 2x2 or "
                       r"--target ecp5-25k\)$"):
        check_fits(config(9, 1), get_target("ice40-up5k"))
    # 4 x 4 products (8 bits) stay below SB_MAC16's 11-bit minimum: LUTs, no DSP block.
    small = config(9, 1, act=4, weight=4, acc=16)
    assert dsp_blocks(small, get_target("ice40-up5k")) == 0
    assert lut_lower_bound(small, get_target("ice40-up5k")) == 9 * (16 // 2 + 16 // 2)
    check_fits(small, get_target("ice40-up5k"))


def test_io_check_still_comes_first():
    with pytest.raises(NeurogateError, match="array 8x8 does not fit ice40-up5k: the design "
                                             "needs 80 I/O pins, the sg48 package has 39"):
        check_fits(config(8, 8), get_target("ice40-up5k"))


def test_compile_refuses_before_any_rtl_or_synthesis(tmp_path):
    out = tmp_path / "mlp"
    with pytest.raises(NeurogateError, match=r"^array 8x8 does not fit ecp5-25k: 64 multipliers "
                                             r"need 64 MULT18X18D DSP blocks, the device has 28"):
        api.compile(build_digits_mlp(8), array="8x8", target="ecp5-25k", out=out)
    assert not out.exists()
