"""Reading a build folder written by ``neurogate compile``; every damaged or missing
file is reported in one line that names it."""

from __future__ import annotations

import json
from pathlib import Path

from ...numerics.errors import NeurogateError
from .. import serialize
from ..atomic import write_json_atomic
from ..design import HlsDesign, ProgramDesign, SpatialDesign, load_design_json
from ..ir import Graph

RECOMPILE = "compile the model again with `neurogate compile`"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise NeurogateError(f"{path}: not a text file; {RECOMPILE}") from None
    except OSError as error:
        raise NeurogateError(f"{path}: cannot be read ({error.strerror})") from None


def check_folder(folder: Path) -> Path:
    folder = Path(folder)
    if not folder.exists():
        raise NeurogateError(f"build folder {folder} does not exist; run `neurogate compile` first")
    if not folder.is_dir():
        raise NeurogateError(f"{folder} is a file, not a build folder")
    if not (folder / "design.json").is_file():
        raise NeurogateError(f"{folder} is not a neurogate build folder (no design.json); "
                             "run `neurogate compile` first")
    return folder


def load_design(folder: Path) -> ProgramDesign | SpatialDesign | HlsDesign:
    """The folder's typed design; its Verilog file (or HLS top function) must be there too."""
    folder = check_folder(folder)
    path = folder / "design.json"
    design = load_design_json(_read(path), where=str(path))
    main = (folder / "firmware" / f"{design.top}.cpp" if isinstance(design, HlsDesign)
            else folder / design.verilog)
    if not main.is_file():
        raise NeurogateError(f"{main}: missing from the build folder; {RECOMPILE}")
    return design


def load_graph(folder: Path) -> Graph:
    path = Path(folder) / "graph.json"
    if not path.is_file():
        raise NeurogateError(f"{path}: missing from the build folder; {RECOMPILE}")
    text = _read(path)
    try:
        return serialize.loads(text)
    except json.JSONDecodeError as error:
        raise NeurogateError(f"{path}: not valid JSON ({error.msg} at line {error.lineno} "
                             f"column {error.colno})") from None
    except (NeurogateError, ValueError) as error:
        raise NeurogateError(f"{path}: {error}") from None


def load_report(folder: Path) -> dict:
    path = Path(folder) / "report.json"
    if not path.is_file():
        return {}
    try:
        report = json.loads(_read(path))
    except json.JSONDecodeError as error:
        raise NeurogateError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}); "
                             "delete it and run verify/synth again") from None
    if not isinstance(report, dict):
        raise NeurogateError(f"{path}: expected a JSON object; delete it and run verify/synth "
                             "again")
    return report


def update_report(folder: Path, **fields) -> dict:
    """Merge ``fields`` into report.json (nested dicts are merged one level deep)."""
    report = load_report(folder)
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(report.get(key), dict):
            report[key] = {**report[key], **value}
        else:
            report[key] = value
    write_json_atomic(Path(folder) / "report.json", report)
    return report
