"""Discovers the subcommands: every module ``resnet_explorer/cli/*_cmd.py`` with ``register``."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import resnet_explorer.cli as cli_package

#: Listed first, in this order; the rest follow alphabetically.
FIRST = ["presets_cmd", "design_cmd"]


def modules() -> list[ModuleType]:
    """The command modules, imported (each imports its heavy dependencies lazily)."""
    found = sorted(
        name for _, name, _ in pkgutil.iter_modules(cli_package.__path__) if name.endswith("_cmd")
    )
    ordered = [n for n in FIRST if n in found] + [n for n in found if n not in FIRST]
    return [importlib.import_module(f"resnet_explorer.cli.{name}") for name in ordered]
