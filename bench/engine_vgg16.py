"""VGG16 at 224x224 on the programmable engine, printed next to CNNA's 2.0 s per image
(Ultra96, Q2.14).

    .venv/bin/python bench/engine_vgg16.py [--mhz F]

* The feature extractor (13 convolutions, 5 pools: ``models/vgg16.py``, seeded
  weights) is compiled for the default 8x8 engine, the one whose weight buffer holds a
  512-channel 3x3 layer's tile: its activations live in host memory (row bands) and its
  program is sent in pages.  Its cycles are the cycle model's count for that program,
  the count the RTL gives to the cycle on every program the tests run (spills, pages,
  weight streams included); the per-layer figures come from the same model's issue
  times over the unpaged program.
* The classifier (fc6-fc8) is not compiled: fc6 reduces over 25,088 inputs, 3,136
  weight words per column, more than half the weight buffer (splitting a reduction is
  not done yet).  It is costed from its shapes: the MATMUL's cycles by the cycle model,
  or its weight stream at 8 bytes per clock when that is longer (it is).

Off-chip bandwidth is the engine's host port: 8 bytes per clock each way (64-bit
words), 0.72 GB/s at 90.56 MHz.  GOPS count 2 operations per multiply-accumulate; GOPS
per DSP divides by the array's 64 multipliers.
"""

from __future__ import annotations

import argparse
import sys
import time

from neurogate.compiler.backends.engine.lower import MatmulStep, lower
from neurogate.compiler.backends.engine.program import build_program
from neurogate.compiler.verifier import verify
from neurogate.hw.engine import isa
from neurogate.hw.engine.config import EngineConfig
from neurogate.hw.engine.isa import Opcode
from neurogate.models.vgg16 import build_model
from neurogate.sim.engine.cycles import program_cycles, unit_cycles

CNNA_SECONDS = 2.0
CLASSIFIER = (("fc6", 7 * 7 * 512, 4096), ("fc7", 4096, 4096), ("fc8", 4096, 1000))
HOST_BYTES_PER_CLOCK = 8


def feature_layers(program, config: EngineConfig):
    """(layer, cycles) of the inference section by the unpaged cycle model's issue
    times, and that model's total."""
    issues: list[int] = []
    start = program.inference_pc
    total = program_cycles(config, program.instructions[start:], issues)
    marks = [(name, pc - start) for name, pc in program.layer_pcs] + [("end", len(issues) - 1)]
    return [(name, issues[b] - issues[a]) for (name, a), (_, b) in zip(marks, marks[1:])], total


def classifier_cycles(config: EngineConfig) -> list[tuple[str, int, int]]:
    """(layer, MACs, cycles): the longer of its MATMUL and its weight stream."""
    n, out = config.array, []
    for name, k, units in CLASSIFIER:
        ins = isa.decode(isa.encode(Opcode.MATMUL, oh=1, ow=1, tiles=-(-units // n), kh=1,
                                    kw=1, chunks=-(-k // n)))
        stream = k * units * config.weight_bits // 8 // HOST_BYTES_PER_CLOCK
        out.append((name, k * units, max(unit_cycles(config, ins), stream)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mhz", type=float, default=MEASURED_MHZ,
                        help="clock (default: the default 8x8 engine's routed Fmax on the "
                             "ECP5-85k, docs/engine.md)")
    args = parser.parse_args()
    config = EngineConfig()
    started = time.perf_counter()
    low = lower(verify(build_model()), config)
    program = build_program(low)
    compile_seconds = time.perf_counter() - started
    macs = {s.layer: s.macs for s in low.steps if isinstance(s, MatmulStep)}
    layers, unpaged = feature_layers(program, config)
    features = program.run_cycles
    stored, loaded = program.spill_words
    print(f"{config.array}x{config.array} engine (scratchpad {config.spad_words} words, weight "
          f"buffer {config.wbuf_words}) at {args.mhz:.2f} MHz; host port "
          f"{HOST_BYTES_PER_CLOCK} bytes per clock each way "
          f"({HOST_BYTES_PER_CLOCK * args.mhz / 1e3:.2f} GB/s)")
    print(f"features compiled in {compile_seconds:.1f} s: {len(program.instructions):,} "
          f"instructions in {program.pages} pages, {len(program.offchip)} tensors in host "
          f"memory ({stored * config.spad_bits // 8 / 1e6:.1f} MB stored, "
          f"{loaded * config.spad_bits // 8 / 1e6:.1f} MB loaded back), "
          f"{program.weight_stream_words * config.host_bits // 8 / 1e6:.1f} MB of weights "
          "streamed per image")
    print(f"{'layer':<9} {'MMACs':>8} {'cycles':>12} {'MACs/(PEs x cycles)':>20}")
    pes = config.array ** 2
    for name, cycles in layers:
        mac = macs.get(name, 0)
        util = f"{mac / (pes * cycles):.1%}" if mac else "-"
        print(f"{name:<9} {mac / 1e6:>8.1f} {cycles:>12,} {util:>20}")
    print(f"{'features':<9} {sum(macs.values()) / 1e6:>8.1f} {features:>12,} "
          f"{sum(macs.values()) / (pes * features):>20.1%}   (paging: "
          f"{features - unpaged:+,} cycles)")
    total, total_macs = features, sum(macs.values())
    for name, mac, cycles in classifier_cycles(config):
        total += cycles
        total_macs += mac
        print(f"{name:<9} {mac / 1e6:>8.1f} {cycles:>12,} {mac / (pes * cycles):>20.1%}   "
              "(shapes: weight stream bound)")
    seconds = total / (args.mhz * 1e6)
    gops = 2 * total_macs / seconds / 1e9
    print(f"VGG16: {total_macs / 1e9:.2f} GMACs, {total:,} cycles = {seconds:.3f} s per image "
          f"at {args.mhz:.2f} MHz (CNNA: {CNNA_SECONDS} s); {gops:.2f} GOPS, "
          f"{gops / pes:.3f} GOPS per DSP ({pes} multipliers)")
    return 0


#: The default 8x8 engine (weight buffer 2,048 words: the one VGG16 needs; 115 block
#: RAMs) on the ECP5-85k, routed: `neurogate synth build/vgg16 --mhz 100 --seeds 3`
#: (seeds 1-3: 69.94, 90.56, 77.77 MHz; docs/engine.md).
MEASURED_MHZ = 90.56

if __name__ == "__main__":
    sys.exit(main())
