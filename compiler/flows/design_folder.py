"""Reading a build folder written by ``neurogate compile``."""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_json_atomic
from ..errors import NeurogateError


def load_design(folder: Path) -> dict:
    path = Path(folder) / "design.json"
    if not path.is_file():
        raise NeurogateError(f"{folder} is not a neurogate build folder (no design.json); "
                             "run `neurogate compile` first")
    return json.loads(path.read_text())


def load_report(folder: Path) -> dict:
    path = Path(folder) / "report.json"
    return json.loads(path.read_text()) if path.is_file() else {}


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
