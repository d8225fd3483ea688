"""RTL regression of TernaryArray: Amaranth -> Verilog -> Verilator, cocotb vs golden."""

from pathlib import Path

from amaranth.back import verilog

import neurogate.sim.cocotb as bench_pkg
from neurogate.hw.lowbit.ternary import TernaryArray
from neurogate.sim.cocotb.runner import run_cocotb


def test_ternary_array_on_verilator(tmp_path):
    rows, cols, act_bits, acc_bits = 5, 7, 8, 14   # sizes that do not divide each other
    dut = TernaryArray(rows=rows, cols=cols, act_bits=act_bits, acc_bits=acc_bits)
    source = tmp_path / "ternary_top.v"
    source.write_text(verilog.convert(dut, name="ternary_top"))
    result = run_cocotb(
        sources=[source], toplevel="ternary_top", test_module="lowbit_ternary",
        test_dir=Path(bench_pkg.__file__).parent, build_dir=tmp_path / "build",
        extra_env={"NG_ROWS": str(rows), "NG_COLS": str(cols), "NG_ACT_BITS": str(act_bits),
                   "NG_ACC_BITS": str(acc_bits), "NG_CHUNKS": "200", "NG_SEED": "7"})
    assert result.tests == 2 and not result.failures
