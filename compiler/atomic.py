"""Write an output folder all at once: build it beside the target, then rename it in.

Only a folder that ``neurogate compile`` made (it holds the marker file ``MARKER``) or
an empty folder is ever replaced; any other existing path is refused before anything
is written, so a compile can never delete a user's files.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..numerics.errors import NeurogateError

MARKER = ".neurogate-build"
MARKER_TEXT = ("This folder was written by `neurogate compile`, which may replace it "
               "as a whole.\n")


def is_build_folder(path: Path) -> bool:
    return Path(path).is_dir() and (Path(path) / MARKER).is_file()


def check_output_folder(target: Path, option: str = "--out") -> Path:
    """Refuse, naming ``target``, an output path that compile must not replace or create."""
    target = Path(target)
    resolved = target.resolve()
    if resolved.exists() or resolved.is_symlink():
        if not resolved.is_dir():
            raise NeurogateError(f"{option} {target}: is a file, not a folder; choose another "
                                 "path (neurogate does not replace files)")
        if resolved == Path.cwd().resolve() or resolved in Path.cwd().resolve().parents:
            raise NeurogateError(f"{option} {target}: is the current folder or one above it; "
                                 "choose a new folder such as build/NAME")
        if not is_build_folder(resolved) and any(resolved.iterdir()):
            raise NeurogateError(f"{option} {target}: exists and is not a neurogate build folder "
                                 f"(no {MARKER} file); refusing to replace it. Choose a new "
                                 "folder, or remove it yourself")
    parent = resolved.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NeurogateError(f"{option} {target}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NeurogateError(f"{option} {target}: cannot write in {parent} (permission denied)")
    return resolved


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def staged_folder(target: Path, option: str = "--out"):
    """Yield a fresh folder; on success it replaces ``target``, on error it vanishes.

    ``target`` must be absent, empty, or a build folder (``check_output_folder``).
    """
    target = check_output_folder(target, option)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as error:
        raise NeurogateError(f"{option} {target}: cannot create it ({error.strerror})") from None
    stage.chmod(0o777 & ~_umask())    # mkdtemp makes it private; the result is an ordinary folder
    try:
        (stage / MARKER).write_text(MARKER_TEXT)
        yield stage
        fix_permissions(stage)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old.{os.getpid()}"
        target.rename(old)
    stage.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def fix_permissions(folder: Path) -> None:
    """Give every file the mode an ordinary ``open`` would (mkstemp makes them 0600)."""
    mode = 0o666 & ~_umask()
    for path in Path(folder).rglob("*"):
        if path.is_file():
            path.chmod(mode)


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, value) -> None:
    write_text_atomic(path, json.dumps(value, indent=2, sort_keys=True) + "\n")
