"""The spatial style's reuse factor on an FPGA: a model compiled at each factor, verified on
Verilator and placed on the device; prints the estimated logic cells (TRELLIS_COMB), the LUTs,
flip-flops and DSP blocks yosys and nextpnr used, whether it fits, and Fmax.

    .venv/bin/python bench/spatial_reuse.py           # ECON-T on the ECP5-85k, R = 2, 3, 4
    .venv/bin/python bench/spatial_reuse.py --reuse 4 8 --target ecp5-45k

Each factor is a full yosys + nextpnr run (minutes each for ECON-T); they run one after
the other.  Build folders go to ``bench/out/<model>_reuse<R>_levels<L>_<target>``.
"""

from __future__ import annotations

import argparse
import time

from common import ROOT
from neurogate.compiler import api
from neurogate.compiler.targets import get_target
from neurogate.numerics.errors import NeurogateError


def run(model: str, target: str, reuse: int, vectors: int, levels_per_stage: int) -> dict:
    out = ROOT / "bench" / "out" / (f"{model.split('/')[-1].split('.')[0]}_reuse{reuse}_"
                                     f"levels{levels_per_stage}_{target}")
    start = time.perf_counter()
    try:
        design = api.compile_design(api.load(ROOT / model), style="spatial", target=target,
                                    reuse=reuse, levels_per_stage=levels_per_stage, out=out)
    except NeurogateError as error:
        return {"reuse": reuse, "refused": str(error)}
    verified = api.verify(out, vectors=vectors)
    synth = api.synth(out)
    cost = design.cost
    used = synth["utilization"]
    return {
        "reuse": reuse, "ii": design.initiation_interval, "latency": design.latency,
        "multipliers": cost.multipliers, "estimate_luts": cost.fpga_luts + (
            0 if cost.multipliers_in_dsps(get_target(target).dsps)
            else cost.multiplier_luts),
        "mismatches": verified["verified"]["mismatches"],
        "elements": verified["verified"]["elements"],
        "yosys_luts": synth["resources"].get("lut"), "ff": synth["resources"].get("ff"),
        "dsp": synth["resources"].get("dsp"),
        "comb": used.get("TRELLIS_COMB"), "fits": synth["fits"],
        "fmax": synth["fmax_mhz"], "seconds": round(time.perf_counter() - start),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/econt.py")
    parser.add_argument("--target", default="ecp5-85k")
    parser.add_argument("--reuse", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--vectors", type=int, default=2000)
    parser.add_argument("--levels-per-stage", type=int, default=2)
    args = parser.parse_args()
    print(f"{args.model} on {args.target}, spatial style, {args.levels_per_stage} adder levels "
          "per pipeline stage")
    print("| R | II | latency | multipliers | logic cells est. | yosys LUT4 | FF | DSP | "
          "TRELLIS_COMB used/available | fits | Fmax MHz | mismatches | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for reuse in args.reuse:
        r = run(args.model, args.target, reuse, args.vectors, args.levels_per_stage)
        if "refused" in r:
            print(f"| {reuse} | refused at compile: {r['refused']} |", flush=True)
            continue
        comb = f"{r['comb'][0]:,} / {r['comb'][1]:,}" if r["comb"] else "-"
        fmax = f"{r['fmax']:.1f}" if r["fmax"] else "-"
        print(f"| {reuse} | {r['ii']} | {r['latency']} | {r['multipliers']} | "
              f"{r['estimate_luts']:,} | {r['yosys_luts']:,} | {r['ff']:,} | {r['dsp']} | "
              f"{comb} | {'yes' if r['fits'] else 'no'} | {fmax} | "
              f"{r['mismatches']} of {r['elements']:,} | {r['seconds']} |", flush=True)


if __name__ == "__main__":
    main()
