"""Load a model file: a Python file whose ``build_model()`` returns an IR ``Graph``, or a
framework model (``.h5``/``.keras``: QKeras/Keras; ``.onnx``: QONNX) read by its
front-end (``compiler.frontends``), which never runs code from the file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ..numerics.errors import NeurogateError
from ..numerics.formats import IntFormat
from . import frontends
from .ir import Graph, IRError


def _check_path(path: Path) -> None:
    if not path.exists():
        raise NeurogateError(f"model file {path} does not exist")
    if path.is_dir():
        raise NeurogateError(f"model file {path} is a folder, not a file")
    if path.suffix != ".py" and path.suffix not in frontends.SUFFIXES:
        raise NeurogateError(f"model file {path}: neurogate reads Python model files (.py "
                             "defining build_model()), QKeras/Keras (.h5, .keras) and QONNX "
                             "(.onnx) models, not {}".format(path.suffix or "files without a "
                                                             "suffix"))


def load_model(path: str | Path, *, input_format: IntFormat | None = None) -> Graph:
    path = Path(path)
    _check_path(path)
    if path.suffix in frontends.SUFFIXES:
        try:
            return frontends.load_file(path, input_format=input_format)
        except IRError as error:
            raise NeurogateError(f"model file {path}: {error}") from None
    if input_format is not None:
        raise NeurogateError(f"model file {path}: --input-format is for Keras models; a "
                             "Python model declares its input formats itself")
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
