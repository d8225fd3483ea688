"""Resources and Fmax of the example designs after yosys + nextpnr.

    .venv/bin/python bench/timing.py

Target: the 8x8 int8 digits MLP closes timing on ECP5-85k at 50 MHz or better.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common import compile_example
from neurogate.compiler.flows.synth import synth_design

CASES = [("models/mlp_digits.py", "8x8", "ecp5-85k"), ("models/mlp_digits.py", "4x4", "ecp5-25k"),
         ("models/mlp_digits_int4.py", "8x8", "ecp5-85k"),
         ("models/mlp_digits.py", "2x2", "ice40-up5k")]


def main() -> int:
    print(f"{'model':<20} {'array':<5} {'target':<11} {'fits':<4} {'LUT4':>6} {'carry':>6} "
          f"{'FF':>6} {'DSP':>4} {'BRAM':>4} {'Fmax MHz':>9} {'met':>4}")
    for model, array, target in CASES:
        out, _ = compile_example(model, array, target)
        r = synth_design(out)
        res = r["resources"]
        print(f"{Path(model).stem:<20} {array:<5} {target:<11} {r['fits']!s:<4} "
              f"{res['lut']:>6} {res['carry']:>6} {res['ff']:>6} {res['dsp']:>4} {res['bram']:>4} "
              f"{r['fmax_mhz'] or '-':>9} {r['timing_met']!s:>4}")
        if not r["fits"]:
            print(f"  does not fit {target}: {r['misfit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
