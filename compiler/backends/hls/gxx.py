"""g++ for C-simulation: the ``ap_int``/``ap_fixed`` headers, our own minimal
``hls_stream.h``, and a cached build of a C++ program.

The arbitrary-precision headers come from the installed hls4ml wheel (its Apache-2.0
copy of Xilinx's ``HLS_arbitrary_Precision_Types`` under ``hls4ml/templates/vivado/
ap_types``), found without importing hls4ml; they are not copied into this repository.
``hls::stream`` comes from ``kernels/hls_stream.h``, written here (Vitis brings its own).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ....numerics.errors import NeurogateError
from ....sim import buildcache

KERNELS = Path(__file__).resolve().parent / "kernels"
CXX = os.environ.get("CXX", "g++")
# -O1: hls4ml-style ap_fixed code compiles 2-3x faster than at -O2 for a few % of speed.
CXX_FLAGS = ("-std=c++17", "-O1", "-Wno-unknown-pragmas", "-Wno-unused-label")


def ap_types_dir() -> Path:
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise NeurogateError("the HLS backend needs the ap_int/ap_fixed headers of the hls4ml "
                             "wheel: pip install 'neurogate[hls]' (or make setup)")
    path = Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado" / "ap_types"
    if not (path / "ap_fixed.h").is_file():
        raise NeurogateError(f"hls4ml is installed but {path} holds no ap_fixed.h")
    return path


def include_flags() -> list[str]:
    return [f"-I{KERNELS}", f"-I{ap_types_dir()}"]


def cache_root() -> Path:
    return buildcache.cache_root() / "gxx"


def _kernel_dir(includes: Sequence[Path]) -> Path:
    """The kernel headers a build sees first: a project's own copy, else the package's."""
    for inc in includes:
        if (Path(inc) / "ng_common.h").is_file():
            return Path(inc)
    return KERNELS


def precompiled_header(kernels: Path, flags: Sequence[str], version: str) -> Path:
    """A precompiled header of ``ap_int.h``, ``ap_fixed.h`` and every kernel in ``kernels``
    (built once per kernel set, flags and compiler; about 3 s), so that each project
    compiles in well under a second instead of parsing them again (``-include``)."""
    key = hashlib.sha256(repr((list(flags), version, str(ap_types_dir()))).encode())
    headers = sorted(p.name for p in kernels.glob("ng_*.h"))
    for name in headers:
        key.update(name.encode() + (kernels / name).read_bytes())
    folder = cache_root() / f"pch-{key.hexdigest()}"
    gch = folder / "ng_pch.h.gch"
    if gch.is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with buildcache.build_lock(folder.parent / f".{folder.name}.lock"):
        if gch.is_file():
            return folder
        stage = Path(tempfile.mkdtemp(prefix=f".{folder.name[:20]}.", dir=folder.parent))
        text = "#include <cstdint>\n#include <ap_int.h>\n#include <ap_fixed.h>\n" + "".join(
            f'#include "{name}"\n' for name in headers)
        (stage / "ng_pch.h").write_text(text)
        done = subprocess.run([CXX, *flags, f"-I{kernels}", f"-I{ap_types_dir()}", "-x",
                               "c++-header", str(stage / "ng_pch.h"), "-o",
                               str(stage / "ng_pch.h.gch")], capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(stage, ignore_errors=True)
            raise NeurogateError("g++ failed to precompile the kernel headers:\n"
                                 + first_errors(done.stdout + done.stderr))
        stage.rename(folder)
    return folder


def build(sources: Sequence[Path], *, name: str = "csim", extra_flags: Sequence[str] = (),
          includes: Sequence[Path] = ()) -> Path:
    """Compile and link ``sources`` into an executable, cached by the content of the
    sources, every header they may include (kernels), the flags and the compiler."""
    key = hashlib.sha256()
    for path in sorted(KERNELS.glob("*.h")):
        key.update(path.name.encode() + path.read_bytes())
    for src in sources:
        key.update(Path(src).name.encode() + Path(src).read_bytes())
    for inc in includes:
        for path in sorted(Path(inc).glob("**/*.h")):
            key.update(str(path.relative_to(inc)).encode() + path.read_bytes())
    flags = [*CXX_FLAGS, *extra_flags]
    version = subprocess.run([CXX, "--version"], capture_output=True, text=True).stdout
    key.update(repr((flags, version)).encode())
    digest = key.hexdigest()
    final = cache_root() / digest / name
    if final.is_file():
        return final
    final.parent.parent.mkdir(parents=True, exist_ok=True)
    with buildcache.build_lock(final.parent.parent / f".{digest}.lock"):
        if final.is_file():
            return final
        stage = Path(tempfile.mkdtemp(prefix=f".{digest[:16]}.", dir=final.parent.parent))
        log = stage / "build.log"
        pch = precompiled_header(_kernel_dir(includes), flags, version)
        incs = [f"-I{pch}", "-include", "ng_pch.h", "-Winvalid-pch",
                *(f"-I{i}" for i in includes), *include_flags()]
        # Each source compiles in its own process (the top function and the testbench
        # build side by side on two cores), then one link.
        objects = [stage / f"{i}_{Path(src).stem}.o" for i, src in enumerate(sources)]
        with open(log, "w") as handle:
            jobs = [subprocess.Popen([CXX, *flags, *incs, "-c", str(src), "-o", str(obj)],
                                     stdout=handle, stderr=subprocess.STDOUT)
                    for src, obj in zip(sources, objects)]
            codes = [job.wait() for job in jobs]
            if not any(codes):
                codes.append(subprocess.run([CXX, *map(str, objects), "-o", str(stage / name)],
                                            stdout=handle, stderr=subprocess.STDOUT).returncode)
        code = next((c for c in codes if c), 0)
        if code != 0:
            kept = final.parent.parent / f"{digest}.failed.log"
            shutil.copy(log, kept)
            shutil.rmtree(stage, ignore_errors=True)
            raise NeurogateError(f"g++ failed (exit {code}); log {kept}:\n"
                                 + first_errors(kept.read_text()))
        for obj in objects:
            obj.unlink()
        stage.rename(final.parent)
    return final


def first_errors(log: str, lines: int = 8) -> str:
    """The first ``file:line: error`` lines of a g++ log (where the problem is)."""
    errors = [line for line in log.splitlines() if ": error:" in line][:lines]
    kept = errors or [line for line in log.splitlines() if line.strip()][-lines:]
    return "\n".join(f"  | {line}" for line in kept)
