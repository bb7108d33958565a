"""Helpers for Streamlit AppTest: run a page, pick from the sidebar editor, read metrics."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
ALL_PAGES = ["app.py", *PAGES]


def run_page(path: str = "app.py", *, query: dict[str, str] | None = None) -> AppTest:
    """Run ``path`` the way the server does: app.py is the entrypoint, pages are switched to."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if query:
        at.query_params.update(query)
    if path != "app.py":
        at.switch_page(path)
    return at.run()


def pick_preset(at: AppTest, name: str) -> AppTest:
    return at.sidebar.selectbox(key="ed__start_from").set_value(name).run()


def set_knob(at: AppTest, field: str, value) -> AppTest:
    """Set one editor knob (selectbox, number input or checkbox) and rerun."""
    key = f"ed_{field}"
    for finder in (at.sidebar.selectbox, at.sidebar.number_input, at.sidebar.checkbox):
        try:
            widget = finder(key=key)
        except KeyError:
            continue
        return widget.set_value(value).run()
    raise KeyError(key)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def finish_latency(at: AppTest, timeout: float = 300) -> AppTest:
    """Wait for the latency sweep the page started in the background, then redraw the page."""
    found = at.session_state["_latency_job"] if "_latency_job" in at.session_state else None  # noqa: SIM401
    job = found[1] if found else None
    if job is not None:
        assert job.wait(timeout), "the latency sweep did not finish"
    return at.run()


def button(at: AppTest, key: str):
    """The button with ``key`` (in the main area or the sidebar)."""
    return next(b for b in at.button if b.key == key)
