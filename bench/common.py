"""What the bench scripts share: compiling a shipped model into bench/out/."""

from __future__ import annotations

import subprocess
from pathlib import Path

from neurogate.compiler import api
from neurogate.compiler.design import ProgramDesign

ROOT = Path(__file__).resolve().parents[1]


def compile_example(model: str, array: str, target: str = "ecp5-85k",
                    out: Path | None = None) -> tuple[Path, ProgramDesign]:
    """Compile ``models/...`` for ``array`` and ``target``; return (folder, typed design)."""
    out = out or ROOT / "bench" / "out" / f"{Path(model).stem}_{array}_{target}"
    design = api.compile_design(api.load(ROOT / model), array=array, target=target, out=out)
    return out, design


PEER = ROOT / "bench" / "out" / "peer-venv" / "bin" / "python"


def run_hls4ml_peer() -> None:
    """hls4ml 1.3 on the jet MLP in its own venv (make hls4ml-peer), in this same run."""
    if PEER.exists():
        print("hls4ml peer, same machine, same run (bench/hls4ml_peer.py):", flush=True)
        subprocess.run([str(PEER), str(ROOT / "bench" / "hls4ml_peer.py")], check=False)
    else:
        print("hls4ml peer: not installed here (make hls4ml-peer installs it into "
              "bench/out/peer-venv)")
