"""Stage registers that hold together under back-pressure, shared by the streaming blocks.

A fixed-latency pipeline between an input stream ``i`` and an output stream ``o``
advances whenever ``o`` can take a value (``~o.valid | o.ready``); every stage register
loads only then, so the whole pipeline holds when ``o`` is stalled.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal


def delay(m: Module, value, stages: int, enable, name: str):
    """``value`` delayed by ``stages`` enabled clock edges."""
    for k in range(stages):
        reg = Signal.like(value, name=f"{name}_d{k}")
        with m.If(enable):
            m.d.sync += reg.eq(value)
        value = reg
    return value


def held_pipeline(m: Module, i, o, latency: int):
    """Handshake of a ``latency``-stage pipeline from ``i`` to ``o``: ``i.ready`` is the
    advance condition and ``o.valid`` follows ``i.valid`` ``latency`` advances later.
    Returns ``advance``, the enable of the caller's stage registers (its last stage
    drives ``o.payload``)."""
    advance = Signal(name="advance")
    m.d.comb += [advance.eq(~o.valid | o.ready), i.ready.eq(advance)]
    valid = delay(m, i.valid, latency - 1, advance, "valid")
    with m.If(advance):
        m.d.sync += o.valid.eq(valid)
    return advance
