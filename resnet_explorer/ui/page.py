"""What every page does first: page config, the shared design editor, notices."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from resnet_explorer.design import Design
from resnet_explorer.ui import editor, state

ROOT = Path(__file__).resolve().parents[2]
#: Icons of the known pages; a page without one gets a default.
ICONS = {
    "Design": ":material/hub:",
    "Profile": ":material/speed:",
    "Diagrams": ":material/account_tree:",
    "Compare": ":material/compare:",
    "Library": ":material/collections_bookmark:",
    "Probe": ":material/model_training:",
    "Explore": ":material/travel_explore:",
}


def pages() -> list[tuple[str, str]]:
    """(script path, label) of the home page and every page in ``pages/``, in menu order."""
    found = [("app.py", "Design")]
    for path in sorted((ROOT / "pages").glob("*.py")):
        label = path.stem.split("_", 1)[-1].replace("_", " ")
        found.append((f"pages/{path.name}", label))
    return found


# The stage table needs more room than Streamlit's default sidebar; users can still resize it.
_SIDEBAR_CSS = '<style>section[data-testid="stSidebar"] { min-width: 340px; }</style>'


def navigation() -> None:
    """Links to every page, with names a person would use (the home page is "Design")."""
    st.html(_SIDEBAR_CSS)
    with st.sidebar:
        for script, label in pages():
            st.page_link(script, label=label, icon=ICONS.get(label, ":material/article:"))
        st.divider()


def setup(title: str, page: str, icon: str = ":material/hub:") -> Design:
    """Configure the page, draw the sidebar editor, and return the current design."""
    st.set_page_config(page_title=f"{title} · ResNet Explorer", page_icon=icon, layout="wide")
    state.ensure_started()
    navigation()
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
