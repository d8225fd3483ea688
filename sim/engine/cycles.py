"""Cycle model of the programmable engine's RTL (``hw.engine.top.Engine``).

``program_cycles(config, instructions)``: cycles from the RUN command's transfer (cycle
0) to the first cycle the engine is no longer busy after END, for a run from pc 0 over
``instructions`` (words, as ``isa.encode`` gives them), with the host stream always
valid and the output always ready.  Built from the timing constants of the RTL's units,
so a change in a pipeline depth changes the model too:

* the decoder issues the first instruction ``Decoder.FIRST_ISSUE`` cycles after the
  command unit's ``run_start`` (``CommandUnit.RUN_START_DELAY`` cycles after the RUN
  word), each next one ``Decoder.ISSUE_INTERVAL`` cycles after its predecessor at
  the earliest, and later while the instruction waits (for its unit, for the units of
  its wait bits, and for the scratchpad hazards);
* a unit started at cycle ``t`` is busy from ``t + 1`` for ``LoadUnit.cycles``,
  ``ExecUnit.cycles`` or ``StoreUnit.cycles`` cycles, and a waiting instruction can
  issue ``Decoder.IDLE_TO_ISSUE`` cycles after the first idle one;
* END issues once every unit is idle, and the run is over the cycle after.
"""

from __future__ import annotations

from ...hw.engine import isa
from ...hw.engine.command import CommandUnit
from ...hw.engine.config import EngineConfig
from ...hw.engine.decoder import Decoder
from ...hw.engine.exec import ExecUnit
from ...hw.engine.isa import Memory, Opcode, Unit
from ...hw.engine.loader import LoadUnit
from ...hw.engine.store import StoreUnit

EXEC_OPS = (Opcode.MATMUL, Opcode.POOL, Opcode.ADD)


def cells(ins: isa.Instruction) -> int:
    """Cells (cycles of the exec unit's generator) of a MATMUL, POOL or ADD."""
    if ins.op is Opcode.ADD:
        return 2 * ins.count
    f = ins.fields
    return f["oh"] * f["ow"] * f["tiles"] * f["kh"] * f["kw"] * f["chunks"]


def unit_cycles(config: EngineConfig, ins: isa.Instruction) -> int:
    """Cycles the instruction's unit is busy (from the cycle after its issue)."""
    if ins.op is Opcode.LOAD:
        return LoadUnit.cycles(config, Memory(ins.mem), ins.count)
    if ins.op is Opcode.STORE:
        return StoreUnit.cycles(ins.count)
    return ExecUnit.cycles(config, ins.op, cells(ins))


def unit_of(op: Opcode) -> Unit | None:
    if op is Opcode.LOAD:
        return Unit.LOAD
    if op is Opcode.STORE:
        return Unit.STORE
    return Unit.EXEC if op in EXEC_OPS else None


def program_cycles(config: EngineConfig, instructions, issues: list[int] | None = None) -> int:
    """Cycles of one run of ``instructions`` from pc 0 to its END (module docstring);
    each instruction's issue cycle is appended to ``issues`` when it is given."""
    free = {u: 0 for u in Unit}          # first cycle an instruction waiting for a unit
    spad_load_free = 0                   # may issue; the load unit's, for a scratchpad LOAD
    ready = CommandUnit.RUN_START_DELAY + Decoder.FIRST_ISSUE
    for word in instructions:
        ins = isa.decode(word)
        if not isinstance(ins.op, Opcode) or isa.check(ins, config):
            raise ValueError(f"instruction {word:#x} does not run (the model needs a valid "
                             f"program)")
        t = max([ready] + [free[u] for u in Unit if ins.wait >> u & 1])
        unit = unit_of(ins.op)
        if ins.op is Opcode.END:
            t = max([t] + list(free.values()))
            if issues is not None:
                issues.append(t)
            return t + 1
        if unit is not None:
            t = max(t, free[unit])
        if ins.op is Opcode.LOAD and ins.mem == Memory.SPAD or unit is Unit.STORE:
            t = max(t, free[Unit.EXEC])
        if unit is Unit.EXEC:
            t = max(t, spad_load_free, free[Unit.STORE])
        if issues is not None:
            issues.append(t)
        if unit is not None:
            free[unit] = t + unit_cycles(config, ins) + 1 + Decoder.IDLE_TO_ISSUE
            if ins.op is Opcode.LOAD and ins.mem == Memory.SPAD:
                spad_load_free = free[unit]
        ready = t + Decoder.ISSUE_INTERVAL
    raise ValueError("the program has no END")
