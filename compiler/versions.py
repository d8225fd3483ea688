"""Versions of the packages that made a result, recorded next to it in report.json."""

from __future__ import annotations

from importlib import metadata


def tool_versions(*packages: str) -> dict[str, str]:
    return {p: metadata.version(p) for p in packages}
