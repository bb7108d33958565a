"""Helpers shared by the CLI commands: loading a design argument, printing JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from resnet_explorer import presets
from resnet_explorer.design import MAX_JSON_BYTES, Design
from resnet_explorer.errors import DesignError, ResNetExplorerError
from resnet_explorer.files import read_text_limited

SCHEMA_PREFIX = "resnet-explorer"


class CliError(ResNetExplorerError):
    """Bad command-line input that is not a design error (a missing file, a bad option)."""


def load_design(ref: str) -> tuple[str, Design]:
    """Resolve a preset name, a design JSON file, or a ``v1.`` share token to (label, design)."""
    if ref in presets.names():
        return ref, presets.get(ref)
    if ref.startswith("v1."):
        return "link", Design.from_url(ref)
    path = Path(ref)
    if path.suffix.lower() == ".json" or path.exists() or path.is_symlink():
        if path.is_dir():
            raise CliError(f"{ref!r} is a folder, not a design file")
        # stat first: a FIFO or a device is refused unopened, a huge file unread
        text = read_text_limited(path, MAX_JSON_BYTES, what="design file", error=CliError)
        try:
            return path.stem, Design.from_json(text)
        except DesignError as exc:
            raise DesignError(f"{ref}: {exc}", field=exc.field) from None
    raise CliError(
        f"{ref!r} is neither a preset nor a design file; presets: {', '.join(presets.names())}"
    )


def schema(command: str, version: int = 1) -> str:
    return f"{SCHEMA_PREFIX}/{command}/v{version}"


def print_json(payload: dict[str, Any]) -> None:
    json.dump(payload, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
