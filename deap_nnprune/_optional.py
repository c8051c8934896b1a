"""Optional dependencies: one message that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__: list[str] = []


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import *module*, or raise ImportError saying that *what* needs the extra *extra*.

    >>> require("json", "report", "the report").__name__
    'json'
    >>> require("no_such_module_here", "report", "the report")
    Traceback (most recent call last):
    ...
    ImportError: the report needs no_such_module_here; install it with: pip install "deap_nnprune[report]"
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f'{what} needs {module.split(".")[0]}; install it with: pip install "deap_nnprune[{extra}]"'
        ) from None
