"""Load a model file: a Python file whose ``build_model()`` returns an IR ``Graph``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from .errors import NeurogateError
from .ir import Graph


def load_model(path: str | Path) -> Graph:
    path = Path(path)
    if not path.is_file():
        raise NeurogateError(f"model file {path} does not exist")
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
    except Exception as error:  # the user's code: report it in one line
        raise NeurogateError(f"model file {path} raised {type(error).__name__}: {error}") from None
    finally:
        sys.modules.pop(name, None)
    if not isinstance(graph, Graph):
        raise NeurogateError(f"model file {path}: build_model() returned {type(graph).__name__}, "
                             "not a neurogate Graph")
    return graph
