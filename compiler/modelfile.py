"""Load a model file: a Python file whose ``build_model()`` returns an IR ``Graph``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ..numerics.errors import NeurogateError
from .ir import Graph, IRError


def _check_path(path: Path) -> None:
    if not path.exists():
        raise NeurogateError(f"model file {path} does not exist")
    if path.is_dir():
        raise NeurogateError(f"model file {path} is a folder, not a file")
    if path.suffix != ".py":
        raise NeurogateError(f"model file {path}: neurogate reads Python model files (.py "
                             "defining build_model()), not {}".format(path.suffix or "files "
                                                                        "without a suffix"))


def load_model(path: str | Path) -> Graph:
    path = Path(path)
    _check_path(path)
    name = f"neurogate_model_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise NeurogateError(f"model file {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        build = getattr(module, "build_model", None)
        if not callable(build):
            raise NeurogateError(f"model file {path} defines no build_model() function")
        graph = build()
    except NeurogateError:
        raise
    except IRError as error:      # the builder refused a layer: its message names it
        raise NeurogateError(f"model file {path}: {error}") from None
    except SystemExit as error:
        raise NeurogateError(f"model file {path} called sys.exit({error.code!r}) instead of "
                             "returning a graph from build_model()") from None
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the user's code: report it in one line
        where = _user_line(error, path)
        raise NeurogateError(f"model file {path}{where} raised {type(error).__name__}: "
                             f"{error}") from None
    finally:
        sys.modules.pop(name, None)
    if not isinstance(graph, Graph):
        raise NeurogateError(f"model file {path}: build_model() returned {type(graph).__name__}, "
                             "not a neurogate Graph")
    return graph


def _user_line(error: BaseException, path: Path) -> str:
    """`` (line N)`` of the deepest frame in the model file, if any."""
    if isinstance(error, SyntaxError) and error.lineno:
        return f" (line {error.lineno})"
    line = None
    tb = error.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (line {line})" if line else ""
