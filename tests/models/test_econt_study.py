"""The ECON-T study's API (``models/econt_study.py``) without synthesis: every saved encoder
has the widths its name says and the EMD of the metrics file; TMR triples the register
bits and nothing else; wider weights cost more adders; the compiled design has the
planned counts; a missing standard-cell library gives one line and no figures; the
energy per inference is power / 40 MHz.

Plans four designs and compiles one (about 20 s); the standard-cell flow itself is tested in
``tests/flows/test_asic.py``.  Needs tensorflow, tf-keras and qkeras: without them the tests
fail saying so.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
try:
    import qkeras  # noqa: F401
    import tf_keras  # noqa: F401
    from neurogate.compiler.flows import asic
    from neurogate.compiler.ir import Conv2D, Dense, DenseLayer
    from neurogate.models import econt_study
    from neurogate.models.econt_study import CONFIGS, SHIPPED, Config
    MISSING = None
except ImportError as error:          # reported by the fixture below, never skipped
    MISSING = error


@pytest.fixture(scope="module")
def deps():
    if MISSING is not None:
        pytest.fail(f"the ECON-T study tests need tensorflow, tf-keras and qkeras "
                    f"(pip install 'neurogate[qkeras]'): {MISSING}")


@pytest.fixture(scope="module")
def metrics(deps):
    return econt_study.read_metrics()


@pytest.fixture(scope="module")
def planned(deps):
    """The shipped widths with and without TMR and 4-bit weights, planned (no Verilog)."""
    return econt_study.study([SHIPPED, Config(9, 4)], out=None, log=lambda line: None)


@pytest.fixture(scope="module")
def compiled(deps, tmp_path_factory):
    """The shipped widths compiled without TMR, synthesis asked for with no library."""
    out = tmp_path_factory.mktemp("econt_study")
    saved = os.environ.get(asic.LIBERTY_ENV)
    os.environ[asic.LIBERTY_ENV] = str(out / "no-such.lib")
    try:
        (record,) = econt_study.study([SHIPPED], tmr=(False,), out=out, synthesize=True,
                                      log=lambda line: None)
    finally:
        if saved is None:
            del os.environ[asic.LIBERTY_ENV]
        else:
            os.environ[asic.LIBERTY_ENV] = saved
    return record


def test_configs_are_the_training_sweep(metrics):
    swept = {(e["latent_bits"], e["weight_bits"]) for e in metrics["sweep"]}
    asic_widths = (metrics["asic"]["latent_bits"], metrics["asic"]["weight_bits"])
    assert {(c.latent_bits, c.weight_bits) for c in CONFIGS} == swept | {asic_widths}
    assert SHIPPED == Config(*asic_widths) and SHIPPED.shipped and len(set(CONFIGS)) == 6
    assert econt_study.parse_config("l3w6") == Config(3, 6) == econt_study.parse_config("3,6")
    with pytest.raises(ValueError, match="l9w6"):
        econt_study.parse_config("l9")


@pytest.mark.parametrize("config", CONFIGS if MISSING is None else [], ids=str)
def test_saved_encoder_has_its_widths_and_emd(config, metrics):
    graph = econt_study.load_encoder(config)
    (out,) = graph.outputs
    latent = graph.type_of(out).fmt
    assert (latent.width, latent.signed, latent.frac) == (config.latent_bits, False,
                                                           config.latent_bits - 1)
    layers = [n for n in graph.nodes if isinstance(n, (Conv2D, Dense, DenseLayer))]
    assert len(layers) == 2
    for layer in layers:          # quantized_bits(weight_bits, 0): frac weight_bits - 1
        assert (layer.weight_fmt.width, layer.weight_fmt.frac) == (config.weight_bits,
                                                                   config.weight_bits - 1)
        assert layer.weight_fmt.contains(layer.weights)
    assert max(abs(n.weights).max() for n in layers) >= 2 ** (config.weight_bits - 2)
    emd, source = econt_study.emd_of(config, metrics)
    assert "golden model" in source
    if config.shipped:
        assert emd == metrics["emd_quantized"]
    else:
        (entry,) = [e for e in metrics["sweep"]
                    if (e["latent_bits"], e["weight_bits"]) == (config.latent_bits,
                                                                config.weight_bits)]
        assert emd == entry["emd_golden"] == entry["emd_mean"]
        assert entry["encoder"] == config.encoder_path.name


def test_tmr_triples_the_registers_only(planned, metrics):
    plain, tmr = planned[:2]
    assert (plain.config, plain.tmr, tmr.config, tmr.tmr) == (SHIPPED, False, SHIPPED, True)
    assert tmr.register_bits == 3 * plain.register_bits > 30_000
    assert (tmr.adders, tmr.adder_bits, tmr.useful_macs) == (plain.adders, plain.adder_bits,
                                                             plain.useful_macs)
    assert plain.useful_macs == 3_200 and plain.multipliers == tmr.multipliers == 0
    assert plain.initiation_interval == tmr.initiation_interval == 1
    assert plain.emd == tmr.emd == metrics["emd_quantized"]
    assert plain.emd_float == metrics["emd_float"] and 0 < plain.emd_vs_float < 0.05
    assert plain.folder is None and plain.synthesis == "not requested"


def test_wider_weights_cost_more_adders(planned):
    plain, _, narrow, narrow_tmr = planned
    assert (narrow.config, narrow.tmr, narrow_tmr.tmr) == (Config(9, 4), False, True)
    assert narrow.adders < plain.adders and narrow.adder_bits < plain.adder_bits
    assert narrow.register_bits < plain.register_bits
    assert narrow.emd > plain.emd            # 4-bit weights cost EMD (econt.md)


def test_compiled_design_has_the_planned_counts(compiled, planned):
    plain = planned[0]
    assert Path(compiled.folder).name == "econt_l9_w6"
    assert (Path(compiled.folder) / "design.json").is_file()
    for field in ("adders", "adder_bits", "multipliers", "register_bits", "latency",
                  "initiation_interval", "useful_macs", "emd"):
        assert getattr(compiled, field) == getattr(plain, field), field


def test_missing_library_gives_one_line_and_no_figures(compiled):
    assert compiled.synthesis.startswith("asic: no standard-cell library (NEUROGATE_LIBERTY=")
    assert "no-such.lib is no file" in compiled.synthesis
    assert "\n" not in compiled.synthesis and "make asic-extras" in compiled.synthesis
    assert compiled.area_um2 is compiled.power_mw is compiled.energy_nj is None
    assert compiled.to_dict()["energy_nj"] is None
    with pytest.raises(ValueError, match="build folder"):
        econt_study.study([SHIPPED], out=None, synthesize=True)


def test_energy_is_power_over_the_clock(planned):
    record = replace(planned[0], power_mw=1036.2)
    assert record.energy_nj == pytest.approx(1036.2 / 40)
    record.initiation_interval = 2
    assert record.energy_nj == pytest.approx(2 * 1036.2 / 40)
