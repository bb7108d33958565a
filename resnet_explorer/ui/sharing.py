"""Sharing a design: the link, JSON download and upload, and 'copy as code'."""

from __future__ import annotations

import streamlit as st

from resnet_explorer.codegen import python_code
from resnet_explorer.design import MAX_JSON_BYTES, Design
from resnet_explorer.errors import DesignError
from resnet_explorer.ui import page, state


def share_panel(design: Design) -> None:
    """The design's link and its code, behind a button (their code boxes' script is loaded
    only by those who open it, not before a fresh browser draws the first figures); then its
    JSON file, to download or open (a refused file's message at the top of the page)."""
    with st.popover("Share: link, copy as code", icon=":material/share:"):
        link, code = st.tabs(["Link", "Copy as code"])
        with link:
            st.caption("The address bar always holds the whole design; this is the same link.")
            base = str(st.context.url or "").split("?")[0]
            st.code(f"{base}?{state.URL_PARAM}={design.to_url()}", language=None, wrap_lines=True)
        with code:
            st.code(python_code(design), language="python")
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
