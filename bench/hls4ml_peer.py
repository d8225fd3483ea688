"""The hls4ml peer: the jet MLP (``models/jet_mlp.py``) through hls4ml 1.3's C simulation.

    make hls4ml-peer
    # or, once the peer venv exists (bench/peer-requirements.txt, plus
    # `pip install --no-deps -e .` for neurogate's golden model):
    bench/out/peer-venv/bin/python bench/hls4ml_peer.py [--json bench/out/hls4ml_peer.json]

Runs in its own venv (``bench/out/peer-venv``): hls4ml is no dependency of neurogate.
Builds the same network as ``build_model()`` as a Keras 3 model (JAX backend, CPU) whose
float weights are exactly the integers times their power-of-two scales, sets hls4ml's
precisions per layer by name so that its C simulation is bit-exact to neurogate's golden
model, and prints:

- model to first C-sim result: hls4ml convert + write + g++ compile + first predict;
- the C-sim rate (``predict`` on 10,000 and 100,000 inputs, inferences per second);
- the number of output elements where hls4ml and ``interpreter.run_single_output``
  differ on the same inputs (integer codes; hls4ml reads them as ``x * 2**-frac``).

Precisions (derived from the graph, not typed in): input ``ap_fixed<16,6>``; per dense
layer weights ``ap_fixed<8,2>`` (Q1.6), bias and accumulator ``ap_fixed<32, 32 - acc_frac>``
(neurogate's 32-bit accumulator, same wrap), result ``ap_fixed<8,4,AP_RND,AP_SAT>`` (the
requantizer: round half up, saturate), then ReLU into the same type.  Backend Vitis,
io_parallel, Latency strategy, reuse factor 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

# read when keras is first imported (in main): Keras 3 on JAX, CPU only
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "jet_mlp.py"
OUT = ROOT / "bench" / "out" / "hls4ml_jet_mlp"


def _ap(width: int, frac: int, signed: bool = True, mode: str = "") -> str:
    """hls4ml precision string of an integer format with ``frac`` fraction bits."""
    kind = "ap_fixed" if signed else "ap_ufixed"
    return f"{kind}<{width},{width - frac}{mode}>"


def layers_of(graph):
    """The graph as hls4ml layers: [(dense, requantize, relu or None)], checked to be the
    chain Dense -> Requantize(half up, saturate, power of two) [-> Relu] this peer maps."""
    from neurogate.compiler.ir import Dense, Input, Relu, Requantize
    from neurogate.numerics.rounding import Overflow, Rounding

    nodes = list(graph.nodes)
    if not isinstance(nodes[0], Input) or len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise SystemExit("hls4ml_peer: expected one input and one output")
    chain, i = [], 1
    while i < len(nodes):
        dense, req = nodes[i], nodes[i + 1] if i + 1 < len(nodes) else None
        relu = nodes[i + 2] if i + 2 < len(nodes) and isinstance(nodes[i + 2], Relu) else None
        if not isinstance(dense, Dense) or not isinstance(req, Requantize):
            raise SystemExit(f"hls4ml_peer: {dense.name}: expected Dense then Requantize")
        if (req.rounding is not Rounding.HALF_UP or req.overflow is not Overflow.SATURATE
                or req.multiplier is not None):
            raise SystemExit(f"hls4ml_peer: {req.name}: only half-up, saturating, power-of-two "
                             "requantizers map to AP_RND/AP_SAT")
        chain.append((dense, req, relu))
        i += 3 if relu is not None else 2
    return nodes[0], chain


def keras_model(inp, chain):
    """Keras 3 model with float weights exactly equal to integer * 2**-frac."""
    import keras

    x = y = keras.Input(shape=inp.out.shape, name=inp.name)
    weights = []
    for dense, _req, relu in chain:
        w = np.asarray(dense.weights, dtype=np.int64)
        b = np.asarray(dense.bias, dtype=np.int64)
        kernel = (w.T * 2.0 ** -dense.weight_fmt.frac).astype(np.float32)
        bias = (b * 2.0 ** -dense.out.fmt.frac).astype(np.float32)
        # float32 holds them exactly (checked, not assumed)
        assert np.array_equal(kernel.astype(np.float64) * 2.0 ** dense.weight_fmt.frac, w.T)
        assert np.array_equal(bias.astype(np.float64) * 2.0 ** dense.out.fmt.frac, b)
        layer = keras.layers.Dense(w.shape[0], name=dense.name)
        y = layer(y)
        weights.append((layer, kernel, bias))
        if relu is not None:
            y = keras.layers.Activation("relu", name=relu.name)(y)
    model = keras.Model(x, y, name=f"{inp.name}_model")
    for layer, kernel, bias in weights:
        layer.set_weights([kernel, bias])
    return model


def hls_config(model, inp, chain):
    import hls4ml

    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis",
                                               default_reuse_factor=1)
    cfg["Model"]["Strategy"] = "Latency"
    cfg["Model"]["ReuseFactor"] = 1
    names = cfg["LayerName"]
    fmt = inp.out.fmt
    names[inp.name]["Precision"] = {"result": _ap(fmt.width, fmt.frac, fmt.signed)}
    for dense, req, relu in chain:
        acc = dense.out.fmt
        out = req.out.fmt
        result = _ap(out.width, out.frac, out.signed, ",AP_RND,AP_SAT")
        names[dense.name]["Precision"] = {
            "weight": _ap(dense.weight_fmt.width, dense.weight_fmt.frac, dense.weight_fmt.signed),
            "bias": _ap(acc.width, acc.frac),
            "accum": _ap(acc.width, acc.frac),
            "result": result,
        }
        for extra in (f"{dense.name}_linear",):  # Keras' implicit linear activation, if kept
            if extra in names:
                names[extra]["Precision"] = {"result": result}
        if relu is not None:
            names[relu.name]["Precision"] = {"result": result}
    return cfg


def rate(hls_model, x: np.ndarray) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    y = hls_model.predict(x)
    return len(x) / (time.perf_counter() - start), y


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", type=int, nargs="+", default=[10_000, 100_000],
                    help="batch sizes for the C-sim rate (default 10000 100000)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    import hls4ml
    import keras
    from neurogate.compiler import interpreter, modelfile

    graph = modelfile.load_model(MODEL)
    inp, chain = layers_of(graph)
    in_frac = inp.out.fmt.frac
    out_frac = chain[-1][1].out.fmt.frac
    model = keras_model(inp, chain)
    t_model = time.perf_counter()

    shutil.rmtree(OUT, ignore_errors=True)
    t0 = time.perf_counter()
    cfg = hls_config(model, inp, chain)
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=cfg, output_dir=str(OUT), backend="Vitis", io_type="io_parallel",
        project_name="jet_mlp")
    t1 = time.perf_counter()
    hls_model.compile()  # write() the project, then g++ (build_lib.sh) and dlopen
    t2 = time.perf_counter()
    x_first = interpreter.make_vectors(graph, 1, seed=1)
    y_first = hls_model.predict(np.ascontiguousarray(x_first * 2.0 ** -in_frac, dtype=np.float32))
    t3 = time.perf_counter()

    # precisions hls4ml actually used (after its optimizers), for the record
    used = {layer.name: {k: str(v.precision) for k, v in layer.types.items()
                         if k in ("result_t", "accum_t", "weight_t", "bias_t")}
            for layer in hls_model.get_layers()}

    rates, mismatches, total = {}, 0, 0
    for n in args.vectors:
        x = interpreter.make_vectors(graph, n, seed=0)
        xf = np.ascontiguousarray(x * 2.0 ** -in_frac, dtype=np.float32)
        assert np.array_equal(xf.astype(np.float64) * 2.0 ** in_frac, x)
        rates[n], y = rate(hls_model, xf)
        codes = np.asarray(y, dtype=np.float64).reshape(n, -1) * 2.0 ** out_frac
        if not np.array_equal(codes, np.round(codes)):
            raise SystemExit("hls4ml_peer: hls4ml outputs are not on the output grid")
        golden = interpreter.run_single_output(graph, x).reshape(n, -1)
        bad = codes.astype(np.int64) != golden
        mismatches += int(bad.sum())
        total += bad.size
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))[:3]
            for r in rows:
                print(f"mismatch at vector {r}: hls4ml {codes[r].astype(int).tolist()} "
                      f"golden {golden[r].tolist()}", file=sys.stderr)
    first = np.asarray(y_first, dtype=np.float64).reshape(-1) * 2.0 ** out_frac
    first_ok = np.array_equal(first, interpreter.run_single_output(graph, x_first).reshape(-1))

    sizes = "-".join([str(inp.out.shape[-1])] + [str(d.out.shape[-1]) for d, _, _ in chain])
    print(f"hls4ml peer: {graph.name} {sizes}, hls4ml {hls4ml.__version__}, keras "
          f"{keras.__version__} ({keras.backend.backend()}), Vitis io_parallel Latency RF 1")
    print(f"  model -> first C-sim result   {t3 - t0:7.2f} s  (convert {t1 - t0:.2f} s, "
          f"write + g++ {t2 - t1:.2f} s, first predict {t3 - t2:.3f} s)")
    print(f"  imports + Keras model build   {t_model - t_start:7.2f} s  (before the above)")
    for n, r in rates.items():
        print(f"  C-sim rate, {n:>7,} inputs    {r:9,.0f} inferences/s")
    print(f"  mismatches vs golden model    {mismatches} of {total:,} output elements"
          f"{'' if first_ok else ' (first predict also differs)'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "hls4ml": hls4ml.__version__, "keras": keras.__version__,
            "model_to_first_result_s": t3 - t0, "convert_s": t1 - t0,
            "write_compile_s": t2 - t1, "first_predict_s": t3 - t2,
            "imports_model_build_s": t_model - t_start,
            "csim_inferences_per_s": {str(n): r for n, r in rates.items()},
            "mismatches": mismatches + (0 if first_ok else 1), "elements": total,
            "precisions": used}, indent=1) + "\n")
    return 0 if mismatches == 0 and first_ok else 3


if __name__ == "__main__":
    sys.exit(main())
