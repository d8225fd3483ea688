"""What the bench scripts share: compiling a shipped model into bench/out/."""

from __future__ import annotations

from pathlib import Path

from neurogate.compiler import api
from neurogate.compiler.design import Design

ROOT = Path(__file__).resolve().parents[1]


def compile_example(model: str, array: str, target: str = "ecp5-85k",
                    out: Path | None = None) -> tuple[Path, Design]:
    """Compile ``models/...`` for ``array`` and ``target``; return (folder, typed design)."""
    out = out or ROOT / "bench" / "out" / f"{Path(model).stem}_{array}_{target}"
    design = api.compile_design(api.load(ROOT / model), array=array, target=target, out=out)
    return out, design
