"""What every page does first: page config, the shared design editor, the design's status."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from resnet_explorer.design import Design
from resnet_explorer.diagrams import dot_available
from resnet_explorer.errors import ResNetExplorerError
from resnet_explorer.probes import link as probe_link
from resnet_explorer.ui import editor, state, warm

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
NO_DOT = (
    "Graphviz's `dot` is not installed: SVG/PNG downloads and the report's diagrams are off "
    "(Debian: `apt-get install graphviz`; `scripts/run-app.sh` installs it)."
)
#: URL parameters a page adds to the design's (kept while that page is shown).
PAGE_PARAMS = {
    "compare": (state.URL_COMPARE, state.URL_COMPARE_BASELINE),
    "probe": (probe_link.URL_PARAM,),  # the Probe page's picks and settings
}

# The stage table needs more room than Streamlit's default sidebar (users can still resize
# it); metric values wrap instead of ending in "..."; the design's status stays in view.
_CSS = """<style>
section[data-testid="stSidebar"] { min-width: 400px; }
[data-testid="stMetricValue"] > div { white-space: normal; overflow: visible;
  text-overflow: clip; font-size: clamp(1.25rem, 2.1vw, 2.1rem); line-height: 1.2; }
[data-testid="stLayoutWrapper"]:has(> .st-key-design_status),
[data-testid="stLayoutWrapper"]:has(> .st-key-page_alert) {
  position: sticky; top: 3.25rem; z-index: 990; }
.st-key-full_size_diagram [data-testid="stGraphVizChart"] { overflow-x: auto; }
.st-key-full_size_diagram [data-testid="stGraphVizChart"] svg { max-width: none; }
</style>"""


def pages() -> list[tuple[str, str]]:
    """(script path, label) of the home page and every page in ``pages/``, in menu order."""
    found = [("app.py", "Design")]
    for path in sorted((ROOT / "pages").glob("*.py")):
        label = path.stem.split("_", 1)[-1].replace("_", " ")
        found.append((f"pages/{path.name}", label))
    return found


def navigation() -> None:
    """Links to every page, with names a person would use (the home page is "Design")."""
    with st.sidebar:
        for script, label in pages():
            st.page_link(script, label=label, icon=ICONS.get(label, ":material/article:"))
        st.divider()


def setup(title: str, page: str, icon: str = ":material/hub:") -> Design:
    """Configure the page, draw the sidebar editor, say at the top of the main area when the
    editor holds an invalid or oversized design, and return the current (valid) design."""
    state.start_clock()
    st.set_page_config(page_title=f"{title} · ResNet Explorer", page_icon=icon, layout="wide")
    state.ensure_started()
    navigation()
    design = editor.sidebar(page)
    if not dot_available():
        st.sidebar.caption(f":material/warning: {NO_DOT}")
    _run_marker(page, design)
    status(design)
    # Where `guard` and `alert` put a message: sticky, so it is in view however far down the
    # page the panel that said it is.
    st.session_state[_ALERT_SLOT] = st.container(key="page_alert")
    notice = state.pop_url_notice()
    if notice:
        st.warning(notice, icon=":material/link_off:")
    state.sync_url(keep=PAGE_PARAMS.get(page, ()))
    return design


_ALERT_SLOT = "_page_alert_slot"


@contextmanager
def guard() -> Iterator[None]:
    """A page's body. The one place the app catches the engine's error root: a refusal no
    panel handled itself (`ResNetExplorerError`: input the engine will not take) is shown as
    its message at the top of the main area, never as a traceback; the rest of the page is not
    drawn. Anything else is a bug and keeps Streamlit's report."""
    try:
        yield
    except ResNetExplorerError as exc:
        alert(f"This page could not be drawn: {exc}")


def alert(message: str) -> None:
    """An error at the top of the main area, in view, said by a panel drawn further down."""
    slot = st.session_state.get(_ALERT_SLOT) or st
    slot.error(message, icon=":material/error:")


def _run_marker(page: str, design: Design) -> None:
    """The page's style, and an invisible element saying which run of which page drew it and
    which design it shows: browser tests and benchmarks wait on it, never on the clock. (The
    style is its own element: redrawn with the marker, the sidebar would flicker and close an
    open cell editor.)"""
    run = state.next_run()
    st.html(_CSS)
    st.html(
        f'<span id="app-state" hidden data-run="{run}" data-page="{page}" '
        f'data-design="{design.hash}" data-invalid="{int(bool(state.error()))}"></span>'
    )


def finish() -> None:
    """The end of a page: a hidden marker with the run's server time (for benchmarks and
    tests), and, after the first page a server draws, the warm-up of the other pages."""
    run, ms = state.run_number(), state.clock_ms()
    st.html(f'<span id="app-done" hidden data-run="{run}" data-ms="{ms:.1f}"></span>')
    warm.start()


def status(design: Design) -> None:
    """The editor's error (or the size cap's refusal) at the top of the main area, in view."""
    problem, warning = state.error(), state.warning()
    if not problem and not warning:
        return
    with st.container(key="design_status"):
        if problem:
            reason = problem.removeprefix("invalid design: ")
            st.error(
                f"**The design in the editor is invalid:** {reason}\n\n"
                f"Everything on this page is the **last valid design** "
                f"({design_title(design)}), not what the editor holds. Fix the value named "
                "above in the sidebar.",
                icon=":material/error:",
            )
        else:
            st.warning(warning, icon=":material/warning:")


def design_title(design: Design) -> str:
    """The preset's title or the library name, '(modified)' once edited."""
    base = state.origin()
    if base is None:
        return f"Custom design {design.hash[:8]}"
    return base.title if base.design == design else f"{base.title} (modified)"
