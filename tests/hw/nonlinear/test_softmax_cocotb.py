"""RTL regression of Softmax: Amaranth -> Verilog -> Verilator, cocotb vs golden."""

from pathlib import Path

import pytest
from amaranth.back import verilog

import neurogate.sim.cocotb as bench_pkg
from neurogate.hw.nonlinear.softmax import Softmax
from neurogate.sim.cocotb.runner import run_cocotb


@pytest.mark.parametrize("method, binarize", [("iexp", False), ("shiftmax", True)])
def test_softmax_on_verilator(tmp_path, method, binarize):
    params = dict(in_bits=8, in_frac=4, out_bits=8, max_len=24, method=method,
                  binarize=binarize)
    source = tmp_path / "softmax_top.v"
    source.write_text(verilog.convert(Softmax(**params), name="softmax_top"))
    env = {"NG_IN_BITS": "8", "NG_IN_FRAC": "4", "NG_OUT_BITS": "8", "NG_MAX_LEN": "24",
           "NG_METHOD": method, "NG_BINARIZE": str(int(binarize)), "NG_ROWS": "40",
           "NG_SEED": "5"}
    result = run_cocotb(sources=[source], toplevel="softmax_top",
                        test_module="nonlinear_softmax",
                        test_dir=Path(bench_pkg.__file__).parent,
                        build_dir=tmp_path / "build", extra_env=env)
    assert result.tests == 2 and not result.failures
