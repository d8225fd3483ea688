"""Progress of long steps (simulator builds, simulation, synthesis) on the terminal.

On a terminal, a step shows one self-updating line on stderr::

    neurogate: verilator build + simulation ... 37 s (120/200 vectors)

and ends with ``... done in 52.1 s``.  When stderr is not a terminal (CI, a pipe, a
log file) nothing is printed.  ``NEUROGATE_PROGRESS=1`` forces the lines on (one line
per step and update, no carriage returns), ``NEUROGATE_PROGRESS=0`` turns them off.

A step's detail text can come from the step itself (``Step.detail``) or from a file a
subprocess rewrites (``watch=``): the cocotb bench writes ``120/200 vectors`` there.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path

TICK_SECONDS = 1.0


def _mode() -> str:
    """``"tty"`` (self-updating line), ``"lines"`` (forced, plain lines) or ``"off"``."""
    forced = os.environ.get("NEUROGATE_PROGRESS")
    if forced == "0":
        return "off"
    if forced == "1":
        return "lines"
    return "tty" if sys.stderr.isatty() else "off"


class Step:
    """One running step; ``detail`` is shown after the elapsed time."""

    def __init__(self, label: str, watch: Path | None):
        self.label = label
        self.watch = Path(watch) if watch is not None else None
        self.detail = ""
        self.start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _current_detail(self) -> str:
        if self.watch is not None:
            with contextlib.suppress(OSError):
                self.detail = self.watch.read_text().strip()
        return self.detail

    def line(self) -> str:
        detail = self._current_detail()
        suffix = f" ({detail})" if detail else ""
        return f"neurogate: {self.label} ... {self.elapsed:.0f} s{suffix}"


@contextlib.contextmanager
def step(label: str, *, watch: Path | None = None):
    """Show ``label`` with the elapsed time while the body runs (see the module doc)."""
    mode = _mode()
    current = Step(label, watch)
    if mode == "off":
        yield current
        return
    stop = threading.Event()
    last = [""]

    def show():
        text = current.line()
        if mode == "tty":
            sys.stderr.write("\r\x1b[2K" + text)
            sys.stderr.flush()
        elif current.detail != last[0]:
            # forced plain lines: one per change of detail, never per tick
            last[0] = current.detail
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def tick():
        while not stop.wait(TICK_SECONDS):
            show()

    if mode == "lines":
        sys.stderr.write(f"neurogate: {label} ...\n")
        last[0] = ""
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    outcome = "failed"
    try:
        yield current
        outcome = "done"
    finally:
        stop.set()
        ticker.join()
        end = f"neurogate: {label} ... {outcome} in {current.elapsed:.1f} s"
        sys.stderr.write(("\r\x1b[2K" if mode == "tty" else "") + end + "\n")
        sys.stderr.flush()


def write_detail(path: str | os.PathLike | None, text: str) -> None:
    """For a subprocess: publish ``text`` as the detail of the step watching ``path``."""
    if not path:
        return
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(OSError):
        tmp.write_text(text)
        os.replace(tmp, path)
