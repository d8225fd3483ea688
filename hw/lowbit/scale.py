"""Output scaling after a low-bit matrix unit: integer multiplier, bias, rounding shift.

The ternary unit's per-tensor scale (BitLinear's ``gamma_w * gamma_x``, quantized to an
integer multiplier and a shift) and the binary unit's per-output-channel scale and bias
both reduce to ``saturate(round_shift(acc * scale + bias, shift), lo, hi)``, applied once
per output value, after accumulation, so its multipliers are ``lanes`` in number,
however long the dot products are.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ...numerics.checks import check_int
from ..arith import IntegerArithmetic, RoundingCode
from ..pipeline import held_pipeline


class OutputScale(wiring.Component):
    """``o[l] = saturate(round_shift(i[l] * scale[l] + bias[l], shift, rounding), lo, hi)``.

    A stream of ``lanes``-wide vectors, one per cycle; four pipeline stages (multiply,
    add the bias, shift keeping the round bit and its sticky bit, round and saturate)
    that hold together when ``o`` is not ready (the ``Requantizer`` scheme).  ``scale``,
    ``bias``, ``shift``, ``rounding``, ``lo`` and ``hi`` are quasi-static.  With
    ``per_channel=False`` there is one ``scale``/``bias`` for every lane (per-tensor).

    Parameters
    ----------
    lanes : int
        Values per transfer, 1 to 256 (1 behind ``TileCollector``'s serial stream, or
        the array's ``rows`` directly behind its result vector).
    acc_bits : int
        Signed input width, 2 to 64.
    scale_bits : int
        Signed multiplier width, 2 to 32.
    out_bits : int
        Signed output width, 1 to 32.
    per_channel : bool
        One scale and bias per lane (True) or one for all lanes (False).

    Ports
    -----
    i : In(stream), payload ArrayLayout(signed(acc_bits), lanes)
    o : Out(stream), payload ArrayLayout(signed(out_bits), lanes)
    scale : In, signed(scale_bits), or ArrayLayout(signed(scale_bits), lanes)
    bias : In, signed(acc_bits + scale_bits), or an ArrayLayout of it over lanes
    shift : In, unsigned, ``0 .. acc_bits + scale_bits - 1``
    rounding : In, RoundingCode (any ``numerics.Rounding``, ``RoundingCode.of``)
    lo, hi : In, signed(out_bits)
    """

    def __init__(self, *, lanes: int, acc_bits: int, scale_bits: int, out_bits: int,
                 per_channel: bool):
        self.lanes = check_int("lanes", lanes, low=1, high=256)
        self.acc_bits = check_int("acc_bits", acc_bits, low=2, high=64)
        self.scale_bits = check_int("scale_bits", scale_bits, low=2, high=32)
        self.out_bits = check_int("out_bits", out_bits, low=1, high=32)
        if not isinstance(per_channel, bool):
            raise ValueError(f"per_channel must be True or False, not {per_channel!r}")
        self.per_channel = per_channel
        self.product_bits = acc_bits + scale_bits
        scale = signed(scale_bits)
        bias = signed(self.product_bits)
        if per_channel:
            scale = data.ArrayLayout(scale, lanes)
            bias = data.ArrayLayout(bias, lanes)
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(signed(acc_bits), lanes))),
            "o": Out(stream.Signature(data.ArrayLayout(signed(out_bits), lanes))),
            "scale": In(scale),
            "bias": In(bias),
            "shift": In(unsigned((self.product_bits).bit_length())),
            "rounding": In(RoundingCode),
            "lo": In(signed(out_bits)),
            "hi": In(signed(out_bits)),
        })

    @property
    def latency(self) -> int:
        return 4

    def elaborate(self, platform):
        m = Module()
        advance = held_pipeline(m, self.i, self.o, self.latency)
        arith = IntegerArithmetic(a_bits=self.acc_bits, b_bits=self.scale_bits,
                                  acc_bits=self.product_bits + 1)
        for lane in range(self.lanes):
            scale = self.scale[lane] if self.per_channel else self.scale
            bias = self.bias[lane] if self.per_channel else self.bias
            product = Signal(arith.product_shape, name=f"product_{lane}")
            # One bit over the product so that adding the bias cannot wrap.
            affine = Signal(signed(self.product_bits + 1), name=f"affine_{lane}")
            kept = Signal(signed(self.product_bits + 2), name=f"kept_{lane}")
            sticky = Signal(name=f"sticky_{lane}")
            with m.If(advance):
                m.d.sync += [
                    product.eq(arith.multiply(self.i.payload[lane], scale)),
                    affine.eq(product + bias),
                    kept.eq(IntegerArithmetic.shift_keeping_round_bit(affine, self.shift)),
                    sticky.eq(IntegerArithmetic.sticky_below_round_bit(affine, self.shift)),
                    self.o.payload[lane].eq(IntegerArithmetic.saturate(
                        IntegerArithmetic.finish_round(kept, sticky, self.rounding),
                        self.lo, self.hi)),
                ]
        return m
