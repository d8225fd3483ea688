"""The cocotb runner fails loudly: a failing cocotb test raises, naming the failure."""

import textwrap

import pytest
from amaranth.back import verilog
from neurogate.hw.engine.config import EngineConfig
from neurogate.hw.engine.top import Engine
from neurogate.sim.cocotb.runner import SimulationFailed, run_cocotb

# Two checks of the same fact about a small engine (no input offered after reset, so
# no output is valid): one states it rightly and passes, one wrongly and must fail.
BENCH = textwrap.dedent('''
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import ClockCycles

    async def idle_after_reset(dut):
        Clock(dut.clk, 10, unit="ns").start()
        dut.rst.value = 1
        dut.i__valid.value = 0
        dut.o__ready.value = 1
        await ClockCycles(dut.clk, 2)
        dut.rst.value = 0
        await ClockCycles(dut.clk, 4)
        return int(dut.o__valid.value)

    @cocotb.test()
    async def passes(dut):
        assert await idle_after_reset(dut) == 0, "o.valid high without input"

    @cocotb.test()
    async def fails(dut):
        assert await idle_after_reset(dut) == 1, "expected o.valid without any input"
''')


def test_failing_cocotb_test_raises(tmp_path):
    engine = Engine(EngineConfig(array=2, spad_words=16, wbuf_words=16, bias_words=2,
                                 prog_words=16))
    (tmp_path / "rq.v").write_text(verilog.convert(engine, name="rq", emit_src=False))
    (tmp_path / "tb_rq.py").write_text(BENCH)
    with pytest.raises(SimulationFailed, match="fails: .*expected o.valid without any input"):
        run_cocotb(sources=[tmp_path / "rq.v"], toplevel="rq", test_module="tb_rq",
                   test_dir=tmp_path, build_dir=tmp_path / "sim_build")
    result = run_cocotb(sources=[tmp_path / "rq.v"], toplevel="rq", test_module="tb_rq",
                        test_dir=tmp_path, build_dir=tmp_path / "sim_build", check=False)
    assert result.tests == 2 and len(result.failures) == 1
