"""Where the library lives: ``--db PATH`` > ``$RESNET_EXPLORER_DB`` > the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "RESNET_EXPLORER_DB"
HOME_ENV = "RESNET_EXPLORER_HOME"
FILENAME = "library.sqlite3"


def data_dir() -> Path:
    """``$RESNET_EXPLORER_HOME`` if set, else ``$XDG_DATA_HOME/resnet-explorer``
    (``~/.local/share/resnet-explorer``)."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "resnet-explorer"


def default_path() -> Path:
    """The library file used when no path is given: ``$RESNET_EXPLORER_DB`` or
    ``data_dir() / "library.sqlite3"``."""
    explicit = os.environ.get(DB_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return data_dir() / FILENAME


def resolve(path: str | os.PathLike[str] | None) -> Path:
    """``path`` (a CLI flag or API argument) if given, else `default_path`."""
    if path is None or str(path) == "":
        return default_path()
    return Path(path).expanduser()
