"""ECP5 DSP blocks with their registers on, for ``hw.multiplier.PipelinedMultiplier``.

yosys's ``synth_ecp5`` maps a multiplication onto a ``MULT18X18D`` with every register
off and leaves the registers around it in the fabric: a path from a fabric register
through the block's multiplier (3.9 ns) to another fabric register, with the routing
into and out of the DSP row on the same path.  For every ``PipelinedMultiplier`` in a
Verilog netlist, ``replacements`` writes a module of the same name and ports that is one
``MULT18X18D`` with its input, pipeline and output registers on (the multiplier's
``a_dup``/``b_reg``, ``product`` and ``p_reg``); the synthesis driver reads it with
``read_verilog -overwrite`` after the netlist.

The replacement has the module's latency and arithmetic (signed operands sign-extended
to 18 bits, the product's low bits); ``tests/flows/test_ecp5_dsp.py`` proves the two
equal with yosys ``sat`` over a model of the block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...hw.multiplier import PipelinedMultiplier

#: MULT18X18D operand width.
OPERAND_BITS = 18
#: The block's registers this mapping turns on, all on clock 0 with clock enable 0.
REGISTERS = ("INPUTA", "INPUTB", "PIPELINE", "OUTPUT")

_MODULE = re.compile(r"^module (\\\S+\." + PipelinedMultiplier.NAME + r") \(([^)]*)\);\n"
                     r"(.*?)^endmodule", re.MULTILINE | re.DOTALL)
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PORT = re.compile(r"^\s*(input|output) (?:\[(\d+):0\] )?(\S+);", re.MULTILINE)


@dataclass(frozen=True)
class MultiplierModule:
    """A ``PipelinedMultiplier``'s module in a netlist: its name and port widths."""

    name: str
    ports: tuple[str, ...]
    a_bits: int
    b_bits: int
    p_name: str
    p_bits: int


def find_multipliers(verilog: str) -> list[MultiplierModule]:
    """Every ``PipelinedMultiplier`` module of ``verilog`` (Amaranth's output) that fits one
    MULT18X18D, in netlist order."""
    found = []
    for match in _MODULE.finditer(verilog):
        name, header, body = match.groups()
        widths = {}
        outputs = []
        for direction, msb, port in _PORT.findall(body):
            widths[port] = int(msb or 0) + 1
            if direction == "output":
                outputs.append(port)
        ports = tuple(p.strip() for p in header.split(","))
        if (len(outputs) != 1 or "a" not in widths or "b" not in widths
                or not all(_PLAIN.match(p) for p in ports)):
            continue
        a_bits, b_bits = widths["a"], widths["b"]
        if a_bits > OPERAND_BITS or b_bits > OPERAND_BITS:
            continue                   # wider than one block: yosys's own mapping stays
        found.append(MultiplierModule(
            name=name, ports=ports,
            a_bits=a_bits, b_bits=b_bits, p_name=outputs[0], p_bits=widths[outputs[0]]))
    return found


def _bus(prefix: str, signal: str, bits: int, width: int) -> list[str]:
    """``.<prefix><i>(<signal>[i])`` for ``i < width``, sign-extending ``signal``."""
    return [f".{prefix}{i}({signal}[{min(i, bits - 1)}])" for i in range(width)]


def replacement(module: MultiplierModule) -> str:
    """The module ``module.name`` as one registered MULT18X18D."""
    declarations = []
    for port in module.ports:
        if port == module.p_name:
            declarations.append(f"  output [{module.p_bits - 1}:0] {port};")
        elif port in ("a", "b"):
            bits = module.a_bits if port == "a" else module.b_bits
            declarations.append(f"  input [{bits - 1}:0] {port};")
        else:
            declarations.append(f"  input {port};")       # clk, rst (unused: no resets)
    params = [f'.REG_{reg}_CLK("CLK0")' for reg in REGISTERS]
    params += [f'.REG_{reg}_CE("CE0")' for reg in REGISTERS]
    params += ['.REG_INPUTC_CLK("NONE")', '.GSR("DISABLED")', '.RESETMODE("SYNC")']
    pins = (_bus("A", "a", module.a_bits, OPERAND_BITS)
            + _bus("B", "b", module.b_bits, OPERAND_BITS)
            + [f".C{i}(1'b0)" for i in range(OPERAND_BITS)]
            + [".SIGNEDA(1'b1)", ".SIGNEDB(1'b1)", ".SOURCEA(1'b0)", ".SOURCEB(1'b0)",
               ".CLK0(clk)", ".CE0(1'b1)", ".RST0(1'b0)"]
            + [f".P{i}(product[{i}])" for i in range(2 * OPERAND_BITS)])
    lines = [f"module {module.name} ({', '.join(module.ports)});", *declarations,
             f"  wire [{2 * OPERAND_BITS - 1}:0] product;",
             "  MULT18X18D #(", "    " + ",\n    ".join(params), "  ) dsp (",
             "    " + ",\n    ".join(pins), "  );",
             f"  assign {module.p_name} = product[{module.p_bits - 1}:0];", "endmodule", ""]
    return "\n".join(lines)


def replacements(verilog: str) -> str:
    """The registered-DSP modules for every multiplier of ``verilog`` ("" for none)."""
    modules = find_multipliers(verilog)
    if not modules:
        return ""
    return ("// neurogate: PipelinedMultiplier modules as registered MULT18X18D blocks "
            "(compiler/flows/ecp5_dsp.py)\n\n" + "\n".join(replacement(m) for m in modules))
