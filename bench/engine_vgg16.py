"""VGG16 at 224x224 on the programmable engine: latency from the cycle model (shapes
only; no weights are made), printed next to CNNA's 2.0 s per image (Ultra96, Q2.14).

    .venv/bin/python bench/engine_vgg16.py [--mhz F] [--bandwidth-gbs B] [--array N]

Each layer is costed as the engine would run it:

* compute: the cycle model's count for the layer's MATMUL (3x3 convolutions; the dense
  layers as 1x1 windows) or POOL instruction (``sim.engine.cycles.unit_cycles``);
* traffic: VGG16's activations (3.2 MB after the first layer) do not fit the 64 KB
  scratchpad, so a layer runs in row bands: its input and output cross the chip
  boundary once, and its weights once per band unless they fit the weight buffer;
* a layer takes max(compute, inbound bytes / bandwidth, outbound bytes / bandwidth)
  cycles: loads of the next band overlap the current band's compute (the double
  buffering of weights the engine does; for activations this schedule is not compiled
  yet: the compiler keeps whole tensors on chip, so this is the model's bound).

The default bandwidth is the engine's own host port, 8 bytes per clock each way at the
given clock (``--mhz``, default the 8x8 engine's ECP5-85k Fmax as nextpnr estimated it
after placement); GOPS count 2
operations per multiply-accumulate; GOPS per DSP divides by the array's multipliers.
"""

from __future__ import annotations

import argparse
import sys

from neurogate.hw.engine import isa
from neurogate.hw.engine.config import EngineConfig
from neurogate.hw.engine.isa import Opcode
from neurogate.sim.engine.cycles import unit_cycles

CNNA_SECONDS = 2.0
VGG16 = [("conv1_1", 64), ("conv1_2", 64), "pool", ("conv2_1", 128), ("conv2_2", 128), "pool",
         ("conv3_1", 256), ("conv3_2", 256), ("conv3_3", 256), "pool",
         ("conv4_1", 512), ("conv4_2", 512), ("conv4_3", 512), "pool",
         ("conv5_1", 512), ("conv5_2", 512), ("conv5_3", 512), "pool"]
FC = [("fc6", 4096), ("fc7", 4096), ("fc8", 1000)]


def groups(c: int, n: int) -> int:
    return -(-c // n)


def layers(n: int):
    """(name, MACs, instruction fields, input bytes, output bytes, weight bytes)."""
    h = w = 224
    c = 3
    for item in VGG16:
        if item == "pool":
            fields = dict(oh=h // 2, ow=w // 2, tiles=groups(c, n), kh=2, kw=2, chunks=1)
            yield ("pool", 0, Opcode.POOL, fields, h * w * c, h * w * c // 4, 0)
            h, w = h // 2, w // 2
            continue
        name, out = item
        fields = dict(oh=h, ow=w, tiles=groups(out, n), kh=3, kw=3, chunks=groups(c, n))
        yield (name, h * w * 9 * c * out, Opcode.MATMUL, fields, h * w * c, h * w * out,
               9 * c * out)
        c = out
    k = h * w * c
    for name, out in FC:
        fields = dict(oh=1, ow=1, tiles=groups(out, n), kh=1, kw=1, chunks=groups(k, n))
        yield (name, k * out, Opcode.MATMUL, fields, k, out, k * out)
        k = out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--array", type=int, default=8)
    parser.add_argument("--mhz", type=float, default=None,
                        help="clock (default: the 8x8 engine's Fmax on ECP5-85k as nextpnr "
                             "estimated it after placement)")
    parser.add_argument("--bandwidth-gbs", type=float, default=None,
                        help="off-chip bandwidth each way (default: 8 bytes per clock)")
    args = parser.parse_args()
    config = EngineConfig(array=args.array)
    mhz = args.mhz or MEASURED_MHZ
    per_clock = (args.bandwidth_gbs * 1e3 / mhz) if args.bandwidth_gbs else 8.0
    spad_bytes = config.spad_words * config.spad_bits // 8
    wbuf_bytes = config.array * config.wbuf_words * config.wbuf_bits // 8
    total = macs = 0
    print(f"{config.array}x{config.array} engine at {mhz:.1f} MHz, {per_clock:.1f} bytes per "
          f"clock each way ({per_clock * mhz / 1e3:.2f} GB/s)")
    print(f"{'layer':<8} {'MMACs':>8} {'compute':>11} {'traffic':>11} {'cycles':>11} bound")
    for name, mac, op, fields, in_b, out_b, w_b in layers(config.array):
        ins = isa.decode(isa.encode(op, **fields))
        compute = unit_cycles(config, ins)
        bands = max(1, -(-(in_b + out_b) // spad_bytes))
        weights = w_b if w_b <= wbuf_bytes // 2 else w_b * bands
        traffic = int(max(in_b + weights, out_b) / per_clock)
        cycles = max(compute, traffic)
        total += cycles
        macs += mac
        print(f"{name:<8} {mac / 1e6:>8.1f} {compute:>11,} {traffic:>11,} {cycles:>11,} "
              f"{'compute' if compute >= traffic else 'memory'}")
    seconds = total / (mhz * 1e6)
    gops = 2 * macs / seconds / 1e9
    print(f"VGG16: {macs / 1e9:.2f} GMACs, {total:,} cycles = {seconds:.3f} s per image at "
          f"{mhz:.1f} MHz (CNNA: {CNNA_SECONDS} s); {gops:.2f} GOPS, "
          f"{gops / config.array ** 2:.3f} GOPS per DSP ({config.array ** 2} multipliers)")
    return 0


#: The 8x8 engine with the residual CNN's memories on the ECP5-85k, routed (`make demo`:
#: `neurogate synth build/cnn --mhz 100 --seeds 3` on a `--wbuf-words 512` folder, the
#: fastest of seeds 1 to 3; docs/engine.md).
MEASURED_MHZ = 103.55

if __name__ == "__main__":
    sys.exit(main())
