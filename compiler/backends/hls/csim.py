"""C-simulation of a generated HLS project with g++: build the project's top function
and testbench (cached), stream the vectors through it from a file, read the outputs."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ....numerics.errors import NeurogateError
from ...design import HlsDesign
from . import gxx

MAGIC = b"NGVEC001"


def write_vectors(path: Path, values: np.ndarray) -> None:
    """``values``: (vectors, values per vector) integers -> the testbench's file format."""
    values = np.ascontiguousarray(values, dtype="<i8")
    with open(path, "wb") as handle:
        handle.write(MAGIC)
        handle.write(np.array(values.shape, dtype="<u8").tobytes())
        handle.write(values.tobytes())


def read_vectors(path: Path) -> np.ndarray:
    data = Path(path).read_bytes()
    if data[:8] != MAGIC:
        raise NeurogateError(f"{path}: not a neurogate vector file")
    count, width = np.frombuffer(data[8:24], dtype="<u8")
    return np.frombuffer(data[24:], dtype="<i8").reshape(int(count), int(width))


@dataclass(frozen=True, eq=False)
class CsimResult:
    outputs: np.ndarray        # (vectors, output values) int64, ports concatenated
    seconds: float             # wall time of the run (process, files)
    sim_seconds: float         # the testbench's own loop

    @property
    def inferences_per_second(self) -> float:
        return len(self.outputs) / self.sim_seconds if self.sim_seconds > 0 else float("inf")


def build(folder: Path, design: HlsDesign) -> Path:
    firmware = Path(folder) / "firmware"
    sources = [firmware / f"{design.top}.cpp", Path(folder) / "tb" / f"{design.top}_test.cpp"]
    return gxx.build(sources, name=f"{design.top}_csim",
                     includes=[firmware, firmware / "kernels"])


def run(exe: Path, folder: Path, inputs: np.ndarray) -> CsimResult:
    data = Path(folder) / "tb_data"
    data.mkdir(exist_ok=True)
    write_vectors(data / "inputs.bin", inputs)
    start = time.perf_counter()
    done = subprocess.run([str(exe), str(data / "inputs.bin"), str(data / "outputs.bin"),
                           str(data / "none.bin")], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise NeurogateError(f"the C-simulation of {folder} failed (exit {done.returncode}): "
                             f"{(done.stderr or done.stdout).strip()[-500:]}")
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    return CsimResult(outputs=read_vectors(data / "outputs.bin"), seconds=seconds,
                      sim_seconds=stats["seconds"])
