"""Cycle model of ``hw.accelerator.Accelerator`` for one inference.

Counts cycles from the transfer of the first input chunk to the transfer of the last
output, inclusive, with the input offered back to back and the output always ready.
It follows the RTL's timing event by event (tests hold it *equal* to Verilator and
Amaranth-simulator counts), with every delay read from ``config.timing``
(``hw.config.EngineTiming``), the latencies the RTL is built from:

* the input chunks arrive one per cycle; the first chunk is decided ``load_to_run``
  cycles after the last arrives;
* one chunk is decided per cycle, except that a tile's last chunk waits until fewer than
  ``tile_banks`` tiles hold a collector bank (from that decision until the bank is
  emptied, seen ``credit_return`` cycles later);
* a tile's first row leaves its bank ``capture_delay`` cycles after its last chunk is
  decided; banks drain in order, one row per cycle, and each value leaves the
  requantizer ``requantize`` cycles later;
* the next layer decides its first chunk ``layer_switch`` cycles after the previous
  layer's last output.

The model runs on the typed objects alone: an ``AcceleratorConfig`` and the layer
descriptors, from a ``Program`` (``inference_cycles(program)``) or from a compiled
folder's ``Design`` (``inference_cycles(design.config, design.engine.descriptors)``);
no weights are needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...hw.config import AcceleratorConfig
from ...hw.program import LayerDescriptor, Program


@dataclass(frozen=True)
class LayerTiming:
    first_issue: int
    last_output: int


def _typed(source: Program | AcceleratorConfig, layers: Sequence[LayerDescriptor] | None
           ) -> tuple[AcceleratorConfig, tuple[LayerDescriptor, ...]]:
    if layers is None:
        if not isinstance(source, Program):
            raise TypeError(f"the cycle model takes a Program, or an AcceleratorConfig and "
                            f"its layer descriptors, not {type(source).__name__} alone")
        return source.config, tuple(source.layers)
    if not isinstance(source, AcceleratorConfig):
        raise TypeError(f"the cycle model takes an AcceleratorConfig with the layer "
                        f"descriptors, not {type(source).__name__}")
    layers = tuple(layers)
    if not layers or not all(isinstance(d, LayerDescriptor) for d in layers):
        raise TypeError("the cycle model needs at least one layer, each a LayerDescriptor")
    return source, layers


def engine_timeline(config: Program | AcceleratorConfig,
                    layers: Sequence[LayerDescriptor] | None = None) -> list[LayerTiming]:
    """Per layer, the cycle of its first decision and of its last output."""
    cfg, layers = _typed(config, layers)
    timing = cfg.timing
    rows, banks = cfg.array.rows, cfg.memory.tile_banks
    decision = layers[0].k_tiles - 1 + timing.load_to_run   # first RUN cycle
    timeline = []
    for layer in layers:
        first_issue = decision
        released: list[int] = []            # cycle of each tile's credit pulse
        reserved = 0                        # tiles whose last chunk has been decided
        serializer_free = 0
        last_row = 0
        for nt in range(layer.n_tiles):
            rows_valid = min(rows, layer.n_out - nt * rows)
            decision += layer.k_tiles - 1   # the chunks before the last never wait
            while reserved - sum(1 for c in released
                                 if c <= decision - timing.credit_return) >= banks:
                decision += 1
            reserved += 1
            start = max(decision + timing.capture_delay, serializer_free)
            last_row = start + rows_valid - 1
            released.append(last_row)
            serializer_free = last_row + 1
            decision += 1
        last_output = last_row + timing.requantize
        timeline.append(LayerTiming(first_issue=first_issue, last_output=last_output))
        decision = last_output + timing.layer_switch
    return timeline


def inference_cycles(config: Program | AcceleratorConfig,
                     layers: Sequence[LayerDescriptor] | None = None) -> int:
    """Cycles of one inference: ``inference_cycles(config, descriptors)``, or
    ``inference_cycles(program)`` for ``program.config`` and ``program.layers``."""
    return engine_timeline(config, layers)[-1].last_output + 1


def useful_macs(program: Program, layer_sizes: list[tuple[int, int]]) -> int:
    return sum(n * k for n, k in layer_sizes)


def utilization(program: Program, layer_sizes: list[tuple[int, int]], cycles: int) -> float:
    """Useful MACs / (PEs x cycles): the fraction of PE-cycles doing a real multiply-add."""
    return useful_macs(program, layer_sizes) / (program.config.array.pes * cycles)
