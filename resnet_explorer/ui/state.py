"""The design a browser session is working on, kept in `st.session_state` and in the URL.

One valid `Design` per session (``session_state["design"]``), the preset it started from, and
the last validation error. The editor widgets are seeded from the design; they never own it, so
the design survives moving between pages even when Streamlit drops widget state.
"""

from __future__ import annotations

import streamlit as st

from resnet_explorer import presets
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError

DESIGN = "design"
BASE = "base_preset"
ERROR = "design_error"
URL_PARAM = "d"
DEFAULT_PRESET = "resnet18"
_VERSION = "_editor_version"
_SEEDED_PAGE = "_editor_page"
_STARTED = "_session_started"
_URL_NOTICE = "_url_notice"


def current() -> Design:
    """The session's current (always valid) design."""
    ensure_started()
    return st.session_state[DESIGN]


def base_preset() -> presets.Preset | None:
    """The preset the current design started from, if any."""
    name = st.session_state.get(BASE)
    return presets.info(name) if name else None


def editor_version() -> int:
    """Bumped whenever the design is replaced wholesale, so editor widgets re-seed."""
    return st.session_state.get(_VERSION, 0)


def load(design: Design, base: str | None) -> None:
    """Replace the session's design (preset picked, file uploaded, library opened...)."""
    st.session_state[DESIGN] = design
    st.session_state[BASE] = base
    st.session_state[ERROR] = None
    st.session_state[_VERSION] = editor_version() + 1
    st.session_state[_SEEDED_PAGE] = None  # forces the editor to re-seed its widgets


def update(design: Design) -> None:
    """Accept an edit from the editor (keeps the base preset)."""
    st.session_state[DESIGN] = design
    st.session_state[ERROR] = None


def set_error(message: str | None) -> None:
    st.session_state[ERROR] = message


def error() -> str | None:
    return st.session_state.get(ERROR)


def needs_seeding(page: str) -> bool:
    """True on the first run of a page (or after `load`): widgets must be set from the design."""
    if st.session_state.get(_SEEDED_PAGE) != page:
        st.session_state[_SEEDED_PAGE] = page
        return True
    return False


def ensure_started() -> None:
    """First run of a session: take the design from the URL, else the default preset."""
    if st.session_state.get(_STARTED):
        return
    st.session_state[_STARTED] = True
    token = st.query_params.get(URL_PARAM)
    if token:
        try:
            design = Design.from_url(token)
        except DesignError as exc:
            st.session_state[_URL_NOTICE] = (
                f"The design in this link could not be read ({exc}). Showing the default design."
            )
        else:
            match = presets.find(design)
            load(design, match.name if match else None)
            return
    load(presets.get(DEFAULT_PRESET), DEFAULT_PRESET)


def pop_url_notice() -> str | None:
    """A message about a broken shared link, shown once."""
    return st.session_state.pop(_URL_NOTICE, None)


def sync_url() -> None:
    """Put the current design in the URL so the address bar is always a shareable link."""
    token = current().to_url()
    if st.query_params.get(URL_PARAM) != token:
        st.query_params[URL_PARAM] = token
