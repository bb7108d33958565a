"""Subcommands beyond ``presets`` and ``design``: one module each, listed here."""

from __future__ import annotations

import importlib
from types import ModuleType

#: Module names under ``resnet_explorer.cli`` that define ``register(subparsers)``.
EXTRA_COMMANDS: list[str] = []


def modules() -> list[ModuleType]:
    return [importlib.import_module(f"resnet_explorer.cli.{name}") for name in EXTRA_COMMANDS]
