import dataclasses

import numpy as np
import pytest
from neurogate.hw.config import AcceleratorConfig, ArrayShape, MemoryDepths, Widths
from neurogate.hw.program import LayerDescriptor, Program, pack_lanes, unpack_lanes
from neurogate.numerics.rounding import Rounding


def test_defaults_and_variants():
    cfg = AcceleratorConfig()
    assert str(cfg.array) == "8x8" and cfg.widths.acc_bits == 32
    wide = dataclasses.replace(cfg, array=ArrayShape(16, 4))
    assert wide.array.pes == 64 and cfg.array.pes == 64


@pytest.mark.parametrize("kwargs,message", [
    (dict(act_bits=1), "activation width must be an integer from 2 to 32, not 1"),
    (dict(acc_bits=65), "accumulator width must be an integer from 2 to 64, not 65"),
    (dict(act_bits=8, out_bits=6), r"output width \(6\) must be at least the activation width"),
    (dict(acc_bits=16, out_bits=20), r"output width \(20\) must not exceed the accumulator"),
])
def test_bad_widths(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Widths(**kwargs)


def test_bad_depths_and_array_text():
    with pytest.raises(ValueError, match="tile_banks must be an integer from 2 to 16, not 1"):
        MemoryDepths(tile_banks=1)
    with pytest.raises(ValueError, match="array must look like ROWSxCOLS"):
        ArrayShape.parse("8")


def test_lane_packing_round_trip():
    lanes = [-128, 127, 0, -1]
    assert unpack_lanes(pack_lanes(lanes, 8), 8, 4) == lanes
    assert pack_lanes([1, -1], 4) == 0xF1


def test_program_checks_its_images():
    cfg = AcceleratorConfig(array=ArrayShape(2, 2), memory=MemoryDepths(weight_words=3))
    layer = LayerDescriptor(k_tiles=1, n_tiles=1, n_out=2, w_base=0, b_base=0, shift=0,
                            rounding=Rounding.HALF_UP, lo=-128, hi=127, last=True)
    with pytest.raises(ValueError,
                       match=r"weight image has shape \(2, 2, 2\), expected \(2, 3, 2\)"):
        Program(config=cfg, layers=(layer,), weights=np.zeros((2, 2, 2), dtype=np.int64),
                biases=np.zeros((1, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="exactly the final layer must be marked last"):
        Program(config=cfg, layers=(dataclasses.replace(layer, last=False),),
                weights=np.zeros((2, 3, 2), dtype=np.int64),
                biases=np.zeros((1, 2), dtype=np.int64))


def test_timing_comes_from_the_blocks():
    from neurogate.hw.accelerator import Accelerator
    from neurogate.hw.collector import TileCollector
    from neurogate.hw.requant import Requantizer
    cfg = AcceleratorConfig(array=ArrayShape(2, 3))
    t = cfg.timing
    assert t.matrix_unit == cfg.datapath.latency(2, 3) == 4
    assert (t.operand_read, t.capture, t.requantize, t.layer_switch) == (
        Accelerator.OPERAND_READ, TileCollector.CAPTURE_LATENCY, Requantizer.LATENCY,
        Accelerator.LAYER_SWITCH)
    assert Requantizer(in_bits=32, out_bits=8).latency == Requantizer.LATENCY
    assert t.pipeline == 1 + 4 and t.capture_delay == 3 + 4     # cols + 4
    assert dataclasses.replace(cfg, memory=MemoryDepths(tile_banks=4)).timing == t


def test_timing_follows_a_deeper_block(monkeypatch):
    from neurogate.hw.requant import Requantizer
    before = AcceleratorConfig().timing
    monkeypatch.setattr(Requantizer, "LATENCY", Requantizer.LATENCY + 2)
    assert AcceleratorConfig().timing == dataclasses.replace(
        before, requantize=before.requantize + 2)


def test_bad_timing():
    t = AcceleratorConfig().timing
    with pytest.raises(ValueError, match="timing.capture must be an integer of at least 0, not -1"):
        dataclasses.replace(t, capture=-1)
