"""The compile-time fit check agrees with synthesis: DSP blocks are counted the way yosys
maps multipliers, and a design needing more than the device has is refused up front."""

import pytest
from amaranth.back import verilog
from neurogate.compiler import api
from neurogate.compiler.fit import check_fits, dsp_blocks, memory_bits, ram_blocks
from neurogate.compiler.flows import toolchain
from neurogate.compiler.targets import FAMILIES, get_target
from neurogate.hw.engine.config import EngineConfig
from neurogate.hw.pe import ProcessingElement
from neurogate.models.digits import build_digits_mlp
from neurogate.numerics.errors import NeurogateError


def config(n, lanes=8, weight=8, **memories):
    return EngineConfig(array=n, lane_bits=lanes, weight_bits=weight, **memories)


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
    # 17-bit activation operands (a lane or the high byte of a 16-bit input) x 8-bit
    # weights: one MULT18X18D each
    with pytest.raises(NeurogateError) as error:
        check_fits(config(8), get_target("ecp5-25k"))
    assert str(error.value) == (
        "the 8x8 engine does not fit ecp5-25k: 64 multipliers need 64 MULT18X18D DSP blocks, "
        "the device has 28 (try --array 5x5 or --target ecp5-45k)")
    check_fits(config(5, spad_words=1024, wbuf_words=512), get_target("ecp5-25k"))
    check_fits(config(8), get_target("ecp5-85k"))


def test_wide_operands_count_every_block():
    # 12-bit lanes: 25-bit activation operands x 8-bit weights: two blocks each
    assert dsp_blocks(config(4, lanes=12), get_target("ecp5-25k")) == 32
    with pytest.raises(NeurogateError, match=r"^the 4x4 engine does not fit ecp5-25k: 16 "
                       r"multipliers need 32 MULT18X18D DSP blocks, the device has 28 \(try "
                       r"--array 3x3 or --target ecp5-45k\)$"):
        check_fits(config(4, lanes=12), get_target("ecp5-25k"))


def test_block_rams_are_counted_as_nextpnr_placed_them():
    # nextpnr on the 8x8 engine with a 512-word weight buffer: 67 DP16KD (32 for the
    # scratchpad's eight 8192 x 8 banks, 16 weight buffer, 8 bias, 11 program); before the
    # scratchpad had one read port it placed 147 for the default engine and reported "no
    # BELs remaining" on the ECP5-85k's 208 for 211
    assert ram_blocks(config(8, wbuf_words=512), "ecp5") == 67
    assert ram_blocks(config(8), "ecp5") == 115
    check_fits(config(8), get_target("ecp5-85k"))
    with pytest.raises(NeurogateError, match=r"^the 8x8 engine does not fit ecp5-85k: its "
                                             r"memories need 307 block RAMs, the device has "
                                             r"208 \(8x8 engine, 8-bit lanes"):
        check_fits(config(8, wbuf_words=8192), get_target("ecp5-85k"))
    assert memory_bits(config(8)) == 8192 * 64 + 8 * 2048 * 64 + 256 * 256 + 512 * 384


def test_io_check_still_comes_first():
    with pytest.raises(NeurogateError, match="the 8x8 engine does not fit ice40-up5k: it needs "
                                             "156 I/O pins, the sg48 package has 39"):
        check_fits(config(8), get_target("ice40-up5k"))


def test_compile_refuses_before_any_rtl_or_synthesis(tmp_path):
    out = tmp_path / "mlp"
    with pytest.raises(NeurogateError, match=r"^the 8x8 engine does not fit ecp5-25k: 64 "
                                             r"multipliers need 64 MULT18X18D DSP blocks, the "
                                             r"device has 28"):
        api.compile(build_digits_mlp(8), array="8x8", target="ecp5-25k", out=out)
    assert not out.exists()
