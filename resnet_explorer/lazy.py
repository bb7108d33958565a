"""Names a package exports but imports only on first use (PEP 562 ``__getattr__``).

The app's first page and the CLI's light commands import parts of the engine that need no
PyTorch; a package ``__init__`` that imported every export up front would import it anyway.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each name of ``homes`` (name ->
    the module that defines it) when it is first asked for, and keeps it."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
