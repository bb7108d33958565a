"""Sharing a design: the link, JSON download and upload, and 'copy as code'."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from resnet_explorer.codegen import python_code
from resnet_explorer.design import MAX_JSON_BYTES, Design
from resnet_explorer.errors import DesignError
from resnet_explorer.ui import page, state


def share_link() -> str:
    """The link to the session's design as the address bar holds it: the design and its
    origin (``from=resnet50``), so the recipient sees "ResNet-50 (modified)" and its deltas,
    not a custom design."""
    base = str(st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(state.url_params())}"


def share_button(design: Design) -> None:
    """The design's link and its code, behind a button (their code boxes' script is loaded
    only by those who open it, not before a fresh browser draws the first figures). The home
    page puts it beside its title: opened there, the popover has the window's height below
    it (lower down it opened into the little room left and cut the code off at 1280x720)."""
    with st.popover("Share", icon=":material/share:"):
        link, code = st.tabs(["Link", "Copy as code"])
        with link:
            st.caption("The address bar always holds the whole design; this is the same link.")
            st.code(share_link(), language=None, wrap_lines=True)
        with code:
            st.code(python_code(design), language="python")


def share_panel(design: Design) -> None:
    """The design's JSON file, to download or open (a refused file's message at the top of
    the page)."""
    with st.expander("Design JSON file: download, or open one", icon=":material/description:"):
        st.download_button(
            "Download design JSON",
            design.to_json(indent=2),
            file_name=f"design-{design.hash}.json",
            mime="application/json",
            icon=":material/download:",
        )
        upload = st.file_uploader(
            "Open a design JSON", type=["json"], key=f"upload_{state.editor_version()}"
        )
        if upload is not None:
            _load_upload(upload.getvalue())


def _load_upload(data: bytes) -> None:
    if len(data) > MAX_JSON_BYTES:
        page.alert(
            f"That file is {len(data):,} bytes; a design file is at most {MAX_JSON_BYTES:,} bytes."
        )
        return
    try:
        design = Design.from_json(data)
    except DesignError as exc:
        page.alert(f"That file is not a valid design: {exc}")
        return
    state.load(design)
    st.rerun()
