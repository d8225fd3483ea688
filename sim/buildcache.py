"""Where compiled simulators are kept, and one builder per key at a time.

The Verilator harness (``sim/verilator``) and the HLS backend's g++ C-simulation both
cache their builds under ``$NEUROGATE_CACHE_DIR`` (default ``~/.cache/neurogate``),
keyed by a hash of everything that determines the binary, built in a temporary folder
beside the final one and renamed into place.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def cache_root() -> Path:
    base = os.environ.get("NEUROGATE_CACHE_DIR")
    return Path(base) if base else Path.home() / ".cache" / "neurogate"


@contextlib.contextmanager
def build_lock(path: Path):
    """One builder per key at a time (others wait, then find the result); best effort."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: rely on the atomic rename alone
        yield
        return
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
