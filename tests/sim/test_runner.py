"""The cocotb runner fails loudly: a failing cocotb test raises, naming the failure."""

import textwrap

import pytest
from amaranth.back import verilog

from neurogate.hw.requant import Requantizer
from neurogate.sim.cocotb.runner import SimulationFailed, run_cocotb

BENCH = textwrap.dedent('''
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import ClockCycles

    @cocotb.test()
    async def passes(dut):
        Clock(dut.clk, 10, unit="ns").start()
        await ClockCycles(dut.clk, 2)

    @cocotb.test()
    async def fails(dut):
        Clock(dut.clk, 10, unit="ns").start()
        await ClockCycles(dut.clk, 2)
        assert 1 + 1 == 3, "arithmetic is broken"
''')


def test_failing_cocotb_test_raises(tmp_path):
    (tmp_path / "rq.v").write_text(verilog.convert(Requantizer(in_bits=8, out_bits=4), name="rq",
                                                   emit_src=False))
    (tmp_path / "tb_rq.py").write_text(BENCH)
    with pytest.raises(SimulationFailed, match="fails: .*arithmetic is broken"):
        run_cocotb(sources=[tmp_path / "rq.v"], toplevel="rq", test_module="tb_rq",
                   test_dir=tmp_path, build_dir=tmp_path / "sim_build")
    result = run_cocotb(sources=[tmp_path / "rq.v"], toplevel="rq", test_module="tb_rq",
                        test_dir=tmp_path, build_dir=tmp_path / "sim_build", check=False)
    assert result.tests == 2 and len(result.failures) == 1
