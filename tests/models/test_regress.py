"""`make regress` with a small count: every shipped model bit-exact through the RTL.

The models the programmable engine runs (the MLPs and the CNNs) run in `make test`;
those it refuses (the Brevitas CNN's Transpose, ECON-T's average over 3 cells) go
through the spatial style (fully unrolled: minutes of Verilog generation and Verilator
build each), marked `regress` and run by `make regress`, as is VGG16 at 224x224 (one
image on the engine: minutes of simulation)."""

import pytest
from neurogate.compiler import api
from neurogate.compiler.flows.regress import engine_maps, regress, shipped_models, vector_cap

MODELS = {p.stem: p for p in shipped_models()}
LARGE = sorted(name for name, path in MODELS.items() if vector_cap(path))
ENGINE = sorted(name for name, path in MODELS.items()
                if name not in LARGE and engine_maps(api.load(path)))
SPATIAL = sorted(set(MODELS) - set(ENGINE) - set(LARGE))


def test_the_shipped_models_are_all_there():
    assert {"mlp_digits", "mlp_digits_int4", "dense512", "jet_mlp", "qkeras_jet", "digits_cnn",
            "qkeras_digits_cnn", "residual_cnn", "vgg_cnn"} <= set(ENGINE)
    assert {"brevitas_cnn", "econt"} <= set(SPATIAL)
    assert LARGE == ["vgg16"]


def test_every_engine_model_is_bit_exact_through_the_rtl(tmp_path):
    results = regress(tmp_path, vectors=300, seed=1, models=[MODELS[n] for n in ENGINE])
    assert {r.model for r in results} == set(ENGINE)
    for r in results:
        assert r.vectors == 300 and r.mismatches == 0, r


@pytest.mark.regress
@pytest.mark.parametrize("name", SPATIAL)
def test_every_cnn_is_bit_exact_through_the_spatial_rtl(name, tmp_path):
    (result,) = regress(tmp_path, vectors=1000, seed=1, models=[MODELS[name]])
    assert result.array == "spatial"
    assert result.vectors == 1000 and result.mismatches == 0, result


@pytest.mark.regress
@pytest.mark.parametrize("name", LARGE)
def test_a_large_model_is_bit_exact_through_the_engine_rtl(name, tmp_path):
    """VGG16 at 224x224: one image (its cap), tensors in host memory, program in pages."""
    (result,) = regress(tmp_path, vectors=1000, seed=1, models=[MODELS[name]])
    assert result.array == "8x8"
    assert result.vectors == vector_cap(MODELS[name]) and result.mismatches == 0, result
