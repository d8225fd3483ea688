"""RTL verification speed: the compiled Verilator harness on the jet-tagging MLP.

    .venv/bin/python bench/verify_speed.py [--vectors 100000]

Prints, for models/jet_mlp.py (16-64-32-32-5, input ap_fixed<16,6>, 8-bit weights and
activations) on an 8x8 array:

* model to first RTL-verified result, cold (an empty simulator cache: compile + Verilator
  build + 200 vectors) and warm (the simulator of this design already built);
* RTL-verified inferences per second including the golden model and the comparison, and
  simulated clocks per second, for ``--vectors`` random inputs;
* the whole digits held-out set through the RTL (8x8 int8 MLP), with its accuracy.

If ``bench/out/peer-venv`` exists (``make hls4ml-peer``), the same run also executes
``bench/hls4ml_peer.py`` there and prints hls4ml's figures beside ours.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import run_hls4ml_peer
from neurogate.compiler import api
from neurogate.models.digits import held_out_set

ROOT = Path(__file__).resolve().parents[1]


def model_to_first_result(model: Path, out: Path) -> tuple[float, float, float]:
    start = time.perf_counter()
    folder = api.compile(api.load(model), array="8x8", out=out)
    compiled = time.perf_counter()
    report = api.verify(folder, vectors=200)
    assert report["verified"]["mismatches"] == 0
    done = time.perf_counter()
    return compiled - start, done - compiled, done - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    args = parser.parse_args(argv)
    out = ROOT / "bench" / "out" / "verify_speed"
    jet = ROOT / "models" / "jet_mlp.py"
    with tempfile.TemporaryDirectory() as cache:
        os.environ["NEUROGATE_CACHE_DIR"] = cache
        c_compile, c_verify, c_total = model_to_first_result(jet, out / "jet_cold")
    os.environ.pop("NEUROGATE_CACHE_DIR")
    model_to_first_result(jet, out / "jet")            # make sure the cache holds it
    w_compile, w_verify, w_total = model_to_first_result(jet, out / "jet")
    print("jet_mlp 16-64-32-32-5 on 8x8, model to first RTL-verified result (200 vectors):")
    print(f"  cold (simulator built): {c_total:6.2f} s  (compile {c_compile:.2f} s, "
          f"build + verify {c_verify:.2f} s)")
    print(f"  warm (simulator cached): {w_total:5.2f} s  (compile {w_compile:.2f} s, "
          f"verify {w_verify:.2f} s)")

    start = time.perf_counter()
    report = api.verify(out / "jet", vectors=args.vectors, seed=1)
    wall = time.perf_counter() - start
    sim = report["simulation"]
    print(f"jet_mlp, {args.vectors} vectors through the RTL: {report['verified']['mismatches']} "
          f"mismatches; {args.vectors / wall:,.0f} verified inferences/s end to end "
          f"(golden model and comparison included); harness {sim['inferences_per_second']:,.0f} "
          f"inferences/s, {sim['clocks_per_second']:,.0f} clocks/s")

    digits = api.compile(api.load(ROOT / "models" / "mlp_digits.py"), array="8x8",
                         out=out / "digits")
    inputs, labels = held_out_set()
    dataset = out / "digits_test.npz"
    np.savez(dataset, x=inputs, y=labels)
    start = time.perf_counter()
    report = api.verify(digits, dataset=dataset)
    acc = report["accuracy"]
    print(f"digits held-out set ({acc['labels']} images) through the RTL: "
          f"{time.perf_counter() - start:.2f} s, accuracy RTL {acc['rtl']:.2%} = golden "
          f"{acc['golden']:.2%}, {report['verified']['mismatches']} mismatches")

    run_hls4ml_peer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
