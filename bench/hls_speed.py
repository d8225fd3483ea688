"""HLS backend speed on the jet-tagging MLP, beside hls4ml's in the same run.

    .venv/bin/python bench/hls_speed.py

Prints, for models/jet_mlp.py (16-64-32-32-5, input ap_fixed<16,6>, 8-bit weights and
activations), io_parallel, latency strategy:

* model to first verified C-sim result: first ever (empty g++ cache, so the one-time
  precompiled header of the ap_int/ap_fixed and kernel headers is built too), cold (a
  model never compiled before, the precompiled header there: compile the model, write
  the project, g++, C-simulate 200 vectors against the golden model) and warm (cached);
* C-sim inferences per second (10^5 vectors, the testbench's loop) and end to end with
  the golden comparison;
* then, if bench/out/peer-venv exists (make hls4ml-peer), hls4ml 1.3's figures for the
  same model in the same run (bench/hls4ml_peer.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from common import run_hls4ml_peer
from neurogate.compiler import api

ROOT = Path(__file__).resolve().parents[1]


def first_result(out: Path, model: str = "jet_mlp") -> tuple[float, float]:
    start = time.perf_counter()
    folder = api.compile(api.load(ROOT / "models" / f"{model}.py"), backend="hls", out=out)
    compiled = time.perf_counter()
    report = api.verify(folder, vectors=200)
    assert report["verified"]["mismatches"] == 0
    return compiled - start, time.perf_counter() - start


def main() -> int:
    out = ROOT / "bench" / "out" / "hls_speed"
    with tempfile.TemporaryDirectory() as cache:
        os.environ["NEUROGATE_CACHE_DIR"] = cache
        _, first_ever = first_result(out / "first", "mlp_digits")
        cold_compile, cold = first_result(out / "cold")
    os.environ.pop("NEUROGATE_CACHE_DIR")
    first_result(out / "jet")
    warm_compile, warm = first_result(out / "jet")
    print("jet_mlp 16-64-32-32-5, HLS backend (io_parallel, latency), model to first verified "
          "C-sim result (200 vectors):")
    print(f"  first ever (precompiled header built, digits MLP): {first_ever:6.2f} s")
    print(f"  cold (g++ build): {cold:6.2f} s  (compile + project {cold_compile:.2f} s)")
    print(f"  warm (cached):    {warm:6.2f} s  (compile + project {warm_compile:.2f} s)")
    start = time.perf_counter()
    report = api.verify(out / "jet", vectors=100_000, seed=1)
    wall = time.perf_counter() - start
    print(f"  C-sim, 100,000 vectors: {report['verified']['mismatches']} mismatches; "
          f"{report['simulation']['inferences_per_second']:,.0f} inferences/s in the testbench, "
          f"{100_000 / wall:,.0f} verified inferences/s end to end")
    run_hls4ml_peer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
