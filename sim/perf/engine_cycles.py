"""Cycle model of ``hw.accelerator.Accelerator`` for one inference.

Counts cycles from the transfer of the first input chunk to the transfer of the last
output, inclusive, with the input offered back to back and the output always ready.
It follows the RTL's timing event by event (tests hold it *equal* to Verilator and
Amaranth-simulator counts):

* the input chunks arrive one per cycle; the first chunk is issued the cycle after the last;
* one chunk is issued per cycle, except that a tile's last chunk waits until fewer than
  ``tile_banks`` tiles hold a collector bank (from that issue until the bank is emptied);
* a tile's sums are in its bank ``cols + 4`` cycles after its last chunk is issued;
  banks drain in order, one row per cycle, and each value leaves the requantizer 3
  cycles later;
* the next layer issues its first chunk 3 cycles after the previous layer's last output.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...hw.program import Program

REQUANT_LATENCY = 3
LAYER_SWITCH = 3


@dataclass(frozen=True)
class LayerTiming:
    first_issue: int
    last_output: int


def engine_timeline(program: Program) -> list[LayerTiming]:
    cfg = program.config
    rows, cols, banks = cfg.array.rows, cfg.array.cols, cfg.memory.tile_banks
    capture_delay = cols + 4
    decision = program.layers[0].k_tiles   # first RUN cycle
    timeline = []
    for layer in program.layers:
        first_issue = decision
        released: list[int] = []            # cycle of each tile's credit pulse
        reserved = 0                        # tiles whose last chunk has been issued
        serializer_free = 0
        last_row = 0
        for nt in range(layer.n_tiles):
            rows_valid = min(rows, layer.n_out - nt * rows)
            decision += layer.k_tiles - 1   # the chunks before the last never wait
            while reserved - sum(1 for c in released if c <= decision - 1) >= banks:
                decision += 1
            reserved += 1
            start = max(decision + capture_delay, serializer_free)
            last_row = start + rows_valid - 1
            released.append(last_row)
            serializer_free = last_row + 1
            decision += 1
        last_output = last_row + REQUANT_LATENCY
        timeline.append(LayerTiming(first_issue=first_issue, last_output=last_output))
        decision = last_output + LAYER_SWITCH
    return timeline


def inference_cycles(program: Program) -> int:
    return engine_timeline(program)[-1].last_output + 1


def useful_macs(program: Program, layer_sizes: list[tuple[int, int]]) -> int:
    return sum(n * k for n, k in layer_sizes)


def utilization(program: Program, layer_sizes: list[tuple[int, int]], cycles: int) -> float:
    """Useful MACs / (PEs x cycles): the fraction of PE-cycles doing a real multiply-add."""
    return useful_macs(program, layer_sizes) / (program.config.array.pes * cycles)
