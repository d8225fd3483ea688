"""What a Keras tensor is while the front-end converts: an IR value, or an op held back.

A quantizer after a linear layer with a non-power-of-two scale (a folded batchnorm, an
``alpha="auto"`` kernel, an unquantized bias), or after an average whose divisor is not a
power of two, must become *one* rounding: the linear layer's bias is rounded into its
accumulator and the scale becomes the Requantize multiplier; the average and the
quantizer become one exact rational rounding.  So such producers are kept as
``PendingLinear`` / ``PendingMean`` until their consumer is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Exact:
    """An IR value whose integers times ``2**-frac`` are exactly the Keras tensor;
    ``bound`` is the largest magnitude its integers can take."""

    name: str
    bound: int


@dataclass
class PendingLinear:
    """A Dense or Conv2D not yet emitted: ``real = (x @ W) * 2**-(x.frac + weight_frac)
    * scale[c] + bias[c]`` per output channel ``c`` (``scale`` None means 1).

    ``weights`` are integers in the IR layout (Dense ``(out, in)``, Conv2D ``(kh, kw,
    in // groups, out)``); ``bias`` the real float64 values (float32 in Keras).
    """

    layer: str
    kind: str
    op: str                      # "dense" or "conv"
    x: Exact
    weights: np.ndarray
    weight_frac: int
    weight_bits: int | None
    bias: np.ndarray
    scale: np.ndarray | None = None
    conv: dict = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)   # why it is not exact, if it is not

    @property
    def channels(self) -> int:
        return int(self.weights.shape[0] if self.op == "dense" else self.weights.shape[-1])


@dataclass
class PendingMean:
    """An average pool (``pool`` None: global) whose divisors are not all powers of two:
    only a following quantizer can round it exactly (one rational rounding)."""

    layer: str
    kind: str
    x: Exact
    pool: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: str = "valid"


Value = Exact | PendingLinear | PendingMean
