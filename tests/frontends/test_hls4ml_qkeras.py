"""hls4ml 1.3 beside QKeras and neurogate on the QKeras jet MLP (models/data/qkeras_jet_mlp.h5).

The same tf_keras model goes through hls4ml (Vitis backend, ``granularity='name'``,
``io_parallel``, its g++ C-simulation), through QKeras ``predict`` and through neurogate's
front-end and golden model, on the same inputs (corners first, then seeded random;
hls4ml and Keras get ``integer * 2**-10``).  With hls4ml's default per-layer config (the
input declared ``ap_fixed<16,6>``) the dense layers and ReLUs are typed exactly as in
the exact config, and the model output, hls4ml's table softmax, differs from QKeras's
float softmax; skipping the softmax (``Skip: True``, neurogate keeps it outside the
hardware too) makes hls4ml output the logits, equal to QKeras's and the golden model's on
every element.

hls4ml's QKeras handlers are in its Keras 2 converter, chosen when ``import keras`` gives a
Keras older than 3; this venv's ``keras`` is Keras 3, so ``keras_2_as_keras()`` binds ``keras`` to
``tf_keras`` while hls4ml runs (as ``bench/hls4ml_qkeras.py`` does).

Needs tensorflow, tf-keras, qkeras and hls4ml (the ``qkeras`` and ``hls`` extras): without
them the tests fail with a message saying so (they are not skipped).
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
from neurogate.compiler.interpreter import make_input_vectors, run
from neurogate.sim.golden.vectors import corner_vectors

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
try:
    import hls4ml
    from neurogate.compiler.frontends.keras import import_keras, keras_2_as_keras, keras_integers
    from neurogate.models import qkeras_jet
    MISSING = None
except ImportError as error:          # reported by the fixture below, never skipped
    MISSING = error

VECTORS = 1000
INPUT = "ap_fixed<16,6>"
SKIP_SOFTMAX = {"softmax": {"Skip": True}}


def hls4ml_model(model, out, overrides=None, compile=True):
    """hls4ml's default per-layer config, the input ``ap_fixed<16,6>``, then ``overrides``;
    converted into ``out`` and, with ``compile``, its C-simulation built."""
    with keras_2_as_keras():
        config = hls4ml.utils.config_from_keras_model(model, granularity="name",
                                                      backend="Vitis")
        config["LayerName"][model.input_names[0]]["Precision"]["result"] = INPUT
        for layer, keys in (overrides or {}).items():
            config["LayerName"][layer].update(keys)
        hls_model = hls4ml.converters.convert_from_keras_model(
            model, hls_config=config, output_dir=str(out), backend="Vitis",
            io_type="io_parallel", project_name="qkeras_jet_mlp")
        if compile:
            hls_model.compile()
    return hls_model


def types_of(hls_model) -> dict:
    return {layer.name: {k: str(v.precision) for k, v in layer.types.items()}
            for layer in hls_model.get_layers()}


@pytest.fixture(scope="module")
def jet():
    if MISSING is not None:
        pytest.fail(f"the hls4ml comparison needs tensorflow, tf-keras, qkeras and hls4ml "
                    f"(pip install 'neurogate[qkeras,hls]'): {MISSING}")
    result = import_keras(qkeras_jet.PATH, input_format=qkeras_jet.INPUT)
    graph = result.graph
    (inp,), (out,) = graph.inputs, graph.outputs
    inputs = make_input_vectors(graph, VECTORS, seed=0)
    x = inputs[inp.name]
    fmt = inp.out.fmt
    corners = corner_vectors(x.shape[1], fmt.min, fmt.max)
    assert np.array_equal(x[:len(corners)], corners)       # the corners are among them
    floats = np.ascontiguousarray(x * 2.0 ** -fmt.frac)
    assert np.array_equal(floats.astype(np.float32) * 2.0 ** fmt.frac, x)
    return SimpleNamespace(
        model=result.model, floats=floats, frac=graph.type_of(out).fmt.frac,
        golden=run(graph, inputs)[out], qkeras=keras_integers(result, inputs)[out],
        softmax=result.model.predict(floats.astype(np.float32), batch_size=4096, verbose=0))


def test_hls4ml_csim_equals_qkeras_and_the_golden_model(jet, tmp_path):
    hls_model = hls4ml_model(jet.model, tmp_path / "exact", SKIP_SOFTMAX)
    assert "softmax" not in types_of(hls_model)
    scaled = np.asarray(hls_model.predict(jet.floats), dtype=np.float64) * 2.0 ** jet.frac
    assert scaled.shape == jet.golden.shape == (VECTORS, 5)
    assert np.array_equal(scaled, np.round(scaled)), "hls4ml's logits are off the grid"
    codes = scaled.astype(np.int64)
    assert int(np.sum(jet.qkeras != jet.golden)) == 0          # QKeras == neurogate
    assert int(np.sum(codes != jet.qkeras)) == 0               # hls4ml == QKeras
    assert int(np.sum(codes != jet.golden)) == 0               # hls4ml == neurogate


def test_hls4ml_default_config_differs_from_qkeras_in_its_softmax(jet, tmp_path):
    default = hls4ml_model(jet.model, tmp_path / "default")
    exact = hls4ml_model(jet.model, tmp_path / "exact", SKIP_SOFTMAX, compile=False)
    default_types, exact_types = types_of(default), types_of(exact)
    # the default types every layer but the softmax as the exact config does ...
    assert set(default_types) - set(exact_types) == {"softmax"}
    assert all(default_types[name] == types for name, types in exact_types.items())
    # ... and its output, hls4ml's table softmax, is not QKeras's float softmax
    probabilities = np.asarray(default.predict(jet.floats), dtype=np.float64)
    assert probabilities.shape == jet.softmax.shape
    differ = int(np.sum(probabilities != jet.softmax))
    assert differ > 0, "hls4ml's softmax now equals QKeras's: update the docs and bench"
    print(f"hls4ml default config: {differ} of {probabilities.size} softmax values differ "
          f"from QKeras, max |diff| {np.abs(probabilities - jet.softmax).max():.4f}")
