"""The library store as the app sees it: opened once per file, errors shown, never raised."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from resnet_explorer.store import Store, StoreError, default_path

T = TypeVar("T")


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(path: str) -> Store:
    return Store(path)


def path() -> str:
    """The library file this app uses ($RESNET_EXPLORER_DB, $RESNET_EXPLORER_HOME, data dir)."""
    return str(default_path())


def open_store(*, quiet: bool = False) -> Store | None:
    """The library, or None after showing why it cannot be opened (a file that is not a
    library, one from a newer version, a busy or unreadable file). ``quiet``: no message."""
    try:
        return _open(path())
    except StoreError as exc:
        if not quiet:
            st.error(
                f"The library cannot be opened, so nothing can be saved or listed: {exc}",
                icon=":material/database:",
            )
        return None


def read_or_say(read: Callable[[], T], failed: str, empty: str) -> T | None:
    """What ``read()`` reads from the library; None after an error (``failed: why``) when it
    raises a `StoreError`, or after a caption ``empty`` when it reads nothing."""
    try:
        found = read()
    except StoreError as exc:
        st.error(f"{failed}: {exc}")
        return None
    if not found:
        st.caption(empty)
        return None
    return found
