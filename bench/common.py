"""What the bench scripts share: compiling a shipped model into bench/out/."""

from __future__ import annotations

from pathlib import Path

from neurogate.compiler.backends.amaranth.emit import compile_graph
from neurogate.compiler.modelfile import load_model
from neurogate.compiler.targets import get_target
from neurogate.hw.config import ArrayShape

ROOT = Path(__file__).resolve().parents[1]


def compile_example(model: str, array: str, target: str = "ecp5-85k",
                    out: Path | None = None) -> tuple[Path, dict]:
    """Compile ``models/...`` for ``array`` and ``target``; return (folder, design)."""
    out = out or ROOT / "bench" / "out" / f"{Path(model).stem}_{array}_{target}"
    design = compile_graph(load_model(ROOT / model), target=get_target(target),
                           array=ArrayShape.parse(array), out=out)
    return out, design
