"""RTL regressions of the low-bit arrays: Amaranth -> Verilog -> Verilator, cocotb vs golden."""

from pathlib import Path

import neurogate.sim.cocotb as bench_pkg
import pytest
from amaranth.back import verilog
from neurogate.hw.lowbit.binary import BinaryArray
from neurogate.hw.lowbit.scale import OutputScale
from neurogate.hw.lowbit.ternary import TernaryArray
from neurogate.sim.cocotb.runner import run_cocotb


def _run(tmp_path, dut, env):
    source = tmp_path / "array_top.v"
    source.write_text(verilog.convert(dut, name="array_top"))
    result = run_cocotb(
        sources=[source], toplevel="array_top", test_module="lowbit_arrays",
        test_dir=Path(bench_pkg.__file__).parent, build_dir=tmp_path / "build",
        extra_env={k: str(v) for k, v in env.items()})
    assert result.tests == 2 and not result.failures, result


def test_ternary_array_on_verilator(tmp_path):
    rows, cols, act_bits, acc_bits = 5, 7, 8, 14   # sizes that do not divide each other
    _run(tmp_path, TernaryArray(rows=rows, cols=cols, act_bits=act_bits, acc_bits=acc_bits),
         {"NG_KIND": "ternary", "NG_ROWS": rows, "NG_COLS": cols, "NG_ACT_BITS": act_bits,
          "NG_ACC_BITS": acc_bits, "NG_CHUNKS": 200, "NG_SEED": 7})


@pytest.mark.parametrize("mode, acc_bits", [("xnor", 16), ("and", 7)])
def test_binary_array_on_verilator(tmp_path, mode, acc_bits):
    rows, cols, width = 3, 5, 13    # acc 7 bits: sums of 65 elements wrap, like the golden
    _run(tmp_path, BinaryArray(rows=rows, cols=cols, width=width, acc_bits=acc_bits, mode=mode),
         {"NG_KIND": "binary", "NG_ROWS": rows, "NG_COLS": cols, "NG_WIDTH": width,
          "NG_MODE": mode, "NG_ACC_BITS": acc_bits, "NG_CHUNKS": 200, "NG_SEED": 9})


@pytest.mark.parametrize("lanes, per_channel", [(1, False), (3, True)])
def test_output_scale_on_verilator(tmp_path, lanes, per_channel):
    acc_bits, scale_bits, out_bits = 20, 12, 8
    dut = OutputScale(lanes=lanes, acc_bits=acc_bits, scale_bits=scale_bits, out_bits=out_bits,
                      per_channel=per_channel)
    source = tmp_path / "scale_top.v"
    source.write_text(verilog.convert(dut, name="scale_top"))
    result = run_cocotb(
        sources=[source], toplevel="scale_top", test_module="lowbit_scale",
        test_dir=Path(bench_pkg.__file__).parent, build_dir=tmp_path / "build",
        extra_env={"NG_LANES": str(lanes), "NG_ACC_BITS": str(acc_bits),
                   "NG_SCALE_BITS": str(scale_bits), "NG_OUT_BITS": str(out_bits),
                   "NG_PER_CHANNEL": str(int(per_channel)), "NG_SEED": "11"})
    assert result.tests == 2 and not result.failures, result
