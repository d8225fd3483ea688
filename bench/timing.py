"""Resources and Fmax of the programmable engine after yosys + nextpnr.

    .venv/bin/python bench/timing.py

The engine does not depend on the model: each line synthesizes the engine a shipped
model was compiled for (its memories sized for the residual CNN).  Target: the 8x8 int8
engine at 100 MHz or better on ECP5-85k.  The 8x8 engine's 64-bit host port needs more
I/O pins than the iCE40 UP5K's package has, so iCE40 is not listed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common import compile_example
from neurogate.compiler.flows.synth import synth_design

CASES = [("models/residual_cnn.py", "8x8", "ecp5-85k"), ("models/digits_cnn.py", "4x4", "ecp5-45k")]


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
