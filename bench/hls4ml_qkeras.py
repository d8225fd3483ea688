"""hls4ml beside neurogate on the QKeras jet MLP: one model file, the same inputs.

    .venv/bin/python bench/hls4ml_qkeras.py [--vectors 10000] [--json bench/out/hls4ml_qkeras.json]

The model is ``models/data/qkeras_jet_mlp.h5`` (16-64-32-32-5, ``quantized_bits(8, 0)``
weights and biases, ``quantized_relu(8, 3)``, a final float softmax), its input
``ap_fixed<16,6>``.  hls4ml 1.3 runs in this same venv as QKeras (tf_keras): its QKeras
handlers are in the Keras 2 converter, which hls4ml picks when ``import keras`` gives a
Keras older than 3; here ``keras`` is Keras 3, so ``keras_2_as_keras()`` binds ``keras`` to
``tf_keras`` while hls4ml's ``config_from_keras_model``, ``convert_from_keras_model`` and
``compile`` run (Vitis backend, ``io_parallel``, ``granularity='name'``, g++ C-simulation).

Prints:

(a) on ``--vectors`` inputs (``make_input_vectors``: the corners first, then seeded random;
    hls4ml and Keras get ``integer * 2**-10``), the output elements that differ between
    QKeras ``predict`` and neurogate's golden model (the logits, the softmax's input),
    hls4ml's C-sim and QKeras with hls4ml's default config (its output is its softmax) and
    with the exact config (the default plus the overrides in ``EXACT_OVERRIDES``), hls4ml
    and the golden model, and neurogate's RTL (Verilator) and the golden model on the same
    inputs;
(b) neurogate's time from the model file to verified RTL (``api.load`` + ``compile_design``
    on an 8x8 array for ECP5-85k + ``api.verify`` of 200 vectors), cold (an empty
    ``NEUROGATE_CACHE_DIR``: the Verilator harness is built) and warm (the harness of this
    Verilog cached), next to hls4ml's time from the loaded model to its first C-sim result
    (config + convert + write + g++ + predict of one input).

Imports (TensorFlow, QKeras, hls4ml, neurogate) are timed separately and are in neither
figure.  Reading the ``.h5`` file into a tf_keras model is part of neurogate's figure (its
``api.load`` reads the file) and not of hls4ml's (it starts from the loaded model); it is
printed on its own too.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from neurogate.compiler.frontends.keras import keras_2_as_keras

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")   # QKeras runs on tf_keras

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "data" / "qkeras_jet_mlp.h5"
INPUT_FORMAT = "ap_fixed<16,6>"
OUT = ROOT / "bench" / "out" / "hls4ml_qkeras"
# What the exact config changes in hls4ml's default per-layer config (besides declaring
# the input precision, which both configs get): the final softmax is skipped, as
# neurogate keeps it outside the hardware; hls4ml then outputs the logits.
EXACT_OVERRIDES = {"softmax": {"Skip": True}}


def hls4ml_config(model, input_name: str, overrides: dict | None = None) -> dict:
    """hls4ml's default per-layer config (Vitis), the input declared ``ap_fixed<16,6>``,
    then ``overrides`` (layer name -> keys) applied."""
    import hls4ml

    with keras_2_as_keras(), contextlib.redirect_stdout(io.StringIO()):
        config = hls4ml.utils.config_from_keras_model(model, granularity="name",
                                                      backend="Vitis")
    config["LayerName"][input_name]["Precision"]["result"] = INPUT_FORMAT
    for layer, keys in (overrides or {}).items():
        config["LayerName"][layer].update(copy.deepcopy(keys))
    return config


def hls4ml_build(model, config: dict, out: Path, times: dict | None = None):
    """Convert ``model`` with ``config`` into ``out`` and compile its C-sim (g++);
    ``times`` gets ``convert_s`` and ``compile_s`` (write the project + g++ + load)."""
    import hls4ml

    shutil.rmtree(out, ignore_errors=True)
    times = {} if times is None else times
    with keras_2_as_keras(), contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        hls_model = hls4ml.converters.convert_from_keras_model(
            model, hls_config=config, output_dir=str(out), backend="Vitis",
            io_type="io_parallel", project_name="qkeras_jet_mlp")
        converted = time.perf_counter()
        hls_model.compile()
        times.update(convert_s=converted - start, compile_s=time.perf_counter() - converted)
    return hls_model


def precisions(hls_model) -> dict:
    """The types hls4ml resolved for each layer (after its optimizers)."""
    return {layer.name: {k: str(v.precision) for k, v in layer.types.items()}
            for layer in hls_model.get_layers()}


def as_codes(values: np.ndarray, frac: int, what: str) -> np.ndarray:
    """``values * 2**frac`` as integers; refuses values off that grid."""
    scaled = np.asarray(values, dtype=np.float64) * 2.0 ** frac
    if not np.array_equal(scaled, np.round(scaled)):
        raise SystemExit(f"hls4ml_qkeras: {what}: values not on the output grid 2**-{frac}")
    return scaled.astype(np.int64)


def neurogate_to_verified_rtl(out: Path) -> dict:
    """api.load + compile_design + verify (200 vectors), each timed."""
    from neurogate.compiler import api

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # the dropped-softmax note
        graph = api.load(MODEL, input_format=INPUT_FORMAT)
    t1 = time.perf_counter()
    api.compile_design(graph, array="8x8", target="ecp5-85k", out=out)
    t2 = time.perf_counter()
    report = api.verify(out, vectors=200)
    t3 = time.perf_counter()
    return {"total_s": t3 - t0, "load_s": t1 - t0, "compile_s": t2 - t1, "verify_s": t3 - t2,
            "mismatches": report["verified"]["mismatches"],
            "harness_build_s": report["simulation"]["build_seconds"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=10_000,
                        help="inputs compared (corners first, then seeded random)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    # --- imports, timed on their own --------------------------------------------------------
    t0 = time.perf_counter()
    from neurogate.compiler import api
    from neurogate.compiler.flows.verify import MismatchError
    from neurogate.compiler.frontends import parse_input_format
    from neurogate.compiler.frontends.keras import (
        frameworks,
        import_keras,
        keras_integers,
        read_model,
    )
    from neurogate.compiler.interpreter import make_input_vectors, run
    t1 = time.perf_counter()
    tf, tf_keras, _ = frameworks()
    import qkeras
    t2 = time.perf_counter()
    import hls4ml
    t3 = time.perf_counter()
    imports = {"neurogate_s": t1 - t0, "tensorflow_qkeras_s": t2 - t1, "hls4ml_s": t3 - t2}

    # --- the model, its graph and the inputs ------------------------------------------------
    start = time.perf_counter()
    model = read_model(MODEL)               # the first tf_keras load also starts TensorFlow up
    imports["first_model_read_s"] = time.perf_counter() - start
    start = time.perf_counter()
    model = read_model(MODEL)
    read_s = time.perf_counter() - start
    fmt = parse_input_format(INPUT_FORMAT)
    result = import_keras(model, input_format=fmt)
    graph = result.graph
    (inp,), (logits,) = graph.inputs, graph.outputs
    out_frac = graph.type_of(logits).fmt.frac
    inputs = make_input_vectors(graph, args.vectors, seed=0)
    x = inputs[inp.name]
    xf = x * 2.0 ** -fmt.frac
    assert np.array_equal(xf.astype(np.float32).astype(np.float64) * 2.0 ** fmt.frac, x)
    xf = np.ascontiguousarray(xf)
    golden = run(graph, inputs)[logits]
    qk_logits = keras_integers(result, inputs)[logits]      # NaN where off the grid
    qk_softmax = model.predict(xf.astype(np.float32), batch_size=4096, verbose=0)

    # --- hls4ml: exact config (timed to its first C-sim result), then the default -------------
    start = time.perf_counter()
    config = hls4ml_config(model, inp.name, EXACT_OVERRIDES)
    hls_timing = {"config_s": time.perf_counter() - start}
    exact = hls4ml_build(model, config, OUT / "exact", hls_timing)
    t_built = time.perf_counter()
    exact.predict(xf[:1])
    t_first = time.perf_counter()
    hls_timing.update(total_s=t_first - start, first_predict_s=t_first - t_built)
    hls_logits = as_codes(exact.predict(xf), out_frac, "hls4ml exact config")

    start = time.perf_counter()
    default = hls4ml_build(model, hls4ml_config(model, inp.name), OUT / "default")
    default_first = default.predict(xf[:1])
    default_s = time.perf_counter() - start
    default_out = np.asarray(default.predict(xf), dtype=np.float64).reshape(qk_softmax.shape)
    assert np.array_equal(default_out[:1], np.asarray(default_first).reshape(1, -1))
    used_exact, used_default = precisions(exact), precisions(default)
    # everything but the softmax hls4ml resolves alike in both configs (checked)
    same_types = all(used_default.get(name) == types for name, types in used_exact.items())
    skipped = "softmax" in used_default and "softmax" not in used_exact

    elements = golden.size
    counts = {
        "qkeras_vs_golden": int(np.sum(qk_logits != golden)),
        "hls4ml_exact_vs_qkeras": int(np.sum(hls_logits != qk_logits)),
        "hls4ml_exact_vs_golden": int(np.sum(hls_logits != golden)),
        "hls4ml_default_vs_qkeras": int(np.sum(default_out != qk_softmax)),
    }
    default_detail = {
        "max_abs_difference": float(np.max(np.abs(default_out - qk_softmax))),
        "argmax_differs": int(np.sum(default_out.argmax(1) != qk_softmax.argmax(1))),
    }

    # --- neurogate: model file to verified RTL, cold then warm ------------------------------
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        saved = os.environ.get("NEUROGATE_CACHE_DIR")
        os.environ["NEUROGATE_CACHE_DIR"] = cache
        try:
            cold = neurogate_to_verified_rtl(Path(out) / "cold")
        finally:
            if saved is None:
                os.environ.pop("NEUROGATE_CACHE_DIR")
            else:
                os.environ["NEUROGATE_CACHE_DIR"] = saved
        neurogate_to_verified_rtl(Path(out) / "prime")      # the harness in the usual cache
        warm = neurogate_to_verified_rtl(Path(out) / "warm")
        # the RTL on the very inputs above
        dataset = Path(out) / "inputs.npz"
        np.savez(dataset, x=x)
        start = time.perf_counter()
        try:
            rtl = api.verify(Path(out) / "warm", dataset=dataset)["verified"]["mismatches"]
        except MismatchError as error:
            print(f"RTL vs golden model: {error}", file=sys.stderr)
            rtl = None
        rtl_s = time.perf_counter() - start
    counts["rtl_vs_golden"] = rtl

    # --- report -----------------------------------------------------------------------------
    load = os.getloadavg()
    n = args.vectors
    print(f"QKeras jet MLP 16-64-32-32-5 ({MODEL.relative_to(ROOT)}), input {INPUT_FORMAT}; "
          f"hls4ml {hls4ml.__version__} (Vitis, io_parallel, g++ C-sim), tensorflow "
          f"{tf.__version__}, tf_keras {tf_keras.__version__}, qkeras {qkeras.__version__}")
    print(f"(a) {n:,} inputs (corners first, then seeded random), output elements that differ "
          f"(of {elements:,}; logits, frac {out_frac}):")
    print(f"  QKeras predict vs neurogate golden          {counts['qkeras_vs_golden']}")
    print(f"  hls4ml default config vs QKeras (softmax)   {counts['hls4ml_default_vs_qkeras']}"
          f"  (max |diff| {default_detail['max_abs_difference']:.4f}, argmax differs on "
          f"{default_detail['argmax_differs']} inputs)")
    print(f"  hls4ml exact config vs QKeras (logits)      {counts['hls4ml_exact_vs_qkeras']}")
    print(f"  hls4ml exact config vs neurogate golden     {counts['hls4ml_exact_vs_golden']}")
    print(f"  neurogate RTL (Verilator) vs golden         {rtl}  ({rtl_s:.2f} s)")
    print(f"  exact config = default + {json.dumps(EXACT_OVERRIDES)}; every other layer's "
          f"types {'identical in both (checked)' if same_types and skipped else 'DIFFER'}")
    print("(b) time to a first result (imports excluded):")
    print(f"  neurogate, model file -> verified RTL, cold  {cold['total_s']:6.2f} s  (load "
          f"{cold['load_s']:.2f} s, compile {cold['compile_s']:.2f} s, Verilator build + 200 "
          f"vectors {cold['verify_s']:.2f} s)")
    print(f"  neurogate, model file -> verified RTL, warm  {warm['total_s']:6.2f} s  (load "
          f"{warm['load_s']:.2f} s, compile {warm['compile_s']:.2f} s, verify "
          f"{warm['verify_s']:.2f} s)")
    print(f"  hls4ml, loaded model -> first C-sim result   {hls_timing['total_s']:6.2f} s  "
          f"(config {hls_timing['config_s']:.2f} s, convert {hls_timing['convert_s']:.2f} s, "
          f"write + g++ {hls_timing['compile_s']:.2f} s, first predict "
          f"{hls_timing['first_predict_s']:.3f} s); the default config: {default_s:.2f} s")
    print(f"  reading the .h5 into tf_keras (in neurogate's load, not in hls4ml's): "
          f"{read_s:.2f} s")
    print(f"  in neither: imports of neurogate {imports['neurogate_s']:.2f} s, tensorflow + "
          f"qkeras {imports['tensorflow_qkeras_s']:.2f} s, hls4ml {imports['hls4ml_s']:.2f} s; "
          f"the first .h5 read (TensorFlow start-up) {imports['first_model_read_s']:.2f} s")
    print(f"  load average at the end (1/5/15 min, {os.cpu_count()} CPUs): "
          f"{' / '.join(f'{v:.1f}' for v in load)}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "model": str(MODEL.relative_to(ROOT)), "input_format": INPUT_FORMAT,
            "vectors": n, "elements": elements,
            "versions": {"hls4ml": hls4ml.__version__, "tensorflow": tf.__version__,
                         "tf_keras": tf_keras.__version__, "qkeras": qkeras.__version__},
            "mismatches": counts, "hls4ml_default_softmax": default_detail,
            "exact_overrides": EXACT_OVERRIDES, "types_identical_but_softmax": same_types,
            "neurogate_cold": cold, "neurogate_warm": warm, "rtl_same_inputs_s": rtl_s,
            "hls4ml_exact": hls_timing, "hls4ml_default_first_result_s": default_s,
            "read_h5_s": read_s, "imports": imports, "load_average": load,
            "hls4ml_precisions": {"exact": used_exact, "default": used_default}},
            indent=1) + "\n")
    exact_ok = (counts["qkeras_vs_golden"] == counts["hls4ml_exact_vs_qkeras"]
                == counts["hls4ml_exact_vs_golden"] == 0 and rtl == 0
                and cold["mismatches"] == warm["mismatches"] == 0)
    return 0 if exact_ok else 3


if __name__ == "__main__":
    sys.exit(main())
