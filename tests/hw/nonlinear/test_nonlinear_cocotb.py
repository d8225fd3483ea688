"""RTL regressions of the non-linear units: Amaranth -> Verilog -> Verilator, cocotb vs
golden (random inputs with idle cycles and back-pressure; edge inputs at full rate)."""

import dataclasses
import json
from pathlib import Path

import neurogate.sim.cocotb as bench_pkg
import pytest
from amaranth.back import verilog
from neurogate.hw.nonlinear.activation import Activation, IGelu
from neurogate.hw.nonlinear.norm import Norm
from neurogate.hw.nonlinear.softmax import Softmax
from neurogate.sim.cocotb.runner import run_cocotb

CASES = {
    "softmax_iexp_pipelined": ("softmax", lambda: Softmax(max_len=24, method="iexp",
                                                          solver="pipelined")),
    "softmax_shiftmax_bivit": ("softmax", lambda: Softmax(max_len=24, method="shiftmax",
                                                          binarize=True)),
    "layernorm_affine": ("norm", lambda: Norm(
        kind="layernorm", max_len=40, gamma=[(37 * k) % 256 - 128 for k in range(40)],
        beta=[(91 * k) % 256 - 128 for k in range(40)])),
    "rmsnorm_16bit_pipelined": ("norm", lambda: Norm(kind="rmsnorm", in_bits=16, out_bits=16,
                                                     out_frac=10, max_len=24,
                                                     solver="pipelined")),
    "silu": ("activation", lambda: Activation(function="silu")),
    "shiftgelu": ("activation", lambda: Activation(function="shiftgelu", method="shiftmax")),
    "sigmoid": ("activation", lambda: Activation(function="sigmoid", in_bits=10, in_frac=6)),
    "igelu": ("igelu", lambda: IGelu()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_nonlinear_unit_on_verilator(tmp_path, case):
    unit, build = CASES[case]
    dut = build()
    source = tmp_path / "unit_top.v"
    source.write_text(verilog.convert(dut, name="unit_top"))
    env = {"NG_UNIT": unit, "NG_CONFIG": json.dumps(dataclasses.asdict(dut.config)),
           "NG_SOLVER_CYCLES": str(getattr(dut, "solver_cycles", 0)), "NG_ROWS": "30",
           "NG_SEED": "5"}
    result = run_cocotb(sources=[source], toplevel="unit_top", test_module="nonlinear_units",
                        test_dir=Path(bench_pkg.__file__).parent,
                        build_dir=tmp_path / "build", extra_env=env)
    assert result.tests == 2 and not result.failures, result
