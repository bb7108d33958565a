"""What every page does first: page config, the shared design editor, notices."""

from __future__ import annotations

import streamlit as st

from resnet_explorer.design import Design
from resnet_explorer.ui import editor, state


def setup(title: str, page: str, icon: str = ":material/hub:") -> Design:
    """Configure the page, draw the sidebar editor, and return the current design."""
    st.set_page_config(page_title=f"{title} · ResNet Explorer", page_icon=icon, layout="wide")
    state.ensure_started()
    notice = state.pop_url_notice()
    if notice:
        st.warning(notice, icon=":material/link_off:")
    design = editor.sidebar(page)
    return design


def design_title(design: Design) -> str:
    base = state.base_preset()
    if base is not None and base.design == design:
        return base.title
    if base is not None:
        return f"{base.title} (modified)"
    return f"Custom design {design.hash[:8]}"
